//! Fits the engine to the WASI functions edgeport's runtime provides today.
//!
//! RustPython's standard library links more of WASI than the JavaScript engine (files,
//! directories, `poll_oneoff`), and wasmer refuses to instantiate a module with an import the
//! host lacks. Until the runtime defines them (see the README), each missing import is
//! replaced with a function inside the module that answers as the runtime's own stubs do for
//! a sandbox without files: `fd_filestat_get` reports fds 0-2 as character devices (RustPython
//! opens stdio through `io.open(fd)`, and its start traps without it), `clock_res_get` a 1 ns
//! resolution, and everything else `EBADF` (no file descriptor or pre-opened directory is valid)
//! or `ENOSYS`. With `poll_oneoff` answering `ENOSYS`, a handler calling `time.sleep` traps the
//! engine (Rust's `std::thread::sleep` panics); the runtime's own version must serve clock
//! subscriptions.

use walrus::ir::{BinaryOp, MemArg, StoreKind};
use walrus::{ImportKind, LocalId, Module, ValType};

const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_NOSYS: i32 = 52;
const FILETYPE_CHARACTER_DEVICE: i32 = 2;
/// Size of WASI's `filestat` record; the file type is the byte at offset 16.
const FILESTAT_SIZE: u64 = 64;
const FILESTAT_FILETYPE_OFFSET: u64 = 16;

/// Replaces the `wasi_snapshot_preview1` imports not in `provided` with local functions and
/// returns the module and the names replaced (empty: the module is returned unchanged).
pub fn fill_missing_wasi(wasm: &[u8], provided: &[String]) -> Result<(Vec<u8>, Vec<String>), String> {
    let mut module = Module::from_buffer(wasm).map_err(|e| e.to_string())?;
    let missing: Vec<(String, walrus::FunctionId)> = module
        .imports
        .iter()
        .filter(|import| import.module == "wasi_snapshot_preview1" && !provided.contains(&import.name))
        .filter_map(|import| match import.kind {
            ImportKind::Function(function) => Some((import.name.clone(), function)),
            _ => None,
        })
        .collect();
    if missing.is_empty() {
        return Ok((wasm.to_vec(), Vec::new()));
    }
    let memory = module.memories.iter().next().map(|memory| memory.id()).ok_or("the engine has no memory")?;
    for (name, function) in &missing {
        let answer = |body: &mut walrus::InstrSeqBuilder, args: &Vec<LocalId>| match name.as_str() {
            "fd_filestat_get" => {
                let (fd, stat) = (args[0], args[1]);
                body.local_get(fd).i32_const(3).binop(BinaryOp::I32LtU).if_else(
                    ValType::I32,
                    |stdio| {
                        for offset in (0..FILESTAT_SIZE).step_by(8) {
                            stdio.local_get(stat).i64_const(0).store(
                                memory,
                                StoreKind::I64 { atomic: false },
                                MemArg { align: 1, offset },
                            );
                        }
                        stdio
                            .local_get(stat)
                            .i32_const(FILETYPE_CHARACTER_DEVICE)
                            .store(
                                memory,
                                StoreKind::I32_8 { atomic: false },
                                MemArg { align: 1, offset: FILESTAT_FILETYPE_OFFSET },
                            )
                            .i32_const(ERRNO_SUCCESS);
                    },
                    |other| {
                        other.i32_const(ERRNO_BADF);
                    },
                );
            }
            "clock_res_get" => {
                body.local_get(args[1])
                    .i64_const(1)
                    .store(memory, StoreKind::I64 { atomic: false }, MemArg { align: 1, offset: 0 })
                    .i32_const(ERRNO_SUCCESS);
            }
            "poll_oneoff" | "sched_yield" => {
                body.i32_const(ERRNO_NOSYS);
            }
            _ => {
                body.i32_const(ERRNO_BADF);
            }
        };
        module
            .replace_imported_func(*function, |(body, args)| answer(body, args))
            .map_err(|e| format!("cannot replace {name}: {e}"))?;
    }
    Ok((module.emit_wasm(), missing.into_iter().map(|(name, _)| name).collect()))
}
