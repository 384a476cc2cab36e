//! The hook stage end to end on the corpus cases the acceptance names: rules proven on the real
//! original with rbpf and — as root — the kernel (verifier and `BPF_PROG_TEST_RUN`) as
//! evaluators, compiled, and written beside an artifact with their table in its manifest.

use std::path::{Path, PathBuf};
use std::process::Command;

use edgeport_converter::discover::HANDLER_FILES;
use edgeport_converter::FunctionSource;
use edgeport_difftest::inject::{self, Injection, KernelCheck, OBJECT_FILE};
use edgeport_difftest::reference::{ReferenceLanguage, ReferenceWorker, WorkerOptions};
use edgeport_hook_injector::synthesize::REQUESTS_PER_RULE;
use serde_json::Value;

fn case_handler(case: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus").join(case);
    let dir = dir.canonicalize().expect("the corpus case exists");
    HANDLER_FILES.iter().map(|file| dir.join(file)).find(|path| path.is_file()).expect("a handler")
}

/// The injection for a case, or `None` (after `SKIPPED`) when its interpreter is missing.
fn injection(case: &str) -> Option<Injection> {
    let path = case_handler(case);
    let language = ReferenceLanguage::of_file(&path);
    let program = match language {
        ReferenceLanguage::Node => "node",
        ReferenceLanguage::Python => "python3",
    };
    if !Command::new(program).arg("--version").output().is_ok_and(|output| output.status.success()) {
        println!("SKIPPED: cannot run {program}");
        return None;
    }
    let options =
        WorkerOptions { coverage: false, install_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf()) };
    let mut worker = ReferenceWorker::spawn(language, options).expect("the reference worker starts");
    Some(inject::inject(&FunctionSource::from_file(&path), &mut worker).expect("the hook stage runs"))
}

/// Every proven request rule was tried on enough requests by the reference semantics, rbpf
/// and (when permitted) the kernel, and the kernel verified the program.
fn assert_proven_everywhere(case: &str, injection: &Injection, rules: usize) {
    let proof = &injection.report.proof;
    assert_eq!(proof.rules.rules.len(), rules, "{case}: {:#?}", proof.rejected);
    for stats in &proof.stats {
        assert!(stats.requests >= REQUESTS_PER_RULE, "{case}: {stats:?}");
        assert!(stats.hits > 0, "{case}: {stats:?}");
    }
    assert!(proof.evaluators.iter().any(|e| e == "rbpf"), "{case}: {:?}", proof.evaluators);
    match inject::kernel_available() {
        Ok(()) => {
            assert!(proof.evaluators.iter().any(|e| e == "kernel"), "{case}: {:?}", proof.evaluators);
            let KernelCheck::Verified { verdict, filter } = injection.kernel else {
                panic!("{case}: the kernel did not verify the program: {:?}", injection.kernel);
            };
            assert!(verdict > 0 && filter > 0);
        }
        Err(reason) => println!("SKIPPED: {case} in the kernel: {reason}"),
    }
}

#[test]
fn ip_block_list_is_proven_in_the_kernel_and_rbpf() {
    let Some(injection) = injection("ip-block-list") else { return };
    assert_proven_everywhere("ip-block-list", &injection, 1);
    assert_eq!(injection.summary().blocks, 1);
}

#[test]
fn user_agent_blocks_are_proven_in_the_kernel_and_rbpf() {
    let Some(injection) = injection("user-agent-block") else { return };
    assert_proven_everywhere("user-agent-block", &injection, 8);
    assert_eq!(injection.summary().blocks, 8);
}

#[test]
fn redirects_and_the_ab_split_are_proven_in_the_kernel_and_rbpf() {
    for (case, rules) in [("static-redirect", 5), ("cookie-ab-test", 4)] {
        let Some(injection) = injection(case) else { return };
        assert_proven_everywhere(case, &injection, rules);
        assert_eq!(injection.summary().blocks, 0, "{case}: redirects and rewrites are not dropped");
    }
}

#[test]
fn security_headers_are_response_rules_without_a_program() {
    let Some(injection) = injection("security-headers") else { return };
    assert_eq!(injection.report.proof.response_rules.rules.len(), 3);
    assert!(injection.program.is_none(), "response rules are applied by the runtime, not in eBPF");
    assert_eq!(injection.summary().rules, 3);
}

#[test]
fn the_object_and_the_rule_table_are_written_beside_the_artifact() {
    let Some(injection) = injection("ip-block-list") else { return };
    let out = tempfile::tempdir().expect("a temporary directory");
    let dir = out.path().join("ip-block-list");
    std::fs::create_dir_all(&dir).expect("the function directory");
    // A function that did not convert has no manifest: nothing is written for it.
    inject::write(out.path(), &injection).expect("nothing to write");
    assert!(!dir.join(OBJECT_FILE).exists());

    std::fs::write(dir.join("manifest.json"), r#"{"metadata":{"name":"ip-block-list"}}"#).expect("a manifest");
    inject::write(out.path(), &injection).expect("written");
    let object = std::fs::read(dir.join(OBJECT_FILE)).expect("the object");
    assert_eq!(&object[..4], b"\x7fELF");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("the manifest")).expect("JSON");
    assert_eq!(manifest["metadata"]["name"], "ip-block-list", "the rest of the manifest is kept");
    let rules = manifest["hooks"]["rules"].as_array().expect("a rule table");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["xdp"], "drop");
    assert_eq!(rules[0]["source"], "index.js:25");
    assert_eq!(inject::recorded(out.path(), "ip-block-list").map(|s| s.rules), Some(1));

    // Proven again with no rules, the stale object goes.
    let mut emptied = injection;
    emptied.report.proof.rules.rules.clear();
    emptied.program = None;
    inject::write(out.path(), &emptied).expect("written");
    assert!(!dir.join(OBJECT_FILE).exists());
}
