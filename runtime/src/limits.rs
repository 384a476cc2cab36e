//! Hard limits the host enforces on a guest, whatever the engine inside does: a memory cap
//! (wasmer tunables) and a wall-clock stop (wasmer's signal-based store interruption, driven
//! by a [`Watchdog`] thread).
//!
//! The engines stop a script at its budget themselves (QuickJS's interrupt handler, Python's
//! `sys.monitoring` check), which ends the invocation with a normal timeout and keeps the
//! instance usable. They cannot stop a long native call or a loop that swallows the stop; the
//! watchdog can, by trapping the Wasm code, which leaves that instance unusable.

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use wasmer::sys::vm::{MemoryError, MemoryStyle, TableStyle, VMMemory, VMMemoryDefinition, VMTable, VMTableDefinition};
use wasmer::sys::{BaseTunables, Tunables};
use wasmer::{MemoryType, Pages, TableType};

/// Bytes in a Wasm page.
const PAGE: u64 = 64 * 1024;

/// Tunables that cap every memory an engine creates at `max_pages`: `memory.grow` past it
/// fails, which the guest's allocator reports as out of memory.
pub(crate) struct MemoryCap {
    base: BaseTunables,
    max_pages: Pages,
}

impl MemoryCap {
    pub(crate) fn new(max_bytes: u64) -> Self {
        let max_pages = Pages(u32::try_from(max_bytes / PAGE).unwrap_or(u32::MAX).max(1));
        MemoryCap { base: BaseTunables::new(), max_pages }
    }

    fn capped(&self, ty: &MemoryType) -> MemoryType {
        let mut ty = *ty;
        ty.maximum = Some(ty.maximum.map_or(self.max_pages, |max| max.min(self.max_pages)));
        ty.minimum = ty.minimum.min(self.max_pages);
        ty
    }
}

impl Tunables for MemoryCap {
    fn memory_style(&self, memory: &MemoryType) -> MemoryStyle {
        // The style is part of the compiled code; it must not depend on the cap, so that one
        // compiled engine serves runtimes with different caps.
        self.base.memory_style(memory)
    }

    fn table_style(&self, table: &TableType) -> TableStyle {
        self.base.table_style(table)
    }

    fn create_host_memory(&self, ty: &MemoryType, style: &MemoryStyle) -> Result<VMMemory, MemoryError> {
        self.base.create_host_memory(&self.capped(ty), style)
    }

    unsafe fn create_vm_memory(
        &self,
        ty: &MemoryType,
        style: &MemoryStyle,
        vm_definition_location: NonNull<VMMemoryDefinition>,
    ) -> Result<VMMemory, MemoryError> {
        // SAFETY: the caller's guarantee for `vm_definition_location` is passed on unchanged.
        unsafe { self.base.create_vm_memory(&self.capped(ty), style, vm_definition_location) }
    }

    fn create_host_table(&self, ty: &TableType, style: &TableStyle) -> Result<VMTable, String> {
        self.base.create_host_table(ty, style)
    }

    unsafe fn create_vm_table(
        &self,
        ty: &TableType,
        style: &TableStyle,
        vm_definition_location: NonNull<VMTableDefinition>,
    ) -> Result<VMTable, String> {
        // SAFETY: as for memories.
        unsafe { self.base.create_vm_table(ty, style, vm_definition_location) }
    }
}

/// Stops one instance's running Wasm code from another thread (see [`crate::Instance::interrupter`]).
#[derive(Debug, Clone)]
pub struct Interrupter {
    pub(crate) store: wasmer::sys::vm::StoreId,
    pub(crate) fired: Arc<AtomicBool>,
}

impl Interrupter {
    /// Traps the instance's Wasm code if it is running now, or as soon as a host call it is in
    /// returns. Returns false when it was not running (it finished first).
    pub fn interrupt(&self) -> bool {
        let sent = wasmer::sys::vm::interrupt_registry::interrupt(self.store).is_ok();
        if sent {
            self.fired.store(true, Ordering::Release);
        }
        sent
    }

    /// Whether an interrupt was sent through this handle (or a clone of it): a failed call is
    /// then the host's stop, and the instance must not be reused.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }
}

/// One thread that interrupts instances still running at their hard deadline.
///
/// [`Watchdog::watch`] registers an instance until the returned guard drops; past the
/// deadline the thread interrupts it, and keeps trying every few milliseconds until the guard
/// is dropped (an interrupt sent while the code is between two Wasm calls is lost).
#[derive(Clone)]
pub struct Watchdog {
    shared: Arc<Shared>,
}

struct Shared {
    watched: Mutex<Watched>,
    wake: Condvar,
}

#[derive(Default)]
struct Watched {
    next_id: u64,
    /// `(deadline, id) -> instance`.
    deadlines: BTreeMap<(Instant, u64), Interrupter>,
}

/// Keeps an instance under watch; dropping it ends the watch.
pub struct WatchGuard {
    shared: Arc<Shared>,
    key: (Instant, u64),
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        let mut watched = self.shared.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        watched.deadlines.remove(&self.key);
    }
}

impl Default for Watchdog {
    fn default() -> Self {
        Self::new()
    }
}

impl Watchdog {
    /// Starts the watchdog thread; it ends when the last clone of the watchdog is dropped.
    pub fn new() -> Self {
        let shared = Arc::new(Shared { watched: Mutex::new(Watched::default()), wake: Condvar::new() });
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("edgeport-watchdog".into())
            .spawn(move || {
                // Only a weak reference between ticks: the last handle dropped ends the thread.
                while let Some(shared) = weak.upgrade() {
                    shared.tick();
                }
            })
            .expect("spawning the watchdog thread");
        Watchdog { shared }
    }

    /// Watches `instance` until the guard drops, interrupting it at `deadline`.
    pub fn watch(&self, instance: &Interrupter, deadline: Instant) -> WatchGuard {
        let mut watched = self.shared.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        watched.next_id += 1;
        let key = (deadline, watched.next_id);
        let earliest = watched.deadlines.keys().next().is_none_or(|first| key < *first);
        watched.deadlines.insert(key, instance.clone());
        drop(watched);
        if earliest {
            self.shared.wake.notify_one();
        }
        WatchGuard { shared: self.shared.clone(), key }
    }
}

/// How often an overdue instance is interrupted again until its guard drops.
const RETRY: std::time::Duration = std::time::Duration::from_millis(5);
/// The longest the thread sleeps without looking whether the watchdog is gone.
const IDLE: std::time::Duration = std::time::Duration::from_millis(250);

impl Shared {
    /// Interrupts what is overdue, then waits for the next deadline or a change.
    fn tick(&self) {
        let watched = self.watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        let mut overdue = false;
        for (_, instance) in watched.deadlines.range(..=(now, u64::MAX)) {
            instance.interrupt();
            overdue = true;
        }
        let wait = match watched.deadlines.keys().next() {
            _ if overdue => RETRY,
            Some((deadline, _)) => deadline.saturating_duration_since(now).min(IDLE),
            None => IDLE,
        };
        drop(self.wake.wait_timeout(watched, wait).unwrap_or_else(|poisoned| poisoned.into_inner()));
    }
}
