//! `edgeport hooks <file-or-dir>`: what the hook injector recognised in each function, what it
//! proved and injects as eBPF (or, for response triggers, applies natively), what it rejected
//! and why, with instruction counts. `convert`
//! runs the same stage ([`inject_all`]) and records it beside each artifact.

use std::io::Write;
use std::path::{Path, PathBuf};

use edgeport_converter::discover::FunctionSource;
use edgeport_difftest::inject::{self, Injection, KernelCheck};
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
    let mut worker = start_worker()?;
    if let Err(reason) = inject::kernel_available() {
        eprintln!("note: rules are proven with rbpf only; the kernel cannot be asked: {reason}");
    }
    let mut status = Status::Clean;
    let mut tables = serde_json::Map::new();
    let mut stdout = std::io::stdout().lock();
    for function in &functions {
        match inject::inject(function, &mut worker) {
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
    let mut worker = None;
    for function in functions {
        let summary = match inject::recorded(out, &function.name) {
            Some(summary) => summary,
            None => {
                let worker = match &mut worker {
                    Some(worker) => worker,
                    None => match start_worker() {
                        Ok(started) => worker.insert(started),
                        Err(error) => {
                            eprintln!("note: no eBPF hooks: the original handlers cannot be run to prove them ({error:#})");
                            return None;
                        }
                    },
                };
                match inject::inject(function, worker) {
                    Ok(injection) => match inject::write(out, &injection) {
                        Ok(()) => injection.summary(),
                        Err(error) => {
                            eprintln!("error: {}: cannot write its hooks: {error}", function.name);
                            continue;
                        }
                    },
                    Err(error) => {
                        eprintln!("warning: {}: no hooks: {error}", function.name);
                        continue;
                    }
                }
            }
        };
        totals.functions += usize::from(summary.rules > 0);
        totals.rules += summary.rules;
        totals.blocks += summary.blocks;
        totals.rejected += summary.rejected;
    }
    Some(totals)
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
