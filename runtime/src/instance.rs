//! One running engine instance and the operations the guest exports.

use wasmer::{FunctionEnv, Memory, Store, TypedFunction, Value};

use crate::artifact::{GlobalValue, GLOBAL_EXPORT_PREFIX};
use crate::invocation::{Invocation, LambdaContext, Outcome};
use crate::limits::Interrupter;
use crate::wasi::{self, Clock, Entropy, WasiState};
use crate::{MemoryImage, RuntimeError};

/// An error object the guest returned (`{"errorType","errorMessage","trace"}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize, thiserror::Error)]
#[error("{error_type}: {error_message}")]
pub struct GuestError {
    /// `error.name`.
    #[serde(rename = "errorType")]
    pub error_type: String,
    /// `error.message`.
    #[serde(rename = "errorMessage")]
    pub error_message: String,
    /// Stack trace lines, `file:line:column` where the engine knows them.
    #[serde(default)]
    pub trace: Vec<String>,
}

/// How an instance sees time and randomness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceOptions {
    /// Clock source.
    pub clock: Clock,
    /// Entropy for WASI `random_get`.
    pub entropy: Entropy,
}

impl InstanceOptions {
    /// Real time and OS entropy: production.
    pub fn live() -> Self {
        InstanceOptions { clock: Clock::System, entropy: Entropy::Os }
    }

    /// A frozen clock and seeded entropy: tests, differential runs and snapshots.
    pub fn deterministic(unix_ms: u64) -> Self {
        InstanceOptions { clock: Clock::Fixed { unix_ms }, entropy: Entropy::Seeded(0) }
    }
}

/// The guest's linear memory and mutable globals at one moment.
#[derive(Debug, Clone)]
pub struct MemorySnapshot {
    /// Memory size in 64 KiB pages.
    pub pages: u64,
    /// The whole linear memory.
    pub memory: Vec<u8>,
    /// Mutable globals by index in the module's global index space.
    pub globals: Vec<(u32, GlobalValue)>,
}

/// A live instance. Reusing it for several invocations keeps the handler's module state, as a
/// warm Lambda container does.
pub struct Instance {
    store: Store,
    env: FunctionEnv<WasiState>,
    instance: wasmer::Instance,
    memory: Memory,
    input_reserve: TypedFunction<u32, u32>,
    output_ptr: TypedFunction<(), u32>,
    output_len: TypedFunction<(), u32>,
    invoke: TypedFunction<(), u32>,
    /// The context the guest holds from the previous invocation, if any.
    last_context: Option<LambdaContext>,
    /// Hash of the engine code (which artifacts this instance can run).
    code_hash: String,
    /// Whether a memory image was written (a blank instance takes exactly one).
    restored: bool,
}

impl Instance {
    /// A fresh instance of the engine code, its memory as the module declares it (one page).
    pub(crate) fn blank(
        engine: &wasmer::Engine,
        module: &wasmer::Module,
        code_hash: &str,
        options: InstanceOptions,
    ) -> Result<Self, RuntimeError> {
        let engine_error = |e: &dyn std::fmt::Display| RuntimeError::Engine(e.to_string());
        let mut store = Store::new(engine.clone());
        let env = FunctionEnv::new(&mut store, WasiState::new(options.clock, options.entropy));
        let imports = wasi::imports(&mut store, &env);
        let instance = wasmer::Instance::new(&mut store, module, &imports).map_err(|e| engine_error(&e))?;
        let memory = instance.exports.get_memory("memory").map_err(|e| engine_error(&e))?.clone();
        env.as_mut(&mut store).memory = Some(memory.clone());
        let typed = |name: &str| instance.exports.get_function(name).map_err(|e| engine_error(&e)).cloned();
        let input_reserve = typed("edgeport_input_reserve")?.typed(&store).map_err(|e| engine_error(&e))?;
        let output_ptr = typed("edgeport_output_ptr")?.typed(&store).map_err(|e| engine_error(&e))?;
        let output_len = typed("edgeport_output_len")?.typed(&store).map_err(|e| engine_error(&e))?;
        let invoke = typed("edgeport_invoke")?.typed(&store).map_err(|e| engine_error(&e))?;
        Ok(Instance {
            store,
            env,
            instance,
            memory,
            input_reserve,
            output_ptr,
            output_len,
            invoke,
            last_context: None,
            code_hash: code_hash.to_string(),
            restored: false,
        })
    }

    /// Grows memory to `pages` and faults every page in, so that restoring an image later
    /// copies bytes instead of taking page faults (see [`crate::Sandbox`]).
    pub(crate) fn prefault(&mut self, pages: u64) -> Result<(), RuntimeError> {
        self.grow_to(pages)?;
        let view = self.memory.view(&self.store);
        // SAFETY: the instance has run no guest code and nothing else borrows its memory.
        let memory = unsafe { view.data_unchecked_mut() };
        advise_huge_pages(memory);
        #[cfg(target_os = "linux")]
        // SAFETY: the range is exactly the instance's accessible linear memory; populating
        // pre-faults its (zero) pages and changes no byte.
        unsafe {
            libc::madvise(memory.as_mut_ptr().cast(), memory.len(), libc::MADV_POPULATE_WRITE);
        }
        #[cfg(not(target_os = "linux"))]
        memory.iter_mut().step_by(4096).for_each(|byte| *byte = 0);
        Ok(())
    }

    fn grow_to(&mut self, pages: u64) -> Result<(), RuntimeError> {
        let current = self.memory.view(&self.store).size().0 as u64;
        if pages > current {
            self.memory
                .grow(&mut self.store, (pages - current) as u32)
                .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        }
        Ok(())
    }

    /// Writes a function's memory image and globals into a blank instance.
    pub(crate) fn restore(&mut self, image: &MemoryImage, artifact: &[u8]) -> Result<(), RuntimeError> {
        let engine_error = |e: &dyn std::fmt::Display| RuntimeError::Engine(e.to_string());
        if self.restored {
            return Err(engine_error(&"an instance can be restored only once"));
        }
        self.restored = true;
        self.grow_to(image.pages)?;
        {
            let view = self.memory.view(&self.store);
            // SAFETY: nothing else touches this memory while the view lives: the instance
            // has run no guest code yet.
            let memory_bytes = unsafe { view.data_unchecked_mut() };
            advise_huge_pages(memory_bytes);
            for (offset, range) in &image.segments {
                let bytes = artifact.get(range.clone()).ok_or_else(|| engine_error(&"segment outside the artifact"))?;
                let start = *offset as usize;
                memory_bytes
                    .get_mut(start..start + bytes.len())
                    .ok_or_else(|| engine_error(&"data segment outside linear memory"))?
                    .copy_from_slice(bytes);
            }
        }
        for (index, value) in &image.globals {
            let global = self
                .instance
                .exports
                .get_global(&format!("{GLOBAL_EXPORT_PREFIX}{index}"))
                .map_err(|e| engine_error(&e))?;
            let value = match value {
                GlobalValue::I32(v) => Value::I32(*v),
                GlobalValue::I64(v) => Value::I64(*v),
            };
            global.set(&mut self.store, value).map_err(|e| engine_error(&e))?;
        }
        Ok(())
    }

    /// A handle that stops this instance's Wasm code from another thread (a
    /// [`crate::limits::Watchdog`] uses it). Once it has fired, the instance's engine state is
    /// undefined and the instance must be dropped.
    pub fn interrupter(&self) -> Interrupter {
        Interrupter { store: self.store.id(), fired: Default::default() }
    }

    /// The size of the instance's linear memory, in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory.view(&self.store).data_size()
    }

    /// Hash of the engine code this instance runs.
    pub(crate) fn code_hash(&self) -> &str {
        &self.code_hash
    }

    /// Initialises a fresh engine: the module's own constructors, then the JavaScript runtime
    /// and prelude. Not needed (and not allowed) on a pre-initialised snapshot.
    pub fn init(&mut self) -> Result<(), RuntimeError> {
        if let Ok(initialize) = self.instance.exports.get_typed_function::<(), ()>(&self.store, "_initialize") {
            initialize.call(&mut self.store).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        }
        self.call("edgeport_init", &[]).map(drop)
    }

    /// Compiles a CommonJS script to engine bytecode. A syntax error comes back as
    /// [`RuntimeError::Guest`] with the engine's `file:line:column`.
    pub fn compile(&mut self, filename: &str, source: &str) -> Result<Vec<u8>, RuntimeError> {
        let mut input = Vec::with_capacity(filename.len() + 1 + source.len());
        input.extend_from_slice(filename.as_bytes());
        input.push(0);
        input.extend_from_slice(source.as_bytes());
        self.call("edgeport_compile", &input)
    }

    /// Runs a compiled module's top-level code and resolves its handler export, after loading
    /// the `builtins` it uses (so that a snapshot taken next contains them).
    pub fn load(&mut self, handler: &str, filename: &str, builtins: &[String], bytecode: &[u8]) -> Result<(), RuntimeError> {
        let preload = builtins.join(",");
        let mut input = Vec::with_capacity(handler.len() + filename.len() + preload.len() + 3 + bytecode.len());
        for part in [handler.as_bytes(), filename.as_bytes(), preload.as_bytes()] {
            input.extend_from_slice(part);
            input.push(0);
        }
        input.extend_from_slice(bytecode);
        self.call("edgeport_load", &input).map(drop)
    }

    /// Limits the wall-clock time of the next `load` or `invoke`; past it the engine stops the
    /// script (an `invoke` then returns [`Outcome::Timeout`]). `invoke` sets it from the
    /// invocation's deadline itself.
    pub fn set_budget(&mut self, budget: std::time::Duration) -> Result<(), RuntimeError> {
        let millis = u32::try_from(budget.as_millis()).unwrap_or(u32::MAX).max(1);
        let set_budget: TypedFunction<u32, ()> = self
            .instance
            .exports
            .get_typed_function(&self.store, "edgeport_set_budget")
            .map_err(|e| RuntimeError::Engine(format!("edgeport_set_budget: {e}")))?;
        set_budget.call(&mut self.store, millis).map_err(|e| RuntimeError::Engine(format!("edgeport_set_budget: {e}")))
    }

    /// Runs the handler on one event, stopping it at the invocation's deadline.
    pub fn invoke(&mut self, invocation: &Invocation<'_>) -> Result<Outcome, RuntimeError> {
        let now = self.env.as_ref(&self.store).clock.now_ms();
        self.set_budget(std::time::Duration::from_millis(invocation.deadline_ms.saturating_sub(now)))?;
        let with_context = !self.last_context.as_ref().is_some_and(|last| last.same_function(invocation.context));
        let invoke = self.invoke.clone();
        let output = self.call_function(&invoke, "edgeport_invoke", invocation.envelope(with_context).as_bytes())?;
        if with_context {
            self.last_context = Some(invocation.context.clone());
        }
        serde_json::from_slice(&output)
            .map_err(|e| RuntimeError::Engine(format!("the engine returned an invalid outcome: {e}")))
    }

    /// Returns and clears what the guest logged (stdout, stderr) since the last call.
    pub fn take_logs(&mut self) -> (Vec<u8>, Vec<u8>) {
        self.env.as_mut(&mut self.store).take_logs()
    }

    /// Copies out linear memory and mutable globals (to build a snapshot).
    pub fn snapshot(&mut self) -> Result<MemorySnapshot, RuntimeError> {
        let view = self.memory.view(&self.store);
        let pages = view.size().0 as u64;
        let mut memory = vec![0u8; view.data_size() as usize];
        view.read(0, &mut memory).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let mut globals = Vec::new();
        for (name, global) in self.instance.exports.iter().globals() {
            let Some(index) = name.strip_prefix(GLOBAL_EXPORT_PREFIX).and_then(|i| i.parse::<u32>().ok()) else {
                continue;
            };
            let value = match global.get(&mut self.store) {
                Value::I32(v) => GlobalValue::I32(v),
                Value::I64(v) => GlobalValue::I64(v),
                other => return Err(RuntimeError::Engine(format!("unsupported global value {other:?}"))),
            };
            globals.push((index, value));
        }
        globals.sort_by_key(|(index, _)| *index);
        Ok(MemorySnapshot { pages, memory, globals })
    }

    /// Writes `input` into the guest, runs `operation`, and returns its output.
    fn call(&mut self, operation: &str, input: &[u8]) -> Result<Vec<u8>, RuntimeError> {
        let function: TypedFunction<(), u32> = self
            .instance
            .exports
            .get_typed_function(&self.store, operation)
            .map_err(|e| RuntimeError::Engine(format!("{operation}: {e}")))?;
        self.call_function(&function, operation, input)
    }

    fn call_function(&mut self, function: &TypedFunction<(), u32>, operation: &str, input: &[u8]) -> Result<Vec<u8>, RuntimeError> {
        let engine_error = |e: &dyn std::fmt::Display| RuntimeError::Engine(format!("{operation}: {e}"));
        let len = u32::try_from(input.len()).map_err(|_| engine_error(&"input larger than 4 GiB"))?;
        let at = self.input_reserve.call(&mut self.store, len).map_err(|e| engine_error(&e))?;
        self.memory.view(&self.store).write(u64::from(at), input).map_err(|e| engine_error(&e))?;
        let status = match function.call(&mut self.store) {
            Ok(status) => status,
            Err(trap) => {
                // A trap is the engine's own failure (a panic, memory exhaustion); what it wrote
                // to stderr first is the useful part of the message.
                let (_, stderr) = self.take_logs();
                let stderr = String::from_utf8_lossy(&stderr);
                return Err(engine_error(&format!("{}{trap}", if stderr.is_empty() { String::new() } else { format!("{}; ", stderr.trim()) })));
            }
        };
        let ptr = self.output_ptr.call(&mut self.store).map_err(|e| engine_error(&e))?;
        let len = self.output_len.call(&mut self.store).map_err(|e| engine_error(&e))?;
        let mut output = vec![0u8; len as usize];
        self.memory.view(&self.store).read(u64::from(ptr), &mut output).map_err(|e| engine_error(&e))?;
        match status {
            0 => Ok(output),
            _ => {
                let error: GuestError = serde_json::from_slice(&output)
                    .map_err(|e| engine_error(&format!("unreadable error from the engine: {e}")))?;
                Err(RuntimeError::Guest(error))
            }
        }
    }
}

/// Asks for transparent huge pages behind a large linear memory: a Python engine's image is
/// some 30 MB, and writing it takes one fault per 2 MiB instead of one per 4 KiB. A hint only:
/// where huge pages are off, nothing changes.
fn advise_huge_pages(memory: &mut [u8]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        let start = memory.as_mut_ptr() as usize;
        let aligned = start.next_multiple_of(HUGE_PAGE);
        let end = (start + memory.len()) & !(HUGE_PAGE - 1);
        if end > aligned {
            // SAFETY: the range lies inside the instance's linear memory; the advice changes
            // how it is backed, never its contents.
            unsafe {
                libc::madvise(aligned as *mut libc::c_void, end - aligned, libc::MADV_HUGEPAGE);
            }
        }
    }
}
