//! `edgeport convert <file-or-dir> --out dist/`: one artifact directory per function, converted
//! in parallel, reusing the artifacts that are still current, with a progress bar on a terminal
//! and a summary table on stdout. The batch itself is `edgeport_converter::batch`.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use edgeport_converter::batch::{self, BatchOptions, BatchReport, Event, FunctionReport, FunctionStatus, Shard};
use edgeport_converter::{changed, ConvertOptions};
use edgeport_runtime::cloudfront::EventType;
use indicatif::{ProgressBar, ProgressStyle};

use crate::Status;

/// Arguments of `edgeport convert`.
#[derive(clap::Args)]
pub struct Args {
    /// A handler file, a function directory, or a directory of functions.
    path: PathBuf,
    /// Where to write `<function>/function.wasm` and the manifests.
    #[arg(long, default_value = "dist")]
    out: PathBuf,
    /// Name of the handler export (default: detected, usually `handler`).
    #[arg(long)]
    handler: Option<String>,
    /// Event type(s) the functions are attached to (default: inferred from the code).
    #[arg(long = "event-type", value_parser = parse_event_type)]
    event_types: Vec<EventType>,
    /// Build without the pre-initialised snapshot (slower cold starts; for comparison).
    #[arg(long)]
    no_snapshot: bool,
    /// Functions converted at once (default: one per CPU).
    #[arg(long)]
    jobs: Option<NonZeroUsize>,
    /// Rebuild every function, even those whose artifact in --out is still current.
    #[arg(long)]
    no_cache: bool,
    /// Only convert functions with files changed since this git ref (its merge base with HEAD),
    /// counting the files outside their directory that their last conversion read.
    #[arg(long, value_name = "GIT_REF")]
    changed_since: Option<String>,
    /// Convert only shard I of N (1-based, e.g. 2/4) for a CI matrix; a function's shard
    /// depends on its name alone.
    #[arg(long, value_name = "I/N", value_parser = |s: &str| s.parse::<Shard>().map_err(|e| e.to_string()))]
    shard: Option<Shard>,
    /// Skip the eBPF hooks: recognising rules, proving them against the original handlers
    /// (which needs node / python3) and writing `hooks.bpf.o`.
    #[arg(long)]
    no_hooks: bool,
    #[command(flatten)]
    placeholders: super::PlaceholderArgs,
}

fn parse_event_type(text: &str) -> Result<EventType, String> {
    text.parse()
}

/// Converts every function selected; one failure never stops the others.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let super::Project { mut functions, defines } = super::project(&args.path, args.placeholders)?;
    if let Some(shard) = args.shard {
        let total = functions.len();
        functions = shard.select(functions);
        eprintln!("shard {shard}: {} of {}", functions.len(), super::plural(total, "function"));
    }
    if let Some(since) = &args.changed_since {
        let changed = changed::changed_files(&args.path, since)?;
        let total = functions.len();
        functions = batch::changed_functions(functions, &changed, &args.out);
        eprintln!("{} of {} changed since {since}", functions.len(), super::plural(total, "function"));
    }

    let options = BatchOptions {
        convert: ConvertOptions {
            handler: args.handler,
            event_types: args.event_types,
            no_snapshot: args.no_snapshot,
            defines,
            ..ConvertOptions::default()
        },
        out_dir: args.out.clone(),
        jobs: args.jobs.map_or_else(default_jobs, NonZeroUsize::get),
        cache: !args.no_cache,
    };
    let progress = Progress::new(functions.len());
    let report = batch::convert_all(&super::runtime(), &functions, &options, &|event| progress.on_event(event))?;
    progress.finish();
    print_summary(&report, &args.out)?;
    if !args.no_hooks {
        let converted: Vec<&edgeport_converter::FunctionSource> = report
            .functions
            .iter()
            .filter(|f| f.status != FunctionStatus::Failed)
            .map(|f| &f.function)
            .collect();
        if let Some(totals) = super::hooks::inject_all(&converted, &args.out) {
            println!(
                "hooks: {} proven in {} ({} dropped at XDP), {} rejected; `edgeport hooks <function>` explains",
                super::plural(totals.rules, "rule"),
                super::plural(totals.functions, "function"),
                totals.blocks,
                totals.rejected
            );
        }
    }
    Ok(if report.count(FunctionStatus::Failed) == 0 { Status::Clean } else { Status::Findings })
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// The progress bar (on a terminal only) and the diagnostics printed as functions finish.
struct Progress {
    bar: ProgressBar,
    /// The functions being converted right now, for the bar's message.
    in_flight: Mutex<BTreeSet<String>>,
}

impl Progress {
    fn new(total: usize) -> Self {
        // CI logs get no bar: its redraws would be noise in a file.
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} ETA {eta} {wide_msg}")
                .expect("the template is valid")
                .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress { bar, in_flight: Mutex::new(BTreeSet::new()) }
    }

    fn on_event(&self, event: Event<'_>) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            Event::Started(function) => {
                in_flight.insert(function.name.clone());
            }
            Event::Finished(report) => {
                in_flight.remove(&report.function.name);
                // Printing above the bar rather than through it keeps the two from interleaving;
                // without a bar this is a plain write.
                self.bar.suspend(|| print_diagnostics(report));
                self.bar.inc(1);
            }
        }
        self.bar.set_message(in_flight.iter().cloned().collect::<Vec<_>>().join(", "));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// What this run found in one function, on stderr. A write error (stderr closed) is not worth
/// stopping the batch for.
fn print_diagnostics(report: &FunctionReport) {
    let mut stderr = std::io::stderr().lock();
    if let Some(rendered) = &report.rendered {
        for diagnostic in &rendered.diagnostics {
            let _ = writeln!(stderr, "{}", diagnostic.render(&rendered.file));
        }
    }
    if let Some(error) = &report.error {
        let _ = writeln!(stderr, "error: {}: {error}", report.source);
    }
}

/// The table: one row per function, then the totals.
fn print_summary(report: &BatchReport, out: &std::path::Path) -> std::io::Result<()> {
    let width = report.functions.iter().map(|f| f.function.name.len()).max().unwrap_or(0).max("function".len());
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{:<width$}  {:<9}  {:>9}  {:>8}", "function", "status", "size", "time")?;
    for function in &report.functions {
        let size = function.artifact_bytes.map_or_else(|| "-".to_string(), human_bytes);
        let time = format!("{:.0} ms", function.elapsed.as_secs_f64() * 1e3);
        let failure = function.first_error().filter(|_| function.status == FunctionStatus::Failed);
        let row = format!("{:<width$}  {:<9}  {size:>9}  {time:>8}", function.function.name, function.status.as_str());
        match failure {
            Some(failure) => writeln!(stdout, "{row}  {failure}")?,
            None => writeln!(stdout, "{}", row.trim_end())?,
        }
    }
    writeln!(
        stdout,
        "{} converted, {} cached, {} failed in {:.1} s ({:.0} functions/min) -> {}",
        report.count(FunctionStatus::Converted),
        report.count(FunctionStatus::Cached),
        report.count(FunctionStatus::Failed),
        report.elapsed.as_secs_f64(),
        report.functions_per_minute(),
        out.display()
    )
}


fn human_bytes(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    }
}
