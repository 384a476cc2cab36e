//! Reference executors: the *original* handler on the real interpreter, in a long-lived worker
//! process that speaks JSON lines (`reference/node/worker.js` describes the protocol;
//! `reference/python/worker.py` speaks it too).
//!
//! The worker scripts are compiled into this crate and written once to a content-addressed
//! directory, so an installed `edgeport` needs nothing but `node` (for JavaScript and TypeScript)
//! and `python3` (for Python) on the PATH. A [`ReferenceWorker`] runs each handler on the
//! interpreter its file's extension names, starting that interpreter's worker when it first
//! needs it.
//!
//! Invariant: a handler can never hang or kill the caller. The worker enforces the task
//! timeout itself; a handler that blocks the event loop past it (a busy loop) is killed from
//! here and the worker restarted, and the event's outcome is the same timeout the runtime
//! reports.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edgeport_runtime::Outcome;
use serde::Deserialize;
use serde_json::{json, Value};

/// The files of the node worker, written side by side; the entry script first.
const NODE_WORKER_FILES: &[(&str, &str)] = &[
    ("worker.js", include_str!("../reference/node/worker.js")),
    ("ric.js", include_str!("../reference/node/ric.js")),
    (
        "determinism.js",
        include_str!("../reference/node/determinism.js"),
    ),
    (
        "engine-crypto.js",
        include_str!("../reference/node/engine-crypto.js"),
    ),
    (
        "engine-errors.js",
        include_str!("../reference/node/engine-errors.js"),
    ),
];

/// The files of the Python worker, written side by side; the entry script first. `prelude.py`
/// is the Python engine's own shim (a symlink in the source tree).
const PYTHON_WORKER_FILES: &[(&str, &str)] = &[
    ("worker.py", include_str!("../reference/python/worker.py")),
    ("ric.py", include_str!("../reference/python/ric.py")),
    ("prelude.py", include_str!("../reference/python/prelude.py")),
];

/// How long past its own deadline a worker may take before it is considered stuck.
const GRACE: Duration = Duration::from_secs(2);

/// How long a worker may take to start.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Kept of a worker's stderr, for error messages.
const STDERR_TAIL: usize = 4096;

/// The interpreter an original handler runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceLanguage {
    /// JavaScript and TypeScript, on node (`$EDGEPORT_NODE`, else `node` on the PATH).
    Node,
    /// Python, on CPython 3.11 or later (`$EDGEPORT_PYTHON`, else `python3` on the PATH).
    Python,
}

impl ReferenceLanguage {
    /// The interpreter for the handler `file`: Python for `.py`, node for anything else.
    pub fn of_file(file: &Path) -> Self {
        match file.extension().and_then(|e| e.to_str()) {
            Some("py") => ReferenceLanguage::Python,
            _ => ReferenceLanguage::Node,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ReferenceLanguage::Node => "node",
            ReferenceLanguage::Python => "python",
        }
    }

    /// The interpreter's name, as reports show it.
    pub fn display_name(self) -> &'static str {
        match self {
            ReferenceLanguage::Node => "node",
            ReferenceLanguage::Python => "python3",
        }
    }

    fn files(self) -> &'static [(&'static str, &'static str)] {
        match self {
            ReferenceLanguage::Node => NODE_WORKER_FILES,
            ReferenceLanguage::Python => PYTHON_WORKER_FILES,
        }
    }

    /// The interpreter to run: `$EDGEPORT_NODE` / `$EDGEPORT_PYTHON`, else the one on the PATH.
    fn program(self) -> String {
        let variable = match self {
            ReferenceLanguage::Node => "EDGEPORT_NODE",
            ReferenceLanguage::Python => "EDGEPORT_PYTHON",
        };
        std::env::var(variable).unwrap_or_else(|_| self.display_name().to_string())
    }

    /// What to do when the interpreter cannot be started.
    fn install_hint(self) -> &'static str {
        match self {
            ReferenceLanguage::Node => "install Node.js 20 or later, or point EDGEPORT_NODE at it",
            ReferenceLanguage::Python => {
                "install Python 3.11 or later, or point EDGEPORT_PYTHON at it"
            }
        }
    }

    /// The command that starts the worker `script`.
    fn command(self, script: &Path, coverage: bool) -> Command {
        let mut command = Command::new(self.program());
        // Lambda's zone and locale, and nothing of this machine's environment.
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TZ", "UTC")
            .env("LANG", "en_US.UTF-8");
        if self == ReferenceLanguage::Python {
            // No bytecode written next to handlers, no user site-packages, unbuffered output,
            // and string hashing (so set iteration order) pinned as in the engine.
            command
                .args(["-B", "-s", "-u"])
                .env("PYTHONHASHSEED", "0")
                .env("PYTHONIOENCODING", "utf-8");
        }
        command.arg(script);
        if coverage {
            command.arg("--coverage");
        }
        command
    }
}

/// Why the reference side could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// The interpreter could not be started.
    #[error("cannot start {program} ({})", language.install_hint())]
    Spawn {
        /// The interpreter it was.
        language: ReferenceLanguage,
        /// The program.
        program: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The worker scripts could not be written.
    #[error("cannot write the reference worker to {path}")]
    Install {
        /// Where.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The worker broke the protocol or died outside a handler's control.
    #[error("the reference worker failed: {0}")]
    Protocol(String),
}

/// One invocation of the original handler.
#[derive(Debug, Clone)]
pub struct ReferenceInvocation<'a> {
    /// The handler file.
    pub file: &'a Path,
    /// The export to call (`handler`, or a dotted path; `lambda_handler` in Python).
    pub export: &'a str,
    /// The event.
    pub event: &'a Value,
    /// The `Math.random` seed (Python: `random.seed`).
    pub seed: u32,
    /// The frozen clock, in Unix milliseconds.
    pub now_ms: u64,
    /// The task timeout.
    pub timeout_ms: u64,
    /// `context.functionName`.
    pub function_name: &'a str,
    /// `context.awsRequestId`.
    pub request_id: &'a str,
}

/// What the original handler did.
#[derive(Debug, Clone)]
pub struct ReferenceRun {
    /// The outcome, in the runtime's shape.
    pub outcome: Outcome,
    /// What it printed.
    pub logs: String,
}

/// Coverage of one script since the previous [`ReferenceWorker::take_coverage`]: V8 block
/// counters for node, the steps between instructions for Python.
#[derive(Debug, Clone, Deserialize)]
pub struct ScriptCoverage {
    /// The script's file.
    pub path: PathBuf,
    /// node: `[start, end, count]`, offsets in UTF-16 code units of the text that ran.
    #[serde(default)]
    pub ranges: Vec<[u64; 3]>,
    /// Python: `(from, to, count)`, `count` times a frame went from the instruction whose source
    /// position is the byte range `from` of the file to the one at `to` (`from` is `None` for
    /// the first instruction a frame ran).
    #[serde(default)]
    pub steps: Vec<(Option<[u64; 2]>, [u64; 2], u64)>,
    /// The text that ran, when it is not the file itself (compiled TypeScript).
    #[serde(default)]
    pub source: Option<String>,
    /// The source map's `mappings` from that text back to the file.
    #[serde(default)]
    pub mappings: Option<String>,
}

/// Options for starting workers.
#[derive(Debug, Clone, Default)]
pub struct WorkerOptions {
    /// Record coverage (V8 block coverage, slightly slower; Python's instruction tracing,
    /// several times slower).
    pub coverage: bool,
    /// Where to install the worker scripts; the system temp directory when `None`.
    pub install_dir: Option<PathBuf>,
}

/// A running worker: one interpreter process per language it has met, started when first
/// needed.
pub struct ReferenceWorker {
    options: WorkerOptions,
    processes: Vec<LanguageProcess>,
    /// Index into `processes` of the one that ran the last invocation.
    current: usize,
    next_id: u64,
}

/// The worker process of one language.
struct LanguageProcess {
    language: ReferenceLanguage,
    script: PathBuf,
    process: WorkerProcess,
}

struct WorkerProcess {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<std::io::Result<String>>,
    stderr: Arc<Mutex<String>>,
    /// How the process ended, once it has.
    exit_status: Option<ExitStatus>,
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ReferenceWorker {
    /// Starts a worker, with `language`'s interpreter running at once (so a missing interpreter
    /// is found before any handler runs); other languages start when a handler needs them.
    pub fn spawn(
        language: ReferenceLanguage,
        options: WorkerOptions,
    ) -> Result<Self, ReferenceError> {
        let mut worker = ReferenceWorker {
            options,
            processes: Vec::new(),
            current: 0,
            next_id: 1,
        };
        worker.current = worker.process_for(language)?;
        Ok(worker)
    }

    /// The index of `language`'s process, started if it was not.
    fn process_for(&mut self, language: ReferenceLanguage) -> Result<usize, ReferenceError> {
        if let Some(index) = self.processes.iter().position(|p| p.language == language) {
            return Ok(index);
        }
        let script = install(language, self.options.install_dir.as_deref())?;
        let process = WorkerProcess::start(language, &script, self.options.coverage)?;
        self.processes.push(LanguageProcess {
            language,
            script,
            process,
        });
        Ok(self.processes.len() - 1)
    }

    /// Runs the original handler on one event. A handler that outlives its timeout by more
    /// than a grace period is killed with its worker, and the outcome is a timeout; a worker
    /// that dies (a handler calling `process.exit` or `os._exit`) is restarted and the event
    /// reported as Lambda reports an exited runtime.
    pub fn invoke(
        &mut self,
        invocation: &ReferenceInvocation<'_>,
    ) -> Result<ReferenceRun, ReferenceError> {
        self.invoke_while(invocation, || ()).0
    }

    /// [`invoke`](Self::invoke), running `work` meanwhile: the handler runs in the worker
    /// process while this thread does something else (runs the converted side).
    pub fn invoke_while<T>(
        &mut self,
        invocation: &ReferenceInvocation<'_>,
        work: impl FnOnce() -> T,
    ) -> (Result<ReferenceRun, ReferenceError>, T) {
        match self.process_for(ReferenceLanguage::of_file(invocation.file)) {
            Ok(index) => self.current = index,
            Err(error) => return (Err(error), work()),
        }
        let request = json!({
            "op": "invoke",
            "file": invocation.file,
            "export": invocation.export,
            "event": invocation.event,
            "seed": invocation.seed,
            "now": invocation.now_ms,
            "timeoutMs": invocation.timeout_ms,
            "functionName": invocation.function_name,
            "requestId": invocation.request_id,
        });
        let wait = Duration::from_millis(invocation.timeout_ms) + GRACE;
        let sent = self.send(request);
        let done = work();
        let answer = sent.and_then(|id| self.receive(id, wait));
        (self.invocation_result(answer, invocation), done)
    }

    fn invocation_result(
        &mut self,
        answer: Result<Value, Failure>,
        invocation: &ReferenceInvocation<'_>,
    ) -> Result<ReferenceRun, ReferenceError> {
        match answer {
            Ok(mut answer) => {
                let outcome = serde_json::from_value(answer["outcome"].take())
                    .map_err(|e| ReferenceError::Protocol(format!("unreadable outcome: {e}")))?;
                let logs = answer["logs"].as_str().unwrap_or_default().to_string();
                Ok(ReferenceRun { outcome, logs })
            }
            Err(Failure::TimedOut) => {
                self.restart()?;
                let reason = format!("task timed out after {} ms", invocation.timeout_ms);
                Ok(ReferenceRun {
                    outcome: Outcome::Timeout { reason },
                    logs: String::new(),
                })
            }
            Err(Failure::Exited(stderr)) => {
                let running = &self.processes[self.current];
                let error_message = match running.language {
                    ReferenceLanguage::Node => "Runtime exited without providing a reason".into(),
                    // What Lambda reports when a Python runtime dies (prelude.py's words for
                    // a SystemExit, with the real status).
                    ReferenceLanguage::Python => format!(
                        "RequestId: {} Error: Runtime exited with error: {}",
                        invocation.request_id,
                        exit_reason(running.process.exit_status)
                    ),
                };
                self.restart()?;
                Ok(ReferenceRun {
                    outcome: Outcome::Error {
                        error_type: "Runtime.ExitError".into(),
                        error_message,
                        trace: Vec::new(),
                    },
                    logs: stderr,
                })
            }
            Err(Failure::Broken(error)) => Err(error),
        }
    }

    /// The coverage gathered since the last call, for scripts under `root`, from the worker
    /// that ran the last invocation; counting starts afresh. Empty when the worker does not
    /// record coverage, or was restarted meanwhile.
    pub fn take_coverage(&mut self, root: &Path) -> Result<Vec<ScriptCoverage>, ReferenceError> {
        if !self.options.coverage {
            return Ok(Vec::new());
        }
        match self.request(json!({"op": "coverage", "root": root}), STARTUP_TIMEOUT) {
            Ok(mut answer) => serde_json::from_value(answer["scripts"].take())
                .map_err(|e| ReferenceError::Protocol(format!("unreadable coverage: {e}"))),
            Err(Failure::Broken(error)) => Err(error),
            Err(Failure::TimedOut | Failure::Exited(_)) => {
                self.restart()?;
                Err(ReferenceError::Protocol(
                    "the worker stopped answering while reporting coverage".into(),
                ))
            }
        }
    }

    fn restart(&mut self) -> Result<(), ReferenceError> {
        let running = &mut self.processes[self.current];
        running.process =
            WorkerProcess::start(running.language, &running.script, self.options.coverage)?;
        Ok(())
    }

    fn process(&mut self) -> &mut WorkerProcess {
        &mut self.processes[self.current].process
    }

    fn request(&mut self, request: Value, wait: Duration) -> Result<Value, Failure> {
        let id = self.send(request)?;
        self.receive(id, wait)
    }

    /// Sends a request; returns its id.
    fn send(&mut self, mut request: Value) -> Result<u64, Failure> {
        let id = self.next_id;
        self.next_id += 1;
        request["id"] = json!(id);
        let line = format!("{request}\n");
        let process = self.process();
        if process
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| process.stdin.flush())
            .is_err()
        {
            return Err(Failure::Exited(process.stderr_tail()));
        }
        Ok(id)
    }

    /// Waits for the answer to request `id`.
    fn receive(&mut self, id: u64, wait: Duration) -> Result<Value, Failure> {
        let answer = self.process().read_line(wait)?;
        if let Some(fatal) = answer.get("fatal").and_then(Value::as_str) {
            return Err(Failure::Broken(ReferenceError::Protocol(fatal.to_string())));
        }
        if answer["id"] != json!(id) {
            return Err(Failure::Broken(ReferenceError::Protocol(format!(
                "answer to request {id} carries id {}",
                answer["id"]
            ))));
        }
        Ok(answer)
    }
}

/// Lambda's wording of how a runtime process ended: `exit status 3`, `signal: 9`.
fn exit_reason(status: Option<ExitStatus>) -> String {
    #[cfg(unix)]
    if let Some(signal) = status.and_then(|s| std::os::unix::process::ExitStatusExt::signal(&s)) {
        return format!("signal: {signal}");
    }
    format!("exit status {}", status.and_then(|s| s.code()).unwrap_or(1))
}

/// Why a request got no answer.
enum Failure {
    /// Nothing came back in time.
    TimedOut,
    /// The worker exited; its last stderr.
    Exited(String),
    /// Anything else.
    Broken(ReferenceError),
}

impl WorkerProcess {
    fn start(
        language: ReferenceLanguage,
        script: &Path,
        coverage: bool,
    ) -> Result<Self, ReferenceError> {
        let mut command = language.command(script, coverage);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let program = language.program();
        let mut child = command.spawn().map_err(|source| ReferenceError::Spawn {
            language,
            program: program.clone(),
            source,
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(ReferenceError::Protocol(
                "the worker's pipes are missing".into(),
            ));
        };

        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let tail = Arc::new(Mutex::new(String::new()));
        let writer = Arc::clone(&tail);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let Ok(mut tail) = writer.lock() else { break };
                tail.push_str(&line);
                tail.push('\n');
                if tail.len() > STDERR_TAIL {
                    let cut = tail.len() - STDERR_TAIL;
                    let cut = (cut..tail.len())
                        .find(|&i| tail.is_char_boundary(i))
                        .unwrap_or(tail.len());
                    tail.drain(..cut);
                }
            }
        });

        let mut process = WorkerProcess {
            child,
            stdin,
            lines,
            stderr: tail,
            exit_status: None,
        };
        match process.read_line(STARTUP_TIMEOUT) {
            Ok(ready) if ready["ready"] == json!(true) => Ok(process),
            Ok(other) => Err(ReferenceError::Protocol(format!(
                "unexpected greeting {other}"
            ))),
            Err(Failure::TimedOut) => Err(ReferenceError::Protocol(format!(
                "{program} did not start within {STARTUP_TIMEOUT:?}"
            ))),
            Err(Failure::Exited(stderr)) => Err(ReferenceError::Protocol(format!(
                "{program} exited at start: {}",
                stderr.trim()
            ))),
            Err(Failure::Broken(error)) => Err(error),
        }
    }

    fn read_line(&mut self, wait: Duration) -> Result<Value, Failure> {
        match self.lines.recv_timeout(wait) {
            Ok(Ok(line)) => serde_json::from_str(&line).map_err(|e| {
                Failure::Broken(ReferenceError::Protocol(format!("not JSON ({e}): {line}")))
            }),
            Ok(Err(error)) => Err(Failure::Broken(ReferenceError::Protocol(format!(
                "reading the worker: {error}"
            )))),
            Err(RecvTimeoutError::Timeout) => Err(Failure::TimedOut),
            Err(RecvTimeoutError::Disconnected) => {
                self.exit_status = self.child.wait().ok();
                // The stderr reader may still be draining the pipe.
                std::thread::sleep(Duration::from_millis(20));
                Err(Failure::Exited(self.stderr_tail()))
            }
        }
    }

    fn stderr_tail(&self) -> String {
        self.stderr
            .lock()
            .map(|tail| tail.clone())
            .unwrap_or_default()
    }
}

/// Writes `language`'s worker scripts to a directory named after their content (once;
/// concurrent writers each build their own temporary copy and rename it into place) and returns
/// the entry script.
fn install(language: ReferenceLanguage, base: Option<&Path>) -> Result<PathBuf, ReferenceError> {
    let base = base.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let files = language.files();
    let mut digest = String::new();
    for (name, text) in files {
        digest.push_str(name);
        digest.push_str(text);
    }
    let hash = edgeport_runtime::artifact::sha256_hex(digest.as_bytes());
    let name = format!("edgeport-reference-{}-{}", language.name(), &hash[..16]);
    let dir = base.join(&name);
    let entry = dir.join(files[0].0);
    if entry.is_file() {
        return Ok(entry);
    }
    let error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReferenceError::Install { path, source }
    };
    std::fs::create_dir_all(&base).map_err(error(&base))?;
    let temp = base.join(format!(".{name}.{}", std::process::id()));
    std::fs::create_dir_all(&temp).map_err(error(&temp))?;
    for (name, text) in files {
        std::fs::write(temp.join(name), text).map_err(error(&temp.join(name)))?;
    }
    if let Err(source) = std::fs::rename(&temp, &dir) {
        let _ = std::fs::remove_dir_all(&temp);
        // Another process won the race; its copy is identical.
        if !entry.is_file() {
            return Err(ReferenceError::Install { path: dir, source });
        }
    }
    Ok(entry)
}
