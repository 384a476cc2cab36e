//! The engine on plain wasmer with the runtime's WASI imports, calling its exports directly.
//!
//! Only for what `edgeport_runtime::Instance` does not offer: an invocation without a time
//! budget (`Instance::invoke` always sets one), to measure what the budget tracer costs.

use edgeport_runtime::wasi::{self, Clock, Entropy, WasiState};
use wasmer::{FunctionEnv, Memory, Store, TypedFunction};

/// One engine instance: its store, memory and the exports the measurement uses.
pub struct RawEngine {
    store: Store,
    memory: Memory,
    input_reserve: TypedFunction<u32, u32>,
    output_ptr: TypedFunction<(), u32>,
    output_len: TypedFunction<(), u32>,
    set_budget: TypedFunction<u32, ()>,
    load: TypedFunction<(), u32>,
    invoke: TypedFunction<(), u32>,
}

impl RawEngine {
    /// Compiles `wasm` (the full engine, data segments included), instantiates it with a
    /// frozen clock at `unix_ms` and runs `edgeport_init`.
    pub fn new(wasm: &[u8], unix_ms: u64) -> Result<Self, String> {
        let engine: wasmer::Engine = wasmer::sys::EngineBuilder::new(wasmer::sys::Cranelift::default()).engine().into();
        let mut store = Store::new(engine);
        let module = wasmer::Module::new(&store, wasm).map_err(|e| e.to_string())?;
        let env = FunctionEnv::new(&mut store, WasiState::new(Clock::Fixed { unix_ms }, Entropy::Seeded(0)));
        let imports = wasi::imports(&mut store, &env);
        let instance = wasmer::Instance::new(&mut store, &module, &imports).map_err(|e| e.to_string())?;
        let memory = instance.exports.get_memory("memory").map_err(|e| e.to_string())?.clone();
        env.as_mut(&mut store).memory = Some(memory.clone());
        macro_rules! export {
            ($name:literal) => {
                instance.exports.get_typed_function(&store, $name).map_err(|e| format!("{}: {e}", $name))?
            };
        }
        // A reactor without `_initialize` has its constructors run by the linker's wrappers.
        let initialize: Option<TypedFunction<(), ()>> = instance.exports.get_typed_function(&store, "_initialize").ok();
        let init: TypedFunction<(), u32> = export!("edgeport_init");
        let mut raw = RawEngine {
            memory,
            input_reserve: export!("edgeport_input_reserve"),
            output_ptr: export!("edgeport_output_ptr"),
            output_len: export!("edgeport_output_len"),
            set_budget: export!("edgeport_set_budget"),
            load: export!("edgeport_load"),
            invoke: export!("edgeport_invoke"),
            store,
        };
        if let Some(initialize) = initialize {
            initialize.call(&mut raw.store).map_err(|e| e.to_string())?;
        }
        let status = init.call(&mut raw.store).map_err(|e| e.to_string())?;
        raw.answer(status)?;
        Ok(raw)
    }

    /// `edgeport_load` of `source` as `filename`, looking up `handler`.
    pub fn load(&mut self, handler: &str, filename: &str, source: &str) -> Result<(), String> {
        let input = [handler, filename, "", source].join("\0");
        let load = self.load.clone();
        self.call(&load, input.as_bytes()).map(drop)
    }

    /// `edgeport_invoke` of `envelope`, after `edgeport_set_budget(budget_ms)` if given.
    pub fn invoke(&mut self, envelope: &str, budget_ms: Option<u32>) -> Result<(), String> {
        if let Some(budget_ms) = budget_ms {
            self.set_budget.call(&mut self.store, budget_ms).map_err(|e| e.to_string())?;
        }
        let invoke = self.invoke.clone();
        let outcome = self.call(&invoke, envelope.as_bytes())?;
        if outcome.starts_with(b"{\"kind\":\"result\"") {
            Ok(())
        } else {
            Err(format!("unexpected outcome {}", String::from_utf8_lossy(&outcome)))
        }
    }

    fn call(&mut self, operation: &TypedFunction<(), u32>, input: &[u8]) -> Result<Vec<u8>, String> {
        let len = u32::try_from(input.len()).map_err(|_| "input larger than 4 GiB".to_string())?;
        let at = self.input_reserve.call(&mut self.store, len).map_err(|e| e.to_string())?;
        self.memory.view(&self.store).write(u64::from(at), input).map_err(|e| e.to_string())?;
        let status = operation.call(&mut self.store).map_err(|e| e.to_string())?;
        self.answer(status)
    }

    /// The output of the last operation, or its error JSON as the error.
    fn answer(&mut self, status: u32) -> Result<Vec<u8>, String> {
        let ptr = self.output_ptr.call(&mut self.store).map_err(|e| e.to_string())?;
        let len = self.output_len.call(&mut self.store).map_err(|e| e.to_string())?;
        let mut output = vec![0u8; len as usize];
        self.memory.view(&self.store).read(u64::from(ptr), &mut output).map_err(|e| e.to_string())?;
        match status {
            0 => Ok(output),
            _ => Err(String::from_utf8_lossy(&output).into_owned()),
        }
    }
}
