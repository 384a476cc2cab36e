//! `edgeport.toml`: the user's overrides of discovery (format in `docs/edgeport-toml.md`).
//!
//! ```toml
//! exclude = ["legacy/**", "experiments/*"]   # globs relative to the root
//!
//! [defines]                                 # deploy-time placeholder values
//! ORIGIN_DOMAIN = "origin.example.com"
//!
//! [[function]]
//! name = "auth"                             # output directory name
//! path = "functions/auth/index.js"          # the handler file, relative to the root
//! handler = "handler"                       # the export
//! event-types = ["viewer-request"]
//! directory = "functions/auth"              # the directory the function owns (optional)
//! ```
//!
//! A `[[function]]` whose `name` or `path` is a discovered function's patches it: the keys it
//! gives replace the discovered values, the others stay. Any other `[[function]]` adds a
//! function and needs `path`. `exclude` drops discovered functions whose handler file, or a
//! directory above it, matches (and keeps discovery out of matching directories); functions
//! the file adds are never excluded. Every mistake here is an error, not a note: the file is the
//! user's explicit instruction, and silently ignoring part of it would convert what they asked
//! to leave out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edgeport_runtime::cloudfront::EventType;
use serde::Deserialize;
use toml::Spanned;

use super::{clean, text, DiscoverError, Exclusions, Found, FunctionSource, Origin, CONFIG_FILE};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    defines: BTreeMap<String, String>,
    #[serde(default, rename = "function")]
    functions: Vec<Spanned<FunctionEntry>>,
}

/// One `[[function]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FunctionEntry {
    name: Option<String>,
    path: Option<String>,
    handler: Option<String>,
    event_types: Option<Vec<Spanned<String>>>,
    directory: Option<String>,
}

/// A `[[function]]` table, checked.
#[derive(Debug)]
struct Override {
    line: usize,
    name: Option<String>,
    /// The handler file, under the root.
    path: Option<PathBuf>,
    handler: Option<String>,
    event_types: Option<Vec<EventType>>,
    directory: Option<PathBuf>,
}

/// A read and checked `edgeport.toml`.
#[derive(Debug)]
pub(super) struct Config {
    file: PathBuf,
    pub exclusions: Exclusions,
    pub defines: BTreeMap<String, String>,
    overrides: Vec<Override>,
}

/// The `edgeport.toml` at `root`, if there is one.
pub(super) fn read(root: &Path) -> Result<Option<Config>, DiscoverError> {
    let file = root.join(CONFIG_FILE);
    if !file.is_file() {
        return Ok(None);
    }
    let source = std::fs::read_to_string(&file).map_err(|source| DiscoverError::Read { path: file.clone(), source })?;
    let error = |offset: Option<usize>, message: String| DiscoverError::Config {
        file: file.clone(),
        line: offset.map(|offset| text::line_at(&source, offset)),
        message,
    };
    let parsed: ConfigFile = toml::from_str(&source)
        .map_err(|e| error(e.span().map(|span| span.start), format!("{} (the format is in docs/edgeport-toml.md)", e.message().trim_end())))?;

    let mut patterns = Vec::new();
    for pattern in &parsed.exclude {
        let compiled = glob::Pattern::new(pattern.get_ref())
            .map_err(|e| error(Some(pattern.span().start), format!("exclude pattern `{}` is not a glob: {e}", pattern.get_ref())))?;
        patterns.push(compiled);
    }

    let mut overrides = Vec::new();
    for entry in parsed.functions {
        let offset = entry.span().start;
        let line = text::line_at(&source, offset);
        let entry = entry.into_inner();
        if entry.name.is_none() && entry.path.is_none() {
            return Err(error(Some(offset), "a [[function]] needs a `name` (to change a discovered function) or a `path` (to add one)".into()));
        }
        let path = entry.path.map(|path| clean(&root.join(path)));
        if let Some(path) = path.as_ref().filter(|path| !path.is_file()) {
            return Err(error(Some(offset), format!("handler file {} does not exist; fix `path`", path.display())));
        }
        let directory = entry.directory.map(|dir| clean(&root.join(dir)));
        if let Some(dir) = directory.as_ref().filter(|dir| !dir.is_dir()) {
            return Err(error(Some(offset), format!("directory {} does not exist; fix `directory`", dir.display())));
        }
        let event_types = match entry.event_types {
            None => None,
            Some(names) => {
                let mut event_types = Vec::with_capacity(names.len());
                for name in names {
                    event_types.push(name.get_ref().parse::<EventType>().map_err(|message| error(Some(name.span().start), message))?);
                }
                event_types.sort();
                event_types.dedup();
                Some(event_types)
            }
        };
        overrides.push(Override { line, name: entry.name, path, handler: entry.handler, event_types, directory });
    }
    Ok(Some(Config { file, exclusions: Exclusions { patterns }, defines: parsed.defines, overrides }))
}

impl Config {
    /// Patches the functions the `[[function]]` tables name and adds the others.
    pub(super) fn apply(&self, found: &mut Vec<Found>) -> Result<(), DiscoverError> {
        for entry in &self.overrides {
            let origin = Origin { file: self.file.clone(), line: Some(entry.line) };
            let matches: Vec<usize> = found
                .iter()
                .enumerate()
                .filter(|(_, found)| {
                    entry.name.as_ref() == Some(&found.function.name) || entry.path.as_ref() == Some(&clean(&found.function.path))
                })
                .map(|(index, _)| index)
                .collect();
            if matches.is_empty() {
                let Some(path) = &entry.path else {
                    let name = entry.name.as_deref().unwrap_or_default();
                    return Err(DiscoverError::Config {
                        file: self.file.clone(),
                        line: Some(entry.line),
                        message: format!("no discovered function is named `{name}`; give `path` to add it as a new function"),
                    });
                };
                let mut function = FunctionSource::from_file(path);
                entry.patch(&mut function);
                found.push(Found { function, origin });
            } else {
                for index in matches {
                    entry.patch(&mut found[index].function);
                    found[index].origin = origin.clone();
                }
            }
        }
        Ok(())
    }
}

impl Override {
    fn patch(&self, function: &mut FunctionSource) {
        if let Some(name) = &self.name {
            function.name.clone_from(name);
        }
        if let Some(path) = &self.path {
            if clean(&function.path) != *path {
                function.directory = FunctionSource::from_file(path).directory;
                function.path.clone_from(path);
            }
        }
        if let Some(handler) = &self.handler {
            function.handler = Some(handler.clone());
        }
        if let Some(event_types) = &self.event_types {
            function.event_types.clone_from(event_types);
        }
        if let Some(directory) = &self.directory {
            function.directory = Some(directory.clone());
        }
    }
}
