//! The values a field takes when the handler reads it without comparing it with a literal.
//!
//! Such handlers parse a header (`accept-language`, Basic credentials, cookies), parse the
//! query string, or transform the uri, and branch on the value's structure: several languages
//! or one, a repeated key, a trailing slash or an extension, a header there or not. So the
//! probes of a read field are realistic values of different structure, not hits and misses.
//!
//! Invariant: the first probe of a read field is its only essential one; a header gets at most
//! two values and its absence, and no field more than [`MAX_READ_PROBES`] probes.

use super::values::{
    quote, Field, Probe, Probes, Setting, BASIC_CREDENTIALS, OTHER_BROWSER_USER_AGENT,
};

/// The most probes one read field gets: a handler reading many fields still gets a number of
/// events that its comparisons' events are not lost in.
pub(super) const MAX_READ_PROBES: usize = 6;

/// A phone's browser.
const MOBILE_USER_AGENT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1";

/// Paths of different structure, the likeliest to take a branch of their own first.
const URIS: &[(&str, &str, &str)] = &[
    (
        "nested",
        "a nested path without extension",
        "/docs/getting-started",
    ),
    ("trailing-slash", "a trailing slash", "/docs/"),
    ("extension", "an extension", "/img/logo.PNG"),
    ("upper-case", "upper case", "/Docs/Getting-Started"),
    ("double-slash", "double slashes", "//docs//api"),
    ("encoded", "percent-encoded", "/caf%C3%A9"),
];

/// Query strings of different structure.
const QUERYSTRINGS: &[(&str, &str, &str)] = &[
    ("pairs", "two parameters", "a=1&b=2"),
    ("repeated-key", "a repeated key", "tag=x&tag=y"),
    ("encoded", "percent-encoded", "q=red%20shoes&sort=price"),
    ("empty-value", "a key without value", "flag"),
    (
        "tracking",
        "tracking parameters",
        "utm_source=newsletter&utm_medium=email&id=42",
    ),
];

/// Statuses origins answer with besides `200`, by how often handlers treat them specially.
const STATUSES: &[(&str, &str, &str)] = &[
    ("not-found", "not found", "404"),
    ("not-modified", "not modified", "304"),
    ("server-error", "server error", "500"),
];

/// A JSON document, base64-encoded as CloudFront exposes bodies:
/// `{"name":"edgeport","items":[1,2]}`.
const JSON_BODY: &str = "eyJuYW1lIjoiZWRnZXBvcnQiLCJpdGVtcyI6WzEsMl19";

/// A form, base64-encoded: `name=edgeport&tags=a&tags=b`.
const FORM_BODY: &str = "bmFtZT1lZGdlcG9ydCZ0YWdzPWEmdGFncz1i";

/// The probes of a field the handler reads: realistic values of different structure, and for
/// a header its absence.
pub(super) fn read_probes(field: &Field) -> Probes {
    let mut probes = match field {
        Field::Uri => labelled(URIS),
        Field::Querystring => labelled(QUERYSTRINGS),
        Field::Method => labelled(&[("post", "a post", "POST")]),
        Field::ClientIp => labelled(&[("ipv6", "an IPv6 viewer", "2001:db8:85a3::8a2e:370:7334")]),
        Field::Status => labelled(STATUSES),
        Field::Body => labelled(&[
            ("json", "a JSON post", JSON_BODY),
            ("form", "a form post", FORM_BODY),
        ]),
        Field::Cookie => {
            let entries = ["session=abc123", "theme=dark"];
            let mut probes = labelled(&[
                ("pairs", "two cookies", "session=abc123; theme=dark"),
                ("single", "one cookie", "theme=light"),
            ]);
            probes.push(Probe {
                note: format!("two header entries: {}", entries.map(quote).join(", ")),
                setting: Setting::Entries(entries.map(str::to_owned).to_vec()),
                slug: "entries".to_owned(),
            });
            probes
        }
        Field::Header(name) => present_or_absent(request_header_values(name)),
        Field::ResponseHeader(name) => present_or_absent(response_header_values(name)),
    };
    probes.truncate(MAX_READ_PROBES);
    let mut probes = probes.into_iter();
    Probes {
        essential: probes.next().into_iter().collect(),
        extra: probes.collect(),
        starts_with_hit: false,
    }
}

/// One probe per row of event-name slug, what the value is, and the value.
fn labelled(rows: &[(&str, &str, &str)]) -> Vec<Probe> {
    rows.iter()
        .map(|&(slug, label, value)| Probe {
            note: format!("{label}: {}", quote(value)),
            setting: Setting::Value(value.to_owned()),
            slug: slug.to_owned(),
        })
        .collect()
}

/// The header with each value, and without it second: when the base event lacks the header,
/// its absence is the base event's twin and merges into it.
fn present_or_absent(values: &[(&str, &str)]) -> Vec<Probe> {
    let rows: Vec<(&str, &str, &str)> = values
        .iter()
        .map(|&(slug, value)| (slug, "present", value))
        .collect();
    let mut probes = labelled(&rows);
    probes.insert(probes.len().min(1), Probe::absent());
    probes
}

/// Values of headers with no table of their own: a token, and a flag's usual value.
const GENERIC_VALUES: &[(&str, &str)] = &[("token", "example-value"), ("flag", "1")];

/// Realistic values of a request header, by lower-case name, with event-name slugs.
fn request_header_values(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "accept-language" => &[("regional", "de-CH,de;q=0.9,en;q=0.8"), ("single", "fr")],
        "authorization" => &[("basic", BASIC_CREDENTIALS), ("malformed", "Basic")],
        // Base events come from a desktop Chrome (or CloudFront itself on origin events).
        "user-agent" => &[("mobile", MOBILE_USER_AGENT), ("desktop", OTHER_BROWSER_USER_AGENT)],
        "referer" => &[
            ("same-site", "https://www.example.com/blog/"),
            ("external", "https://www.google.com/"),
        ],
        "origin" => &[
            ("same-site", "https://www.example.com"),
            ("cross-site", "https://other.example.net"),
        ],
        "accept" => &[
            (
                "html",
                "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
            ),
            ("image", "image/webp,image/*,*/*;q=0.8"),
        ],
        "accept-encoding" => &[("gzip-br", "gzip, deflate, br"), ("identity", "identity")],
        "x-forwarded-for" => &[
            ("proxied", "198.51.100.23, 203.0.113.178"),
            ("ipv6", "2001:db8::7"),
        ],
        "cloudfront-viewer-country" => &[("de", "DE"), ("jp", "JP")],
        "if-none-match" => &[
            // The etag of base response events.
            ("etag", "\"5d41402abc4b2a76b9719d911017c592\""),
            ("weak", "W/\"1a2b3c\""),
        ],
        "if-modified-since" => &[("date", "Tue, 09 Dec 2025 10:11:12 GMT")],
        "range" => &[("bytes", "bytes=0-1023")],
        "content-type" => &[
            ("json", "application/json"),
            ("form", "application/x-www-form-urlencoded"),
        ],
        "host" => &[("www", "www.example.com"), ("apex", "example.com")],
        name if name.starts_with("cloudfront-is-") => &[("true", "true"), ("false", "false")],
        _ => GENERIC_VALUES,
    }
}

/// Realistic values of a response header, by lower-case name, with event-name slugs.
fn response_header_values(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "content-type" => &[("json", "application/json"), ("image", "image/png")],
        "cache-control" => &[
            ("no-store", "no-store"),
            ("immutable", "public, max-age=31536000, immutable"),
        ],
        "set-cookie" => &[("session", "session=abc123; Path=/; Secure; HttpOnly")],
        "location" => &[("absolute", "https://www.example.com/new-page")],
        "server" => &[("nginx", "nginx/1.25.3")],
        "x-powered-by" => &[("express", "Express")],
        _ => GENERIC_VALUES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard base64 with padding, to check the encoded constants.
    fn base64(text: &str) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut encoded = String::new();
        for chunk in text.as_bytes().chunks(3) {
            let bits = chunk.iter().enumerate().fold(0u32, |acc, (index, &byte)| {
                acc | u32::from(byte) << (16 - 8 * index)
            });
            for index in 0..4 {
                if index <= chunk.len() {
                    let sextet = (bits >> (18 - 6 * index)) & 63;
                    encoded.push(char::from(ALPHABET[sextet as usize]));
                } else {
                    encoded.push('=');
                }
            }
        }
        encoded
    }

    fn settings(probes: &Probes) -> Vec<&Setting> {
        probes
            .essential
            .iter()
            .chain(&probes.extra)
            .map(|probe| &probe.setting)
            .collect()
    }

    #[test]
    fn encoded_constants_say_what_their_docs_say() {
        assert_eq!(base64("user:password"), "dXNlcjpwYXNzd29yZA==");
        assert_eq!(
            BASIC_CREDENTIALS,
            format!("Basic {}", base64("user:password"))
        );
        assert_eq!(JSON_BODY, base64(r#"{"name":"edgeport","items":[1,2]}"#));
        assert_eq!(FORM_BODY, base64("name=edgeport&tags=a&tags=b"));
    }

    #[test]
    fn headers_get_values_then_their_absence() {
        let probes = read_probes(&Field::Header("accept-language".to_owned()));
        assert_eq!(
            settings(&probes),
            [
                &Setting::Value("de-CH,de;q=0.9,en;q=0.8".to_owned()),
                &Setting::Absent,
                &Setting::Value("fr".to_owned()),
            ]
        );
        assert_eq!(probes.essential.len(), 1);
        assert_eq!(
            probes.essential[0].note,
            "present: 'de-CH,de;q=0.9,en;q=0.8'"
        );
        let unknown = read_probes(&Field::Header("x-tenant".to_owned()));
        assert_eq!(settings(&unknown)[1], &Setting::Absent);
        let one_value = read_probes(&Field::ResponseHeader("location".to_owned()));
        assert_eq!(one_value.extra.len(), 1, "the absence");
    }

    #[test]
    fn every_field_gets_a_bounded_number_of_distinct_probes() {
        let fields = [
            Field::Uri,
            Field::Querystring,
            Field::ClientIp,
            Field::Method,
            Field::Cookie,
            Field::Status,
            Field::Body,
            Field::Header("authorization".to_owned()),
            Field::Header("x-whatever".to_owned()),
            Field::ResponseHeader("content-type".to_owned()),
        ];
        for field in fields {
            let probes = read_probes(&field);
            let all: Vec<&Probe> = probes.essential.iter().chain(&probes.extra).collect();
            assert_eq!(probes.essential.len(), 1, "{field:?}");
            assert!(all.len() <= MAX_READ_PROBES, "{field:?}");
            let mut slugs: Vec<&str> = all.iter().map(|probe| probe.slug.as_str()).collect();
            slugs.sort_unstable();
            slugs.dedup();
            assert_eq!(slugs.len(), all.len(), "{field:?}: slugs are unique");
            for probe in all {
                assert!(
                    probe
                        .slug
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                    "{}",
                    probe.slug
                );
            }
        }
        let cookie = read_probes(&Field::Cookie);
        assert_eq!(
            settings(&cookie)[2],
            &Setting::Entries(vec!["session=abc123".to_owned(), "theme=dark".to_owned()])
        );
    }
}
