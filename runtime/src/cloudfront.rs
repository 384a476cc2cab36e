//! What CloudFront does with a handler's outcome: the validation rules of
//! ../shared/CONTRACT.md ("Validation and failures", "Limits").
//!
//! A thrown error or rejection becomes 503 "function execution error", a timeout 503 "Lambda
//! limit exceeded", and a result that breaks a rule 502 "Lambda validation error" with the rule
//! it broke. A valid result is returned with the `key` of every header filled in, as CloudFront
//! does before using it.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::invocation::Outcome;

pub use edgeport_contract::EventType;

/// The event type of a Lambda@Edge event (`Records[0].cf.config.eventType`).
pub fn event_type_of(event: &Value) -> Option<EventType> {
    event.pointer("/Records/0/cf/config/eventType")?.as_str()?.parse().ok()
}

/// What CloudFront does next.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Decision {
    /// A request trigger returned the request: CloudFront goes on with it.
    Forward {
        /// The request, header keys filled in.
        request: Value,
    },
    /// A generated response, or the response of a response trigger, goes to the viewer.
    Respond {
        /// The response, header keys filled in.
        response: Value,
    },
    /// CloudFront answers with an error page itself.
    Fail {
        /// 502 or 503.
        status: u16,
        /// CloudFront's name for the failure.
        title: String,
        /// Why, for the user.
        reason: String,
    },
}

impl Decision {
    fn invalid(reason: impl Into<String>) -> Decision {
        Decision::Fail { status: 502, title: "Lambda validation error".into(), reason: reason.into() }
    }
}

/// Applies CloudFront's rules to what the handler did with `event`.
pub fn decide(event_type: EventType, event: &Value, outcome: &Outcome) -> Decision {
    match outcome {
        Outcome::Error { error_type, error_message, .. } => Decision::Fail {
            status: 503,
            title: "function execution error".into(),
            reason: format!("{error_type}: {error_message}"),
        },
        Outcome::Timeout { reason } => {
            Decision::Fail { status: 503, title: "Lambda limit exceeded".into(), reason: reason.clone() }
        }
        Outcome::Result { value } => match validate(event_type, event, value) {
            Ok(decision) => decision,
            Err(reason) => Decision::invalid(reason),
        },
    }
}

fn validate(event_type: EventType, event: &Value, value: &Value) -> Result<Decision, String> {
    let Value::Object(object) = value else {
        return Err(format!("the function returned {} instead of an object", kind_of(value)));
    };
    let cf = event.pointer("/Records/0/cf").unwrap_or(&Value::Null);
    if event_type.is_request() {
        if object.contains_key("status") {
            return generated_response(event_type, object).map(|response| Decision::Respond { response });
        }
        let original = cf.get("request").unwrap_or(&Value::Null);
        return request(event_type, original, object).map(|request| Decision::Forward { request });
    }
    let original = cf.get("response").unwrap_or(&Value::Null);
    response(event_type, original, object).map(|response| Decision::Respond { response })
}

fn request(event_type: EventType, original: &Value, object: &Map<String, Value>) -> Result<Value, String> {
    let mut request = object.clone();
    for field in ["clientIp", "method"] {
        if request.get(field) != original.get(field) {
            return Err(format!("the read-only field request.{field} was changed"));
        }
    }
    let uri = match request.get("uri") {
        Some(Value::String(uri)) if uri.starts_with('/') => uri.clone(),
        Some(Value::String(uri)) => return Err(format!("request.uri must start with '/', got {uri:?}")),
        _ => return Err("request.uri is missing or not a string".into()),
    };
    let querystring = match request.get("querystring") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(qs)) => qs.clone(),
        Some(other) => return Err(format!("request.querystring must be a string, got {}", kind_of(other))),
    };
    if uri.len() + querystring.len() >= 8192 {
        return Err("request.uri and request.querystring together exceed 8,192 characters".into());
    }
    let headers = checked_headers(event_type, request.get("headers"), original.get("headers"))?;
    request.insert("headers".into(), headers);
    Ok(Value::Object(request))
}

fn generated_response(event_type: EventType, object: &Map<String, Value>) -> Result<Value, String> {
    let mut response = object.clone();
    status_code(response.get("status"))?;
    let headers = checked_headers(event_type, response.get("headers"), None)?;
    let size = response.get("body").map_or(0, body_len) + headers_len(&headers);
    if size > event_type.max_generated_response() {
        return Err(format!(
            "the generated response is {size} bytes; {event_type} allows {} bytes of headers and body",
            event_type.max_generated_response()
        ));
    }
    check_body_encoding(&response)?;
    response.insert("headers".into(), headers);
    Ok(Value::Object(response))
}

fn response(event_type: EventType, original: &Value, object: &Map<String, Value>) -> Result<Value, String> {
    let mut response = object.clone();
    let status = status_code(response.get("status"))?;
    if event_type == EventType::ViewerResponse {
        let original_status = status_code(original.get("status")).ok();
        if original_status.is_some_and(|original| original != status) {
            return Err("viewer-response functions cannot change the status code".into());
        }
        if response.contains_key("body") {
            return Err("viewer-response functions cannot set a body".into());
        }
    }
    let headers = checked_headers(event_type, response.get("headers"), original.get("headers"))?;
    if let Some(body) = response.get("body") {
        let size = body_len(body) + headers_len(&headers);
        if size > event_type.max_generated_response() {
            return Err(format!("the response body and headers are {size} bytes, over the {event_type} limit"));
        }
        check_body_encoding(&response)?;
    }
    response.insert("headers".into(), headers);
    Ok(Value::Object(response))
}

fn status_code(status: Option<&Value>) -> Result<u16, String> {
    let code = match status {
        Some(Value::String(text)) => text.trim().parse::<u16>().ok(),
        Some(Value::Number(number)) => number.as_u64().and_then(|n| u16::try_from(n).ok()),
        _ => None,
    };
    match code {
        Some(code) if (100..=599).contains(&code) => Ok(code),
        _ => Err(format!(
            "status must be an HTTP status code between 100 and 599, got {}",
            status.map_or_else(|| "nothing".to_string(), Value::to_string)
        )),
    }
}

fn check_body_encoding(object: &Map<String, Value>) -> Result<(), String> {
    match object.get("bodyEncoding") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(encoding)) if encoding == "text" || encoding == "base64" => Ok(()),
        Some(other) => Err(format!("bodyEncoding must be \"text\" or \"base64\", got {other}")),
    }
}

fn body_len(body: &Value) -> usize {
    match body {
        Value::String(text) => text.len(),
        Value::Null => 0,
        other => other.to_string().len(),
    }
}

fn headers_len(headers: &Value) -> usize {
    headers.as_object().map_or(0, |headers| {
        headers
            .iter()
            .flat_map(|(name, values)| {
                values.as_array().into_iter().flatten().map(move |entry| {
                    name.len() + entry.get("value").and_then(Value::as_str).map_or(0, str::len) + 4
                })
            })
            .sum()
    })
}

/// Header names CloudFront refuses in a function's output (prefix entries end with `*`).
const DISALLOWED_HEADERS: &[&str] = &[
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "trailer",
    "upgrade",
    "x-accel-*",
    "x-amz-cf-*",
    "x-amzn-auth",
    "x-amzn-cf-*",
    "x-amzn-errortype",
    "x-amzn-fle-profile",
    "x-amzn-header-count",
    "x-amzn-header-order",
    "x-amzn-lambda-integration-tag",
    "x-amzn-requestid",
    "x-cache",
    "x-edge-*",
    "x-forwarded-proto",
    "x-real-ip",
];

fn is_disallowed(name: &str) -> bool {
    DISALLOWED_HEADERS.iter().any(|rule| match rule.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *rule,
    })
}

/// Checks a headers object and returns it with missing `key`s filled in.
fn checked_headers(event_type: EventType, headers: Option<&Value>, original: Option<&Value>) -> Result<Value, String> {
    let headers = match headers {
        None | Some(Value::Null) => return Ok(Value::Object(Map::new())),
        Some(Value::Object(headers)) => headers,
        Some(other) => return Err(format!("headers must be an object, got {}", kind_of(other))),
    };
    let original = original.and_then(Value::as_object);
    let mut checked = Map::new();
    for (name, values) in headers {
        if name != &name.to_ascii_lowercase() {
            return Err(format!("header name '{name}' must be lower case in the headers object"));
        }
        let Value::Array(values) = values else {
            return Err(format!("header '{name}' must be an array of {{key, value}} objects"));
        };
        let mut filled = Vec::with_capacity(values.len());
        for entry in values {
            let Value::Object(entry) = entry else {
                return Err(format!("header '{name}' has an entry that is not an object"));
            };
            if !entry.get("value").is_some_and(Value::is_string) {
                return Err(format!("header '{name}' has an entry without a string value"));
            }
            let mut entry = entry.clone();
            match entry.get("key") {
                None | Some(Value::Null) => {
                    entry.insert("key".into(), Value::String(title_case(name)));
                }
                Some(Value::String(key)) if key.eq_ignore_ascii_case(name) => {}
                Some(key) => return Err(format!("header '{name}' has an entry whose key {key} does not match its name")),
            }
            filled.push(Value::Object(entry));
        }
        let unchanged = original.and_then(|o| o.get(name)).is_some_and(|o| same_values(o, values));
        if is_disallowed(name) && !unchanged {
            return Err(format!("the function added the disallowed header '{name}'"));
        }
        checked.insert(name.clone(), Value::Array(filled));
    }
    if let Some(original) = original {
        for name in event_type.read_only_headers() {
            let before = original.get(*name);
            let after = headers.get(*name);
            let changed = match (before, after) {
                (None, None) => false,
                (Some(before), Some(Value::Array(after))) => !same_values(before, after),
                _ => true,
            };
            if changed {
                return Err(format!("the function changed the read-only header '{name}' on {event_type}"));
            }
        }
    }
    Ok(Value::Object(checked))
}

/// Header values compared by `value` only: CloudFront ignores the `key` spelling.
fn same_values(before: &Value, after: &[Value]) -> bool {
    let values = |list: &[Value]| list.iter().map(|e| e.get("value").cloned()).collect::<Vec<_>>();
    before.as_array().is_some_and(|before| values(before) == values(after))
}

/// `x-frame-options` -> `X-Frame-Options`, the spelling CloudFront fills in.
pub fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(event_type: &str) -> Value {
        json!({"Records": [{"cf": {
            "config": {"eventType": event_type},
            "request": {"clientIp": "203.0.113.1", "method": "GET", "uri": "/", "querystring": "",
                        "headers": {"host": [{"key": "Host", "value": "example.com"}]}},
            "response": {"status": "200", "statusDescription": "OK", "headers": {}}
        }}]})
    }

    fn reason(decision: Decision) -> String {
        match decision {
            Decision::Fail { status: 502, reason, .. } => reason,
            other => panic!("expected a 502, got {other:?}"),
        }
    }

    fn result(value: Value) -> Outcome {
        Outcome::Result { value }
    }

    #[test]
    fn errors_and_timeouts_are_503() {
        let error = Outcome::Error { error_type: "Error".into(), error_message: "boom".into(), trace: vec![] };
        let decision = decide(EventType::ViewerRequest, &event("viewer-request"), &error);
        assert!(matches!(decision, Decision::Fail { status: 503, ref reason, .. } if reason == "Error: boom"));
        let timeout = Outcome::Timeout { reason: "never settled".into() };
        assert!(matches!(decide(EventType::OriginRequest, &event("origin-request"), &timeout), Decision::Fail { status: 503, .. }));
    }

    #[test]
    fn generated_response_gets_header_keys() {
        let value = json!({"status": 302, "headers": {"location": [{"value": "/new"}]}});
        let decision = decide(EventType::ViewerRequest, &event("viewer-request"), &result(value));
        let Decision::Respond { response } = decision else { panic!("expected a response") };
        assert_eq!(response["headers"]["location"][0]["key"], "Location");
    }

    #[test]
    fn rules_are_enforced() {
        let ev = event("viewer-request");
        let request = |headers: Value| json!({"clientIp": "203.0.113.1", "method": "GET", "uri": "/", "querystring": "", "headers": headers});
        assert!(reason(decide(EventType::ViewerRequest, &ev, &result(json!(null)))).contains("null"));
        assert!(reason(decide(EventType::ViewerRequest, &ev, &result(json!({"status": "abc"})))).contains("status"));
        let host_changed = request(json!({"host": [{"key": "Host", "value": "evil.com"}]}));
        assert!(reason(decide(EventType::ViewerRequest, &ev, &result(host_changed))).contains("read-only header 'host'"));
        let disallowed = request(json!({"host": [{"value": "example.com"}], "connection": [{"value": "close"}]}));
        assert!(reason(decide(EventType::ViewerRequest, &ev, &result(disallowed))).contains("disallowed header 'connection'"));
        let upper = request(json!({"Host": [{"value": "example.com"}]}));
        assert!(reason(decide(EventType::ViewerRequest, &ev, &result(upper))).contains("lower case"));
        let big = json!({"status": "200", "body": "x".repeat(41 * 1024)});
        assert!(reason(decide(EventType::ViewerRequest, &ev, &result(big))).contains("allows"));
        let vr = event("viewer-response");
        assert!(reason(decide(EventType::ViewerResponse, &vr, &result(json!({"status": "404"})))).contains("status"));
    }

    #[test]
    fn unchanged_request_is_forwarded() {
        let ev = event("origin-request");
        let request = ev.pointer("/Records/0/cf/request").cloned().expect("request");
        assert!(matches!(decide(EventType::OriginRequest, &ev, &result(request)), Decision::Forward { .. }));
    }

    #[test]
    fn title_case_matches_cloudfront() {
        assert_eq!(title_case("strict-transport-security"), "Strict-Transport-Security");
        assert_eq!(title_case("x-xss-protection"), "X-Xss-Protection");
    }
}
