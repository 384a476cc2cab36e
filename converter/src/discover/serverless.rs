//! `serverless.yml` (Serverless Framework).
//!
//! Every entry of `functions` is a function named by its key, with `handler: src/auth.handler`
//! resolved against the service directory (the file's directory, which Serverless packages),
//! `runtime` or `provider.runtime`, and the event types of its `cloudFront` events.
//! `package.individually` and `package.artifact` are ignored: edgeport reads the sources, not
//! the packages. Variables (`${self:custom.x}`) are not expanded; a value that holds one is
//! not a literal and is reported.

use std::path::Path;

use edgeport_runtime::cloudfront::EventType;
use serde_json::Value;

use super::cloudformation::yaml_to_json;
use super::{text, Declared, DeclaredCode, Note, Origin, CONFIG_FILE};

/// Adds the functions `file` declares to `declared`, and notes on what it cannot use.
pub(super) fn read(file: &Path, declared: &mut Vec<Declared>, notes: &mut Vec<Note>) {
    let note = |line: Option<usize>, message: String| Note { file: file.to_path_buf(), line, message };
    let source = match std::fs::read_to_string(file) {
        Ok(source) => source,
        Err(error) => return notes.push(note(None, format!("cannot read it: {error}"))),
    };
    let service = match serde_yaml::from_str::<serde_yaml::Value>(&source) {
        Ok(service) => yaml_to_json(service),
        Err(error) => {
            let line = error.location().map(|location| location.line());
            return notes.push(note(line, format!("not valid YAML, so its functions are skipped: {error}")));
        }
    };
    let service_dir = file.parent().unwrap_or(Path::new(""));
    let provider_runtime = service.pointer("/provider/runtime").and_then(Value::as_str);
    let functions_line = text::line_of_key(&source, "functions", 1).unwrap_or(1);
    // `functions` is a mapping, or a list of mappings when split across files.
    let functions: Vec<(&String, &Value)> = match service.get("functions") {
        Some(Value::Object(functions)) => functions.iter().collect(),
        Some(Value::Array(parts)) => parts.iter().filter_map(Value::as_object).flat_map(|part| part.iter()).collect(),
        Some(Value::String(reference)) => {
            let message = format!("`functions: {reference}` is a variable, which edgeport does not expand; declare the functions in {CONFIG_FILE}");
            return notes.push(note(Some(functions_line), message));
        }
        _ => return,
    };
    for (name, function) in functions {
        let origin = Origin { file: file.to_path_buf(), line: text::line_of_key(&source, name, functions_line) };
        if function.get("image").is_some() {
            notes.push(origin.note(format!("function `{name}` is a container image, which Lambda@Edge does not run; it is skipped")));
            continue;
        }
        let Some(handler) = function.get("handler").and_then(Value::as_str) else {
            notes.push(origin.note(format!("function `{name}` has no handler; add `handler: file.export` or declare it in {CONFIG_FILE}")));
            continue;
        };
        let mut event_types = Vec::new();
        let cloudfront_events = function.get("events").and_then(Value::as_array).into_iter().flatten().filter_map(|event| event.get("cloudFront"));
        for event in cloudfront_events {
            let event_type = event.get("eventType").and_then(Value::as_str).unwrap_or("(missing)");
            match event_type.parse::<EventType>() {
                Ok(event_type) => event_types.push(event_type),
                Err(message) => notes.push(origin.note(format!(
                    "function `{name}`: cloudFront event: {message}; the event is ignored (set event-types in {CONFIG_FILE} if it is a variable)"
                ))),
            }
        }
        let runtime = function.get("runtime").and_then(Value::as_str).or(provider_runtime).map(str::to_string);
        declared.push(Declared {
            name: name.clone(),
            origin,
            code: DeclaredCode::Handler { dir: service_dir.to_path_buf(), handler: Some(handler.to_string()), entry_points: Vec::new() },
            runtime,
            event_types,
        });
    }
}
