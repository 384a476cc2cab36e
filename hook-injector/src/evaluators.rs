//! The compiled program as a proof [`Evaluator`]: in the kernel (`BPF_PROG_TEST_RUN`) and in
//! rbpf. Each compiles the rule set it is asked about (the proof asks about shrinking sets as
//! it drops rules), wraps every request in a TCP frame from the request's client address to a
//! documentation address on port 80, and reports the verdicts.

use std::net::IpAddr;

use crate::bpf::Program;
use crate::frame::tcp_frame;
use crate::http::Request;
use crate::ir::RuleSet;
use crate::kernel::KernelProgram;
use crate::prove::Evaluator;
use crate::vm::UserSpaceVm;

/// The port the frames are sent to (the programs watch every port unless told otherwise).
const SERVER_PORT: u16 = 80;

/// The frame carrying `request` to the edge server.
pub fn request_frame(request: &Request) -> Vec<u8> {
    let server: IpAddr = match request.client_ip {
        IpAddr::V4(_) => IpAddr::from([192, 0, 2, 80]),
        IpAddr::V6(_) => IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x80]),
    };
    tcp_frame(request.client_ip, server, SERVER_PORT, &request.to_head())
}

/// The program for the last rule set asked about, kept while the proof asks again.
struct Compiled<T> {
    rules: RuleSet,
    loaded: T,
}

fn compiled<'a, T>(
    slot: &'a mut Option<Compiled<T>>,
    rules: &RuleSet,
    load: impl FnOnce(&Program) -> Result<T, String>,
) -> Result<&'a mut Compiled<T>, String> {
    if slot.as_ref().is_none_or(|compiled| compiled.rules != *rules) {
        let program = Program::compile(rules).map_err(|error| error.to_string())?;
        let loaded = load(&program)?;
        *slot = Some(Compiled { rules: rules.clone(), loaded });
    }
    Ok(slot.as_mut().expect("filled above"))
}

/// The program verified and run by the kernel.
#[derive(Default)]
pub struct KernelEvaluator {
    current: Option<Compiled<KernelProgram>>,
}

impl KernelEvaluator {
    /// The last rule set asked about, as loaded in the kernel.
    pub fn last(&self) -> Option<(&RuleSet, &KernelProgram)> {
        self.current.as_ref().map(|c| (&c.rules, &c.loaded))
    }
}

impl Evaluator for KernelEvaluator {
    fn name(&self) -> &str {
        "kernel"
    }

    fn verdicts(&mut self, rules: &RuleSet, requests: &[Request]) -> Result<Vec<u32>, String> {
        let compiled = compiled(&mut self.current, rules, |program| {
            KernelProgram::load(program).map_err(|error| error.to_string())
        })?;
        requests
            .iter()
            .map(|request| compiled.loaded.verdict(&request_frame(request)).map_err(|error| error.to_string()))
            .collect()
    }
}

/// The program run in user space by rbpf (its JIT where there is one).
#[derive(Default)]
pub struct RbpfEvaluator {
    current: Option<Compiled<UserSpaceVm>>,
}

impl RbpfEvaluator {
}

impl Evaluator for RbpfEvaluator {
    fn name(&self) -> &str {
        "rbpf"
    }

    fn verdicts(&mut self, rules: &RuleSet, requests: &[Request]) -> Result<Vec<u32>, String> {
        let compiled = compiled(&mut self.current, rules, |program| {
            UserSpaceVm::new(program).map_err(|error| error.to_string())
        })?;
        requests
            .iter()
            .map(|request| compiled.loaded.try_verdict(&request_frame(request)).map_err(|error| error.to_string()))
            .collect()
    }
}
