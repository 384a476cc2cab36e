//! Recognition and proof on the real corpus, with the original running on real node and
//! python3 and the reference semantics as the evaluator; then the inject stage on the cases
//! the acceptance names, with rbpf and — as root — the kernel (verifier and
//! `BPF_PROG_TEST_RUN`) as evaluators, its object and rule table written beside an artifact.
//! Each case asserts exactly which rules are injected, which literals are not and why, and
//! that every rule was tried on at least `REQUESTS_PER_RULE` requests.

use std::path::{Path, PathBuf};
use std::process::Command;

use edgeport_converter::discover::HANDLER_FILES;
use edgeport_converter::FunctionSource;
use edgeport_difftest::hooks::{recognize_and_prove, HookReport};
use edgeport_difftest::inject::{self, Injection, KernelCheck, OBJECT_FILE};
use edgeport_difftest::reference::{ReferenceLanguage, ReferenceWorker, WorkerOptions};
use edgeport_hook_injector::ir::{Action, Network, Predicate, ResponsePredicate, TextMatch};
use edgeport_hook_injector::prove::ReferenceEvaluator;
use edgeport_hook_injector::synthesize::REQUESTS_PER_RULE;
use serde_json::{json, Value};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus").canonicalize().expect("the corpus exists")
}

/// A corpus case's handler file.
fn case_handler(case: &str) -> PathBuf {
    let dir = corpus().join(case);
    HANDLER_FILES.iter().map(|file| dir.join(file)).find(|path| path.is_file()).expect("a handler")
}

/// A reference worker for `path`'s language, or `None` (after printing `SKIPPED`) when its
/// interpreter cannot run.
fn worker_for(path: &Path) -> Option<ReferenceWorker> {
    let language = ReferenceLanguage::of_file(path);
    let program = match language {
        ReferenceLanguage::Node => "node",
        ReferenceLanguage::Python => "python3",
    };
    if !Command::new(program).arg("--version").output().is_ok_and(|output| output.status.success()) {
        println!("SKIPPED: cannot run {program}");
        return None;
    }
    let options =
        WorkerOptions { coverage: false, install_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf()) };
    Some(ReferenceWorker::spawn(language, options).expect("the reference worker starts"))
}

/// The report for a corpus case, with the reference semantics as the only evaluator.
fn report(case: &str) -> Option<HookReport> {
    let path = case_handler(case);
    let mut worker = worker_for(&path)?;
    let function = FunctionSource::from_file(&path);
    let report = recognize_and_prove(&function, &mut worker, &mut [&mut ReferenceEvaluator]).expect("recognized");
    for stats in &report.proof.stats {
        println!("{case}: {}: {} requests, {} hits, {} missed", stats.rule, stats.requests, stats.hits, stats.missed);
        assert!(stats.requests >= REQUESTS_PER_RULE, "{case}: {stats:?}");
        assert!(stats.hits > 0, "{case}: {stats:?}");
    }
    Some(report)
}

fn rule_names(report: &HookReport) -> Vec<&str> {
    report.proof.rules.rules.iter().map(|rule| rule.name.as_str()).collect()
}

/// The rejections as `(what, reason)`, reasons cut before the request a proof shows.
fn rejections(report: &HookReport) -> Vec<(&str, &str)> {
    report
        .proof
        .rejected
        .iter()
        .map(|r| (r.what.as_str(), if r.counterexample.is_some() { "counterexample" } else { r.reason.as_str() }))
        .collect()
}

#[test]
fn ip_block_list_is_one_rule_with_four_networks() {
    let Some(report) = report("ip-block-list") else { return };
    assert_eq!(rule_names(&report), ["block clientIp 198.51.100.7, 203.0.113.0/24, 192.0.2.128/25, 2001:db8::1"]);
    let rule = &report.proof.rules.rules[0];
    let networks: Vec<Network> = [("198.51.100.7", 32), ("203.0.113.0", 24), ("192.0.2.128", 25), ("2001:db8::1", 128)]
        .map(|(address, prefix)| Network { address: address.parse().expect("an address"), prefix })
        .to_vec();
    assert_eq!(rule.predicates, [Predicate::ClientIp { networks }]);
    assert!(rule.action.is_block());
    assert_eq!(rule.source.line, 25, "the `BLOCKED.indexOf(ip)` test in `isBlocked`");
    assert_eq!(rejections(&report), [(r#"clientIp index-of ":""#, "`:` is not an address or network")]);
    // Blocked clients whose head does not fit the window pass to the function, which blocks
    // them itself.
    assert!(report.proof.stats[0].missed > 0);
}

#[test]
fn user_agent_block_is_a_rule_per_literal() {
    let Some(report) = report("user-agent-block") else { return };
    assert_eq!(
        rule_names(&report),
        [
            r#"block user-agent contains "python-requests" (ci)"#,
            r#"block user-agent contains "curl/" (ci)"#,
            r#"block user-agent contains "scrapy" (ci)"#,
            r#"block user-agent contains "AhrefsBot""#,
            r#"block user-agent contains "SemrushBot""#,
            r#"block user-agent contains "MJ12bot""#,
            "block no user-agent",
            r#"block user-agent equals """#,
        ]
    );
    let response = json!({
        "status": 403,
        "statusDescription": "Forbidden",
        "headers": { "content-type": [{ "key": "Content-Type", "value": "text/plain; charset=utf-8" }] },
        "body": "Automated access is not allowed. Contact api@example.com for an API key.",
    });
    for rule in &report.proof.rules.rules {
        assert_eq!(rule.action, Action::Respond { response: response.clone(), append_query_to: None });
    }
    assert_eq!(rejections(&report), []);
}

#[test]
fn static_redirects_keep_the_query_string() {
    let Some(report) = report("static-redirect") else { return };
    assert_eq!(
        rule_names(&report),
        [
            "redirect /about-us (ci)",
            "redirect /about-us/ (ci)",
            "redirect /careers (ci)",
            "redirect /blog/2018/hello-world.html (ci)",
            "redirect /pricing.html (ci)",
        ]
    );
    let careers = &report.proof.rules.rules[2].action;
    assert_eq!(
        careers,
        &Action::Respond {
            response: json!({
                "status": "301",
                "statusDescription": "Moved Permanently",
                "headers": {
                    "location": [{ "key": "Location", "value": "https://jobs.example.com/" }],
                    "cache-control": [{ "key": "Cache-Control", "value": "max-age=3600" }],
                },
            }),
            append_query_to: Some("location".into()),
        }
    );
    assert_eq!(
        rejections(&report),
        [(
            r#"uri ends with "/index.html" (ci)"#,
            "the function passes the hit on unchanged: the literal does not decide alone"
        )]
    );
    // `/about-us/index.html` is redirected by the function (it strips `index.html`) but is no
    // rule's path: a missed hit, not a violation.
    assert!(report.proof.stats[0].missed > 0, "{:?}", report.proof.stats);
}

#[test]
fn cookie_ab_test_rewrites_only_on_the_tested_paths() {
    let Some(report) = report("cookie-ab-test") else { return };
    assert_eq!(
        rule_names(&report),
        [
            r#"rewrite to /experiments/a/index.html when cookie contains "X-Experiment-Name=A" and /"#,
            r#"rewrite to /experiments/a/index.html when cookie contains "X-Experiment-Name=A" and /index.html"#,
            r#"rewrite to /experiments/b/index.html when cookie contains "X-Experiment-Name=B" and /"#,
            r#"rewrite to /experiments/b/index.html when cookie contains "X-Experiment-Name=B" and /index.html"#,
        ]
    );
    assert_eq!(report.proof.rules.rules[0].action, Action::RewriteUri { uri: "/experiments/a/index.html".into() });
    let beyond_uri = "the function changes the request beyond its uri (headers.x-experiment-bucket, uri)";
    assert_eq!(
        rejections(&report),
        [
            ("/", beyond_uri),
            ("/index.html", beyond_uri),
            (r#"rewrite to /experiments/a/index.html when cookie contains "X-Experiment-Name=A""#, "counterexample"),
            (r#"rewrite to /experiments/b/index.html when cookie contains "X-Experiment-Name=B""#, "counterexample"),
        ]
    );
    // The single-predicate candidates fell on a path the handler leaves alone.
    let shown = report.proof.rejected[2].counterexample.as_ref().expect("a counterexample");
    assert!(!shown.head.starts_with("GET / ") && !shown.head.contains(" /index.html "), "{shown:?}");
    assert!(shown.head.contains("Cookie: X-Experiment-Name=A"), "{shown:?}");
}

#[test]
fn py_ua_block_keeps_nothing_because_good_bots_are_let_through_first() {
    // The good-bot regex (`\b(Googlebot|...)/\d+\.\d+`) is checked before the block list and
    // has no byte-table equivalent, so a bad agent that also names a good bot is let through
    // by the function; every block-list literal is contradicted by such a request.
    let Some(report) = report("py-ua-block") else { return };
    assert_eq!(rule_names(&report), Vec::<&str>::new());
    let classes = "character classes";
    let found: Vec<(&str, bool)> = report
        .proof
        .rejected
        .iter()
        .map(|r| (r.what.as_str(), r.reason.contains(classes) || r.counterexample.is_some()))
        .collect();
    assert_eq!(
        found,
        [
            (r"user-agent regex-test /\b(Googlebot|bingbot|DuckDuckBot)/\d+\.\d+/i", true),
            (r"user-agent regex-test /python-requests/[\d.]+/i", true),
            (r"user-agent regex-test /(?:^|\W)(?:bot|crawler|spider)(?:\W|$)/i", true),
            (r#"block user-agent starts with "curl/" (ci)"#, true),
            (r#"block user-agent contains "scrapy" (ci)"#, true),
            (r#"block user-agent contains "httpclient" (ci)"#, true),
            (r#"block user-agent contains "headless" (ci)"#, true),
        ]
    );
    for rejection in &report.proof.rejected[3..] {
        let shown = rejection.counterexample.as_ref().expect("a counterexample");
        assert!(shown.head.contains("Googlebot/"), "{shown:?}");
    }
}

#[test]
fn py_ip_allowlist_is_an_allow_list_and_keeps_nothing() {
    let Some(report) = report("py-ip-allowlist") else { return };
    assert_eq!(rule_names(&report), Vec::<&str>::new());
    let allow_list = "the function passes the hit on and answers requests without it (an allow list); rules cannot say `not`";
    assert_eq!(
        rejections(&report),
        [
            ("clientIp 198.51.100.0/24", allow_list),
            ("clientIp 203.0.113.64/26", allow_list),
            ("clientIp 192.0.2.10", allow_list),
            ("clientIp 2001:db8:1234::/48", allow_list),
            ("/healthz", allow_list),
        ]
    );
}

#[test]
fn rewrites_that_depend_on_the_uri_inject_nothing() {
    let Some(report) = report("index-rewrite") else { return };
    assert_eq!(rule_names(&report), Vec::<&str>::new());
    assert_eq!(
        rejections(&report),
        [(r"uri regex-replace /\/$/", "`replace` rewrites the field; it decides nothing by itself")]
    );

    let Some(routing) = self::report("device-routing") else { return };
    assert_eq!(rule_names(&routing), Vec::<&str>::new());
    let no_decision = "the function passes the hit on unchanged: the literal does not decide alone";
    assert_eq!(
        rejections(&routing),
        [
            (r#"uri starts with "/mobile/""#, no_decision),
            (r#"uri starts with "/tablet/""#, no_decision),
            (r#"rewrite to /mobile/ when cloudfront-is-mobile-viewer equals "true""#, "counterexample"),
            (r#"rewrite to /tablet/ when cloudfront-is-tablet-viewer equals "true""#, "counterexample"),
        ]
    );
}

/// A response rule as `(name, predicates, set names, removed names)`.
type ResponseRuleShape = (String, Vec<ResponsePredicate>, Vec<String>, Vec<String>);

/// The response rules, after checking each was proven on at least `REQUESTS_PER_RULE`
/// responses and applied to some.
fn response_rules(case: &str, report: &HookReport) -> Vec<ResponseRuleShape> {
    assert!(report.proof.rules.rules.is_empty(), "{case}: a response trigger has no request rules");
    assert_eq!(report.proof.response_stats.len(), report.proof.response_rules.rules.len());
    for stats in &report.proof.response_stats {
        println!("{case}: {}: {} responses, {} applied", stats.rule, stats.responses, stats.hits);
        assert!(stats.responses >= REQUESTS_PER_RULE, "{case}: {stats:?}");
        assert!(stats.hits > 0, "{case}: {stats:?}");
    }
    report
        .proof
        .response_rules
        .rules
        .iter()
        .map(|rule| {
            let set = rule.edit.set.iter().map(|(name, _, _)| name.clone()).collect();
            (rule.name.clone(), rule.predicates.clone(), set, rule.edit.remove.clone())
        })
        .collect()
}

/// The six security headers, as both corpus cases set them (Python spells `includeSubDomains`).
fn security_headers(hsts: &str) -> Vec<(String, String, String)> {
    [
        ("Strict-Transport-Security", hsts),
        (
            "Content-Security-Policy",
            "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'",
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("X-XSS-Protection", "1; mode=block"),
        ("Referrer-Policy", "same-origin"),
    ]
    .map(|(key, value)| (key.to_ascii_lowercase(), key.to_string(), value.to_string()))
    .to_vec()
}

/// The two conditional rules both cases end with: a permissions policy for pages (content
/// type compared as written in JavaScript, lower-cased in Python) and a short max-age for 404s.
fn pages_and_misses(case_insensitive: bool) -> [ResponseRuleShape; 2] {
    let ci = if case_insensitive { " (ci)" } else { "" };
    let html = ResponsePredicate::Header {
        name: "content-type".into(),
        op: TextMatch::Prefix,
        value: "text/html".into(),
        case_insensitive,
    };
    [
        (
            format!(r#"set permissions-policy when content-type starts with "text/html"{ci}"#),
            vec![html],
            strings(&["permissions-policy"]),
            vec![],
        ),
        (
            "set cache-control when status 404".into(),
            vec![ResponsePredicate::Status { value: 404 }],
            strings(&["cache-control"]),
            vec![],
        ),
    ]
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

#[test]
fn security_headers_are_response_rules() {
    let Some(report) = report("security-headers") else { return };
    let six = strings(&[
        "strict-transport-security",
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "x-xss-protection",
        "referrer-policy",
    ]);
    let always = (format!("set {} and remove server, x-powered-by", six.join(", ")), vec![], six, strings(&["server", "x-powered-by"]));
    let mut expected = vec![always];
    expected.extend(pages_and_misses(false));
    assert_eq!(response_rules("security-headers", &report), expected);
    let rules = &report.proof.response_rules.rules;
    assert_eq!(rules[0].edit.set, security_headers("max-age=63072000; includeSubdomains; preload"));
    let lines: Vec<usize> = rules.iter().map(|rule| rule.source.line).collect();
    assert_eq!(lines, [11, 30, 35], "the handler, the `indexOf` test, the `status` read");
    assert_eq!(rejections(&report), []);
}

#[test]
fn py_security_headers_keep_the_origins_hsts() {
    let Some(report) = report("py-security-headers") else { return };
    let five = strings(&[
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "x-xss-protection",
        "referrer-policy",
    ]);
    let leaky = strings(&["server", "x-powered-by", "x-amz-meta-server-side-encryption"]);
    let mut expected = vec![
        (format!("set {} and remove {}", five.join(", "), leaky.join(", ")), vec![], five, leaky),
        (
            "set strict-transport-security when no strict-transport-security".into(),
            vec![ResponsePredicate::HeaderAbsent { name: "strict-transport-security".into() }],
            strings(&["strict-transport-security"]),
            vec![],
        ),
    ];
    expected.extend(pages_and_misses(true));
    assert_eq!(response_rules("py-security-headers", &report), expected);
    let rules = &report.proof.response_rules.rules;
    let mut set = rules[0].edit.set.clone();
    set.insert(0, rules[1].edit.set[0].clone());
    assert_eq!(set, security_headers("max-age=63072000; includeSubDomains; preload"));
    let lines: Vec<usize> = rules.iter().map(|rule| rule.source.line).collect();
    assert_eq!(lines, [20, 20, 35, 39], "the handler twice, the `startswith` test, the `status` test");
    assert_eq!(rejections(&report), []);
}

// The inject stage: rbpf and (when permitted) the kernel as evaluators, compiled and written.

/// The injection for a case, or `None` (after `SKIPPED`) when its interpreter is missing.
fn injection(case: &str) -> Option<Injection> {
    let path = case_handler(case);
    let mut worker = worker_for(&path)?;
    Some(inject::inject(&FunctionSource::from_file(&path), &mut worker).expect("the hook stage runs"))
}

/// Every proven request rule was tried on enough requests by the reference semantics, rbpf
/// and (when permitted) the kernel, and the kernel verified the program.
fn assert_proven_everywhere(case: &str, injection: &Injection, rules: usize) {
    let proof = &injection.report.proof;
    assert_eq!(proof.rules.rules.len(), rules, "{case}: {:#?}", proof.rejected);
    for stats in &proof.stats {
        assert!(stats.requests >= REQUESTS_PER_RULE, "{case}: {stats:?}");
        assert!(stats.hits > 0, "{case}: {stats:?}");
    }
    assert!(proof.evaluators.iter().any(|e| e == "rbpf"), "{case}: {:?}", proof.evaluators);
    match inject::kernel_available() {
        Ok(()) => {
            assert!(proof.evaluators.iter().any(|e| e == "kernel"), "{case}: {:?}", proof.evaluators);
            let KernelCheck::Verified { verdict, filter } = injection.kernel else {
                panic!("{case}: the kernel did not verify the program: {:?}", injection.kernel);
            };
            assert!(verdict > 0 && filter > 0);
        }
        Err(reason) => println!("SKIPPED: {case} in the kernel: {reason}"),
    }
}

#[test]
fn ip_block_list_is_proven_in_the_kernel_and_rbpf() {
    let Some(injection) = injection("ip-block-list") else { return };
    assert_proven_everywhere("ip-block-list", &injection, 1);
    assert_eq!(injection.summary().blocks, 1);
}

#[test]
fn user_agent_blocks_are_proven_in_the_kernel_and_rbpf() {
    let Some(injection) = injection("user-agent-block") else { return };
    assert_proven_everywhere("user-agent-block", &injection, 8);
    assert_eq!(injection.summary().blocks, 8);
}

#[test]
fn redirects_and_the_ab_split_are_proven_in_the_kernel_and_rbpf() {
    for (case, rules) in [("static-redirect", 5), ("cookie-ab-test", 4)] {
        let Some(injection) = injection(case) else { return };
        assert_proven_everywhere(case, &injection, rules);
        assert_eq!(injection.summary().blocks, 0, "{case}: redirects and rewrites are not dropped");
    }
}

#[test]
fn security_headers_are_response_rules_without_a_program() {
    let Some(injection) = injection("security-headers") else { return };
    assert_eq!(injection.report.proof.response_rules.rules.len(), 3);
    assert!(injection.program.is_none(), "response rules are applied by the runtime, not in eBPF");
    assert_eq!(injection.summary().rules, 3);
}

#[test]
fn the_object_and_the_rule_table_are_written_beside_the_artifact() {
    let Some(injection) = injection("ip-block-list") else { return };
    let out = tempfile::tempdir().expect("a temporary directory");
    let dir = out.path().join("ip-block-list");
    std::fs::create_dir_all(&dir).expect("the function directory");
    // A function that did not convert has no manifest: nothing is written for it.
    inject::write(out.path(), &injection).expect("nothing to write");
    assert!(!dir.join(OBJECT_FILE).exists());

    std::fs::write(dir.join("manifest.json"), r#"{"metadata":{"name":"ip-block-list"}}"#).expect("a manifest");
    inject::write(out.path(), &injection).expect("written");
    let object = std::fs::read(dir.join(OBJECT_FILE)).expect("the object");
    assert_eq!(&object[..4], b"\x7fELF");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("the manifest")).expect("JSON");
    assert_eq!(manifest["metadata"]["name"], "ip-block-list", "the rest of the manifest is kept");
    let rules = manifest["hooks"]["rules"].as_array().expect("a rule table");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["xdp"], "drop");
    assert_eq!(rules[0]["source"], "index.js:25");
    assert_eq!(inject::recorded(out.path(), "ip-block-list").map(|s| s.rules), Some(1));

    // Proven again with no rules, the stale object goes.
    let mut emptied = injection;
    emptied.report.proof.rules.rules.clear();
    emptied.program = None;
    inject::write(out.path(), &emptied).expect("written");
    assert!(!dir.join(OBJECT_FILE).exists());
}

#[test]
fn handlers_that_verify_secrets_get_no_request_rules() {
    // Each blocks or refuses a path unless the request carries a valid HMAC or token, which no
    // synthesized request does: "403 on /downloads/" would hold on every one of them and still
    // be wrong for the signed links.
    for (case, module) in [("py-signed-url", "hashlib"), ("jwt-verify", "jsonwebtoken")] {
        let Some(report) = report(case) else { return };
        assert!(report.proof.rules.rules.is_empty(), "{case}: {:?}", rule_names(&report));
        assert!(
            report.proof.rejected.iter().any(|r| r.reason.contains(&format!("verifies secrets with `{module}`"))),
            "{case}: {:#?}",
            report.proof.rejected
        );
    }
}

#[test]
fn the_functions_own_events_overrule_a_rule_synthesis_could_not_refute() {
    // The key is computed, so no synthesized request carries it: "403 on /private/" holds on
    // every one of them. The team's own event with the key does not agree.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let handler = dir.path().join("index.js");
    std::fs::write(
        &handler,
        r#"'use strict';
// Trigger: viewer-request
const KEY = ['key', 42].join('-');
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const key = request.headers['x-key'] ? request.headers['x-key'][0].value : '';
  if (request.uri.startsWith('/private/') && key !== KEY) {
    return { status: '403', statusDescription: 'Forbidden', body: 'no' };
  }
  return request;
};
"#,
    )
    .expect("the handler");
    std::fs::create_dir(dir.path().join("events")).expect("events/");
    let event = json!({"Records": [{"cf": {
        "config": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE",
                   "eventType": "viewer-request", "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="},
        "request": {"clientIp": "203.0.113.178", "method": "GET", "uri": "/private/report.pdf", "querystring": "",
                    "headers": {"host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}],
                                "x-key": [{"key": "X-Key", "value": "key-42"}]}}
    }}]});
    std::fs::write(dir.path().join("events/with-key.json"), event.to_string()).expect("the event");

    let Some(mut worker) = worker_for(&handler) else { return };
    let report = recognize_and_prove(&FunctionSource::from_file(&handler), &mut worker, &mut [&mut ReferenceEvaluator])
        .expect("recognized");
    assert!(report.proof.rules.rules.is_empty(), "{:?}", rule_names(&report));
    let rejection = report
        .proof
        .rejected
        .iter()
        .find(|r| r.reason.contains("own event with-key.json"))
        .unwrap_or_else(|| panic!("{:#?}", report.proof.rejected));
    assert_eq!(rejection.what, r#"block uri starts with "/private/""#);
    let head = &rejection.counterexample.as_ref().expect("the event's request").head;
    assert!(head.contains("X-Key: key-42"), "{head}");
}
