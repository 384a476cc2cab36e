//! `--changed-since <git-ref>`: only the functions whose files changed.
//!
//! "Changed" is what a pull request shows: the difference between the working tree and the
//! merge base of the ref and `HEAD`, plus untracked files. A function changed when any file in
//! its directory did (handler, helpers, `events/`, `case.json`); a stand-alone handler file
//! when it did. `edgeport convert` also counts a function as changed when a file its last
//! conversion read changed ([`touched_or_read`]): a shared module or package outside its
//! directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::FunctionSource;

/// Why the changed files could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ChangedError {
    /// git could not be run.
    #[error("cannot run git: {0} (--changed-since needs git on the PATH)")]
    Git(std::io::Error),
    /// git refused.
    #[error("git {command} failed in {dir}: {message}")]
    Failed {
        /// The git subcommand.
        command: String,
        /// Where it ran.
        dir: PathBuf,
        /// git's own words.
        message: String,
    },
}

/// The files that changed since `since`, as absolute paths, for the repository holding `path`.
pub fn changed_files(path: &Path, since: &str) -> Result<Vec<PathBuf>, ChangedError> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let top = PathBuf::from(git(&dir, &["rev-parse", "--show-toplevel"])?.trim_end());
    let base = git(&top, &["merge-base", since, "HEAD"])?;
    let mut files = Vec::new();
    for listing in [
        git(&top, &["diff", "--name-only", "-z", base.trim_end(), "--"])?,
        git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])?,
    ] {
        files.extend(
            listing
                .split('\0')
                .filter(|name| !name.is_empty())
                .map(|name| top.join(name)),
        );
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The functions touched by any of `changed` (absolute paths).
pub fn touched(functions: Vec<FunctionSource>, changed: &[PathBuf]) -> Vec<FunctionSource> {
    functions.into_iter().filter(|function| is_touched(function, changed)).collect()
}

/// The functions touched by any of `changed`, or that read one of them when last converted:
/// `inputs_of` gives the files a function's previous conversion read (empty when unknown).
pub fn touched_or_read(
    functions: Vec<FunctionSource>,
    changed: &[PathBuf],
    inputs_of: impl Fn(&FunctionSource) -> Vec<PathBuf>,
) -> Vec<FunctionSource> {
    functions
        .into_iter()
        .filter(|function| {
            is_touched(function, changed) || inputs_of(function).iter().any(|input| changed.contains(&absolute(input)))
        })
        .collect()
}

/// Whether a file of `function` (its directory, or the stand-alone handler) is in `changed`.
pub fn is_touched(function: &FunctionSource, changed: &[PathBuf]) -> bool {
    let Ok(handler) = std::fs::canonicalize(&function.path) else {
        return false;
    };
    match function.directory().and_then(|dir| std::fs::canonicalize(dir).ok()) {
        Some(dir) => changed.iter().any(|file| file.starts_with(&dir)),
        None => changed.contains(&handler),
    }
}

/// `path` as git names it: absolute, through its directory's real path, so that a file that
/// was deleted since it was recorded still compares equal to git's name for it.
fn absolute(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
    match (std::fs::canonicalize(dir), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String, ChangedError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(ChangedError::Git)?;
    if !output.status.success() {
        return Err(ChangedError::Failed {
            command: args.join(" "),
            dir: dir.to_path_buf(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn only_functions_with_changed_files_are_kept() {
        let repo = tempfile::tempdir().expect("temp dir");
        let root = std::fs::canonicalize(repo.path()).expect("canonical");
        for name in ["a", "b", "c"] {
            std::fs::create_dir_all(root.join(name).join("events")).expect("mkdir");
            std::fs::write(
                root.join(name).join("index.js"),
                "exports.handler = async (e) => e;\n",
            )
            .expect("write");
        }
        std::fs::write(root.join("solo.js"), "exports.handler = async (e) => e;\n").expect("write");
        run(&root, &["init", "-q", "-b", "main"]);
        run(&root, &["add", "."]);
        run(&root, &["commit", "-q", "-m", "base"]);
        run(&root, &["checkout", "-q", "-b", "feature"]);
        // a: a committed change; b: an untracked event file; c and solo.js: untouched.
        std::fs::write(
            root.join("a/index.js"),
            "exports.handler = async (e) => null;\n",
        )
        .expect("write");
        run(&root, &["commit", "-q", "-am", "change a"]);
        std::fs::write(root.join("b/events/new.json"), "{}").expect("write");

        let changed = changed_files(&root, "main").expect("git works");
        let mut functions = crate::discover::discover(&root).expect("functions");
        functions.push(FunctionSource::from_file(&root.join("solo.js")));
        assert_eq!(functions.len(), 4);
        let names: Vec<String> = touched(functions, &changed)
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["a", "b"]);

        std::fs::write(root.join("solo.js"), "exports.handler = async () => 1;\n").expect("write");
        let changed = changed_files(&root, "main").expect("git works");
        let solo = vec![
            FunctionSource::from_file(&root.join("solo.js")),
            FunctionSource::from_file(&root.join("c/index.js")),
        ];
        let names: Vec<String> = touched(solo, &changed)
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["solo"]);

        // c reads a shared module outside its directory: its change touches c alone.
        std::fs::create_dir_all(root.join("shared")).expect("mkdir");
        std::fs::write(root.join("shared/util.js"), "exports.x = 1;\n").expect("write");
        let changed = changed_files(&root, "main").expect("git works");
        let functions = vec![
            FunctionSource::from_file(&root.join("c/index.js")),
            FunctionSource::from_file(&root.join("solo.js")),
        ];
        let reads = |function: &FunctionSource| match function.name.as_str() {
            "c" => vec![root.join("c/index.js"), root.join("shared/../shared/util.js")],
            _ => Vec::new(),
        };
        let names: Vec<String> = touched_or_read(functions, &changed, reads).into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["c", "solo"]);

        let error = changed_files(&root, "no-such-ref").expect_err("unknown ref");
        assert!(
            error.to_string().contains("merge-base no-such-ref HEAD"),
            "{error}"
        );
    }
}
