//! The fast path: a function's proven hook rules (docs/hooks.md), answering without Wasm.
//!
//! Request rules run as eBPF in rbpf's JIT on the request head, exactly the program the kernel
//! verified; the verdict picks the rule whose proven answer is returned. Response rules proven
//! whole replace an origin-response or viewer-response function outright.

use std::sync::Mutex;

use edgeport_contract::EventType;
use edgeport_hook_injector::bpf::Program;
use edgeport_hook_injector::evaluators::request_frame;
use edgeport_hook_injector::http::Request;
use edgeport_hook_injector::ir::{Action, HeaderEdit, ResponsePredicate, ResponseRule, ResponseRuleSet, Rule, RuleSet, SourceSpan};
use edgeport_hook_injector::kernel::{KernelProgram, XdpAttachment};
use edgeport_hook_injector::vm::UserSpaceVm;
use serde_json::Value;

use crate::functions::Class;
use crate::ServeError;

/// A function's proven rules, at the trigger they were proven for.
pub struct FastPath {
    /// The trigger the rules stand for.
    pub event_type: EventType,
    request: Option<RequestRules>,
    response: Option<ResponseRuleSet>,
}

struct RequestRules {
    rules: RuleSet,
    program: Program,
    vm: Mutex<UserSpaceVm>,
}

/// What the fast path did with a request.
pub struct Answer<'a> {
    /// The rule that decided.
    pub rule: &'a str,
    /// What the function would have returned: a response, or the request with its new URI.
    pub value: Value,
}

impl FastPath {
    /// The rules a function's manifest records, if it has proven ones for a trigger it is
    /// attached to.
    pub fn from_manifest(manifest: &Value, attached: &[(Class, EventType)]) -> Result<Option<FastPath>, ServeError> {
        let Some(hooks) = manifest.get("hooks").filter(|hooks| hooks.is_object()) else { return Ok(None) };
        let Some(event_type) = hooks["eventType"].as_str().and_then(|t| t.parse::<EventType>().ok()) else { return Ok(None) };
        if !attached.iter().any(|(_, attached)| *attached == event_type) {
            return Ok(None);
        }
        let invalid = |message: String| ServeError::Manifest { path: "manifest.json hooks".into(), message };
        let source = |rule: &Value| SourceSpan { file: rule["source"].as_str().unwrap_or_default().into(), span: 0..0, line: 0 };
        let mut rules = RuleSet::default();
        for rule in hooks["rules"].as_array().into_iter().flatten() {
            rules.rules.push(Rule {
                name: rule["name"].as_str().unwrap_or_default().to_string(),
                predicates: serde_json::from_value(rule["predicates"].clone()).map_err(|e| invalid(e.to_string()))?,
                action: serde_json::from_value::<Action>(rule["action"].clone()).map_err(|e| invalid(e.to_string()))?,
                source: source(rule),
            });
        }
        let mut response_rules = ResponseRuleSet::default();
        for rule in hooks["responseRules"].as_array().into_iter().flatten() {
            let set = rule["set"].as_array().into_iter().flatten().map(|entry| {
                let text = |field: &str| entry[field].as_str().unwrap_or_default().to_string();
                (text("name"), text("key"), text("value"))
            });
            response_rules.rules.push(ResponseRule {
                name: rule["name"].as_str().unwrap_or_default().to_string(),
                predicates: serde_json::from_value::<Vec<ResponsePredicate>>(rule["predicates"].clone()).map_err(|e| invalid(e.to_string()))?,
                edit: HeaderEdit { set: set.collect(), remove: serde_json::from_value(rule["remove"].clone()).unwrap_or_default() },
                source: source(rule),
            });
        }
        let request = if rules.rules.is_empty() || !event_type.is_request() {
            None
        } else {
            let program = Program::compile(&rules).map_err(|e| invalid(format!("the hook rules do not compile: {e}")))?;
            let vm = UserSpaceVm::new(&program).map_err(|e| invalid(format!("rbpf refused the hook program: {e}")))?;
            Some(RequestRules { rules, program, vm: Mutex::new(vm) })
        };
        // Response rules stand for the whole function only when no candidate was rejected:
        // a rejected one is behaviour the rules do not reproduce.
        let whole = hooks["rejected"].as_array().is_none_or(Vec::is_empty);
        let response = (!response_rules.rules.is_empty() && whole && !event_type.is_request()).then_some(response_rules);
        if request.is_none() && response.is_none() {
            return Ok(None);
        }
        Ok(Some(FastPath { event_type, request, response }))
    }

    /// The proven answer for `request`, when a request rule fires.
    pub fn answer(&self, request: &Request) -> Option<Answer<'_>> {
        let rules = self.request.as_ref()?;
        let verdict = crate::lock(&rules.vm).verdict(&request_frame(request));
        let rule = rules.rules.rules.get(usize::try_from(verdict).ok()?.checked_sub(1)?)?;
        Some(Answer { rule: &rule.name, value: rule.action.answer(request) })
    }

    /// The response the function would return for the origin's `response`, when its response
    /// rules stand for it whole.
    pub fn respond(&self, response: &Value) -> Option<Value> {
        self.response.as_ref().map(|rules| rules.apply(response))
    }

    /// The rule names by verdict (`pass`, then each request rule), for the kernel's counters.
    pub fn verdict_names(&self) -> Vec<String> {
        let rules = self.request.as_ref().map_or(&[][..], |rules| &rules.rules.rules[..]);
        std::iter::once("pass".to_string()).chain(rules.iter().map(|rule| rule.name.clone())).collect()
    }

    /// Loads the request rules into the kernel and attaches them at XDP on `iface`, watching
    /// `port`.
    pub fn attach_xdp(&self, iface: &str, port: u16) -> Result<Xdp, String> {
        let rules = self.request.as_ref().ok_or("the function has no request rules")?;
        let mut program = KernelProgram::load(&rules.program).map_err(|e| e.to_string())?;
        program.set_port(port).map_err(|e| e.to_string())?;
        let attachment = program.attach_xdp(iface).map_err(|e| e.to_string())?;
        Ok(Xdp { _attachment: attachment, program, names: self.verdict_names() })
    }
}

/// A program attached at XDP; detached when dropped.
pub struct Xdp {
    // Field order: the attachment is dropped (detached) before the program it attaches.
    _attachment: XdpAttachment,
    program: KernelProgram,
    names: Vec<String>,
}

impl Xdp {
    /// `(verdict name, packets)` from the kernel's per-CPU counters.
    pub fn counters(&self) -> Vec<(String, u64)> {
        let counts = self.program.counters().unwrap_or_default();
        self.names.iter().cloned().zip(counts).collect()
    }
}
