//! Markdown rendering, made for a pull-request comment: a verdict, a table with one row per
//! function, the evidence for every difference and failure in collapsed sections, and the lines
//! no event reached.
//!
//! GitHub refuses comments over 65,536 characters, so the document is kept within [`LIMIT`]:
//! the header and the table come first, the evidence fills what room is left, the coverage
//! section follows if it still fits, and a closing note says what was left out.
//!
//! Text that comes from the user's code or events goes into table cells, headings and summaries
//! only through [`inline`], and into code blocks only through [`code_block`].

use super::{pretty_json, Coverage, EventReport, FunctionReport, FunctionStatus, HooksSummary, Report, Verdict};

/// The most bytes the document may take. GitHub's limit is 65,536 characters and a character
/// is at least one byte; the rest is room for whatever a bot adds around the report.
const LIMIT: usize = 60_000;

/// The most bytes the table may take before it lists only the functions that need attention.
const TABLE_LIMIT: usize = LIMIT / 2;

/// Room kept for the closing note about evidence that was left out.
const NOTE_ROOM: usize = 500;

const TABLE_HEAD: &str =
    "| function | events | identical | different | coverage | hooks |\n| :-- | --: | --: | --: | :-- | :-- |\n";

pub(super) fn render(report: &Report) -> String {
    let mut out = String::from("## edgeport differential test\n\n");
    out.push_str(&verdict(report));
    out.push_str(&format!(
        "\n\n<sub>seed {} · edgeport {}</sub>\n",
        report.seed,
        inline(&report.edgeport_version)
    ));
    if !report.functions.is_empty() {
        out.push('\n');
        out.push_str(&table(report));
    }

    // The evidence for differences matters more than the list of unreached lines, so it gets
    // the room first and the coverage section whatever is left.
    let mut budget = Budget::new(LIMIT.saturating_sub(out.len() + NOTE_ROOM));
    let mut left_out = LeftOut::default();
    for function in report.functions.iter().filter(|f| needs_attention(f)) {
        out.push_str(&evidence_section(function, &mut budget, &mut left_out));
    }
    match coverage_section(report) {
        Some(text) if text.len() <= budget.room => out.push_str(&text),
        Some(_) => left_out.coverage = true,
        None => {}
    }
    out.push_str(&left_out.note());
    out
}

/// The one-line verdict: all identical, or how many functions differ or failed.
fn verdict(report: &Report) -> String {
    let functions = report.functions.len();
    let events = report.event_count();
    if functions == 0 {
        return "⚠️ no functions were found, so nothing was tested".to_owned();
    }
    if report.all_identical() {
        return format!(
            "✅ {}, {}: no differences",
            count(functions, "function"),
            count(events, "event")
        );
    }
    let different = report.functions_with(FunctionStatus::Different);
    let different_events = report.different_event_count();
    let parts = [
        (different, if different == 1 { "differs" } else { "differ" }),
        (
            report.functions_with(FunctionStatus::ConversionFailed),
            "failed to convert",
        ),
        (
            report.functions_with(FunctionStatus::Error),
            "could not be run",
        ),
    ];
    let mut clauses = Vec::new();
    for (index, (how_many, what)) in parts
        .into_iter()
        .enumerate()
        .filter(|(_, (how_many, _))| *how_many > 0)
    {
        let mut clause = if clauses.is_empty() {
            format!("{how_many} of {} {what}", count(functions, "function"))
        } else {
            format!("{how_many} {what}")
        };
        if index == 0 {
            clause.push_str(&format!(
                " ({different_events} of {})",
                count(events, "event")
            ));
        }
        clauses.push(clause);
    }
    format!("❌ {}", clauses.join("; "))
}

/// The summary table; when the whole table would take more than [`TABLE_LIMIT`], only the
/// functions that need attention are listed, as many as fit.
fn table(report: &Report) -> String {
    let rows: Vec<(&FunctionReport, String)> =
        report.functions.iter().map(|f| (f, table_row(f))).collect();
    let whole: usize = rows.iter().map(|(_, row)| row.len()).sum();
    let mut text = TABLE_HEAD.to_owned();
    if TABLE_HEAD.len() + whole <= TABLE_LIMIT {
        rows.iter().for_each(|(_, row)| text.push_str(row));
        return text;
    }
    let mut budget = Budget::new(TABLE_LIMIT.saturating_sub(TABLE_HEAD.len()));
    let mut listed = 0;
    for (_, row) in rows.iter().filter(|(f, _)| needs_attention(f)) {
        if !budget.take(row.len()) {
            break;
        }
        text.push_str(row);
        listed += 1;
    }
    let identical = report.functions_with(FunctionStatus::Identical);
    text.push_str(&format!(
        concat!(
            "\n{} not listed here ({} of them identical); ",
            "the JSON report (`--format json`) lists every function.\n",
        ),
        count(rows.len() - listed, "function"),
        identical,
    ));
    text
}

fn table_row(function: &FunctionReport) -> String {
    let mut name = format!(
        "{} {}",
        status_emoji(function.status),
        inline(&function.name)
    );
    if function.status.is_failure() {
        name.push_str(&format!(" · {}", function.status.describe()));
    }
    let [events, identical, different] =
        if function.status.is_failure() && function.events.is_empty() {
            ["—".to_owned(), "—".to_owned(), "—".to_owned()]
        } else {
            [
                function.events.len(),
                function.identical(),
                function.different(),
            ]
            .map(|n| n.to_string())
        };
    let coverage = function
        .coverage
        .as_ref()
        .map_or_else(|| "—".to_owned(), coverage_cell);
    let hooks = function.hooks.as_ref().map_or_else(|| "—".to_owned(), hooks_cell);
    format!("| {name} | {events} | {identical} | {different} | {coverage} | {hooks} |\n")
}

/// `2 rules (1 dropped at XDP) · 3 rejected`, or why the injector could not run.
fn hooks_cell(hooks: &HooksSummary) -> String {
    if let Some(failure) = &hooks.failure {
        return format!("not proven: {}", inline(failure));
    }
    let mut cell = count(hooks.rules, "rule");
    if hooks.blocks > 0 {
        cell.push_str(&format!(" ({} dropped at XDP)", hooks.blocks));
    }
    if hooks.rejected > 0 {
        cell.push_str(&format!(" · {} rejected", hooks.rejected));
    }
    cell
}

/// `83% (10/12 branches)`, and what the provided events reached alone when that is less.
fn coverage_cell(coverage: &Coverage) -> String {
    let mut cell = coverage.branches.to_string();
    if let Some(provided) = coverage
        .provided_branches
        .filter(|provided| *provided != coverage.branches)
    {
        cell.push_str(&format!(
            " · provided events alone {}%",
            provided.percent().floor()
        ));
    }
    cell
}

fn status_emoji(status: FunctionStatus) -> &'static str {
    match status {
        FunctionStatus::Identical => "✅",
        FunctionStatus::Different => "❌",
        FunctionStatus::ConversionFailed | FunctionStatus::Error => "💥",
    }
}

/// Whether a function has evidence to show: a failure or an event that was not identical.
fn needs_attention(function: &FunctionReport) -> bool {
    function.status != FunctionStatus::Identical || function.different() > 0
}

/// One function's collapsed section with its failure and its non-identical events, as many of
/// them as `budget` allows; empty when none fit.
fn evidence_section(
    function: &FunctionReport,
    budget: &mut Budget,
    left_out: &mut LeftOut,
) -> String {
    let summary = if function.status.is_failure() {
        function.status.describe().to_owned()
    } else {
        format!(
            "{} of {} differ",
            function.different(),
            count(function.events.len(), "event")
        )
    };
    let open = format!(
        "\n<details>\n<summary>{} <b>{}</b> · <code>{}</code> · {summary}</summary>\n",
        status_emoji(function.status),
        inline(&function.name),
        inline(&function.source),
    );
    let close = "\n</details>\n";

    let mut body = String::new();
    // The section's framing is paid for by the first piece that fits, so a section none of
    // whose pieces fit costs nothing.
    let mut add = |piece: String, left_out_counter: &mut usize| {
        let framing = if body.is_empty() {
            open.len() + close.len()
        } else {
            0
        };
        if budget.take(framing + piece.len()) {
            body.push_str(&piece);
        } else {
            *left_out_counter += 1;
        }
    };
    if let Some(failure) = &function.failure {
        add(
            format!("\n{}", code_block("text", failure)),
            &mut left_out.failures,
        );
    }
    for event in function
        .events
        .iter()
        .filter(|e| e.verdict != Verdict::Identical)
    {
        add(event_evidence(function, event), &mut left_out.events);
    }
    if body.is_empty() {
        String::new()
    } else {
        format!("{open}{body}{close}")
    }
}

/// What one non-identical event was, and what both sides did with it.
fn event_evidence(function: &FunctionReport, event: &EventReport) -> String {
    let emoji = if event.verdict == Verdict::Different {
        "❌"
    } else {
        "⚠️"
    };
    let origin = match &event.purpose {
        Some(purpose) => format!("{} ({})", event.origin.describe(), inline(purpose)),
        None => event.origin.describe().to_owned(),
    };
    let mut text = format!(
        "\n#### {emoji} {}\n\n{origin} · {} · **{}**\n",
        inline(&event.name),
        event.event_type.as_str(),
        event.verdict.describe(),
    );
    let Some(difference) = &event.difference else {
        text.push_str("\nNo evidence was recorded for this event.\n");
        return text;
    };
    // The diff comes first: it is what a reviewer reads; the full sides are there to check it.
    let reference = function.reference_engine();
    text.push_str(&format!(
        concat!(
            "\nDiff from {reference} to edgeport:\n\n{diff}",
            "\n<details><summary>event</summary>\n\n{event}\n</details>\n",
            "\n**{reference}** (reference)\n\n{reference_side}",
            "\n**edgeport** (converted)\n\n{converted_side}",
        ),
        reference = reference,
        diff = code_block("diff", &difference.diff),
        event = code_block("json", &pretty_json(&difference.event)),
        reference_side = code_block("json", &pretty_json(&difference.reference)),
        converted_side = code_block("json", &pretty_json(&difference.converted)),
    ));
    if !difference.logs.is_empty() {
        text.push_str(&format!(
            "\n<details><summary>logs</summary>\n\n**{reference}**\n\n{}\n**edgeport**\n\n{}</details>\n",
            code_block("text", &difference.logs.reference),
            code_block("text", &difference.logs.converted),
        ));
    }
    text
}

/// The collapsed list of lines no event reached, per function; `None` when no function has
/// coverage.
fn coverage_section(report: &Report) -> Option<String> {
    let lines: Vec<String> = report
        .functions
        .iter()
        .filter_map(|function| {
            let coverage = function.coverage.as_ref()?;
            let ranges = line_ranges(&coverage.uncovered_lines);
            let mut uncovered = match coverage.uncovered_lines.len() {
                0 => "every statement ran".to_owned(),
                1 => format!("line {ranges}"),
                _ => format!("lines {ranges}"),
            };
            match coverage.partial_branch_lines.len() {
                0 => {}
                1 => uncovered.push_str(&format!(
                    "; a branch not taken both ways on line {}",
                    line_ranges(&coverage.partial_branch_lines)
                )),
                _ => uncovered.push_str(&format!(
                    "; branches not taken both ways on lines {}",
                    line_ranges(&coverage.partial_branch_lines)
                )),
            }
            Some(format!(
                "- **{}** · <code>{}</code> · {}: {uncovered}\n",
                inline(&function.name),
                inline(&function.source),
                coverage.branches,
            ))
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "\n<details>\n<summary>Coverage: source lines no event reached</summary>\n\n{}\n</details>\n",
        lines.concat()
    ))
}

/// Line numbers as ranges: `12–14, 20`.
fn line_ranges(lines: &[u32]) -> String {
    let mut sorted = lines.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for line in sorted {
        match ranges.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(line) => *end = line,
            _ => ranges.push((line, line)),
        }
    }
    ranges
        .iter()
        .map(|&(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}–{end}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Room left in the document. Pieces are taken in order until one does not fit; after that
/// nothing more is taken, so what is shown is always a prefix of the whole.
struct Budget {
    room: usize,
    full: bool,
}

impl Budget {
    fn new(room: usize) -> Budget {
        Budget { room, full: false }
    }

    /// Takes `len` bytes if they fit and nothing was refused before.
    fn take(&mut self, len: usize) -> bool {
        if !self.full && len <= self.room {
            self.room -= len;
            true
        } else {
            self.full = true;
            false
        }
    }
}

/// What did not fit in the document.
#[derive(Default)]
struct LeftOut {
    events: usize,
    failures: usize,
    coverage: bool,
}

impl LeftOut {
    /// The closing note, or nothing when everything fit.
    fn note(&self) -> String {
        let mut what = Vec::new();
        if self.events > 0 {
            what.push(count(self.events, "differing event"));
        }
        if self.failures > 0 {
            what.push(count(self.failures, "failure message"));
        }
        if self.coverage {
            what.push("the coverage section".to_owned());
        }
        if what.is_empty() {
            return String::new();
        }
        format!(
            "\n> [!NOTE]\n> Left out to keep this comment within GitHub's 65,536-character limit: {}. \
             The JSON report (`--format json`) has all of them.\n",
            enumerate(&what),
        )
    }
}

/// `a`, `a and b`, `a, b and c`.
fn enumerate(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `1 event`, `2 events`.
fn count(how_many: usize, noun: &str) -> String {
    if how_many == 1 {
        format!("1 {noun}")
    } else {
        format!("{how_many} {noun}s")
    }
}

/// `text` made safe for one line of Markdown or HTML (a table cell, a heading, a `<summary>`):
/// characters that mean something to either become numeric character references, which both
/// turn back into the character, and line breaks and other control characters become spaces.
fn inline(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => safe.push_str("&amp;"),
            '<' => safe.push_str("&lt;"),
            '>' => safe.push_str("&gt;"),
            '|' | '`' | '*' | '_' | '[' | ']' | '\\' | '~' | '$' => {
                safe.push_str(&format!("&#{};", u32::from(c)))
            }
            c if c.is_control() => safe.push(' '),
            c => safe.push(c),
        }
    }
    safe
}

/// A fenced code block whose fence is longer than any run of backticks in `content`, so that
/// nothing in it can close the block early.
fn code_block(language: &str, content: &str) -> String {
    let longest_run = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let newline = if content.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{language}\n{content}{newline}{fence}\n")
}
