//! The threads that run Wasm. Invocations block (and a wasmer store stays on the thread that
//! started it), so they run here, never on the async workers: a function stuck until its
//! deadline holds one invocation thread, and the others go on serving.
//!
//! A job goes to the thread that became idle last: it is the one most likely to hold a warm
//! instance of the same function, so that light traffic reuses one instance per function as a
//! warm Lambda container would, and instances are started only as concurrency grows.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::lock;

/// Runs the work and returns how to hand its result over. The thread makes itself available
/// again before handing over, so that a caller's next job finds it idle (and warm).
type Job = Box<dyn FnOnce() -> Deliver + Send>;
type Deliver = Box<dyn FnOnce() + Send>;

/// A fixed set of invocation threads.
pub struct Invoker {
    dispatch: Arc<Mutex<Dispatch>>,
}

struct Dispatch {
    /// Threads waiting for a job, most recently idle last.
    idle: Vec<usize>,
    /// Each thread's mailbox.
    mailboxes: Vec<mpsc::Sender<Job>>,
    /// Jobs no thread was free for, in arrival order.
    backlog: VecDeque<Job>,
}

impl Invoker {
    /// Starts `threads` invocation threads; they end when the invoker is dropped.
    pub fn new(threads: usize) -> Invoker {
        let dispatch = Arc::new(Mutex::new(Dispatch { idle: Vec::new(), mailboxes: Vec::new(), backlog: VecDeque::new() }));
        for index in 0..threads.max(1) {
            let (mailbox, jobs) = mpsc::channel::<Job>();
            lock(&dispatch).mailboxes.push(mailbox);
            let weak = Arc::downgrade(&dispatch);
            std::thread::Builder::new()
                .name(format!("edgeport-invoke-{index}"))
                .spawn(move || {
                    // Run what arrives; when done, take from the backlog or go idle.
                    while let Ok(mut job) = jobs.recv() {
                        loop {
                            let deliver = job();
                            let Some(dispatch) = weak.upgrade() else { return deliver() };
                            let next = {
                                let mut dispatch = lock(&dispatch);
                                let next = dispatch.backlog.pop_front();
                                if next.is_none() {
                                    dispatch.idle.push(index);
                                }
                                next
                            };
                            deliver();
                            match next {
                                Some(next) => job = next,
                                None => break,
                            }
                        }
                    }
                })
                .expect("spawning an invocation thread");
            lock(&dispatch).idle.push(index);
        }
        Invoker { dispatch }
    }

    /// Runs `job` on an invocation thread and waits for its result without blocking the
    /// async worker.
    pub async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, Refused> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            Box::new(move || {
                let _ = done.send(outcome.ok());
            })
        });
        {
            let mut dispatch = lock(&self.dispatch);
            match dispatch.idle.pop() {
                Some(thread) => dispatch.mailboxes[thread].send(job).map_err(|_| Refused::Panicked)?,
                None if dispatch.backlog.len() >= MAX_BACKLOG => return Err(Refused::Throttled(dispatch.backlog.len())),
                None => dispatch.backlog.push_back(job),
            }
        }
        result.await.ok().flatten().ok_or(Refused::Panicked)
    }
}

/// Invocations waiting for a thread beyond which new ones are refused, as Lambda throttles: a
/// server under more load than it can run answers 503 at once instead of queueing without
/// bound.
pub const MAX_BACKLOG: usize = 1024;

/// Why a job did not run to the end.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Every thread was busy and the backlog full (its length).
    Throttled(usize),
    /// The job panicked.
    Panicked,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread_name() -> Option<String> {
        std::thread::current().name().map(str::to_string)
    }

    #[tokio::test]
    async fn sequential_jobs_stay_on_one_thread_and_concurrent_ones_spread() {
        let invoker = Arc::new(Invoker::new(4));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..20 {
            seen.insert(invoker.run(thread_name).await.ok().flatten());
        }
        assert_eq!(seen.len(), 1, "one idle thread should take every sequential job: {seen:?}");

        let barrier = Arc::new(std::sync::Barrier::new(4));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (invoker, barrier) = (invoker.clone(), barrier.clone());
                tokio::spawn(async move {
                    invoker
                        .run(move || {
                            barrier.wait();
                            thread_name()
                        })
                        .await
                })
            })
            .collect();
        let mut names = std::collections::BTreeSet::new();
        for task in tasks {
            names.insert(task.await.expect("task").ok().flatten());
        }
        assert_eq!(names.len(), 4, "four jobs that wait for each other need four threads: {names:?}");
        assert_eq!(invoker.run(|| panic!("a bug in a job")).await, Err::<(), _>(Refused::Panicked));
        assert_eq!(invoker.run(|| 7).await, Ok(7), "a panic does not take the thread down");
    }

    #[tokio::test]
    async fn a_full_backlog_is_throttled() {
        let invoker = Arc::new(Invoker::new(1));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let released = Arc::new(Mutex::new(released));
        // One job holds the only thread; the backlog then fills up.
        let mut waiting = Vec::new();
        for _ in 0..=MAX_BACKLOG {
            let (invoker, released) = (invoker.clone(), released.clone());
            waiting.push(tokio::spawn(async move {
                invoker
                    .run(move || {
                        let _ = lock(&released).recv();
                    })
                    .await
            }));
        }
        while lock(&invoker.dispatch).backlog.len() < MAX_BACKLOG {
            tokio::task::yield_now().await;
        }
        assert_eq!(invoker.run(|| ()).await, Err(Refused::Throttled(MAX_BACKLOG)));
        for _ in 0..=MAX_BACKLOG {
            release.send(()).expect("a job is waiting");
        }
        for job in waiting {
            assert_eq!(job.await.expect("task"), Ok(()));
        }
    }
}
