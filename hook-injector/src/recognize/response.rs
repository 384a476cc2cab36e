//! Recognition for response triggers (origin-response, viewer-response): the header edits a
//! handler makes to the origin's response, learned by diffing the original's answers.
//!
//! 1. The origin's plain response ([`Response::origin`]: `200 OK`, JSON, `Server` and
//!    `X-Powered-By`) goes to the original; the headers its answer sets and removes are the
//!    *unconditional* edit, a rule without predicates.
//! 2. The same response with every header the handler names in a string literal added: the
//!    ones the answer drops are removed unconditionally too (a list of leaky headers).
//! 3. Each header the unconditional edit sets is sent already present with another value; when
//!    the answer keeps the origin's value, setting it becomes a rule of its own with
//!    [`ResponsePredicate::HeaderAbsent`] ("keep an HSTS policy the origin sets").
//! 4. Each comparison with a response field (`status`, `response-header:<name>`) proposes a
//!    predicate, and so does every usual status code when the handler reads `status` (a
//!    number comparison has no literal in the facts). The response that satisfies it goes to
//!    the original, and what its answer does beyond the rules so far is a conditional rule. An
//!    `indexOf` test is a prefix test when a response with the literal further in gets no edit;
//!    a literal whose case-sensitivity the facts do not give is tried in the other case.
//!
//! An answer that changes anything but headers (status, body), or sets a header to several
//! values, is no rule: the rejection says so. Comparisons with request fields are rejected:
//! response rules test the origin's response only (the proof varies the request to show that
//! the handler does not depend on it).
//!
//! Invariant: the candidates are the unconditional rule, its split-off header rules, then the
//! conditional rules in source order of their comparisons; each was learned as a difference
//! from the rules before it.

use edgeport_frontends::facts::{Comparison, ComparisonOperator};
use serde_json::Value;

use super::{describe_comparison, hit_edits, literal_tests, op_name, propose, span_in, Handler, Prober, Recognition, Rejection};
use crate::http::{Request, Response};
use crate::Original;
use crate::ir::{HeaderEdit, ResponsePredicate, ResponseRule, ResponseRuleSet, SourceSpan, TextMatch};
use crate::synthesize::{header_key, hit_response, swap_case, PROBE_VALUE};

/// The status codes probed when the handler reads `status` without a string literal.
pub const USUAL_STATUSES: [u16; 9] = [301, 302, 304, 400, 403, 404, 500, 502, 503];

/// Standard response header names without a hyphen; other string literals count as header
/// names only when they have one.
const PLAIN_HEADER_NAMES: [&str; 14] = [
    "age", "allow", "date", "etag", "expires", "link", "location", "pragma", "refresh", "server", "vary", "via",
    "warning", "trailer",
];

/// Proposes response rules from `handler`'s facts and learns their edits from `original`.
pub fn recognize(handler: &Handler<'_>, original: &mut dyn Original) -> Recognition {
    recognize_responses(handler, &mut Prober::new(original))
}

/// [`recognize`] with a prober the proof goes on using.
pub(crate) fn recognize_responses(handler: &Handler<'_>, prober: &mut Prober<'_>) -> Recognition {
    let mut recognition = Recognition::default();
    let whole = handler.facts.handler.as_ref().map_or(0..0, |info| info.span.clone());
    let handler_source = span_in(handler, whole.start..whole.start);
    let request = Request::browser();
    let base = Response::origin();
    let mut names: Vec<String> = base.headers.iter().map(|(name, _)| name.to_ascii_lowercase()).collect();

    // The request fields the handler compares: the proof varies them.
    for comparison in &handler.facts.comparisons {
        if is_response_field(&comparison.field) {
            continue;
        }
        for (predicate, _) in propose(comparison).unwrap_or_default() {
            for edit in hit_edits(&predicate) {
                if !recognition.samples.contains(&edit) {
                    recognition.samples.push(edit);
                }
            }
        }
    }

    let mut rules = ResponseRuleSet::default();
    let unconditional = match learn_edit(prober, &request, &base, &rules) {
        Ok(edit) => edit,
        Err(reason) => {
            recognition.rejected.push(Rejection {
                what: "edits of the origin's response".into(),
                source: handler_source,
                reason,
                counterexample: None,
            });
            return recognition;
        }
    };
    rules.rules.push(ResponseRule { name: String::new(), predicates: Vec::new(), edit: unconditional, source: handler_source.clone() });

    // Headers the handler names that the plain response lacks: does it drop them?
    let literals: Vec<String> = header_literals(handler.text)
        .into_iter()
        .filter(|name| !names.contains(name) && !rules.rules[0].edit.touches(name))
        .collect();
    if !literals.is_empty() {
        let mut with_literals = base.clone();
        with_literals.headers.extend(literals.iter().map(|name| (header_key(name), PROBE_VALUE.to_string())));
        if let Ok(edit) = learn_edit(prober, &request, &with_literals, &rules) {
            let dropped = edit.remove.into_iter().filter(|name| literals.contains(name));
            rules.rules[0].edit.remove.extend(dropped);
        }
    }
    for name in literals {
        push_new(&mut names, name);
    }

    // A header set only when the origin did not send one.
    let mut kept = Vec::new();
    for (name, key, value) in rules.rules[0].edit.set.clone() {
        let mut present = base.clone();
        present.headers.push((key.clone(), PROBE_VALUE.into()));
        let sent = present.to_cloudfront();
        if prober.answer_response(&request, &present).is_ok_and(|answer| answer["headers"][&name] == sent["headers"][&name]) {
            rules.rules[0].edit.set.retain(|(set, _, _)| *set != name);
            let source = read_span(handler, &name).unwrap_or_else(|| handler_source.clone());
            kept.push(ResponseRule {
                name: String::new(),
                predicates: vec![ResponsePredicate::HeaderAbsent { name: name.clone() }],
                edit: HeaderEdit { set: vec![(name, key, value)], remove: Vec::new() },
                source,
            });
        }
    }
    if rules.rules[0].edit.is_empty() {
        rules.rules.clear();
    }
    rules.rules.extend(kept);

    for proposal in proposals(handler, &mut recognition.rejected) {
        let learned = learn_conditional(prober, &request, &rules, proposal.predicate.clone(), proposal.case_known, &proposal.source);
        let reason = match learned {
            Ok(Some(rule)) => {
                rules.rules.push(rule);
                continue;
            }
            // A usual status the handler does not single out.
            Ok(None) if proposal.guessed => continue,
            Ok(None) => "the function edits such a response as any other: the literal does not decide alone".into(),
            Err(reason) => reason,
        };
        recognition.rejected.push(Rejection {
            what: describe_response(&proposal.predicate),
            source: proposal.source,
            reason,
            counterexample: None,
        });
    }

    for rule in &mut rules.rules {
        rule.name = response_rule_name(&rule.predicates, &rule.edit);
        for (name, _, _) in &rule.edit.set {
            push_new(&mut names, name.clone());
        }
        for name in &rule.edit.remove {
            push_new(&mut names, name.clone());
        }
        for predicate in &rule.predicates {
            if let ResponsePredicate::Header { name, .. }
            | ResponsePredicate::HeaderAbsent { name }
            | ResponsePredicate::HeaderPresent { name } = predicate
            {
                push_new(&mut names, name.clone());
            }
        }
    }
    recognition.response_candidates = rules.rules;
    recognition.response_headers = names;
    recognition
}

/// Appends `name` unless it is there.
fn push_new(names: &mut Vec<String>, name: String) {
    if !names.contains(&name) {
        names.push(name);
    }
}

/// Whether a facts field is one of the origin's response.
fn is_response_field(field: &str) -> bool {
    field == "status" || field.starts_with("response-header:")
}

/// The span of the handler's first read of response header `name`, if the facts have one.
fn read_span(handler: &Handler<'_>, name: &str) -> Option<SourceSpan> {
    let field = format!("response-header:{name}");
    let read = handler.facts.reads.iter().find(|read| read.field == field)?;
    Some(span_in(handler, read.span.clone()))
}

/// A predicate to learn a conditional edit for.
struct ResponseProposal {
    predicate: ResponsePredicate,
    case_known: bool,
    /// A usual status probed without a literal: no rejection when it decides nothing.
    guessed: bool,
    source: SourceSpan,
}

/// The predicates the handler's response comparisons propose, in source order, then the usual
/// statuses when it reads `status` and compares it with no literal; comparisons that propose
/// nothing become rejections.
fn proposals(handler: &Handler<'_>, rejected: &mut Vec<Rejection>) -> Vec<ResponseProposal> {
    let mut out: Vec<ResponseProposal> = Vec::new();
    for comparison in &handler.facts.comparisons {
        let source = span_in(handler, comparison.span.clone());
        match propose_response(comparison) {
            Ok(predicates) => {
                for (predicate, case_known) in predicates {
                    if !out.iter().any(|known| known.predicate == predicate) {
                        out.push(ResponseProposal { predicate, case_known, guessed: false, source: source.clone() });
                    }
                }
            }
            Err(reason) => rejected.push(Rejection {
                what: describe_comparison(comparison),
                source,
                reason,
                counterexample: None,
            }),
        }
    }
    let status_read = handler.facts.reads.iter().find(|read| read.field == "status");
    let compared = handler.facts.comparisons.iter().any(|comparison| comparison.field == "status");
    if let (Some(read), false) = (status_read, compared) {
        let source = span_in(handler, read.span.clone());
        for value in USUAL_STATUSES {
            let predicate = ResponsePredicate::Status { value };
            out.push(ResponseProposal { predicate, case_known: true, guessed: true, source: source.clone() });
        }
    }
    out
}

/// The predicates a comparison with a response field proposes, each with whether its
/// case-sensitivity is known.
fn propose_response(comparison: &Comparison) -> Result<Vec<(ResponsePredicate, bool)>, String> {
    let field = comparison.field.as_str();
    if !is_response_field(field) {
        return Err(format!("`{field}` is the request's; response rules test only the origin's response"));
    }
    let (tests, case_insensitive, case_known) = literal_tests(comparison)?;
    let mut predicates = Vec::new();
    for (op, value) in tests {
        match field.strip_prefix("response-header:") {
            None => {
                if op != TextMatch::Equals {
                    return Err(format!("a {} test of the status is not recognized", op_name(op)));
                }
                let status = value.trim().parse::<u16>().ok().filter(|status| (100..=599).contains(status));
                let value = status.ok_or_else(|| format!("`{value}` is not a status code"))?;
                predicates.push((ResponsePredicate::Status { value }, true));
            }
            Some(name) => {
                let name = name.to_ascii_lowercase();
                if op == TextMatch::Equals && value.is_empty() {
                    predicates.push((ResponsePredicate::HeaderAbsent { name: name.clone() }, true));
                }
                // `indexOf(x) === 0` is the usual prefix test; probing tells it from a
                // containment test.
                let op = if comparison.operator == ComparisonOperator::IndexOf { TextMatch::Prefix } else { op };
                predicates.push((ResponsePredicate::Header { name, op, value, case_insensitive }, case_known));
            }
        }
    }
    Ok(predicates)
}

/// What the original does to `response` beyond what `rules` do, as a header edit, or why it
/// is no header edit.
fn learn_edit(prober: &mut Prober<'_>, request: &Request, response: &Response, rules: &ResponseRuleSet) -> Result<HeaderEdit, String> {
    let answer = prober
        .answer_response(request, response)
        .map_err(|error| format!("the function failed on {}: {error}", describe_response_head(response)))?;
    header_diff(&rules.apply(&response.to_cloudfront()), &answer)
}

/// `HTTP 404 Not Found` and its content type, for reasons.
fn describe_response_head(response: &Response) -> String {
    let content_type = response.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    match content_type {
        Some((_, value)) => format!("a {} {value} response", response.status),
        None => format!("a {} response", response.status),
    }
}

/// The header edit that makes `expected` into `answer` (both CloudFront response objects), or
/// why there is none: a field other than `headers` changed, or a header got several values.
pub fn header_diff(expected: &Value, answer: &Value) -> Result<HeaderEdit, String> {
    let (Value::Object(expected), Value::Object(answer)) = (expected, answer) else {
        return Err(format!("the function answered no response object ({answer})"));
    };
    let mut changed: Vec<&str> = answer
        .iter()
        .filter(|(key, value)| *key != "headers" && expected.get(*key) != Some(*value))
        .map(|(key, _)| key.as_str())
        .collect();
    changed.extend(expected.keys().filter(|key| !answer.contains_key(*key)).map(String::as_str));
    if !changed.is_empty() {
        return Err(format!("the function changes the response beyond its headers ({})", changed.join(", ")));
    }
    let empty = serde_json::Map::new();
    let before = expected.get("headers").and_then(Value::as_object).unwrap_or(&empty);
    let Some(after) = answer.get("headers").and_then(Value::as_object) else {
        return Err("the function answers a response without headers".into());
    };
    let mut edit = HeaderEdit::default();
    for (name, values) in after {
        if before.get(name) == Some(values) {
            continue;
        }
        let single = match values.as_array().map(Vec::as_slice) {
            Some([only]) => only.get("key").and_then(Value::as_str).zip(only.get("value").and_then(Value::as_str)),
            _ => None,
        };
        let Some((key, value)) = single else {
            return Err(format!("the function sets {name} to something other than one value ({values})"));
        };
        edit.set.push((name.clone(), key.to_string(), value.to_string()));
    }
    edit.remove.extend(before.keys().filter(|name| !after.contains_key(*name)).cloned());
    Ok(edit)
}

/// The rule (made at `source`, named later) the original shows for responses where
/// `predicate` holds, beyond `rules`: `None`
/// when it edits them as `rules` do; an `indexOf` prefix that also holds further in becomes a
/// containment test, and an unsettled literal is tried in the other case.
fn learn_conditional(
    prober: &mut Prober<'_>,
    request: &Request,
    rules: &ResponseRuleSet,
    mut predicate: ResponsePredicate,
    case_known: bool,
    source: &SourceSpan,
) -> Result<Option<ResponseRule>, String> {
    let hit = hit_response(std::slice::from_ref(&predicate));
    let edit = learn_edit(prober, request, &hit, rules)?;
    if edit.is_empty() {
        return Ok(None);
    }
    let explains = |prober: &mut Prober<'_>, predicate: &ResponsePredicate, response: &Response| {
        let mut with = rules.clone();
        with.rules.push(ResponseRule {
            name: String::new(),
            predicates: vec![predicate.clone()],
            edit: edit.clone(),
            source: source.clone(),
        });
        prober.answer_response(request, response).is_ok_and(|answer| answer == with.apply(&response.to_cloudfront()))
    };

    if let ResponsePredicate::Header { name, op: op @ TextMatch::Prefix, value, .. } = &mut predicate {
        let further_in = hit_response(&[ResponsePredicate::Header {
            name: name.clone(),
            op: TextMatch::Equals,
            value: format!("x-{value}"),
            case_insensitive: false,
        }]);
        let contains = ResponsePredicate::Header {
            name: name.clone(),
            op: TextMatch::Contains,
            value: value.clone(),
            case_insensitive: false,
        };
        if explains(prober, &contains, &further_in) {
            *op = TextMatch::Contains;
        }
    }

    if let (ResponsePredicate::Header { name, op, value, case_insensitive }, false) = (&predicate, case_known) {
        let swapped = swap_case(value);
        if swapped != *value {
            let other_case = ResponsePredicate::Header {
                name: name.clone(),
                op: *op,
                value: swapped.clone(),
                case_insensitive: false,
            };
            let ignoring_case =
                ResponsePredicate::Header { name: name.clone(), op: *op, value: value.clone(), case_insensitive: true };
            let response = hit_response(&[other_case]);
            if !*case_insensitive && explains(prober, &ignoring_case, &response) {
                predicate = ignoring_case;
            }
        }
    }
    Ok(Some(ResponseRule {
        name: String::new(),
        predicates: vec![predicate],
        edit,
        source: source.clone(),
    }))
}

/// Every string literal in `text` that can name a response header, lower-case, once each in
/// order: a token with a hyphen (`x-powered-by`) or a standard name without one (`server`).
fn header_literals(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut chars = text.char_indices();
    while let Some((start, quote)) = chars.next() {
        if quote != '\'' && quote != '"' {
            continue;
        }
        let mut end = None;
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '\n' => break,
                c if c == quote => {
                    end = Some(at);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else { continue };
        let literal = text[start + 1..end].to_ascii_lowercase();
        let token = literal.len() <= 64
            && literal.starts_with(|c: char| c.is_ascii_alphabetic())
            && literal.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let named = literal.contains('-') || PLAIN_HEADER_NAMES.contains(&literal.as_str());
        if token && named && !names.contains(&literal) {
            names.push(literal);
        }
    }
    names
}

/// A response predicate for people: `status 404`, `content-type starts with "text/html" (ci)`,
/// `no strict-transport-security`.
pub fn describe_response(predicate: &ResponsePredicate) -> String {
    match predicate {
        ResponsePredicate::Status { value } => format!("status {value}"),
        ResponsePredicate::Header { name, op, value, case_insensitive } => {
            let ci = if *case_insensitive { " (ci)" } else { "" };
            format!("{name} {} {value:?}{ci}", op_name(*op))
        }
        ResponsePredicate::HeaderAbsent { name } => format!("no {name}"),
        ResponsePredicate::HeaderPresent { name } => format!("{name} present"),
    }
}

/// An edit for people: `set a, b and remove c`.
pub fn describe_edit(edit: &HeaderEdit) -> String {
    let set: Vec<&str> = edit.set.iter().map(|(name, _, _)| name.as_str()).collect();
    match (set.is_empty(), edit.remove.is_empty()) {
        (false, false) => format!("set {} and remove {}", set.join(", "), edit.remove.join(", ")),
        (false, true) => format!("set {}", set.join(", ")),
        (true, false) => format!("remove {}", edit.remove.join(", ")),
        (true, true) => "change nothing".into(),
    }
}

/// A response rule's name: its edit, then when (`set cache-control when status 404`; nothing
/// for a rule that always applies).
pub fn response_rule_name(predicates: &[ResponsePredicate], edit: &HeaderEdit) -> String {
    let edit = describe_edit(edit);
    if predicates.is_empty() {
        return edit;
    }
    let when: Vec<String> = predicates.iter().map(describe_response).collect();
    format!("{edit} when {}", when.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_literals_are_the_names_a_handler_spells() {
        let text = r#"LEAKY = ['server', 'x-powered-by', "X-Amz-Meta-A"]; h['key'] = 'text/html'; 'it\'s'"#;
        assert_eq!(header_literals(text), ["server", "x-powered-by", "x-amz-meta-a"]);
    }

    #[test]
    fn diffs_are_header_edits_or_reasons() {
        let sent = Response::origin().to_cloudfront();
        let mut answer = sent.clone();
        answer["headers"]["x-frame-options"] = json!([{ "key": "X-Frame-Options", "value": "DENY" }]);
        answer["headers"].as_object_mut().map(|headers| headers.shift_remove("server"));
        let edit = header_diff(&sent, &answer).expect("a header edit");
        assert_eq!(edit.set, [("x-frame-options".into(), "X-Frame-Options".into(), "DENY".into())]);
        assert_eq!(edit.remove, ["server"]);
        answer["status"] = json!("500");
        assert_eq!(
            header_diff(&sent, &answer),
            Err("the function changes the response beyond its headers (status)".into())
        );
    }
}
