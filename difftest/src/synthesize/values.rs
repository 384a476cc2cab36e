//! The field values that hit and miss one comparison: the literal shaped into a realistic
//! value of its field (a path for `uri`, an address inside a CIDR for `clientIp`, a `name=value`
//! pair for a cookie), and values the comparison rejects.
//!
//! Invariant: a hit is checked against the comparison where it can be (`Test::accepts`), a miss
//! always is: a miss that might hit is never produced.

use edgeport_contract::EventType;
use edgeport_frontends::javascript::{ComparedLiteral, Comparison, ComparisonOperator};
use serde_json::Value;

use super::regex::JsRegex;
use super::templates::{self, BROWSER_USER_AGENT, CLIENT_IP, DISTRIBUTION_DOMAIN};

/// A browser other than the one base events come from.
pub(super) const OTHER_BROWSER_USER_AGENT: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";

/// Basic credentials of `user:password`.
pub(super) const BASIC_CREDENTIALS: &str = "Basic dXNlcjpwYXNzd29yZA==";

/// The most hits one comparison gets from a list of values.
const MAX_LIST_HITS: usize = 8;

/// The most hits one comparison gets from the alternatives of a regex.
const MAX_REGEX_HITS: usize = 6;

/// Methods CloudFront passes to functions, the first ones the likeliest misses.
const METHODS: &[&str] = &["POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "GET"];

/// Statuses origins answer with, the first ones the likeliest misses.
const STATUSES: &[&str] = &[
    "404", "500", "301", "200", "201", "204", "302", "304", "307", "308", "400", "401", "403",
    "405", "410", "429", "502", "503", "504",
];

/// A field of the event that a handler compares or reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Field {
    Uri,
    Querystring,
    ClientIp,
    Method,
    /// The value of the first `Cookie` header.
    Cookie,
    /// `response.status`.
    Status,
    /// The value of the first entry of a request header, by lower-case name.
    Header(String),
    /// The value of the first entry of a response header, by lower-case name.
    ResponseHeader(String),
    /// `request.body`, whose value is the base64 `data`.
    Body,
}

impl Field {
    /// The field of a comparison or read (`uri`, `header:user-agent`, ...), `None` for ones
    /// synthesis does not vary (`origin`, which origin events vary anyway) and unknown ones.
    pub(super) fn parse(field: &str) -> Option<Field> {
        Some(match field {
            "uri" => Field::Uri,
            "querystring" => Field::Querystring,
            "clientIp" => Field::ClientIp,
            "method" => Field::Method,
            "cookie" | "header:cookie" => Field::Cookie,
            "status" => Field::Status,
            "body" => Field::Body,
            _ => match field.split_once(':')? {
                ("header", name) => Field::Header(name.to_ascii_lowercase()),
                ("response-header", name) => Field::ResponseHeader(name.to_ascii_lowercase()),
                _ => return None,
            },
        })
    }

    /// The field in event names.
    pub(super) fn slug(&self) -> String {
        match self {
            Field::Uri => "uri".to_owned(),
            Field::Querystring => "querystring".to_owned(),
            Field::ClientIp => "client-ip".to_owned(),
            Field::Method => "method".to_owned(),
            Field::Cookie => "cookie".to_owned(),
            Field::Status => "status".to_owned(),
            Field::Header(name) => format!("header-{}", slug(name)),
            Field::ResponseHeader(name) => format!("response-header-{}", slug(name)),
            Field::Body => "body".to_owned(),
        }
    }

    /// The field in purposes.
    pub(super) fn describe(&self) -> String {
        match self {
            Field::Uri => "uri".to_owned(),
            Field::Querystring => "querystring".to_owned(),
            Field::ClientIp => "clientIp".to_owned(),
            Field::Method => "method".to_owned(),
            Field::Cookie => "the cookie header".to_owned(),
            Field::Status => "status".to_owned(),
            Field::Header(name) => format!("header '{name}'"),
            Field::ResponseHeader(name) => format!("response header '{name}'"),
            Field::Body => "the request body".to_owned(),
        }
    }

    /// Whether events of this trigger have the field.
    pub(super) fn exists_on(&self, event_type: EventType) -> bool {
        match self {
            Field::Status | Field::ResponseHeader(_) => !event_type.is_request(),
            // CloudFront exposes the body to request triggers only.
            Field::Body => event_type.is_request(),
            _ => true,
        }
    }

    /// Sets the field as `setting` says; only headers can be missing or have several entries.
    pub(super) fn apply(&self, event: &mut Value, setting: &Setting) {
        if let Setting::Entries(values) = setting {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            let name = match self {
                Field::Cookie => "cookie",
                Field::Header(name) => name,
                _ => return,
            };
            templates::set_request_header_entries(event, name, &values);
            return;
        }
        let value = setting.value();
        match (self, value) {
            (Field::Uri, Some(value)) => templates::set_request_field(event, "uri", value),
            (Field::Querystring, Some(value)) => {
                templates::set_request_field(event, "querystring", value);
            }
            (Field::ClientIp, Some(value)) => {
                templates::set_request_field(event, "clientIp", value);
                // Origin events carry the viewer's address twice.
                if templates::request_header(event, "x-forwarded-for").is_some() {
                    templates::set_request_header(event, "x-forwarded-for", Some(value));
                }
            }
            (Field::Method, Some(value)) => templates::set_request_field(event, "method", value),
            (Field::Cookie, value) => templates::set_request_header(event, "cookie", value),
            (Field::Status, Some(value)) => {
                templates::set_status(event, value);
            }
            (Field::Header(name), value) => templates::set_request_header(event, name, value),
            (Field::ResponseHeader(name), value) => {
                templates::set_response_header(event, name, value);
            }
            (Field::Body, Some(value)) => {
                // Browsers send bodies with POST, and CloudFront exposes them for it.
                templates::set_request_field(event, "method", "POST");
                templates::set_request_body(event, value);
            }
            (_, None) => {}
        }
    }

    /// The field's value in base events, where all triggers agree on it.
    fn base_value(&self) -> Option<&'static str> {
        match self {
            Field::Uri => Some("/"),
            Field::Querystring => Some(""),
            Field::Method => Some("GET"),
            Field::Status => Some("200"),
            Field::ClientIp
            | Field::Cookie
            | Field::Header(_)
            | Field::ResponseHeader(_)
            | Field::Body => None,
        }
    }

    /// What goes before and after a literal that must sit inside a value.
    fn padding(&self, literal: &str) -> (&'static str, &'static str) {
        match self {
            Field::Uri => (
                if literal.starts_with(['/', '.']) {
                    "/example"
                } else {
                    "/example/"
                },
                if literal.ends_with('/') {
                    "index.html"
                } else {
                    "/index.html"
                },
            ),
            Field::Querystring => ("page=2&", "&lang=en"),
            Field::Cookie => ("theme=light; ", "; lang=en"),
            Field::Header(name) | Field::ResponseHeader(name) => match name.as_str() {
                "user-agent" => ("Mozilla/5.0 (compatible; ", "; +https://example.com/)"),
                "accept" => ("text/html,", ",*/*;q=0.8"),
                "accept-language" => ("en-US,", ";q=0.9"),
                "accept-encoding" => ("gzip, ", ", br"),
                "referer" | "origin" => ("https://www.example.com/", "/page"),
                _ => ("example-", "-example"),
            },
            Field::ClientIp | Field::Method | Field::Status | Field::Body => ("", ""),
        }
    }

    /// A literal that names part of a pair made a whole one: `debug=` becomes `debug=1`, a
    /// bare cookie name `session` becomes `session=1`.
    fn complete(&self, literal: &str) -> String {
        let is_name = !literal.is_empty()
            && literal
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        match self {
            Field::Querystring | Field::Cookie if literal.ends_with('=') => format!("{literal}1"),
            Field::Cookie if is_name => format!("{literal}=1"),
            _ => literal.to_owned(),
        }
    }

    /// Values of this field that are unlikely to hit anything, best first. Values of base
    /// events come late: a miss equal to the base event would merge into it.
    pub(super) fn others(&self, literal: &str) -> Vec<String> {
        let values: &[&str] = match self {
            Field::Uri => &[
                "/other/page.html",
                "/",
                "/index.html",
                "/a/b/c",
                "/zz-unmatched",
            ],
            Field::Querystring => &["page=2", "", "zz_unmatched=1"],
            Field::Cookie => &[
                "theme=light",
                "session=abc123; theme=dark",
                "zz_unmatched=1",
            ],
            Field::Method => METHODS,
            Field::Status => STATUSES,
            // Addresses come from `ip_misses`; nothing compares bodies.
            Field::ClientIp | Field::Body => &[],
            Field::Header(name) | Field::ResponseHeader(name) => match name.as_str() {
                "user-agent" => &[
                    OTHER_BROWSER_USER_AGENT,
                    BROWSER_USER_AGENT,
                    "curl/8.4.0",
                    "Amazon CloudFront",
                ],
                "host" => &["www.example.com", DISTRIBUTION_DOMAIN],
                "cloudfront-viewer-country" => &["GB", "DE", "US", "JP"],
                "accept" => &[
                    "text/html,application/xhtml+xml,*/*;q=0.8",
                    "image/webp,*/*",
                ],
                "accept-language" => &["en-US,en;q=0.9", "de-DE,de;q=0.9"],
                "accept-encoding" => &["gzip, deflate", "br,gzip", "identity"],
                "referer" | "origin" => &["https://www.example.com/", "https://other.example.net/"],
                "content-type" => &["text/html; charset=utf-8", "application/json"],
                "cache-control" => &["no-cache", "public, max-age=31536000"],
                "authorization" => &[BASIC_CREDENTIALS, "Bearer invalid"],
                "x-forwarded-for" => &["192.0.2.1", CLIENT_IP],
                name if name.starts_with("cloudfront-is-") => &["false", "true"],
                _ => &["other-value", "zz-unmatched-value"],
            },
        };
        let mut others: Vec<String> = values.iter().map(|&value| value.to_owned()).collect();
        if *self == Field::Uri && !literal.is_empty() {
            // A near miss first: the literal present, but not where it is looked for.
            others.insert(0, format!("{}.bak", ensure_path(literal)));
            let embedded = if literal.starts_with('/') {
                format!("/other{literal}")
            } else {
                format!("/other/{literal}")
            };
            others.insert(0, embedded);
        }
        others
    }
}

/// The values of a comparison's field that make it true, as the comparison reads them.
pub(super) struct Test {
    kind: TestKind,
    /// The handler lower- or upper-cased the field first.
    case_insensitive: bool,
}

enum TestKind {
    OneOf(Vec<String>),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Regex(JsRegex),
    /// A regex that could not be translated: nothing is known.
    Unknown,
}

impl Test {
    fn new(comparison: &Comparison) -> Self {
        use ComparisonOperator as Op;
        let kind = match (&comparison.literal, comparison.operator) {
            (ComparedLiteral::Regex { pattern, flags }, _) => {
                JsRegex::new(pattern, flags).map_or(TestKind::Unknown, TestKind::Regex)
            }
            (
                ComparedLiteral::String { value },
                Op::RegexTest | Op::RegexMatch | Op::RegexSearch | Op::RegexReplace,
            ) => JsRegex::new(value, "").map_or(TestKind::Unknown, TestKind::Regex),
            (ComparedLiteral::String { value }, Op::StartsWith) => {
                TestKind::StartsWith(value.clone())
            }
            (ComparedLiteral::String { value }, Op::EndsWith) => TestKind::EndsWith(value.clone()),
            (ComparedLiteral::String { value }, Op::Includes | Op::IndexOf) => {
                TestKind::Contains(value.clone())
            }
            (ComparedLiteral::String { value }, _) => TestKind::OneOf(vec![value.clone()]),
            (ComparedLiteral::List { values }, _) => TestKind::OneOf(values.clone()),
        };
        Test {
            kind,
            case_insensitive: comparison.case_insensitive,
        }
    }

    /// Whether the comparison holds for `value` (`!==` holds when this is false), `None` when
    /// that cannot be told.
    fn accepts(&self, value: &str) -> Option<bool> {
        let fold = |text: &str| {
            if self.case_insensitive {
                text.to_lowercase()
            } else {
                text.to_owned()
            }
        };
        let value = fold(value);
        match &self.kind {
            TestKind::OneOf(literals) => {
                Some(literals.iter().any(|literal| fold(literal) == value))
            }
            TestKind::StartsWith(literal) => Some(value.starts_with(&fold(literal))),
            TestKind::EndsWith(literal) => Some(value.ends_with(&fold(literal))),
            TestKind::Contains(literal) => Some(value.contains(&fold(literal))),
            TestKind::Regex(regex) if self.case_insensitive => {
                // The handler may have upper-cased the field as well as lower-cased it.
                match (
                    regex.is_match(&value),
                    regex.is_match(&value.to_uppercase()),
                ) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                }
            }
            TestKind::Regex(regex) => regex.is_match(&value),
            TestKind::Unknown => None,
        }
    }

    fn regex(&self) -> Option<&JsRegex> {
        match &self.kind {
            TestKind::Regex(regex) => Some(regex),
            _ => None,
        }
    }
}

/// What a probe does to its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Setting {
    /// The field holds this value (a header, as its only entry).
    Value(String),
    /// The header is left out.
    Absent,
    /// The header has one entry per value.
    Entries(Vec<String>),
}

impl Setting {
    /// The value of a field set to one value.
    pub(super) fn value(&self) -> Option<&str> {
        match self {
            Setting::Value(value) => Some(value),
            Setting::Absent | Setting::Entries(_) => None,
        }
    }
}

/// One way to set the field for a comparison or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Probe {
    /// What the field is set to.
    pub(super) setting: Setting,
    /// The end of the event name, after the comparison's part: `hit`, `about-us-hit`, `miss`.
    pub(super) slug: String,
    /// What the value is, for the purpose: `hit: '/mobile/index.html'`.
    pub(super) note: String,
}

impl Probe {
    /// The one that leaves a header out.
    pub(super) fn absent() -> Self {
        Probe {
            setting: Setting::Absent,
            slug: "absent".to_owned(),
            note: "absent".to_owned(),
        }
    }
}

/// The probes of one comparison or read field, the ones to keep when events are cut first.
#[derive(Debug, Default)]
pub(super) struct Probes {
    /// A comparison's first hit and first miss, a read field's first value: every comparison
    /// and read keeps them when events are cut.
    pub(super) essential: Vec<Probe>,
    /// Absent header, the other hits, case variants, other misses, other values.
    pub(super) extra: Vec<Probe>,
    /// Whether the first essential probe is a comparison's hit (a regex may give none).
    pub(super) starts_with_hit: bool,
}

impl Probes {
    /// The comparison's first hit.
    pub(super) fn hit(&self) -> Option<&Probe> {
        self.essential.first().filter(|_| self.starts_with_hit)
    }

    /// The probes of round `round` of synthesis: the essential ones in round 0, the n-th
    /// extra one in round n.
    pub(super) fn round(&self, round: usize) -> &[Probe] {
        match round {
            0 => &self.essential,
            _ => self.extra.get(round - 1..round).unwrap_or_default(),
        }
    }
}

/// A hit before it is named.
struct Hit {
    value: String,
    /// Which listed value or variant it is; empty for the main hit.
    label: String,
    note: &'static str,
}

/// The probes for one comparison of `field`. `random` supplies addresses.
pub(super) fn probes(comparison: &Comparison, field: &Field, random: &mut SplitMix32) -> Probes {
    let test = Test::new(comparison);
    let is_list = matches!(comparison.literal, ComparedLiteral::List { .. });
    let mut hits = hits(comparison, field, &test, random);
    // A hit that is the base value duplicates the base event; one with padding shows it.
    if let Some(base) = field.base_value() {
        let mut padded = Vec::new();
        for hit in hits.iter().filter(|hit| hit.value == base) {
            let (prefix, _) = field.padding(&hit.value);
            let candidate = format!("{prefix}{}", hit.value);
            if candidate != hit.value && test.accepts(&candidate) == Some(true) {
                padded.push(Hit {
                    value: candidate,
                    label: join(&hit.label, "padded"),
                    note: "hit",
                });
            }
        }
        hits.extend(padded);
    }

    let mut result = Probes::default();
    let mut hit_probes = hits.iter().enumerate().map(|(index, hit)| {
        let slug = if is_list {
            join(&hit.label, "hit")
        } else if index == 0 {
            "hit".to_owned()
        } else if hit.label.is_empty() {
            format!("hit-{}", index + 1)
        } else {
            format!("hit-{}", hit.label)
        };
        Probe {
            setting: Setting::Value(hit.value.clone()),
            slug,
            note: format!("{}: {}", hit.note, quote(&hit.value)),
        }
    });
    result.essential.extend(hit_probes.next());
    result.starts_with_hit = !result.essential.is_empty();

    let misses = misses(comparison, field, &test, random);
    let mut misses = misses.into_iter().map(|(value, label)| Probe {
        note: format!("miss: {}", quote(&value)),
        setting: Setting::Value(value),
        slug: join(&label, "miss"),
    });
    result.essential.extend(misses.next());

    if matches!(
        field,
        Field::Cookie | Field::Header(_) | Field::ResponseHeader(_)
    ) {
        result.extra.push(Probe::absent());
    }
    let case_folds = comparison.case_insensitive
        || matches!(&comparison.literal, ComparedLiteral::Regex { flags, .. } if flags.contains('i'));
    if let (true, false, Some(first)) = (case_folds, *field == Field::Method, hits.first()) {
        let (variant, case) = if first.value.chars().any(char::is_lowercase) {
            (first.value.to_uppercase(), "upper-case")
        } else {
            (first.value.to_lowercase(), "lower-case")
        };
        if variant != first.value && test.accepts(&variant) != Some(false) {
            result.extra.push(Probe {
                note: format!("hit in {case}: {}", quote(&variant)),
                setting: Setting::Value(variant),
                slug: format!("hit-{case}"),
            });
        }
    }
    result.extra.extend(hit_probes);
    result.extra.extend(misses);
    result
}

fn hits(comparison: &Comparison, field: &Field, test: &Test, random: &mut SplitMix32) -> Vec<Hit> {
    use ComparisonOperator as Op;
    let operator = comparison.operator;
    let hit = |value: String, label: &str, note| Hit {
        value,
        label: label.to_owned(),
        note,
    };
    let mut hits = match &comparison.literal {
        ComparedLiteral::List { values } => {
            let mut labels: Vec<String> = Vec::new();
            let mut hits = Vec::new();
            for value in values.iter().take(MAX_LIST_HITS) {
                // `/about-us` and `/about-us/` have the same slug.
                let mut label = slug(value);
                if labels.contains(&label) {
                    label = format!("{label}-{}", labels.len() + 1);
                }
                hits.push(hit(shape(field, Op::Equals, value, random), &label, "hit"));
                labels.push(label);
            }
            hits
        }
        ComparedLiteral::Regex { .. } => regex_hits(field, test, random),
        ComparedLiteral::String { .. }
            if matches!(
                operator,
                Op::RegexTest | Op::RegexMatch | Op::RegexSearch | Op::RegexReplace
            ) =>
        {
            regex_hits(field, test, random)
        }
        ComparedLiteral::String { value } => {
            let mut hits = vec![hit(shape(field, operator, value, random), "", "hit")];
            // The literal alone, and at the start for `indexOf(literal) === 0`; addresses,
            // methods and statuses were whole values already.
            let exact = match operator {
                Op::StartsWith => Some((field.complete(value), "exact")),
                Op::IndexOf => {
                    let (_, suffix) = field.padding(value);
                    Some((format!("{}{suffix}", field.complete(value)), "at-start"))
                }
                _ => None,
            };
            let free_form = !matches!(field, Field::ClientIp | Field::Method | Field::Status);
            if let (Some((value, label)), true) = (exact, free_form) {
                hits.push(hit(fix(field, value), label, "hit"));
            }
            hits
        }
    };
    // Shaping keeps most hits hits; a uri literal without `/` cannot stay one. Addresses
    // inside a listed CIDR hit the handler's own matching, not the string comparison.
    if *field != Field::ClientIp {
        let (kept, mut rejected): (Vec<Hit>, Vec<Hit>) = hits
            .into_iter()
            .partition(|hit| test.accepts(&hit.value) != Some(false));
        hits = kept;
        if hits.is_empty() && !rejected.is_empty() {
            let mut closest = rejected.swap_remove(0);
            closest.note = "closest valid value to a hit";
            hits.push(closest);
        }
    }
    let mut unique: Vec<Hit> = Vec::new();
    for hit in hits {
        if !unique.iter().any(|seen| seen.value == hit.value) {
            unique.push(hit);
        }
    }
    unique
}

/// Hits of a regex: a string for each alternative, made a valid value of the field.
fn regex_hits(field: &Field, test: &Test, random: &mut SplitMix32) -> Vec<Hit> {
    let Some(regex) = test.regex() else {
        return Vec::new();
    };
    let hit = |value: String| Hit {
        value,
        label: String::new(),
        note: "hit",
    };
    // Methods and statuses come from a short list; a real one that matches beats a string.
    let domain: &[&str] = match field {
        Field::Method => METHODS,
        Field::Status => STATUSES,
        _ => &[],
    };
    let from_domain: Vec<Hit> = domain
        .iter()
        .filter(|value| test.accepts(value) == Some(true))
        .take(MAX_REGEX_HITS)
        .map(|value| hit((*value).to_owned()))
        .collect();
    if !from_domain.is_empty() {
        return from_domain;
    }
    regex
        .examples(MAX_REGEX_HITS)
        .into_iter()
        .filter_map(|text| {
            let shaped = match field {
                Field::Uri => ensure_path(&text),
                Field::ClientIp => complete_ipv4(&text, random).unwrap_or(text.clone()),
                _ => text.clone(),
            };
            // Shaping may break the match (`/^api/` on a uri); the raw string is no valid
            // value then, so the hit is dropped.
            match test.accepts(&shaped) {
                Some(false) => None,
                _ => Some(hit(shaped)),
            }
        })
        .collect()
}

/// The literal made a value of the field that makes `operator` hold.
fn shape(
    field: &Field,
    operator: ComparisonOperator,
    literal: &str,
    random: &mut SplitMix32,
) -> String {
    use ComparisonOperator as Op;
    match field {
        Field::ClientIp => return ip_hit(operator, literal, &mut random.keyed(literal)),
        Field::Method | Field::Status if !is_equality(operator) => {
            let domain = if *field == Field::Method {
                METHODS
            } else {
                STATUSES
            };
            let test = Test {
                kind: match operator {
                    Op::StartsWith => TestKind::StartsWith(literal.to_owned()),
                    Op::EndsWith => TestKind::EndsWith(literal.to_owned()),
                    _ => TestKind::Contains(literal.to_owned()),
                },
                case_insensitive: true,
            };
            if let Some(value) = domain
                .iter()
                .find(|value| test.accepts(value) == Some(true))
            {
                return (*value).to_owned();
            }
        }
        // CloudFront sends methods in upper case, whatever case the handler compares in.
        Field::Method => return literal.to_uppercase(),
        _ => {}
    }
    let (prefix, suffix) = field.padding(literal);
    let value = match operator {
        Op::StartsWith => format!("{}{suffix}", field.complete(literal)),
        Op::EndsWith => format!("{prefix}{literal}"),
        Op::Includes | Op::IndexOf => {
            let suffix = if *field == Field::Uri && !literal.ends_with('/') {
                ""
            } else {
                suffix
            };
            format!("{prefix}{}{suffix}", field.complete(literal))
        }
        _ => literal.to_owned(),
    };
    fix(field, value)
}

/// Keeps a value valid for its field: a uri starts with `/`.
fn fix(field: &Field, value: String) -> String {
    match field {
        Field::Uri => ensure_path(&value),
        _ => value,
    }
}

fn is_equality(operator: ComparisonOperator) -> bool {
    use ComparisonOperator as Op;
    matches!(
        operator,
        Op::Equals | Op::NotEquals | Op::SwitchCase | Op::InList | Op::ObjectKey
    )
}

fn ensure_path(value: &str) -> String {
    if value.starts_with('/') {
        value.to_owned()
    } else {
        format!("/{value}")
    }
}

/// Values the comparison rejects, each with a label (empty for the main miss).
fn misses(
    comparison: &Comparison,
    field: &Field,
    test: &Test,
    random: &mut SplitMix32,
) -> Vec<(String, String)> {
    let literals: Vec<&str> = match &comparison.literal {
        ComparedLiteral::String { value } => vec![value],
        ComparedLiteral::List { values } => values.iter().map(String::as_str).collect(),
        ComparedLiteral::Regex { .. } => Vec::new(),
    };
    if *field == Field::ClientIp {
        return ip_misses(test, &literals, random);
    }
    let near = if matches!(
        comparison.operator,
        ComparisonOperator::StartsWith | ComparisonOperator::EndsWith
    ) {
        literals.first().copied().unwrap_or_default()
    } else {
        ""
    };
    field
        .others(near)
        .into_iter()
        .find(|value| test.accepts(value) == Some(false))
        .map(|value| (value, String::new()))
        .into_iter()
        .collect()
}

/// Addresses outside every listed address, CIDR and prefix: an IPv4 one, and an IPv6 one
/// when IPv6 addresses are listed.
fn ip_misses(test: &Test, literals: &[&str], random: &mut SplitMix32) -> Vec<(String, String)> {
    let rejected = |address: &str| {
        test.accepts(address) == Some(false)
            && !literals.iter().any(|literal| ip_covers(literal, address))
    };
    let mut misses = Vec::new();
    // Documentation ranges (RFC 5737) first, as real handlers' tests use them.
    let pools = [0xC633_6400_u32, 0xC000_0200, 0xCB00_7100, 0x0A00_0000];
    let ipv4 = (0..32).find_map(|attempt| {
        let pool = pools[attempt % pools.len()];
        let address = format_ipv4(pool | (random.below(253) + 1));
        rejected(&address).then_some(address)
    });
    misses.extend(ipv4.map(|address| (address, String::new())));
    if literals.iter().any(|literal| literal.contains(':')) {
        let ipv6 = (0..32).find_map(|_| {
            let address = format!("2001:db8::{:x}", random.below(0xfff0) + 0x10);
            rejected(&address).then_some(address)
        });
        misses.extend(ipv6.map(|address| (address, "ipv6".to_owned())));
    }
    misses
}

/// A client address that makes `operator` hold for `literal`: the address itself, one
/// inside a CIDR, or a prefix completed to a whole address.
fn ip_hit(operator: ComparisonOperator, literal: &str, random: &mut SplitMix32) -> String {
    use ComparisonOperator as Op;
    if literal.contains(':') {
        return match literal.split_once('/') {
            Some((address, _)) if address.ends_with("::") => format!("{address}1"),
            Some((address, _)) => address.to_owned(),
            // `clientIp.includes(':')` asks "is this IPv6?".
            None if literal.trim_matches(':').is_empty() => {
                format!("2001:db8::{:x}", random.below(0xfff0) + 0x10)
            }
            None => literal.to_owned(),
        };
    }
    if let Some((network, bits)) = parse_cidr(literal) {
        let size = 1u64 << (32 - u32::from(bits));
        let offset = if size <= 2 {
            0
        } else {
            1 + u64::from(random.next()) % (size - 2)
        };
        let offset = u32::try_from(offset).expect("an offset inside an IPv4 network fits in u32");
        return format_ipv4(network | offset);
    }
    match operator {
        Op::EndsWith if parse_ipv4(literal).is_none() => {
            let tail = literal.trim_start_matches('.');
            let given = tail.split('.').count();
            let head = ["198", "51", "100"];
            if given < 4 && tail.split('.').all(|octet| octet.parse::<u8>().is_ok()) {
                return format!("{}.{tail}", head[..4 - given].join("."));
            }
            literal.to_owned()
        }
        Op::Includes | Op::IndexOf if literal == "." => {
            format_ipv4(0xC633_6400 | (random.below(253) + 1))
        }
        _ => complete_ipv4(literal, random).unwrap_or_else(|| literal.to_owned()),
    }
}

/// A dotted prefix (`10.`, `192.168`) completed with random octets; `None` when `text` is
/// no prefix of an IPv4 address.
fn complete_ipv4(text: &str, random: &mut SplitMix32) -> Option<String> {
    if parse_ipv4(text).is_some() {
        return Some(text.to_owned());
    }
    let trimmed = text.strip_suffix('.').unwrap_or(text);
    let octets: Vec<&str> = trimmed.split('.').collect();
    if octets.len() >= 4 || !octets.iter().all(|octet| octet.parse::<u8>().is_ok()) {
        return None;
    }
    let mut address: Vec<String> = octets.iter().map(|&octet| octet.to_owned()).collect();
    while address.len() < 4 {
        address.push((random.below(254) + 1).to_string());
    }
    Some(address.join("."))
}

/// Whether a listed entry (address, CIDR or dotted prefix) covers `address`.
fn ip_covers(entry: &str, address: &str) -> bool {
    if entry == address {
        return true;
    }
    let Some(address) = parse_ipv4(address) else {
        return false;
    };
    if let Some((network, bits)) = parse_cidr(entry) {
        return address & mask(bits) == network;
    }
    // A prefix such as `10.` or `192.168.1`.
    let prefix = entry.strip_suffix('.').unwrap_or(entry);
    let octets: Vec<u8> = prefix
        .split('.')
        .filter_map(|octet| octet.parse().ok())
        .collect();
    if octets.is_empty() || octets.len() >= 4 || octets.len() != prefix.split('.').count() {
        return false;
    }
    let bits = u8::try_from(octets.len() * 8).expect("at most 24 bits");
    let network = octets
        .iter()
        .fold(0u32, |acc, &octet| (acc << 8) | u32::from(octet))
        << (32 - u32::from(bits));
    address & mask(bits) == network
}

fn parse_ipv4(text: &str) -> Option<u32> {
    let octets: Vec<u8> = text
        .split('.')
        .map(|octet| octet.parse().ok())
        .collect::<Option<_>>()?;
    let octets: [u8; 4] = octets.try_into().ok()?;
    Some(u32::from_be_bytes(octets))
}

fn format_ipv4(address: u32) -> String {
    let [a, b, c, d] = address.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

/// `a.b.c.d/n` as its network address and prefix length.
fn parse_cidr(text: &str) -> Option<(u32, u8)> {
    let (address, bits) = text.split_once('/')?;
    let bits: u8 = bits.parse().ok().filter(|&bits| bits <= 32)?;
    Some((parse_ipv4(address)? & mask(bits), bits))
}

fn mask(bits: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0)
}

/// A filename-safe form of a value: lower-case alphanumeric runs joined by `-`, at most 32
/// characters; a value without any is named (`/` is `root`) or becomes a short hash.
pub(super) fn slug(value: &str) -> String {
    let mut slug = String::new();
    for c in value.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 32 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let named = match value {
        "" => "empty",
        "/" => "root",
        ":" => "colon",
        "." => "dot",
        "=" => "equals-sign",
        "&" => "ampersand",
        "?" => "question-mark",
        ";" => "semicolon",
        "," => "comma",
        _ => "",
    };
    match (slug.is_empty(), named.is_empty()) {
        (false, _) => slug.to_owned(),
        (true, false) => named.to_owned(),
        (true, true) => format!("x{:08x}", fnv1a(value)),
    }
}

fn join(label: &str, suffix: &str) -> String {
    if label.is_empty() {
        suffix.to_owned()
    } else {
        format!("{label}-{suffix}")
    }
}

/// A value in a purpose, quoted and shortened.
pub(super) fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 60;
    if value.chars().count() > MAX_CHARS {
        let head: String = value.chars().take(MAX_CHARS).collect();
        format!("'{head}…'")
    } else {
        format!("'{value}'")
    }
}

/// 32-bit FNV-1a, for stable short hashes of names.
pub(super) fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811C_9DC5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

/// SplitMix32: the only source of variety, so that a seed decides every event.
#[derive(Debug, Clone)]
pub(super) struct SplitMix32 {
    seed: u32,
    state: u32,
}

impl SplitMix32 {
    pub(super) fn new(seed: u32) -> Self {
        Self { seed, state: seed }
    }

    /// A generator for one value, seeded by this one's seed and `key` alone: the same literal
    /// gets the same draws wherever it is compared (an address in a CIDR listed twice is one
    /// address, one event), whatever was drawn before.
    pub(super) fn keyed(&self, key: &str) -> Self {
        Self::new(self.seed ^ fnv1a(key))
    }

    pub(super) fn next(&mut self) -> u32 {
        self.state = self.state.wrapping_add(0x9E37_79B9);
        let mut z = self.state;
        z = (z ^ (z >> 16)).wrapping_mul(0x85EB_CA6B);
        z = (z ^ (z >> 13)).wrapping_mul(0xC2B2_AE35);
        z ^ (z >> 16)
    }

    /// A number below `bound` (which is small, so the modulo bias does not matter).
    pub(super) fn below(&mut self, bound: u32) -> u32 {
        self.next() % bound.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(
        field: &str,
        operator: ComparisonOperator,
        literal: ComparedLiteral,
    ) -> Comparison {
        Comparison {
            field: field.to_owned(),
            operator,
            literal,
            case_insensitive: false,
            span: 0..0,
        }
    }

    fn string(value: &str) -> ComparedLiteral {
        ComparedLiteral::String {
            value: value.to_owned(),
        }
    }

    fn values(probes: &[Probe]) -> Vec<Option<&str>> {
        probes
            .iter()
            .map(|probe| match &probe.setting {
                Setting::Value(value) => Some(value.as_str()),
                Setting::Absent => None,
                Setting::Entries(_) => panic!("comparisons set one entry: {probe:?}"),
            })
            .collect()
    }

    fn check(comparison: &Comparison, essential: &[Option<&str>], extra: &[Option<&str>]) {
        let field = Field::parse(&comparison.field).expect("known field");
        let made = probes(comparison, &field, &mut SplitMix32::new(7));
        assert_eq!(
            values(&made.essential),
            essential,
            "essential of {comparison:?}"
        );
        assert_eq!(values(&made.extra), extra, "extra of {comparison:?}");
    }

    #[test]
    fn string_operators_are_shaped_into_their_field() {
        use ComparisonOperator as Op;
        check(
            &comparison("uri", Op::StartsWith, string("/mobile/")),
            &[Some("/mobile/index.html"), Some("/other/mobile/")],
            &[Some("/mobile/")],
        );
        check(
            &comparison("uri", Op::EndsWith, string(".html")),
            &[Some("/example.html"), Some("/.html.bak")],
            &[],
        );
        check(
            &comparison("uri", Op::Equals, string("robots.txt")),
            &[Some("/robots.txt"), Some("/other/page.html")],
            &[],
        );
        check(
            &comparison("querystring", Op::Includes, string("debug=")),
            &[Some("page=2&debug=1&lang=en"), Some("page=2")],
            &[],
        );
        check(
            &comparison("cookie", Op::IndexOf, string("X-Experiment-Name=A")),
            &[
                Some("theme=light; X-Experiment-Name=A; lang=en"),
                Some("theme=light"),
            ],
            &[None, Some("X-Experiment-Name=A; lang=en")],
        );
        let mut method = comparison("method", Op::Equals, string("post"));
        method.case_insensitive = true;
        check(&method, &[Some("POST"), Some("PUT")], &[]);
        check(
            &comparison("status", Op::StartsWith, string("3")),
            &[Some("301"), Some("404")],
            &[],
        );
    }

    #[test]
    fn headers_get_absent_and_case_variants() {
        use ComparisonOperator as Op;
        let mut ua = comparison("header:user-agent", Op::Includes, string("mobile"));
        ua.case_insensitive = true;
        check(
            &ua,
            &[
                Some("Mozilla/5.0 (compatible; mobile; +https://example.com/)"),
                Some(OTHER_BROWSER_USER_AGENT),
            ],
            &[
                None,
                Some("MOZILLA/5.0 (COMPATIBLE; MOBILE; +HTTPS://EXAMPLE.COM/)"),
            ],
        );
        check(
            &comparison(
                "header:user-agent",
                Op::RegexTest,
                ComparedLiteral::Regex {
                    pattern: "curl\\/".to_owned(),
                    flags: "i".to_owned(),
                },
            ),
            &[Some("curl/"), Some(OTHER_BROWSER_USER_AGENT)],
            &[None, Some("CURL/")],
        );
    }

    #[test]
    fn hits_equal_to_the_base_value_get_a_padded_twin() {
        check(
            &comparison(
                "uri",
                ComparisonOperator::RegexReplace,
                ComparedLiteral::Regex {
                    pattern: "\\/$".to_owned(),
                    flags: String::new(),
                },
            ),
            &[Some("/"), Some("/other/page.html")],
            &[Some("/example/")],
        );
    }

    #[test]
    fn client_addresses_respect_cidrs() {
        let list = ComparedLiteral::List {
            values: [
                "198.51.100.7",
                "203.0.113.0/24",
                "192.0.2.128/25",
                "2001:db8::1",
            ]
            .map(str::to_owned)
            .to_vec(),
        };
        let blocked = comparison("clientIp", ComparisonOperator::InList, list);
        let field = Field::ClientIp;
        for seed in 0..50 {
            let made = probes(&blocked, &field, &mut SplitMix32::new(seed));
            let all: Vec<Probe> = made.essential.iter().chain(&made.extra).cloned().collect();
            let hits: Vec<&str> = all
                .iter()
                .filter(|probe| probe.slug.ends_with("hit"))
                .filter_map(|probe| probe.setting.value())
                .collect();
            assert_eq!(hits.len(), 4, "{all:?}");
            assert_eq!(hits[0], "198.51.100.7");
            assert!(
                ip_covers("203.0.113.0/24", hits[1]) && hits[1] != "203.0.113.0",
                "{}",
                hits[1]
            );
            assert!(ip_covers("192.0.2.128/25", hits[2]), "{}", hits[2]);
            assert_eq!(hits[3], "2001:db8::1");
            let misses: Vec<&str> = all
                .iter()
                .filter(|probe| probe.slug.ends_with("miss"))
                .filter_map(|probe| probe.setting.value())
                .collect();
            assert_eq!(misses.len(), 2, "an IPv4 and an IPv6 miss: {all:?}");
            assert!(parse_ipv4(misses[0]).is_some());
            assert!(misses[1].starts_with("2001:db8::") && misses[1] != "2001:db8::1");
            for miss in misses {
                assert!(!blocked_by_list(miss), "{miss} is listed");
            }
        }
    }

    fn blocked_by_list(address: &str) -> bool {
        [
            "198.51.100.7",
            "203.0.113.0/24",
            "192.0.2.128/25",
            "2001:db8::1",
        ]
        .iter()
        .any(|entry| ip_covers(entry, address))
    }

    #[test]
    fn address_helpers() {
        let mut random = SplitMix32::new(3);
        assert_eq!(
            ip_hit(ComparisonOperator::IndexOf, ":", &mut random)
                .split(':')
                .count(),
            4
        );
        let completed = complete_ipv4("10.", &mut random).expect("a prefix");
        assert!(
            completed.starts_with("10.") && parse_ipv4(&completed).is_some(),
            "{completed}"
        );
        assert_eq!(complete_ipv4("abc", &mut random), None);
        assert_eq!(
            ip_hit(ComparisonOperator::EndsWith, ".7", &mut random),
            "198.51.100.7"
        );
        assert!(ip_covers("10.", "10.1.2.3"));
        assert!(!ip_covers("10.", "110.1.2.3"));
        assert!(ip_covers("0.0.0.0/0", "8.8.8.8"));
        assert_eq!(
            ip_hit(ComparisonOperator::Equals, "2001:db8::/32", &mut random),
            "2001:db8::1"
        );
    }

    #[test]
    fn slugs_are_filename_safe() {
        assert_eq!(slug("/about-us/"), "about-us");
        assert_eq!(
            slug("/blog/2018/hello-world.html"),
            "blog-2018-hello-world-html"
        );
        assert_eq!(slug("/"), "root");
        assert_eq!(slug(""), "empty");
        assert_eq!(slug(":"), "colon");
        assert!(slug("://").starts_with('x'));
        assert!(slug(&"a/".repeat(100)).len() <= 32);
    }

    #[test]
    fn split_mix_is_deterministic_and_spread() {
        let first: Vec<u32> = {
            let mut random = SplitMix32::new(1);
            (0..4).map(|_| random.next()).collect()
        };
        let again: Vec<u32> = {
            let mut random = SplitMix32::new(1);
            (0..4).map(|_| random.next()).collect()
        };
        assert_eq!(first, again);
        assert_ne!(first[0], SplitMix32::new(2).next());
        assert!(first.windows(2).all(|pair| pair[0] != pair[1]));
    }
}
