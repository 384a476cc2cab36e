//! The three renderings of a report (Markdown, JSON, JUnit XML): snapshots of a hand-made report
//! that has every kind of function, and checks of what the snapshots cannot show at a glance:
//! well-formed XML, escaping, and the Markdown staying within GitHub's comment limit.

use edgeport_contract::EventType;
use edgeport_difftest::report::{
    Coverage, Difference, EventOrigin, EventReport, Format, FunctionReport, FunctionStatus, HooksSummary, Logs,
    Observed, Report, Share, Verdict,
};
use edgeport_runtime::cloudfront::Decision;
use edgeport_runtime::Outcome;
use serde_json::{json, Value};

/// A report with one function of each status, sorted by name as the runner sorts them.
fn fixture() -> Report {
    Report {
        edgeport_version: "0.1.0".into(),
        seed: 42,
        functions: vec![
            basic_auth(),
            device_routing(),
            legacy_rewrite(),
            python_headers(),
        ],
    }
}

/// Identical on every event, with coverage the synthesized events improved.
fn basic_auth() -> FunctionReport {
    FunctionReport {
        name: "basic-auth".into(),
        source: "basic-auth/index.js".into(),
        language: "javascript".into(),
        status: FunctionStatus::Identical,
        failure: None,
        events: vec![
            identical_event(
                "correct",
                EventOrigin::Provided,
                None,
                EventType::ViewerRequest,
            ),
            identical_event(
                "wrong-password",
                EventOrigin::Provided,
                None,
                EventType::ViewerRequest,
            ),
            identical_event(
                "synth/authorization-missing",
                EventOrigin::Synthesized,
                Some("header authorization is absent (else arm)"),
                EventType::ViewerRequest,
            ),
        ],
        coverage: Some(Coverage {
            branches: Share {
                covered: 10,
                total: 12,
            },
            provided_branches: Some(Share {
                covered: 6,
                total: 12,
            }),
            uncovered_lines: vec![20, 12, 13, 14],
            partial_branch_lines: vec![9, 11],
        }),
        hooks: Some(HooksSummary {
            rules: 0,
            blocks: 0,
            rejected: 0,
            requests: 0,
            evaluators: Vec::new(),
            failure: Some("the kernel refuses BPF programs (Operation not permitted)".into()),
        }),
    }
}

/// One event on which CloudFront would forward a different request, and one on which only the
/// error message differs.
fn device_routing() -> FunctionReport {
    let tablet_event =
        origin_request_event("/products", &[("CloudFront-Is-Tablet-Viewer", "true")]);
    let forwarded = |uri: &str| {
        let mut request = tablet_event["Records"][0]["cf"]["request"].clone();
        request["uri"] = json!(uri);
        request
    };
    let reference = Observed {
        outcome: Outcome::Result {
            value: forwarded("/tablet/products"),
        },
        decision: Decision::Forward {
            request: forwarded("/tablet/products"),
        },
    };
    let converted = Observed {
        outcome: Outcome::Result {
            value: forwarded("/products"),
        },
        decision: Decision::Forward {
            request: forwarded("/products"),
        },
    };
    let tablet = different_event(
        "synth/tablet-viewer",
        EventOrigin::Synthesized,
        Some("header cloudfront-is-tablet-viewer is 'true' (else-if arm)"),
        Verdict::Different,
        tablet_event.clone(),
        reference,
        converted,
    );

    let no_headers = origin_request_event("/products", &[]);
    // Outcomes in a report are normalised: no stack traces.
    let error = |message: &str| Observed {
        outcome: Outcome::Error {
            error_type: "TypeError".into(),
            error_message: message.into(),
            trace: Vec::new(),
        },
        decision: Decision::Fail {
            status: 503,
            title: "function execution error".into(),
            reason: format!("TypeError: {message}"),
        },
    };
    let malformed = different_event(
        "no-device-headers",
        EventOrigin::Provided,
        None,
        Verdict::RawDifferent,
        no_headers,
        error("Cannot read properties of undefined (reading '0')"),
        error("cannot read property '0' of undefined"),
    );

    FunctionReport {
        name: "device-routing".into(),
        source: "device-routing/index.js".into(),
        language: "javascript".into(),
        status: FunctionStatus::Different,
        failure: None,
        events: vec![
            identical_event(
                "desktop",
                EventOrigin::Provided,
                None,
                EventType::OriginRequest,
            ),
            malformed,
            identical_event(
                "mobile",
                EventOrigin::Provided,
                None,
                EventType::OriginRequest,
            ),
            tablet,
        ],
        coverage: Some(Coverage {
            branches: Share {
                covered: 5,
                total: 6,
            },
            provided_branches: Some(Share {
                covered: 5,
                total: 6,
            }),
            uncovered_lines: vec![18],
            partial_branch_lines: Vec::new(),
        }),
        hooks: Some(HooksSummary {
            rules: 2,
            blocks: 1,
            rejected: 1,
            requests: 431,
            evaluators: vec!["kernel".into(), "rbpf".into()],
            failure: None,
        }),
    }
}

/// Did not convert; the diagnostic holds everything that needs escaping in Markdown.
fn legacy_rewrite() -> FunctionReport {
    FunctionReport {
        name: "legacy-rewrite".into(),
        source: "legacy-rewrite/handler.ts".into(),
        language: "typescript".into(),
        status: FunctionStatus::ConversionFailed,
        failure: Some(
            [
                "error[EP0105]: `eval` cannot be converted",
                " --> handler.ts:7:16",
                "  |",
                "7 |   const rule = eval(`(uri) => uri.length < ${max} && ok`);",
                "  |                ^^^^ the code is only known at run time",
                "  |",
                "  = help: replace ```eval``` with a function written out in the source",
            ]
            .join("\n"),
        ),
        events: Vec::new(),
        coverage: None,
        hooks: None,
    }
}

/// The reference executor broke.
fn python_headers() -> FunctionReport {
    FunctionReport {
        name: "python-headers".into(),
        source: "python-headers/handler.py".into(),
        language: "python".into(),
        status: FunctionStatus::Error,
        failure: Some(
            "the python3 reference worker exited with status 137\nstderr: MemoryError".into(),
        ),
        events: Vec::new(),
        coverage: None,
        hooks: None,
    }
}

fn identical_event(
    name: &str,
    origin: EventOrigin,
    purpose: Option<&str>,
    event_type: EventType,
) -> EventReport {
    EventReport {
        name: name.into(),
        origin,
        purpose: purpose.map(Into::into),
        event_type,
        verdict: Verdict::Identical,
        difference: None,
    }
}

/// A non-identical origin-request event, with a diff made the way the runner makes it.
fn different_event(
    name: &str,
    origin: EventOrigin,
    purpose: Option<&str>,
    verdict: Verdict,
    event: Value,
    reference: Observed,
    converted: Observed,
) -> EventReport {
    let pretty = |observed: &Observed| {
        serde_json::to_string_pretty(observed).expect("an outcome serializes") + "\n"
    };
    let (left, right) = (pretty(&reference), pretty(&converted));
    let diff = similar::TextDiff::from_lines(&left, &right)
        .unified_diff()
        .header("node", "edgeport")
        .to_string();
    EventReport {
        name: name.into(),
        origin,
        purpose: purpose.map(Into::into),
        event_type: EventType::OriginRequest,
        verdict,
        difference: Some(Box::new(Difference {
            event,
            reference,
            converted,
            diff,
            // Logs only where the viewer would notice, so both renderings are covered.
            logs: if verdict == Verdict::Different {
                Logs::new("routing to the mobile origin\n", "routing to the mobile origin\n")
            } else {
                Logs::default()
            },
        })),
    }
}

/// A CloudFront origin-request event for an S3 origin.
fn origin_request_event(uri: &str, extra_headers: &[(&str, &str)]) -> Value {
    let mut headers = json!({
        "host": [{ "key": "Host", "value": "example-site.s3.amazonaws.com" }],
        "user-agent": [{ "key": "User-Agent", "value": "Amazon CloudFront" }],
    });
    for (key, value) in extra_headers {
        headers[key.to_ascii_lowercase()] = json!([{ "key": key, "value": value }]);
    }
    json!({
        "Records": [{
            "cf": {
                "config": {
                    "distributionDomainName": "d111111abcdef8.cloudfront.net",
                    "distributionId": "EDFDVBD6EXAMPLE",
                    "eventType": "origin-request",
                    "requestId": "d27VWJf3a1mPuoDsaKUAZG3GnoNJ5GxhG4Lx5ROc_EXAMPLE7=="
                },
                "request": {
                    "clientIp": "203.0.113.178",
                    "headers": headers,
                    "method": "GET",
                    "querystring": "",
                    "uri": uri
                }
            }
        }]
    })
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!("markdown", fixture().render(Format::Markdown));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!("json", fixture().render(Format::Json));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!("junit", fixture().render(Format::Junit));
}

#[test]
fn json_has_a_summary_and_a_trailing_newline() {
    let text = fixture().render(Format::Json);
    assert!(
        text.ends_with("}\n"),
        "no trailing newline: {:?}",
        &text[text.len().saturating_sub(10)..]
    );
    let value: Value = serde_json::from_str(&text).expect("the JSON report parses");
    assert_eq!(
        value["summary"],
        json!({ "functions": 4, "events": 7, "identical": 1, "different": 1, "conversionFailed": 1, "errors": 1 })
    );
    assert_eq!(value["functions"].as_array().map(Vec::len), Some(4));
    assert_eq!(value["functions"][2]["status"], "conversion-failed");
}

#[test]
fn markdown_verdict_names_differences_and_failures() {
    let markdown = fixture().render(Format::Markdown);
    let verdict = markdown.lines().nth(2).expect("a verdict line");
    assert_eq!(
        verdict,
        "❌ 1 of 4 functions differs (2 of 7 events); 1 failed to convert; 1 could not be run"
    );
    assert!(
        markdown.contains("| 💥 legacy-rewrite · conversion failed | — | — | — | — |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("83% (10/12 branches) · provided events alone 50%"),
        "{markdown}"
    );
    assert!(
        markdown.contains(": lines 12–14, 20; branches not taken both ways on lines 9, 11\n"),
        "{markdown}"
    );
}

#[test]
fn markdown_code_blocks_outlast_backtick_runs() {
    let markdown = fixture().render(Format::Markdown);
    // The diagnostic holds a run of three backticks, so its fence needs four.
    assert!(
        markdown.contains("\n````text\nerror[EP0105]: `eval` cannot be converted\n"),
        "{markdown}"
    );
    assert_eq!(
        markdown.matches("<details>").count(),
        markdown.matches("</details>").count(),
        "unbalanced <details>"
    );
}

#[test]
fn markdown_all_identical_says_so() {
    let mut second = basic_auth();
    second.name = "cache-headers".into();
    second.coverage = None;
    let report = Report {
        edgeport_version: "0.1.0".into(),
        seed: 7,
        functions: vec![basic_auth(), second],
    };
    let markdown = report.render(Format::Markdown);
    assert_eq!(
        markdown.lines().nth(2),
        Some("✅ 2 functions, 6 events: no differences")
    );
    assert!(
        !markdown.contains('❌') && !markdown.contains("####"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| ✅ cache-headers | 3 | 3 | 0 | — |"),
        "{markdown}"
    );

    let junit = report.render(Format::Junit);
    assert!(
        junit.contains("<testsuites name=\"edgeport\" tests=\"6\" failures=\"0\" errors=\"0\">"),
        "{junit}"
    );
}

#[test]
fn markdown_escapes_table_cells_and_summaries() {
    let mut function = device_routing();
    function.name = "a|b <script>&`x`\nnext_*line*".into();
    let markdown = Report {
        edgeport_version: "0.1.0".into(),
        seed: 1,
        functions: vec![function],
    }
    .render(Format::Markdown);

    let row = markdown
        .lines()
        .find(|line| line.starts_with("| ❌"))
        .expect("a table row for the function");
    assert_eq!(
        row,
        "| ❌ a&#124;b &lt;script&gt;&amp;&#96;x&#96; next&#95;&#42;line&#42; | 4 | 2 | 2 | 83% (5/6 branches) | 2 rules (1 dropped at XDP) · 1 rejected |"
    );
    assert_eq!(row.matches('|').count(), 7, "a cell was split: {row}");
    let summary = markdown
        .lines()
        .find(|line| line.starts_with("<summary>❌"))
        .expect("a summary for the function");
    assert!(
        summary.contains("<b>a&#124;b &lt;script&gt;&amp;&#96;x&#96; next&#95;&#42;line&#42;</b>"),
        "{summary}"
    );
    assert!(!markdown.contains("<script>"), "{markdown}");
}

#[test]
fn markdown_stays_within_githubs_limit() {
    // 40 functions with 25 differing events each, every event carrying a 1 KiB header: far
    // more evidence than a comment can hold.
    let big_value = "x".repeat(1024);
    let functions: Vec<FunctionReport> = (0..40)
        .map(|f| {
            let mut function = device_routing();
            function.name = format!("function-{f:02}");
            function.events = (0..25)
                .map(|e| {
                    let event = origin_request_event("/", &[("x-padding", &big_value)]);
                    let reference = Observed {
                        outcome: Outcome::Result {
                            value: json!({ "status": "200", "body": big_value }),
                        },
                        decision: Decision::Respond {
                            response: json!({ "status": "200" }),
                        },
                    };
                    let converted = Observed {
                        outcome: Outcome::Result {
                            value: json!({ "status": "500", "body": big_value }),
                        },
                        decision: Decision::Respond {
                            response: json!({ "status": "500" }),
                        },
                    };
                    different_event(
                        &format!("event-{e:02}"),
                        EventOrigin::Provided,
                        None,
                        Verdict::Different,
                        event,
                        reference,
                        converted,
                    )
                })
                .collect();
            function
        })
        .collect();
    let report = Report {
        edgeport_version: "0.1.0".into(),
        seed: 1,
        functions,
    };
    let markdown = report.render(Format::Markdown);

    assert!(
        markdown.chars().count() < 65_536,
        "{} characters",
        markdown.chars().count()
    );
    assert_eq!(
        markdown
            .lines()
            .filter(|line| line.starts_with("| ❌ function-"))
            .count(),
        40,
        "the table lost rows"
    );
    let shown = markdown.matches("\n#### ❌ ").count();
    assert!(shown > 0, "no evidence was kept");
    let note = markdown.lines().last().expect("a closing note");
    let left_out = 40 * 25 - shown;
    assert!(
        note.contains(&format!(": {left_out} differing events")),
        "{note}"
    );
    assert!(
        note.contains("The JSON report (`--format json`) has all of them."),
        "{note}"
    );
    let has_coverage = markdown.contains("Coverage: source lines no event reached");
    assert_ne!(
        has_coverage,
        note.contains("the coverage section"),
        "the coverage section is there or noted as left out"
    );
    assert_eq!(
        markdown.matches("<details>").count(),
        markdown.matches("</details>").count(),
        "unbalanced <details>"
    );
}

#[test]
fn markdown_of_a_huge_run_lists_only_what_needs_attention() {
    // A thousand functions are more than a comment's table can hold, and their coverage more
    // than its coverage section can.
    let functions: Vec<FunctionReport> = (0..1000)
        .map(|i| {
            let mut function = if i == 500 {
                device_routing()
            } else {
                basic_auth()
            };
            function.name = format!("function-{i:04}");
            function
        })
        .collect();
    let markdown = Report {
        edgeport_version: "0.1.0".into(),
        seed: 1,
        functions,
    }
    .render(Format::Markdown);

    assert!(
        markdown.chars().count() < 65_536,
        "{} characters",
        markdown.chars().count()
    );
    let rows: Vec<&str> = markdown
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| :--"))
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[1].starts_with("| ❌ function-0500 |"), "{rows:?}");
    assert!(
        markdown.contains("\n999 functions not listed here (999 of them identical);"),
        "{markdown}"
    );
    assert!(
        markdown.contains("\n#### ❌ synth/tablet-viewer\n"),
        "the evidence was dropped"
    );
    let note = markdown.lines().last().expect("a closing note");
    assert!(
        note.ends_with(
            ": the coverage section. The JSON report (`--format json`) has all of them."
        ),
        "{note}"
    );
}

#[test]
fn junit_is_well_formed_and_counts_add_up() {
    let xml = fixture().render(Format::Junit);
    let root =
        parse_xml(&xml).unwrap_or_else(|error| panic!("malformed JUnit XML: {error}\n{xml}"));
    assert_eq!(root.name, "testsuites");
    let all_cases: Vec<&Element> = root
        .children
        .iter()
        .flat_map(|suite| &suite.children)
        .collect();
    assert_eq!(
        root.attribute("tests"),
        Some(all_cases.len().to_string().as_str())
    );
    assert_eq!(root.attribute("failures"), Some("2"));
    assert_eq!(root.attribute("errors"), Some("2"));
    for suite in &root.children {
        assert_eq!(
            suite.attribute("tests"),
            Some(suite.children.len().to_string().as_str())
        );
        let with = |kind: &str| {
            suite
                .children
                .iter()
                .filter(|case| case.child(kind).is_some())
                .count()
                .to_string()
        };
        assert_eq!(suite.attribute("failures"), Some(with("failure").as_str()));
        assert_eq!(suite.attribute("errors"), Some(with("error").as_str()));
    }

    let routing = root
        .children
        .iter()
        .find(|s| s.attribute("name") == Some("device-routing"))
        .expect("a suite");
    let tablet = routing
        .children
        .iter()
        .find(|c| c.attribute("name") == Some("synth/tablet-viewer"))
        .expect("a case");
    let failure = tablet.child("failure").expect("a failure");
    let diff = match &device_routing().events[3].difference {
        Some(difference) => difference.diff.clone(),
        None => panic!("the tablet event has a difference"),
    };
    assert!(
        failure
            .text
            .starts_with("event type: origin-request\norigin: synthesized\npurpose: header"),
        "{}",
        failure.text
    );
    assert!(failure.text.ends_with(&diff), "{}", failure.text);

    let legacy = root
        .children
        .iter()
        .find(|s| s.attribute("name") == Some("legacy-rewrite"))
        .expect("a suite");
    let convert = legacy.child("testcase").expect("a test case");
    assert_eq!(convert.attribute("name"), Some("convert"));
    let error = convert.child("error").expect("an error");
    assert_eq!(
        Some(error.text.as_str()),
        legacy_rewrite().failure.as_deref()
    );
    assert_eq!(
        error.attribute("message"),
        Some("conversion failed: error[EP0105]: `eval` cannot be converted")
    );
}

#[test]
fn junit_escapes_markup_and_replaces_characters_xml_forbids() {
    let mut function = python_headers();
    function.name = "quotes \"'<&>'\"".into();
    function.failure = Some("worker died:\u{0}\u{1b}[31m\tred\r\nline \u{fffe}".into());
    let xml = Report {
        edgeport_version: "0.1.0".into(),
        seed: 1,
        functions: vec![function],
    }
    .render(Format::Junit);
    let root =
        parse_xml(&xml).unwrap_or_else(|error| panic!("malformed JUnit XML: {error}\n{xml}"));
    let suite = root.child("testsuite").expect("a suite");
    assert_eq!(suite.attribute("name"), Some("quotes \"'<&>'\""));
    let error = suite
        .child("testcase")
        .and_then(|case| case.child("error"))
        .expect("an error");
    assert_eq!(
        error.text,
        "worker died:\u{fffd}\u{fffd}[31m\tred\r\nline \u{fffd}"
    );
}

/// An element of a parsed XML document.
#[derive(Debug)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
    /// The element's own character data, references resolved.
    text: String,
}

impl Element {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// Parses the subset of XML 1.0 the JUnit renderer may write (a declaration, elements,
/// attributes, character data and references; no comments, CDATA or DTD), rejecting anything
/// that is not well-formed: unmatched or misnested tags, duplicate or unquoted attributes, a raw
/// `<` or `&` in data, unknown references, and characters XML 1.0 forbids.
fn parse_xml(xml: &str) -> Result<Element, String> {
    let rest = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .ok_or("the document does not start with an XML declaration")?;
    let mut parser = XmlParser { rest };
    parser.skip_whitespace();
    let root = parser.element()?;
    parser.skip_whitespace();
    if parser.rest.is_empty() {
        Ok(root)
    } else {
        Err(format!("content after the root element: {:?}", parser.rest))
    }
}

struct XmlParser<'a> {
    rest: &'a str,
}

impl XmlParser<'_> {
    fn skip_whitespace(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t', '\n', '\r']);
    }

    fn eat(&mut self, token: &str) -> Result<(), String> {
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                Ok(())
            }
            None => Err(format!(
                "expected {token:?} at {:?}",
                self.rest.chars().take(40).collect::<String>()
            )),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let end = self
            .rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')))
            .unwrap_or(self.rest.len());
        let name = &self.rest[..end];
        match name.chars().next() {
            Some(first) if first.is_alphabetic() || first == '_' || first == ':' => {
                self.rest = &self.rest[end..];
                Ok(name.to_owned())
            }
            _ => Err(format!(
                "expected a name at {:?}",
                self.rest.chars().take(40).collect::<String>()
            )),
        }
    }

    fn element(&mut self) -> Result<Element, String> {
        self.eat("<")?;
        let name = self.name()?;
        let mut element = Element {
            name,
            attributes: Vec::new(),
            children: Vec::new(),
            text: String::new(),
        };
        loop {
            let before = self.rest.len();
            self.skip_whitespace();
            if self.eat("/>").is_ok() {
                return Ok(element);
            }
            if self.eat(">").is_ok() {
                break;
            }
            if self.rest.len() == before {
                return Err(format!(
                    "no whitespace before an attribute of <{}>",
                    element.name
                ));
            }
            let attribute = self.name()?;
            self.eat("=\"")?;
            let end = self
                .rest
                .find('"')
                .ok_or("an unterminated attribute value")?;
            let raw = &self.rest[..end];
            if raw.contains('<') {
                return Err(format!("a raw '<' in attribute {attribute}"));
            }
            if element.attribute(&attribute).is_some() {
                return Err(format!("attribute {attribute} twice on <{}>", element.name));
            }
            element.attributes.push((attribute, decode(raw)?));
            self.rest = &self.rest[end + 1..];
        }
        loop {
            if self.rest.starts_with("</") {
                self.eat("</")?;
                let closing = self.name()?;
                if closing != element.name {
                    return Err(format!("<{}> closed by </{closing}>", element.name));
                }
                self.skip_whitespace();
                self.eat(">")?;
                return Ok(element);
            }
            if self.rest.starts_with('<') {
                element.children.push(self.element()?);
                continue;
            }
            let end = self
                .rest
                .find('<')
                .ok_or_else(|| format!("<{}> is never closed", element.name))?;
            let raw = &self.rest[..end];
            if raw.contains("]]>") {
                return Err("']]>' in character data".into());
            }
            element.text.push_str(&decode(raw)?);
            self.rest = &self.rest[end..];
        }
    }
}

/// Character data with its references resolved.
fn decode(raw: &str) -> Result<String, String> {
    let is_xml_char = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
    if let Some(c) = raw.chars().find(|&c| !is_xml_char(c)) {
        return Err(format!("character {c:?} is not allowed in XML 1.0"));
    }
    let mut text = String::new();
    let mut pieces = raw.split('&');
    text.push_str(pieces.next().unwrap_or_default());
    for piece in pieces {
        let (reference, after) = piece
            .split_once(';')
            .ok_or_else(|| format!("a raw '&' before {piece:?}"))?;
        let c = match reference {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = reference.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(decimal) = reference.strip_prefix('#') {
                    decimal.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .filter(|&c| is_xml_char(c))
                    .ok_or_else(|| format!("&{reference}; is unknown or not an XML character"))?
            }
        };
        text.push(c);
        text.push_str(after);
    }
    Ok(text)
}

#[test]
fn logs_are_cut_to_the_limit_on_a_character_boundary() {
    let long = "é".repeat(Logs::LIMIT); // two bytes each
    let logs = Logs::new(&long, "");
    assert_eq!(logs.reference.len(), Logs::LIMIT);
    assert!(logs.reference.chars().all(|c| c == 'é'));
    assert!(!logs.is_empty());
    assert!(Logs::new("", "").is_empty());
}
