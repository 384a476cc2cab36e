//! Recognition: from the literals a handler compares request fields with (the frontend's
//! [`HandlerFacts::comparisons`]) to candidate rules whose action was learned by asking the
//! original handler.
//!
//! Every comparison on a field the programs see (`uri`, `clientIp`, `method`, `cookie`,
//! `header:<name>`) proposes predicates: an address or CIDR is a [`Predicate::ClientIp`], a
//! string is an equals, prefix, suffix or contains test by the operator, a regex is one when
//! it is a literal alternation ([`regex`]). Each proposal is probed ([`probe`]): the hit request
//! (`Request::browser()` with the predicate made true) goes to the original, and its answer is
//! classified as a generated response, a URI rewrite, or no decision. What cannot be a rule
//! is a [`Rejection`] with the reason, so a report can say why a literal was left to the
//! function.
//!
//! Candidates are not yet trusted: [`crate::prove`] keeps only those the original agrees
//! with on every synthesized request. Recognition also hands the proof what it needs to look
//! for mistakes: the path tests that may gate a decision ([`Recognition::gates`]) and every
//! value the handler compares with ([`Recognition::samples`]).
//!
//! Response triggers are recognised by [`response`]: header edits of the origin's response.
//!
//! Invariant: candidates are in the source order of their comparisons, so the first-match
//! order of the rules is the order in which the handler tests them.

mod probe;
mod regex;
pub mod response;

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use edgeport_frontends::facts::{ComparedLiteral, Comparison, ComparisonOperator, HandlerFacts};
use serde::Serialize;

use crate::ir::{Action, Network, Predicate, ResponseRule, Rule, SourceSpan, TextMatch};
use crate::synthesize::{hit_edits, Edit};
use crate::Original;

pub(crate) use self::probe::{learn, Learned, Prober};

/// The handler whose facts are recognized.
#[derive(Debug, Clone, Copy)]
pub struct Handler<'a> {
    /// The handler file, for the rules' source spans.
    pub file: &'a Path,
    /// Its text, for line numbers.
    pub text: &'a str,
    /// What the frontend found in it.
    pub facts: &'a HandlerFacts,
    /// A module the handler or one of its local modules verifies secrets with
    /// ([`secret_module`]); then no request rule is proposed.
    pub verifies_with: Option<&'a str>,
}

/// Modules whose use means a handler may check a secret: an HMAC, a signature, a token.
/// Requests that carry a valid one cannot be synthesized, so a decision such a handler makes
/// ("403 on /downloads/") may hold on every synthesized request and still be wrong for the
/// signed ones; no request rule of such a handler is proposed. Hashing for bucketing is
/// caught too: a lost rule costs speed, a wrong one answers wrongly.
const SECRET_MODULES: &[&str] = &[
    // Node built-ins and npm packages.
    "crypto", "jsonwebtoken", "jose", "jws", "jwa", "jwk-to-pem", "aws-jwt-verify", "crypto-js", "tweetnacl",
    "node-forge", "cookie-signature", "jwks-rsa",
    // Python's standard library and packages.
    "hmac", "hashlib", "secrets", "jwt", "itsdangerous", "cryptography", "nacl", "Crypto", "Cryptodome", "authlib",
];

/// The first module in `facts`' imports that can verify secrets ([`SECRET_MODULES`]), by the
/// package it names (`node:crypto` is `crypto`, `jwt.algorithms` is `jwt`, `crypto-js/hmac`
/// is `crypto-js`).
pub fn secret_module(facts: &HandlerFacts) -> Option<&str> {
    facts.imports.iter().map(|import| import.specifier.as_str()).find(|specifier| {
        let name = specifier.strip_prefix("node:").unwrap_or(specifier);
        let package = name.split(['/', '.']).next().unwrap_or(name);
        SECRET_MODULES.contains(&package)
    })
}

/// What recognition found (for response triggers, by [`response::recognize`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Recognition {
    /// Candidate rules with their learned actions, in source order (not yet proven).
    pub candidates: Vec<Rule>,
    /// Literals that cannot become rules, with the reason.
    pub rejected: Vec<Rejection>,
    /// Path-equals tests from the handler's `uri` comparisons, which may gate another decision
    /// (`if (uri !== '/') return request;` before a cookie test); the proof conjoins a
    /// contradicted single-predicate candidate with each.
    pub gates: Vec<Gate>,
    /// Every value the handler compares a request field with, as the edit that puts it in a
    /// request; the proof's requests mix them in. Callers may add more (strings matching the
    /// regexes recognition could not translate).
    pub samples: Vec<Edit>,
    /// For response triggers, candidate response rules with their learned edits, in order
    /// (not yet proven); empty for request triggers.
    pub response_candidates: Vec<ResponseRule>,
    /// For response triggers, the response headers the proof varies: the probe's, those the
    /// candidates edit or test, and those the handler names.
    pub response_headers: Vec<String>,
}

/// A path test that may gate a decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gate {
    /// A [`Predicate::Path`] equals test.
    pub predicate: Predicate,
    /// Where the handler makes it.
    pub source: SourceSpan,
}

/// A literal, candidate or rule that is not injected, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// What it is: `user-agent regex /\b(Googlebot…/i`, `block user-agent contains "curl/"`.
    pub what: String,
    /// Where the handler makes the comparison.
    pub source: SourceSpan,
    /// Why not, for people.
    pub reason: String,
    /// The request that showed it, when the proof found one.
    pub counterexample: Option<Counterexample>,
}

/// A request (for a response rule, a request and the origin's response) on which a rule and
/// the original disagree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counterexample {
    /// The request head as sent, as text; for a response rule followed by the origin's
    /// response head ([`crate::http::Response::to_head`]).
    pub head: String,
    /// The viewer's address.
    pub client_ip: IpAddr,
    /// What the original answered (`Err` text when it failed).
    pub original: String,
    /// What the rule would answer.
    pub rule: String,
}

impl Counterexample {
    /// `request` (with `extra_head` after its head: the origin's response head for a response
    /// rule), on which the original gave `answer` and the rule `expected`.
    pub fn new(
        request: &crate::http::Request,
        extra_head: &str,
        answer: &Result<serde_json::Value, String>,
        expected: &serde_json::Value,
    ) -> Self {
        let mut head = String::from_utf8_lossy(&request.to_head()).into_owned();
        head.push_str(extra_head);
        Counterexample {
            head,
            client_ip: request.client_ip,
            original: match answer {
                Ok(value) => value.to_string(),
                Err(error) => format!("error: {error}"),
            },
            rule: expected.to_string(),
        }
    }
}

/// One predicate proposed by a comparison.
struct Proposal {
    predicate: Predicate,
    /// Whether the facts or the regex decide case-(in)sensitivity; otherwise probing does.
    case_known: bool,
    source: SourceSpan,
}

/// Proposes candidates from `handler`'s comparisons and learns their actions from `original`.
pub fn recognize(handler: &Handler<'_>, original: &mut dyn Original) -> Recognition {
    recognize_with(handler, &mut Prober::new(original))
}

/// [`recognize`] with a prober the proof goes on using.
pub(crate) fn recognize_with(handler: &Handler<'_>, prober: &mut Prober<'_>) -> Recognition {
    let mut recognition = Recognition::default();
    let mut proposals: Vec<Proposal> = Vec::new();
    for comparison in &handler.facts.comparisons {
        let source = source_span(handler, comparison);
        for gate in gates(comparison) {
            if !recognition.gates.iter().any(|known| known.predicate == gate) {
                recognition.gates.push(Gate { predicate: gate, source: source.clone() });
            }
        }
        match propose(comparison) {
            Ok(predicates) => {
                for (predicate, case_known) in predicates {
                    for edit in hit_edits(&predicate) {
                        if !recognition.samples.contains(&edit) {
                            recognition.samples.push(edit);
                        }
                    }
                    if !proposals.iter().any(|known| known.predicate == predicate) {
                        proposals.push(Proposal { predicate, case_known, source: source.clone() });
                    }
                }
            }
            Err(reason) => recognition.rejected.push(Rejection {
                what: describe_comparison(comparison),
                source,
                reason,
                counterexample: None,
            }),
        }
    }

    if let Some(module) = handler.verifies_with {
        for proposal in proposals {
            recognition.rejected.push(Rejection {
                what: describe(&proposal.predicate),
                source: proposal.source,
                reason: format!(
                    "the handler verifies secrets with `{module}`: requests carrying a valid signature or token cannot be \
                     synthesized, so none of its decisions can be proven"
                ),
                counterexample: None,
            });
        }
        return recognition;
    }
    for proposal in proposals {
        let case_known = [proposal.case_known];
        match learn(prober, vec![proposal.predicate.clone()], &case_known) {
            Ok(Learned { predicates, action }) => push_merged(
                &mut recognition.candidates,
                Rule { name: rule_name(&predicates, &action), predicates, action, source: proposal.source },
            ),
            Err(reason) => recognition.rejected.push(Rejection {
                what: describe(&proposal.predicate),
                source: proposal.source,
                reason,
                counterexample: None,
            }),
        }
    }
    recognition
}

/// Appends `rule`, merged into the last candidate when both test only the client address and
/// do the same (one rule with many networks is one LPM lookup, and keeps first-match order
/// because nothing lies between them).
fn push_merged(candidates: &mut Vec<Rule>, rule: Rule) {
    if let Some(last) = candidates.last_mut() {
        if let ([Predicate::ClientIp { networks }], [Predicate::ClientIp { networks: more }]) =
            (last.predicates.as_mut_slice(), rule.predicates.as_slice())
        {
            if last.action == rule.action {
                for network in more {
                    if !networks.contains(network) {
                        networks.push(*network);
                    }
                }
                last.name = rule_name(&last.predicates, &last.action);
                return;
            }
        }
    }
    candidates.push(rule);
}

/// The span of a comparison in `handler`'s file.
fn source_span(handler: &Handler<'_>, comparison: &Comparison) -> SourceSpan {
    span_in(handler, comparison.span.clone())
}

/// A byte range of `handler`'s file as a source span.
fn span_in(handler: &Handler<'_>, span: std::ops::Range<usize>) -> SourceSpan {
    let start = span.start.min(handler.text.len());
    let line = handler.text.as_bytes()[..start].iter().filter(|&&b| b == b'\n').count() + 1;
    SourceSpan { file: handler.file.to_path_buf(), span, line }
}

/// The field a comparison is on, as the programs see it.
enum Target {
    Path,
    ClientIp,
    Method,
    /// A header, lower-case.
    Header(String),
}

impl Target {
    fn of(field: &str) -> Result<Target, String> {
        match field {
            "uri" => Ok(Target::Path),
            "clientIp" => Ok(Target::ClientIp),
            "method" => Ok(Target::Method),
            "cookie" => Ok(Target::Header("cookie".into())),
            "querystring" => Err("the programs do not test the query string".into()),
            _ => match field.strip_prefix("header:") {
                Some(name) => Ok(Target::Header(name.to_ascii_lowercase())),
                None => Err(format!("`{field}` is not in the request head the programs see")),
            },
        }
    }
}

/// The text tests a comparison makes, whether they ignore case, and whether the facts or the
/// regex settle that (otherwise probing does).
type LiteralTests = (Vec<(TextMatch, String)>, bool, bool);

/// The text tests `comparison` makes of its field, or why it makes none a rule can use.
fn literal_tests(comparison: &Comparison) -> Result<LiteralTests, String> {
    use ComparisonOperator as Op;
    match (&comparison.operator, &comparison.literal) {
        (Op::RegexReplace, _) => Err("`replace` rewrites the field; it decides nothing by itself".into()),
        (Op::RegexTest | Op::RegexMatch | Op::RegexSearch, ComparedLiteral::Regex { pattern, flags }) => {
            let stateful = comparison.operator == Op::RegexTest;
            let regex = regex::literal_regex(pattern, flags, stateful)?;
            let ci = regex.case_insensitive || comparison.case_insensitive;
            Ok((regex.tests, ci, true))
        }
        (Op::RegexMatch | Op::RegexSearch, ComparedLiteral::String { value }) => {
            let regex = regex::literal_regex(value, "", false)?;
            Ok((regex.tests, comparison.case_insensitive, true))
        }
        (op, literal) => {
            let values = match literal {
                ComparedLiteral::String { value } => vec![value.clone()],
                ComparedLiteral::List { values } => values.clone(),
                ComparedLiteral::Regex { pattern, .. } => {
                    return Err(format!("regex `{pattern}` is used in a way recognition does not know"))
                }
            };
            let text_match = match op {
                Op::Equals | Op::NotEquals | Op::InList | Op::SwitchCase | Op::ObjectKey => TextMatch::Equals,
                Op::StartsWith => TextMatch::Prefix,
                Op::EndsWith => TextMatch::Suffix,
                Op::Includes | Op::IndexOf => TextMatch::Contains,
                Op::RegexTest | Op::RegexMatch | Op::RegexSearch | Op::RegexReplace => {
                    return Err("a regex test with a string is not understood".into())
                }
            };
            let tests = values.into_iter().map(|value| (text_match, value)).collect();
            Ok((tests, comparison.case_insensitive, comparison.case_insensitive))
        }
    }
}

/// The predicates a comparison proposes, each with whether its case-sensitivity is known.
fn propose(comparison: &Comparison) -> Result<Vec<(Predicate, bool)>, String> {
    let target = Target::of(&comparison.field)?;
    let (tests, case_insensitive, case_known) = literal_tests(comparison)?;
    let mut predicates = Vec::new();
    for (op, value) in tests {
        match &target {
            Target::ClientIp => {
                let network = parse_network(&value)
                    .ok_or_else(|| format!("`{value}` is not an address or network"))?;
                if op != TextMatch::Equals {
                    return Err(format!("a {} test of the address text is no network", op_name(op)));
                }
                predicates.push((Predicate::ClientIp { networks: vec![network] }, true));
            }
            Target::Method => {
                if op != TextMatch::Equals {
                    return Err(format!("a {} test of the method is not recognized", op_name(op)));
                }
                predicates.push((Predicate::Method { value }, true));
            }
            Target::Path => {
                predicates.push((Predicate::Path { op, value, case_insensitive }, case_known));
            }
            Target::Header(name) => {
                if op == TextMatch::Equals && value.is_empty() {
                    // A missing header usually reads as '' (`|| ''`, `.get(name, '')`); the
                    // probe and the proof decide which of the two the handler means.
                    predicates.push((Predicate::HeaderAbsent { name: name.clone() }, true));
                }
                predicates.push((
                    Predicate::Header { name: name.clone(), op, value, case_insensitive },
                    case_known,
                ));
            }
        }
    }
    Ok(predicates)
}

/// The path-equals tests a `uri` comparison makes.
fn gates(comparison: &Comparison) -> Vec<Predicate> {
    use ComparisonOperator as Op;
    let equals = matches!(
        comparison.operator,
        Op::Equals | Op::NotEquals | Op::InList | Op::SwitchCase | Op::ObjectKey
    );
    let values = match &comparison.literal {
        _ if comparison.field != "uri" || !equals => return Vec::new(),
        ComparedLiteral::String { value } => std::slice::from_ref(value),
        ComparedLiteral::List { values } => values.as_slice(),
        ComparedLiteral::Regex { .. } => return Vec::new(),
    };
    values
        .iter()
        .map(|value| Predicate::Path {
            op: TextMatch::Equals,
            value: value.clone(),
            case_insensitive: comparison.case_insensitive,
        })
        .collect()
}

/// An address (`198.51.100.7`, `2001:db8::1`) or a network (`203.0.113.0/24`).
fn parse_network(text: &str) -> Option<Network> {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address: IpAddr = address.trim().parse().ok()?;
    let full = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(prefix) => prefix.trim().parse::<u8>().ok().filter(|&p| p <= full)?,
        None => full,
    };
    Some(Network { address, prefix })
}

/// `text` cut to `chars` characters, with `…` when something was cut.
pub(crate) fn elide(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        text.chars().take(chars).chain(['…']).collect()
    }
}

/// `203.0.113.0/24`, or the address alone for a full-length prefix.
pub fn network_text(network: &Network) -> String {
    let full = if network.address.is_ipv4() { 32 } else { 128 };
    if network.prefix == full {
        network.address.to_string()
    } else {
        format!("{}/{}", network.address, network.prefix)
    }
}

/// How a text test reads in a name or a reason.
fn op_name(op: TextMatch) -> &'static str {
    match op {
        TextMatch::Equals => "equals",
        TextMatch::Prefix => "starts with",
        TextMatch::Suffix => "ends with",
        TextMatch::Contains => "contains",
    }
}

/// A predicate for people: `user-agent contains "curl/" (ci)`, `clientIp 203.0.113.0/24`,
/// `/about-us` (a path that must equal it).
pub fn describe(predicate: &Predicate) -> String {
    let ci = |case_insensitive: bool| if case_insensitive { " (ci)" } else { "" };
    match predicate {
        Predicate::ClientIp { networks } => {
            let list: Vec<String> = networks.iter().map(network_text).collect();
            format!("clientIp {}", list.join(", "))
        }
        Predicate::Method { value } => format!("method {value}"),
        Predicate::Path { op: TextMatch::Equals, value, case_insensitive } => {
            format!("{value}{}", ci(*case_insensitive))
        }
        Predicate::Path { op, value, case_insensitive } => {
            format!("uri {} {value:?}{}", op_name(*op), ci(*case_insensitive))
        }
        Predicate::Header { name, op, value, case_insensitive } => {
            format!("{name} {} {value:?}{}", op_name(*op), ci(*case_insensitive))
        }
        Predicate::HeaderAbsent { name } => format!("no {name}"),
    }
}

/// A comparison for people, when it proposes nothing: `clientIp index-of ":"`.
fn describe_comparison(comparison: &Comparison) -> String {
    let field = comparison.field.strip_prefix("header:").unwrap_or(&comparison.field);
    let operator = serde_json::to_value(comparison.operator)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut text = format!("{field} {operator} ");
    match &comparison.literal {
        ComparedLiteral::String { value } => {
            let _ = write!(text, "{value:?}");
        }
        ComparedLiteral::Regex { pattern, flags } => {
            let _ = write!(text, "/{pattern}/{flags}");
        }
        ComparedLiteral::List { values } => {
            let _ = write!(text, "{values:?}");
        }
    }
    text
}

/// A rule's name: what it does and when (`block user-agent contains "curl/" (ci)`,
/// `redirect /about-us (ci)`, `rewrite to /experiments/a/index.html when cookie contains
/// "X-Experiment-Name=A" and /`).
pub fn rule_name(predicates: &[Predicate], action: &Action) -> String {
    let verb = match action {
        _ if action.is_block() => "block".to_string(),
        Action::Respond { response, .. } => {
            let status = match &response["status"] {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            if status.starts_with('3') {
                "redirect".into()
            } else {
                format!("respond {status} to")
            }
        }
        Action::RewriteUri { uri } => format!("rewrite to {uri} when"),
    };
    let when: Vec<String> = predicates.iter().map(describe).collect();
    format!("{verb} {}", when.join(" and "))
}
