//! `edgeport convert <file-or-dir> --out dist/`: one artifact directory per function.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use edgeport_converter::output::{self, DiagnosticRecord, IndexEntry};
use edgeport_converter::{discover, ConvertError, ConvertOptions, Converter};
use edgeport_runtime::cloudfront::EventType;

use crate::Status;

/// Arguments of `edgeport convert`.
#[derive(clap::Args)]
pub struct Args {
    /// A handler file, a function directory, or a directory of functions.
    path: PathBuf,
    /// Where to write `<function>/function.wasm` and the manifests.
    #[arg(long, default_value = "dist")]
    out: PathBuf,
    /// Name of the handler export (default: detected, usually `handler`).
    #[arg(long)]
    handler: Option<String>,
    /// Event type(s) the functions are attached to (default: inferred from the code).
    #[arg(long = "event-type", value_parser = parse_event_type)]
    event_types: Vec<EventType>,
    /// Build without the pre-initialised snapshot (slower cold starts; for comparison).
    #[arg(long)]
    no_snapshot: bool,
}

fn parse_event_type(text: &str) -> Result<EventType, String> {
    text.parse()
}

/// Converts every function found; one failure never stops the others.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let functions = discover::discover(&args.path)?;
    let runtime = super::runtime();
    let mut converter = Converter::new(&runtime).context("preparing the engines")?;
    let options = ConvertOptions {
        handler: args.handler,
        event_types: args.event_types,
        no_snapshot: args.no_snapshot,
        ..ConvertOptions::default()
    };
    let mut stderr = std::io::stderr().lock();
    let mut index = Vec::with_capacity(functions.len());
    let mut rows = Vec::with_capacity(functions.len());

    for function in &functions {
        let mut entry = IndexEntry {
            name: function.name.clone(),
            source: function.display_path(),
            status: "failed",
            artifact: None,
            diagnostics: Vec::new(),
            error: None,
        };
        match converter.convert(function, &options) {
            Ok(converted) => {
                for warning in &converted.warnings {
                    writeln!(stderr, "{}", warning.render(&converted.file))?;
                }
                let dir = output::write_function(&args.out, &converted)
                    .with_context(|| format!("writing {}", args.out.join(&function.name).display()))?;
                entry.status = "converted";
                entry.artifact = Some(format!("{}/{}", function.name, output::ARTIFACT_FILE));
                entry.diagnostics = converted.warnings.iter().map(|d| DiagnosticRecord::new(d, &converted.file)).collect();
                rows.push(format!(
                    "{:<28} converted  {:>9}  {:>7.0} ms  {}",
                    function.name,
                    human_bytes(converted.wasm.len()),
                    converted.elapsed.as_secs_f64() * 1e3,
                    dir.join(output::ARTIFACT_FILE).display()
                ));
            }
            Err(ConvertError::Diagnostics { file, diagnostics }) => {
                for diagnostic in &diagnostics {
                    writeln!(stderr, "{}", diagnostic.render(&file))?;
                }
                entry.diagnostics = diagnostics.iter().map(|d| DiagnosticRecord::new(d, &file)).collect();
                let first = entry.diagnostics.iter().find(|d| d.severity == "error");
                rows.push(format!(
                    "{:<28} FAILED     {}",
                    function.name,
                    first.map_or_else(String::new, |d| format!(
                        "{} {} at {}",
                        d.code,
                        d.message,
                        d.location.as_deref().unwrap_or(&file.name)
                    ))
                ));
            }
            Err(other) => {
                writeln!(stderr, "error: {}: {other}", function.display_path())?;
                rows.push(format!("{:<28} FAILED     {other}", function.name));
                entry.error = Some(other.to_string());
            }
        }
        index.push(entry);
    }
    output::write_index(&args.out, &index).with_context(|| format!("writing {}", args.out.join(output::MANIFEST_FILE).display()))?;

    let failed = index.iter().filter(|e| e.status == "failed").count();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{:<28} {:<10} {:>9}  {:>10}  artifact", "function", "status", "size", "time")?;
    for row in rows {
        writeln!(stdout, "{row}")?;
    }
    writeln!(stdout, "{} converted, {failed} failed -> {}", index.len() - failed, args.out.display())?;
    Ok(if failed == 0 { Status::Clean } else { Status::Findings })
}

fn human_bytes(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    }
}
