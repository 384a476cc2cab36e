//! The original function as it was deployed: with its deploy-time placeholders filled in.
//!
//! A function whose code holds placeholders (`{{ORIGIN}}`, `${ORIGIN}`, `__ORIGIN__`) never ran
//! as written: the deploy pipeline substituted them first. The converter substitutes them the
//! same way (`edgeport_converter::placeholders`), so the reference must run the substituted
//! code too. It runs a copy of the function's directory with every text file substituted; the
//! packages it requires are reached through a `node_modules` link to the directory Node would
//! have found them in. Without values, the original runs where it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edgeport_converter::placeholders;

/// Directories not copied: dependencies (linked instead), test data, caches.
const SKIPPED_DIRS: &[&str] = &["node_modules", "events", "expected", "__pycache__"];

/// The handler to give the reference; holds the copy, if one was made, for as long as it lives.
pub struct Deployed {
    /// The handler file to run.
    pub handler: PathBuf,
    _copy: Option<tempfile::TempDir>,
}

/// The deployed form of the function whose handler is `handler` in `dir`.
pub fn deployed(dir: &Path, handler: &Path, defines: &BTreeMap<String, String>) -> std::io::Result<Deployed> {
    let handler = std::fs::canonicalize(handler)?;
    if defines.is_empty() {
        return Ok(Deployed { handler, _copy: None });
    }
    let dir = std::fs::canonicalize(dir)?;
    let copy = tempfile::Builder::new().prefix("edgeport-deployed-").tempdir()?;
    copy_substituted(&dir, copy.path(), defines)?;
    if let Some(packages) = dir.ancestors().map(|a| a.join("node_modules")).find(|p| p.is_dir()) {
        std::os::unix::fs::symlink(packages, copy.path().join("node_modules"))?;
    }
    let relative = handler.strip_prefix(&dir).map_err(|_| std::io::Error::other("the handler is outside its directory"))?;
    Ok(Deployed { handler: copy.path().join(relative), _copy: Some(copy) })
}

fn copy_substituted(from: &Path, to: &Path, defines: &BTreeMap<String, String>) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let skipped = name.to_string_lossy().starts_with('.') || SKIPPED_DIRS.iter().any(|d| name == *d);
        let kind = entry.file_type()?;
        if kind.is_dir() && !skipped {
            copy_substituted(&entry.path(), &to.join(&name), defines)?;
        } else if kind.is_file() {
            let bytes = std::fs::read(entry.path())?;
            let bytes = match String::from_utf8(bytes) {
                Ok(text) => placeholders::substitute(&text, defines).into_bytes(),
                Err(binary) => binary.into_bytes(),
            };
            std::fs::write(to.join(&name), bytes)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_with_values_filled_in_and_links_the_packages() {
        let repo = tempfile::tempdir().expect("temp dir");
        let dir = repo.path().join("fn");
        std::fs::create_dir_all(dir.join("lib")).expect("mkdir");
        std::fs::create_dir_all(dir.join("events")).expect("mkdir");
        std::fs::create_dir_all(repo.path().join("node_modules/pkg")).expect("mkdir");
        std::fs::write(dir.join("index.js"), "const o = '{{ORIGIN}}';").expect("write");
        std::fs::write(dir.join("lib/data.bin"), [0xff, 0xfe]).expect("write");
        std::fs::write(dir.join("events/e.json"), "{}").expect("write");
        let defines = BTreeMap::from([("ORIGIN".to_string(), "o.example.com".to_string())]);
        let deployed = deployed(&dir, &dir.join("index.js"), &defines).expect("copies");
        assert_eq!(std::fs::read_to_string(&deployed.handler).expect("read"), "const o = 'o.example.com';");
        let root = deployed.handler.parent().expect("a parent");
        assert_eq!(std::fs::read(root.join("lib/data.bin")).expect("read"), [0xff, 0xfe]);
        assert!(!root.join("events").exists(), "test data is not part of a deployment");
        assert!(root.join("node_modules/pkg").is_dir(), "packages are reached through a link");

        let in_place = super::deployed(&dir, &dir.join("index.js"), &BTreeMap::new()).expect("in place");
        assert_eq!(in_place.handler, std::fs::canonicalize(dir.join("index.js")).expect("canonical"));
    }
}
