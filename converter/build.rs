//! Builds the guest engines for wasm32-wasip1 with nested cargo invocations and exposes them to
//! the crate as `$OUT_DIR/engine-javascript.wasm` and `$OUT_DIR/engine-python.wasm`.
//!
//! The nested build has its own target directory (sharing the outer one deadlocks on cargo's
//! lock) and a clean environment: the outer build's RUSTFLAGS and CARGO_* settings are for the
//! host, not for the guest. Set `EDGEPORT_JS_ENGINE=/path/to/engine.wasm` or
//! `EDGEPORT_PY_ENGINE=/path/to/engine.wasm` to use a prebuilt engine instead. The Python engine
//! (RustPython, fat LTO) is by far the longer build: some 10 minutes on two idle cores.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip1";

/// A guest engine the converter embeds.
struct Engine {
    /// Directory under `engines/` holding its crate.
    dir: &'static str,
    /// The wasm file the nested build produces.
    artifact: &'static str,
    /// What `$OUT_DIR` calls the copy.
    destination: &'static str,
    /// Points at a prebuilt engine instead of building it.
    prebuilt_var: &'static str,
    /// Files and directories whose change means a rebuild.
    inputs: &'static [&'static str],
    /// Its target directory under the workspace's (each engine pins its own dependencies).
    target_dir: &'static str,
    /// Whether it compiles C (QuickJS), with clang against Debian's wasi-libc.
    compiles_c: bool,
}

const JAVASCRIPT: Engine = Engine {
    dir: "javascript",
    artifact: "edgeport_engine_javascript.wasm",
    destination: "engine-javascript.wasm",
    prebuilt_var: "EDGEPORT_JS_ENGINE",
    inputs: &["src", "js", "build.rs", "Cargo.toml", "Cargo.lock"],
    target_dir: "engines",
    compiles_c: true,
};

const PYTHON: Engine = Engine {
    dir: "python",
    artifact: "edgeport_engine_python.wasm",
    destination: "engine-python.wasm",
    prebuilt_var: "EDGEPORT_PY_ENGINE",
    inputs: &["src", "py/prelude.py", "Cargo.toml", "Cargo.lock"],
    target_dir: "engines-python",
    compiles_c: false,
};

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_root = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir.parent().expect("converter/ lives in the workspace").join("target"));
    for engine in [JAVASCRIPT, PYTHON] {
        let engine_dir = manifest_dir.join("engines").join(engine.dir);
        let destination = out_dir.join(engine.destination);
        println!("cargo:rerun-if-env-changed={}", engine.prebuilt_var);
        for path in engine.inputs {
            println!("cargo:rerun-if-changed={}", engine_dir.join(path).display());
        }
        if let Some(prebuilt) = env::var_os(engine.prebuilt_var) {
            std::fs::copy(&prebuilt, &destination).unwrap_or_else(|e| {
                fail(&format!("cannot copy {}={}: {e}", engine.prebuilt_var, Path::new(&prebuilt).display()))
            });
            continue;
        }
        check_prerequisites(engine.compiles_c);
        let target_dir = target_root.join(engine.target_dir);
        let mut cargo = nested_cargo();
        if engine.compiles_c {
            let sysroot_flags = "--target=wasm32-wasi --sysroot=/usr";
            cargo
                .env("RQUICKJS_SYS_NO_WASI_SDK", "1")
                .env("CC_wasm32_wasip1", "clang")
                .env("AR_wasm32_wasip1", llvm_ar())
                .env("CFLAGS_wasm32_wasip1", sysroot_flags)
                .env("BINDGEN_EXTRA_CLANG_ARGS_wasm32_wasip1", sysroot_flags);
            if let Some(libclang) = libclang_dir() {
                cargo.env("LIBCLANG_PATH", libclang);
            }
        } else {
            // RustPython's parser crates declare Rust 1.96 but build with 1.95.
            cargo.arg("--ignore-rust-version");
        }
        let status = cargo
            .args(["--manifest-path"])
            .arg(engine_dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .status()
            .unwrap_or_else(|e| fail(&format!("cannot run cargo for the {} engine: {e}", engine.dir)));
        if !status.success() {
            fail(&format!("building the {} engine for wasm32-wasip1 failed (see the output above)", engine.dir));
        }
        let built = target_dir.join(TARGET).join("release").join(engine.artifact);
        std::fs::copy(&built, &destination).unwrap_or_else(|e| fail(&format!("cannot copy {}: {e}", built.display())));
    }
}

/// `cargo build --release --locked --target wasm32-wasip1` with the outer build's host settings
/// removed.
fn nested_cargo() -> Command {
    let mut cargo = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        if (key.starts_with("CARGO_") && key != "CARGO_HOME") || key.starts_with("RUSTFLAGS") || key == "RUSTC_WRAPPER" {
            cargo.env_remove(key.as_ref());
        }
    }
    cargo.env_remove("CARGO_ENCODED_RUSTFLAGS").args(["build", "--release", "--locked", "--target", TARGET]);
    cargo
}

/// Fails early with the exact command that installs what is missing.
fn check_prerequisites(compiles_c: bool) {
    let sysroot = Command::new(env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let has_target = sysroot.is_some_and(|root| root.join("lib/rustlib").join(TARGET).exists());
    if !has_target {
        fail("the Rust target wasm32-wasip1 is missing: run `rustup target add wasm32-wasip1`");
    }
    let has_c = Command::new("clang").arg("--version").output().is_ok() && Path::new("/usr/include/wasm32-wasi/stdio.h").exists();
    if compiles_c && !has_c {
        fail("a C compiler for wasm32-wasi is missing: run `apt-get install -y clang llvm wasi-libc`");
    }
}

fn llvm_ar() -> String {
    ["llvm-ar", "llvm-ar-16", "llvm-ar-15", "llvm-ar-14"]
        .into_iter()
        .find(|tool| Command::new(tool).arg("--version").output().is_ok())
        .unwrap_or_else(|| fail("llvm-ar is missing: run `apt-get install -y llvm`"))
        .to_string()
}

fn libclang_dir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("lib")))
        .filter(|dir| dir.to_string_lossy().contains("llvm-") && dir.join("libclang.so.1").exists())
        .collect();
    candidates.sort();
    candidates.pop()
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
