//! Benchmark: `edgeport serve` against the original handler on node behind node's own http
//! server (`server/bench/node-cloudfront.js`, the same event mapping), in one run, on loopback.
//!
//! `cargo bench -p edgeport-server --bench serve [-- [--duration SECS] [--connections N] [CASE...]]`
//! converts a few viewer-request functions of the corpus, starts a real origin (a small HTTP/1.1
//! server on threads in this process) and, case by case, serve and node in front of it. For each
//! server it measures the start-up (process start to the `listening on` line) and the first
//! request after that (a fresh connection, separately), checks that both answer a few requests
//! alike (status, `location` and body; the origin echoes what it was sent, so the bodies also
//! compare what each server forwarded), then loads it with wrk for a fixed time with the same
//! settings, one server after the other, and prints one Markdown table with the two side by side.
//! When serve's fast path (a proven hook rule) answers the load request, serve is also measured
//! with `--no-fast-path`. serve runs with its access log off, since node's server writes none.
//!
//! wrk (Debian's package, installed by scripts/prerequisites) reports p50 and p99 from a Lua
//! `done` hook; its latencies are not corrected for coordinated omission. wrk, the servers and
//! the origin share the machine's CPUs, so absolute numbers say more about the ratio than about
//! either server alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const DEFAULT_DURATION: Duration = Duration::from_secs(10);
const DEFAULT_CONNECTIONS: usize = 32;
/// Load before each measured run, not reported: fills serve's instance pool and lets V8 optimise
/// the handler, so the run measures warm servers.
const WARM_UP: Duration = Duration::from_secs(2);
/// A server that has not printed its `listening on` line by then has failed to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a single probe request may take before the bench gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The Host the probes send, so that both servers forward the same one.
const PROBE_HOST: &str = "d111111abcdef8.cloudfront.net";

/// One request: what wrk sends under load, and what the probes send to both servers.
struct Probe {
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
}

/// A corpus function and the request it is loaded with.
struct Scenario {
    case: &'static str,
    /// What the load request exercises, for the legend under the table.
    what: &'static str,
    /// The load request; also the first request and the first probe.
    load: Probe,
    /// More requests both servers must answer alike (other rules, misses).
    probes: &'static [Probe],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        case: "static-redirect",
        what: "a 301 the function generates",
        load: Probe { path: "/about-us?utm_source=bench", headers: &[] },
        probes: &[
            Probe { path: "/Pricing.html", headers: &[] },
            Probe { path: "/careers/index.html", headers: &[] },
            Probe { path: "/products/item-1?ref=home", headers: &[] },
        ],
    },
    Scenario {
        case: "cookie-ab-test",
        what: "an A/B rewrite pinned by a cookie, forwarded to the origin",
        load: Probe { path: "/", headers: &[("Cookie", "session=abc123; X-Experiment-Name=B")] },
        probes: &[
            Probe { path: "/index.html", headers: &[("Cookie", "X-Experiment-Name=A")] },
            Probe { path: "/", headers: &[("Cookie", "theme=dark"), ("Cookie", "X-Experiment-Name=A")] },
            Probe { path: "/products/item-1", headers: &[("Cookie", "X-Experiment-Name=A")] },
        ],
    },
    Scenario {
        case: "mixed-style",
        what: "a header added by the function, forwarded to the origin",
        load: Probe { path: "/products/item-1", headers: &[] },
        probes: &[
            Probe { path: "/legacy", headers: &[] },
            Probe { path: "/twice", headers: &[] },
            Probe { path: "/late-callback", headers: &[] },
            Probe { path: "/mutate-after-callback", headers: &[] },
        ],
    },
    Scenario {
        case: "query-normalize",
        what: "the query string rewritten by the function (node's querystring), forwarded to the origin",
        load: Probe { path: "/search?utm_source=news&B=2&a=1&q=caf%C3%A9", headers: &[] },
        probes: &[
            Probe { path: "/search", headers: &[] },
            Probe { path: "/search?a=1&A=2&fbclid=x", headers: &[] },
            Probe { path: "/search?x=%zz&y=1", headers: &[] },
        ],
    },
    Scenario {
        case: "generated-html",
        what: "a 420-byte HTML page generated by the function",
        load: Probe { path: "/shop/item-42", headers: &[] },
        probes: &[
            Probe { path: "/robots.txt", headers: &[] },
            Probe { path: "/%3Cscript%3Ealert(1)%3C%2Fscript%3E", headers: &[] },
        ],
    },
];

/// What the command line asks for.
struct Options {
    duration: Duration,
    connections: usize,
    cases: Vec<String>,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}\nusage: cargo bench -p edgeport-server --bench serve -- [--duration SECS] [--connections N] [CASE...]");
            return ExitCode::from(2);
        }
    };
    // Every child process is owned by a guard inside `run`, so they are all gone by the time it
    // returns, whatever it returns.
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options { duration: DEFAULT_DURATION, connections: DEFAULT_CONNECTIONS, cases: Vec::new() };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            // cargo passes `--bench` to every bench binary.
            "--bench" => {}
            "--duration" => {
                let text = value("--duration")?;
                // wrk takes whole seconds.
                let seconds = text.trim_end_matches('s').parse().ok().filter(|s| *s >= 1);
                options.duration = Duration::from_secs(seconds.ok_or_else(|| format!("--duration needs whole seconds, at least 1, not '{text}'"))?);
            }
            "--connections" => {
                let text = value("--connections")?;
                options.connections = text.parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("--connections needs a positive number, not '{text}'"))?;
            }
            _ if flag.starts_with('-') => return Err(format!("unknown option '{arg}'")),
            _ => options.cases.push(arg),
        }
    }
    let known: Vec<&str> = SCENARIOS.iter().map(|s| s.case).collect();
    if let Some(unknown) = options.cases.iter().find(|c| !known.contains(&c.as_str())) {
        return Err(format!("no case '{unknown}' in this benchmark; it has {}", known.join(", ")));
    }
    Ok(options)
}

fn run(options: &Options) -> Result<(), String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = workspace.canonicalize().map_err(|e| format!("cannot find the workspace at {}: {e}", workspace.display()))?;
    let edgeport = release_binary(&workspace)?;
    let wrk_version = tool_version("wrk", &["--version"])
        .ok_or("wrk is not installed: run scripts/prerequisites (or `apt-get install wrk`) and try again")?;
    let node_version = tool_version("node", &["--version"]).ok_or("node is not installed: install Node.js 20 and try again")?;
    let help = Command::new(&edgeport).args(["serve", "--help"]).output().map_err(|e| format!("cannot run {}: {e}", edgeport.display()))?;
    if !help.status.success() {
        return Err(format!("{} has no `serve` subcommand yet: build it and try again", edgeport.display()));
    }
    let has_fast_path_switch = String::from_utf8_lossy(&help.stdout).contains("--no-fast-path");

    let scenarios: Vec<&Scenario> =
        SCENARIOS.iter().filter(|s| options.cases.is_empty() || options.cases.iter().any(|c| c == s.case)).collect();
    let work = WorkDir::create()?;
    let sources = work.0.join("corpus");
    let dist = convert(&edgeport, &workspace, &scenarios, &sources)?;
    let origin = start_origin()?;
    let node_server = workspace.join("server/bench/node-cloudfront.js");
    let lua = work.0.join("report.lua");
    fs::write(&lua, WRK_REPORT).map_err(|e| format!("cannot write {}: {e}", lua.display()))?;
    let wrk = Wrk { script: lua, duration: options.duration, connections: options.connections, threads: options.connections.min(cpu_count()) };

    let bench = Bench { edgeport, node_server, sources, dist, origin, work: work.0.clone(), wrk, has_fast_path_switch };
    let mut results = Results::default();
    for scenario in &scenarios {
        bench.measure(scenario, &mut results)?;
    }
    let Results { rows, differences, fast_path } = results;
    let wrk = bench.wrk;

    println!(
        "edgeport serve (access log off) vs node (server/bench/node-cloudfront.js) on loopback: {} CPUs{}, wrk {} ({} threads, {} connections, {:?} per run after {:?} of warm-up), node {}\n",
        cpu_count(),
        cpu_model().map(|m| format!(" ({m})")).unwrap_or_default(),
        wrk_version,
        wrk.threads,
        wrk.connections,
        wrk.duration,
        WARM_UP,
        node_version,
    );
    print!("{}", table(&rows, &differences));
    println!();
    for scenario in &scenarios {
        let headers: String = scenario.load.headers.iter().map(|(name, value)| format!(" with `{name}: {value}`")).collect();
        let answered = if fast_path.contains(&scenario.case) { "; serve's fast path answers it (a proven hook rule)" } else { "" };
        println!("- {}: `GET {}`{headers}: {}{answered}", scenario.case, scenario.load.path, scenario.what);
    }
    println!("\nfirst request: a fresh connection right after start-up; start-up: process start to its `listening on` line");
    if !differences.is_empty() {
        println!("\nWARNING: serve and node answered differently, so their numbers do not compare like for like:");
        for (case, server, difference) in &differences {
            println!("- {case}, {server}: {difference}");
        }
    }
    Ok(())
}

/// What every scenario runs with.
struct Bench {
    edgeport: PathBuf,
    node_server: PathBuf,
    /// The cases' copies `edgeport convert` read; node runs the handlers from there.
    sources: PathBuf,
    /// `edgeport convert`'s output, one directory per case.
    dist: PathBuf,
    /// The origin's `host:port`.
    origin: String,
    /// Where the servers' logs go.
    work: PathBuf,
    wrk: Wrk,
    has_fast_path_switch: bool,
}

/// What the scenarios measured, in the table's order.
#[derive(Default)]
struct Results {
    rows: Vec<Row>,
    /// (case, server, what differed from node's answer).
    differences: Vec<(&'static str, &'static str, String)>,
    /// The cases whose load request serve's fast path answered.
    fast_path: Vec<&'static str>,
}

impl Bench {
    /// Starts serve and node for `scenario` (and serve without the fast path when a proven rule
    /// answers the load request), times their start-up and first request, compares their answers
    /// to the probes, then loads each in turn.
    fn measure(&self, scenario: &Scenario, results: &mut Results) -> Result<(), String> {
        let mut started = Vec::new();
        let serve = self.start("serve", scenario, self.serve_command(scenario, true))?;
        let fast_path = serve.0.fast_path_answers()? > 0.0;
        started.push(serve);
        if fast_path {
            results.fast_path.push(scenario.case);
            if self.has_fast_path_switch {
                started.push(self.start("serve --no-fast-path", scenario, self.serve_command(scenario, false))?);
            }
        }
        started.push(self.start("node", scenario, self.node_command(scenario)?)?);

        // The probes: every server must answer each request as node does.
        let probes: Vec<&Probe> = std::iter::once(&scenario.load).chain(scenario.probes).collect();
        let (node, _) = started.last().expect("node is always started");
        let expected: Vec<Response> = probes.iter().map(|probe| node.fetch(probe).map(|(response, _)| response)).collect::<Result<_, _>>()?;
        for (server, _) in &started[..started.len() - 1] {
            for (probe, wanted) in probes.iter().zip(&expected) {
                if let Some(difference) = server.fetch(probe)?.0.difference(wanted) {
                    results.differences.push((scenario.case, server.label, format!("GET {}: {difference}", probe.path)));
                }
            }
        }

        for (server, first_request) in &started {
            eprintln!("{}: loading {} for {:?}", scenario.case, server.label, self.wrk.duration);
            self.wrk.run(&server.address, &scenario.load, WARM_UP).map_err(|e| server.failed(&e))?;
            let load = self.wrk.run(&server.address, &scenario.load, self.wrk.duration).map_err(|e| server.failed(&e))?;
            results.rows.push(Row { case: scenario.case, server: server.label, load, first_request: *first_request, start_up: server.start_up });
        }
        Ok(())
    }

    /// Starts a server and sends it the load request once, timing it.
    fn start(&self, label: &'static str, scenario: &Scenario, command: Command) -> Result<(Server, Duration), String> {
        let log = self.work.join(format!("{}-{}.log", scenario.case, label.replace(' ', "")));
        let server = Server::start(label, command, &log)?;
        let (_, first_request) = server.fetch(&scenario.load)?;
        Ok((server, first_request))
    }

    fn serve_command(&self, scenario: &Scenario, fast_path: bool) -> Command {
        let mut command = Command::new(&self.edgeport);
        command.arg("serve").arg(self.dist.join(scenario.case)).args(["--origin", &format!("http://{}", self.origin)]);
        command.args(["--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]);
        // node-cloudfront.js writes no access log; serve's, a JSON line per request, is left out
        // too, so that the two compare like for like.
        command.args(["--access-log", "/dev/null"]);
        if !fast_path {
            command.arg("--no-fast-path");
        }
        command
    }

    fn node_command(&self, scenario: &Scenario) -> Result<Command, String> {
        let case_dir = self.sources.join(scenario.case);
        let mut command = Command::new("node");
        command.arg(&self.node_server).arg("--handler").arg(handler_file(&case_dir)?).args(["--export", &export_name(&case_dir)?]);
        command.args(["--origin", &format!("http://{}", self.origin), "--listen", "127.0.0.1:0"]);
        Ok(command)
    }
}

/// The release `edgeport` binary, built (or brought up to date) first.
fn release_binary(workspace: &Path) -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), |dir| workspace.join(dir));
    let binary = target.join("release/edgeport");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building the release edgeport binary (cargo build --release -p edgeport-cli)");
    let built = Command::new(cargo).args(["build", "--release", "--quiet", "-p", "edgeport-cli"]).current_dir(workspace).status();
    match built {
        Ok(status) if status.success() => Ok(binary),
        _ if binary.exists() => {
            eprintln!("warning: the build failed; benchmarking the existing {}, which may be out of date", binary.display());
            Ok(binary)
        }
        _ => Err(format!("there is no {} and `cargo build --release -p edgeport-cli` failed: fix the build and try again", binary.display())),
    }
}

/// `edgeport convert` of the scenarios' cases (copied alone into `sources`, so nothing else is
/// converted), with hooks; returns the output directory beside `sources`. Every case is converted for
/// viewer-request alone, as its case.json deploys it and as node-cloudfront.js runs it: left to
/// infer the trigger from the code, the converter would also attach a request handler to
/// origin-request, and serve would run it twice on every forwarded request.
fn convert(edgeport: &Path, workspace: &Path, scenarios: &[&Scenario], sources: &Path) -> Result<PathBuf, String> {
    for scenario in scenarios {
        copy_dir(&workspace.join("corpus").join(scenario.case), &sources.join(scenario.case))
            .map_err(|e| format!("cannot copy corpus/{}: {e}", scenario.case))?;
    }
    let dist = sources.with_file_name("dist");
    eprintln!("converting {} functions (edgeport convert, with hooks)", scenarios.len());
    let output = Command::new(edgeport)
        .arg("convert")
        .arg(sources)
        .arg("--out")
        .arg(&dist)
        .args(["--event-type", "viewer-request"])
        .output().map_err(|e| format!("cannot run edgeport convert: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "edgeport convert failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(dist)
}

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()))?;
        } else {
            fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// The case's original handler file (corpus/README.md: exactly one).
fn handler_file(case_dir: &Path) -> Result<PathBuf, String> {
    ["index.js", "index.mjs", "index.cjs", "index.ts"]
        .iter()
        .map(|name| case_dir.join(name))
        .find(|path| path.exists())
        .ok_or_else(|| format!("{} has no JavaScript handler (index.js, .mjs, .cjs or .ts)", case_dir.display()))
}

/// The `export` of the case's case.json, `handler` when it names none. std has no JSON parser;
/// case.json is flat enough to find the one string field.
fn export_name(case_dir: &Path) -> Result<String, String> {
    let path = case_dir.join("case.json");
    let text = fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let Some(after_key) = text.split_once("\"export\"").map(|(_, rest)| rest) else {
        return Ok("handler".to_string());
    };
    let value = after_key.trim_start().strip_prefix(':').map(str::trim_start).and_then(|v| v.strip_prefix('"')).and_then(|v| v.split_once('"'));
    value.map(|(name, _)| name.to_string()).ok_or_else(|| format!("{}: `export` is not a string", path.display()))
}

fn tool_version(tool: &str, args: &[&str]) -> Option<String> {
    // wrk prints its version and exits 1: take the first line either way.
    let output = Command::new(tool).args(args).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    let line = text.lines().next()?.trim();
    let version = line.strip_prefix(tool).map_or(line, str::trim);
    Some(version.split(" Copyright").next().unwrap_or(version).to_string())
}

fn cpu_count() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> Option<String> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = cpuinfo.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

/// A temporary directory, removed on drop.
struct WorkDir(PathBuf);

impl WorkDir {
    fn create() -> Result<WorkDir, String> {
        let path = std::env::temp_dir().join(format!("edgeport-bench-serve-{}", std::process::id()));
        fs::create_dir_all(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(WorkDir(path))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// --- The servers ----------------------------------------------------------------------------

/// A running server process, killed on drop.
struct Server {
    label: &'static str,
    child: Child,
    /// `host:port` from its `listening on http://…` line.
    address: String,
    start_up: Duration,
    /// Its stderr (warnings, the handler's console).
    log: PathBuf,
    /// The lines it printed on stdout after the `listening on` line.
    stdout: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `command` and waits for its `listening on http://ADDR` line on stdout.
    fn start(label: &'static str, mut command: Command, log: &Path) -> Result<Server, String> {
        let stderr = fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let started = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {label} ({:?}): {e}", command.get_program()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = mpsc::channel();
        // The reader drains stdout for as long as the server runs, so it never blocks on it.
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server =
            Server { label, child, address: String::new(), start_up: Duration::ZERO, log: log.to_path_buf(), stdout: receiver };
        let deadline = started + START_TIMEOUT;
        match server.line_starting("listening on http://", deadline) {
            Ok(address) => {
                server.start_up = started.elapsed();
                server.address = address.trim_end_matches('/').to_string();
                Ok(server)
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(server.failed(&format!("did not print `listening on http://…` within {START_TIMEOUT:?}"))),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = server.child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(server.failed(&format!("exited ({status}) before listening")))
            }
        }
    }

    /// The rest of the first line on stdout that starts with `prefix`, waiting until `deadline`.
    fn line_starting(&self, prefix: &str, deadline: Instant) -> Result<String, mpsc::RecvTimeoutError> {
        loop {
            let line = self.stdout.recv_timeout(deadline.saturating_duration_since(Instant::now()))?;
            if let Some(rest) = line.strip_prefix(prefix) {
                return Ok(rest.to_string());
            }
        }
    }

    /// Sends `probe` on a fresh connection.
    fn fetch(&self, probe: &Probe) -> Result<(Response, Duration), String> {
        fetch(&self.address, probe).map_err(|e| self.failed(&format!("did not answer GET {}: {e}", probe.path)))
    }

    /// How many requests serve's fast path has answered, from its `/metrics` (the address of its
    /// `metrics on` line).
    fn fast_path_answers(&self) -> Result<f64, String> {
        let address = self
            .line_starting("metrics on http://", Instant::now() + Duration::from_secs(5))
            .map_err(|_| self.failed("printed no `metrics on http://…` line"))?;
        let address = address.trim_end_matches("/metrics");
        let (metrics, _) = fetch(address, &Probe { path: "/metrics", headers: &[] }).map_err(|e| self.failed(&format!("did not answer GET /metrics: {e}")))?;
        let text = String::from_utf8_lossy(&metrics.body);
        let samples = text.lines().filter(|line| line.starts_with("edgeport_fast_path_total"));
        Ok(samples.filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok()).sum())
    }

    /// An error message naming the server, with the end of its log.
    fn failed(&self, what: &str) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("{} {what}; the end of its stderr:\n{tail}", self.label)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- The origin -----------------------------------------------------------------------------

/// Headers the echo leaves out: each server's own per-hop and per-request values.
const NOT_ECHOED: &[&str] = &["via", "x-forwarded-for", "x-amz-cf-id", "connection", "keep-alive", "content-length", "transfer-encoding", "te"];

/// Starts the origin on loopback and returns its address. It answers every request 200 with a
/// short text body echoing the request line and its headers (sorted, less [`NOT_ECHOED`]), so
/// comparing bodies compares what the two servers forwarded.
fn start_origin() -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot start the origin: {e}"))?;
    let address = listener.local_addr().map_err(|e| format!("cannot start the origin: {e}"))?.to_string();
    thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            thread::spawn(move || serve_origin_connection(stream));
        }
    });
    Ok(address)
}

fn serve_origin_connection(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    while let Ok(Some(request)) = read_message(&mut reader, false) {
        let mut headers: Vec<(String, &str)> = request
            .headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.as_str()))
            .filter(|(name, _)| !NOT_ECHOED.contains(&name.as_str()))
            .collect();
        // A stable sort keeps repeated headers in their order.
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        let mut body = request.start_line.rsplit_once(' ').map_or(request.start_line.as_str(), |(line, _)| line).to_string();
        body.push('\n');
        for (name, value) in headers {
            let _ = writeln!(body, "{name}: {value}");
        }
        let close = request.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let response = format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        if writer.write_all(response.as_bytes()).is_err() || close {
            return;
        }
    }
}

// --- HTTP/1.1, just enough ------------------------------------------------------------------

/// One HTTP/1.1 message.
struct Message {
    start_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Reads one message; `None` when the stream ends before one starts. A message without a length
/// has no body, unless `body_until_close` (a response): then it runs to the end of the stream.
fn read_message(reader: &mut impl BufRead, body_until_close: bool) -> io::Result<Option<Message>> {
    let mut start_line = String::new();
    while start_line.trim().is_empty() {
        start_line.clear();
        if reader.read_line(&mut start_line)? == 0 {
            return Ok(None);
        }
    }
    let mut message = Message { start_line: start_line.trim_end().to_string(), headers: Vec::new(), body: Vec::new() };
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| invalid(format!("a header line without a colon: {line:?}")))?;
        message.headers.push((name.to_string(), value.trim().to_string()));
    }
    if message.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let line = read_line(reader)?;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| invalid(format!("a bad chunk size: {line:?}")))?;
            if size == 0 {
                while !read_line(reader)?.is_empty() {}
                break;
            }
            let start = message.body.len();
            message.body.resize(start + size, 0);
            reader.read_exact(&mut message.body[start..])?;
            read_line(reader)?;
        }
    } else if let Some(length) = message.header("content-length") {
        let length: usize = length.parse().map_err(|_| invalid(format!("a bad content-length: {length:?}")))?;
        message.body.resize(length, 0);
        reader.read_exact(&mut message.body)?;
    } else if body_until_close {
        reader.read_to_end(&mut message.body)?;
    }
    Ok(Some(message))
}

/// A line without its line ending; the stream ending is an error.
fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed inside a message"));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// What the probes compare: the status, the `location` header and the body.
struct Response {
    status: String,
    location: Option<String>,
    body: Vec<u8>,
}

impl Response {
    fn difference(&self, wanted: &Response) -> Option<String> {
        let mut differences = Vec::new();
        if self.status != wanted.status {
            differences.push(format!("status {} (node {})", self.status, wanted.status));
        }
        if self.location != wanted.location {
            differences.push(format!("location {:?} (node {:?})", self.location, wanted.location));
        }
        if self.body != wanted.body {
            differences.push(format!("body {} (node {})", quote(&self.body), quote(&wanted.body)));
        }
        (!differences.is_empty()).then(|| differences.join("; "))
    }
}

/// A body for a one-line message: escaped, at most 300 characters.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let short: String = text.chars().take(300).collect();
    let ellipsis = if short.len() < text.len() { "…" } else { "" };
    format!("{short:?}{ellipsis}")
}

/// Sends `probe` on a fresh connection; returns the response and the time to its last byte.
fn fetch(address: &str, probe: &Probe) -> io::Result<(Response, Duration)> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let mut request = format!("GET {} HTTP/1.1\r\nHost: {PROBE_HOST}\r\n", probe.path);
    for (name, value) in probe.headers {
        let _ = write!(request, "{name}: {value}\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let message = read_message(&mut BufReader::new(stream), true)?.ok_or_else(|| invalid("the server closed the connection without answering".to_string()))?;
    let elapsed = started.elapsed();
    let status = message.start_line.split_whitespace().nth(1).unwrap_or_default().to_string();
    let location = message.header("location").map(str::to_string);
    Ok((Response { status, location, body: message.body }, elapsed))
}

// --- Load -----------------------------------------------------------------------------------

/// wrk's `done` hook: one line the bench parses (latencies in µs).
const WRK_REPORT: &str = r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("edgeport-bench requests=%d duration_us=%d p50_us=%.0f p99_us=%.0f errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"#;

/// The same wrk settings for every run.
struct Wrk {
    script: PathBuf,
    duration: Duration,
    connections: usize,
    threads: usize,
}

/// What one wrk run measured.
struct Load {
    requests_per_second: f64,
    p50: Duration,
    p99: Duration,
    /// Socket errors and answers of 400 or above, as wrk counts them.
    errors: u64,
    requests: u64,
}

impl Wrk {
    fn run(&self, address: &str, probe: &Probe, duration: Duration) -> Result<Load, String> {
        let mut command = Command::new("wrk");
        command.arg(format!("--threads={}", self.threads)).arg(format!("--connections={}", self.connections));
        command.arg(format!("--duration={}s", duration.as_secs())).arg("--timeout=10s").arg("--script").arg(&self.script);
        for (name, value) in probe.headers {
            command.arg("--header").arg(format!("{name}: {value}"));
        }
        command.arg(format!("http://{address}{}", probe.path));
        let child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| format!("cannot run wrk: {e}"))?;
        let output = wait_with_deadline(child, duration + Duration::from_secs(30)).map_err(|e| format!("wrk {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report = stdout.lines().find_map(|l| l.strip_prefix("edgeport-bench ")).ok_or_else(|| {
            format!("wrk printed no report ({}):\n{stdout}{}", output.status, String::from_utf8_lossy(&output.stderr))
        })?;
        let fields: BTreeMap<&str, f64> =
            report.split_whitespace().filter_map(|kv| kv.split_once('=')).filter_map(|(k, v)| Some((k, v.parse().ok()?))).collect();
        let field = |name: &str| fields.get(name).copied().ok_or_else(|| format!("wrk's report has no {name}: {report}"));
        let micros = |name: &str| field(name).map(|us| Duration::from_secs_f64(us / 1e6));
        let requests = field("requests")?;
        Ok(Load {
            requests_per_second: requests / (field("duration_us")? / 1e6),
            p50: micros("p50_us")?,
            p99: micros("p99_us")?,
            errors: field("errors")? as u64,
            requests: requests as u64,
        })
    }
}

/// Waits for `child` at most `deadline`, killing it past that.
fn wait_with_deadline(mut child: Child, deadline: Duration) -> Result<std::process::Output, String> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().map_err(|e| e.to_string()),
            Ok(None) if started.elapsed() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not finish within {deadline:?}; killed"));
            }
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

// --- The table ------------------------------------------------------------------------------

/// One server's numbers for one case.
struct Row {
    case: &'static str,
    server: &'static str,
    load: Load,
    first_request: Duration,
    start_up: Duration,
}

fn table(rows: &[Row], differences: &[(&str, &str, String)]) -> String {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    let mut lines = vec![
        ["case", "server", "req/s", "p50", "p99", "first request", "start-up", "errors"].map(String::from).to_vec(),
    ];
    for row in rows {
        let errors = if row.load.errors == 0 { "0".to_string() } else { format!("{} of {}", row.load.errors, row.load.requests) };
        lines.push(vec![
            row.case.to_string(),
            row.server.to_string(),
            format!("{:.0}", row.load.requests_per_second),
            ms(row.load.p50),
            ms(row.load.p99),
            ms(row.first_request),
            ms(row.start_up),
            errors,
        ]);
        // A warning row under the server's numbers when its answers differed from node's.
        let count = differences.iter().filter(|(case, server, _)| *case == row.case && *server == row.server).count();
        if count > 0 {
            let mut warning = vec![String::new(); 8];
            warning[0] = row.case.to_string();
            warning[1] = format!("WARNING: {} ≠ node", row.server);
            warning[2] = format!("{count} of the probes answered differently (below)");
            lines.push(warning);
        }
    }
    let widths: Vec<usize> = (0..8).map(|i| lines.iter().map(|l| l[i].chars().count()).max().unwrap_or(0)).collect();
    let numeric = |i: usize| (2..8).contains(&i);
    let mut out = String::new();
    for (n, line) in lines.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let pad = widths[i] - cell.chars().count();
                if numeric(i) && n > 0 { format!("{}{cell}", " ".repeat(pad)) } else { format!("{cell}{}", " ".repeat(pad)) }
            })
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
        if n == 0 {
            let rule: Vec<String> = widths.iter().enumerate().map(|(i, w)| if numeric(i) { format!("{}:", "-".repeat(*w + 1)) } else { "-".repeat(*w + 2) }).collect();
            let _ = writeln!(out, "|{}|", rule.join("|"));
        }
    }
    out
}
