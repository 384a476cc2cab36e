//! Differential testing: proves that a converted function behaves like the original.
//!
//! The original handler runs on real node (python3 once Python lands) in long-lived reference
//! workers with the same pinned nondeterminism as the runtime ([`reference`]); the converted
//! one runs on the edgeport runtime. Both see the function's provided events plus events
//! synthesized from the frontend's facts ([`synthesize`]); every difference in the raw outcome
//! or in what CloudFront would do with it is found ([`compare`]), the original's branch
//! coverage is measured ([`coverage`]), and [`runner`] assembles the [`report`] — Markdown,
//! JSON or JUnit XML.

pub mod compare;
pub mod coverage;
pub mod deployed;
pub mod hooks;
pub mod inject;
pub mod reference;
pub mod report;
pub mod runner;
pub mod synthesize;

/// `--changed-since` lives in the converter, which `edgeport convert` shares it with.
pub use edgeport_converter::changed;
pub use report::{Format, Report};
pub use runner::{run, FunctionConfig, TestOptions};
