//! The result of a differential run, and its three renderings: Markdown for a pull-request
//! comment, JSON for tools, JUnit XML for CI.
//!
//! Invariant: a report holds no timings, paths outside the tested tree or anything else that
//! changes from run to run, so the same inputs render byte-identical reports.

mod json;
mod junit;
mod markdown;

use edgeport_contract::EventType;
use edgeport_runtime::cloudfront::Decision;
use edgeport_runtime::Outcome;
use serde::Serialize;

/// An output format of `edgeport test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GitHub-flavoured Markdown for a pull-request comment.
    Markdown,
    /// The report as JSON, for tools.
    Json,
    /// JUnit XML, for CI test views.
    Junit,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "markdown" | "md" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            other => Err(format!(
                "unknown report format '{other}' (expected markdown, json or junit)"
            )),
        }
    }
}

/// Everything one `edgeport test` run found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The edgeport version that produced the report.
    pub edgeport_version: String,
    /// The seed events were synthesized with.
    pub seed: u32,
    /// One entry per function, sorted by name.
    pub functions: Vec<FunctionReport>,
}

/// What happened to one function.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionReport {
    /// The function's name (its directory name).
    pub name: String,
    /// The handler file, relative to the tested directory.
    pub source: String,
    /// `javascript`, `typescript` or `python`.
    pub language: String,
    /// The overall verdict.
    pub status: FunctionStatus,
    /// Why the function could not be tested (conversion diagnostics, rendered; or a reference
    /// executor failure), when `status` is `conversion-failed` or `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Every event the function ran on, provided ones first.
    pub events: Vec<EventReport>,
    /// Branch and line coverage of the original source under those events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// What the hook injector proved, when the run asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hooks: Option<HooksSummary>,
}

/// The hook injector's result for one function, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HooksSummary {
    /// Rules proven equal to the original (they answer without the function): request rules
    /// and response rules.
    pub rules: usize,
    /// Of those, the ones whose answer is a block, which XDP drops.
    pub blocks: usize,
    /// Candidates and rules rejected, each with its reason.
    pub rejected: usize,
    /// Distinct requests the original answered for the proof.
    pub requests: usize,
    /// What ran the program besides the reference semantics (`kernel`, `rbpf`).
    pub evaluators: Vec<String>,
    /// Why there is no result, when the injector could not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl FunctionReport {
    /// Events whose outcomes were identical.
    pub fn identical(&self) -> usize {
        self.events
            .iter()
            .filter(|e| e.verdict == Verdict::Identical)
            .count()
    }

    /// Events whose outcomes differed.
    pub fn different(&self) -> usize {
        self.events.len() - self.identical()
    }

    /// What ran the original handler: `python3` for Python, `node` otherwise.
    pub fn reference_engine(&self) -> &'static str {
        crate::reference::ReferenceLanguage::of_file(std::path::Path::new(&self.source)).display_name()
    }
}

/// The overall verdict on one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FunctionStatus {
    /// Converted, and every event gave identical outcomes.
    Identical,
    /// Converted, and at least one event gave different outcomes.
    Different,
    /// The function did not convert.
    ConversionFailed,
    /// The run itself failed (the reference executor or the runtime broke).
    Error,
}

impl FunctionStatus {
    /// The status in a few words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            FunctionStatus::Identical => "identical",
            FunctionStatus::Different => "different",
            FunctionStatus::ConversionFailed => "conversion failed",
            FunctionStatus::Error => "the run failed",
        }
    }

    /// Whether the function could not be tested at all or only in part.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            FunctionStatus::ConversionFailed | FunctionStatus::Error
        )
    }
}

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventOrigin {
    /// A file in the function's `events/` directory.
    Provided,
    /// Made up from the frontend's facts about the handler.
    Synthesized,
}

impl EventOrigin {
    /// The origin in a word, for people.
    pub fn describe(self) -> &'static str {
        match self {
            EventOrigin::Provided => "provided",
            EventOrigin::Synthesized => "synthesized",
        }
    }
}

/// How the two outcomes of one event compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Both sides produced the same normalised outcome.
    Identical,
    /// The raw results differ but CloudFront would do the same with either (for example an
    /// error message worded differently that still becomes the same 503).
    RawDifferent,
    /// CloudFront would do something different: a viewer would notice.
    Different,
}

impl Verdict {
    /// What the verdict means, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::RawDifferent => {
                "only the raw result differs: CloudFront does the same with both"
            }
            Verdict::Different => "CloudFront's decision differs: a viewer would notice",
        }
    }
}

/// One event and what both sides did with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventReport {
    /// A stable name: the file stem of a provided event, `synth/<what>` for a synthesized one.
    pub name: String,
    /// Where the event came from.
    pub origin: EventOrigin,
    /// Why a synthesized event exists ("uri starts with '/images/' (hit)").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The trigger the event is for.
    pub event_type: EventType,
    /// The verdict.
    pub verdict: Verdict,
    /// Both sides and the diff; present only when the verdict is not `identical`, to keep
    /// reports of large runs small.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<Box<Difference>>,
}

/// The evidence for a difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    /// The event, as both sides received it.
    pub event: serde_json::Value,
    /// What the original handler did (node or python3).
    pub reference: Observed,
    /// What the converted function did on the edgeport runtime.
    pub converted: Observed,
    /// A unified diff from the reference's to the converted side's normalised JSON (raw
    /// outcome and CloudFront decision together).
    pub diff: String,
    /// What each side printed (not compared: console formatting differs between engines).
    #[serde(skip_serializing_if = "Logs::is_empty")]
    pub logs: Logs,
}

/// What the handler printed on each side, each cut to [`Logs::LIMIT`] bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Logs {
    /// The original's output (node's console).
    pub reference: String,
    /// The converted function's output.
    pub converted: String,
}

impl Logs {
    /// The most bytes kept per side.
    pub const LIMIT: usize = 4096;

    /// Both sides' logs, each cut to [`Logs::LIMIT`] bytes on a character boundary.
    pub fn new(reference: &str, converted: &str) -> Self {
        let cut = |text: &str| {
            let end = (0..=text.len().min(Self::LIMIT)).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text[..end].to_string()
        };
        Logs { reference: cut(reference), converted: cut(converted) }
    }

    /// Whether neither side printed anything.
    pub fn is_empty(&self) -> bool {
        self.reference.is_empty() && self.converted.is_empty()
    }
}

/// One side's behaviour on one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observed {
    /// The handler's outcome, normalised.
    pub outcome: Outcome,
    /// What CloudFront does with that outcome.
    pub decision: Decision,
}

/// How much of the original source the events exercised.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// Branch arms taken at least once, over all events.
    pub branches: Share,
    /// Branch arms taken by the provided events alone, when the function has any; the gain
    /// over this is what synthesized events contributed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provided_branches: Option<Share>,
    /// Source lines (1-based) holding a statement that never ran, in the handler file.
    pub uncovered_lines: Vec<u32>,
    /// Source lines (1-based) of branch points with an arm no event took: where a new event
    /// would reach more code.
    pub partial_branch_lines: Vec<u32>,
}

/// A count out of a total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Share {
    /// How many were covered.
    pub covered: u32,
    /// How many there are.
    pub total: u32,
}

impl std::fmt::Display for Share {
    /// `87% (7/8 branches)`, rounded down so that anything short of full coverage never shows
    /// as 100%; `no branches` for a total of zero.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.total == 0 {
            f.write_str("no branches")
        } else {
            write!(
                f,
                "{}% ({}/{} branches)",
                self.percent().floor(),
                self.covered,
                self.total
            )
        }
    }
}

impl Share {
    /// The share as a percentage; a total of zero counts as fully covered.
    pub fn percent(self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            f64::from(self.covered) * 100.0 / f64::from(self.total)
        }
    }
}

impl Report {
    /// Whether every function converted and behaved identically (raw differences included).
    pub fn all_identical(&self) -> bool {
        self.functions
            .iter()
            .all(|f| f.status == FunctionStatus::Identical)
    }

    /// Whether the run itself broke for some function (exit status 2).
    pub fn has_errors(&self) -> bool {
        self.functions
            .iter()
            .any(|f| f.status == FunctionStatus::Error)
    }

    /// How many functions ended with `status`.
    pub fn functions_with(&self, status: FunctionStatus) -> usize {
        self.functions.iter().filter(|f| f.status == status).count()
    }

    /// How many events ran, over all functions.
    pub fn event_count(&self) -> usize {
        self.functions.iter().map(|f| f.events.len()).sum()
    }

    /// How many events gave different outcomes (raw differences included), over all functions.
    pub fn different_event_count(&self) -> usize {
        self.functions.iter().map(FunctionReport::different).sum()
    }

    /// Renders the report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Markdown => markdown::render(self),
            Format::Json => json::render(self),
            Format::Junit => junit::render(self),
        }
    }
}

/// `value` as pretty-printed JSON, two-space indented.
fn pretty_json(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).expect(
        "report values serialize: every map key is a string and serde_json::Value holds no NaN",
    )
}
