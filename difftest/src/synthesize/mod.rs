//! Events synthesized from the frontend's facts, so that a differential test exercises every
//! branch the handler takes on a request field even when the function came with few events.
//!
//! For each trigger the function is attached to there is the base event (`GET /` from a
//! browser, as CloudFront sends it); then, for every comparison the frontend found, events
//! that hit it and events that miss it (a header also goes missing); and for every field the
//! handler reads without branching on a comparison of it, events with realistic values of
//! different structure (a header also goes missing). Each is the base event with one field
//! changed. Last come the read fields' values in the first hit of every comparison on another
//! field, because handlers often parse a field only behind such a test
//! (`if (request.uri !== '/search.php') return request;`).
//!
//! Invariant: the same facts, triggers and options give byte-identical events; all variety
//! comes from the seed.
//!
//! Invariant: cut to `max_events`, the events keep the base events, then a hit and a miss of
//! every comparison, then one value of every read field, before any comparison or read field
//! gets another event; events that change two fields come after all that change one.

mod reads;
mod regex;
mod templates;
mod values;

use std::collections::HashSet;

use edgeport_contract::EventType;
use edgeport_frontends::javascript::{
    ComparedLiteral, Comparison, ComparisonOperator, HandlerFacts,
};
use serde::Serialize;
use serde_json::Value;

use self::reads::read_probes;
pub use self::regex::{matching_string, matching_strings};
pub use self::templates::base_event;
use self::templates::{event_with_origin, OriginKind};
use self::values::{fnv1a, probes, quote, slug, Field, Probe, Probes, SplitMix32};

/// How many events to synthesize, and the seed of their variety.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthesisOptions {
    /// Seeds client addresses and request ids; the same seed gives the same events.
    pub seed: u32,
    /// The most events to return.
    pub max_events: usize,
}

impl Default for SynthesisOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            max_events: 64,
        }
    }
}

/// One synthesized event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyntheticEvent {
    /// Stable, unique, filename-safe name, e.g. "viewer-request/uri-starts-with-images-hit".
    pub name: String,
    /// Why it exists, for reports: "uri starts with '/images/' (hit: '/images/index.html')".
    pub purpose: String,
    /// The trigger it is an event of.
    pub event_type: EventType,
    /// The whole Lambda@Edge event.
    pub event: Value,
}

/// Realistic values of a request or response field (`header:accept-language`, `cookie`,
/// `uri` ...) that hit no particular literal: what the hook proof mixes into its requests for
/// the fields a handler reads without comparing (a rule must not ignore them).
pub fn realistic_values(field: &str) -> Vec<String> {
    Field::parse(field).map(|field| field.others("")).unwrap_or_default()
}

/// Events for a function attached to `event_types` (callers pass `facts.event_types` or a
/// configured list; an empty list means viewer-request): the base events, then hits and
/// misses of every comparison in `facts`, then values of the fields it reads without
/// comparing them, then those values inside the comparisons' hits, at most
/// `options.max_events` of them.
pub fn synthesize(
    facts: &HandlerFacts,
    event_types: &[EventType],
    options: &SynthesisOptions,
) -> Vec<SyntheticEvent> {
    let mut triggers: Vec<EventType> = Vec::new();
    for &event_type in event_types {
        if !triggers.contains(&event_type) {
            triggers.push(event_type);
        }
    }
    if triggers.is_empty() {
        triggers.push(EventType::ViewerRequest);
    }

    let mut random = SplitMix32::new(options.seed);
    let compared: Vec<Probed> = facts
        .comparisons
        .iter()
        .filter_map(|comparison| {
            let field = Field::parse(&comparison.field)?;
            Some(Probed {
                slug: comparison_slug(comparison, &field),
                description: describe(comparison, &field),
                probes: probes(comparison, &field, &mut random),
                branches: comparison.operator != ComparisonOperator::RegexReplace,
                field,
            })
        })
        .collect();
    // A field the handler branches on gets its values from its comparisons; `replace`
    // transforms a field without branching, so it takes read values as well.
    let mut read: Vec<Probed> = Vec::new();
    for field_read in &facts.reads {
        let Some(field) = Field::parse(&field_read.field) else {
            continue;
        };
        let covered = compared
            .iter()
            .filter(|compared| compared.branches)
            .chain(&read)
            .any(|probed| probed.field == field);
        if !covered {
            read.push(Probed {
                slug: format!("{}-read", field.slug()),
                description: format!("reads {}", field.describe()),
                probes: read_probes(&field),
                branches: false,
                field,
            });
        }
    }

    let mut candidates = Vec::new();
    for &event_type in &triggers {
        candidates.push(Candidate {
            name: "base".to_owned(),
            purpose: format!("the {event_type} event as CloudFront sends it"),
            event_type,
            event: base_event(event_type),
        });
        if matches!(
            event_type,
            EventType::OriginRequest | EventType::OriginResponse
        ) {
            candidates.push(Candidate {
                name: "base-custom-origin".to_owned(),
                purpose: format!("the {event_type} event with a custom origin"),
                event_type,
                event: event_with_origin(event_type, OriginKind::Custom),
            });
        }
    }
    // Round 0 takes every comparison's hit and miss, then every read field's first value;
    // round n the n-th other probe of each.
    let rounds = compared
        .iter()
        .chain(&read)
        .map(|probed| probed.probes.extra.len())
        .max()
        .unwrap_or(0);
    for group in [&compared, &read] {
        for &event_type in &triggers {
            for probed in group {
                candidates.extend(probed.candidates(event_type, probed.probes.round(0)));
            }
        }
    }
    for round in 1..=rounds {
        for &event_type in &triggers {
            for probed in compared.iter().chain(&read) {
                candidates.extend(probed.candidates(event_type, probed.probes.round(round)));
            }
        }
    }
    // Read values in the hits of comparisons on other fields, round n taking every read
    // field's n-th value, a bounded number per trigger: a field read only for logging would
    // otherwise make an event per comparison and value.
    let mut made_inside_hits = vec![0; triggers.len()];
    for round in 0..=rounds {
        for (&event_type, made) in triggers.iter().zip(&mut made_inside_hits) {
            for guard in &compared {
                let hit = guard.probes.hit();
                let Some(hit) = hit.filter(|_| guard.branches && guard.field.exists_on(event_type))
                else {
                    continue;
                };
                for read in read.iter().filter(|read| read.field != guard.field) {
                    for candidate in read.candidates(event_type, read.probes.round(round)) {
                        if *made < MAX_INSIDE_HITS_PER_TRIGGER {
                            candidates.push(guard.inside_hit(hit, candidate));
                            *made += 1;
                        }
                    }
                }
            }
        }
    }

    let mut seen_events = HashSet::new();
    let mut seen_names = HashSet::new();
    let mut events = Vec::new();
    for candidate in candidates {
        if events.len() >= options.max_events {
            break;
        }
        if !seen_events.insert(candidate.event.to_string()) {
            continue;
        }
        let unique = format!("{}/{}", candidate.event_type, candidate.name);
        let mut name = unique.clone();
        let mut counter = 1;
        while !seen_names.insert(name.clone()) {
            counter += 1;
            name = format!("{unique}-{counter}");
        }
        let mut event = candidate.event;
        templates::set_request_id(&mut event, &request_id(options.seed, &name));
        events.push(SyntheticEvent {
            name,
            purpose: candidate.purpose,
            event_type: candidate.event_type,
            event,
        });
    }
    events
}

/// The most events per trigger that put a read field's value into a comparison's hit.
const MAX_INSIDE_HITS_PER_TRIGGER: usize = 12;

/// An event before deduplication and naming.
struct Candidate {
    /// The event's name after its trigger's: `uri-starts-with-mobile-hit`.
    name: String,
    purpose: String,
    event_type: EventType,
    event: Value,
}

/// A comparison, or a field read without any comparison, with its probes.
struct Probed {
    field: Field,
    /// Whether the handler takes a branch on it: a comparison other than `replace`.
    branches: bool,
    /// The comparison's or read's part of event names: `uri-starts-with-mobile`,
    /// `header-accept-language-read`.
    slug: String,
    /// The comparison or read in purposes: `uri starts with '/mobile/'`,
    /// `reads header 'accept-language'`.
    description: String,
    probes: Probes,
}

impl Probed {
    /// The events of `probes` on a trigger, none when its events lack the field.
    fn candidates<'p>(
        &'p self,
        event_type: EventType,
        probes: &'p [Probe],
    ) -> impl Iterator<Item = Candidate> + 'p {
        let exists = self.field.exists_on(event_type);
        probes
            .iter()
            .filter(move |_| exists)
            .map(move |probe| self.candidate(event_type, probe))
    }

    fn candidate(&self, event_type: EventType, probe: &Probe) -> Candidate {
        let mut event = base_event(event_type);
        self.field.apply(&mut event, &probe.setting);
        Candidate {
            name: format!("{}-{}", self.slug, probe.slug),
            purpose: format!("{} ({})", self.description, probe.note),
            event_type,
            event,
        }
    }

    /// A read field's `candidate` moved into this comparison's `hit`.
    fn inside_hit(&self, hit: &Probe, mut candidate: Candidate) -> Candidate {
        self.field.apply(&mut candidate.event, &hit.setting);
        candidate.name = format!("{}-{}-{}", self.slug, hit.slug, candidate.name);
        candidate.purpose = format!("{} ({}), {}", self.description, hit.note, candidate.purpose);
        candidate
    }
}

/// `uri-starts-with-mobile`; lists leave out their values, which their hits name.
fn comparison_slug(comparison: &Comparison, field: &Field) -> String {
    let literal = match &comparison.literal {
        ComparedLiteral::String { value } => slug(value),
        ComparedLiteral::Regex { pattern, .. } => slug(pattern),
        ComparedLiteral::List { .. } => {
            return format!("{}-{}", field.slug(), operator_name(comparison.operator))
        }
    };
    format!(
        "{}-{}-{literal}",
        field.slug(),
        operator_name(comparison.operator)
    )
}

/// The operator's name in the manifest (`starts-with`), so reports and facts agree.
fn operator_name(operator: ComparisonOperator) -> String {
    match serde_json::to_value(operator) {
        Ok(Value::String(name)) => name,
        _ => format!("{operator:?}").to_ascii_lowercase(),
    }
}

/// `uri starts with '/mobile/'`, `header 'user-agent' matches /bot/i`.
fn describe(comparison: &Comparison, field: &Field) -> String {
    use ComparisonOperator as Op;
    let literal = match &comparison.literal {
        ComparedLiteral::String { value } => quote(value),
        ComparedLiteral::Regex { pattern, flags } => format!("/{pattern}/{flags}"),
        ComparedLiteral::List { values } => {
            const SHOWN: usize = 3;
            let mut shown: Vec<String> = values
                .iter()
                .take(SHOWN)
                .map(|value| quote(value))
                .collect();
            if values.len() > SHOWN {
                shown.push(format!("… ({} in all)", values.len()));
            }
            format!("[{}]", shown.join(", "))
        }
    };
    let operator = match comparison.operator {
        Op::Equals => "===",
        Op::NotEquals => "!==",
        Op::StartsWith => "starts with",
        Op::EndsWith => "ends with",
        Op::Includes => "includes",
        Op::IndexOf => "indexOf",
        Op::RegexTest | Op::RegexMatch | Op::RegexSearch | Op::RegexReplace => "matches",
        Op::InList => "is one of",
        Op::SwitchCase => "is switch case",
        Op::ObjectKey => "is a key of",
    };
    let case = if comparison.case_insensitive {
        ", ignoring case"
    } else {
        ""
    };
    format!("{} {operator} {literal}{case}", field.describe())
}

/// A request id in CloudFront's format, fixed by the seed and the event's name.
fn request_id(seed: u32, name: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut random = SplitMix32::new(seed ^ fnv1a(name));
    let mut id: String = (0..54)
        .map(|_| char::from(ALPHABET[random.below(64) as usize]))
        .collect();
    id.push_str("==");
    id
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use edgeport_frontends::javascript::{analyze, Options};
    use edgeport_frontends::SourceFile;

    use super::*;

    fn corpus() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
    }

    /// The handler file of a corpus case.
    fn handler_path(case: &str) -> PathBuf {
        edgeport_converter::discover::HANDLER_FILES
            .iter()
            .map(|name| corpus().join(case).join(name))
            .find(|path| path.exists())
            .unwrap_or_else(|| panic!("corpus case {case} has a handler"))
    }

    fn facts_of(name: &str, text: &str) -> HandlerFacts {
        let file = SourceFile::new(name, text);
        let analysis = if name.ends_with(".py") {
            edgeport_frontends::python::analyze(&file, &Options::default())
        } else {
            analyze(&file, &Options::default())
        };
        analysis.facts.expect("the handler parses")
    }

    fn corpus_facts(case: &str) -> HandlerFacts {
        let path = handler_path(case);
        let text = std::fs::read_to_string(&path).expect("the corpus is readable");
        facts_of(&path.file_name().expect("a file").to_string_lossy(), &text)
    }

    /// Every corpus case with a handler.
    fn corpus_cases() -> Vec<String> {
        let mut cases: Vec<String> = std::fs::read_dir(corpus())
            .expect("the corpus is readable")
            .flatten()
            .filter(|entry| entry.path().join("case.json").exists())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        cases.sort();
        cases
    }

    const ALL: SynthesisOptions = SynthesisOptions {
        seed: 1,
        max_events: 1000,
    };

    fn request<'e>(event: &'e SyntheticEvent, field: &str) -> &'e Value {
        &event.event["Records"][0]["cf"]["request"][field]
    }

    /// The string values a request field takes across the events.
    fn field_values<'e>(events: &'e [SyntheticEvent], field: &str) -> Vec<&'e str> {
        events
            .iter()
            .filter_map(|event| request(event, field).as_str())
            .collect()
    }

    fn header<'e>(event: &'e SyntheticEvent, name: &str) -> Option<&'e str> {
        request(event, "headers").get(name)?[0]["value"].as_str()
    }

    fn by_name<'e>(events: &'e [SyntheticEvent], name: &str) -> &'e SyntheticEvent {
        events
            .iter()
            .find(|event| event.name == name)
            .unwrap_or_else(|| panic!("no event {name} among {:#?}", names(events)))
    }

    fn names(events: &[SyntheticEvent]) -> Vec<&str> {
        events.iter().map(|event| event.name.as_str()).collect()
    }

    /// Runs the corpus handler on node with each event; the results, `null` for an error.
    fn run_on_node(case: &str, events: &[SyntheticEvent]) -> Option<Vec<Value>> {
        let script = r#"
            const { handler } = require(process.argv[1]);
            const print = (text) => process.stdout.write(text);
            // Handlers log; only the results go to stdout.
            console.log = console.info = console.warn = console.error = () => {};
            const events = JSON.parse(require('fs').readFileSync(0, 'utf8'));
            (async () => {
              const results = [];
              for (const event of events) {
                results.push(await new Promise((resolve) => {
                  const returned = handler(event, {}, (error, result) => resolve(error ? null : result));
                  if (returned && returned.then) returned.then(resolve, () => resolve(null));
                }));
              }
              print(JSON.stringify(results));
            })();
        "#;
        let mut child = std::process::Command::new("node")
            .args(["-e", script, &handler_path(case).to_string_lossy()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let input: Vec<&Value> = events.iter().map(|event| &event.event).collect();
        let input = serde_json::to_vec(&input).expect("events serialize");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin is piped"), &input)
            .expect("node reads the events");
        let output = child.wait_with_output().expect("node runs");
        assert!(output.status.success(), "node failed on {case}");
        Some(serde_json::from_slice(&output.stdout).expect("node prints JSON"))
    }

    /// The result node gave for the event named `name`.
    fn result_of<'r>(events: &[SyntheticEvent], results: &'r [Value], name: &str) -> &'r Value {
        let index = events
            .iter()
            .position(|event| event.name == name)
            .unwrap_or_else(|| panic!("no event {name}"));
        &results[index]
    }

    #[test]
    fn ip_block_list_gets_blocked_and_allowed_addresses() {
        let events = synthesize(
            &corpus_facts("ip-block-list"),
            &[EventType::ViewerRequest],
            &ALL,
        );
        let addresses = field_values(&events, "clientIp");
        assert!(addresses.contains(&"198.51.100.7"), "{addresses:?}");
        assert!(addresses.contains(&"2001:db8::1"), "{addresses:?}");
        let inside = |prefix: &str, low: u8, high: u8| {
            addresses.iter().any(|address| {
                address
                    .strip_prefix(prefix)
                    .and_then(|last| last.parse::<u8>().ok())
                    .is_some_and(|last| (low..=high).contains(&last))
            })
        };
        assert!(
            inside("203.0.113.", 0, 255),
            "an address in 203.0.113.0/24: {addresses:?}"
        );
        assert!(
            inside("192.0.2.", 128, 255),
            "an address in 192.0.2.128/25: {addresses:?}"
        );
        let miss = request(
            by_name(&events, "viewer-request/client-ip-in-list-miss"),
            "clientIp",
        );
        let miss = miss.as_str().expect("an address");
        assert!(
            !miss.starts_with("203.0.113.") && miss != "198.51.100.7",
            "{miss}"
        );

        let Some(results) = run_on_node("ip-block-list", &events) else {
            println!("SKIPPED: node is not installed");
            return;
        };
        for (event, result) in events.iter().zip(&results) {
            let blocked = result["status"] == "403";
            let listed = event.name.contains("in-list") && event.name.ends_with("-hit");
            if listed || event.name.contains("-miss") {
                assert_eq!(blocked, listed, "{}: {result}", event.name);
            }
        }
    }

    #[test]
    fn static_redirect_gets_every_source_path() {
        let events = synthesize(
            &corpus_facts("static-redirect"),
            &[EventType::ViewerRequest],
            &ALL,
        );
        let uris = field_values(&events, "uri");
        for source in [
            "/about-us",
            "/about-us/",
            "/careers",
            "/blog/2018/hello-world.html",
            "/pricing.html",
        ] {
            assert!(uris.contains(&source), "{source} in {uris:?}");
        }
        assert!(uris.contains(&"/ABOUT-US"), "a case variant: {uris:?}");
        assert!(
            uris.contains(&"/example/index.html"),
            "ends with /index.html: {uris:?}"
        );

        let Some(results) = run_on_node("static-redirect", &events) else {
            println!("SKIPPED: node is not installed");
            return;
        };
        let redirected = |name: &str| result_of(&events, &results, name)["status"] == "301";
        assert!(redirected("viewer-request/uri-object-key-careers-hit"));
        assert!(redirected("viewer-request/uri-object-key-hit-upper-case"));
        assert!(!redirected("viewer-request/uri-object-key-miss"));
    }

    #[test]
    fn user_agent_regexes_get_matching_and_missing_agents() {
        // The corpus's user-agent-block tests a list of regexes: `BAD_BOTS.some((re) => re.test(ua))`.
        let facts = corpus_facts("user-agent-block");
        assert_eq!(facts.comparisons.len(), 5);
        let events = synthesize(&facts, &[EventType::ViewerRequest], &ALL);
        let agents: Vec<Option<&str>> = events
            .iter()
            .map(|event| header(event, "user-agent"))
            .collect();
        for bot in [
            "python-requests",
            "curl/",
            "scrapy",
            "AhrefsBot",
            "SemrushBot",
            "MJ12bot",
            "",
        ] {
            assert!(agents.contains(&Some(bot)), "{bot:?} in {agents:?}");
        }
        assert!(
            agents.contains(&None),
            "an event without user-agent: {agents:?}"
        );
        // One miss (a browser) and one event without the header serve all five regexes: the
        // same event is not made twice.
        let miss = by_name(
            &events,
            "viewer-request/header-user-agent-regex-test-python-requests-miss",
        );
        assert!(header(miss, "user-agent").is_some_and(|agent| agent.contains("Firefox")));
        let absent = by_name(
            &events,
            "viewer-request/header-user-agent-regex-test-python-requests-absent",
        );
        assert!(absent.purpose.contains("absent"), "{}", absent.purpose);
    }

    #[test]
    fn origin_switch_gets_paths_and_the_preview_header() {
        let facts = corpus_facts("origin-switch");
        let events = synthesize(&facts, &facts.event_types, &ALL);
        assert!(events
            .iter()
            .all(|event| event.event_type == EventType::OriginRequest));
        let uris = field_values(&events, "uri");
        assert!(
            uris.contains(&"/api") && uris.contains(&"/api/index.html"),
            "{uris:?}"
        );
        let previews: Vec<Option<&str>> = events
            .iter()
            .map(|event| header(event, "x-preview"))
            .collect();
        assert!(
            previews.contains(&Some("1")) && previews.contains(&Some("other-value")),
            "{previews:?}"
        );
        let hit = by_name(&events, "origin-request/header-x-preview-equals-1-hit");
        assert_eq!(
            request(hit, "headers")["x-preview"],
            serde_json::json!([{ "key": "X-Preview", "value": "1" }])
        );
        assert!(events
            .iter()
            .any(|event| event.name == "origin-request/base-custom-origin"));
    }

    #[test]
    fn error_cases_get_both_api_keys_and_none() {
        let events = synthesize(
            &corpus_facts("error-cases"),
            &[EventType::ViewerRequest],
            &ALL,
        );
        let keys: Vec<Option<&str>> = events
            .iter()
            .map(|event| header(event, "x-api-key"))
            .collect();
        assert!(
            keys.contains(&Some("k-live-7f3a")) && keys.contains(&Some("k-live-0b1e")),
            "{keys:?}"
        );
        assert!(keys.contains(&Some("other-value")), "{keys:?}");
        // Base events have no API key, so the base event is the key's absent twin.
        assert_eq!(
            header(by_name(&events, "viewer-request/base"), "x-api-key"),
            None
        );
        assert!(
            !events.iter().any(|event| event.name.ends_with("-absent")),
            "{:#?}",
            names(&events)
        );
    }

    #[test]
    fn base_events_never_hold_compared_headers_in_their_absent_twin() {
        let facts = facts_of(
            "index.js",
            r"exports.handler = async (event) => {
                const request = event.Records[0].cf.request;
                if (request.headers.host[0].value === 'old.example.com') return { status: '301' };
                if (request.headers['cloudfront-viewer-country'][0].value === 'DE') return { status: '451' };
                return request;
              };",
        );
        let types = [EventType::ViewerRequest, EventType::OriginRequest];
        let events = synthesize(&facts, &types, &ALL);
        for event_type in types {
            for header_name in ["host", "cloudfront-viewer-country"] {
                let absent = events.iter().find(|event| {
                    event.event_type == event_type
                        && event.name.contains(&format!("header-{header_name}"))
                        && event.name.ends_with("-absent")
                });
                // viewer-request has no country header to begin with: its absent twin is the base.
                if let Some(absent) = absent {
                    assert_eq!(header(absent, header_name), None, "{}", absent.name);
                } else {
                    assert_eq!(
                        (event_type, header_name),
                        (EventType::ViewerRequest, "cloudfront-viewer-country")
                    );
                }
            }
        }
        let country = by_name(
            &events,
            "viewer-request/header-cloudfront-viewer-country-equals-de-hit",
        );
        assert_eq!(
            request(country, "headers")["cloudfront-viewer-country"][0]["key"],
            "CloudFront-Viewer-Country"
        );
    }

    #[test]
    fn every_event_has_the_shape_of_its_trigger() {
        let name_pattern = ::regex::Regex::new("^[a-z-]+/[a-z0-9-]+$").expect("a valid regex");
        for case in corpus_cases() {
            let facts = corpus_facts(&case);
            let events = synthesize(&facts, &EventType::ALL, &ALL);
            assert!(events.len() >= 6, "{case}: base events at least");
            let mut seen = HashSet::new();
            let mut bodies = HashSet::new();
            for event in &events {
                assert!(name_pattern.is_match(&event.name), "{case}: {}", event.name);
                assert!(
                    event.name.starts_with(event.event_type.as_str()),
                    "{}",
                    event.name
                );
                assert!(
                    seen.insert(event.name.clone()),
                    "{case}: {} twice",
                    event.name
                );
                let cf = &event.event["Records"][0]["cf"];
                assert_eq!(
                    cf["config"]["eventType"],
                    event.event_type.as_str(),
                    "{}",
                    event.name
                );
                let is_origin_event = matches!(
                    event.event_type,
                    EventType::OriginRequest | EventType::OriginResponse
                );
                assert_eq!(
                    cf["request"]["origin"].is_object(),
                    is_origin_event,
                    "{}",
                    event.name
                );
                assert_eq!(
                    cf["response"].is_object(),
                    !event.event_type.is_request(),
                    "{}",
                    event.name
                );
                let uri = cf["request"]["uri"].as_str().expect("a uri");
                assert!(uri.starts_with('/'), "{}: {uri}", event.name);
                let querystring = cf["request"]["querystring"]
                    .as_str()
                    .expect("a querystring");
                assert!(!querystring.starts_with('?'), "{}", event.name);
                for (name, entries) in cf["request"]["headers"].as_object().expect("headers") {
                    assert_eq!(name, &name.to_ascii_lowercase());
                    assert_eq!(
                        entries[0]["key"]
                            .as_str()
                            .map(str::to_ascii_lowercase)
                            .as_ref(),
                        Some(name)
                    );
                    assert!(entries[0]["value"].is_string());
                }
                let mut without_id = event.event.clone();
                templates::set_request_id(&mut without_id, "");
                assert!(
                    bodies.insert(without_id.to_string()),
                    "{case}: {} duplicates an event",
                    event.name
                );
            }
        }
    }

    #[test]
    fn synthesis_is_deterministic_and_seeded() {
        for case in corpus_cases() {
            let facts = corpus_facts(&case);
            let first = synthesize(&facts, &facts.event_types, &ALL);
            let again = synthesize(&facts, &facts.event_types, &ALL);
            assert_eq!(
                serde_json::to_string(&first).expect("events serialize"),
                serde_json::to_string(&again).expect("events serialize"),
                "{case}"
            );
            let other_seed = SynthesisOptions { seed: 2, ..ALL };
            let other = synthesize(&facts, &facts.event_types, &other_seed);
            assert_eq!(
                names(&first),
                names(&other),
                "{case}: names do not depend on the seed"
            );
            assert_ne!(first, other, "{case}: the seed changes request ids");
        }
    }

    #[test]
    fn max_events_keeps_a_hit_and_a_miss_of_every_comparison_first() {
        let facts = corpus_facts("static-redirect");
        let types = [EventType::ViewerRequest];
        for max_events in [0, 1, 3, 5, 8] {
            let options = SynthesisOptions {
                seed: 1,
                max_events,
            };
            assert!(synthesize(&facts, &types, &options).len() <= max_events);
        }
        let options = SynthesisOptions {
            seed: 1,
            max_events: 5,
        };
        let cut = synthesize(&facts, &types, &options);
        assert_eq!(
            names(&cut),
            [
                "viewer-request/base",
                "viewer-request/uri-ends-with-index-html-hit",
                "viewer-request/uri-ends-with-index-html-miss",
                "viewer-request/uri-object-key-about-us-hit",
                "viewer-request/uri-object-key-miss",
            ]
        );
        let all = synthesize(&facts, &types, &ALL);
        assert!(all.len() > cut.len());
        assert_eq!(all[..cut.len()], cut[..], "cutting keeps a prefix");
    }

    #[test]
    fn no_event_types_means_viewer_request() {
        let facts = corpus_facts("callback-no-wait");
        let events = synthesize(&facts, &[], &ALL);
        assert!(events
            .iter()
            .all(|event| event.event_type == EventType::ViewerRequest));
        assert_eq!(events[0].name, "viewer-request/base");
        let hit = by_name(&events, "viewer-request/uri-starts-with-fast-hit");
        assert_eq!(request(hit, "uri"), "/fast/index.html");
        assert_eq!(
            hit.purpose,
            "uri starts with '/fast' (hit: '/fast/index.html')"
        );
    }

    #[test]
    fn status_comparisons_only_touch_response_events() {
        let facts = facts_of(
            "index.js",
            r"exports.handler = async (event) => {
                const response = event.Records[0].cf.response;
                if (response.status === '404') response.status = '302';
                return response;
              };",
        );
        let events = synthesize(
            &facts,
            &[EventType::ViewerRequest, EventType::OriginResponse],
            &ALL,
        );
        let hit = by_name(&events, "origin-response/status-equals-404-hit");
        assert_eq!(hit.event["Records"][0]["cf"]["response"]["status"], "404");
        assert_eq!(
            hit.event["Records"][0]["cf"]["response"]["statusDescription"],
            "Not Found"
        );
        assert!(events
            .iter()
            .filter(|event| event.event_type == EventType::ViewerRequest)
            .all(|event| event.name == "viewer-request/base"));
    }

    #[test]
    fn async_style_gets_accept_languages_and_none() {
        // The handler parses accept-language in a helper; it compares only the uri.
        let facts = corpus_facts("async-style");
        let events = synthesize(&facts, &[EventType::ViewerRequest], &ALL);
        let regional = by_name(
            &events,
            "viewer-request/header-accept-language-read-regional",
        );
        assert_eq!(
            header(regional, "accept-language"),
            Some("de-CH,de;q=0.9,en;q=0.8")
        );
        assert_eq!(
            regional.purpose,
            "reads header 'accept-language' (present: 'de-CH,de;q=0.9,en;q=0.8')"
        );
        let single = by_name(&events, "viewer-request/header-accept-language-read-single");
        assert_eq!(header(single, "accept-language"), Some("fr"));
        // The base event lacks the header, so it is the absent twin.
        assert_eq!(
            header(by_name(&events, "viewer-request/base"), "accept-language"),
            None
        );
        assert!(!events
            .iter()
            .any(|event| event.name.ends_with("-read-absent")));
        // The uri is compared, so it gets hits and misses rather than read values.
        assert!(!events.iter().any(|event| event.name.contains("uri-read")));

        let Some(results) = run_on_node("async-style", &events) else {
            println!("SKIPPED: node is not installed");
            return;
        };
        let location =
            |name: &str| &result_of(&events, &results, name)["headers"]["location"][0]["value"];
        assert_eq!(location("viewer-request/base"), "/en/");
        assert_eq!(
            location("viewer-request/header-accept-language-read-regional"),
            "/de/"
        );
        assert_eq!(
            location("viewer-request/header-accept-language-read-single"),
            "/fr/"
        );
    }

    #[test]
    fn read_fields_get_realistic_values_of_their_own() {
        let facts = facts_of(
            "index.js",
            r"const querystring = require('querystring');
              exports.handler = async (event) => {
                const request = event.Records[0].cf.request;
                const params = querystring.parse(request.querystring);
                const auth = request.headers.authorization;
                const cookies = request.headers.cookie || [];
                console.log(params, auth, cookies.length, request.method, request.clientIp);
                request.uri = request.uri.replace(/\/$/, '/index.html').toLowerCase();
                return request;
              };",
        );
        let events = synthesize(&facts, &[EventType::ViewerRequest], &ALL);
        let querystrings = field_values(&events, "querystring");
        for querystring in ["a=1&b=2", "tag=x&tag=y", "q=red%20shoes&sort=price", "flag"] {
            assert!(querystrings.contains(&querystring), "{querystrings:?}");
        }
        let basic = by_name(&events, "viewer-request/header-authorization-read-basic");
        assert_eq!(
            header(basic, "authorization"),
            Some("Basic dXNlcjpwYXNzd29yZA==")
        );
        by_name(
            &events,
            "viewer-request/header-authorization-read-malformed",
        );
        let entries = by_name(&events, "viewer-request/cookie-read-entries");
        assert_eq!(
            request(entries, "headers")["cookie"],
            serde_json::json!([
                { "key": "Cookie", "value": "session=abc123" },
                { "key": "Cookie", "value": "theme=dark" },
            ])
        );
        assert_eq!(
            request(
                by_name(&events, "viewer-request/method-read-post"),
                "method"
            ),
            "POST"
        );
        let ipv6 = by_name(&events, "viewer-request/client-ip-read-ipv6");
        assert!(request(ipv6, "clientIp")
            .as_str()
            .is_some_and(|address| address.contains(':')));
        // A `replace` transforms the uri without branching on it: the uri gets read values
        // as well as the comparison's hits and misses.
        let nested = by_name(&events, "viewer-request/uri-read-nested");
        assert_eq!(request(nested, "uri"), "/docs/getting-started");
        assert!(events
            .iter()
            .any(|event| event.name.starts_with("viewer-request/uri-regex-replace-")));
    }

    #[test]
    fn reads_follow_every_comparison_when_events_are_cut() {
        let facts = facts_of(
            "index.js",
            r"exports.handler = async (event) => {
                const request = event.Records[0].cf.request;
                const language = request.headers['accept-language'];
                if (request.uri.startsWith('/api/')) return request;
                request.uri = request.uri + '?' + request.querystring;
                return language ? request : { status: '400' };
              };",
        );
        let types = [EventType::ViewerRequest, EventType::OriginRequest];
        let all = synthesize(&facts, &types, &ALL);
        let index = |name: &str| {
            all.iter()
                .position(|event| event.name == name)
                .unwrap_or_else(|| panic!("no event {name} among {:#?}", names(&all)))
        };
        // Hits and misses of both triggers, then the first value of each read field.
        let last_miss = index("origin-request/uri-starts-with-api-miss");
        let first_read = index("viewer-request/header-accept-language-read-regional");
        assert!(last_miss < first_read);
        // Then every comparison's and read field's second probe, and so on.
        assert!(
            index("origin-request/querystring-read-pairs")
                < index("viewer-request/uri-starts-with-api-hit-exact")
        );
        assert!(
            index("viewer-request/uri-starts-with-api-hit-exact")
                < index("viewer-request/querystring-read-repeated-key")
        );
        assert!(
            index("origin-request/querystring-read-repeated-key")
                < index("viewer-request/querystring-read-encoded")
        );
        // Events that change two fields come last.
        let is_inside_hit =
            |event: &SyntheticEvent| event.name.contains("-hit-") && event.name.contains("-read-");
        let first_inside = all
            .iter()
            .position(is_inside_hit)
            .expect("read values inside the hit of the uri comparison");
        assert!(
            all[first_inside..].iter().all(is_inside_hit),
            "{:#?}",
            names(&all)
        );
        let options = SynthesisOptions {
            seed: 1,
            max_events: first_read + 1,
        };
        let cut = synthesize(&facts, &types, &options);
        assert_eq!(cut[..], all[..cut.len()], "cutting keeps a prefix");
        assert_eq!(
            cut.last().map(|event| event.name.as_str()),
            Some("viewer-request/header-accept-language-read-regional")
        );
    }

    #[test]
    fn esm_module_gets_query_strings_behind_its_uri_test() {
        // The handler parses the query string only for `/search.php`.
        let facts = corpus_facts("esm-module");
        let events = synthesize(&facts, &[EventType::ViewerRequest], &ALL);
        let inside = by_name(
            &events,
            "viewer-request/uri-not-equals-search-php-hit-querystring-read-encoded",
        );
        assert_eq!(request(inside, "uri"), "/search.php");
        assert_eq!(request(inside, "querystring"), "q=red%20shoes&sort=price");
        assert_eq!(
            inside.purpose,
            "uri !== '/search.php' (hit: '/search.php'), reads querystring \
             (percent-encoded: 'q=red%20shoes&sort=price')"
        );

        let Some(results) = run_on_node("esm-module", &events) else {
            println!("SKIPPED: node is not installed");
            return;
        };
        assert_eq!(
            result_of(&events, &results, &inside.name)["headers"]["location"][0]["value"],
            "/search?q=red%20shoes&sort=price"
        );
    }

    #[test]
    fn read_values_inside_hits_are_bounded_per_trigger() {
        // ip-block-list logs the uri of a blocked request: six uri values could go into the hit
        // of each of its six comparisons.
        let facts = corpus_facts("ip-block-list");
        let types = [EventType::ViewerRequest, EventType::OriginRequest];
        let events = synthesize(&facts, &types, &ALL);
        for event_type in types {
            let inside_hits = events
                .iter()
                .filter(|event| {
                    event.event_type == event_type && event.name.contains("-hit-uri-read-")
                })
                .count();
            // Two comparisons with the same hit make the same events, which merge.
            assert!(
                (1..=MAX_INSIDE_HITS_PER_TRIGGER).contains(&inside_hits),
                "{event_type}: {inside_hits}"
            );
        }
    }

    #[test]
    fn response_fields_only_touch_response_events() {
        // security-headers reads status and the content type; it compares the content type.
        let facts = corpus_facts("security-headers");
        let events = synthesize(
            &facts,
            &[EventType::ViewerRequest, EventType::OriginResponse],
            &ALL,
        );
        assert!(events
            .iter()
            .filter(|event| event.event_type == EventType::ViewerRequest)
            .all(|event| event.name == "viewer-request/base"));
        let response = |name: &str| &by_name(&events, name).event["Records"][0]["cf"]["response"];
        assert_eq!(
            response("origin-response/status-read-not-found")["status"],
            "404"
        );
        let miss = response("origin-response/response-header-content-type-index-of-text-html-miss");
        assert_eq!(
            miss["headers"]["content-type"][0]["value"],
            "application/json"
        );
        let absent =
            response("origin-response/response-header-content-type-index-of-text-html-absent");
        assert!(absent["headers"].get("content-type").is_none());
        assert!(!events
            .iter()
            .any(|event| event.name.contains("content-type-read")));
    }

    #[test]
    fn bodies_are_posted_to_request_triggers_only() {
        let facts = facts_of(
            "index.js",
            r"exports.handler = async (event) => {
                const { request } = event.Records[0].cf;
                const data = Buffer.from(request.body.data, 'base64').toString();
                return data.length > 0 ? request : { status: '400' };
              };",
        );
        let events = synthesize(
            &facts,
            &[EventType::OriginRequest, EventType::ViewerResponse],
            &ALL,
        );
        let json = by_name(&events, "origin-request/body-read-json");
        assert_eq!(request(json, "method"), "POST");
        assert_eq!(request(json, "body")["encoding"], "base64");
        assert!(events
            .iter()
            .filter(|event| event.event_type == EventType::ViewerResponse)
            .all(|event| request(event, "body").is_null()));
    }

    /// Prints what synthesis makes of a few corpus cases; run with `--nocapture` to read it.
    #[test]
    fn print_corpus_events() {
        for case in [
            "ip-block-list",
            "static-redirect",
            "origin-switch",
            "cookie-ab-set-cookie",
            "error-cases",
        ] {
            let facts = corpus_facts(case);
            let events = synthesize(&facts, &facts.event_types, &SynthesisOptions::default());
            println!("== {case} ({} events)", events.len());
            for event in &events {
                println!("{}  --  {}", event.name, event.purpose);
            }
            assert!(!events.is_empty());
        }
    }
}
