//! The requests the proof sends to the original handler and to every evaluator: for each rule,
//! at least [`REQUESTS_PER_RULE`] of them around its literals.
//!
//! A rule's requests start from its hit ([`hit_request`]: `Request::browser()` changed just
//! enough for every predicate to hold) and vary it in two ways. *Variants* change the rule's
//! own fields: near misses (one byte off, a prefix of the literal, the literal with a character
//! more, another case), the header's name in other cases, its value behind spaces and tabs,
//! the header repeated with the hit in the first line and in the second, the header missing,
//! CIDR boundary addresses one below and one above, IPv6 and IPv4-mapped addresses. *Contexts*
//! change everything else: methods, query strings, paths, client addresses, the head pushed
//! past the window and kept just inside it, other rules' hits (so that ordering mistakes show)
//! and the values the handler compares with elsewhere ([`Edit`] samples from recognition,
//! also glued to the rule's own header value on either side).
//!
//! Response rules get exchanges instead — a request and the origin's response to it
//! ([`exchanges_for_response_rule`]) — around their statuses, content types and headers.
//!
//! Invariant: the same rules and samples give the same requests in the same order; all variety
//! comes from a fixed seed per rule.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::http::{Request, Response};
use crate::ir::{Network, Predicate, ResponsePredicate, ResponseRuleSet, RuleSet, TextMatch, HEAD_WINDOW};

/// The fewest requests made for one rule.
pub const REQUESTS_PER_RULE: usize = 200;

/// How many random variant-and-context combinations are tried before giving up on reaching
/// [`REQUESTS_PER_RULE`] distinct requests (only rules with almost nothing to vary get there).
const MAX_ATTEMPTS: usize = 20 * REQUESTS_PER_RULE;

/// One change to a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Edit {
    /// The viewer's address.
    ClientIp(IpAddr),
    /// The method.
    Method(String),
    /// The path (the URI without query string).
    Uri(String),
    /// The query string, without `?`.
    Query(String),
    /// Every line of the header (its name compared case-insensitively) replaced by one line
    /// spelled `name`, where the first of them was (at the end when there was none).
    Header {
        /// The name as sent.
        name: String,
        /// The value.
        value: String,
    },
    /// One more line of a header, at the end.
    AddHeader {
        /// The name as sent.
        name: String,
        /// The value.
        value: String,
    },
    /// Every line of the header gone (the name is compared case-insensitively).
    RemoveHeader(String),
    /// An `X-Padding` line after the first header line that makes the head this many bytes
    /// long (nothing when it is already that long).
    PadHead(usize),
}

impl Edit {
    /// Makes the change.
    pub fn apply(&self, request: &mut Request) {
        match self {
            Edit::ClientIp(address) => request.client_ip = *address,
            Edit::Method(method) => request.method.clone_from(method),
            Edit::Uri(uri) => request.uri.clone_from(uri),
            Edit::Query(query) => request.querystring.clone_from(query),
            Edit::Header { name, value } => {
                let first = request.headers.iter().position(|(n, _)| n.eq_ignore_ascii_case(name));
                request.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                let at = first.unwrap_or(request.headers.len());
                request.headers.insert(at, (name.clone(), value.clone()));
            }
            Edit::AddHeader { name, value } => request.headers.push((name.clone(), value.clone())),
            Edit::RemoveHeader(name) => request.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
            Edit::PadHead(length) => {
                const LINE: usize = "X-Padding: \r\n".len();
                let current = request.to_head().len();
                if current + LINE <= *length {
                    let at = request.headers.len().min(1);
                    let value = "p".repeat(length - current - LINE);
                    request.headers.insert(at, ("X-Padding".into(), value));
                }
            }
        }
    }

    /// The lower-case header name this edit sets, if it sets a header's value.
    fn header_name(&self) -> Option<String> {
        match self {
            Edit::Header { name, .. } | Edit::AddHeader { name, .. } => Some(name.to_ascii_lowercase()),
            _ => None,
        }
    }
}

/// The edits that make `predicate` hold on `Request::browser()`.
pub fn hit_edits(predicate: &Predicate) -> Vec<Edit> {
    match predicate {
        Predicate::ClientIp { networks } => networks
            .first()
            .map(|network| vec![Edit::ClientIp(network.address)])
            .unwrap_or_default(),
        Predicate::Method { value } => vec![Edit::Method(value.clone())],
        Predicate::Path { value, .. } => vec![Edit::Uri(as_path(value))],
        Predicate::Header { name, value, .. } => {
            vec![Edit::Header { name: header_key(name), value: value.clone() }]
        }
        Predicate::HeaderAbsent { name } => vec![Edit::RemoveHeader(name.clone())],
    }
}

/// `Request::browser()` with every predicate's hit edits made.
pub fn hit_request(predicates: &[Predicate]) -> Request {
    let mut request = Request::browser();
    for edit in predicates.iter().flat_map(hit_edits) {
        edit.apply(&mut request);
    }
    request
}

/// The requests for rule `index` of `rules` (at least [`REQUESTS_PER_RULE`] unless it has
/// almost nothing to vary), with `samples` — values the handler compares with, as edits —
/// mixed in. An index past the end gives none.
pub fn requests_for_rule(rules: &RuleSet, index: usize, samples: &[Edit]) -> Vec<Request> {
    let Some(rule) = rules.rules.get(index) else {
        return Vec::new();
    };
    let hit = hit_request(&rule.predicates);
    let variants: Vec<Vec<Edit>> = rule.predicates.iter().flat_map(variants).collect();
    let contexts = contexts(rules, index, samples);

    let mut made = Requests::default();
    made.push(hit.clone());
    for edits in variants.iter().chain(&contexts) {
        made.push(edited(&hit, [edits]));
    }
    let mut random = XorShift::new(seed(&rule.name, index));
    let mut attempts = 0;
    while made.requests.len() < REQUESTS_PER_RULE && attempts < MAX_ATTEMPTS && !contexts.is_empty() {
        attempts += 1;
        let first = &contexts[random.below(contexts.len())];
        let second = &contexts[random.below(contexts.len())];
        let request = match random.below(variants.len() + 1) {
            0 => edited(&hit, [first, second]),
            v => edited(&hit, [&variants[v - 1], first, second]),
        };
        made.push(request);
    }
    made.requests
}

/// Distinct requests in the order first made.
#[derive(Default)]
struct Requests {
    seen: HashSet<(Vec<u8>, IpAddr)>,
    requests: Vec<Request>,
}

impl Requests {
    fn push(&mut self, request: Request) {
        if self.seen.insert((request.to_head(), request.client_ip)) {
            self.requests.push(request);
        }
    }
}

/// `base` with the edit lists applied in order.
fn edited<'a>(base: &Request, edits: impl IntoIterator<Item = &'a Vec<Edit>>) -> Request {
    let mut request = base.clone();
    for edit in edits.into_iter().flatten() {
        edit.apply(&mut request);
    }
    request
}

/// Changes of the predicate's own field, each replacing its hit.
fn variants(predicate: &Predicate) -> Vec<Vec<Edit>> {
    match predicate {
        Predicate::ClientIp { networks } => {
            let mut addresses: Vec<IpAddr> = Vec::new();
            for network in networks.iter().take(16) {
                addresses.extend(boundary_addresses(network));
            }
            addresses.extend([
                IpAddr::from([192, 0, 2, 44]),
                IpAddr::from([0, 0, 0, 0]),
                IpAddr::from([255, 255, 255, 255]),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x42)),
            ]);
            addresses.into_iter().map(|address| vec![Edit::ClientIp(address)]).collect()
        }
        Predicate::Method { value } => {
            let mut methods: Vec<String> =
                ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"].map(String::from).to_vec();
            methods.extend(text_variants(value).into_iter().filter(|m| !m.is_empty() && !m.contains(' ')));
            methods.into_iter().map(|method| vec![Edit::Method(method)]).collect()
        }
        Predicate::Path { value, .. } => {
            let mut paths = text_variants(value);
            paths.extend([format!("{value}/index.html"), format!("{value}/"), "/".into()]);
            paths
                .into_iter()
                .filter(|path| !path.contains([' ', '?', '\r', '\n']))
                .map(|path| vec![Edit::Uri(as_path(&path))])
                .collect()
        }
        Predicate::Header { name, value, op, .. } => {
            let key = header_key(name);
            let set = |name: &str, value: &str| Edit::Header { name: name.into(), value: value.into() };
            let mut edits: Vec<Vec<Edit>> = text_variants(value)
                .into_iter()
                .chain([format!("\t{value}"), format!("   {value}"), format!("{value} "), format!("{value}\t")])
                .filter(|v| !v.contains(['\r', '\n']))
                .map(|v| vec![set(&key, &v)])
                .collect();
            if *op != TextMatch::Equals {
                edits.push(vec![set(&key, &format!("Mozilla/5.0 {value} (compatible)"))]);
            }
            for spelling in [name.clone(), name.to_ascii_uppercase(), swap_case(&key)] {
                edits.push(vec![set(&spelling, value)]);
            }
            let other = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)";
            edits.push(vec![set(&key, value), Edit::AddHeader { name: key.clone(), value: other.into() }]);
            edits.push(vec![set(&key, other), Edit::AddHeader { name: key.clone(), value: value.clone() }]);
            edits.push(vec![set(&key, value), Edit::AddHeader { name: key.clone(), value: value.clone() }]);
            edits.push(vec![Edit::RemoveHeader(name.clone())]);
            edits.push(vec![set(&key, "")]);
            edits
        }
        Predicate::HeaderAbsent { name } => {
            let key = header_key(name);
            ["", " ", "\t", "x", "-", "curl/8.5.0"]
                .into_iter()
                .map(|value| vec![Edit::Header { name: key.clone(), value: value.into() }])
                .chain([vec![Edit::Header { name: name.to_ascii_uppercase(), value: String::new() }]])
                .collect()
        }
    }
}

/// Strings near `value`: itself, one character off at a few places, prefixes, a character
/// more on either side, other cases.
fn text_variants(value: &str) -> Vec<String> {
    let chars: Vec<char> = value.chars().collect();
    let mut out = vec![value.to_string()];
    let mut positions: Vec<usize> = (0..chars.len().min(3)).collect();
    positions.extend([chars.len() / 2, chars.len().saturating_sub(2), chars.len().saturating_sub(1)]);
    positions.sort_unstable();
    positions.dedup();
    for &at in positions.iter().filter(|&&at| at < chars.len()) {
        let mut changed = chars.clone();
        changed[at] = next_char(chars[at]);
        out.push(changed.into_iter().collect());
    }
    for length in [chars.len().saturating_sub(1), chars.len() / 2] {
        out.push(chars[..length].iter().collect());
    }
    out.extend([
        format!("{value}x"),
        format!("x{value}"),
        format!("{value}/"),
        value.to_ascii_uppercase(),
        value.to_ascii_lowercase(),
        swap_case(value),
    ]);
    out
}

/// The character after `c` among printable ASCII (wrapping), or `x` for anything else.
fn next_char(c: char) -> char {
    match c {
        '~' => '!',
        ' '..='}' => char::from(c as u8 + 1),
        _ => 'x',
    }
}

/// ASCII letters with their case swapped.
pub(crate) fn swap_case(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() })
        .collect()
}

/// An address, the network's first and last, one below and one above, and its IPv6 forms.
fn boundary_addresses(network: &Network) -> Vec<IpAddr> {
    match network.address {
        IpAddr::V4(address) => {
            let bits = u32::from(network.prefix.min(32));
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            let first = u32::from(address) & mask;
            let last = first | !mask;
            let mut out: Vec<IpAddr> = [
                u32::from(address),
                first,
                last,
                first.wrapping_sub(1),
                last.wrapping_add(1),
                first + (last - first) / 2,
            ]
            .into_iter()
            .map(|a| IpAddr::V4(Ipv4Addr::from(a)))
            .collect();
            out.push(IpAddr::V6(address.to_ipv6_mapped()));
            out
        }
        IpAddr::V6(address) => {
            let bits = u32::from(network.prefix.min(128));
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            let first = u128::from(address) & mask;
            let last = first | !mask;
            [u128::from(address), first, last, first.wrapping_sub(1), last.wrapping_add(1)]
                .into_iter()
                .map(|a| IpAddr::V6(Ipv6Addr::from(a)))
                .collect()
        }
    }
}

/// Changes of everything but the rule's own fields, then other rules' hits and the samples.
fn contexts(rules: &RuleSet, index: usize, samples: &[Edit]) -> Vec<Vec<Edit>> {
    let Some(rule) = rules.rules.get(index) else {
        return Vec::new();
    };
    let has = |test: fn(&Predicate) -> bool| rule.predicates.iter().any(test);
    let own_headers: Vec<(String, String)> = rule
        .predicates
        .iter()
        .filter_map(|p| match p {
            Predicate::Header { name, value, .. } => Some((name.clone(), value.clone())),
            Predicate::HeaderAbsent { name } => Some((name.clone(), String::new())),
            _ => None,
        })
        .collect();
    let mut out: Vec<Vec<Edit>> = Vec::new();
    for query in ["utm_source=edgeport", "a=1&b=2", "x", "q=%2Fabout-us"] {
        out.push(vec![Edit::Query(query.into())]);
    }
    if !has(|p| matches!(p, Predicate::Method { .. })) {
        out.extend(["POST", "HEAD", "OPTIONS"].map(|m| vec![Edit::Method(m.into())]));
    }
    if !has(|p| matches!(p, Predicate::Path { .. })) {
        for path in ["/", "/index.html", "/products/item-1", "/static/app.js", "/a/b/"] {
            out.push(vec![Edit::Uri(path.into())]);
        }
    }
    if !has(|p| matches!(p, Predicate::ClientIp { .. })) {
        for address in [
            IpAddr::from([203, 0, 113, 178]),
            IpAddr::from([198, 51, 100, 20]),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x1234, 0, 0, 0, 0, 0x42)),
        ] {
            out.push(vec![Edit::ClientIp(address)]);
        }
    }
    out.push(vec![Edit::AddHeader { name: "Cookie".into(), value: "session=0123456789abcdef".into() }]);
    out.push(vec![Edit::AddHeader { name: "X-Forwarded-For".into(), value: "198.51.100.7".into() }]);
    out.push(vec![Edit::RemoveHeader("accept".into())]);
    for length in [HEAD_WINDOW - 100, HEAD_WINDOW - 1, HEAD_WINDOW, HEAD_WINDOW + 1, HEAD_WINDOW + 300] {
        out.push(vec![Edit::PadHead(length)]);
    }
    for (other_index, other) in rules.rules.iter().enumerate() {
        if other_index != index {
            out.push(other.predicates.iter().flat_map(hit_edits).collect());
        }
    }
    for sample in samples {
        out.push(vec![sample.clone()]);
        let (Some(name), Edit::Header { value, .. } | Edit::AddHeader { value, .. }) = (sample.header_name(), sample)
        else {
            continue;
        };
        for (own, literal) in own_headers.iter().filter(|(own, _)| *own == name) {
            let key = header_key(own);
            out.push(vec![Edit::Header { name: key.clone(), value: format!("{literal} {value}") }]);
            out.push(vec![Edit::Header { name: key, value: format!("{value} {literal}") }]);
        }
    }
    out
}

/// A literal as a path: itself when it starts with `/`, otherwise after one.
fn as_path(value: &str) -> String {
    if value.starts_with('/') {
        value.to_string()
    } else {
        format!("/{value}")
    }
}

/// The usual spelling of a lower-case header name (`user-agent` -> `User-Agent`).
pub fn header_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        key.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    key
}

/// A seed that depends on the rule only (FNV-1a of its name and position).
fn seed(name: &str, index: usize) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes().chain(index.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash | 1
}

/// Marsaglia's xorshift64: enough variety for picking combinations, and no dependency.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    /// A number in `0..bound` (`0` when `bound` is `0`).
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if bound == 0 {
            0
        } else {
            (self.0 % bound as u64) as usize
        }
    }
}


/// The value a probe gives a response header it adds.
pub const PROBE_VALUE: &str = "edgeport-probe";

/// The origin's plain response changed just enough for every predicate to hold.
pub fn hit_response(predicates: &[ResponsePredicate]) -> Response {
    let mut response = Response::origin();
    for predicate in predicates {
        make_hold(&mut response, predicate);
    }
    response
}

/// Changes `response` so that `predicate` holds.
fn make_hold(response: &mut Response, predicate: &ResponsePredicate) {
    match predicate {
        ResponsePredicate::Status { value } => {
            response.status = *value;
            response.status_description = status_description(*value).into();
        }
        ResponsePredicate::Header { name, value, .. } => set_header(response, &header_key(name), value),
        ResponsePredicate::HeaderAbsent { name } => response.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
        ResponsePredicate::HeaderPresent { name } => {
            if !response.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                response.headers.push((header_key(name), PROBE_VALUE.into()));
            }
        }
    }
}

/// Replaces every line of header `key` (compared case-insensitively) by one, where the first
/// was (at the end when there was none).
fn set_header(response: &mut Response, key: &str, value: &str) {
    let first = response.headers.iter().position(|(n, _)| n.eq_ignore_ascii_case(key));
    response.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(key));
    let at = first.unwrap_or(response.headers.len());
    response.headers.insert(at, (key.into(), value.into()));
}

/// The reason phrase of a status code.
pub fn status_description(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Statuses every response rule's exchanges try.
const RESPONSE_STATUSES: [u16; 4] = [200, 301, 404, 500];

/// Content types every response rule's exchanges try (`None`: no `Content-Type`).
const CONTENT_TYPES: [Option<&str>; 6] = [
    Some("text/html"),
    Some("text/html; charset=utf-8"),
    Some("TEXT/HTML"),
    Some("application/json"),
    Some("image/png"),
    None,
];

/// Headers an origin sends that no rule is about.
const OTHER_RESPONSE_HEADERS: [(&str, &str); 6] = [
    ("Date", "Thu, 01 Jan 2026 00:00:00 GMT"),
    ("ETag", "\"5d41402abc4b2a76b9719d911017c592\""),
    ("Content-Length", "5120"),
    ("Vary", "Accept-Encoding"),
    ("Age", "12"),
    ("X-Cache", "Miss from cloudfront"),
];

/// One change to an origin response.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ResponseEdit {
    /// The status (with its reason phrase).
    Status(u16),
    /// Every line of the header replaced by one (`None`: every line gone).
    Header(String, Option<String>),
    /// One more line of the header.
    AddHeader(String, String),
}

impl ResponseEdit {
    fn apply(&self, response: &mut Response) {
        match self {
            ResponseEdit::Status(status) => make_hold(response, &ResponsePredicate::Status { value: *status }),
            ResponseEdit::Header(key, Some(value)) => set_header(response, key, value),
            ResponseEdit::Header(key, None) => response.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(key)),
            ResponseEdit::AddHeader(key, value) => response.headers.push((key.clone(), value.clone())),
        }
    }
}

/// The exchanges — a request and the origin's response to it — for response rule `index` of
/// `rules` (at least [`REQUESTS_PER_RULE`]): the rule's hit ([`hit_response`]) and the origin's
/// plain response varied in status (the usual ones, each rule's status and its neighbours),
/// content type (with and without charset, upper-case, absent, each rule's literal and the
/// strings near it), every header in `headers` (absent, present with another value, repeated,
/// present with a value a rule sets) and headers no rule is about; half of them with the rule's
/// predicates made true again. The requests vary too (paths, a query string, a method, and
/// `samples`, the request values the handler compares with), since a rule must not depend on
/// them. An index past the end gives none.
pub fn exchanges_for_response_rule(
    rules: &ResponseRuleSet,
    index: usize,
    headers: &[String],
    samples: &[Edit],
) -> Vec<(Request, Response)> {
    let Some(rule) = rules.rules.get(index) else {
        return Vec::new();
    };
    let hit = hit_response(&rule.predicates);
    let mut changes: Vec<ResponseEdit> = Vec::new();
    let mut statuses: Vec<u16> = RESPONSE_STATUSES.to_vec();
    for predicate in rules.rules.iter().flat_map(|rule| &rule.predicates) {
        match predicate {
            ResponsePredicate::Status { value } => {
                statuses.extend([value.saturating_sub(1), *value, value.saturating_add(1)]);
            }
            ResponsePredicate::Header { name, value, .. } => {
                let key = header_key(name);
                changes.extend(
                    text_variants(value)
                        .into_iter()
                        .chain([format!("{value}; charset=utf-8"), format!(" {value}")])
                        .filter(|v| !v.contains(['\r', '\n']))
                        .map(|v| ResponseEdit::Header(key.clone(), Some(v))),
                );
            }
            ResponsePredicate::HeaderAbsent { .. } | ResponsePredicate::HeaderPresent { .. } => {}
        }
    }
    statuses.retain(|status| (100..=599).contains(status));
    statuses.sort_unstable();
    statuses.dedup();
    changes.extend(statuses.into_iter().map(ResponseEdit::Status));
    changes.extend(CONTENT_TYPES.map(|value| ResponseEdit::Header("Content-Type".into(), value.map(String::from))));
    let set_values: Vec<(&str, &str)> = rules
        .rules
        .iter()
        .flat_map(|rule| &rule.edit.set)
        .map(|(name, _, value)| (name.as_str(), value.as_str()))
        .collect();
    for name in headers {
        let key = header_key(name);
        changes.push(ResponseEdit::Header(key.clone(), None));
        changes.push(ResponseEdit::Header(key.clone(), Some("origin-value".into())));
        changes.push(ResponseEdit::Header(name.to_ascii_uppercase(), Some("origin-value".into())));
        changes.push(ResponseEdit::AddHeader(key.clone(), "origin-value".into()));
        changes.push(ResponseEdit::AddHeader(key.clone(), "second-value".into()));
        for (_, value) in set_values.iter().filter(|(set, _)| set == name) {
            changes.push(ResponseEdit::Header(key.clone(), Some((*value).into())));
        }
    }
    for (key, value) in OTHER_RESPONSE_HEADERS {
        changes.push(ResponseEdit::AddHeader(key.into(), value.into()));
    }
    let mut requests: Vec<Vec<Edit>> = vec![
        vec![Edit::Uri("/index.html".into())],
        vec![Edit::Uri("/api/config.json".into())],
        vec![Edit::Uri("/images/logo.png".into())],
        vec![Edit::Query("a=1&b=2".into())],
        vec![Edit::Method("POST".into())],
        vec![Edit::ClientIp(IpAddr::from([203, 0, 113, 178]))],
    ];
    requests.extend(samples.iter().map(|sample| vec![sample.clone()]));

    let mut made = Exchanges::default();
    let edited_response = |base: &Response, edits: &[&ResponseEdit], rehit: bool| {
        let mut response = base.clone();
        edits.iter().for_each(|edit| edit.apply(&mut response));
        if rehit {
            rule.predicates.iter().for_each(|predicate| make_hold(&mut response, predicate));
        }
        response
    };
    let origin = Response::origin();
    made.push(Request::browser(), hit.clone());
    for change in &changes {
        made.push(Request::browser(), edited_response(&hit, &[change], false));
        made.push(Request::browser(), edited_response(&origin, &[change], false));
    }
    for edits in &requests {
        made.push(edited(&Request::browser(), [edits]), hit.clone());
    }
    let origin = Response::origin();
    let mut random = XorShift::new(seed(&rule.name, index));
    let mut attempts = 0;
    while made.exchanges.len() < REQUESTS_PER_RULE && attempts < MAX_ATTEMPTS && !changes.is_empty() {
        attempts += 1;
        let picked: Vec<&ResponseEdit> = (0..1 + random.below(4)).map(|_| &changes[random.below(changes.len())]).collect();
        let base = if random.below(2) == 0 { &hit } else { &origin };
        let response = edited_response(base, &picked, random.below(2) == 0);
        let request = match random.below(requests.len() + 2) {
            r if r < requests.len() => edited(&Request::browser(), [&requests[r]]),
            _ => Request::browser(),
        };
        made.push(request, response);
    }
    made.exchanges
}

/// Distinct exchanges in the order first made.
#[derive(Default)]
struct Exchanges {
    seen: HashSet<(Vec<u8>, IpAddr, Response)>,
    exchanges: Vec<(Request, Response)>,
}

impl Exchanges {
    fn push(&mut self, request: Request, response: Response) {
        if self.seen.insert((request.to_head(), request.client_ip, response.clone())) {
            self.exchanges.push((request, response));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Action, Rule, SourceSpan};

    fn rule(predicates: Vec<Predicate>) -> RuleSet {
        RuleSet {
            rules: vec![Rule {
                name: "test".into(),
                predicates,
                action: Action::RewriteUri { uri: "/x".into() },
                source: SourceSpan { file: "index.js".into(), span: 0..1, line: 1 },
            }],
        }
    }

    #[test]
    fn every_rule_gets_enough_distinct_requests_deterministically() {
        let rules = rule(vec![Predicate::Header {
            name: "user-agent".into(),
            op: TextMatch::Contains,
            value: "curl/".into(),
            case_insensitive: true,
        }]);
        let requests = requests_for_rule(&rules, 0, &[]);
        assert!(requests.len() >= REQUESTS_PER_RULE, "{}", requests.len());
        assert_eq!(requests, requests_for_rule(&rules, 0, &[]));
        let heads: Vec<usize> = requests.iter().map(|r| r.to_head().len()).collect();
        assert!(heads.contains(&HEAD_WINDOW) && heads.contains(&(HEAD_WINDOW + 1)));
    }

    #[test]
    fn networks_get_their_boundaries() {
        let network = Network { address: IpAddr::from([192, 0, 2, 128]), prefix: 25 };
        let addresses = boundary_addresses(&network);
        for expected in [[192, 0, 2, 127], [192, 0, 2, 255], [192, 0, 3, 0]] {
            assert!(addresses.contains(&IpAddr::from(expected)), "{expected:?}");
        }
    }
}
