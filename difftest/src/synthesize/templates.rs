//! The base event of each trigger, as CloudFront sends it (CONTRACT.md, "Event shape"), and
//! the edits synthesis makes to one: a request field, a request or response header, the
//! request body, the response status.
//!
//! Invariant: a base event holds only headers CloudFront sends on that trigger; the
//! CloudFront-Viewer-Country and CloudFront-Is-*-Viewer headers appear in origin events and
//! viewer-response only.

use edgeport_contract::EventType;
use edgeport_runtime::cloudfront::title_case;
use serde_json::{json, Map, Value};

/// The distribution every synthesized event comes through.
pub(super) const DISTRIBUTION_DOMAIN: &str = "d111111abcdef8.cloudfront.net";

/// The viewer's address in base events.
pub(super) const CLIENT_IP: &str = "203.0.113.178";

/// A current desktop browser.
pub(super) const BROWSER_USER_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// The S3 bucket behind the distribution.
const S3_DOMAIN: &str = "example-site.s3.amazonaws.com";

/// The custom origin of the second origin template.
const CUSTOM_DOMAIN: &str = "origin.example.com";

/// Which kind of origin an origin event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OriginKind {
    /// `request.origin.s3`.
    S3,
    /// `request.origin.custom`.
    Custom,
}

/// The base event of a trigger, as CloudFront sends it: a `GET /` from a desktop browser,
/// with an S3 origin on origin events and a `200 OK` on response events.
pub fn base_event(event_type: EventType) -> Value {
    event_with_origin(event_type, OriginKind::S3)
}

/// The base event of a trigger with the given kind of origin (ignored by viewer events).
pub(super) fn event_with_origin(event_type: EventType, origin: OriginKind) -> Value {
    let is_origin_event = matches!(
        event_type,
        EventType::OriginRequest | EventType::OriginResponse
    );
    let origin_domain = match origin {
        OriginKind::S3 => S3_DOMAIN,
        OriginKind::Custom => CUSTOM_DOMAIN,
    };
    let viewer_headers = [
        ("host", DISTRIBUTION_DOMAIN),
        ("user-agent", BROWSER_USER_AGENT),
        (
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
    ];
    let forwarded_headers = [
        ("x-forwarded-for", CLIENT_IP),
        ("user-agent", "Amazon CloudFront"),
        (
            "via",
            "2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)",
        ),
        ("host", origin_domain),
        ("accept-encoding", "br,gzip"),
    ];
    let device_headers = [
        ("cloudfront-is-desktop-viewer", "true"),
        ("cloudfront-is-mobile-viewer", "false"),
        ("cloudfront-is-smarttv-viewer", "false"),
        ("cloudfront-is-tablet-viewer", "false"),
        ("cloudfront-viewer-country", "US"),
    ];
    let request_headers: Vec<(&str, &str)> = match event_type {
        EventType::ViewerRequest => viewer_headers.to_vec(),
        EventType::ViewerResponse => [&viewer_headers[..], &device_headers[..]].concat(),
        EventType::OriginRequest | EventType::OriginResponse => {
            [&forwarded_headers[..], &device_headers[..]].concat()
        }
    };

    let mut request = Map::new();
    request.insert("clientIp".to_owned(), json!(CLIENT_IP));
    request.insert("headers".to_owned(), headers(&request_headers));
    request.insert("method".to_owned(), json!("GET"));
    if is_origin_event {
        request.insert("origin".to_owned(), origin_object(origin));
    }
    request.insert("querystring".to_owned(), json!(""));
    request.insert("uri".to_owned(), json!("/"));

    let mut cf = Map::new();
    cf.insert(
        "config".to_owned(),
        json!({
            "distributionDomainName": DISTRIBUTION_DOMAIN,
            "distributionId": "EDFDVBD6EXAMPLE",
            "eventType": event_type.as_str(),
            "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
        }),
    );
    cf.insert("request".to_owned(), Value::Object(request));
    if !event_type.is_request() {
        let server = match origin {
            OriginKind::S3 => "AmazonS3",
            OriginKind::Custom => "nginx",
        };
        cf.insert(
            "response".to_owned(),
            json!({
                "headers": headers(&[
                    ("date", "Thu, 01 Jan 2026 00:00:00 GMT"),
                    ("server", server),
                    ("last-modified", "Tue, 09 Dec 2025 10:11:12 GMT"),
                    ("etag", "\"5d41402abc4b2a76b9719d911017c592\""),
                    ("content-type", "text/html; charset=utf-8"),
                    ("content-length", "5120"),
                ]),
                "status": "200",
                "statusDescription": "OK",
            }),
        );
    }
    json!({ "Records": [{ "cf": Value::Object(cf) }] })
}

fn origin_object(origin: OriginKind) -> Value {
    match origin {
        OriginKind::S3 => json!({
            "s3": {
                "authMethod": "origin-access-identity",
                "customHeaders": {},
                "domainName": S3_DOMAIN,
                "path": "",
                "region": "us-east-1",
            }
        }),
        OriginKind::Custom => json!({
            "custom": {
                "customHeaders": {},
                "domainName": CUSTOM_DOMAIN,
                "keepaliveTimeout": 5,
                "path": "",
                "port": 443,
                "protocol": "https",
                "readTimeout": 30,
                "sslProtocols": ["TLSv1.2"],
            }
        }),
    }
}

/// CloudFront's header object: lower-case names, each an array of `{key, value}`.
fn headers(entries: &[(&str, &str)]) -> Value {
    let map = entries
        .iter()
        .map(|&(name, value)| (name.to_owned(), header_entries(name, &[value])))
        .collect();
    Value::Object(map)
}

/// A header's entries, one per value, each with the header's usual spelling as key.
fn header_entries(name: &str, values: &[&str]) -> Value {
    let key = header_key(name);
    values
        .iter()
        .map(|value| json!({ "key": key, "value": value }))
        .collect()
}

/// The original-case spelling of a header name, as browsers and CloudFront send it.
pub(super) fn header_key(name: &str) -> String {
    const IRREGULAR: &[(&str, &str)] = &[
        (
            "cloudfront-is-smarttv-viewer",
            "CloudFront-Is-SmartTV-Viewer",
        ),
        ("dnt", "DNT"),
        ("etag", "ETag"),
        ("te", "TE"),
        ("www-authenticate", "WWW-Authenticate"),
        ("x-xss-protection", "X-XSS-Protection"),
    ];
    if let Some(&(_, key)) = IRREGULAR.iter().find(|&&(irregular, _)| irregular == name) {
        return key.to_owned();
    }
    let key = title_case(name);
    match key.strip_prefix("Cloudfront-") {
        Some(rest) => format!("CloudFront-{rest}"),
        None => key,
    }
}

/// `Records[0].cf.request`, which every event has.
fn request_mut(event: &mut Value) -> &mut Map<String, Value> {
    event
        .pointer_mut("/Records/0/cf/request")
        .and_then(Value::as_object_mut)
        .expect("templates always have a request")
}

/// Sets a string field of the request (`uri`, `querystring`, `clientIp`, `method`).
pub(super) fn set_request_field(event: &mut Value, name: &str, value: &str) {
    request_mut(event).insert(name.to_owned(), json!(value));
}

/// The value of a request header, if the event has it.
pub(super) fn request_header<'e>(event: &'e Value, name: &str) -> Option<&'e str> {
    event
        .pointer("/Records/0/cf/request/headers")?
        .get(name)?
        .get(0)?
        .get("value")?
        .as_str()
}

/// Sets a request header to one value, or removes it when `value` is `None`.
pub(super) fn set_request_header(event: &mut Value, name: &str, value: Option<&str>) {
    set_request_header_entries(event, name, value.as_slice());
}

/// Sets a request header to one entry per value (a browser behind some proxies sends
/// `Cookie` twice), or removes it when there are none.
pub(super) fn set_request_header_entries(event: &mut Value, name: &str, values: &[&str]) {
    let headers = request_mut(event)
        .entry("headers")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("templates always have a header object");
    set_entries(headers, name, values);
}

/// Sets a response header to one value, or removes it when `value` is `None`; `false` on
/// request events.
pub(super) fn set_response_header(event: &mut Value, name: &str, value: Option<&str>) -> bool {
    let Some(headers) = event
        .pointer_mut("/Records/0/cf/response/headers")
        .and_then(Value::as_object_mut)
    else {
        return false;
    };
    set_entries(headers, name, value.as_slice());
    true
}

fn set_entries(headers: &mut Map<String, Value>, name: &str, values: &[&str]) {
    if values.is_empty() {
        headers.shift_remove(name);
        return;
    }
    headers.insert(name.to_owned(), header_entries(name, values));
}

/// Gives the request a body as CloudFront exposes it when the cache behaviour includes it:
/// base64-encoded, read-only, not truncated.
pub(super) fn set_request_body(event: &mut Value, base64_data: &str) {
    request_mut(event).insert(
        "body".to_owned(),
        json!({
            "action": "read-only",
            "data": base64_data,
            "encoding": "base64",
            "inputTruncated": false,
        }),
    );
}

/// Sets the response status (and its usual description); `false` on request events.
pub(super) fn set_status(event: &mut Value, status: &str) -> bool {
    let Some(response) = event
        .pointer_mut("/Records/0/cf/response")
        .and_then(Value::as_object_mut)
    else {
        return false;
    };
    response.insert("status".to_owned(), json!(status));
    response.insert(
        "statusDescription".to_owned(),
        json!(status_description(status)),
    );
    true
}

/// Sets `config.requestId`.
pub(super) fn set_request_id(event: &mut Value, request_id: &str) {
    if let Some(config) = event
        .pointer_mut("/Records/0/cf/config")
        .and_then(Value::as_object_mut)
    {
        config.insert("requestId".to_owned(), json!(request_id));
    }
}

/// The reason phrase origins send with a status code.
fn status_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "No Content",
        "206" => "Partial Content",
        "301" => "Moved Permanently",
        "302" => "Found",
        "303" => "See Other",
        "304" => "Not Modified",
        "307" => "Temporary Redirect",
        "308" => "Permanent Redirect",
        "400" => "Bad Request",
        "401" => "Unauthorized",
        "403" => "Forbidden",
        "404" => "Not Found",
        "405" => "Method Not Allowed",
        "410" => "Gone",
        "429" => "Too Many Requests",
        "500" => "Internal Server Error",
        "502" => "Bad Gateway",
        "503" => "Service Unavailable",
        "504" => "Gateway Timeout",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_events_follow_the_contract() {
        for event_type in EventType::ALL {
            let event = base_event(event_type);
            let cf = &event["Records"][0]["cf"];
            assert_eq!(cf["config"]["eventType"], event_type.as_str());
            assert_eq!(cf["request"]["uri"], "/");
            assert_eq!(cf["request"]["querystring"], "");
            assert_eq!(cf["request"]["method"], "GET");
            let is_origin_event = matches!(
                event_type,
                EventType::OriginRequest | EventType::OriginResponse
            );
            assert_eq!(cf["request"]["origin"]["s3"].is_object(), is_origin_event);
            assert_eq!(cf["response"].is_object(), !event_type.is_request());
            if !event_type.is_request() {
                assert_eq!(cf["response"]["status"], "200");
                assert_eq!(cf["response"]["statusDescription"], "OK");
            }
            let has_country = request_header(&event, "cloudfront-viewer-country").is_some();
            assert_eq!(
                has_country,
                event_type != EventType::ViewerRequest,
                "{event_type}"
            );
            let headers = cf["request"]["headers"].as_object().expect("headers");
            for (name, entries) in headers {
                assert_eq!(name, &name.to_ascii_lowercase());
                let key = entries[0]["key"].as_str().expect("key");
                assert_eq!(key.to_ascii_lowercase(), *name);
            }
        }
        let custom = event_with_origin(EventType::OriginRequest, OriginKind::Custom);
        assert_eq!(
            custom["Records"][0]["cf"]["request"]["origin"]["custom"]["protocol"],
            "https"
        );
        assert_eq!(request_header(&custom, "host"), Some(CUSTOM_DOMAIN));
    }

    #[test]
    fn header_keys_use_the_spelling_cloudfront_sends() {
        assert_eq!(header_key("user-agent"), "User-Agent");
        assert_eq!(
            header_key("cloudfront-viewer-country"),
            "CloudFront-Viewer-Country"
        );
        assert_eq!(
            header_key("cloudfront-is-smarttv-viewer"),
            "CloudFront-Is-SmartTV-Viewer"
        );
        assert_eq!(header_key("x-api-key"), "X-Api-Key");
        assert_eq!(header_key("etag"), "ETag");
    }

    #[test]
    fn edits_change_only_what_they_name() {
        let mut event = base_event(EventType::ViewerRequest);
        set_request_header(&mut event, "user-agent", None);
        assert_eq!(request_header(&event, "user-agent"), None);
        assert!(request_header(&event, "host").is_some());
        set_request_header(&mut event, "x-api-key", Some("k"));
        assert_eq!(
            event["Records"][0]["cf"]["request"]["headers"]["x-api-key"],
            json!([{ "key": "X-Api-Key", "value": "k" }])
        );
        assert!(
            !set_status(&mut event, "404"),
            "request events have no status"
        );
        assert!(!set_response_header(&mut event, "server", None));
        set_request_header_entries(&mut event, "cookie", &["a=1", "b=2"]);
        assert_eq!(
            event["Records"][0]["cf"]["request"]["headers"]["cookie"],
            json!([{ "key": "Cookie", "value": "a=1" }, { "key": "Cookie", "value": "b=2" }])
        );
        let mut response = base_event(EventType::OriginResponse);
        assert!(set_status(&mut response, "404"));
        assert_eq!(
            response["Records"][0]["cf"]["response"]["statusDescription"],
            "Not Found"
        );
        assert!(set_response_header(&mut response, "server", None));
        assert!(set_response_header(
            &mut response,
            "x-powered-by",
            Some("Express")
        ));
        let headers = &response["Records"][0]["cf"]["response"]["headers"];
        assert!(headers.get("server").is_none());
        assert_eq!(
            headers["x-powered-by"],
            json!([{ "key": "X-Powered-By", "value": "Express" }])
        );
    }
}
