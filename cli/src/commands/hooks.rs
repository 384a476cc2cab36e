//! `edgeport hooks <file-or-dir>`: what the hook injector recognised in each function, what it
//! proved and injects as eBPF (or, for response triggers, applies natively), what it rejected
//! and why, with instruction counts. `convert`
//! runs the same stage ([`inject_all`]) and records it beside each artifact.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use edgeport_converter::discover::FunctionSource;
use edgeport_difftest::hooks::HookError;
use edgeport_difftest::inject::{self, Injection, KernelCheck};
use edgeport_difftest::report::HooksSummary;
use edgeport_difftest::reference::{ReferenceLanguage, ReferenceWorker, WorkerOptions};
use edgeport_runtime::RuntimeOptions;

use crate::Status;

/// Arguments of `edgeport hooks`.
#[derive(clap::Args)]
pub struct Args {
    /// A handler file, a function directory, or a directory of functions.
    path: PathBuf,
    /// Also write `hooks.bpf.o` and the rule table into `<out>/<function>/` (converted there
    /// before by `edgeport convert`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the rule tables as JSON instead of the explanation.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    placeholders: super::PlaceholderArgs,
}

/// Explains every function's hooks.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let super::Project { functions, .. } = super::project(&args.path, args.placeholders)?;
    if let Err(reason) = inject::kernel_available() {
        eprintln!("note: rules are proven with rbpf only; the kernel cannot be asked: {reason}");
    }
    let all: Vec<&FunctionSource> = functions.iter().collect();
    let results = inject_each(&all)?;
    let mut status = Status::Clean;
    let mut tables = serde_json::Map::new();
    let mut stdout = std::io::stdout().lock();
    for (function, result) in all.iter().zip(results) {
        match result {
            Ok(injection) => {
                if let Some(out) = &args.out {
                    inject::write(out, &injection)?;
                }
                if args.json {
                    tables.insert(function.name.clone(), injection.manifest_entry());
                } else {
                    writeln!(stdout, "{}", explain(function, &injection))?;
                }
            }
            Err(error) => {
                status = Status::Findings;
                eprintln!("error: {}: {error}", function.path.display());
            }
        }
    }
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&tables)?)?;
    }
    Ok(status)
}

/// Runs the hook stage for each function, one thread and reference worker per CPU (the
/// proofs spend their time in the originals), results in the input's order. `Err` when no
/// worker starts (node missing).
fn inject_each(functions: &[&FunctionSource]) -> anyhow::Result<Vec<Result<Injection, HookError>>> {
    let jobs = std::thread::available_parallelism().map_or(1, usize::from).min(functions.len()).max(1);
    let mut workers = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        workers.push(start_worker()?);
    }
    let next = AtomicUsize::new(0);
    let results = Mutex::new((0..functions.len()).map(|_| None).collect::<Vec<_>>());
    std::thread::scope(|scope| {
        for mut worker in workers {
            let (next, results) = (&next, &results);
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(function) = functions.get(index) else { break };
                let result = inject::inject(function, &mut worker);
                results.lock().unwrap_or_else(PoisonError::into_inner)[index] = Some(result);
            });
        }
    });
    Ok(results
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .map(|result| result.expect("every index was taken by a thread"))
        .collect())
}

/// The reference worker the proofs run the originals on.
fn start_worker() -> anyhow::Result<ReferenceWorker> {
    let options = WorkerOptions { install_dir: RuntimeOptions::default_cache_dir(), ..WorkerOptions::default() };
    Ok(ReferenceWorker::spawn(ReferenceLanguage::Node, options)?)
}

/// What `convert` found for its functions' hooks.
#[derive(Default)]
pub struct Totals {
    /// Functions with at least one proven rule.
    pub functions: usize,
    /// Proven rules.
    pub rules: usize,
    /// Of those, blocks (dropped at XDP).
    pub blocks: usize,
    /// Candidates and rules rejected.
    pub rejected: usize,
}

/// Runs the hook stage for every converted function in `out` that does not record it yet
/// (a reused artifact keeps the hooks proven with it); one function's failure is printed and
/// never stops the others. `None` when the originals cannot be run (no node): the reason is
/// printed and no hooks are written.
pub fn inject_all(functions: &[&FunctionSource], out: &Path) -> Option<Totals> {
    let mut totals = Totals::default();
    let mut pending = Vec::new();
    for function in functions {
        match inject::recorded(out, &function.name) {
            Some(summary) => totals.add(&summary),
            None => pending.push(*function),
        }
    }
    if pending.is_empty() {
        return Some(totals);
    }
    let results = match inject_each(&pending) {
        Ok(results) => results,
        Err(error) => {
            eprintln!("note: no eBPF hooks: the original handlers cannot be run to prove them ({error:#})");
            return None;
        }
    };
    for (function, result) in pending.iter().zip(results) {
        match result.map(|injection| (inject::write(out, &injection), injection)) {
            Ok((Ok(()), injection)) => totals.add(&injection.summary()),
            Ok((Err(error), _)) => eprintln!("error: {}: cannot write its hooks: {error}", function.name),
            Err(error) => eprintln!("warning: {}: no hooks: {error}", function.name),
        }
    }
    Some(totals)
}

impl Totals {
    fn add(&mut self, summary: &HooksSummary) {
        self.functions += usize::from(summary.rules > 0);
        self.rules += summary.rules;
        self.blocks += summary.blocks;
        self.rejected += summary.rejected;
    }
}

/// The explanation of one function's hooks.
fn explain(function: &FunctionSource, injection: &Injection) -> String {
    let report = &injection.report;
    let proof = &report.proof;
    let mut text = format!("{} ({}, {})\n", function.name, report.event_type.as_str(), function.path.display());
    if !proof.response_rules.rules.is_empty() {
        text.push_str(&format!(
            "  response rules (applied natively, not eBPF): the original agrees on every response ({} asked)\n",
            proof.original_requests
        ));
        for (index, rule) in proof.response_rules.rules.iter().enumerate() {
            text.push_str(&format!("  {:>3}. {}  [{}]\n", index + 1, rule.name, inject::location(&rule.source)));
            for (_, key, value) in &rule.edit.set {
                text.push_str(&format!("       set {key}: {value}\n"));
            }
            for name in &rule.edit.remove {
                text.push_str(&format!("       remove {name}\n"));
            }
            if let Some(stats) = proof.response_stats.iter().find(|stats| stats.rule == rule.name) {
                text.push_str(&format!("       {} responses, {} applied\n", stats.responses, stats.hits));
            }
        }
    } else if proof.rules.rules.is_empty() {
        text.push_str("  no rule proven\n");
    } else {
        text.push_str(&format!(
            "  proven: {} agree with the original on every request ({} asked)\n",
            proof.evaluators.join(", "),
            proof.original_requests
        ));
        for (index, rule) in proof.rules.rules.iter().enumerate() {
            let xdp = if rule.action.is_block() { "dropped at XDP" } else { "answered in user space" };
            text.push_str(&format!("  {:>3}. {}  [{}; {xdp}]\n", index + 1, rule.name, inject::location(&rule.source)));
            if let Some(stats) = proof.stats.iter().find(|stats| stats.rule == rule.name) {
                text.push_str(&format!(
                    "       {} requests, {} hits, {} missed (passed to the function, which answered alike)\n",
                    stats.requests, stats.hits, stats.missed
                ));
            }
        }
    }
    if let Some(program) = &injection.program {
        text.push_str(&format!("  program: {} instructions", program.instruction_count()));
        match &injection.kernel {
            KernelCheck::Verified { verdict, filter } => text.push_str(&format!(
                "; the verifier processed {verdict} (verdict entry) and {filter} (XDP filter)\n"
            )),
            KernelCheck::Skipped(reason) => text.push_str(&format!("; not verified by the kernel: {reason}\n")),
            KernelCheck::Refused(message) => text.push_str(&format!("; refused by the kernel: {message}\n")),
        }
    } else if let KernelCheck::Refused(message) = &injection.kernel {
        text.push_str(&format!("  nothing injected: {message}\n"));
    }
    if !proof.rejected.is_empty() {
        text.push_str("  rejected:\n");
        for rejection in &proof.rejected {
            text.push_str(&format!("    - {} [{}]: {}\n", rejection.what, inject::location(&rejection.source), rejection.reason));
            if let Some(example) = &rejection.counterexample {
                // A response rule's counterexample is the request head followed by the
                // origin's response head.
                let what = if report.event_type.is_request() { "request" } else { "request and response" };
                text.push_str(&format!(
                    "      {what} from {}: {}\n      original: {}\n      rule: {}\n",
                    example.client_ip,
                    example.head.escape_debug(),
                    example.original,
                    example.rule
                ));
            }
        }
    }
    text
}
