//! The equivalence proof: a candidate rule is injected only when the original handler and
//! every evaluator agree with it on every request [`crate::synthesize`] makes.
//!
//! For a rule set, each rule's requests go to the reference semantics
//! ([`RuleSet::verdict`] on the request's head bytes and client address), to every
//! [`Evaluator`] (the kernel and rbpf run the compiled program) and to the original. Two
//! properties must hold:
//! - *Agreement*: every evaluator gives the reference verdict on every request.
//! - *Safety*: when the verdict names rule `k`, the original's answer equals rule `k`'s action
//!   applied to the request ([`crate::ir::Action::answer`]). Equality is JSON equality of the whole
//!   answer: a generated response must be the same object (with the query string appended to
//!   the one header when the action says so); a rewritten request must be exactly the request
//!   as CloudFront sends it ([`Request::to_cloudfront`]) with the new `uri` — no other field
//!   added, removed or changed (the [`Original`] reports fields its event template adds only
//!   when the function changed them). An error or timeout never equals an action.
//!
//! A verdict of 0 is never a violation (the function runs and answers itself), but when the
//! original answered exactly as some rule would have, that rule *missed a hit*; misses are
//! counted per rule, since they are requests the program leaves to the function (a header in
//! its second line, a head past the window, an alias such as `/about-us/index.html`).
//!
//! A rule that breaks safety is dropped with the request that showed it; a single-predicate
//! rule is first replaced by its conjunctions with each of recognition's path gates (whose
//! actions are learned again), so that `cookie contains X-Experiment-Name=A` becomes "... and
//! the path is `/`". Dropping a rule changes which rule fires on the others' requests, so the
//! remaining rules are proven again, with fresh requests, until a round finds nothing.
//!
//! Response triggers have their own proof, [`recognize_and_prove_responses`]: header edits of
//! the origin's response instead of verdicts, and no evaluator but the reference semantics.
//!
//! Invariant: every rule in [`Proof::rules`] was checked, in the final order, against every
//! request made for every rule of the final set, with no violation and no disagreement.

use serde::Serialize;

use serde_json::Value;

use crate::http::{Request, Response};
use crate::ir::{Predicate, ResponseRule, ResponseRuleSet, Rule, RuleSet};
use crate::recognize::{self, learn, Counterexample, Handler, Learned, Prober, Recognition, Rejection};
use crate::synthesize::{exchanges_for_response_rule, requests_for_rule, Edit};
use crate::Original;

/// The most proof rounds; each drops or refines a rule, so this is only a backstop.
const MAX_ROUNDS: usize = 64;

/// Something that computes verdicts for a rule set: the compiled program in the kernel or in
/// rbpf, or the reference semantics.
pub trait Evaluator {
    /// A short name for reports (`reference`, `kernel`, `rbpf`).
    fn name(&self) -> &str;
    /// The verdict for each request (its [`Request::to_head`] bytes sent from its
    /// `client_ip`), in order; `Err` when the evaluator cannot run (the program does not load).
    fn verdicts(&mut self, rules: &RuleSet, requests: &[Request]) -> Result<Vec<u32>, String>;
}

/// The reference semantics, [`RuleSet::verdict`], as an evaluator.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReferenceEvaluator;

impl Evaluator for ReferenceEvaluator {
    fn name(&self) -> &str {
        "reference"
    }

    fn verdicts(&mut self, rules: &RuleSet, requests: &[Request]) -> Result<Vec<u32>, String> {
        Ok(requests.iter().map(|request| rules.verdict(&request.to_head(), request.client_ip)).collect())
    }
}

/// What the proof kept, and why it dropped the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Proof {
    /// The proven rules, in evaluation order.
    pub rules: RuleSet,
    /// One entry per proven rule, in the same order.
    pub stats: Vec<RuleStats>,
    /// Everything not injected: recognition's rejections, then the proof's.
    pub rejected: Vec<Rejection>,
    /// The distinct requests (for response triggers, request-response pairs) the original
    /// answered (recognition's probes included).
    pub original_requests: usize,
    /// The evaluators that agreed with the reference semantics.
    pub evaluators: Vec<String>,
    /// For response triggers, the proven response rules (applied natively, not in eBPF).
    pub response_rules: ResponseRuleSet,
    /// One entry per proven response rule, in the same order.
    pub response_stats: Vec<ResponseRuleStats>,
}

/// How one proven response rule fared in the last round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseRuleStats {
    /// The rule's name.
    pub rule: String,
    /// The exchanges (request and origin response) made for it.
    pub responses: usize,
    /// Exchanges of the round (anyone's) whose origin response it applied to.
    pub hits: usize,
}

/// How one proven rule fared in the last round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleStats {
    /// The rule's name.
    pub rule: String,
    /// The requests made for it.
    pub requests: usize,
    /// Requests of the round (anyone's) on which it fired.
    pub hits: usize,
    /// Requests of the round that passed (verdict 0) although the original answered exactly as
    /// this rule would have: the rule's own requests, and others' when no rule they were made
    /// for answers alike and this is the first that does.
    pub missed: usize,
}

/// Recognizes `handler`'s rules, adds `samples` to recognition's, and proves them, asking the
/// original each distinct request once.
pub fn recognize_and_prove(
    handler: &Handler<'_>,
    samples: &[Edit],
    original: &mut dyn Original,
    evaluators: &mut [&mut dyn Evaluator],
) -> (Recognition, Proof) {
    let mut prober = Prober::new(original);
    let mut recognition = recognize::recognize_with(handler, &mut prober);
    for sample in samples {
        if !recognition.samples.contains(sample) {
            recognition.samples.push(sample.clone());
        }
    }
    let proof = prove_with(&recognition, &mut prober, evaluators);
    (recognition, proof)
}

/// Proves `recognition`'s candidates against `original` and `evaluators` (the reference
/// semantics are always computed; evaluators are checked against them).
pub fn prove(
    recognition: &Recognition,
    original: &mut dyn Original,
    evaluators: &mut [&mut dyn Evaluator],
) -> Proof {
    prove_with(recognition, &mut Prober::new(original), evaluators)
}

/// One round's findings about one rule.
#[derive(Default)]
struct RuleRound {
    requests: usize,
    hits: usize,
    missed: usize,
    /// Why it must go, and whether it may be refined with the gates.
    failure: Option<(Rejection, bool)>,
}

fn prove_with(recognition: &Recognition, prober: &mut Prober<'_>, evaluators: &mut [&mut dyn Evaluator]) -> Proof {
    let mut rules = recognition.candidates.clone();
    let mut rejected = recognition.rejected.clone();
    let evaluator_names: Vec<String> = evaluators.iter().map(|e| e.name().to_string()).collect();
    for _ in 0..MAX_ROUNDS {
        let rule_set = RuleSet { rules: rules.clone() };
        let mut rounds: Vec<RuleRound> = rules.iter().map(|_| RuleRound::default()).collect();
        let mut requests: Vec<Request> = Vec::new();
        // The rule each request was made for.
        let mut owners: Vec<usize> = Vec::new();
        for (index, round) in rounds.iter_mut().enumerate() {
            let made = requests_for_rule(&rule_set, index, &recognition.samples);
            round.requests = made.len();
            owners.extend(std::iter::repeat_n(index, made.len()));
            requests.extend(made);
        }
        let verdicts: Vec<u32> =
            requests.iter().map(|request| rule_set.verdict(&request.to_head(), request.client_ip)).collect();

        for evaluator in evaluators.iter_mut() {
            match evaluator.verdicts(&rule_set, &requests) {
                Ok(theirs) if theirs.len() == verdicts.len() => {
                    for ((request, &ours), &their) in requests.iter().zip(&verdicts).zip(&theirs) {
                        if ours == their {
                            continue;
                        }
                        let reason = format!(
                            "the {} evaluator gives verdict {their} where the reference semantics give {ours} on {:?} from {}",
                            evaluator.name(),
                            head_text(request),
                            request.client_ip
                        );
                        for verdict in [ours, their] {
                            fail(&mut rounds, &rules, verdict, &reason, None, false);
                        }
                    }
                }
                Ok(theirs) => {
                    let reason = format!(
                        "the {} evaluator gave {} verdicts for {} requests",
                        evaluator.name(),
                        theirs.len(),
                        verdicts.len()
                    );
                    return all_rejected(rules, rejected, reason, prober, evaluator_names);
                }
                Err(error) => {
                    let reason = format!("the {} evaluator failed: {error}", evaluator.name());
                    return all_rejected(rules, rejected, reason, prober, evaluator_names);
                }
            }
        }

        for ((request, &verdict), &owner) in requests.iter().zip(&verdicts).zip(&owners) {
            let answer = prober.answer(request);
            let Some(fired) = (verdict as usize).checked_sub(1) else {
                // A miss counts for the rule the request was made for when it answers alike
                // (rules often share an action), otherwise for the first rule that does.
                if let Ok(answer) = &answer {
                    let answers_alike = |index: &usize| rules[*index].action.answer(request) == *answer;
                    let missed = Some(owner).filter(answers_alike).or_else(|| (0..rules.len()).find(answers_alike));
                    if let Some(index) = missed {
                        rounds[index].missed += 1;
                    }
                }
                continue;
            };
            let Some(rule) = rules.get(fired) else { continue };
            rounds[fired].hits += 1;
            let expected = rule.action.answer(request);
            if answer.as_ref() != Ok(&expected) {
                let counterexample = Counterexample::new(request, "", &answer, &expected);
                let reason = "the original answers otherwise on a request the rule matches";
                fail(&mut rounds, &rules, verdict, reason, Some(counterexample), true);
            }
        }

        if rounds.iter().all(|round| round.failure.is_none()) {
            let stats = rules
                .iter()
                .zip(&rounds)
                .map(|(rule, round)| RuleStats {
                    rule: rule.name.clone(),
                    requests: round.requests,
                    hits: round.hits,
                    missed: round.missed,
                })
                .collect();
            return Proof {
                rules: RuleSet { rules },
                stats,
                rejected,
                original_requests: prober.asked(),
                evaluators: evaluator_names,
                ..Proof::default()
            };
        }

        let mut kept = Vec::with_capacity(rules.len());
        for (rule, round) in rules.into_iter().zip(rounds) {
            let Some((rejection, refinable)) = round.failure else {
                kept.push(rule);
                continue;
            };
            rejected.push(rejection);
            if refinable {
                for refined in refine(&rule, recognition, prober, &mut rejected) {
                    if !kept.iter().any(|known: &Rule| known.predicates == refined.predicates) {
                        kept.push(refined);
                    }
                }
            }
        }
        rules = kept;
    }
    let reason = format!("the proof did not settle in {MAX_ROUNDS} rounds");
    all_rejected(rules, rejected, reason, prober, evaluator_names)
}

/// Marks the rule with 1-based `verdict` as failed (the first reason found stays).
fn fail(
    rounds: &mut [RuleRound],
    rules: &[Rule],
    verdict: u32,
    reason: &str,
    counterexample: Option<Counterexample>,
    refinable: bool,
) {
    let Some(index) = (verdict as usize).checked_sub(1) else { return };
    let (Some(round), Some(rule)) = (rounds.get_mut(index), rules.get(index)) else { return };
    if round.failure.is_none() {
        let rejection = Rejection {
            what: rule.name.clone(),
            source: rule.source.clone(),
            reason: reason.to_string(),
            counterexample,
        };
        round.failure = Some((rejection, refinable));
    }
}

/// A contradicted single-predicate rule conjoined with each gate whose conjunction has an
/// action; the others become rejections.
fn refine(rule: &Rule, recognition: &Recognition, prober: &mut Prober<'_>, rejected: &mut Vec<Rejection>) -> Vec<Rule> {
    let [predicate] = rule.predicates.as_slice() else {
        return Vec::new();
    };
    if matches!(predicate, Predicate::Path { .. }) {
        return Vec::new();
    }
    let mut refined = Vec::new();
    for gate in &recognition.gates {
        let predicates = vec![predicate.clone(), gate.predicate.clone()];
        match learn(prober, predicates.clone(), &[true, true]) {
            Ok(Learned { predicates, action }) => refined.push(Rule {
                name: recognize::rule_name(&predicates, &action),
                predicates,
                action,
                source: rule.source.clone(),
            }),
            Err(reason) => rejected.push(Rejection {
                what: format!("{} and {}", rule.name, recognize::describe(&gate.predicate)),
                source: rule.source.clone(),
                reason,
                counterexample: None,
            }),
        }
    }
    refined
}

/// A proof that keeps nothing: every remaining rule rejected for `reason`.
fn all_rejected(
    rules: Vec<Rule>,
    mut rejected: Vec<Rejection>,
    reason: String,
    prober: &Prober<'_>,
    evaluators: Vec<String>,
) -> Proof {
    rejected.extend(rules.into_iter().map(|rule| Rejection {
        what: rule.name,
        source: rule.source,
        reason: reason.clone(),
        counterexample: None,
    }));
    Proof { rejected, original_requests: prober.asked(), evaluators, ..Proof::default() }
}

/// Recognizes the response rules of `handler` (a response trigger's) and proves them, asking
/// the original each distinct exchange once.
///
/// The proof of a response rule set: for every rule, the exchanges
/// [`exchanges_for_response_rule`] makes go to the original, and its answer must equal
/// [`ResponseRuleSet::apply`] on the origin's response as CloudFront sends it
/// ([`Response::to_cloudfront`]). Equal means JSON-equal as a whole: the same fields (the
/// status stays a string, nothing added), the same header names (key order does not matter,
/// CloudFront's headers are an object), each with the same `[{key, value}]` array in the same
/// order. An error never equals an answer. Since the runtime answers with the rules instead of
/// running the function, the set is proven as a whole, on every rule's exchanges at once,
/// including those on which no rule applies (the original must then change nothing).
///
/// A disagreement is blamed on the last rule that applied and edits a header that differs,
/// else the first rule (applied or not) that edits one, else the rule the exchange was made
/// for; that rule is dropped with the exchange that showed it, and the rest are proven again,
/// with fresh exchanges, until a round finds nothing.
pub fn recognize_and_prove_responses(handler: &Handler<'_>, original: &mut dyn Original) -> (Recognition, Proof) {
    let mut prober = Prober::new(original);
    let recognition = recognize::response::recognize_responses(handler, &mut prober);
    let proof = prove_responses_with(&recognition, &mut prober);
    (recognition, proof)
}

/// Proves `recognition`'s response candidates against `original`, as
/// [`recognize_and_prove_responses`] does.
pub fn prove_responses(recognition: &Recognition, original: &mut dyn Original) -> Proof {
    prove_responses_with(recognition, &mut Prober::new(original))
}

fn prove_responses_with(recognition: &Recognition, prober: &mut Prober<'_>) -> Proof {
    let mut rules = recognition.response_candidates.clone();
    let mut rejected = recognition.rejected.clone();
    for _ in 0..MAX_ROUNDS {
        let rule_set = ResponseRuleSet { rules: rules.clone() };
        let mut made: Vec<usize> = Vec::with_capacity(rules.len());
        let mut exchanges: Vec<(Request, Response, usize)> = Vec::new();
        for index in 0..rules.len() {
            let own =
                exchanges_for_response_rule(&rule_set, index, &recognition.response_headers, &recognition.samples);
            made.push(own.len());
            exchanges.extend(own.into_iter().map(|(request, response)| (request, response, index)));
        }
        let mut hits = vec![0; rules.len()];
        let mut failures: Vec<Option<Rejection>> = vec![None; rules.len()];
        for (request, response, owner) in &exchanges {
            let sent = response.to_cloudfront();
            for (index, rule) in rules.iter().enumerate() {
                hits[index] += usize::from(applies(rule, &sent));
            }
            let expected = rule_set.apply(&sent);
            let answer = prober.answer_response(request, response);
            if answer.as_ref() == Ok(&expected) {
                continue;
            }
            let culprit = culprit(&rules, &sent, &answer, &expected, *owner);
            let (Some(failure), Some(rule)) = (failures.get_mut(culprit), rules.get(culprit)) else { continue };
            if failure.is_some() {
                continue;
            }
            let reason = if applies(rule, &sent) {
                "the original answers otherwise on a response the rule applies to"
            } else {
                "the original answers otherwise on a response the rule does not apply to"
            };
            *failure = Some(Rejection {
                what: rule.name.clone(),
                source: rule.source.clone(),
                reason: reason.into(),
                counterexample: Some(Counterexample::new(request, &response.to_head(), &answer, &expected)),
            });
        }
        if failures.iter().all(Option::is_none) {
            let response_stats = rules
                .iter()
                .zip(made.iter().zip(&hits))
                .map(|(rule, (&responses, &hits))| ResponseRuleStats { rule: rule.name.clone(), responses, hits })
                .collect();
            return Proof {
                rejected,
                original_requests: prober.asked(),
                response_rules: ResponseRuleSet { rules },
                response_stats,
                ..Proof::default()
            };
        }
        let mut kept = Vec::with_capacity(rules.len());
        for (rule, failure) in rules.into_iter().zip(failures) {
            match failure {
                Some(rejection) => rejected.push(rejection),
                None => kept.push(rule),
            }
        }
        rules = kept;
    }
    rejected.extend(rules.into_iter().map(|rule| Rejection {
        what: rule.name,
        source: rule.source,
        reason: format!("the proof did not settle in {MAX_ROUNDS} rounds"),
        counterexample: None,
    }));
    Proof { rejected, original_requests: prober.asked(), ..Proof::default() }
}

/// Whether `rule`'s predicates hold on the origin's response `sent`.
fn applies(rule: &ResponseRule, sent: &Value) -> bool {
    rule.predicates.iter().all(|predicate| predicate.holds(sent))
}

/// The rule a disagreement on `sent` is blamed on (see [`recognize_and_prove_responses`]).
fn culprit(rules: &[ResponseRule], sent: &Value, answer: &Result<Value, String>, expected: &Value, owner: usize) -> usize {
    let Ok(answer) = answer else { return owner };
    let without_headers = |object: &Value| {
        let mut object = object.clone();
        if let Some(fields) = object.as_object_mut() {
            fields.shift_remove("headers");
        }
        object
    };
    if without_headers(answer) != without_headers(expected) {
        return owner;
    }
    let names = |object: &Value| -> Vec<String> {
        object["headers"].as_object().map(|headers| headers.keys().cloned().collect()).unwrap_or_default()
    };
    let differing: Vec<String> = names(answer)
        .into_iter()
        .chain(names(expected))
        .filter(|name| answer["headers"][name] != expected["headers"][name])
        .collect();
    let edits_one = |rule: &&ResponseRule| differing.iter().any(|name| rule.edit.touches(name));
    let position = |rule: &ResponseRule| rules.iter().position(|r| std::ptr::eq(r, rule));
    rules
        .iter()
        .rev()
        .filter(|rule| applies(rule, sent))
        .find(edits_one)
        .or_else(|| rules.iter().find(edits_one))
        .and_then(position)
        .unwrap_or(owner)
}

/// The request head as text (CRLFs kept; `{:?}` shows them escaped).
fn head_text(request: &Request) -> String {
    String::from_utf8_lossy(&request.to_head()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_evaluator_is_the_reference_semantics() {
        let rules = RuleSet::default();
        let requests = vec![Request::browser()];
        assert_eq!(ReferenceEvaluator.verdicts(&rules, &requests), Ok(vec![0]));
    }
}
