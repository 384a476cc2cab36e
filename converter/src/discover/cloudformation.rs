//! SAM and CloudFormation templates (YAML or JSON).
//!
//! Functions are `AWS::Serverless::Function` (`CodeUri`, `Handler`, `Runtime`, with
//! `Globals.Function` defaults, esbuild `Metadata`) and `AWS::Lambda::Function` (`Code` as a
//! local path, as written before `aws cloudformation package`). Their event types come from the
//! `LambdaFunctionAssociations` of every `AWS::CloudFront::Distribution` cache behaviour, whose
//! ARN is resolved to a function's logical ID through `Ref`, `Fn::GetAtt`, `Fn::Sub` and
//! `Fn::Join`, SAM's `Function.Version` / `Function.Alias` references (`AutoPublishAlias`), and
//! `AWS::Lambda::Version` / `AWS::Lambda::Alias` resources. YAML short-form tags (`!Ref X`)
//! become their long form (`{"Ref": "X"}`) first, so both syntaxes take one path.

use std::path::{Path, PathBuf};

use edgeport_runtime::cloudfront::EventType;
use serde_json::{Map, Value};

use super::{text, Declared, DeclaredCode, Note, Origin, CONFIG_FILE};

const SAM_FUNCTION: &str = "AWS::Serverless::Function";
const LAMBDA_FUNCTION: &str = "AWS::Lambda::Function";
const LAMBDA_VERSION: &str = "AWS::Lambda::Version";
const LAMBDA_ALIAS: &str = "AWS::Lambda::Alias";
const DISTRIBUTION: &str = "AWS::CloudFront::Distribution";

/// How deep `Version` → `Alias` → function chains are followed.
const MAX_REFERENCE_DEPTH: usize = 4;

/// Adds the functions `file` declares to `declared`, and notes on what it cannot use.
pub(super) fn read(file: &Path, declared: &mut Vec<Declared>, notes: &mut Vec<Note>) {
    let note = |line: Option<usize>, message: String| Note { file: file.to_path_buf(), line, message };
    let source = match std::fs::read_to_string(file) {
        Ok(source) => source,
        Err(error) => return notes.push(note(None, format!("cannot read the template: {error}"))),
    };
    let template = match parse(file, &source) {
        Ok(template) => template,
        Err((line, message)) => {
            return notes.push(note(line, format!("not a valid template, so its functions are skipped: {message}")))
        }
    };
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return;
    };
    let template_dir = file.parent().unwrap_or(Path::new(""));
    let globals = template.pointer("/Globals/Function").and_then(Value::as_object);
    let empty = Map::new();

    let mut functions = Vec::new();
    for (id, resource) in resources {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or_default();
        if kind != SAM_FUNCTION && kind != LAMBDA_FUNCTION {
            continue;
        }
        let origin = Origin { file: file.to_path_buf(), line: text::line_of_key(&source, id, 1) };
        let properties = resource.get("Properties").and_then(Value::as_object).unwrap_or(&empty);
        let property = |key: &str| properties.get(key).or_else(|| globals.filter(|_| kind == SAM_FUNCTION).and_then(|g| g.get(key)));
        let code = if kind == SAM_FUNCTION { sam_code(id, properties, property("CodeUri"), template_dir) } else { lambda_code(id, properties, template_dir) };
        let dir = match code {
            Ok(dir) => dir,
            Err(message) => {
                notes.push(origin.note(message));
                continue;
            }
        };
        let handler = match property("Handler") {
            None => None,
            Some(Value::String(handler)) => Some(handler.clone()),
            Some(_) => {
                notes.push(origin.note(format!(
                    "function `{id}`: Handler is an expression, not a `module.export` string; declare the function in {CONFIG_FILE}"
                )));
                continue;
            }
        };
        let entry_points = esbuild_entry_points(resource, &dir);
        let runtime = property("Runtime").and_then(Value::as_str).map(str::to_string);
        functions.push(Declared {
            name: id.clone(),
            origin,
            code: DeclaredCode::Handler { dir, handler, entry_points },
            runtime,
            event_types: Vec::new(),
        });
    }

    for (id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some(DISTRIBUTION) {
            continue;
        }
        let distribution_line = text::line_of_key(&source, id, 1).unwrap_or(1);
        let Some(config) = resource.pointer("/Properties/DistributionConfig") else {
            continue;
        };
        let behaviors = config.get("DefaultCacheBehavior").into_iter().chain(config.get("CacheBehaviors").and_then(Value::as_array).into_iter().flatten());
        let associations = behaviors.filter_map(|behavior| behavior.get("LambdaFunctionAssociations")?.as_array()).flatten();
        for association in associations {
            let arn = association.get("LambdaFunctionARN").unwrap_or(&Value::Null);
            let arn_text = first_string(arn).unwrap_or("LambdaFunctionARN");
            let line = text::line_containing(&source, arn_text, distribution_line).or(Some(distribution_line));
            let event_type = match association.get("EventType").and_then(Value::as_str).map(str::parse::<EventType>) {
                Some(Ok(event_type)) => event_type,
                Some(Err(message)) => {
                    notes.push(note(line, format!("distribution `{id}`: {message}; the association is ignored")));
                    continue;
                }
                None => {
                    notes.push(note(line, format!("distribution `{id}`: an association has no EventType; it is ignored")));
                    continue;
                }
            };
            match function_of(arn, resources, 0) {
                Some(function) => {
                    if let Some(declared) = functions.iter_mut().find(|declared| declared.name == function) {
                        declared.event_types.push(event_type);
                    }
                }
                None => notes.push(note(
                    line,
                    format!(
                        "distribution `{id}`: cannot tell which function of this template `{}` is, so its {event_type} trigger is not attached; set event-types for it in {CONFIG_FILE}",
                        compact(arn)
                    ),
                )),
            }
        }
    }
    declared.extend(functions);
}

/// The template as JSON, short-form YAML tags turned into their long form; or the line and
/// message of the parse error.
fn parse(file: &Path, source: &str) -> Result<Value, (Option<usize>, String)> {
    if file.extension().is_some_and(|extension| extension == "json") {
        return serde_json::from_str(source).map_err(|error| (Some(error.line()), error.to_string()));
    }
    serde_yaml::from_str::<serde_yaml::Value>(source)
        .map(yaml_to_json)
        .map_err(|error| (error.location().map(|location| location.line()), error.to_string()))
}

/// `value` as JSON, with `!Ref x` as `{"Ref": x}` and `!Name x` as `{"Fn::Name": x}`.
pub(super) fn yaml_to_json(value: serde_yaml::Value) -> Value {
    match value {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(b),
        serde_yaml::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number)
            }
        }
        serde_yaml::Value::String(s) => Value::String(s),
        serde_yaml::Value::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        serde_yaml::Value::Mapping(mapping) => Value::Object(
            mapping
                .into_iter()
                .filter_map(|(key, value)| {
                    let key = match key {
                        serde_yaml::Value::String(s) => s,
                        serde_yaml::Value::Number(n) => n.to_string(),
                        serde_yaml::Value::Bool(b) => b.to_string(),
                        _ => return None,
                    };
                    Some((key, yaml_to_json(value)))
                })
                .collect(),
        ),
        serde_yaml::Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = if name == "Ref" || name == "Condition" { name.to_string() } else { format!("Fn::{name}") };
            Value::Object(Map::from_iter([(key, yaml_to_json(tagged.value))]))
        }
    }
}

/// A SAM function's code directory, or why it has none that edgeport can read.
fn sam_code(id: &str, properties: &Map<String, Value>, code_uri: Option<&Value>, template_dir: &Path) -> Result<PathBuf, String> {
    if properties.contains_key("InlineCode") {
        return Err(inline_code(id, "InlineCode"));
    }
    if properties.get("PackageType").and_then(Value::as_str) == Some("Image") {
        return Err(image(id));
    }
    match code_uri {
        // SAM builds from the template's directory when CodeUri is left out.
        None => Ok(template_dir.to_path_buf()),
        Some(Value::String(uri)) if uri.starts_with("s3://") => Err(s3_code(id, "CodeUri")),
        Some(Value::String(uri)) => Ok(template_dir.join(uri)),
        Some(Value::Object(location)) if location.contains_key("Bucket") => Err(s3_code(id, "CodeUri")),
        Some(_) => Err(format!("function `{id}`: CodeUri is an expression, not a local path; declare the function in {CONFIG_FILE}")),
    }
}

/// An `AWS::Lambda::Function`'s code directory, or why it has none that edgeport can read.
fn lambda_code(id: &str, properties: &Map<String, Value>, template_dir: &Path) -> Result<PathBuf, String> {
    if properties.get("PackageType").and_then(Value::as_str) == Some("Image") {
        return Err(image(id));
    }
    match properties.get("Code") {
        Some(Value::String(path)) if path.starts_with("s3://") => Err(s3_code(id, "Code")),
        Some(Value::String(path)) => Ok(template_dir.join(path)),
        Some(Value::Object(code)) if code.contains_key("ZipFile") => Err(inline_code(id, "Code.ZipFile")),
        Some(Value::Object(code)) if code.contains_key("ImageUri") => Err(image(id)),
        Some(Value::Object(code)) if code.contains_key("S3Bucket") => Err(s3_code(id, "Code")),
        Some(_) => Err(format!("function `{id}`: Code is neither a local path nor inline code; declare the function in {CONFIG_FILE}")),
        None => Err(format!("function `{id}` has no Code; declare the function in {CONFIG_FILE}")),
    }
}

fn inline_code(id: &str, property: &str) -> String {
    format!("function `{id}`: inline code ({property}) is not supported; move it into a file and point the template or {CONFIG_FILE} at it")
}

fn s3_code(id: &str, property: &str) -> String {
    format!("function `{id}`: its {property} is in S3, not in this repository; declare the function's source in {CONFIG_FILE}")
}

fn image(id: &str) -> String {
    format!("function `{id}` is a container image, which Lambda@Edge does not run; it is skipped")
}

/// The TypeScript entry points of a SAM function built with esbuild, under its code directory.
fn esbuild_entry_points(resource: &Value, dir: &Path) -> Vec<PathBuf> {
    let Some(metadata) = resource.get("Metadata") else {
        return Vec::new();
    };
    if metadata.get("BuildMethod").and_then(Value::as_str) != Some("esbuild") {
        return Vec::new();
    }
    let entry_points = metadata.pointer("/BuildProperties/EntryPoints").and_then(Value::as_array).into_iter().flatten();
    entry_points.filter_map(Value::as_str).map(|entry| dir.join(entry)).collect()
}

/// The logical ID of the function an ARN expression refers to.
fn function_of(arn: &Value, resources: &Map<String, Value>, depth: usize) -> Option<String> {
    if depth > MAX_REFERENCE_DEPTH {
        return None;
    }
    for id in referenced_ids(arn) {
        let Some(resource) = resources.get(&id) else {
            continue;
        };
        match resource.get("Type").and_then(Value::as_str) {
            Some(SAM_FUNCTION | LAMBDA_FUNCTION) => return Some(id),
            Some(LAMBDA_VERSION | LAMBDA_ALIAS) => {
                if let Some(function) = resource.pointer("/Properties/FunctionName").and_then(|name| function_of(name, resources, depth + 1)) {
                    return Some(function);
                }
            }
            _ => {}
        }
    }
    // A literal ARN or name: the function whose FunctionName it carries.
    let name = arn.as_str()?;
    let name = name.strip_prefix("arn:").map_or(name, |arn| arn.split(':').nth(5).unwrap_or_default());
    resources
        .iter()
        .find(|(_, resource)| {
            matches!(resource.get("Type").and_then(Value::as_str), Some(SAM_FUNCTION | LAMBDA_FUNCTION))
                && resource.pointer("/Properties/FunctionName").and_then(Value::as_str) == Some(name)
        })
        .map(|(id, _)| id.clone())
}

/// The logical IDs an intrinsic refers to, in order: `Ref`, `Fn::GetAtt` and `Fn::Sub`
/// placeholders, searched through any other function (`Fn::Join`, `Fn::Select`, ...).
fn referenced_ids(value: &Value) -> Vec<String> {
    let logical_id = |reference: &str| reference.split('.').next().unwrap_or_default().to_string();
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get("Ref") {
                return vec![logical_id(reference)];
            }
            match object.get("Fn::GetAtt") {
                Some(Value::String(reference)) => return vec![logical_id(reference)],
                Some(Value::Array(parts)) => return parts.first().and_then(Value::as_str).map(logical_id).into_iter().collect(),
                _ => {}
            }
            if let Some(sub) = object.get("Fn::Sub") {
                let (template, variables) = match sub {
                    Value::Array(parts) => (parts.first().and_then(Value::as_str).unwrap_or_default(), parts.get(1).and_then(Value::as_object)),
                    other => (other.as_str().unwrap_or_default(), None),
                };
                let mut ids = Vec::new();
                for placeholder in template.split("${").skip(1).filter_map(|rest| rest.split('}').next()) {
                    match variables.and_then(|variables| variables.get(placeholder)) {
                        Some(variable) => ids.extend(referenced_ids(variable)),
                        None if !placeholder.starts_with("AWS::") && !placeholder.starts_with('!') => ids.push(logical_id(placeholder)),
                        None => {}
                    }
                }
                return ids;
            }
            object.values().flat_map(referenced_ids).collect()
        }
        Value::Array(items) => items.iter().flat_map(referenced_ids).collect(),
        _ => Vec::new(),
    }
}

/// The first string in `value`, depth first: what to search the source for to find its line.
fn first_string(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Array(items) => items.iter().find_map(first_string),
        Value::Object(object) => object.values().find_map(first_string),
        _ => None,
    }
}

/// `value` as compact JSON, for messages.
fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
