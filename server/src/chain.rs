//! One viewer request through CloudFront's chain (../shared/CONTRACT.md "Triggers and order"):
//! viewer-request -> origin-request -> origin -> origin-response -> viewer-response, with its
//! skip rules, validation and failures.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use edgeport_contract::EventType;
use edgeport_runtime::cloudfront::{self, title_case, Decision};
use edgeport_runtime::Outcome;
use serde_json::{json, Map, Value};

use crate::config::Behavior;
use crate::functions::{Function, Stopped};
use crate::invoker::Refused;
use crate::origin::{origin_object, OriginError, OriginResponse, HOP_BY_HOP};
use crate::{Shared, State};

/// The CloudFront distribution serve pretends to be (the documentation's example names).
const DISTRIBUTION_DOMAIN: &str = "d111111abcdef8.cloudfront.net";
const DISTRIBUTION_ID: &str = "EDFDVBD6EXAMPLE";
/// The `via` CloudFront adds to origin requests and viewer responses.
pub const VIA: &str = "1.1 d111111abcdef8.cloudfront.net (CloudFront)";

/// A viewer's request as received.
pub struct ViewerRequest {
    /// The peer's address.
    pub client_ip: IpAddr,
    /// The method.
    pub method: String,
    /// The path, percent-encoding kept.
    pub uri: String,
    /// The raw query string without `?`.
    pub querystring: String,
    /// Header lines, names lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

/// What goes back to the viewer.
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Header lines.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
    /// `x-cache`.
    pub cache: &'static str,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// One invocation (or fast-path answer), for the access log.
#[derive(serde::Serialize)]
pub struct Step {
    /// The trigger.
    pub trigger: &'static str,
    /// The function.
    pub function: String,
    /// `result`, `error`, `timeout`, `memory`, `trap`, or `fast-path`.
    pub outcome: &'static str,
    /// Milliseconds.
    #[serde(rename = "durationMs")]
    pub duration_ms: f64,
}

/// A request's trace through the chain.
#[derive(Default)]
pub struct Trace {
    /// Invocations in order.
    pub steps: Vec<Step>,
    /// The rule that answered on the fast path.
    pub fast_path: Option<String>,
}

/// A failure CloudFront itself answers.
struct Failure {
    status: u16,
    cache: &'static str,
    reason: String,
}

/// What a trigger decided.
enum Next {
    Forward(Value),
    Respond(Value),
    Fail(Failure),
}

/// Runs the chain for one request under `behavior`.
pub async fn run(shared: &Arc<Shared>, state: &Arc<State>, behavior: &Behavior, viewer: ViewerRequest, request_id: &str, trace: &mut Trace) -> Reply {
    let mut request = cloudfront_request(&viewer);
    let mut body = viewer.body;

    // viewer-request: a generated response goes straight to the viewer.
    expose_body(&mut request, &body, behavior, EventType::ViewerRequest);
    match trigger(shared, state, behavior, EventType::ViewerRequest, request_id, &request, None, trace).await {
        Next::Forward(forwarded) => request = take_body(forwarded, &mut body),
        Next::Respond(response) => return reply(&response, None, "LambdaGeneratedResponse from cloudfront"),
        Next::Fail(failure) => return failed(failure),
    }

    // origin-request sees the origin object and what CloudFront adds on the way out.
    let Some(origin) = behavior.origin.as_ref().or(shared.options.origin.as_ref()).or(state.routing.origin.as_ref()) else {
        return failed(Failure {
            status: 502,
            cache: "Error from cloudfront",
            reason: "no origin is configured for this behaviour; pass --origin http://HOST:PORT or set origin in the config".into(),
        });
    };
    prepare_for_origin(&mut request, viewer.client_ip);
    request["origin"] = origin_object(origin);
    expose_body(&mut request, &body, behavior, EventType::OriginRequest);
    // Response events never carry a body (CONTRACT: `response` is status, description and
    // headers), so the body travels beside the response object.
    let (mut response, mut content, origin_status) =
        match trigger(shared, state, behavior, EventType::OriginRequest, request_id, &request, None, trace).await {
            Next::Forward(forwarded) => {
                request = take_body(forwarded, &mut body);
                let fetched = shared.origin.fetch(&request, body).await;
                let OriginResponse { status, headers, body } = match fetched {
                    Ok(response) => {
                        shared.metrics.add("edgeport_origin_requests_total", vec![("status", response.status.to_string())], 1);
                        response
                    }
                    Err(error) => {
                        shared.metrics.add("edgeport_origin_errors_total", vec![("kind", error.kind().to_string())], 1);
                        return failed(match error {
                            OriginError::Unreachable(reason) => Failure { status: 502, cache: "Error from cloudfront", reason },
                            OriginError::Timeout(reason) => Failure { status: 504, cache: "Error from cloudfront", reason },
                        });
                    }
                };
                let response = json!({
                    "status": status.to_string(),
                    "statusDescription": reason_phrase(status),
                    "headers": Value::Object(cloudfront_headers(&headers)),
                });
                (response, Content::Origin(body), status)
            }
            Next::Respond(mut generated) => {
                let content = Content::take(&mut generated);
                (generated, content, 0)
            }
            Next::Fail(failure) => return failed(failure),
        };

    // origin-response: runs only on what the origin answered, and may set a body.
    if matches!(content, Content::Origin(_)) {
        match trigger(shared, state, behavior, EventType::OriginResponse, request_id, &request, Some(&response), trace).await {
            Next::Forward(_) => {}
            Next::Respond(mut changed) => {
                match Content::take(&mut changed) {
                    Content::Generated(generated) if generated.contains_key("body") => content = Content::Generated(generated),
                    _ => {}
                }
                response = changed;
            }
            Next::Fail(failure) => return failed(failure),
        }
    }

    // viewer-response: not when the origin answered 400 or above.
    if origin_status < 400 {
        match trigger(shared, state, behavior, EventType::ViewerResponse, request_id, &request, Some(&response), trace).await {
            Next::Forward(_) => {}
            Next::Respond(changed) => response = changed,
            Next::Fail(failure) => return failed(failure),
        }
    }
    let cache = if origin_status > 0 { "Miss from cloudfront" } else { "LambdaGeneratedResponse from cloudfront" };
    content.put_back(&mut response);
    reply(&response, content.origin_body(), cache)
}

/// With the behaviour's `include-body`, gives a request trigger the viewer's body as CloudFront
/// does: base64, cut at the trigger's limit (40 KB viewer, 1 MB origin), read-only until the
/// function says `replace`.
fn expose_body(request: &mut Value, body: &Bytes, behavior: &Behavior, event_type: EventType) {
    if !behavior.include_body || !behavior.functions.contains_key(&event_type) {
        return;
    }
    let limit = if event_type.is_viewer() { 40 * 1024 } else { 1024 * 1024 };
    let exposed = &body[..body.len().min(limit)];
    request["body"] = json!({
        "inputTruncated": body.len() > limit,
        "action": "read-only",
        "encoding": "base64",
        "data": encode_base64(exposed),
    });
}

/// Takes the exposed body out of a request a trigger returned; a body the function marked
/// `replace` becomes the body sent on.
fn take_body(mut request: Value, body: &mut Bytes) -> Value {
    let Some(exposed) = request.as_object_mut().and_then(|object| object.remove("body")) else { return request };
    if exposed["action"] == "replace" {
        let data = exposed["data"].as_str().unwrap_or_default();
        *body = match exposed["encoding"].as_str() {
            Some("text") => Bytes::from(data.to_string()),
            _ => decode_base64(data).map(Bytes::from).unwrap_or_default(),
        };
    }
    request
}

/// The body of the response on its way through the chain.
enum Content {
    /// The origin's body.
    Origin(Bytes),
    /// `{body, bodyEncoding}` a function set.
    Generated(Map<String, Value>),
}

impl Content {
    /// Moves `body` and `bodyEncoding` out of a response object.
    fn take(response: &mut Value) -> Content {
        let mut generated = Map::new();
        if let Some(object) = response.as_object_mut() {
            for field in ["body", "bodyEncoding"] {
                if let Some(value) = object.remove(field) {
                    generated.insert(field.into(), value);
                }
            }
        }
        Content::Generated(generated)
    }

    /// Puts a generated body back for the reply.
    fn put_back(&self, response: &mut Value) {
        if let (Content::Generated(generated), Some(object)) = (self, response.as_object_mut()) {
            object.extend(generated.clone());
        }
    }

    fn origin_body(self) -> Option<Bytes> {
        match self {
            Content::Origin(body) => Some(body),
            Content::Generated(_) => None,
        }
    }
}

/// Runs the function attached to `event_type`, if any. Without one, the request (or
/// response) goes on unchanged.
#[allow(clippy::too_many_arguments)]
async fn trigger(
    shared: &Arc<Shared>,
    state: &Arc<State>,
    behavior: &Behavior,
    event_type: EventType,
    request_id: &str,
    request: &Value,
    response: Option<&Value>,
    trace: &mut Trace,
) -> Next {
    let Some(function) = behavior.functions.get(&event_type).and_then(|name| state.functions.get(name)) else {
        // Nothing attached: the request goes on as it is (a response trigger ignores it).
        return Next::Forward(if response.is_none() { request.clone() } else { Value::Null });
    };
    let mut cf = Map::new();
    cf.insert(
        "config".into(),
        json!({
            "distributionDomainName": DISTRIBUTION_DOMAIN,
            "distributionId": DISTRIBUTION_ID,
            "eventType": event_type.as_str(),
            "requestId": request_id,
        }),
    );
    cf.insert("request".into(), request.clone());
    if let Some(response) = response {
        cf.insert("response".into(), response.clone());
    }
    let event = json!({"Records": [{"cf": Value::Object(cf)}]});
    let labels = vec![("function", function.name.clone()), ("trigger", event_type.as_str().to_string())];
    let started = Instant::now();

    if let Some(answer) = fast_path(function, event_type, request, response) {
        let (rule, value) = answer;
        shared.metrics.add("edgeport_fast_path_total", vec![("function", function.name.clone()), ("rule", rule.clone())], 1);
        trace.fast_path = Some(rule);
        trace.steps.push(Step { trigger: event_type.as_str(), function: function.name.clone(), outcome: "fast-path", duration_ms: ms(started.elapsed()) });
        let outcome = Outcome::Result { value };
        return decided(shared, &labels, cloudfront::decide(event_type, &event, &outcome));
    }

    let event_json = event.to_string();
    let invoked = {
        let state = state.clone();
        let function = function.clone();
        let request_id = request_id.to_string();
        shared.invoker.run(move || state.functions.invoke(&function, event_type, &event_json, &request_id)).await
    };
    shared.metrics.add("edgeport_invocations_total", labels.clone(), 1);
    let (outcome, elapsed) = match invoked {
        Ok(invoked) => (invoked.outcome, invoked.elapsed),
        Err(Refused::Throttled(waiting)) => (
            Err(Stopped::Throttled(format!("throttled: {waiting} invocations are waiting for a thread (--threads)"))),
            started.elapsed(),
        ),
        Err(Refused::Panicked) => (Err(Stopped::Trap("the invocation thread panicked".into())), started.elapsed()),
    };
    shared.metrics.observe("edgeport_invocation_duration_seconds", labels.clone(), elapsed);
    let step_outcome = match &outcome {
        Ok(Outcome::Result { .. }) => "result",
        Ok(Outcome::Error { .. }) => "error",
        Ok(Outcome::Timeout { .. }) | Err(Stopped::Timeout(_)) => "timeout",
        Err(Stopped::Memory(_)) => "memory",
        Err(Stopped::Trap(_)) => "trap",
        Err(Stopped::Throttled(_)) => "throttled",
    };
    trace.steps.push(Step { trigger: event_type.as_str(), function: function.name.clone(), outcome: step_outcome, duration_ms: ms(elapsed) });
    match outcome {
        Ok(outcome) => decided(shared, &labels, cloudfront::decide(event_type, &event, &outcome)),
        Err(stopped) => {
            let (kind, reason) = match stopped {
                Stopped::Timeout(reason) => ("timeout", reason),
                Stopped::Memory(reason) => ("memory", reason),
                Stopped::Trap(reason) => ("trap", reason),
                Stopped::Throttled(reason) => ("throttled", reason),
            };
            error_metric(shared, &labels, kind);
            Next::Fail(Failure { status: 503, cache: "LambdaLimitExceeded from cloudfront", reason })
        }
    }
}

/// The fast path's answer for this trigger: the rule's name and the value the function would
/// have returned.
fn fast_path(function: &Function, event_type: EventType, request: &Value, response: Option<&Value>) -> Option<(String, Value)> {
    let fast_path = function.fast_path.as_ref().filter(|fast_path| fast_path.event_type == event_type)?;
    match response {
        Some(response) => fast_path.respond(response).map(|value| ("response rules".to_string(), value)),
        None => {
            let answer = fast_path.answer(&hook_request(request)?)?;
            let value = match answer.value.get("status") {
                Some(_) => answer.value,
                // A rewrite: the request as it is, with the rule's URI.
                None => {
                    let mut forwarded = request.clone();
                    forwarded["uri"] = answer.value["uri"].clone();
                    forwarded
                }
            };
            Some((answer.rule.to_string(), value))
        }
    }
}

fn decided(shared: &Shared, labels: &[(&'static str, String)], decision: Decision) -> Next {
    match decision {
        Decision::Forward { request } => Next::Forward(request),
        Decision::Respond { response } => Next::Respond(response),
        Decision::Fail { status, title, reason } => {
            let (kind, cache) = match status {
                502 => ("validation", "LambdaValidationError from cloudfront"),
                _ if title == "Lambda limit exceeded" => ("timeout", "LambdaLimitExceeded from cloudfront"),
                _ => ("execution", "LambdaExecutionError from cloudfront"),
            };
            error_metric(shared, labels, kind);
            Next::Fail(Failure { status, cache, reason: format!("{title}: {reason}") })
        }
    }
}

fn error_metric(shared: &Shared, labels: &[(&'static str, String)], kind: &str) {
    let mut labels = labels.to_vec();
    labels.push(("kind", kind.to_string()));
    shared.metrics.add("edgeport_invocation_errors_total", labels, 1);
}

/// The CloudFront request object of a viewer's request.
fn cloudfront_request(viewer: &ViewerRequest) -> Value {
    json!({
        "clientIp": viewer.client_ip.to_string(),
        "headers": Value::Object(cloudfront_headers(&viewer.headers)),
        "method": viewer.method,
        "querystring": viewer.querystring,
        "uri": viewer.uri,
    })
}

/// Header lines (lower-case names, as the HTTP library gives them) as CloudFront's object,
/// keyed in Title-Case. The hook proof builds its events with the same function, so the fast
/// path's rules saw requests exactly as serve's functions see them.
fn cloudfront_headers(lines: &[(String, String)]) -> Map<String, Value> {
    let titled: Vec<(String, String)> = lines.iter().map(|(name, value)| (title_case(name), value.clone())).collect();
    edgeport_hook_injector::http::cloudfront_headers(&titled)
}

/// What CloudFront adds to a request on its way to the origin.
fn prepare_for_origin(request: &mut Value, client_ip: IpAddr) {
    let Some(headers) = request["headers"].as_object_mut() else { return };
    let forwarded = match headers.get("x-forwarded-for").and_then(|v| v[0]["value"].as_str()) {
        Some(earlier) => format!("{earlier}, {client_ip}"),
        None => client_ip.to_string(),
    };
    headers.insert("x-forwarded-for".into(), json!([{"key": "X-Forwarded-For", "value": forwarded}]));
    headers.insert("via".into(), json!([{"key": "Via", "value": VIA}]));
}

/// The hook injector's view of a CloudFront request (for the fast path's rules).
fn hook_request(request: &Value) -> Option<edgeport_hook_injector::http::Request> {
    let mut headers = Vec::new();
    for (name, entries) in request["headers"].as_object()? {
        for entry in entries.as_array()? {
            let key = entry["key"].as_str().map_or_else(|| title_case(name), str::to_string);
            headers.push((key, entry["value"].as_str()?.to_string()));
        }
    }
    Some(edgeport_hook_injector::http::Request {
        client_ip: request["clientIp"].as_str()?.parse().ok()?,
        method: request["method"].as_str()?.to_string(),
        uri: request["uri"].as_str()?.to_string(),
        querystring: request["querystring"].as_str().unwrap_or_default().to_string(),
        headers,
    })
}

/// The viewer's reply for a validated response object; `origin_body` unless it set its own.
fn reply(response: &Value, origin_body: Option<Bytes>, cache: &'static str) -> Reply {
    let status = match &response["status"] {
        Value::String(text) => text.trim().parse().unwrap_or(502),
        Value::Number(number) => number.as_u64().and_then(|n| u16::try_from(n).ok()).unwrap_or(502),
        _ => 502,
    };
    let mut headers = Vec::new();
    for (name, entries) in response["headers"].as_object().into_iter().flatten() {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        for entry in entries.as_array().into_iter().flatten() {
            if let Some(value) = entry["value"].as_str() {
                headers.push((name.clone(), value.to_string()));
            }
        }
    }
    let body = match response.get("body") {
        Some(Value::String(text)) if response["bodyEncoding"] == "base64" => match decode_base64(text) {
            Some(bytes) => Bytes::from(bytes),
            None => {
                return failed(Failure {
                    status: 502,
                    cache: "LambdaValidationError from cloudfront",
                    reason: "Lambda validation error: the body is not valid base64 although bodyEncoding is base64".into(),
                })
            }
        },
        Some(Value::String(text)) => Bytes::from(text.clone()),
        Some(Value::Null) | None => origin_body.unwrap_or_default(),
        Some(other) => Bytes::from(other.to_string()),
    };
    Reply { status, headers, body, cache, error: None }
}

/// CloudFront's own error page.
fn failed(failure: Failure) -> Reply {
    let reason = failure.reason.replace(['\r', '\n'], " ");
    let heading = match failure.status {
        502 => "502 ERROR",
        503 => "503 ERROR",
        504 => "504 Gateway Timeout ERROR",
        _ => "ERROR",
    };
    let escaped = reason.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let body = format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">\n\
         <HTML><HEAD><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=iso-8859-1\">\n\
         <TITLE>ERROR: The request could not be satisfied</TITLE>\n</HEAD><BODY>\n<H1>{heading}</H1>\n\
         <H2>The request could not be satisfied.</H2>\n<HR noshade size=\"1px\">\n{escaped}\n</BODY></HTML>\n"
    );
    Reply {
        status: failure.status,
        headers: vec![("content-type".into(), "text/html".into())],
        body: Bytes::from(body),
        cache: failure.cache,
        error: Some(reason),
    }
}

/// The standard reason phrase CloudFront reports as `statusDescription`.
fn reason_phrase(status: u16) -> &'static str {
    hyper::StatusCode::from_u16(status).ok().and_then(|status| status.canonical_reason()).unwrap_or("")
}

fn ms(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1e6).round() / 1e3
}

/// Standard base64 with padding.
fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0u32, |word, (i, &byte)| word | (u32::from(byte) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(ALPHABET[((word >> (18 - 6 * i)) & 63) as usize]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// Standard base64 (with or without padding); `None` when it is not base64.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
        }
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for text in [&b""[..], b"h", b"hi", b"hey", b"hello", &[0, 255, 128, 7]] {
            assert_eq!(decode_base64(&encode_base64(text)).as_deref(), Some(text));
        }
        assert_eq!(encode_base64(b"hello"), "aGVsbG8=");
    }

    #[test]
    fn a_replaced_body_is_sent_on_and_a_read_only_one_is_not() {
        let mut body = Bytes::from_static(b"original");
        let kept = take_body(json!({"uri": "/", "body": {"action": "read-only", "encoding": "base64", "data": "eA=="}}), &mut body);
        assert_eq!((kept.get("body"), &body[..]), (None, &b"original"[..]));
        take_body(json!({"body": {"action": "replace", "encoding": "text", "data": "new"}}), &mut body);
        assert_eq!(&body[..], b"new");
        take_body(json!({"body": {"action": "replace", "encoding": "base64", "data": "aGk="}}), &mut body);
        assert_eq!(&body[..], b"hi");
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64("not base64!"), None);
    }

    #[test]
    fn headers_become_cloudfront_arrays_in_order() {
        let lines = vec![("host".to_string(), "a".to_string()), ("x-a".to_string(), "1".to_string()), ("x-a".to_string(), "2".to_string())];
        let headers = cloudfront_headers(&lines);
        assert_eq!(Value::Object(headers), json!({"host": [{"key": "Host", "value": "a"}], "x-a": [{"key": "X-A", "value": "1"}, {"key": "X-A", "value": "2"}]}));
    }

    #[test]
    fn origin_requests_carry_forwarded_for_and_via() {
        let mut request = json!({"headers": {"x-forwarded-for": [{"key": "X-Forwarded-For", "value": "10.0.0.1"}]}});
        prepare_for_origin(&mut request, "192.0.2.7".parse().expect("address"));
        assert_eq!(request["headers"]["x-forwarded-for"][0]["value"], "10.0.0.1, 192.0.2.7");
        assert_eq!(request["headers"]["via"][0]["value"], VIA);
    }

    #[test]
    fn replies_decode_bodies_and_drop_hop_by_hop_headers() {
        let response = json!({"status": "200", "headers": {"connection": [{"value": "close"}], "x-a": [{"value": "1"}]}, "body": "aGk=", "bodyEncoding": "base64"});
        let reply = reply(&response, Some(Bytes::from_static(b"origin")), "Miss from cloudfront");
        assert_eq!((reply.status, &reply.body[..]), (200, &b"hi"[..]));
        assert_eq!(reply.headers, vec![("x-a".to_string(), "1".to_string())]);
        let passthrough = super::reply(&json!({"status": 404, "headers": {}}), Some(Bytes::from_static(b"origin")), "Miss from cloudfront");
        assert_eq!((passthrough.status, &passthrough.body[..]), (404, &b"origin"[..]));
    }
}
