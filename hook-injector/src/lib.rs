//! Recognises table-like decisions in edge handlers and compiles them to eBPF.
//!
//! In pipeline order:
//! 1. [`recognize`]: from the frontend's facts (the literals a handler compares request fields
//!    with) propose candidate rules, and learn each candidate's action by asking the original
//!    handler ([`Original`]); every rejected candidate keeps its reason.
//! 2. [`ir`]: the rule IR, ordered predicates on the request head to actions, with the reference
//!    semantics ([`ir::RuleSet::verdict`]) every evaluator must reproduce.
//! 3. [`bpf`]: code generation to eBPF in Rust (no clang, no nightly), an ELF object the kernel
//!    loads, per-rule per-CPU counters and LPM tries for networks.
//! 4. [`kernel`] loads it with aya (verifier, `BPF_PROG_TEST_RUN`, XDP attach); [`vm`] runs
//!    the same bytecode in user space with rbpf.
//! 5. [`prove`]: a rule is kept only when the original handler, the reference semantics, the
//!    kernel and rbpf agree on every request [`synthesize`] makes for it.
//!
//! Response triggers (origin-response, viewer-response) get [`ir::ResponseRuleSet`]s instead:
//! header edits recognised by diffing the original's answers to origin responses
//! ([`recognize::response`]) and proven on synthesized responses
//! ([`prove::recognize_and_prove_responses`]). They are applied natively by the runtime, not
//! in eBPF: XDP never sees a response.
//!
//! Invariant: no rule is injected that was not proven equal to the original on its requests.

pub mod bpf;
pub mod evaluators;
pub mod frame;
pub mod http;
pub mod ir;
pub mod kernel;
pub mod prove;
pub mod recognize;
pub mod synthesize;
pub mod vm;

/// The original handler, asked for its answer to a request (the differential-testing
/// executors implement it with real node and python3).
pub trait Original {
    /// The handler's result for `request` arriving at its trigger: the CloudFront request or
    /// response object it returned, or `Err` with what went wrong (an error, a timeout).
    fn answer(&mut self, request: &http::Request) -> Result<serde_json::Value, String>;

    /// The handler's result when the origin answers `request` with `response` (response
    /// triggers): the CloudFront response object it returned, or `Err` with what went wrong.
    /// Originals that only know requests say so.
    fn answer_response(
        &mut self,
        request: &http::Request,
        response: &http::Response,
    ) -> Result<serde_json::Value, String> {
        let _ = (request, response);
        Err("this original is only asked about requests".into())
    }
}
