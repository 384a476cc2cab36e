//! The hook injector's oracle: the original handler on real node or python3, asked for its
//! answer to the requests recognition and the proof make ([`ReferenceOriginal`]), and the
//! whole recognize-and-prove run for one function ([`recognize_and_prove`]).
//!
//! A request reaches the handler as a difftest event would: the base event of the function's
//! trigger ([`crate::synthesize::base_event`]) with `cf.request` replaced by
//! [`Request::to_cloudfront`] (fields only the trigger has, such as `origin`, kept), under the
//! seed, frozen clock, timeout, function name and request id the differential test uses for
//! the function. A response trigger's original is asked about the origin's responses instead
//! (the base event's `cf.response` replaced). Answers to requests are reported relative to the
//! request as built by `Request::to_cloudfront`: a returned request object loses the
//! template's extra fields when the handler left them as they were sent, so that "the request
//! with only its `uri` changed" means what it says.

use std::path::{Path, PathBuf};

use edgeport_contract::EventType;
use edgeport_converter::FunctionSource;
use edgeport_frontends::analysis::Options;
use edgeport_frontends::facts::{ComparedLiteral, HandlerFacts};
use edgeport_frontends::SourceFile;
use edgeport_hook_injector::http::{Request, Response};
use edgeport_hook_injector::prove::{self, Evaluator, Proof};
use edgeport_hook_injector::recognize::{secret_module, Counterexample, Handler, Recognition, Rejection};
use edgeport_hook_injector::synthesize::{header_key, Edit};
use edgeport_hook_injector::Original;
use edgeport_runtime::invocation::DEFAULT_FIXED_NOW_MS;
use edgeport_runtime::Outcome;
use serde::Serialize;
use serde_json::Value;

use crate::deployed::deployed;
use crate::reference::{ReferenceInvocation, ReferenceWorker};
use crate::runner::{function_dir, provided_events, FunctionConfig, REQUEST_ID};
use crate::synthesize::{base_event, matching_strings, realistic_values};

/// How many strings matching each untranslatable regex the proof mixes into its requests.
const REGEX_SAMPLES: usize = 4;

/// Why a function could not be recognized and proven.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// `case.json` is unreadable.
    #[error("{0}")]
    Config(String),
    /// The handler file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The handler file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The handler does not parse far enough to have facts.
    #[error("{0} does not parse; run `edgeport convert` for its diagnostics")]
    NoFacts(PathBuf),
    /// The deployed copy (placeholders filled in) cannot be made.
    #[error("cannot prepare {path}: {source}")]
    Deploy {
        /// The handler file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The original handler on a reference worker, as the hook injector's [`Original`].
pub struct ReferenceOriginal<'w> {
    worker: &'w mut ReferenceWorker,
    /// The handler file to run (the deployed copy when placeholders were filled in).
    handler: PathBuf,
    export: String,
    event_type: EventType,
    /// The base event of the trigger; its `cf.request` is replaced per request.
    template: Value,
    seed: u32,
    function_name: String,
}

impl<'w> ReferenceOriginal<'w> {
    /// The handler `export` of `handler` (a file the worker can run, by absolute path) attached
    /// to `event_type`, run with `seed` and named `function_name` as the differential test runs it.
    pub fn new(
        worker: &'w mut ReferenceWorker,
        handler: &Path,
        export: &str,
        event_type: EventType,
        seed: u32,
        function_name: &str,
    ) -> Self {
        ReferenceOriginal {
            worker,
            handler: handler.to_path_buf(),
            export: export.to_string(),
            event_type,
            template: base_event(event_type),
            seed,
            function_name: function_name.to_string(),
        }
    }
}

impl ReferenceOriginal<'_> {
    /// The trigger's base event with `request` in it (fields only the trigger has, such as
    /// `origin`, kept), and the request object as sent.
    fn event_with(&self, request: &Request) -> Result<(Value, Value), String> {
        let built = request.to_cloudfront();
        let mut event = self.template.clone();
        let sent = match event.pointer_mut("/Records/0/cf/request") {
            Some(Value::Object(template)) => {
                if let Value::Object(fields) = &built {
                    for (key, value) in fields {
                        template.insert(key.clone(), value.clone());
                    }
                }
                Value::Object(template.clone())
            }
            _ => return Err("the base event has no Records[0].cf.request".into()),
        };
        Ok((event, sent))
    }

    /// The handler's result for `event`, or what went wrong.
    fn invoke(&mut self, event: &Value) -> Result<Value, String> {
        let invocation = ReferenceInvocation {
            file: &self.handler,
            export: &self.export,
            event,
            seed: self.seed,
            now_ms: DEFAULT_FIXED_NOW_MS,
            timeout_ms: self.event_type.timeout_ms(),
            function_name: &self.function_name,
            request_id: REQUEST_ID,
        };
        let run = self.worker.invoke(&invocation).map_err(|error| error.to_string())?;
        match run.outcome {
            Outcome::Result { value } => Ok(value),
            Outcome::Error { error_type, error_message, .. } => Err(format!("{error_type}: {error_message}")),
            Outcome::Timeout { reason } => Err(reason),
        }
    }
}

impl Original for ReferenceOriginal<'_> {
    fn answer(&mut self, request: &Request) -> Result<Value, String> {
        let (event, sent) = self.event_with(request)?;
        let value = self.invoke(&event)?;
        Ok(relative_to_request(value, &request.to_cloudfront(), &sent))
    }

    /// The trigger's base event with `request` in it and `cf.response` replaced by
    /// [`Response::to_cloudfront`]; the answer is the response object as returned.
    fn answer_response(&mut self, request: &Request, response: &Response) -> Result<Value, String> {
        if self.event_type.is_request() {
            return Err(format!("a {} function is not asked about responses", self.event_type.as_str()));
        }
        let (mut event, _) = self.event_with(request)?;
        match event.pointer_mut("/Records/0/cf") {
            Some(Value::Object(cf)) => {
                cf.insert("response".into(), response.to_cloudfront());
            }
            _ => return Err("the base event has no Records[0].cf".into()),
        }
        self.invoke(&event)
    }
}

/// A returned request object without the fields `built` does not have that are as `sent`;
/// anything else as it is.
fn relative_to_request(mut value: Value, built: &Value, sent: &Value) -> Value {
    if let (Value::Object(answer), Some(built)) = (&mut value, built.as_object()) {
        if !answer.contains_key("status") {
            answer.retain(|key, field| built.contains_key(key) || sent.get(key) != Some(field));
        }
    }
    value
}

/// Recognition and proof of one function.
#[derive(Debug, Clone, Serialize)]
pub struct HookReport {
    /// The function's name.
    pub function: String,
    /// The handler file.
    pub source: PathBuf,
    /// The trigger the original was asked at.
    pub event_type: EventType,
    /// The candidates and recognition's rejections.
    pub recognition: Recognition,
    /// The proven rules (request rules, or a response trigger's response rules), their
    /// statistics and everything rejected.
    pub proof: Proof,
}

/// Recognizes `function`'s rules and proves them against the original on `worker` and
/// `evaluators` (response triggers get response rules, proven on the original alone), with the function's `case.json` (export, trigger, seed, placeholders) applied
/// as the differential test applies it.
pub fn recognize_and_prove(
    function: &FunctionSource,
    worker: &mut ReferenceWorker,
    evaluators: &mut [&mut dyn Evaluator],
) -> Result<HookReport, HookError> {
    let dir = function_dir(function);
    let config = FunctionConfig::read(&dir).map_err(HookError::Config)?;
    let path = &function.path;
    let text = std::fs::read_to_string(path).map_err(|source| HookError::Read { path: path.clone(), source })?;
    let facts = facts_of(path, &text, config.export.clone().or_else(|| function.handler.clone()))
        .ok_or_else(|| HookError::NoFacts(path.clone()))?;
    let export = config
        .export
        .clone()
        .or_else(|| function.handler.clone())
        .or_else(|| facts.handler.as_ref().map(|handler| handler.name.clone()))
        .unwrap_or_else(|| "handler".into());
    let event_type = config
        .event_types
        .first()
        .or(function.event_types.first())
        .or(facts.event_types.first())
        .copied()
        .unwrap_or(EventType::ViewerRequest);
    let deployed =
        deployed(&dir, path, &config.defines).map_err(|source| HookError::Deploy { path: path.clone(), source })?;

    let mut original =
        ReferenceOriginal::new(worker, &deployed.handler, &export, event_type, config.seed, &function.name);
    let verifies_with = secret_module_used(path, &facts);
    let handler = Handler { file: path, text: &text, facts: &facts, verifies_with: verifies_with.as_deref() };
    let (recognition, proof) = if event_type.is_request() {
        let provided = provided_requests(function, &dir, event_type)?;
        let (recognition, proof) =
            prove::recognize_and_prove(&handler, &samples(&facts), &mut original, evaluators);
        hold_to_provided_events(recognition, proof, &provided, &mut original, evaluators)
    } else {
        prove::recognize_and_prove_responses(&handler, &mut original)
    };
    Ok(HookReport { function: function.name.clone(), source: path.clone(), event_type, recognition, proof })
}

/// The requests of the function's own events of `event_type` (`events/*.json`, read as the
/// differential test reads them), named after their files. They hold what synthesis cannot
/// make — a valid signature, a real token, the odd header a team met in production — so every
/// proven rule must also answer them exactly as the original does. An unreadable event file
/// fails the function's hooks, as it fails its test.
fn provided_requests(
    function: &FunctionSource,
    dir: &Path,
    event_type: EventType,
) -> Result<Vec<(String, Request)>, HookError> {
    let events = provided_events(function, dir).map_err(HookError::Config)?;
    Ok(events
        .iter()
        .filter(|event| event.event_type == event_type)
        .filter_map(|event| {
            let request = request_of(event.event.pointer("/Records/0/cf/request")?)?;
            Some((format!("{}.json", event.name), request))
        })
        .collect())
}

/// A CloudFront request object as the viewer's request: each header entry one line, in order.
fn request_of(object: &Value) -> Option<Request> {
    let mut headers = Vec::new();
    for (name, entries) in object["headers"].as_object().into_iter().flatten() {
        for entry in entries.as_array()? {
            let key = entry["key"].as_str().unwrap_or(name);
            headers.push((key.to_owned(), entry["value"].as_str()?.to_owned()));
        }
    }
    Some(Request {
        client_ip: object["clientIp"].as_str()?.parse().ok()?,
        method: object["method"].as_str()?.to_owned(),
        uri: object["uri"].as_str()?.to_owned(),
        querystring: object["querystring"].as_str().unwrap_or_default().to_owned(),
        headers,
    })
}

/// Drops every proven rule that fires on one of the function's own events where the original
/// answers otherwise (with that event as the counterexample), proving the rest again each time
/// since rule order matters.
fn hold_to_provided_events(
    mut recognition: Recognition,
    mut proof: Proof,
    provided: &[(String, Request)],
    original: &mut dyn Original,
    evaluators: &mut [&mut dyn Evaluator],
) -> (Recognition, Proof) {
    let mut contradicted = Vec::new();
    while let Some(rejection) = first_contradiction(&proof, provided, original) {
        recognition.candidates.retain(|candidate| candidate.name != rejection.what);
        contradicted.push(rejection);
        proof = prove::prove(&recognition, original, evaluators);
    }
    proof.rejected.extend(contradicted);
    (recognition, proof)
}

/// The first proven rule that fires on a provided request the original answers otherwise.
fn first_contradiction(proof: &Proof, provided: &[(String, Request)], original: &mut dyn Original) -> Option<Rejection> {
    for (name, request) in provided {
        let verdict = proof.rules.verdict(&request.to_head(), request.client_ip);
        let Some(rule) = verdict.checked_sub(1).and_then(|index| proof.rules.rules.get(index as usize)) else {
            continue;
        };
        let expected = rule.action.answer(request);
        let answer = original.answer(request);
        if answer.as_ref() != Ok(&expected) {
            return Some(Rejection {
                what: rule.name.clone(),
                source: rule.source.clone(),
                reason: format!("the original answers otherwise on the function's own event {name}"),
                counterexample: Some(Counterexample::new(request, "", &answer, &expected)),
            });
        }
    }
    None
}

/// A module that can verify secrets, imported by the handler or by a local module it imports
/// (one level down: the file next to it that a relative JavaScript specifier or a Python
/// module name names).
fn secret_module_used(path: &Path, facts: &HandlerFacts) -> Option<String> {
    if let Some(module) = secret_module(facts) {
        return Some(module.to_owned());
    }
    let dir = path.parent()?;
    let is_python = path.extension().is_some_and(|ext| ext == "py");
    facts.imports.iter().filter(|import| !import.builtin).find_map(|import| {
        let candidates: Vec<PathBuf> = if is_python {
            let relative = import.specifier.trim_start_matches('.').replace('.', "/");
            vec![dir.join(format!("{relative}.py")), dir.join(relative).join("__init__.py")]
        } else if import.specifier.starts_with('.') {
            let base = dir.join(&import.specifier);
            ["", ".js", ".ts", ".mjs", ".cjs", "/index.js", "/index.ts"]
                .iter()
                .map(|suffix| PathBuf::from(format!("{}{suffix}", base.display())))
                .collect()
        } else {
            return None;
        };
        let module = candidates.into_iter().find(|candidate| candidate.is_file())?;
        let text = std::fs::read_to_string(&module).ok()?;
        let module_facts = facts_of(&module, &text, None)?;
        secret_module(&module_facts).map(str::to_owned)
    })
}

/// The frontend's facts for a handler file.
fn facts_of(path: &Path, text: &str, handler: Option<String>) -> Option<HandlerFacts> {
    let file = SourceFile::new(path.display().to_string(), text);
    let options = Options { handler };
    let is_python = path.extension().is_some_and(|ext| ext == "py");
    let analysis = if is_python {
        edgeport_frontends::python::analyze(&file, &options)
    } else {
        edgeport_frontends::javascript::analyze(&file, &options)
    };
    analysis.facts
}

/// Requests edits the proof mixes into its requests, so that a rule the handler does not
/// decide by alone is caught: strings matching every regex the handler tests a request field
/// with (a good-bot list checked before a bad-bot list), and realistic values of every field it
/// reads without comparing (an `Accept-Language` that changes a redirect).
fn samples(facts: &HandlerFacts) -> Vec<Edit> {
    let mut samples = Vec::new();
    let mut add = |field: &str, value: String| {
        if let Some(edit) = edit_of(field, value) {
            if !samples.contains(&edit) {
                samples.push(edit);
            }
        }
    };
    for comparison in &facts.comparisons {
        if let ComparedLiteral::Regex { pattern, flags } = &comparison.literal {
            for value in matching_strings(pattern, flags, REGEX_SAMPLES) {
                add(&comparison.field, value);
            }
        }
    }
    for read in &facts.reads {
        for value in realistic_values(&read.field) {
            add(&read.field, value);
        }
    }
    samples
}

/// The edit that sets request field `field` (as the facts name it) to `value`, when the value
/// fits the field.
fn edit_of(field: &str, value: String) -> Option<Edit> {
    Some(match field {
        "uri" if value.starts_with('/') && !value.contains(['?', ' ']) => Edit::Uri(value),
        "querystring" if !value.contains([' ', '#']) => Edit::Query(value),
        "method" if !value.is_empty() && !value.contains(char::is_whitespace) => Edit::Method(value),
        "clientIp" => Edit::ClientIp(value.parse().ok()?),
        "cookie" => Edit::Header { name: "Cookie".into(), value },
        field => match field.strip_prefix("header:") {
            Some(name) if !value.contains(['\r', '\n']) => Edit::Header { name: header_key(name), value },
            _ => return None,
        },
    })
}
