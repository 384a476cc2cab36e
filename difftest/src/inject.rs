//! The hook stage of one function: recognise its rules and prove them against the original
//! with the reference semantics, rbpf and — when this process may use BPF — the kernel
//! verifier and `BPF_PROG_TEST_RUN` ([`inject`]); then compile what was proven and write
//! `hooks.bpf.o` beside the artifact with the rule table in its manifest ([`write`]).
//!
//! Invariant: `hooks.bpf.o` only ever holds rules that every evaluator and the original agreed
//! on; a function without such rules has no object (a stale one is removed).

use std::path::Path;
use std::sync::OnceLock;

use edgeport_converter::output::{write_atomically, MANIFEST_FILE};
use edgeport_converter::FunctionSource;
use edgeport_hook_injector::bpf::{Entry, Program};
use edgeport_hook_injector::evaluators::{KernelEvaluator, RbpfEvaluator};
use edgeport_hook_injector::kernel::{self, KernelProgram};
use edgeport_hook_injector::prove::Evaluator;
use edgeport_hook_injector::recognize::describe;
use edgeport_hook_injector::recognize::response::describe_response;
use edgeport_hook_injector::ir::SourceSpan;
use serde_json::{json, Value};

use crate::hooks::{recognize_and_prove, HookError, HookReport};
use crate::reference::ReferenceWorker;
use crate::report::HooksSummary;

/// The object file written beside `function.wasm`.
pub const OBJECT_FILE: &str = "hooks.bpf.o";

/// A function's proven rules, compiled.
pub struct Injection {
    /// Recognition and proof.
    pub report: HookReport,
    /// The program of the proven rules; `None` when no rule was proven.
    pub program: Option<Program>,
    /// What the kernel said about the program.
    pub kernel: KernelCheck,
}

/// The kernel's part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelCheck {
    /// The verifier accepted both entries; the instructions it processed for each.
    Verified {
        /// The verdict entry (test runs, rbpf, the runtime's fast path).
        verdict: u32,
        /// The filter entry (attached at XDP).
        filter: u32,
    },
    /// The kernel was not asked (no rules, or this process may not use BPF: the reason).
    Skipped(String),
    /// The verifier refused the program (its message); no rule may then be injected.
    Refused(String),
}

/// Whether this process may load BPF programs, probed once.
pub fn kernel_available() -> Result<(), String> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    PROBE.get_or_init(kernel::probe).clone()
}

/// Recognises, proves and compiles `function`'s rules, running the original on `worker`.
pub fn inject(function: &FunctionSource, worker: &mut ReferenceWorker) -> Result<Injection, HookError> {
    let mut rbpf = RbpfEvaluator::default();
    let mut in_kernel = KernelEvaluator::default();
    let mut report = {
        let mut evaluators: Vec<&mut dyn Evaluator> = vec![&mut rbpf];
        if kernel_available().is_ok() {
            evaluators.push(&mut in_kernel);
        }
        recognize_and_prove(function, worker, &mut evaluators)?
    };
    if report.proof.rules.rules.is_empty() {
        return Ok(Injection { report, program: None, kernel: KernelCheck::Skipped("no request rule was proven".into()) });
    }
    let program = match Program::compile(&report.proof.rules) {
        Ok(program) => program,
        Err(error) => {
            // The proof compiled the same rules; this only happens on a code generator bug.
            let kernel = KernelCheck::Refused(format!("cannot compile the proven rules: {error}"));
            report.proof.rules.rules.clear();
            return Ok(Injection { report, program: None, kernel });
        }
    };
    let kernel = match kernel_available() {
        Err(reason) => KernelCheck::Skipped(reason),
        Ok(()) => {
            // The proof's last round loaded exactly these rules; verifying them again would
            // double the slowest step.
            let counts = match in_kernel.last() {
                Some((rules, loaded)) if *rules == report.proof.rules => verified_counts(loaded),
                _ => KernelProgram::load(&program).map_err(|error| error.to_string()).and_then(|loaded| verified_counts(&loaded)),
            };
            match counts {
                Ok((verdict, filter)) => KernelCheck::Verified { verdict, filter },
                Err(message) => KernelCheck::Refused(message),
            }
        }
    };
    if matches!(kernel, KernelCheck::Refused(_)) {
        report.proof.rules.rules.clear();
        return Ok(Injection { report, program: None, kernel });
    }
    Ok(Injection { report, program: Some(program), kernel })
}

/// What the verifier processed for both entries of a loaded program.
fn verified_counts(loaded: &KernelProgram) -> Result<(u32, u32), String> {
    let count = |entry| loaded.verified_instructions(entry).map_err(|error| error.to_string());
    Ok((count(Entry::Verdict)?, count(Entry::Filter)?))
}

impl Injection {
    /// The report's hooks column.
    pub fn summary(&self) -> HooksSummary {
        let rules = &self.report.proof.rules.rules;
        HooksSummary {
            rules: rules.len() + self.report.proof.response_rules.rules.len(),
            blocks: rules.iter().filter(|rule| rule.action.is_block()).count(),
            rejected: self.report.proof.rejected.len(),
            requests: self.report.proof.original_requests,
            evaluators: self.report.proof.evaluators.clone(),
            failure: match &self.kernel {
                KernelCheck::Refused(message) => Some(message.clone()),
                _ => None,
            },
        }
    }

    /// The rule table recorded in the function's manifest under `hooks`.
    pub fn manifest_entry(&self) -> Value {
        let proof = &self.report.proof;
        let rules: Vec<Value> = proof
            .rules
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                let stats = proof.stats.iter().find(|stats| stats.rule == rule.name);
                json!({
                    "verdict": index + 1,
                    "name": rule.name,
                    "source": location(&rule.source),
                    "when": rule.predicates.iter().map(describe).collect::<Vec<_>>(),
                    "predicates": rule.predicates,
                    "action": rule.action,
                    "xdp": if rule.action.is_block() { "drop" } else { "pass" },
                    "requests": stats.map(|s| s.requests),
                    "hits": stats.map(|s| s.hits),
                    "missed": stats.map(|s| s.missed),
                })
            })
            .collect();
        let response_rules: Vec<Value> = proof
            .response_rules
            .rules
            .iter()
            .map(|rule| {
                let stats = proof.response_stats.iter().find(|stats| stats.rule == rule.name);
                json!({
                    "name": rule.name,
                    "source": location(&rule.source),
                    "when": rule.predicates.iter().map(describe_response).collect::<Vec<_>>(),
                    "predicates": rule.predicates,
                    "set": rule.edit.set.iter().map(|(name, key, value)| json!({ "name": name, "key": key, "value": value })).collect::<Vec<_>>(),
                    "remove": rule.edit.remove,
                    "requests": stats.map(|s| s.responses),
                    "hits": stats.map(|s| s.hits),
                })
            })
            .collect();
        let rejected: Vec<Value> = proof
            .rejected
            .iter()
            .map(|rejection| {
                json!({
                    "what": rejection.what,
                    "source": location(&rejection.source),
                    "reason": rejection.reason,
                })
            })
            .collect();
        let program = self.program.as_ref().map(|program| {
            json!({
                "object": OBJECT_FILE,
                "instructions": program.instruction_count(),
            })
        });
        let kernel = match &self.kernel {
            KernelCheck::Verified { verdict, filter } => json!({ "verifiedInstructions": { "verdict": verdict, "filter": filter } }),
            KernelCheck::Skipped(reason) => json!({ "skipped": reason }),
            KernelCheck::Refused(message) => json!({ "refused": message }),
        };
        json!({
            "eventType": self.report.event_type,
            "program": program,
            "kernel": kernel,
            "evaluators": proof.evaluators,
            "originalRequests": proof.original_requests,
            "rules": rules,
            "responseRules": response_rules,
            "rejected": rejected,
        })
    }
}

/// `index.js:36`.
pub fn location(source: &SourceSpan) -> String {
    let file = source.file.file_name().map_or_else(|| source.file.display().to_string(), |name| name.to_string_lossy().into_owned());
    format!("{file}:{}", source.line)
}

/// Writes `hooks.bpf.o` into `<out>/<function>/` (removing a stale one when nothing was
/// proven) and records the rule table in that directory's `manifest.json` (response rules,
/// which are no eBPF, under `responseRules`). A function without
/// a manifest (it did not convert) is left alone.
pub fn write(out_dir: &Path, injection: &Injection) -> std::io::Result<()> {
    let dir = out_dir.join(&injection.report.function);
    let manifest_path = dir.join(MANIFEST_FILE);
    let mut manifest: Value = match std::fs::read(&manifest_path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    let object = dir.join(OBJECT_FILE);
    match &injection.program {
        Some(program) => write_atomically(&object, &program.object_file())?,
        None => match std::fs::remove_file(&object) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        },
    }
    manifest["hooks"] = injection.manifest_entry();
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write_atomically(&manifest_path, &bytes)
}

/// The summary `<out>/<function>/manifest.json` records when an earlier run proved the
/// function's hooks (its artifact was reused), else `None`.
pub fn recorded(out_dir: &Path, function: &str) -> Option<HooksSummary> {
    let bytes = std::fs::read(out_dir.join(function).join(MANIFEST_FILE)).ok()?;
    let manifest: Value = serde_json::from_slice(&bytes).ok()?;
    let hooks = manifest.get("hooks")?;
    let rules = hooks["rules"].as_array()?;
    let response_rules = hooks["responseRules"].as_array().map_or(0, Vec::len);
    Some(HooksSummary {
        rules: rules.len() + response_rules,
        blocks: rules.iter().filter(|rule| rule["xdp"] == "drop").count(),
        rejected: hooks["rejected"].as_array().map_or(0, Vec::len),
        requests: hooks["originalRequests"].as_u64().map_or(0, |n| n as usize),
        evaluators: serde_json::from_value(hooks["evaluators"].clone()).unwrap_or_default(),
        failure: hooks["kernel"]["refused"].as_str().map(str::to_owned),
    })
}
