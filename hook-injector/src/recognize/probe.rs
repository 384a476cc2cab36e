//! Learning a candidate's action by asking the original.
//!
//! The hit request (`Request::browser()` with every predicate made true) goes to the
//! original, and its answer is classified: a generated response (it has a `status`) is
//! [`Action::Respond`]; the request back with only its `uri` changed is
//! [`Action::RewriteUri`]; the request back unchanged means the literal does not decide on its
//! own; anything else (an error, other edits) cannot be a rule. The hit is then varied in
//! ways the action must not depend on — a query string, an unrelated header, another client
//! address — and the action must explain each answer (a query string that shows up after `?`
//! in one response header makes it [`Action::Respond::append_query_to`] that header). Last, a
//! literal whose case-sensitivity the facts do not give is tried in the other case.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::Value;

use crate::http::{Request, Response};
use crate::ir::{Action, Predicate};
use crate::synthesize::{hit_request, swap_case, Edit};
use crate::Original;

/// The query string the probes add.
const PROBE_QUERY: &str = "utm_source=edgeport";

/// The original, asked once per distinct request (or request and origin response):
/// recognition and every round of the proof share its answers.
pub(crate) struct Prober<'o> {
    original: &'o mut dyn Original,
    answers: HashMap<(Vec<u8>, IpAddr), Result<Value, String>>,
    response_answers: HashMap<(Vec<u8>, IpAddr, Response), Result<Value, String>>,
}

impl<'o> Prober<'o> {
    pub(crate) fn new(original: &'o mut dyn Original) -> Self {
        Prober { original, answers: HashMap::new(), response_answers: HashMap::new() }
    }

    /// The original's answer when the origin answers `request` with `response`.
    pub(crate) fn answer_response(&mut self, request: &Request, response: &Response) -> Result<Value, String> {
        let key = (request.to_head(), request.client_ip, response.clone());
        if let Some(answer) = self.response_answers.get(&key) {
            return answer.clone();
        }
        let answer = self.original.answer_response(request, response);
        self.response_answers.insert(key, answer.clone());
        answer
    }

    /// The original's answer to `request` (a request is its head and its client address).
    pub(crate) fn answer(&mut self, request: &Request) -> Result<Value, String> {
        let key = (request.to_head(), request.client_ip);
        if let Some(answer) = self.answers.get(&key) {
            return answer.clone();
        }
        let answer = self.original.answer(request);
        self.answers.insert(key, answer.clone());
        answer
    }

    /// How many distinct requests (and request-response pairs) the original answered.
    pub(crate) fn asked(&self) -> usize {
        self.answers.len() + self.response_answers.len()
    }

    /// Whether the function answers the plain browser request itself (a response).
    fn answers_browser(&mut self) -> bool {
        self.answer(&Request::browser()).is_ok_and(|answer| answer.get("status").is_some())
    }
}

/// A learned candidate: its predicates (case-sensitivity settled) and its action.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Learned {
    pub(crate) predicates: Vec<Predicate>,
    pub(crate) action: Action,
}

/// Learns what the original does when all `predicates` hold; `case_known[i]` says whether
/// predicate `i`'s case-sensitivity is settled (otherwise it is probed). `Err` is the reason
/// the candidate cannot be a rule.
pub(crate) fn learn(
    prober: &mut Prober<'_>,
    mut predicates: Vec<Predicate>,
    case_known: &[bool],
) -> Result<Learned, String> {
    let hit = hit_request(&predicates);
    let answer = prober.answer(&hit).map_err(|error| format!("the function failed on the hit: {error}"))?;
    let mut action = match classify(&hit, &answer)? {
        Some(action) => action,
        None if prober.answers_browser() => {
            return Err("the function passes the hit on and answers requests without it (an allow list); rules cannot say `not`".into())
        }
        None => return Err("the function passes the hit on unchanged: the literal does not decide alone".into()),
    };

    for (field, edits) in variations(&predicates) {
        let mut varied = hit.clone();
        edits.iter().for_each(|edit| edit.apply(&mut varied));
        let answer = prober
            .answer(&varied)
            .map_err(|error| format!("the function failed when the {field} changed: {error}"))?;
        if action.answer(&varied) == answer {
            continue;
        }
        let appended = match (&action, field) {
            (Action::Respond { response, .. }, "querystring") => appended_header(response, &answer),
            _ => None,
        };
        match (&mut action, appended) {
            (Action::Respond { append_query_to, .. }, Some(header)) => *append_query_to = Some(header),
            (Action::Respond { .. }, None) => return Err(format!("the response depends on the request ({field})")),
            (Action::RewriteUri { .. }, _) => return Err(format!("the rewrite depends on the request ({field})")),
        }
    }

    for (index, known) in case_known.iter().enumerate() {
        if *known {
            continue;
        }
        let Some(other_case) = predicates.get(index).and_then(other_case) else {
            continue;
        };
        let mut variant = predicates.clone();
        variant[index] = other_case;
        let request = hit_request(&variant);
        if prober.answer(&request).is_ok_and(|answer| answer == action.answer(&request)) {
            if let Some(Predicate::Path { case_insensitive, .. } | Predicate::Header { case_insensitive, .. }) =
                predicates.get_mut(index)
            {
                *case_insensitive = true;
            }
        }
    }
    Ok(Learned { predicates, action })
}

/// The action an answer to `hit` shows, `None` when it passes the request on unchanged, or
/// why it is no action a rule can take.
fn classify(hit: &Request, answer: &Value) -> Result<Option<Action>, String> {
    let Value::Object(object) = answer else {
        return Err(format!("the function answered neither a request nor a response ({answer})"));
    };
    if object.contains_key("status") {
        return Ok(Some(Action::Respond { response: answer.clone(), append_query_to: None }));
    }
    let sent = hit.to_cloudfront();
    if *answer == sent {
        return Ok(None);
    }
    let changed = changed_fields(&sent, answer);
    match (changed.as_slice(), answer.get("uri")) {
        ([only], Some(Value::String(uri))) if only == "uri" => Ok(Some(Action::RewriteUri { uri: uri.clone() })),
        _ => Err(format!("the function changes the request beyond its uri ({})", changed.join(", "))),
    }
}

/// The fields of a request object that differ between `sent` and `answer` (`uri`,
/// `headers.x-experiment-bucket`), in `answer`'s order, then those it dropped.
fn changed_fields(sent: &Value, answer: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let sent = sent.as_object().unwrap_or(&empty);
    let answer = answer.as_object().unwrap_or(&empty);
    let mut changed = Vec::new();
    for (key, value) in answer {
        match (key.as_str(), sent.get(key)) {
            (_, Some(before)) if before == value => {}
            ("headers", Some(before)) => {
                let names = changed_fields(before, value);
                changed.extend(names.into_iter().map(|name| format!("headers.{name}")));
            }
            _ => changed.push(key.clone()),
        }
    }
    changed.extend(sent.keys().filter(|key| !answer.contains_key(*key)).cloned());
    changed
}

/// The response header whose first value is `response`'s with `?` and the probe query
/// appended in `answer`, when that is the only difference.
fn appended_header(response: &Value, answer: &Value) -> Option<String> {
    let headers = response.get("headers")?.as_object()?;
    headers.keys().find_map(|name| {
        let action = Action::Respond { response: response.clone(), append_query_to: Some(name.clone()) };
        let mut probe = Request::browser();
        probe.querystring = PROBE_QUERY.into();
        (action.answer(&probe) == *answer).then(|| name.clone())
    })
}

/// Changes an action must not depend on, each named by the field it changes. The client
/// address changes only when no predicate tests it.
fn variations(predicates: &[Predicate]) -> Vec<(&'static str, Vec<Edit>)> {
    let mut out = vec![
        ("querystring", vec![Edit::Query(PROBE_QUERY.into())]),
        ("headers", vec![Edit::AddHeader { name: "X-Edgeport-Probe".into(), value: "1".into() }]),
    ];
    if !predicates.iter().any(|p| matches!(p, Predicate::ClientIp { .. })) {
        out.push(("clientIp", vec![Edit::ClientIp([198, 51, 100, 99].into())]));
    }
    out
}

/// The predicate with its literal in the other case, when it has letters and is
/// case-sensitive.
fn other_case(predicate: &Predicate) -> Option<Predicate> {
    let swap = |value: &str| -> Option<String> {
        let swapped = swap_case(value);
        (swapped != value).then_some(swapped)
    };
    match predicate {
        Predicate::Path { op, value, case_insensitive: false } => {
            Some(Predicate::Path { op: *op, value: swap(value)?, case_insensitive: false })
        }
        Predicate::Header { name, op, value, case_insensitive: false } => Some(Predicate::Header {
            name: name.clone(),
            op: *op,
            value: swap(value)?,
            case_insensitive: false,
        }),
        _ => None,
    }
}
