//! Recognition and proof against a scripted original.
//!
//! The facts come from the real JavaScript frontend on small handlers. The original is a test
//! double for the *oracle interface* ([`Original`]): a Rust closure that makes the handler's
//! decision over the CloudFront request object, the way the JavaScript would. It does not
//! stand in for real execution — `difftest/tests/hooks.rs` runs the corpus on node and python3
//! — it lets these tests state exactly what the original does, including ways it can disagree
//! with a candidate.

use std::net::IpAddr;
use std::path::Path;

use edgeport_frontends::javascript::{analyze, HandlerFacts, Options};
use edgeport_frontends::SourceFile;
use edgeport_hook_injector::http::{Request, Response};
use edgeport_hook_injector::ir::{
    Action, HeaderEdit, Network, Predicate, ResponsePredicate, ResponseRule, Rule, RuleSet, SourceSpan, TextMatch,
};
use edgeport_hook_injector::prove::{
    prove, recognize_and_prove, recognize_and_prove_responses, Evaluator, Proof, ReferenceEvaluator,
};
use edgeport_hook_injector::recognize::{recognize, Handler, Recognition};
use edgeport_hook_injector::synthesize::REQUESTS_PER_RULE;
use edgeport_hook_injector::Original;
use serde_json::{json, Value};

/// The oracle as a closure over the CloudFront request object.
struct Scripted<F>(F);

impl<F: FnMut(&Value) -> Result<Value, String>> Original for Scripted<F> {
    fn answer(&mut self, request: &Request) -> Result<Value, String> {
        (self.0)(&request.to_cloudfront())
    }
}

fn facts(source: &str) -> HandlerFacts {
    analyze(&SourceFile::new("index.js", source), &Options::default()).facts.expect("the handler parses")
}

/// The first value of a request header, `''` when it is missing (`(h[name] && h[name][0].value) || ''`).
fn header(request: &Value, name: &str) -> String {
    request["headers"][name][0]["value"].as_str().unwrap_or_default().to_string()
}

fn forbidden() -> Value {
    json!({"status": "403", "statusDescription": "Forbidden", "body": "no"})
}

/// Recognition and proof of `source` with the reference evaluator.
fn run(source: &str, original: &mut dyn Original) -> (Recognition, Proof) {
    let facts = facts(source);
    let handler = Handler { file: Path::new("index.js"), text: source, facts: &facts, verifies_with: None };
    recognize_and_prove(&handler, &[], original, &mut [&mut ReferenceEvaluator])
}

fn names(rules: &[Rule]) -> Vec<String> {
    rules.iter().map(|rule| rule.name.clone()).collect()
}

const USER_AGENT_BLOCK: &str = r#"
const BAD_BOTS = [/python-requests/i, /curl\//i, /AhrefsBot|SemrushBot/, /^$/];
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const ua = (request.headers['user-agent'] && request.headers['user-agent'][0].value) || '';
  if (BAD_BOTS.some((re) => re.test(ua))) {
    return { status: '403', statusDescription: 'Forbidden', body: 'no' };
  }
  return request;
};
"#;

fn user_agent_block(request: &Value) -> Result<Value, String> {
    let ua = header(request, "user-agent");
    let lower = ua.to_ascii_lowercase();
    let bad = lower.contains("python-requests")
        || lower.contains("curl/")
        || ua.contains("AhrefsBot")
        || ua.contains("SemrushBot")
        || ua.is_empty();
    Ok(if bad { forbidden() } else { request.clone() })
}

#[test]
fn literal_regex_alternations_become_header_rules() {
    let (recognition, proof) = run(USER_AGENT_BLOCK, &mut Scripted(user_agent_block));
    let expected = [
        r#"block user-agent contains "python-requests" (ci)"#,
        r#"block user-agent contains "curl/" (ci)"#,
        r#"block user-agent contains "AhrefsBot""#,
        r#"block user-agent contains "SemrushBot""#,
        "block no user-agent",
        r#"block user-agent equals """#,
    ];
    assert_eq!(names(&recognition.candidates), expected);
    assert_eq!(names(&proof.rules.rules), expected, "{:#?}", proof.rejected);
    assert_eq!(proof.rules.rules[1].source.line, 6);
    for stats in &proof.stats {
        assert!(stats.requests >= REQUESTS_PER_RULE, "{stats:?}");
        assert!(stats.hits > 0, "{stats:?}");
    }
    assert!(proof.rejected.is_empty(), "{:#?}", proof.rejected);
}

const IP_BLOCK: &str = r#"
const BLOCKED = ['198.51.100.7', '203.0.113.0/24', '2001:db8::1'];
exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  const ip = request.clientIp;
  if (ip.indexOf(':') !== -1 ? BLOCKED.indexOf(ip) !== -1 : BLOCKED.some((e) => e === ip)) {
    return callback(null, { status: '403', statusDescription: 'Forbidden', body: 'no' });
  }
  callback(null, request);
};
"#;

fn blocked_networks() -> Vec<Network> {
    [("198.51.100.7", 32), ("203.0.113.0", 24), ("2001:db8::1", 128)]
        .map(|(address, prefix)| Network { address: address.parse().expect("an address"), prefix })
        .to_vec()
}

fn ip_block(request: &Value) -> Result<Value, String> {
    let ip: IpAddr = request["clientIp"].as_str().and_then(|ip| ip.parse().ok()).ok_or("no clientIp")?;
    let blocked = blocked_networks().iter().any(|network| network.contains(ip));
    Ok(if blocked { forbidden() } else { request.clone() })
}

#[test]
fn client_ip_literals_merge_into_one_rule() {
    let (recognition, proof) = run(IP_BLOCK, &mut Scripted(ip_block));
    assert_eq!(names(&proof.rules.rules), ["block clientIp 198.51.100.7, 203.0.113.0/24, 2001:db8::1"]);
    assert_eq!(proof.rules.rules[0].predicates, [Predicate::ClientIp { networks: blocked_networks() }]);
    assert!(proof.stats[0].requests >= REQUESTS_PER_RULE);
    let rejected: Vec<(&str, &str)> =
        recognition.rejected.iter().map(|r| (r.what.as_str(), r.reason.as_str())).collect();
    assert_eq!(rejected, [(r#"clientIp index-of ":""#, "`:` is not an address or network")]);
}

const REDIRECTS: &str = r#"
const redirects = { '/old': '/new', '/gone': '/new', '/echo': '/new', '/boom': '/new' };
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri.startsWith('/static/')) { return request; }
  if (request.headers['x-beta'] && request.headers['x-beta'][0].value === 'on') {
    request.uri = '/beta' + request.uri;
    return request;
  }
  const target = redirects[request.uri];
  if (!target) { return request; }
  return { status: '301', headers: { location: [{ key: 'Location', value: target }] } };
};
"#;

/// `/old` redirects keeping the query; `/gone` answers with the client's address; `/echo`
/// with the query inside the body; `/boom` throws; `x-beta: on` (any case) rewrites to
/// `/beta/`; `/static/` passes.
fn redirects(request: &Value) -> Result<Value, String> {
    let uri = request["uri"].as_str().unwrap_or_default();
    let query = request["querystring"].as_str().unwrap_or_default();
    let location = |target: &str| if query.is_empty() { target.to_string() } else { format!("{target}?{query}") };
    if header(request, "x-beta").eq_ignore_ascii_case("on") {
        let mut rewritten = request.clone();
        rewritten["uri"] = json!(format!("/beta{uri}"));
        return Ok(rewritten);
    }
    match uri {
        "/old" => Ok(json!({"status": "301", "headers": {"location": [{"key": "Location", "value": location("/new")}]}})),
        "/gone" => Ok(json!({"status": "410", "body": request["clientIp"].clone()})),
        "/echo" => Ok(json!({"status": "200", "body": query})),
        "/boom" => Err("TypeError: boom".into()),
        _ => Ok(request.clone()),
    }
}

#[test]
fn probing_classifies_the_answers() {
    let facts = facts(REDIRECTS);
    let handler = Handler { file: Path::new("index.js"), text: REDIRECTS, facts: &facts, verifies_with: None };
    let recognition = recognize(&handler, &mut Scripted(redirects));
    let candidates: Vec<(&str, &Action)> =
        recognition.candidates.iter().map(|rule| (rule.name.as_str(), &rule.action)).collect();
    let redirect = Action::Respond {
        response: json!({"status": "301", "headers": {"location": [{"key": "Location", "value": "/new"}]}}),
        append_query_to: Some("location".into()),
    };
    assert_eq!(
        candidates,
        [
            (r#"rewrite to /beta/ when x-beta equals "on" (ci)"#, &Action::RewriteUri { uri: "/beta/".into() }),
            ("redirect /old", &redirect),
        ]
    );
    let rejected: Vec<(&str, &str)> =
        recognition.rejected.iter().map(|r| (r.what.as_str(), r.reason.as_str())).collect();
    assert_eq!(
        rejected,
        [
            (r#"uri starts with "/static/""#, "the function passes the hit on unchanged: the literal does not decide alone"),
            ("/gone", "the response depends on the request (clientIp)"),
            ("/echo", "the response depends on the request (querystring)"),
            ("/boom", "the function failed on the hit: TypeError: boom"),
        ]
    );
}

#[test]
fn the_proof_drops_a_wrong_rule_with_the_request_that_showed_it() {
    // The rewrite candidate was learned on `/`, but the original rewrites to `/beta` + uri: on
    // any other path the rule's constant URI is wrong.
    let facts = facts(REDIRECTS);
    let handler = Handler { file: Path::new("index.js"), text: REDIRECTS, facts: &facts, verifies_with: None };
    let mut original = Scripted(redirects);
    let recognition = recognize(&handler, &mut original);
    let proof = prove(&recognition, &mut original, &mut [&mut ReferenceEvaluator]);
    // Conjoined with each path the handler tests, the rewrite is a constant again. The
    // redirect goes: CloudFront trims `X-Beta: on ` to `on`, the program keeps the space, so on
    // such a request the earlier rewrite does not fire where the handler rewrites, and the
    // redirect would answer instead.
    let beta = r#"rewrite to /beta{path} when x-beta equals "on" (ci) and {path}"#;
    let expected = ["/old", "/gone", "/echo", "/boom"].map(|path| beta.replace("{path}", path));
    assert_eq!(names(&proof.rules.rules), expected, "{:#?}", proof.rejected);
    let redirect = proof.rejected.iter().find(|r| r.what == "redirect /old").expect("dropped");
    let shown = redirect.counterexample.as_ref().expect("a counterexample");
    assert!(shown.head.contains("\r\nX-Beta: on \r\n") && shown.head.contains(" /old "), "{shown:?}");
    assert!(shown.original.contains(r#""uri":"/beta/old""#), "{shown:?}");
    let dropped = proof.rejected.iter().find(|r| r.what.starts_with("rewrite to /beta/")).expect("dropped");
    let counterexample = dropped.counterexample.as_ref().expect("a counterexample");
    let path = counterexample.head.split(' ').nth(1).expect("a request line").split('?').next().unwrap_or_default();
    assert_ne!(path, "/", "{counterexample:?}");
    assert!(counterexample.original.contains(&format!("\"/beta{path}\"")), "{counterexample:?}");
    assert!(counterexample.rule.contains("\"/beta/\""), "{counterexample:?}");
    assert_eq!(dropped.reason, "the original answers otherwise on a request the rule matches");
    assert!(proof.stats.iter().all(|stats| stats.requests >= REQUESTS_PER_RULE), "{:?}", proof.stats);
}

#[test]
fn a_wrong_order_is_caught() {
    // The original lets good bots through before blocking `bot`; a candidate list that only
    // knows the block must lose it, shown by a request that has both.
    let source = r#"
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const ua = (request.headers['user-agent'] && request.headers['user-agent'][0].value) || 'x';
  if (ua.includes('Googlebot')) { return request; }
  if (/bot/.test(ua)) { return { status: '403', body: 'no' }; }
  return request;
};
"#;
    let mut original = Scripted(|request: &Value| {
        let ua = header(request, "user-agent");
        Ok(if !ua.contains("Googlebot") && ua.contains("bot") { json!({"status": "403", "body": "no"}) } else { request.clone() })
    });
    let (recognition, proof) = run(source, &mut original);
    assert_eq!(names(&recognition.candidates), [r#"block user-agent contains "bot""#]);
    assert!(proof.rules.rules.is_empty(), "{:?}", proof.rules);
    let counterexample = proof.rejected.last().and_then(|r| r.counterexample.as_ref()).expect("a counterexample");
    assert!(counterexample.head.contains("Googlebot"), "{counterexample:?}");
}

const AB_TEST: &str = r#"
exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  if (request.uri !== '/' && request.uri !== '/index.html') { return callback(null, request); }
  const cookie = (request.headers.cookie && request.headers.cookie[0].value) || '';
  if (cookie.indexOf('group=A') >= 0) { request.uri = '/a/index.html'; }
  else if (cookie.indexOf('group=B') >= 0) { request.uri = '/b/index.html'; }
  callback(null, request);
};
"#;

fn ab_test(request: &Value) -> Result<Value, String> {
    let uri = request["uri"].as_str().unwrap_or_default();
    let cookie = header(request, "cookie");
    let mut answer = request.clone();
    if uri == "/" || uri == "/index.html" {
        if cookie.contains("group=A") {
            answer["uri"] = json!("/a/index.html");
        } else if cookie.contains("group=B") {
            answer["uri"] = json!("/b/index.html");
        }
    }
    Ok(answer)
}

#[test]
fn a_gated_candidate_becomes_conjunctions_with_the_path_tests() {
    let (recognition, proof) = run(AB_TEST, &mut Scripted(ab_test));
    assert_eq!(
        names(&recognition.candidates),
        [
            r#"rewrite to /a/index.html when cookie contains "group=A""#,
            r#"rewrite to /b/index.html when cookie contains "group=B""#,
        ]
    );
    assert_eq!(
        names(&proof.rules.rules),
        [
            r#"rewrite to /a/index.html when cookie contains "group=A" and /"#,
            r#"rewrite to /a/index.html when cookie contains "group=A" and /index.html"#,
            r#"rewrite to /b/index.html when cookie contains "group=B" and /"#,
            r#"rewrite to /b/index.html when cookie contains "group=B" and /index.html"#,
        ]
    );
    let contradicted: Vec<&str> =
        proof.rejected.iter().filter(|r| r.counterexample.is_some()).map(|r| r.what.as_str()).collect();
    assert_eq!(contradicted, names(&recognition.candidates));
}

/// An evaluator that never fires, as a miscompiled program would.
struct NeverFires;

impl Evaluator for NeverFires {
    fn name(&self) -> &str {
        "never"
    }

    fn verdicts(&mut self, _: &RuleSet, requests: &[Request]) -> Result<Vec<u32>, String> {
        Ok(vec![0; requests.len()])
    }
}

#[test]
fn evaluators_that_disagree_lose_the_rule() {
    let facts = facts(IP_BLOCK);
    let handler = Handler { file: Path::new("index.js"), text: IP_BLOCK, facts: &facts, verifies_with: None };
    let mut original = Scripted(ip_block);
    let recognition = recognize(&handler, &mut original);
    let proof = prove(&recognition, &mut original, &mut [&mut ReferenceEvaluator, &mut NeverFires]);
    assert!(proof.rules.rules.is_empty());
    let reason = &proof.rejected.last().expect("a rejection").reason;
    assert!(reason.starts_with("the never evaluator gives verdict 0 where the reference semantics give 1 on "), "{reason}");
}

#[test]
fn missed_hits_are_counted() {
    // The original also blocks `curl/` in a second User-Agent line, which the program never
    // looks at: those requests pass, and count as missed hits of the rule.
    let mut original = Scripted(|request: &Value| {
        let lines = request["headers"]["user-agent"].as_array().cloned().unwrap_or_default();
        let bad = lines.iter().any(|line| line["value"].as_str().unwrap_or_default().contains("curl/"));
        Ok(if bad { forbidden() } else { request.clone() })
    });
    let rule = Rule {
        name: "block curl".into(),
        predicates: vec![Predicate::Header {
            name: "user-agent".into(),
            op: TextMatch::Contains,
            value: "curl/".into(),
            case_insensitive: false,
        }],
        action: Action::Respond { response: forbidden(), append_query_to: None },
        source: SourceSpan { file: "index.js".into(), span: 0..1, line: 1 },
    };
    let recognition = Recognition { candidates: vec![rule], ..Recognition::default() };
    let proof = prove(&recognition, &mut original, &mut []);
    assert_eq!(names(&proof.rules.rules), ["block curl"]);
    assert!(proof.stats[0].missed > 0, "{:?}", proof.stats);
}

/// The oracle of a response trigger as a closure over the origin's CloudFront response object.
struct ScriptedResponse<F>(F);

impl<F: FnMut(&Value) -> Result<Value, String>> Original for ScriptedResponse<F> {
    fn answer(&mut self, _: &Request) -> Result<Value, String> {
        Err("a response trigger is asked about responses".into())
    }

    fn answer_response(&mut self, _: &Request, response: &Response) -> Result<Value, String> {
        (self.0)(&response.to_cloudfront())
    }
}

const SECURITY_HEADERS: &str = r#"
const LEAKY = ['server', 'x-powered-by', 'x-amz-meta-secret'];
exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  const headers = response.headers;
  if (!headers['strict-transport-security']) {
    headers['strict-transport-security'] = [{ key: 'Strict-Transport-Security', value: 'max-age=300' }];
  }
  headers['x-frame-options'] = [{ key: 'X-Frame-Options', value: 'DENY' }];
  LEAKY.forEach((name) => delete headers[name]);
  const contentType = headers['content-type'] ? headers['content-type'][0].value : '';
  if (contentType.indexOf('text/html') === 0) {
    headers['permissions-policy'] = [{ key: 'Permissions-Policy', value: 'camera=()' }];
  }
  if (response.status == 404) {
    headers['cache-control'] = [{ key: 'Cache-Control', value: 'max-age=10' }];
  }
  return response;
};
"#;

/// Sets `name` to one value in a CloudFront response object.
fn set(response: &mut Value, name: &str, key: &str, value: &str) {
    response["headers"][name] = json!([{ "key": key, "value": value }]);
}

/// What `SECURITY_HEADERS` does; `html` decides whether a content type gets the permissions
/// policy.
fn security_headers(response: &Value, html: impl Fn(&str) -> bool) -> Result<Value, String> {
    let mut answer = response.clone();
    if answer["headers"].get("strict-transport-security").is_none() {
        set(&mut answer, "strict-transport-security", "Strict-Transport-Security", "max-age=300");
    }
    set(&mut answer, "x-frame-options", "X-Frame-Options", "DENY");
    if let Some(headers) = answer["headers"].as_object_mut() {
        for name in ["server", "x-powered-by", "x-amz-meta-secret"] {
            headers.shift_remove(name);
        }
    }
    if html(response["headers"]["content-type"][0]["value"].as_str().unwrap_or_default()) {
        set(&mut answer, "permissions-policy", "Permissions-Policy", "camera=()");
    }
    if response["status"] == "404" {
        set(&mut answer, "cache-control", "Cache-Control", "max-age=10");
    }
    Ok(answer)
}

fn run_responses(source: &str, original: &mut dyn Original) -> (Recognition, Proof) {
    let facts = facts(source);
    let handler = Handler { file: Path::new("index.js"), text: source, facts: &facts, verifies_with: None };
    recognize_and_prove_responses(&handler, original)
}

fn response_names(rules: &[ResponseRule]) -> Vec<String> {
    rules.iter().map(|rule| rule.name.clone()).collect()
}

#[test]
fn response_edits_are_learned_by_diffing_the_answers() {
    let mut original = ScriptedResponse(|response: &Value| security_headers(response, |ct| ct.starts_with("text/html")));
    let (recognition, proof) = run_responses(SECURITY_HEADERS, &mut original);
    let expected = [
        "set x-frame-options and remove server, x-powered-by, x-amz-meta-secret",
        "set strict-transport-security when no strict-transport-security",
        r#"set permissions-policy when content-type starts with "text/html""#,
        "set cache-control when status 404",
    ];
    assert_eq!(response_names(&recognition.response_candidates), expected, "{:#?}", recognition.rejected);
    assert_eq!(response_names(&proof.response_rules.rules), expected, "{:#?}", proof.rejected);
    assert_eq!(proof.rejected, []);
    let hsts = &proof.response_rules.rules[1];
    assert_eq!(hsts.predicates, [ResponsePredicate::HeaderAbsent { name: "strict-transport-security".into() }]);
    assert_eq!(
        hsts.edit,
        HeaderEdit {
            set: vec![("strict-transport-security".into(), "Strict-Transport-Security".into(), "max-age=300".into())],
            remove: vec![],
        }
    );
    assert!(proof.response_stats.iter().all(|stats| stats.responses >= REQUESTS_PER_RULE), "{:?}", proof.response_stats);

    // The rules are the reference: on a 404 page with an HSTS policy, every rule but the HSTS
    // one applies.
    let mut page = Response::origin();
    page.status = 404;
    page.headers = vec![("Content-Type".into(), "text/html".into()), ("Strict-Transport-Security".into(), "max-age=1".into())];
    let sent = page.to_cloudfront();
    assert_eq!(proof.response_rules.apply(&sent), security_headers(&sent, |ct| ct.starts_with("text/html")).expect("an answer"));
}

#[test]
fn an_index_of_anywhere_is_a_containment_test_and_case_is_probed() {
    let source = SECURITY_HEADERS.replace("indexOf('text/html') === 0", "toLowerCase().indexOf('text/html') !== -1");
    let mut original = ScriptedResponse(|response: &Value| {
        security_headers(response, |ct| ct.to_ascii_lowercase().contains("text/html"))
    });
    let (_, proof) = run_responses(&source, &mut original);
    let html = &proof.response_rules.rules[2];
    assert_eq!(
        html.predicates,
        [ResponsePredicate::Header {
            name: "content-type".into(),
            op: TextMatch::Contains,
            value: "text/html".into(),
            case_insensitive: true,
        }],
        "{:#?}",
        proof.rejected
    );
}

#[test]
fn the_response_proof_drops_what_the_original_contradicts() {
    // The source says "pages get the policy", but the original leaves 404 pages alone. The
    // conditional rule is learned on a 200 page and dropped on a 404 one; since the runtime
    // answers with the rules instead of the function, what remains cannot stand either.
    let mut original = ScriptedResponse(|response: &Value| {
        let not_found = response["status"] == "404";
        security_headers(response, |ct| ct.starts_with("text/html") && !not_found)
    });
    let (recognition, proof) = run_responses(SECURITY_HEADERS, &mut original);
    assert_eq!(recognition.response_candidates.len(), 4);
    assert_eq!(response_names(&proof.response_rules.rules), Vec::<String>::new());
    let dropped = &proof.rejected[0];
    assert_eq!(dropped.what, r#"set permissions-policy when content-type starts with "text/html""#);
    assert_eq!(dropped.reason, "the original answers otherwise on a response the rule applies to");
    let shown = dropped.counterexample.as_ref().expect("a counterexample");
    assert!(shown.head.contains("\r\n\r\nHTTP/1.1 404 ") && shown.head.contains("text/html"), "{shown:?}");
    assert!(shown.rule.contains("permissions-policy") && !shown.original.contains("permissions-policy"), "{shown:?}");
}

#[test]
fn answers_beyond_headers_are_rejected() {
    let mut original = ScriptedResponse(|response: &Value| {
        let mut answer = response.clone();
        answer["status"] = json!("500");
        Ok(answer)
    });
    let (recognition, proof) = run_responses(SECURITY_HEADERS, &mut original);
    assert_eq!(recognition.response_candidates, []);
    let found: Vec<(&str, &str)> = proof.rejected.iter().map(|r| (r.what.as_str(), r.reason.as_str())).collect();
    assert_eq!(
        found,
        [("edits of the origin's response", "the function changes the response beyond its headers (status)")]
    );
}
