//! The threads that run Wasm. Invocations block (and a wasmer store stays on the thread that
//! started it), so they run here, never on the async workers: a function stuck until its
//! deadline holds one invocation thread, and the others go on serving.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of invocation threads fed from one queue.
pub struct Invoker {
    jobs: mpsc::Sender<Job>,
}

impl Invoker {
    /// Starts `threads` invocation threads; they end when the invoker is dropped.
    pub fn new(threads: usize) -> Invoker {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("edgeport-invoke-{index}"))
                .spawn(move || loop {
                    let job = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                })
                .expect("spawning an invocation thread");
        }
        Invoker { jobs }
    }

    /// Runs `job` on an invocation thread and waits for its result without blocking the
    /// async worker. `None` when the job panicked.
    pub async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            let _ = done.send(outcome.ok());
        });
        self.jobs.send(job).ok()?;
        result.await.ok().flatten()
    }
}
