//! `edgeport test <dir>`: run every function's original and converted versions on the same
//! events and report every difference.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use edgeport_converter::output::write_atomically;
use edgeport_converter::changed;
use edgeport_difftest::reference::WorkerOptions;
use edgeport_difftest::report::{FunctionReport, FunctionStatus};
use edgeport_difftest::{Format, Report, TestOptions};
use edgeport_runtime::RuntimeOptions;

use crate::Status;

/// Arguments of `edgeport test`.
#[derive(clap::Args)]
pub struct Args {
    /// A handler file, a function directory, or a directory of functions.
    path: PathBuf,
    /// Report format: markdown (for a pull-request comment), json or junit. Default: markdown,
    /// or for each --out file the format its extension names (.md, .json, .xml).
    #[arg(long, value_parser = |s: &str| s.parse::<Format>())]
    format: Option<Format>,
    /// Write the report to this file (atomically) instead of standard output; repeat to write
    /// several formats from one run.
    #[arg(long)]
    out: Vec<PathBuf>,
    /// At most this many events per function: its events/*.json always run, synthesized
    /// events fill the rest.
    #[arg(long, default_value_t = 64)]
    max_events: usize,
    /// Seed for synthesizing events.
    #[arg(long, default_value_t = 1)]
    seed: u32,
    /// Run only the functions' own events/*.json.
    #[arg(long)]
    no_synthesize: bool,
    /// Skip measuring coverage of the original handlers.
    #[arg(long)]
    no_coverage: bool,
    /// Only test functions with files changed since this git ref (its merge base with HEAD).
    #[arg(long, value_name = "GIT_REF")]
    changed_since: Option<String>,
    /// Functions tested in parallel (default: one per CPU).
    #[arg(long)]
    jobs: Option<usize>,
    /// Skip recognising and proving the functions' eBPF hook rules (the report's hooks column).
    #[arg(long)]
    no_hooks: bool,
    #[command(flatten)]
    placeholders: super::PlaceholderArgs,
}

/// Tests the functions and writes the report.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let super::Project { mut functions, defines } = super::project(&args.path, args.placeholders)?;
    if let Some(since) = &args.changed_since {
        let changed = changed::changed_files(&args.path, since)?;
        let total = functions.len();
        functions = changed::touched(functions, &changed);
        eprintln!("{} of {} changed since {since}", functions.len(), super::plural(total, "function"));
    }

    let defaults = TestOptions::default();
    let options = TestOptions {
        seed: args.seed,
        max_events: args.max_events,
        synthesize: !args.no_synthesize,
        coverage: !args.no_coverage,
        jobs: args.jobs.unwrap_or(defaults.jobs).max(1),
        worker: WorkerOptions { install_dir: RuntimeOptions::default_cache_dir(), ..WorkerOptions::default() },
        defines,
        hooks: !args.no_hooks,
    };
    let root = if args.path.is_dir() { args.path.clone() } else { args.path.parent().map(PathBuf::from).unwrap_or_default() };
    let runtime = super::runtime();

    let report = if functions.is_empty() {
        Report { edgeport_version: env!("CARGO_PKG_VERSION").to_string(), seed: args.seed, functions: Vec::new() }
    } else {
        let header = std::sync::Once::new();
        let progress = |function: &FunctionReport| {
            let mut stderr = std::io::stderr().lock();
            header.call_once(|| {
                let _ = writeln!(
                    stderr,
                    "{:<28} {:>6} {:>9} {:>9}  {:<28} hooks",
                    "function", "events", "identical", "different", "coverage"
                );
            });
            let _ = writeln!(stderr, "{}", progress_line(function));
        };
        edgeport_difftest::run(&root, &functions, &runtime, &options, &progress)
            .context("starting the reference executors")?
    };

    if args.out.is_empty() {
        let rendered = report.render(args.format.unwrap_or(Format::Markdown));
        std::io::stdout().lock().write_all(rendered.as_bytes())?;
    }
    for out in &args.out {
        let format = args.format.or_else(|| format_of(out)).unwrap_or(Format::Markdown);
        write_atomically(out, report.render(format).as_bytes()).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("report written to {}", out.display());
    }

    let events: usize = report.functions.iter().map(|f| f.events.len()).sum();
    let different: usize = report.functions.iter().map(FunctionReport::different).sum();
    let failed = report.functions.iter().filter(|f| f.status == FunctionStatus::ConversionFailed).count();
    eprintln!(
        "{}, {}: {different} different, {failed} failed to convert",
        super::plural(report.functions.len(), "function"),
        super::plural(events, "event")
    );
    if report.has_errors() {
        let names: Vec<&str> =
            report.functions.iter().filter(|f| f.status == FunctionStatus::Error).map(|f| f.name.as_str()).collect();
        anyhow::bail!("could not test {} (the report says why)", names.join(", "));
    }
    Ok(if report.all_identical() { Status::Clean } else { Status::Findings })
}


/// The format a report file's extension names.
fn format_of(path: &std::path::Path) -> Option<Format> {
    match path.extension()?.to_str()? {
        "md" | "markdown" => Some(Format::Markdown),
        "json" => Some(Format::Json),
        "xml" => Some(Format::Junit),
        _ => None,
    }
}

fn progress_line(function: &FunctionReport) -> String {
    let status = match function.status {
        FunctionStatus::Identical | FunctionStatus::Different => String::new(),
        FunctionStatus::ConversionFailed => "conversion failed".to_string(),
        FunctionStatus::Error => format!("error: {}", function.failure.as_deref().unwrap_or_default()),
    };
    let coverage = function.coverage.as_ref().map_or_else(String::new, |c| c.branches.to_string());
    let hooks = function.hooks.as_ref().map_or_else(String::new, |hooks| match &hooks.failure {
        Some(failure) => format!("not proven: {failure}"),
        None => format!("{} proven, {} rejected", super::plural(hooks.rules, "rule"), hooks.rejected),
    });
    format!(
        "{:<28} {:>6} {:>9} {:>9}  {coverage:<28} {hooks}{status}",
        function.name,
        function.events.len(),
        function.identical(),
        function.different()
    )
}
