//! The converted functions a server runs: found in the served directory, loaded (engine code
//! compiled once), each with a pool of warm instances per memory class, and invoked under
//! the limits of their trigger.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use edgeport_contract::EventType;
use edgeport_runtime::limits::Watchdog;
use edgeport_runtime::{Instance, InstanceOptions, Invocation, LambdaContext, LoadedFunction, Outcome, Runtime, RuntimeError};

use crate::config::{Available, Routing};
use crate::fast_path::FastPath;
use crate::{Limits, ServeError};

/// The artifact and manifest file names `edgeport convert` writes per function.
const ARTIFACT_FILE: &str = "function.wasm";
const MANIFEST_FILE: &str = "manifest.json";

/// A function directory in the served directory.
#[derive(Debug, Clone)]
pub struct FunctionDir {
    /// `metadata.name`.
    pub name: String,
    /// Its directory.
    pub dir: PathBuf,
    /// The triggers it was converted for.
    pub event_types: Vec<EventType>,
    /// The manifest, for the hooks it records.
    pub manifest: serde_json::Value,
}

/// The functions under `dist`: a convert output directory, or one function's directory.
pub fn discover(dist: &Path) -> Result<Vec<FunctionDir>, ServeError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ServeError::Io { path, source }
    };
    let dirs: Vec<PathBuf> = if dist.join(ARTIFACT_FILE).is_file() {
        vec![dist.to_path_buf()]
    } else {
        let mut dirs = Vec::new();
        for entry in std::fs::read_dir(dist).map_err(io(dist))? {
            let path = entry.map_err(io(dist))?.path();
            if path.join(ARTIFACT_FILE).is_file() {
                dirs.push(path);
            }
        }
        dirs.sort();
        dirs
    };
    if dirs.is_empty() {
        return Err(ServeError::NoFunctions(dist.to_path_buf()));
    }
    dirs.into_iter()
        .map(|dir| {
            let manifest_path = dir.join(MANIFEST_FILE);
            let text = std::fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
            let manifest: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| ServeError::Manifest { path: manifest_path.clone(), message: e.to_string() })?;
            let name = manifest.pointer("/metadata/name").and_then(|v| v.as_str());
            let event_types = manifest.pointer("/metadata/eventTypes").and_then(|v| v.as_array());
            let (Some(name), Some(event_types)) = (name, event_types) else {
                return Err(ServeError::Manifest { path: manifest_path, message: "no metadata.name or metadata.eventTypes; convert the function again".into() });
            };
            let event_types = event_types.iter().filter_map(|t| t.as_str()?.parse().ok()).collect();
            Ok(FunctionDir { name: name.to_string(), dir, event_types, manifest })
        })
        .collect()
}

/// Name -> triggers, what a config may attach.
pub fn available(dirs: &[FunctionDir]) -> Available {
    dirs.iter().map(|dir| (dir.name.clone(), dir.event_types.clone())).collect()
}

/// Viewer or origin triggers: they differ in timeout and memory cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// viewer-request, viewer-response.
    Viewer,
    /// origin-request, origin-response.
    Origin,
}

impl Class {
    /// The class of a trigger.
    pub fn of(event_type: EventType) -> Class {
        if event_type.is_viewer() {
            Class::Viewer
        } else {
            Class::Origin
        }
    }
}

/// Warm instances of one function in one memory class.
///
/// A wasmer store cannot move between threads, so instances live where they were started:
/// each invocation thread keeps its warm instance per pool (`IDLE`), and the pool counts them
/// for metrics. A thread runs one invocation at a time, so it never needs more than one.
pub struct Pool {
    id: u64,
    function: LoadedFunction,
    /// Its artifact, for messages.
    artifact: PathBuf,
    isolate: bool,
    idle: AtomicUsize,
    busy: AtomicUsize,
    started: AtomicU64,
}

thread_local! {
    /// This thread's idle instance of each pool, by pool id.
    static IDLE: RefCell<HashMap<u64, Instance>> = RefCell::new(HashMap::new());
    /// The newest generation of functions this thread has run.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

impl Pool {
    fn new(function: LoadedFunction, artifact: PathBuf, isolate: bool) -> Pool {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Pool { id, function, artifact, isolate, idle: AtomicUsize::new(0), busy: AtomicUsize::new(0), started: AtomicU64::new(0) }
    }

    /// Starts an instance on this thread and keeps it warm (see [`Functions::warm`]).
    fn warm(&self) -> Result<(), RuntimeError> {
        let instance = self.start()?;
        if !self.isolate && IDLE.with_borrow_mut(|idle| idle.insert(self.id, instance)).is_none() {
            self.idle.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn start(&self) -> Result<Instance, RuntimeError> {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.function.instantiate(InstanceOptions::live())
    }

    fn take(&self) -> Result<Instance, RuntimeError> {
        self.busy.fetch_add(1, Ordering::Relaxed);
        let idle = if self.isolate { None } else { IDLE.with_borrow_mut(|idle| idle.remove(&self.id)) };
        match idle {
            Some(instance) => {
                self.idle.fetch_sub(1, Ordering::Relaxed);
                Ok(instance)
            }
            None => self.start().inspect_err(|_| {
                self.busy.fetch_sub(1, Ordering::Relaxed);
            }),
        }
    }

    fn give_back(&self, instance: Option<Instance>) {
        self.busy.fetch_sub(1, Ordering::Relaxed);
        let Some(instance) = instance.filter(|_| !self.isolate) else { return };
        if IDLE.with_borrow_mut(|idle| idle.insert(self.id, instance)).is_none() {
            self.idle.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(idle, busy, started)`.
    pub fn state(&self) -> (usize, usize, u64) {
        (self.idle.load(Ordering::Relaxed), self.busy.load(Ordering::Relaxed), self.started.load(Ordering::Relaxed))
    }
}

/// Called before an invocation: the first time this thread runs a newer generation of
/// functions (a reload), it drops its idle instances of the older ones. Returns whether
/// `functions` is older than what the thread has seen (its instances are then not kept).
fn enter_generation(functions: &Functions) -> bool {
    let seen = GENERATION.get();
    if functions.generation > seen {
        GENERATION.set(functions.generation);
        IDLE.with_borrow_mut(|idle| {
            idle.retain(|id, _| functions.functions.values().any(|function| function.pools.values().any(|pool| pool.id == *id)));
        });
    }
    functions.generation < seen
}

/// A function ready to serve.
pub struct Function {
    /// Its name.
    pub name: String,
    pools: BTreeMap<Class, Pool>,
    /// Its proven hook rules, when the fast path is on and it has some.
    pub fast_path: Option<FastPath>,
}

impl Function {
    /// Its pools, one per class it runs in (for metrics).
    pub fn pools(&self) -> impl Iterator<Item = &Pool> {
        self.pools.values()
    }
}

/// Why an invocation produced no outcome of the handler's own.
#[derive(Debug, Clone, PartialEq)]
pub enum Stopped {
    /// The host stopped it at its hard deadline.
    Timeout(String),
    /// It used all the memory it may have.
    Memory(String),
    /// The engine trapped (stack overflow, an engine bug) or would not start.
    Trap(String),
    /// No invocation thread was free and too many invocations were waiting.
    Throttled(String),
}

/// What one invocation came to.
pub struct Invoked {
    /// The handler's outcome, or why there is none.
    pub outcome: Result<Outcome, Stopped>,
    /// How long it took, instance included.
    pub elapsed: Duration,
}

/// Every function the routing attaches, loaded.
pub struct Functions {
    /// Increases with every load (reloads), so threads can drop older instances.
    generation: u64,
    functions: BTreeMap<String, Arc<Function>>,
    limits: Limits,
    watchdog: Watchdog,
}

impl Functions {
    /// Loads the functions `routing` attaches, each into the runtime of every class it runs in.
    pub fn load(dirs: &[FunctionDir], routing: &Routing, runtimes: &Runtimes, limits: &Limits, fast_path: bool) -> Result<Functions, ServeError> {
        let mut classes: BTreeMap<&str, Vec<(Class, EventType)>> = BTreeMap::new();
        for behavior in &routing.behaviors {
            for (event_type, name) in &behavior.functions {
                classes.entry(name.as_str()).or_default().push((Class::of(*event_type), *event_type));
            }
        }
        let mut functions = BTreeMap::new();
        for dir in dirs {
            let Some(attached) = classes.get(dir.name.as_str()) else { continue };
            let artifact = dir.dir.join(ARTIFACT_FILE);
            let load_error = |e: RuntimeError| ServeError::Load { path: artifact.clone(), message: e.to_string() };
            let mut pools = BTreeMap::new();
            for (class, _) in attached {
                if pools.contains_key(class) {
                    continue;
                }
                let loaded = runtimes.get(*class).load(&artifact).map_err(load_error)?;
                pools.insert(*class, Pool::new(loaded, artifact.clone(), limits.isolate));
            }
            let fast_path = if fast_path { FastPath::from_manifest(&dir.manifest, attached)? } else { None };
            functions.insert(dir.name.clone(), Arc::new(Function { name: dir.name.clone(), pools, fast_path }));
        }
        static GENERATIONS: AtomicU64 = AtomicU64::new(1);
        let generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
        Ok(Functions { generation, functions, limits: limits.clone(), watchdog: Watchdog::new() })
    }

    /// Starts one instance of every function on the calling invocation thread and keeps it
    /// warm there: a function that cannot start fails before the server listens (or the reload
    /// is refused), and the first request finds a warm instance, since it goes to the thread
    /// that was idle last — this one.
    pub fn warm(&self) -> Result<(), ServeError> {
        enter_generation(self);
        for function in self.functions.values() {
            for pool in function.pools.values() {
                pool.warm().map_err(|e| ServeError::Load { path: pool.artifact.clone(), message: e.to_string() })?;
            }
        }
        Ok(())
    }

    /// A loaded function.
    pub fn get(&self, name: &str) -> Option<&Arc<Function>> {
        self.functions.get(name)
    }

    /// Every loaded function.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Function>> {
        self.functions.values()
    }

    /// The timeout of a trigger.
    pub fn timeout(&self, event_type: EventType) -> Duration {
        match Class::of(event_type) {
            Class::Viewer => self.limits.viewer_timeout,
            Class::Origin => self.limits.origin_timeout,
        }
    }

    /// Runs `function` on one event, on an invocation thread (it blocks). An instance that
    /// failed is dropped, never pooled.
    pub fn invoke(&self, function: &Function, event_type: EventType, event_json: &str, request_id: &str) -> Invoked {
        let started = Instant::now();
        let class = Class::of(event_type);
        let Some(pool) = function.pools.get(&class) else {
            return Invoked { outcome: Err(Stopped::Trap(format!("{} is not loaded for {event_type}", function.name))), elapsed: started.elapsed() };
        };
        let stale = enter_generation(self);
        let mut instance = match pool.take() {
            Ok(instance) => instance,
            Err(error) => return Invoked { outcome: Err(Stopped::Trap(format!("the instance did not start: {error}"))), elapsed: started.elapsed() },
        };
        let timeout = self.timeout(event_type);
        let context = LambdaContext::for_function(&function.name, request_id);
        let now_ms = edgeport_runtime::wasi::Clock::System.now_ms();
        let invocation = Invocation { event_json, context: &context, seed: random_u32(), deadline_ms: now_ms + timeout.as_millis() as u64 };
        let interrupter = instance.interrupter();
        let result = {
            // The engine stops the script at the deadline; the watchdog, a little later, stops
            // what the engine cannot.
            let _watch = self.watchdog.watch(&interrupter, started + timeout + hard_stop_grace(timeout));
            instance.invoke(&invocation)
        };
        relay_logs(&function.name, request_id, instance.take_logs());
        let memory_full = instance.memory_bytes() + MEMORY_HEADROOM >= self.memory_limit(class);
        let (outcome, keep) = match result {
            Ok(Outcome::Error { error_type, error_message, .. }) if memory_full && error_message.contains("out of memory") => (
                Err(Stopped::Memory(format!("{error_type}: {error_message} (the {} MB memory limit)", self.memory_limit(class) >> 20))),
                false,
            ),
            Ok(outcome) => {
                let keep = !matches!(outcome, Outcome::Timeout { .. });
                (Ok(outcome), keep)
            }
            Err(_) if interrupter.fired() => (
                Err(Stopped::Timeout(format!("the function ran past its {} ms timeout and was stopped", timeout.as_millis()))),
                false,
            ),
            Err(error) if memory_full => (
                Err(Stopped::Memory(format!("the function used its {} MB of memory: {error}", self.memory_limit(class) >> 20))),
                false,
            ),
            Err(error) => (Err(Stopped::Trap(error.to_string())), false),
        };
        pool.give_back((keep && !stale).then_some(instance));
        Invoked { outcome, elapsed: started.elapsed() }
    }

    fn memory_limit(&self, class: Class) -> u64 {
        match class {
            Class::Viewer => self.limits.viewer_memory,
            Class::Origin => self.limits.origin_memory,
        }
    }
}

/// What the function printed goes to serve's stderr, a line at a time, tagged with the
/// function and the request id as Lambda's log lines are (`console.log`, `print`).
fn relay_logs(function: &str, request_id: &str, (stdout, stderr): (Vec<u8>, Vec<u8>)) {
    if stdout.is_empty() && stderr.is_empty() {
        return;
    }
    let mut sink = std::io::stderr().lock();
    for line in [stdout, stderr].iter().flat_map(|output| output.split(|&byte| byte == b'\n')).filter(|line| !line.is_empty()) {
        let _ = writeln!(sink, "{function} {request_id} {}", String::from_utf8_lossy(line));
    }
}

/// How close to its cap an instance's memory must be for a failure to count as the memory
/// limit (the allocator's last request may have been refused well before the exact cap).
const MEMORY_HEADROOM: u64 = 4 << 20;

/// How long after the deadline the watchdog interrupts: the engine's own stop comes first
/// and keeps the instance usable.
fn hard_stop_grace(timeout: Duration) -> Duration {
    (timeout / 10).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

/// One runtime per memory class (a memory cap belongs to a wasmer engine).
pub struct Runtimes {
    viewer: Runtime,
    origin: Runtime,
}

impl Runtimes {
    /// Runtimes with the limits' memory caps, sharing the on-disk cache of compiled code.
    pub fn new(cache_dir: Option<PathBuf>, limits: &Limits) -> Runtimes {
        let runtime = |memory: u64| {
            Runtime::new(edgeport_runtime::RuntimeOptions { cache_dir: cache_dir.clone(), memory_limit: Some(memory) })
        };
        Runtimes { viewer: runtime(limits.viewer_memory), origin: runtime(limits.origin_memory) }
    }

    fn get(&self, class: Class) -> &Runtime {
        match class {
            Class::Viewer => &self.viewer,
            Class::Origin => &self.origin,
        }
    }
}

/// A random `u32` (Math.random seeds, request ids): xorshift64* per thread, seeded from the
/// OS once, so that a request costs no system call for them.
pub fn random_u32() -> u32 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut seed = [0u8; 8];
            if getrandom::fill(&mut seed).is_err() {
                seed = edgeport_runtime::wasi::Clock::System.now_ns().to_le_bytes();
            }
            u64::from_le_bytes(seed) | 1
        });
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    })
}
