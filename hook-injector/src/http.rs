//! HTTP/1.x request heads: parsing them the way the programs do ([`RequestHead`]), the
//! requests the equivalence tests send, as bytes on the wire and as the CloudFront event the
//! original handler receives ([`Request`]), and the origin's responses response rules are
//! proven on ([`Response`]).

use std::net::IpAddr;

use serde_json::{json, Map, Value};

/// A request head as the programs see it: borrowed from the payload window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead<'a> {
    /// The method.
    pub method: &'a [u8],
    /// The target up to `?`.
    pub path: &'a [u8],
    /// The header lines, `(name, value)`, value as defined in [`crate::ir`].
    pub headers: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> RequestHead<'a> {
    /// Parses a complete head (request line, header lines, blank line) at the start of
    /// `window`; `None` when it is not one or does not end inside `window`.
    pub fn parse(window: &'a [u8]) -> Option<Self> {
        let end = window.windows(4).position(|w| w == b"\r\n\r\n")?;
        let mut lines = window[..end + 2].split(|&b| b == b'\n');
        let request_line = lines.next()?.strip_suffix(b"\r")?;
        let method_end = request_line.iter().position(|&b| b == b' ')?;
        let method = &request_line[..method_end];
        let rest = &request_line[method_end + 1..];
        if method.is_empty() || rest.first() != Some(&b'/') {
            return None;
        }
        let target_end = rest.iter().position(|&b| b == b' ')?;
        if !rest[target_end + 1..].starts_with(b"HTTP/1.") {
            return None;
        }
        let target = &rest[..target_end];
        let path = &target[..target.iter().position(|&b| b == b'?').unwrap_or(target.len())];
        let mut headers = Vec::new();
        for line in lines {
            let Some(line) = line.strip_suffix(b"\r") else { continue };
            let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
            let mut value = &line[colon + 1..];
            while let [b' ' | b'\t', rest @ ..] = value {
                value = rest;
            }
            headers.push((&line[..colon], value));
        }
        Some(RequestHead { method, path, headers })
    }

    /// The value of the first line of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|&(_, value)| value)
    }
}

/// A request as a viewer sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The viewer's address.
    pub client_ip: IpAddr,
    /// The method.
    pub method: String,
    /// The path.
    pub uri: String,
    /// The query string without `?` (empty: none).
    pub querystring: String,
    /// Header lines in order, names as sent (repeats allowed).
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// A plain browser `GET /` from a documentation address.
    pub fn browser() -> Self {
        Request {
            client_ip: IpAddr::from([192, 0, 2, 44]),
            method: "GET".into(),
            uri: "/".into(),
            querystring: String::new(),
            headers: vec![
                ("Host".into(), "d111111abcdef8.cloudfront.net".into()),
                (
                    "User-Agent".into(),
                    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into(),
                ),
                ("Accept".into(), "text/html,*/*;q=0.8".into()),
            ],
        }
    }

    /// The request head on the wire.
    pub fn to_head(&self) -> Vec<u8> {
        let mut head = format!("{} {}", self.method, self.uri);
        if !self.querystring.is_empty() {
            head.push('?');
            head.push_str(&self.querystring);
        }
        head.push_str(" HTTP/1.1\r\n");
        for (name, value) in &self.headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    /// The `request` object of the CloudFront event, headers as [`cloudfront_headers`] makes
    /// them.
    pub fn to_cloudfront(&self) -> Value {
        json!({
            "clientIp": self.client_ip.to_string(),
            "headers": cloudfront_headers(&self.headers),
            "method": self.method,
            "querystring": self.querystring,
            "uri": self.uri,
        })
    }
}

/// A response as the origin sends it, for response triggers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The status description (`OK`, `Not Found`).
    pub status_description: String,
    /// Header lines in order, names as sent (repeats allowed).
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// A plain `200 OK` JSON answer from an origin that says what it runs: `Content-Type:
    /// application/json`, `Server: nginx`, `X-Powered-By: Express`.
    pub fn origin() -> Self {
        Response {
            status: 200,
            status_description: "OK".into(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Server".into(), "nginx".into()),
                ("X-Powered-By".into(), "Express".into()),
            ],
        }
    }

    /// The status line and header lines, as text (for counterexamples).
    pub fn to_head(&self) -> String {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, self.status_description);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        head
    }

    /// The `response` object of the CloudFront event: the status as a string, as CloudFront
    /// sends it, and the headers as [`Request::to_cloudfront`] makes them.
    pub fn to_cloudfront(&self) -> Value {
        json!({
            "headers": cloudfront_headers(&self.headers),
            "status": self.status.to_string(),
            "statusDescription": self.status_description,
        })
    }
}

/// Header lines as a CloudFront `headers` object: names lower-cased into arrays in arrival
/// order with the name as sent in `key`, values trimmed of surrounding whitespace as
/// CloudFront trims them.
pub fn cloudfront_headers(lines: &[(String, String)]) -> Map<String, Value> {
    let mut headers = Map::new();
    for (name, value) in lines {
        let entry = headers.entry(name.to_ascii_lowercase()).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(json!({ "key": name, "value": value.trim_matches([' ', '\t']) }));
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_as_the_programs_see_them() {
        let head = b"GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nuser-agent:\t curl/8 \r\nUser-Agent: second\r\n\r\nbody";
        let parsed = RequestHead::parse(head).expect("a complete head");
        assert_eq!(parsed.method, b"GET");
        assert_eq!(parsed.path, b"/a/b");
        assert_eq!(parsed.header("user-agent"), Some(&b"curl/8 "[..]));
        assert_eq!(parsed.header("accept"), None);
        assert!(RequestHead::parse(b"GET / HTTP/1.1\r\nHost: h\r\n").is_none());
        assert!(RequestHead::parse(b"GET http://x/ HTTP/1.1\r\n\r\n").is_none());
    }

    #[test]
    fn requests_become_cloudfront_requests() {
        let mut request = Request::browser();
        request.headers.push(("cookie".into(), " a=1 ".into()));
        request.headers.push(("Cookie".into(), "b=2".into()));
        request.querystring = "q=1".into();
        let cf = request.to_cloudfront();
        assert_eq!(cf["headers"]["cookie"][0]["value"], "a=1");
        assert_eq!(cf["headers"]["cookie"][1]["key"], "Cookie");
        assert_eq!(cf["querystring"], "q=1");
        let head = String::from_utf8(request.to_head()).expect("ascii");
        assert!(head.starts_with("GET /?q=1 HTTP/1.1\r\nHost: "), "{head}");
    }
}
