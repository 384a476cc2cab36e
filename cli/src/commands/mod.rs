//! One module per subcommand.

pub mod convert;
pub mod explain;
pub mod hooks;
pub mod invoke;
pub mod serve;
pub mod test;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edgeport_converter::discover::{self, FunctionSource};
use edgeport_converter::values_file;
use edgeport_runtime::{Runtime, RuntimeOptions};

/// The runtime every command shares, with the default on-disk cache of compiled engine code.
pub fn runtime() -> Runtime {
    Runtime::new(RuntimeOptions { cache_dir: RuntimeOptions::default_cache_dir(), memory_limit: None })
}

/// Deploy-time placeholder values given on the command line; `convert` and `test` take the
/// same ones, so that what is tested is what is converted.
#[derive(clap::Args)]
pub struct PlaceholderArgs {
    /// A deploy-time placeholder value, NAME=VALUE (repeatable; wins over --values and
    /// edgeport.toml).
    #[arg(long = "define", value_name = "NAME=VALUE", value_parser = |s: &str| values_file::parse_define(s).map_err(|e| e.to_string()))]
    defines: Vec<(String, String)>,
    /// A file of placeholder values: a JSON object of strings, or NAME=VALUE lines (wins over
    /// edgeport.toml).
    #[arg(long, value_name = "FILE")]
    values: Option<PathBuf>,
}

/// The functions under a path and their placeholder values.
pub struct Project {
    /// Sorted by handler path, names unique.
    pub functions: Vec<FunctionSource>,
    /// `edgeport.toml`'s `[defines]`, then `--values`, then `--define`.
    pub defines: BTreeMap<String, String>,
}

/// Discovers the functions at `path` (templates, handler folders, `edgeport.toml`), prints
/// what discovery noticed to stderr, and resolves the placeholder values.
pub fn project(path: &Path, placeholders: PlaceholderArgs) -> anyhow::Result<Project> {
    let found = discover::discover_project(path)?;
    for note in &found.notes {
        eprintln!("warning: {note}");
    }
    let mut defines = found.defines;
    if let Some(values) = &placeholders.values {
        defines.extend(values_file::read_values_file(values)?);
    }
    defines.extend(placeholders.defines);
    Ok(Project { functions: found.functions, defines })
}

/// `1 function`, `3 functions`.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
