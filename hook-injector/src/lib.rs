//! Recognises table-like decisions in edge handlers and compiles them to eBPF.
//!
//! Not built yet: this crate is the place, and this page the plan, for the hook-injector
//! issue. Nothing in the pipeline calls it today.
//!
//! Plan, in pipeline order:
//! 1. **Recognition** over the frontend's facts (`edgeport_frontends::javascript::HandlerFacts`
//!    and its comparisons of request fields with literals): IP / CIDR block lists, header and
//!    User-Agent matches, path rules, static and host redirects, A/B splits, static response
//!    headers. The output is a rule IR — ordered predicates to actions — where every rule keeps
//!    the source span it came from and every rejected candidate the reason it was rejected.
//! 2. **Code generation** in Rust at run time (no clang or nightly): XDP programs that parse
//!    Ethernet, IPv4/IPv6, TCP and the HTTP/1.x request head, written as ELF with `object`,
//!    per-rule counters in per-CPU arrays, CIDR lists in LPM tries.
//! 3. **Loading** with aya (kernel verifier, `BPF_PROG_TEST_RUN`, XDP attach) and rbpf where the
//!    kernel is not available.
//! 4. **Equivalence**: a rule is injected only when the original handler (through the
//!    differential-testing executors) and the eBPF program agree on every synthesized request.
//!
//! Invariant (to keep): no rule is injected that was not proven equal to the original.
