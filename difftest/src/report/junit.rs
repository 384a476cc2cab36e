//! JUnit XML rendering, for CI test views: one test suite per function and one test case per
//! event. A non-identical event is a failure whose text is the diff; a function that did not
//! convert, or whose run broke, has a test case (`convert` or `run`) with an error.
//!
//! No timings are written, so the same report always renders the same XML.

use super::{EventReport, FunctionReport, FunctionStatus, Report, Verdict};

pub(super) fn render(report: &Report) -> String {
    let suites: Vec<Suite> = report.functions.iter().map(suite).collect();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"edgeport\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        suites.iter().map(|s| s.tests).sum::<usize>(),
        suites.iter().map(|s| s.failures).sum::<usize>(),
        suites.iter().map(|s| s.errors).sum::<usize>(),
    ));
    for suite in &suites {
        xml.push_str(&suite.xml);
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// One function's test suite and its counts.
struct Suite {
    xml: String,
    tests: usize,
    failures: usize,
    errors: usize,
}

fn suite(function: &FunctionReport) -> Suite {
    let class = escape(&function.name, Quoting::Attribute);
    let mut cases = String::new();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for event in &function.events {
        tests += 1;
        if event.verdict == Verdict::Identical {
            let name = escape(&event.name, Quoting::Attribute);
            cases.push_str(&format!(
                "    <testcase classname=\"{class}\" name=\"{name}\"/>\n"
            ));
        } else {
            failures += 1;
            let text = failure_text(event);
            cases.push_str(&unsuccessful_case(
                &class,
                &event.name,
                "failure",
                event.verdict.describe(),
                &text,
            ));
        }
    }
    let step = match function.status {
        FunctionStatus::ConversionFailed => Some("convert"),
        FunctionStatus::Error => Some("run"),
        FunctionStatus::Identical | FunctionStatus::Different => None,
    };
    if let Some(step) = step {
        tests += 1;
        errors += 1;
        let failure = function.failure.as_deref().unwrap_or_default();
        let first_line = failure.lines().map(str::trim).find(|line| !line.is_empty());
        let message = match first_line {
            Some(line) => format!("{}: {line}", function.status.describe()),
            None => function.status.describe().to_owned(),
        };
        cases.push_str(&unsuccessful_case(&class, step, "error", &message, failure));
    }
    let open = format!("  <testsuite name=\"{class}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\"");
    let xml = if cases.is_empty() {
        format!("{open}/>\n")
    } else {
        format!("{open}>\n{cases}  </testsuite>\n")
    };
    Suite {
        xml,
        tests,
        failures,
        errors,
    }
}

/// A test case holding a `<failure>` (a difference) or an `<error>` (the test could not run);
/// `class` is already escaped.
fn unsuccessful_case(class: &str, name: &str, element: &str, message: &str, text: &str) -> String {
    format!(
        concat!(
            "    <testcase classname=\"{class}\" name=\"{name}\">\n",
            "      <{element} message=\"{message}\">{text}</{element}>\n",
            "    </testcase>\n",
        ),
        class = class,
        name = escape(name, Quoting::Attribute),
        element = element,
        message = escape(message, Quoting::Attribute),
        text = escape(text, Quoting::Text),
    )
}

/// The text of an event's failure: what the event was, then the diff.
fn failure_text(event: &EventReport) -> String {
    let mut text = format!(
        "event type: {}\norigin: {}\n",
        event.event_type.as_str(),
        event.origin.describe()
    );
    if let Some(purpose) = &event.purpose {
        text.push_str(&format!("purpose: {purpose}\n"));
    }
    match &event.difference {
        Some(difference) => text.push_str(&format!("\n{}", difference.diff)),
        None => text.push_str("\nno evidence was recorded for this event\n"),
    }
    text
}

/// Where escaped text goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// Element content.
    Text,
    /// A double-quoted attribute value, where a parser would turn tabs and line breaks into
    /// spaces unless they are written as character references.
    Attribute,
}

/// `text` as XML 1.0 character data; quotes are escaped only in attribute values, where they
/// could end the value. Characters XML 1.0 does not allow at all (control
/// characters other than tab, line feed and carriage return, U+FFFE and U+FFFF) become U+FFFD,
/// and a carriage return is written as a reference so that parsers do not turn it into a line
/// feed.
fn escape(text: &str, quoting: Quoting) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' if quoting == Quoting::Attribute => escaped.push_str("&quot;"),
            '\'' if quoting == Quoting::Attribute => escaped.push_str("&apos;"),
            '\r' => escaped.push_str("&#13;"),
            '\n' if quoting == Quoting::Attribute => escaped.push_str("&#10;"),
            '\t' if quoting == Quoting::Attribute => escaped.push_str("&#9;"),
            '\t' | '\n' => escaped.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped
}
