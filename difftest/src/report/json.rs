//! JSON rendering, for tools: the report model as it is, plus a `summary` object with the
//! counts a tool most often wants, so that it need not walk every function.

use serde::Serialize;

use super::{pretty_json, FunctionStatus, Report};

/// The report with its summary; the model's own fields come first, unchanged.
#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    report: &'a Report,
    summary: Summary,
}

/// Counts over the whole run. `identical`, `different`, `conversionFailed` and `errors` count
/// functions by status, so they add up to `functions`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    functions: usize,
    events: usize,
    identical: usize,
    different: usize,
    conversion_failed: usize,
    errors: usize,
}

pub(super) fn render(report: &Report) -> String {
    let summary = Summary {
        functions: report.functions.len(),
        events: report.event_count(),
        identical: report.functions_with(FunctionStatus::Identical),
        different: report.functions_with(FunctionStatus::Different),
        conversion_failed: report.functions_with(FunctionStatus::ConversionFailed),
        errors: report.functions_with(FunctionStatus::Error),
    };
    let mut text = pretty_json(&JsonReport { report, summary });
    text.push('\n');
    text
}
