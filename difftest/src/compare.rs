//! Comparing what the original and the converted function did with one event.
//!
//! Both the raw outcome (normalised: stack traces dropped, they are engine-specific) and what
//! CloudFront does with it (the 502/503 mapping, header `key`s filled in) are compared. Equal
//! raw outcomes are `identical`; outcomes that differ only where no viewer could tell — the
//! wording of an error that becomes the same 503 — are `raw-different`; anything else is
//! `different`.

use edgeport_contract::EventType;
use edgeport_runtime::cloudfront::{self, Decision};
use edgeport_runtime::Outcome;
use serde_json::Value;

use crate::report::{Difference, Logs, Observed, Verdict};

/// One side's behaviour: its outcome normalised, and CloudFront's decision on it.
pub fn observe(event_type: EventType, event: &Value, outcome: &Outcome) -> Observed {
    let outcome = outcome.normalized();
    let decision = cloudfront::decide(event_type, event, &outcome);
    Observed { outcome, decision }
}

/// The verdict on one event, with the evidence when the two sides differ.
/// `reference_name` labels the original's side of the diff (`node`, `python3`).
pub fn compare(
    event: &Value,
    reference: Observed,
    converted: Observed,
    reference_name: &str,
) -> (Verdict, Option<Box<Difference>>) {
    if reference == converted {
        return (Verdict::Identical, None);
    }
    let verdict = if viewer_sees_the_same(&reference.decision, &converted.decision) {
        Verdict::RawDifferent
    } else {
        Verdict::Different
    };
    let diff = json_diff(
        &side_json(&reference),
        &side_json(&converted),
        reference_name,
        "edgeport",
    );
    let difference = Difference {
        event: event.clone(),
        reference,
        converted,
        diff,
        logs: Logs::default(),
    };
    (verdict, Some(Box::new(difference)))
}

/// Whether the viewer gets the same thing: the same forwarded request or response, or the same
/// error page (CloudFront's reason text is for logs only).
fn viewer_sees_the_same(a: &Decision, b: &Decision) -> bool {
    match (a, b) {
        (
            Decision::Fail {
                status: sa,
                title: ta,
                ..
            },
            Decision::Fail {
                status: sb,
                title: tb,
                ..
            },
        ) => sa == sb && ta == tb,
        _ => a == b,
    }
}

fn side_json(observed: &Observed) -> Value {
    serde_json::json!({ "outcome": observed.outcome, "decision": observed.decision })
}

/// A unified diff of two JSON documents, pretty-printed, with three lines of context.
pub fn json_diff(before: &Value, after: &Value, before_name: &str, after_name: &str) -> String {
    let before = serde_json::to_string_pretty(before).unwrap_or_default() + "\n";
    let after = serde_json::to_string_pretty(after).unwrap_or_default() + "\n";
    similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(before_name, after_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"Records": [{"cf": {"config": {"eventType": "viewer-request"}, "request": {
            "clientIp": "203.0.113.9", "method": "GET", "uri": "/", "querystring": "", "headers": {}
        }}}]})
    }

    fn error(message: &str) -> Outcome {
        Outcome::Error {
            error_type: "TypeError".into(),
            error_message: message.into(),
            trace: vec!["at x".into()],
        }
    }

    #[test]
    fn equal_outcomes_are_identical_even_with_different_traces() {
        let a = observe(EventType::ViewerRequest, &event(), &error("boom"));
        let mut b_outcome = error("boom");
        if let Outcome::Error { trace, .. } = &mut b_outcome {
            trace.push("at y".into());
        }
        let b = observe(EventType::ViewerRequest, &event(), &b_outcome);
        assert_eq!(compare(&event(), a, b, "node").0, Verdict::Identical);
    }

    #[test]
    fn error_wording_is_a_raw_difference_only() {
        let a = observe(
            EventType::ViewerRequest,
            &event(),
            &error("Cannot read properties of undefined (reading '0')"),
        );
        let b = observe(
            EventType::ViewerRequest,
            &event(),
            &error("cannot read property '0' of undefined"),
        );
        let (verdict, difference) = compare(&event(), a, b, "node");
        assert_eq!(verdict, Verdict::RawDifferent);
        let diff = difference.expect("evidence").diff;
        assert!(
            diff.contains("-    \"errorMessage\": \"Cannot read properties"),
            "{diff}"
        );
        assert!(
            diff.contains("+    \"errorMessage\": \"cannot read property"),
            "{diff}"
        );
    }

    #[test]
    fn a_changed_header_is_a_difference_with_a_readable_diff() {
        let response = |value: &str| Outcome::Result {
            value: json!({"status": "200", "headers": {"x-frame-options": [{"key": "X-Frame-Options", "value": value}]}}),
        };
        let a = observe(EventType::ViewerRequest, &event(), &response("DENY"));
        let b = observe(EventType::ViewerRequest, &event(), &response("SAMEORIGIN"));
        let (verdict, difference) = compare(&event(), a, b, "node");
        assert_eq!(verdict, Verdict::Different);
        let diff = difference.expect("evidence").diff;
        assert!(diff.starts_with("--- node\n+++ edgeport\n"), "{diff}");
        assert!(diff.contains("-            \"value\": \"DENY\""), "{diff}");
        assert!(
            diff.contains("+            \"value\": \"SAMEORIGIN\""),
            "{diff}"
        );
    }
}
