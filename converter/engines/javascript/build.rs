//! Compresses the sources of the Node built-ins (`js/node/*.js` and the engine's own modules in
//! `js/`) into `$OUT_DIR/<path>.deflate`.
//!
//! A built-in is compiled on its first `require`, so its source stays in the engine's data, and
//! the data is part of every function's memory image: every cold start copies it. Deflated, the
//! sources take a quarter of the space; inflating one costs a fraction of compiling it.

use std::path::{Path, PathBuf};

fn main() {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for dir in ["js", "js/node"] {
        println!("cargo:rerun-if-changed={dir}");
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {dir}: {e}"));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "js") && path.file_name().is_some_and(|n| n != "prelude.js") {
                compress(&path, &out_dir.join(format!("{}.deflate", path.display())));
            }
        }
    }
}

fn compress(source: &Path, destination: &Path) {
    let text = std::fs::read(source).unwrap_or_else(|e| panic!("cannot read {}: {e}", source.display()));
    let packed = miniz_oxide::deflate::compress_to_vec(&text, 10);
    std::fs::create_dir_all(destination.parent().expect("a parent")).expect("create the output directory");
    std::fs::write(destination, packed).unwrap_or_else(|e| panic!("cannot write {}: {e}", destination.display()));
}
