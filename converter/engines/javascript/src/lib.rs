//! The JavaScript engine that runs one Lambda@Edge handler inside a wasm32-wasip1 module.
//!
//! QuickJS (through javy) plus a small JavaScript prelude that reproduces the Lambda Node.js
//! runtime's calling convention. The host drives it through a handful of exports that exchange
//! bytes through two buffers owned by the guest:
//!
//! 1. `edgeport_input_reserve(len)` returns a pointer where the host writes `len` bytes.
//! 2. The host calls one operation (`edgeport_init`, `edgeport_compile`, `edgeport_load`,
//!    `edgeport_invoke`); it returns [`STATUS_OK`] or [`STATUS_ERROR`].
//! 3. The host reads the answer at `edgeport_output_ptr()` / `edgeport_output_len()`.
//!
//! `edgeport_set_budget(ms)` before `edgeport_load` or `edgeport_invoke` bounds its wall-clock
//! time; QuickJS's interrupt handler stops a script that overruns it.
//!
//! Errors are JSON objects `{"errorType", "errorMessage", "trace"}` written to the output.
//! The host never sees a trap for a JavaScript error; a trap means the engine itself failed.

use std::cell::{Cell, OnceCell, RefCell};
use std::ffi::CString;

use javy::quickjs::{qjs, Ctx, Function, IntoJs, Object, Value};
use javy::{Config, Runtime};

/// The operation succeeded; the output holds its result.
const STATUS_OK: u32 = 0;
/// The operation failed; the output holds an error JSON object.
const STATUS_ERROR: u32 = 1;

/// The shim that turns a CommonJS module and an event into a Lambda-style invocation.
const PRELUDE: &str = include_str!("../js/prelude.js");

/// `(module name, deflated source)` of a built-in, from `js/<file>` (compressed by build.rs).
macro_rules! builtin {
    ($name:literal, $file:literal) => {
        ($name, include_bytes!(concat!(env!("OUT_DIR"), "/js/", $file, ".deflate")))
    };
}

/// Node built-ins implemented in JavaScript, and the engine's own modules they use.
const BUILTINS: &[(&str, &[u8])] = &[
    builtin!("edgeport:determinism", "determinism.js"),
    builtin!("edgeport:errors", "errors.js"),
    builtin!("buffer", "node/buffer.js"),
    builtin!("crypto", "node/crypto.js"),
    builtin!("events", "node/events.js"),
    builtin!("fs", "node/fs.js"),
    builtin!("fs/promises", "node/fs_promises.js"),
    builtin!("path", "node/path.js"),
    builtin!("querystring", "node/querystring.js"),
    builtin!("stream", "node/stream.js"),
    builtin!("string_decoder", "node/string_decoder.js"),
    builtin!("timers", "node/timers.js"),
    builtin!("timers/promises", "node/timers_promises.js"),
    builtin!("url", "node/url.js"),
    builtin!("util", "node/util.js"),
];

/// Bytes collected by the garbage collector before it runs again. QuickJS frees most objects by
/// reference counting; the cycle collector only needs to run now and then on warm instances.
const GC_THRESHOLD: usize = 4 * 1024 * 1024;

thread_local! {
    static RUNTIME: OnceCell<Runtime> = const { OnceCell::new() };
    /// When the current operation must stop, in monotonic nanoseconds (0: no limit). A plain
    /// integer, reset after every operation, so that no clock reading ends up in a snapshot.
    static DEADLINE_NS: Cell<u64> = const { Cell::new(0) };
    /// The budget given to the current operation, in milliseconds.
    static BUDGET_MS: Cell<u32> = const { Cell::new(0) };
    /// Whether the interrupt handler stopped the current operation.
    static INTERRUPTED: Cell<bool> = const { Cell::new(false) };
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Makes room for `len` input bytes and returns where the host must write them.
#[export_name = "edgeport_input_reserve"]
pub extern "C" fn input_reserve(len: u32) -> *mut u8 {
    INPUT.with_borrow_mut(|input| {
        input.clear();
        input.resize(len as usize, 0);
        input.as_mut_ptr()
    })
}

/// Limits the next operation (`edgeport_load` or `edgeport_invoke`) to `millis` of wall-clock
/// time on the monotonic clock; 0 removes the limit. A script still running then is stopped by
/// QuickJS's interrupt handler with an uncatchable error, as Lambda stops a function at its
/// timeout.
#[export_name = "edgeport_set_budget"]
pub extern "C" fn set_budget(millis: u32) {
    let deadline = if millis == 0 { 0 } else { monotonic_ns() + u64::from(millis) * 1_000_000 };
    DEADLINE_NS.with(|cell| cell.set(deadline));
    BUDGET_MS.with(|cell| cell.set(millis));
    INTERRUPTED.with(|cell| cell.set(false));
}

/// Forgets the budget once an operation is over.
fn clear_budget() {
    set_budget(0);
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    #[link_name = "clock_time_get"]
    fn wasi_clock_time_get(clock: u32, precision: u64, time: *mut u64) -> u32;
}

/// The host's monotonic clock (WASI clock 1), which a frozen `Date` clock does not affect.
fn monotonic_ns() -> u64 {
    let mut now = 0u64;
    // SAFETY: `now` is a valid place for the u64 the call writes.
    let errno = unsafe { wasi_clock_time_get(1, 1, &mut now) };
    if errno == 0 {
        now
    } else {
        0
    }
}

/// QuickJS asks this every few thousand instructions whether to stop.
unsafe extern "C" fn interrupt(_runtime: *mut qjs::JSRuntime, _opaque: *mut std::ffi::c_void) -> std::ffi::c_int {
    let deadline = DEADLINE_NS.with(Cell::get);
    let expired = deadline != 0 && monotonic_ns() >= deadline;
    if expired {
        INTERRUPTED.with(|cell| cell.set(true));
    }
    std::ffi::c_int::from(expired)
}

/// Where the last operation's output starts.
#[export_name = "edgeport_output_ptr"]
pub extern "C" fn output_ptr() -> *const u8 {
    OUTPUT.with_borrow(|output| output.as_ptr())
}

/// How many bytes the last operation wrote.
#[export_name = "edgeport_output_len"]
pub extern "C" fn output_len() -> u32 {
    OUTPUT.with_borrow(|output| output.len() as u32)
}

/// Creates the QuickJS runtime, evaluates the prelude and installs the globals; built-in
/// modules are compiled later, on first `require`.
#[export_name = "edgeport_init"]
pub extern "C" fn init() -> u32 {
    let mut config = Config::default();
    config.text_encoding(true).gc_threshold(GC_THRESHOLD);
    let runtime = match Runtime::new(config) {
        Ok(runtime) => runtime,
        Err(error) => return fail_with_message("EngineError", &error.to_string()),
    };
    let status = runtime.context().with(|ctx| {
        let result = register_builtin_compiler(&ctx)
            .and_then(|()| eval_script(&ctx, PRELUDE, "edgeport:prelude"))
            .and_then(|()| eval_script(&ctx, "globalThis.__edgeport.installGlobals();", "edgeport:init"));
        let raw = ctx.as_raw().as_ptr();
        // SAFETY: the runtime outlives the context; the rejection tracker and the interrupt
        // handler are plain functions that only touch the context they are given.
        unsafe {
            let runtime = qjs::JS_GetRuntime(raw);
            qjs::JS_SetHostPromiseRejectionTracker(runtime, Some(track_rejection), std::ptr::null_mut());
            qjs::JS_SetInterruptHandler(runtime, Some(interrupt), std::ptr::null_mut());
        }
        store(result.map(|()| Vec::new()))
    });
    // A second init is a host bug; keeping the first runtime is the safe answer.
    RUNTIME.with(|cell| {
        let _ = cell.set(runtime);
    });
    status
}

/// Gives the prelude `__edgeport_compileBuiltin(name)`: compiles the built-in module `name` and
/// registers its factory, returning whether the engine has such a module. Sources stay in the
/// engine's data, deflated, until a module is first required.
fn register_builtin_compiler(ctx: &Ctx<'_>) -> Result<(), String> {
    let compile = javy::quickjs::Function::new(ctx.clone(), |ctx: Ctx<'_>, name: String| -> javy::quickjs::Result<bool> {
        let Some((name, packed)) = BUILTINS.iter().find(|(builtin, _)| *builtin == name) else {
            return Ok(false);
        };
        let source = miniz_oxide::inflate::decompress_to_vec(packed)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .expect("build.rs deflated a UTF-8 source");
        let wrapped = format!(
            "globalThis.__edgeport.defineBuiltin({name:?}, function (exports, require, module) {{\n{source}\n}});"
        );
        ctx.eval_with_options::<(), _>(wrapped, script_options(&format!("node:{name}")))?;
        Ok(true)
    })
    .map_err(|e| js_error(ctx, e))?;
    ctx.globals().set("__edgeport_compileBuiltin", compile).map_err(|e| js_error(ctx, e))
}

/// Compiles a CommonJS script to QuickJS bytecode without running it.
///
/// Input: `filename`, a NUL byte, then the script text. The script is wrapped in the CommonJS
/// function wrapper, so evaluating the bytecode yields the module function.
#[export_name = "edgeport_compile"]
pub extern "C" fn compile() -> u32 {
    let input = INPUT.with_borrow_mut(std::mem::take);
    with_context(|ctx| {
        let (filename, source) = split_nul(&input)?;
        let wrapped = format!(
            "(function (exports, require, module, __filename, __dirname) {{{}\n}})",
            String::from_utf8_lossy(source)
        );
        let source = CString::new(wrapped).map_err(|_| error_json("SyntaxError", "the script contains a NUL byte"))?;
        let filename = CString::new(filename).map_err(|_| error_json("EngineError", "the file name contains a NUL byte"))?;
        let raw = ctx.as_raw().as_ptr();
        let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32;
        // SAFETY: the context is live for the duration of `with`; `source` is NUL-terminated as
        // JS_Eval requires, and the returned value is freed below.
        let function = unsafe {
            qjs::JS_Eval(raw, source.as_ptr(), source.as_bytes().len() as _, filename.as_ptr(), flags)
        };
        if unsafe { qjs::JS_IsException(function) } {
            return Err(describe_exception(ctx));
        }
        let mut len: qjs::size_t = 0;
        // SAFETY: `function` is a valid compiled function; the buffer QuickJS returns is copied
        // and then released with the context's allocator.
        let bytecode = unsafe {
            let buf = qjs::JS_WriteObject(raw, &mut len, function, qjs::JS_WRITE_OBJ_BYTECODE as i32);
            qjs::JS_FreeValue(raw, function);
            if buf.is_null() {
                return Err(describe_exception(ctx));
            }
            let bytes = std::slice::from_raw_parts(buf, len as usize).to_vec();
            qjs::js_free(raw, buf.cast());
            bytes
        };
        Ok(bytecode)
    })
}

/// Loads a compiled function: defines its modules and files, runs the handler module's
/// top-level code (which requires the rest) and resolves the handler export.
///
/// Input: handler export name, NUL, the handler module's filename, NUL, built-ins to preload
/// (comma-separated), NUL, then the bundle the converter wrote (converter/src/js_bundle.rs): a
/// little-endian `u32` module count; per module its id, NUL, its resolutions as JSON, NUL, a
/// `u32` length and its bytecode (the handler first); a `u32` file count; per file its path,
/// NUL, a `u32` length and its bytes.
#[export_name = "edgeport_load"]
pub extern "C" fn load() -> u32 {
    let input = INPUT.with_borrow_mut(std::mem::take);
    with_context(|ctx| {
        let (handler, rest) = split_nul(&input)?;
        let (filename, rest) = split_nul(rest)?;
        let (preload, mut rest) = split_nul(rest)?;
        let preload: Vec<&str> = preload.split(',').filter(|name| !name.is_empty()).collect();
        let modules = javy::quickjs::Array::new(ctx.clone()).map_err(|e| js_error(ctx, e))?;
        for index in 0..take_u32(&mut rest)? {
            let (id, after_id) = split_nul(rest)?;
            let (resolutions, after_resolutions) = split_nul(after_id)?;
            rest = after_resolutions;
            let length = take_u32(&mut rest)? as usize;
            let bytecode = take_bytes(&mut rest, length)?;
            let wrapper = eval_bytecode(ctx, bytecode)?;
            let entry = javy::quickjs::Array::new(ctx.clone()).map_err(|e| js_error(ctx, e))?;
            for (slot, value) in [(0, id.into_js(ctx)), (1, resolutions.into_js(ctx))] {
                entry.set(slot, value.map_err(|e| js_error(ctx, e))?).map_err(|e| js_error(ctx, e))?;
            }
            entry.set(2, wrapper).map_err(|e| js_error(ctx, e))?;
            modules.set(index as usize, entry).map_err(|e| js_error(ctx, e))?;
        }
        let files = Object::new(ctx.clone()).map_err(|e| js_error(ctx, e))?;
        for _ in 0..take_u32(&mut rest)? {
            let (path, after_path) = split_nul(rest)?;
            rest = after_path;
            let length = take_u32(&mut rest)? as usize;
            let bytes = take_bytes(&mut rest, length)?;
            let array = javy::quickjs::TypedArray::<u8>::new(ctx.clone(), bytes.to_vec()).map_err(|e| js_error(ctx, e))?;
            files.set(path, array).map_err(|e| js_error(ctx, e))?;
        }
        let loaded = call_shim::<_, ()>(ctx, "load", (modules, files, filename, handler, preload));
        if loaded.is_ok() {
            drain_jobs(ctx);
        }
        if INTERRUPTED.with(Cell::get) {
            let _ = ctx.catch();
            let budget = BUDGET_MS.with(Cell::get);
            return Err(error_json("Runtime.InitTimeout", &format!("the top-level code ran longer than {budget} ms")));
        }
        loaded.map(|()| Vec::new())
    })
}

/// Evaluates bytecode from `edgeport_compile`, which yields the module's CommonJS wrapper.
fn eval_bytecode<'js>(ctx: &Ctx<'js>, bytecode: &[u8]) -> Result<Value<'js>, String> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: the bytecode was produced by `edgeport_compile` of this same engine build (the
    // converter embeds both in one artifact); QuickJS validates its header and version. The
    // wrapper is parked on the global object so that it is handed over as an owned value.
    unsafe {
        let object = qjs::JS_ReadObject(raw, bytecode.as_ptr(), bytecode.len() as _, qjs::JS_READ_OBJ_BYTECODE as i32);
        if qjs::JS_IsException(object) {
            return Err(describe_exception(ctx));
        }
        let value = qjs::JS_EvalFunction(raw, object);
        if qjs::JS_IsException(value) {
            return Err(describe_exception(ctx));
        }
        let global = qjs::JS_GetGlobalObject(raw);
        qjs::JS_SetPropertyStr(raw, global, c"__edgeport_wrapper".as_ptr(), value);
        qjs::JS_FreeValue(raw, global);
    }
    let wrapper = ctx.globals().get::<_, Value>("__edgeport_wrapper").map_err(|e| js_error(ctx, e))?;
    let _ = ctx.globals().remove("__edgeport_wrapper");
    Ok(wrapper)
}

fn take_u32(bytes: &mut &[u8]) -> Result<u32, String> {
    let head = take_bytes(bytes, 4)?;
    Ok(u32::from_le_bytes([head[0], head[1], head[2], head[3]]))
}

fn take_bytes<'a>(bytes: &mut &'a [u8], length: usize) -> Result<&'a [u8], String> {
    if bytes.len() < length {
        return Err(error_json("EngineError", "malformed input: the bundle is truncated"));
    }
    let (head, rest) = bytes.split_at(length);
    *bytes = rest;
    Ok(head)
}

/// Invokes the handler. Input: the invocation envelope as JSON (see `js/prelude.js`).
/// Output: the outcome JSON.
#[export_name = "edgeport_invoke"]
pub extern "C" fn invoke() -> u32 {
    let input = INPUT.with_borrow_mut(std::mem::take);
    with_context(|ctx| {
        let envelope = std::str::from_utf8(&input).map_err(|_| error_json("EngineError", "the envelope is not UTF-8"))?;
        let started = call_shim::<_, ()>(ctx, "invoke", (envelope,));
        if started.is_ok() {
            run_event_loop(ctx);
        }
        // Stopped by the budget: the shim's state is abandoned, as Lambda abandons a timed-out
        // invocation; the next invocation starts afresh.
        if INTERRUPTED.with(Cell::get) {
            let _ = ctx.catch();
            return Ok(timeout_outcome().into_bytes());
        }
        started?;
        let outcome: String = call_shim(ctx, "outcome", ())?;
        Ok(outcome.into_bytes())
    })
}

/// Runs `op` in the QuickJS context and stores its output or error (always an error JSON object,
/// which the host parses).
fn with_context(op: impl FnOnce(&Ctx<'_>) -> Result<Vec<u8>, String>) -> u32 {
    RUNTIME.with(|cell| match cell.get() {
        Some(runtime) => runtime.context().with(|ctx| {
            let result = op(&ctx);
            clear_budget();
            store(result)
        }),
        None => fail_with_message("EngineError", "edgeport_init was not called"),
    })
}

/// Tells the shim about a rejected promise without a handler (`handled == false`) or one that got
/// a handler later (`handled == true`): node reports the former as an unhandled rejection.
unsafe extern "C" fn track_rejection(
    ctx: *mut qjs::JSContext,
    promise: qjs::JSValue,
    reason: qjs::JSValue,
    handled: bool,
    _opaque: *mut std::ffi::c_void,
) {
    // SAFETY: QuickJS calls this with a live context and borrowed values; every value obtained
    // here is freed here, and an exception from the shim is cleared rather than left pending.
    unsafe {
        let global = qjs::JS_GetGlobalObject(ctx);
        let shim = qjs::JS_GetPropertyStr(ctx, global, c"__edgeport".as_ptr());
        let track = qjs::JS_GetPropertyStr(ctx, shim, c"trackRejection".as_ptr());
        let mut args = [promise, reason, if handled { qjs::JS_TRUE } else { qjs::JS_FALSE }];
        let result = qjs::JS_Call(ctx, track, shim, args.len() as i32, args.as_mut_ptr());
        if qjs::JS_IsException(result) {
            qjs::JS_FreeValue(ctx, qjs::JS_GetException(ctx));
        }
        qjs::JS_FreeValue(ctx, result);
        qjs::JS_FreeValue(ctx, track);
        qjs::JS_FreeValue(ctx, shim);
        qjs::JS_FreeValue(ctx, global);
    }
}

/// Calls `globalThis.__edgeport[name](...args)`.
fn call_shim<'js, A, R>(ctx: &Ctx<'js>, name: &str, args: A) -> Result<R, String>
where
    A: javy::quickjs::function::IntoArgs<'js>,
    R: javy::quickjs::FromJs<'js>,
{
    let shim: Object = ctx.globals().get("__edgeport").map_err(|e| js_error(ctx, e))?;
    let function: Function = shim.get(name).map_err(|e| js_error(ctx, e))?;
    function.call(args).map_err(|e| js_error(ctx, e))
}

/// Runs queued promise jobs until none is left. Exceptions inside jobs are promise rejections,
/// which the shim observes through the rejection tracker.
fn drain_jobs(ctx: &Ctx<'_>) {
    while ctx.execute_pending_job() {}
}

/// An invocation's event loop, as node runs it: promise jobs until none is left, then the next
/// timer (the shim's virtual clock; it says when timers no longer matter), and again, until
/// both are empty or the budget stops the script.
fn run_event_loop(ctx: &Ctx<'_>) {
    loop {
        drain_jobs(ctx);
        if INTERRUPTED.with(Cell::get) || !matches!(call_shim::<_, bool>(ctx, "runTimer", ()), Ok(true)) {
            break;
        }
    }
}

fn eval_script(ctx: &Ctx<'_>, source: &str, name: &str) -> Result<(), String> {
    ctx.eval_with_options::<(), _>(source, script_options(name)).map_err(|e| js_error(ctx, e))
}

/// How the engine's own scripts are evaluated: sloppy mode, as Node loads CommonJS, under
/// `filename` so that stack traces name them.
fn script_options(filename: &str) -> javy::quickjs::context::EvalOptions {
    let mut options = javy::quickjs::context::EvalOptions::default();
    options.strict = false;
    options.filename = Some(filename.to_string());
    options
}

fn js_error(ctx: &Ctx<'_>, error: javy::quickjs::Error) -> String {
    if error.is_exception() {
        describe_exception(ctx)
    } else {
        error_json("EngineError", &error.to_string())
    }
}

/// Turns the pending exception into the error JSON, through the prelude's `describeError` so
/// that the engine and the shim format errors the same way.
fn describe_exception(ctx: &Ctx<'_>) -> String {
    let exception = ctx.catch();
    let described = ctx
        .globals()
        .get::<_, Object>("__edgeport")
        .and_then(|shim| shim.get::<_, Function>("describeError"))
        .and_then(|describe| describe.call::<_, String>((exception.clone(),)));
    match described {
        Ok(json) => json,
        Err(_) => {
            let _ = ctx.catch();
            let message = exception
                .as_exception()
                .and_then(|e| e.message())
                .unwrap_or_else(|| "unknown exception".to_string());
            error_json("Error", &message)
        }
    }
}

/// The outcome of an invocation the budget stopped, worded like the reference harness's.
fn timeout_outcome() -> String {
    let budget = BUDGET_MS.with(Cell::get);
    format!("{{\"kind\":\"timeout\",\"reason\":\"task timed out after {budget} ms\"}}")
}

fn error_json(error_type: &str, message: &str) -> String {
    format!(
        "{{\"errorType\":{},\"errorMessage\":{},\"trace\":[]}}",
        json_string(error_type),
        json_string(message)
    )
}

fn fail_with_message(error_type: &str, message: &str) -> u32 {
    store(Err(error_json(error_type, message)))
}

fn store(result: Result<Vec<u8>, String>) -> u32 {
    let (bytes, status) = match result {
        Ok(bytes) => (bytes, STATUS_OK),
        Err(json) => (json.into_bytes(), STATUS_ERROR),
    };
    OUTPUT.with_borrow_mut(|output| *output = bytes);
    status
}

fn split_nul(bytes: &[u8]) -> Result<(&str, &[u8]), String> {
    let at = bytes
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| error_json("EngineError", "malformed input: missing NUL separator"))?;
    let head = std::str::from_utf8(&bytes[..at]).map_err(|_| error_json("EngineError", "malformed input: name is not UTF-8"))?;
    Ok((head, &bytes[at + 1..]))
}

/// Minimal JSON string escaping for the few messages produced outside JavaScript.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
