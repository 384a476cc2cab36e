//! Builds the JavaScript engine for wasm32-wasip1 with a nested cargo invocation and exposes it
//! to the crate as `$OUT_DIR/engine-javascript.wasm`.
//!
//! The nested build has its own target directory (sharing the outer one deadlocks on cargo's
//! lock) and a clean environment: the outer build's RUSTFLAGS and CARGO_* settings are for the
//! host, not for the guest. Set `EDGEPORT_JS_ENGINE=/path/to/engine.wasm` to use a prebuilt
//! engine instead.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip1";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let engine_dir = manifest_dir.join("engines").join("javascript");
    let destination = out_dir.join("engine-javascript.wasm");

    println!("cargo:rerun-if-env-changed=EDGEPORT_JS_ENGINE");
    for path in ["src", "js", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", engine_dir.join(path).display());
    }

    if let Some(prebuilt) = env::var_os("EDGEPORT_JS_ENGINE") {
        std::fs::copy(&prebuilt, &destination)
            .unwrap_or_else(|e| fail(&format!("cannot copy EDGEPORT_JS_ENGINE={}: {e}", Path::new(&prebuilt).display())));
        return;
    }

    check_prerequisites();
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir.parent().expect("converter/ lives in the workspace").join("target"))
        .join("engines");

    let mut cargo = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        if (key.starts_with("CARGO_") && key != "CARGO_HOME") || key.starts_with("RUSTFLAGS") || key == "RUSTC_WRAPPER" {
            cargo.env_remove(key.as_ref());
        }
    }
    let sysroot_flags = "--target=wasm32-wasi --sysroot=/usr";
    cargo
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RQUICKJS_SYS_NO_WASI_SDK", "1")
        .env("CC_wasm32_wasip1", "clang")
        .env("AR_wasm32_wasip1", llvm_ar())
        .env("CFLAGS_wasm32_wasip1", sysroot_flags)
        .env("BINDGEN_EXTRA_CLANG_ARGS_wasm32_wasip1", sysroot_flags)
        .args(["build", "--release", "--locked", "--target", TARGET, "--manifest-path"])
        .arg(engine_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    if let Some(libclang) = libclang_dir() {
        cargo.env("LIBCLANG_PATH", libclang);
    }
    let status = cargo
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run cargo for the JavaScript engine: {e}")));
    if !status.success() {
        fail("building the JavaScript engine for wasm32-wasip1 failed (see the output above)");
    }
    let built = target_dir.join(TARGET).join("release").join("edgeport_engine_javascript.wasm");
    std::fs::copy(&built, &destination)
        .unwrap_or_else(|e| fail(&format!("cannot copy {}: {e}", built.display())));
}

/// Fails early with the exact command that installs what is missing.
fn check_prerequisites() {
    let sysroot = Command::new(env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let has_target = sysroot.is_some_and(|root| root.join("lib/rustlib").join(TARGET).exists());
    if !has_target {
        fail("the Rust target wasm32-wasip1 is missing: run `rustup target add wasm32-wasip1`");
    }
    if Command::new("clang").arg("--version").output().is_err() || !Path::new("/usr/include/wasm32-wasi/stdio.h").exists() {
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
