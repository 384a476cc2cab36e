//! The Python engine that runs one Lambda@Edge handler inside a wasm32-wasip1 module.
//!
//! RustPython (with its standard library frozen into the module) plus a small Python shim,
//! `py/prelude.py`, that reproduces the Lambda Python runtime's calling convention. The host
//! drives it through the same exports as the JavaScript engine, exchanging bytes through two
//! buffers owned by the guest:
//!
//! 1. `edgeport_input_reserve(len)` returns a pointer where the host writes `len` bytes.
//! 2. The host calls one operation (`edgeport_init`, `edgeport_load`, `edgeport_invoke`); it
//!    returns [`STATUS_OK`] or [`STATUS_ERROR`].
//! 3. The host reads the answer at `edgeport_output_ptr()` / `edgeport_output_len()`.
//!
//! `edgeport_set_budget(ms)` before `edgeport_load` or `edgeport_invoke` bounds its wall-clock
//! time. RustPython has no interrupt hook on wasm32 (its eval breaker is compiled out there),
//! so the budget is enforced through `sys.monitoring`: a native callback on every Python call
//! (`PY_START`) and every jump (`JUMP`, which every loop takes) reads the monotonic clock every
//! few events and raises an exception derived from `BaseException` once the time is up. A
//! straight-line handler fires one event per call rather than one per line, as a trace
//! function would (a third of the cost of a small handler's invocation), and loops in bundled
//! modules and in the standard library's Python code are caught too. It cannot stop a single
//! long native call (a huge regular expression, `json` encoding, `sum` over a vast range), and
//! a handler that swallows the exception with a bare `except:` and loops on gets it again at
//! every check but never ends. The host needs a hard limit of its own for those.
//!
//! There is no `edgeport_compile`: `edgeport_load` takes the handler's source and compiles it,
//! reporting a syntax error as the Lambda runtime does at import.
//!
//! Errors are JSON objects `{"errorType", "errorMessage", "trace"}` written to the output.
//! The host never sees a trap for a Python exception; a trap means the engine itself failed.

use std::cell::{Cell, OnceCell, RefCell};

use rustpython::InterpreterBuilderExt;
use rustpython_vm::builtins::{PyBaseExceptionRef, PyDict, PyDictRef, PyFloat, PyInt, PyList, PyStr, PyTuple, PyTypeRef};
use rustpython_vm::compiler::Mode;
use rustpython_vm::function::FuncArgs;
use rustpython_vm::{AsObject, Interpreter, PyObjectRef, PyResult, Settings, VirtualMachine};

/// The operation succeeded; the output holds its result.
const STATUS_OK: u32 = 0;
/// The operation failed; the output holds an error JSON object.
const STATUS_ERROR: u32 = 1;

/// The shim that turns a handler module and an event into a Lambda-style invocation.
const PRELUDE: &str = include_str!("../py/prelude.py");
/// The file name the shim runs under; the shim leaves frames of `edgeport:` files out of traces.
const PRELUDE_FILENAME: &str = "edgeport:prelude";

/// Monitoring events between two readings of the clock by the budget check: a clock reading
/// is a call into the host, a counter is not.
const EVENTS_PER_CLOCK_READ: u32 = 32;

/// The `sys.monitoring` tool id the budget uses (CPython reserves 0-2 and 5 for debuggers,
/// coverage, profilers and optimizers).
const BUDGET_TOOL: u8 = 4;

/// Registers the budget check (`_edgeport_budget_check` in the scope this runs in).
const BUDGET_SETUP: &str = "
import sys
_monitoring = sys.monitoring
_monitoring.use_tool_id(TOOL, 'edgeport-budget')
for _event in (_monitoring.events.PY_START, _monitoring.events.JUMP):
    _monitoring.register_callback(TOOL, _event, _edgeport_budget_check)
_monitoring.set_events(TOOL, _monitoring.events.PY_START | _monitoring.events.JUMP)
";

/// The interpreter and what the engine keeps of it between operations.
struct Engine {
    interpreter: Interpreter,
    /// The shim's module namespace (`load`, `invoke`, `describe_error`).
    shim: PyDictRef,
    /// The exception the budget check raises when the budget is spent. It derives from
    /// `BaseException`, so that a handler's `except Exception:` does not swallow it.
    time_exhausted: PyTypeRef,
}

thread_local! {
    static ENGINE: OnceCell<Engine> = const { OnceCell::new() };
    /// When the current operation must stop, in monotonic nanoseconds (0: no limit). A plain
    /// integer, reset after every operation, so that no clock reading ends up in a snapshot.
    static DEADLINE_NS: Cell<u64> = const { Cell::new(0) };
    /// The budget given to the current operation, in milliseconds.
    static BUDGET_MS: Cell<u32> = const { Cell::new(0) };
    /// Whether the budget check stopped the current operation.
    static INTERRUPTED: Cell<bool> = const { Cell::new(false) };
    /// Monitoring events seen since the last clock reading.
    static BUDGET_EVENTS: Cell<u32> = const { Cell::new(0) };
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
/// time on the monotonic clock; 0 removes the limit. Python code still running then is stopped
/// by the budget check, as Lambda stops a function at its timeout.
#[export_name = "edgeport_set_budget"]
pub extern "C" fn set_budget(millis: u32) {
    let deadline = if millis == 0 { 0 } else { monotonic_ns() + u64::from(millis) * 1_000_000 };
    DEADLINE_NS.with(|cell| cell.set(deadline));
    BUDGET_MS.with(|cell| cell.set(millis));
    INTERRUPTED.with(|cell| cell.set(false));
    BUDGET_EVENTS.with(|cell| cell.set(0));
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

/// The host's monotonic clock (WASI clock 1), which a frozen realtime clock does not affect.
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

/// The `sys.monitoring` callback that enforces the budget (see the module docs); a no-op
/// while no budget is set.
fn budget_check(_args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    let deadline = DEADLINE_NS.with(Cell::get);
    if deadline == 0 {
        return Ok(vm.ctx.none());
    }
    let events = BUDGET_EVENTS.with(|cell| {
        let events = cell.get() + 1;
        cell.set(events % EVENTS_PER_CLOCK_READ);
        events
    });
    if events == EVENTS_PER_CLOCK_READ && monotonic_ns() >= deadline {
        INTERRUPTED.with(|cell| cell.set(true));
        let budget = BUDGET_MS.with(Cell::get);
        let time_exhausted = ENGINE.with(|cell| cell.get().map(|engine| engine.time_exhausted.clone()));
        let time_exhausted = time_exhausted.ok_or_else(|| vm.new_runtime_error("the engine is not initialised"))?;
        return Err(vm.new_exception_msg(time_exhausted, format!("the time budget of {budget} ms is spent").into()));
    }
    Ok(vm.ctx.none())
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

/// The interpreter's settings: nothing from the (empty) environment or file system, no `site`,
/// and a fixed hash seed, so that str/bytes hashes — and with them the iteration order of
/// sets — are the same in every instance and in snapshots.
fn settings() -> Settings {
    let mut settings = Settings::default();
    settings.isolated = true;
    settings.ignore_environment = true;
    settings.import_site = false;
    settings.user_site_directory = false;
    settings.safe_path = true;
    settings.install_signal_handlers = false;
    settings.write_bytecode = false;
    settings.hash_seed = Some(0);
    settings.utf8_mode = 1;
    // awslambdaric's streams write through; so flushing after an operation costs nothing.
    settings.buffered_stdio = false;
    settings
}

/// Creates the interpreter with the frozen standard library and runs the shim.
#[export_name = "edgeport_init"]
pub extern "C" fn init() -> u32 {
    if ENGINE.with(|cell| cell.get().is_some()) {
        // A second init is a host bug; keeping the first interpreter is the safe answer.
        return store(Ok(Vec::new()));
    }
    let interpreter = rustpython::InterpreterBuilder::new().settings(settings()).init_stdlib().interpreter();
    let parts = interpreter.enter(|vm| {
        let scope = vm.new_scope_with_builtins();
        let to_error = |exception: PyBaseExceptionRef| exception_error(vm, &exception);
        scope.globals.set_item("__name__", vm.ctx.new_str("edgeport_shim").into(), vm).map_err(to_error)?;
        let code = vm
            .compile(PRELUDE, Mode::Exec, PRELUDE_FILENAME)
            .map_err(|error| to_error(error.into_pyexception(vm, Some(PRELUDE))))?;
        vm.run_code_obj(code, scope.clone()).map_err(to_error)?;
        // Native stand-ins for the shim's slowest steps (see `native_marshal`).
        let globals = &scope.globals;
        let python_marshal = globals.get_item("_marshal", vm).map_err(to_error)?;
        globals.set_item("_marshal_python", python_marshal, vm).map_err(to_error)?;
        globals.set_item("_marshal", vm.new_function("_marshal", native_marshal).into(), vm).map_err(to_error)?;
        globals.set_item("_STDIO_WRITES_THROUGH", vm.ctx.new_bool(true).into(), vm).map_err(to_error)?;
        let budget_scope = vm.new_scope_with_builtins();
        budget_scope.globals.set_item("TOOL", vm.ctx.new_int(BUDGET_TOOL).into(), vm).map_err(to_error)?;
        let check = vm.new_function("_edgeport_budget_check", budget_check);
        budget_scope.globals.set_item("_edgeport_budget_check", check.into(), vm).map_err(to_error)?;
        let setup = vm
            .compile(BUDGET_SETUP, Mode::Exec, "edgeport:budget")
            .map_err(|error| to_error(error.into_pyexception(vm, Some(BUDGET_SETUP))))?;
        vm.run_code_obj(setup, budget_scope).map_err(to_error)?;
        let time_exhausted = vm.ctx.new_exception_type(
            "edgeport",
            "TimeExhausted",
            Some(vec![vm.ctx.exceptions.base_exception_type.to_owned()]),
        );
        Ok((scope.globals, time_exhausted))
    });
    match parts {
        Ok((shim, time_exhausted)) => {
            ENGINE.with(|cell| {
                let _ = cell.set(Engine { interpreter, shim, time_exhausted });
            });
            store(Ok(Vec::new()))
        }
        Err(json) => store(Err(json)),
    }
}

/// Imports the handler module from its source: runs its top-level code and resolves the
/// handler function.
///
/// Input: handler function name, NUL, filename (`lambda_function.py`), NUL, standard-library
/// modules to import first (comma-separated), NUL, the module's source text; then, for every
/// local module bundled with it, NUL, its path relative to the handler's directory
/// (`helpers.py`, `lib/__init__.py`), NUL, its source. Python source never holds a NUL byte.
#[export_name = "edgeport_load"]
pub extern "C" fn load() -> u32 {
    let input = INPUT.with_borrow_mut(std::mem::take);
    with_engine(|vm, engine| {
        let (handler, rest) = split_nul(&input)?;
        let (filename, rest) = split_nul(rest)?;
        let (preload, rest) = split_nul(rest)?;
        let mut files = rest.split(|&byte| byte == 0).map(|text| {
            std::str::from_utf8(text)
                .map_err(|_| error_json("Runtime.UserCodeSyntaxError", "a bundled source is not UTF-8"))
        });
        let source = files.next().unwrap_or(Ok(""))?;
        let mut modules = Vec::new();
        while let Some(path) = files.next() {
            let text = files.next().ok_or_else(|| error_json("EngineError", "malformed input: a bundled module without source"))?;
            modules.push(vm.ctx.new_tuple(vec![vm.ctx.new_str(path?).into(), vm.ctx.new_str(text?).into()]).into());
        }
        let preload: Vec<PyObjectRef> =
            preload.split(',').filter(|name| !name.is_empty()).map(|name| vm.ctx.new_str(name).into()).collect();
        let args = (
            vm.ctx.new_str(handler),
            vm.ctx.new_str(filename),
            vm.ctx.new_list(preload),
            vm.ctx.new_str(source),
            vm.ctx.none(),
            vm.ctx.new_list(modules),
        );
        let answer = call_shim(vm, engine, "load", args);
        if INTERRUPTED.with(Cell::get) {
            let budget = BUDGET_MS.with(Cell::get);
            return Err(error_json("Runtime.InitTimeout", &format!("the top-level code ran longer than {budget} ms")));
        }
        let answer = answer?;
        if vm.is_none(&answer) {
            Ok(Vec::new())
        } else {
            Err(python_string(&answer)
                .ok_or_else(|| error_json("EngineError", "the shim's load answered neither None nor a string"))?)
        }
    })
}

/// Invokes the handler. Input: the invocation envelope as JSON (see `py/prelude.py`).
/// Output: the outcome JSON.
#[export_name = "edgeport_invoke"]
pub extern "C" fn invoke() -> u32 {
    let input = INPUT.with_borrow_mut(std::mem::take);
    with_engine(|vm, engine| {
        let envelope =
            std::str::from_utf8(&input).map_err(|_| error_json("EngineError", "the envelope is not UTF-8"))?;
        let outcome = call_shim(vm, engine, "invoke", (vm.ctx.new_str(envelope), vm.ctx.none()));
        // Stopped by the budget: whatever the handler made of the exception is abandoned, as
        // Lambda abandons a timed-out invocation; module state stays as the handler left it.
        if INTERRUPTED.with(Cell::get) {
            return Ok(timeout_outcome().into_bytes());
        }
        let outcome = outcome?;
        python_string(&outcome)
            .map(String::into_bytes)
            .ok_or_else(|| error_json("EngineError", "the shim's invoke did not answer a string"))
    })
}

/// Values deeper than this go to the shim's `json.dumps` (which also detects cycles).
const MAX_NATIVE_JSON_DEPTH: usize = 64;

/// The shim's `_marshal` (`json.dumps` of the handler's result), in Rust: json's encoder runs
/// as Python code in RustPython and was most of a small handler's invocation. It writes what
/// handlers return — exact dicts with str keys, lists, tuples, strs, ints, finite floats, bools
/// and None — and hands anything else (a Decimal, a subclass, bytes, NaN, a cycle) to the
/// shim's own version, whose output and errors are the reference. The host parses the text, so
/// only its meaning has to match `json.dumps`, not its spacing.
fn native_marshal(result: PyObjectRef, vm: &VirtualMachine) -> PyResult {
    let mut json = String::with_capacity(512);
    if write_json(&result, vm, &mut json, 0) {
        return Ok(vm.ctx.new_str(json).into());
    }
    let shim = ENGINE.with(|engine| engine.get().map(|engine| engine.shim.clone()));
    let shim = shim.ok_or_else(|| vm.new_runtime_error("the engine is not initialised"))?;
    shim.get_item("_marshal_python", vm)?.call((result,), vm)
}

/// Appends the JSON of `value` to `out` and says whether it could (see [`native_marshal`]).
fn write_json(value: &PyObjectRef, vm: &VirtualMachine, out: &mut String, depth: usize) -> bool {
    if depth > MAX_NATIVE_JSON_DEPTH {
        return false;
    }
    if vm.is_none(value) {
        out.push_str("null");
    } else if value.class().is(vm.ctx.types.bool_type) {
        out.push_str(if value.is(&vm.ctx.true_value) { "true" } else { "false" });
    } else if let Some(text) = value.downcast_ref_if_exact::<PyStr>(vm) {
        // None: the string holds a lone surrogate, which only json.dumps escapes as CPython does.
        let Some(text) = text.to_str() else { return false };
        write_json_string(text, out);
    } else if let Some(int) = value.downcast_ref_if_exact::<PyInt>(vm) {
        out.push_str(&int.as_bigint().to_string());
    } else if let Some(float) = value.downcast_ref_if_exact::<PyFloat>(vm) {
        let float = float.to_f64();
        if !float.is_finite() {
            return false;
        }
        out.push_str(&format!("{float:?}"));
    } else if let Some(dict) = value.downcast_ref_if_exact::<PyDict>(vm) {
        out.push('{');
        for (index, (key, item)) in dict.into_iter().enumerate() {
            let Some(key) = key.downcast_ref_if_exact::<PyStr>(vm).and_then(|key| key.to_str()) else { return false };
            if index > 0 {
                out.push(',');
            }
            write_json_string(key, out);
            out.push(':');
            if !write_json(&item, vm, out, depth + 1) {
                return false;
            }
        }
        out.push('}');
    } else if let Some(list) = value.downcast_ref_if_exact::<PyList>(vm) {
        let items: Vec<PyObjectRef> = list.borrow_vec().to_vec();
        return write_json_array(&items, vm, out, depth);
    } else if let Some(tuple) = value.downcast_ref_if_exact::<PyTuple>(vm) {
        return write_json_array(tuple.as_slice(), vm, out, depth);
    } else {
        return false;
    }
    true
}

fn write_json_array(items: &[PyObjectRef], vm: &VirtualMachine, out: &mut String, depth: usize) -> bool {
    out.push('[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        if !write_json(item, vm, out, depth + 1) {
            return false;
        }
    }
    out.push(']');
    true
}

fn write_json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Runs `op` in the interpreter and stores its output or error (always an error JSON object,
/// which the host parses).
fn with_engine(op: impl FnOnce(&VirtualMachine, &Engine) -> Result<Vec<u8>, String>) -> u32 {
    ENGINE.with(|cell| match cell.get() {
        Some(engine) => {
            let result = engine.interpreter.enter(|vm| op(vm, engine));
            clear_budget();
            store(result)
        }
        None => fail_with_message("EngineError", "edgeport_init was not called"),
    })
}

/// Calls the shim function `name`; an exception escaping it (a bug of the shim or the host's
/// input) becomes the error JSON the shim makes of it.
fn call_shim(
    vm: &VirtualMachine,
    engine: &Engine,
    name: &str,
    args: impl rustpython_vm::function::IntoFuncArgs,
) -> Result<PyObjectRef, String> {
    let function = engine.shim.get_item(name, vm).map_err(|exception| exception_error(vm, &exception))?;
    function.call(args, vm).map_err(|exception| describe_exception(vm, engine, &exception))
}

/// The error JSON of `exception`, through the shim's `describe_error` so that the engine and
/// the shim format errors the same way.
fn describe_exception(vm: &VirtualMachine, engine: &Engine, exception: &PyBaseExceptionRef) -> String {
    engine
        .shim
        .get_item("describe_error", vm)
        .and_then(|describe| describe.call((exception.clone(),), vm))
        .ok()
        .and_then(|json| python_string(&json))
        .unwrap_or_else(|| exception_error(vm, exception))
}

/// The error JSON of `exception` without the shim (before it exists, or when it failed).
fn exception_error(vm: &VirtualMachine, exception: &PyBaseExceptionRef) -> String {
    let error_type = exception.class().name().to_string();
    let message = exception.as_object().str(vm).map(|text| text.to_string_lossy().into_owned()).unwrap_or_default();
    error_json(&error_type, &message)
}

fn python_string(object: &PyObjectRef) -> Option<String> {
    object.downcast_ref::<PyStr>().map(|text| text.to_string_lossy().into_owned())
}

/// The outcome of an invocation the budget stopped, worded like the JavaScript engine's.
fn timeout_outcome() -> String {
    let budget = BUDGET_MS.with(Cell::get);
    format!("{{\"kind\":\"timeout\",\"reason\":\"task timed out after {budget} ms\"}}")
}

fn error_json(error_type: &str, message: &str) -> String {
    format!("{{\"errorType\":{},\"errorMessage\":{},\"trace\":[]}}", json_string(error_type), json_string(message))
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
    let head = std::str::from_utf8(&bytes[..at])
        .map_err(|_| error_json("EngineError", "malformed input: name is not UTF-8"))?;
    Ok((head, &bytes[at + 1..]))
}

/// Minimal JSON string escaping for the few messages produced outside Python.
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
