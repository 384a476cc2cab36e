//! `edgeport serve` from the outside (docs/serve.md): the fixtures in `tests/serve/` are
//! converted once per test process, each test starts serve with the configuration it needs in
//! front of origins that run in the test and record what they receive, and talks HTTP/1.1 to it
//! over plain sockets. Every rule of the chain, the failures, the limits, the config file,
//! reload and shutdown, `/metrics` and the fast path has a test named after it.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long serve may take to load its functions and print its two lines.
const STARTUP: Duration = Duration::from_secs(60);
/// No socket in these tests waits longer than this.
const IO_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the origin's `/slow` takes to answer.
const SLOW_ORIGIN: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------------------------------------
// Fixtures

fn fixtures(rest: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/serve").join(rest)
}

fn edgeport() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_edgeport"));
    command.env("EDGEPORT_CACHE_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgeport-cache"));
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Converts the fixture root `root` into a directory under the target's tmp dir, which stays
/// between runs so that the next run reuses the artifacts that are still current.
fn convert(root: &str, out: &str, hooks: bool) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(out);
    let mut command = edgeport();
    command.arg("convert").arg(fixtures(root)).arg("--out").arg(&out);
    if !hooks {
        command.arg("--no-hooks");
    }
    let output = command.output().expect("edgeport runs");
    assert!(output.status.success(), "converting {root} failed:\n{}\n{}", text(&output.stdout), text(&output.stderr));
    out
}

/// `tests/serve/functions`, converted without hooks.
fn dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| convert("functions", "serve-dist", false))
}

/// `tests/serve/conflict`: two functions on viewer-request.
fn conflict_dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| convert("conflict", "serve-conflict-dist", false))
}

/// `tests/serve/hooks`, converted with hooks (which needs node to prove them).
fn hooks_dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| convert("hooks", "serve-hooks-dist", true))
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 messages, read by hand

/// A request or response: its first line, its headers in arrival order, its body.
#[derive(Clone)]
struct Message {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl std::fmt::Debug for Message {
    /// The body as text, cut short, so that a failing assertion shows what a person would read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = self.body_text();
        let body = if body.len() > 2000 { format!("{}... ({} bytes)", body.chars().take(2000).collect::<String>(), body.len()) } else { body };
        f.debug_struct("Message").field("start", &self.start).field("headers", &self.headers).field("body", &body).finish()
    }
}

impl Message {
    /// The first value of a header, by case-insensitive name.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn body_text(&self) -> String {
        text(&self.body)
    }
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

/// Reads one message; `None` when the peer closed before sending a byte. A response without
/// `Content-Length` or chunked encoding runs to the end of the connection (`to_eof`).
fn read_message(reader: &mut impl BufRead, to_eof: bool) -> io::Result<Option<Message>> {
    let Some(start) = read_line(reader)? else { return Ok(None) };
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| invalid("connection closed inside the head"))?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| invalid(format!("not a header line: {line:?}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut message = Message { start, headers, body: Vec::new() };
    let chunked = message.header("transfer-encoding").is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let size_line = read_line(reader)?.ok_or_else(|| invalid("connection closed inside a chunk size"))?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| invalid(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                while read_line(reader)?.is_some_and(|line| !line.is_empty()) {}
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            message.body.extend_from_slice(&chunk);
            read_line(reader)?;
        }
    } else if let Some(length) = message.header("content-length") {
        let length: usize = length.parse().map_err(|_| invalid(format!("bad content-length {length:?}")))?;
        message.body = vec![0; length];
        reader.read_exact(&mut message.body)?;
    } else if to_eof {
        reader.read_to_end(&mut message.body)?;
    }
    Ok(Some(message))
}

/// What serve answered the viewer.
#[derive(Debug)]
struct Response {
    status: u16,
    message: Message,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.message.header(name)
    }

    fn body(&self) -> String {
        self.message.body_text()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.message.body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", self.body()))
    }

    /// Checks the status and `x-cache`, printing the whole response when they differ.
    fn expect(&self, status: u16, x_cache: &str) -> &Response {
        assert_eq!((self.status, self.header("x-cache")), (status, Some(x_cache)), "unexpected response: {self:#?}");
        self
    }
}

/// One request on a fresh connection (`Connection: close`); `headers` come after `Host`.
fn send(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let attempt = || -> io::Result<Response> {
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: viewer.test\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let message = read_message(&mut BufReader::new(stream), true)?.ok_or_else(|| invalid("closed without answering"))?;
        let status = message
            .start
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| invalid(format!("bad status line {:?}", message.start)))?;
        Ok(Response { status, message })
    };
    attempt().unwrap_or_else(|e| panic!("{method} {target} to {addr}: {e}"))
}

fn get(addr: SocketAddr, target: &str) -> Response {
    send(addr, "GET", target, &[], b"")
}

// ---------------------------------------------------------------------------------------------
// Origins

/// A request as an origin received it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    /// Path and query string.
    target: String,
    message: Message,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.message.header(name)
    }
}

/// An HTTP/1.1 origin on a loopback port that records every request. `/missing...` is 404,
/// `/slow...` answers after [`SLOW_ORIGIN`], anything else is 200 with `origin NAME saw METHOD
/// TARGET` as its body. Every answer has `X-Origin: NAME` and a hop-by-hop `Keep-Alive`.
struct Origin {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Origin {
    fn start(name: &'static str) -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an origin port");
        let addr = listener.local_addr().expect("origin address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    // A connection that breaks only ends that connection; the test sees what
                    // the origin recorded.
                    let _ = Origin::serve_connection(name, stream, &log);
                });
            }
        });
        Origin { addr, received }
    }

    fn serve_connection(name: &str, stream: TcpStream, log: &Mutex<Vec<Received>>) -> io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        while let Some(message) = read_message(&mut reader, false)? {
            let mut parts = message.start.split(' ');
            let method = parts.next().unwrap_or_default().to_string();
            let target = parts.next().unwrap_or_default().to_string();
            let close = message.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
            log.lock().expect("origin log").push(Received { method: method.clone(), target: target.clone(), message });
            let path = target.split('?').next().unwrap_or_default();
            let (status, body) = if path.starts_with("/missing") {
                ("404 Not Found", format!("origin {name} has no {target}"))
            } else {
                if path.starts_with("/slow") {
                    std::thread::sleep(SLOW_ORIGIN);
                }
                ("200 OK", format!("origin {name} saw {method} {target}"))
            };
            write!(
                writer,
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nX-Origin: {name}\r\nKeep-Alive: timeout=30\r\n\r\n{body}",
                body.len()
            )?;
            writer.flush()?;
            if close {
                break;
            }
        }
        Ok(())
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("origin log").clone()
    }

    fn targets(&self) -> Vec<String> {
        self.received().into_iter().map(|r| r.target).collect()
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

// ---------------------------------------------------------------------------------------------
// The server under test

/// A running `edgeport serve`, killed when dropped.
struct Serve {
    child: Child,
    addr: SocketAddr,
    metrics: SocketAddr,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// Holds the config file.
    config_dir: tempfile::TempDir,
    /// Whatever serve prints after its two lines (nothing, unless the access log goes there);
    /// kept so that its stdout stays open.
    _stdout: mpsc::Receiver<String>,
}

/// How `serve` ended when it was expected to fail to start.
struct Refused {
    status: ExitStatus,
    stderr: String,
    config: PathBuf,
}

/// The arguments of one serve process.
struct Setup<'a> {
    dist: &'a Path,
    origin: Option<String>,
    config: Option<String>,
    flags: Vec<String>,
}

impl<'a> Setup<'a> {
    fn new(dist: &'a Path) -> Setup<'a> {
        Setup { dist, origin: None, config: None, flags: Vec::new() }
    }

    fn origin(mut self, origin: &Origin) -> Self {
        self.origin = Some(origin.url());
        self
    }

    fn origin_url(mut self, url: String) -> Self {
        self.origin = Some(url);
        self
    }

    /// A `serve.toml`, written to a temporary directory.
    fn config(mut self, toml: &str) -> Self {
        self.config = Some(toml.to_string());
        self
    }

    fn flag(mut self, flag: &str) -> Self {
        self.flags.push(flag.to_string());
        self
    }

    fn start(self) -> Serve {
        match self.launch() {
            Ok(serve) => serve,
            Err(refused) => panic!("serve exited at start ({}):\n{}", refused.status, refused.stderr),
        }
    }

    /// Starts serve and waits for its two lines, or for it to exit.
    fn launch(self) -> Result<Serve, Refused> {
        let config_dir = tempfile::tempdir().expect("temp dir");
        let config_path = config_dir.path().join("serve.toml");
        let mut command = edgeport();
        command.arg("serve").arg(self.dist).args(["--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]);
        if let Some(origin) = &self.origin {
            command.args(["--origin", origin]);
        }
        if let Some(config) = &self.config {
            std::fs::write(&config_path, config).expect("write serve.toml");
            command.arg("--config").arg(&config_path);
        }
        command.args(&self.flags);
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn serve");

        // Drain both pipes so that the access log (stderr) can never block the server.
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stderr_reader = {
            let stderr = Arc::clone(&stderr);
            let mut pipe = child.stderr.take().expect("piped stderr");
            std::thread::spawn(move || {
                let mut buffer = [0; 8192];
                while let Ok(n @ 1..) = pipe.read(&mut buffer) {
                    stderr.lock().expect("stderr buffer").extend_from_slice(&buffer[..n]);
                }
            })
        };
        let (lines_tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });

        let deadline = Instant::now() + STARTUP;
        let mut printed = Vec::new();
        while printed.len() < 2 {
            match lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => printed.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {}
            }
            if let Some(status) = child.try_wait().expect("wait for serve") {
                let stderr = finish_reading(stderr_reader, &stderr);
                return Err(Refused { status, stderr, config: config_path });
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = finish_reading(stderr_reader, &stderr);
                panic!("serve printed {printed:?} in {STARTUP:?}, not its two lines; stderr:\n{stderr}");
            }
        }
        let address = |line: &str, prefix: &str, suffix: &str| -> SocketAddr {
            line.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(suffix))
                .and_then(|addr| addr.parse().ok())
                .unwrap_or_else(|| panic!("expected `{prefix}ADDR{suffix}` on stdout, got {line:?}"))
        };
        let addr = address(&printed[0], "listening on http://", "");
        let metrics = address(&printed[1], "metrics on http://", "/metrics");
        Ok(Serve { child, addr, metrics, stderr, config_dir, _stdout: lines })
    }
}

fn finish_reading(reader: JoinHandle<()>, stderr: &Mutex<Vec<u8>>) -> String {
    let _ = reader.join();
    text(&stderr.lock().expect("stderr buffer"))
}

impl Setup<'_> {
    /// Starts serve expecting it to refuse; panics if it starts.
    fn refused(self) -> Refused {
        match self.launch() {
            Ok(serve) => panic!("serve started although it should have refused; stderr:\n{}", serve.stderr()),
            Err(refused) => refused,
        }
    }
}

impl Serve {
    fn get(&self, target: &str) -> Response {
        get(self.addr, target)
    }

    fn send(&self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        send(self.addr, method, target, headers, body)
    }

    fn stderr(&self) -> String {
        text(&self.stderr.lock().expect("stderr buffer"))
    }

    fn config_path(&self) -> PathBuf {
        self.config_dir.path().join("serve.toml")
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status().expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit on its own.
    fn wait_for_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait for serve") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The samples of `/metrics`.
    fn metrics(&self) -> Metrics {
        let response = get(self.metrics, "/metrics");
        assert_eq!(response.status, 200, "{response:#?}");
        Metrics::parse(&response.body())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- serve's stderr ---\n{}", self.stderr());
        }
    }
}

/// Samples of the Prometheus text format.
struct Metrics {
    text: String,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Metrics {
    fn parse(text: &str) -> Metrics {
        let mut samples = Vec::new();
        for line in text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()) {
            let (series, value) = line.rsplit_once(' ').unwrap_or((line, ""));
            let Ok(value) = value.trim().parse::<f64>() else { continue };
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let mut map = BTreeMap::new();
            let mut rest = labels;
            while let Some((key, after)) = rest.split_once("=\"") {
                let mut value = String::new();
                let mut chars = after.char_indices();
                let mut end = after.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                value.push(if escaped == 'n' { '\n' } else { escaped });
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                map.insert(key.trim_start_matches(',').trim().to_string(), value);
                rest = &after[end..];
            }
            samples.push((name.to_string(), map, value));
        }
        Metrics { text: text.to_string(), samples }
    }

    /// The sum of the samples of `name` whose labels include `labels`; `None` when none has.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<f64> = self
            .samples
            .iter()
            .filter(|(n, map, _)| n == name && labels.iter().all(|(k, v)| map.get(*k).map(String::as_str) == Some(*v)))
            .map(|(_, _, value)| *value)
            .collect();
        (!matching.is_empty()).then(|| matching.iter().sum())
    }

    fn expect(&self, name: &str, labels: &[(&str, &str)], expected: f64) {
        assert_eq!(self.value(name, labels), Some(expected), "{name}{labels:?} in:\n{}", self.text);
    }
}

/// A failure page names its reason in `x-edgeport-error` and carries the request id.
fn expect_failure(response: &Response, status: u16, x_cache: &str) {
    response.expect(status, x_cache);
    assert!(response.header("x-edgeport-error").is_some_and(|reason| !reason.is_empty()), "no reason: {response:#?}");
    assert!(response.header("x-amz-cf-id").is_some_and(|id| !id.is_empty()), "no request id: {response:#?}");
    assert!(response.body().to_ascii_lowercase().contains("<html"), "the failure page is not HTML: {response:#?}");
}

const MISS: &str = "Miss from cloudfront";
const GENERATED: &str = "LambdaGeneratedResponse from cloudfront";
const VALIDATION: &str = "LambdaValidationError from cloudfront";
const EXECUTION: &str = "LambdaExecutionError from cloudfront";
const LIMIT: &str = "LambdaLimitExceeded from cloudfront";
const ERROR: &str = "Error from cloudfront";

// ---------------------------------------------------------------------------------------------
// The chain

#[test]
fn without_functions_the_origin_answer_passes_through() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\n").start();

    let first = serve.send("GET", "/hello?x=1&y", &[("X-Custom", "kept")], b"");
    first.expect(200, MISS);
    assert_eq!(first.body(), "origin main saw GET /hello?x=1&y");
    assert_eq!(first.header("x-origin"), Some("main"), "the origin's headers reach the viewer");
    assert_eq!(first.header("keep-alive"), None, "hop-by-hop headers are dropped: {first:#?}");
    let id = first.header("x-amz-cf-id").expect("x-amz-cf-id").to_string();
    assert!(!id.is_empty());

    let second = serve.send("POST", "/submit", &[("Content-Type", "text/plain")], b"viewer body");
    second.expect(200, MISS);
    assert_ne!(second.header("x-amz-cf-id"), Some(id.as_str()), "every request gets a fresh id");

    let received = origin.received();
    assert_eq!(origin.targets(), ["/hello?x=1&y", "/submit"]);
    assert_eq!(received[0].header("x-custom"), Some("kept"));
    assert_eq!((received[1].method.as_str(), received[1].message.body_text().as_str()), ("POST", "viewer body"));
}

#[test]
fn without_config_a_function_attaches_to_its_manifests_triggers() {
    let origin = Origin::start("main");
    let serve = Setup::new(&dist().join("rewrite")).origin(&origin).start();
    serve.get("/page").expect(200, MISS);
    assert_eq!(origin.targets(), ["/rewritten/page"]);
}

#[test]
fn without_config_two_functions_on_one_trigger_are_refused() {
    let origin = Origin::start("main");
    let refused = Setup::new(conflict_dist()).origin(&origin).refused();
    assert!(!refused.status.success());
    for name in ["claims-one", "claims-two"] {
        assert!(refused.stderr.contains(name), "stderr names {name}: {}", refused.stderr);
    }
    assert!(refused.stderr.contains("config"), "stderr asks for a config file: {}", refused.stderr);
}

#[test]
fn viewer_request_event_has_cloudfronts_shape() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\nviewer-request = \"echo-event\"\n").start();

    let response =
        serve.send("GET", "/some/path%20x?a=1&b=two", &[("X-Multi", "first"), ("x-multi", "second"), ("x-Odd-CASE", "1"), ("User-Agent", "tests")], b"");
    response.expect(200, GENERATED);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let event = response.json();
    assert_eq!(event["Records"].as_array().map(Vec::len), Some(1), "{event:#}");
    let cf = &event["Records"][0]["cf"];
    let config = &cf["config"];
    assert_eq!(config["eventType"], "viewer-request", "{event:#}");
    assert!(config["distributionDomainName"].as_str().is_some_and(|d| !d.is_empty()), "{event:#}");
    assert!(config["distributionId"].as_str().is_some_and(|d| !d.is_empty()), "{event:#}");
    assert_eq!(config["requestId"].as_str(), response.header("x-amz-cf-id"), "x-amz-cf-id is the request id");

    let request = &cf["request"];
    assert_eq!(request["clientIp"], "127.0.0.1", "{event:#}");
    assert_eq!(request["method"], "GET");
    assert_eq!(request["uri"], "/some/path%20x", "percent-encoding is kept");
    assert_eq!(request["querystring"], "a=1&b=two");
    let headers = request["headers"].as_object().expect("headers object");
    for (name, values) in headers {
        assert_eq!(name, &name.to_ascii_lowercase(), "header names are lower case: {event:#}");
        let values = values.as_array().unwrap_or_else(|| panic!("{name} is not an array: {event:#}"));
        for value in values {
            assert!(value["key"].as_str().is_some_and(|key| key.eq_ignore_ascii_case(name)), "{name}: {value}");
            assert!(value["value"].is_string(), "{name}: {value}");
        }
    }
    assert_eq!(
        request["headers"]["x-odd-case"],
        serde_json::json!([{"key": "X-Odd-Case", "value": "1"}]),
        "`key` is CloudFront's Title-Case spelling (docs/serve.md: the HTTP library lower-cases names)"
    );
    assert_eq!(
        request["headers"]["x-multi"],
        serde_json::json!([{"key": "X-Multi", "value": "first"}, {"key": "X-Multi", "value": "second"}]),
        "repeated headers keep their order"
    );
    assert_eq!(request["headers"]["host"], serde_json::json!([{"key": "Host", "value": "viewer.test"}]));
    assert_eq!(request["headers"]["user-agent"], serde_json::json!([{"key": "User-Agent", "value": "tests"}]));
    assert!(request.get("origin").is_none(), "viewer events have no origin: {event:#}");

    let plain = serve.get("/");
    let event = plain.json();
    assert_eq!(event["Records"][0]["cf"]["request"]["querystring"], "", "an empty query string is \"\"");
    assert_ne!(event["Records"][0]["cf"]["config"]["requestId"], config["requestId"], "a fresh id per request");
    assert!(origin.received().is_empty(), "a generated response never reaches the origin");
}

#[test]
fn viewer_request_generated_response_skips_the_origin_and_the_response_triggers() {
    let origin = Origin::start("main");
    let config = "[[behavior]]\npath = \"*\"\nviewer-request = \"redirect\"\norigin-response = \"mark-origin-response\"\nviewer-response = \"mark-viewer-response\"\n";
    let serve = Setup::new(dist()).origin(&origin).config(config).start();

    let response = serve.get("/old/page");
    response.expect(302, GENERATED);
    assert_eq!(response.header("location"), Some("https://example.com/moved/old/page"));
    assert_eq!(response.header("x-origin-response-ran"), None, "origin-response ran: {response:#?}");
    assert_eq!(response.header("x-viewer-response-ran"), None, "viewer-response ran: {response:#?}");
    assert!(origin.received().is_empty(), "the origin was asked: {:?}", origin.targets());
}

#[test]
fn viewer_request_changes_reach_the_origin() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\nviewer-request = \"rewrite\"\n").start();

    let response = serve.get("/page?q=1");
    response.expect(200, MISS);
    assert_eq!(response.body(), "origin main saw GET /rewritten/page?q=1");
    let received = origin.received();
    assert_eq!(origin.targets(), ["/rewritten/page?q=1"]);
    assert_eq!(received[0].header("x-added-by-viewer"), Some("yes"));
}

#[test]
fn include_body_exposes_the_body_and_a_replaced_body_reaches_the_origin() {
    let origin = Origin::start("main");
    let config = "[[behavior]]\npath = \"*\"\ninclude-body = true\nviewer-request = \"shout-body\"\n";
    let serve = Setup::new(dist()).origin(&origin).config(config).start();

    serve.send("POST", "/form", &[("Content-Type", "text/plain")], b"hello body").expect(200, MISS);
    let big = "x".repeat(50 * 1024);
    serve.send("POST", "/form", &[("Content-Type", "text/plain")], big.as_bytes()).expect(200, MISS);
    let received = origin.received();
    assert_eq!(received[0].header("x-body-seen"), Some("10 truncated=false"));
    assert_eq!(text(&received[0].message.body), "HELLO BODY");
    // The viewer-request event exposes 40 KB of a larger body, marked truncated.
    assert_eq!(received[1].header("x-body-seen"), Some("40960 truncated=true"));
    assert_eq!(text(&received[1].message.body), "X".repeat(40 * 1024));

    let without = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\nviewer-request = \"shout-body\"\n").start();
    let response = without.send("POST", "/form", &[], b"hello");
    assert_eq!((response.status, response.body()), (500, "no request.body in the event".to_string()), "without include-body the event has no body");
}

#[test]
fn origin_request_event_names_the_origin_and_the_forwarding_headers() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\norigin-request = \"echo-event\"\n").start();

    let response = serve.get("/o?z=9");
    assert_eq!(response.status, 200, "{response:#?}");
    let event = response.json();
    let cf = &event["Records"][0]["cf"];
    assert_eq!(cf["config"]["eventType"], "origin-request", "{event:#}");
    let request = &cf["request"];
    assert_eq!((&request["uri"], &request["querystring"]), (&Value::from("/o"), &Value::from("z=9")));
    let custom = &request["origin"]["custom"];
    assert_eq!(custom["domainName"], "127.0.0.1", "{event:#}");
    let port = custom["port"].as_u64().or_else(|| custom["port"].as_str().and_then(|p| p.parse().ok()));
    assert_eq!(port, Some(u64::from(origin.port())), "{event:#}");
    assert_eq!(custom["protocol"], "http", "{event:#}");
    assert_eq!(custom["path"], "", "{event:#}");
    for field in ["readTimeout", "keepaliveTimeout", "sslProtocols", "customHeaders"] {
        assert!(custom.get(field).is_some(), "origin.custom.{field} is missing: {event:#}");
    }
    let forwarded = request["headers"]["x-forwarded-for"][0]["value"].as_str().unwrap_or_default();
    assert!(forwarded.contains("127.0.0.1"), "x-forwarded-for: {event:#}");
    assert!(request["headers"]["via"][0]["value"].is_string(), "via: {event:#}");
}

#[test]
fn origin_request_header_changes_reach_the_origin() {
    let origin = Origin::start("main");
    let serve =
        Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\norigin-request = \"add-origin-header\"\n").start();

    serve.get("/with-header").expect(200, MISS);
    let received = origin.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].header("x-added-by-origin-request"), Some("yes"), "{:#?}", received[0]);
    assert!(received[0].header("x-forwarded-for").is_some_and(|xff| xff.contains("127.0.0.1")), "{:#?}", received[0]);
}

#[test]
fn origin_request_switches_the_origin_by_port() {
    let (main, second) = (Origin::start("main"), Origin::start("second"));
    let serve = Setup::new(dist()).origin(&main).config("[[behavior]]\npath = \"*\"\norigin-request = \"switch-port\"\n").start();

    let port = second.port().to_string();
    let response = serve.send("GET", "/routed", &[("X-Target-Port", &port)], b"");
    response.expect(200, MISS);
    assert_eq!(response.body(), "origin second saw GET /routed");
    assert_eq!((main.received().len(), second.targets()), (0, vec!["/routed".to_string()]));
}

#[test]
fn origin_request_switches_the_origin_by_name_through_resolve() {
    let (main, second) = (Origin::start("main"), Origin::start("second"));
    let serve = Setup::new(dist())
        .origin(&main)
        .config("[[behavior]]\npath = \"*\"\norigin-request = \"switch-domain\"\n")
        .flag(&format!("--resolve=second-origin.test=127.0.0.1:{}", second.port()))
        .start();

    let response = serve.get("/by-name");
    response.expect(200, MISS);
    assert_eq!(response.body(), "origin second saw GET /by-name");
    assert_eq!(main.received().len(), 0);
}

#[test]
fn origin_request_swaps_the_custom_origin_for_s3() {
    let (main, second) = (Origin::start("main"), Origin::start("bucket"));
    let serve = Setup::new(dist())
        .origin(&main)
        .config("[[behavior]]\npath = \"*\"\norigin-request = \"switch-to-s3\"\n")
        .flag(&format!("--resolve=assets.s3.test=127.0.0.1:{}", second.port()))
        .start();

    let response = serve.get("/logo.png");
    response.expect(200, MISS);
    assert_eq!(response.body(), "origin bucket saw GET /logo.png");
    assert_eq!(main.received().len(), 0);
}

#[test]
fn origin_custom_headers_reach_the_origin() {
    let origin = Origin::start("main");
    let serve =
        Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\norigin-request = \"origin-custom-header\"\n").start();
    serve.get("/with-secret").expect(200, MISS);
    let received = origin.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].header("x-origin-secret"), Some("s3cret"), "{:#?}", received[0]);
}

#[test]
fn the_origins_path_prefixes_the_uri() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist())
        .origin_url(format!("{}/prefix", origin.url()))
        .config("[[behavior]]\npath = \"/event\"\norigin-request = \"echo-event\"\n\n[[behavior]]\npath = \"*\"\n")
        .start();
    let response = serve.get("/page?x=1");
    response.expect(200, MISS);
    assert_eq!(origin.targets(), ["/prefix/page?x=1"]);
    let event = serve.get("/event").json();
    let request = &event["Records"][0]["cf"]["request"];
    assert_eq!((&request["uri"], &request["origin"]["custom"]["path"]), (&Value::from("/event"), &Value::from("/prefix")), "{event:#}");
}

#[test]
fn the_origin_flag_wins_over_the_configs_origin() {
    let (flag, configured) = (Origin::start("flag"), Origin::start("configured"));
    let config = format!("origin = \"{}\"\n\n[[behavior]]\npath = \"*\"\n", configured.url());
    let serve = Setup::new(dist()).origin(&flag).config(&config).start();
    assert_eq!(serve.get("/which").body(), "origin flag saw GET /which");
    assert!(configured.received().is_empty());

    let serve = Setup::new(dist()).config(&config).start();
    assert_eq!(serve.get("/which").body(), "origin configured saw GET /which", "without --origin the config's is used");
}

#[test]
fn origin_request_generated_response_skips_the_origin_and_origin_response() {
    let origin = Origin::start("main");
    let config = "[[behavior]]\npath = \"*\"\norigin-request = \"echo-event\"\norigin-response = \"mark-origin-response\"\nviewer-response = \"mark-viewer-response\"\n";
    let serve = Setup::new(dist()).origin(&origin).config(config).start();

    let response = serve.get("/generated-at-origin-request");
    response.expect(200, GENERATED);
    assert_eq!(response.json()["Records"][0]["cf"]["config"]["eventType"], "origin-request");
    assert_eq!(response.header("x-origin-response-ran"), None, "origin-response ran: {response:#?}");
    assert_eq!(response.header("x-viewer-response-ran"), Some("yes"), "viewer-response did not run: {response:#?}");
    assert!(origin.received().is_empty(), "the origin was asked: {:?}", origin.targets());
}

#[test]
fn origin_response_changes_reach_the_viewer() {
    let origin = Origin::start("main");
    let serve =
        Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\norigin-response = \"change-response\"\n").start();

    let response = serve.get("/original");
    assert_eq!(response.status, 201, "{response:#?}");
    assert_eq!(response.header("x-set-by-origin-response"), Some("yes"));
    assert_eq!(response.header("x-origin"), Some("main"), "the origin's headers stay");
    assert_eq!(response.body(), "replaced by origin-response");
    assert_eq!(origin.targets(), ["/original"]);
}

#[test]
fn base64_bodies_are_decoded_for_the_viewer() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\nviewer-request = \"base64-body\"\n").start();
    let response = serve.get("/binary");
    response.expect(200, GENERATED);
    assert_eq!(response.body(), "hello base64");
}

#[test]
fn viewer_response_runs_only_when_the_origin_answered_below_400() {
    let origin = Origin::start("main");
    let config = "[[behavior]]\npath = \"*\"\norigin-response = \"mark-origin-response\"\nviewer-response = \"mark-viewer-response\"\n";
    let serve = Setup::new(dist()).origin(&origin).config(config).start();

    let found = serve.get("/found");
    found.expect(200, MISS);
    assert_eq!((found.header("x-origin-response-ran"), found.header("x-viewer-response-ran")), (Some("yes"), Some("yes")));

    let missing = serve.get("/missing");
    assert_eq!(missing.status, 404, "{missing:#?}");
    assert_eq!(missing.body(), "origin main has no /missing");
    assert_eq!(missing.header("x-origin-response-ran"), Some("yes"), "origin-response runs on any origin answer");
    assert_eq!(missing.header("x-viewer-response-ran"), None, "viewer-response ran on a 404: {missing:#?}");
}

// ---------------------------------------------------------------------------------------------
// Failures

#[test]
fn invalid_results_are_502_validation_errors() {
    let origin = Origin::start("main");
    let config = r#"
[[behavior]]
path = "/host"
viewer-request = "change-host"

[[behavior]]
path = "/disallowed"
viewer-request = "add-disallowed-header"

[[behavior]]
path = "/status"
viewer-response = "change-viewer-status"

[[behavior]]
path = "/large"
viewer-request = "too-large"
"#;
    let serve = Setup::new(dist()).origin(&origin).config(config).start();
    for path in ["/host", "/disallowed", "/status", "/large"] {
        expect_failure(&serve.get(path), 502, VALIDATION);
    }
    assert_eq!(origin.targets(), ["/status"], "only the viewer-response case reaches the origin");
}

#[test]
fn thrown_errors_are_503_execution_errors() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\nviewer-request = \"throws\"\n").start();
    let response = serve.get("/throw");
    expect_failure(&response, 503, EXECUTION);
    assert!(origin.received().is_empty());
}

#[test]
fn timeouts_are_503_limit_exceeded_within_the_viewer_timeout() {
    let origin = Origin::start("main");
    let config = r#"
[[behavior]]
path = "/never"
viewer-request = "never-calls-back"

[[behavior]]
path = "/loop"
viewer-request = "infinite-loop"
"#;
    let serve = Setup::new(dist()).origin(&origin).config(config).flag("--viewer-timeout=500").start();
    expect_failure(&serve.get("/never"), 503, LIMIT);

    let started = Instant::now();
    expect_failure(&serve.get("/loop"), 503, LIMIT);
    // The default viewer timeout is 5 s; 500 ms must have been used instead.
    assert!(started.elapsed() < Duration::from_secs(4), "the loop ran {:?}", started.elapsed());
    assert!(origin.received().is_empty());
}

#[test]
fn refused_origin_is_502() {
    let serve = Setup::new(dist()).origin_url(format!("http://127.0.0.1:{}", closed_port())).config("[[behavior]]\npath = \"*\"\n").start();
    expect_failure(&serve.get("/anything"), 502, ERROR);
    let metrics = serve.metrics();
    assert_eq!(metrics.value("edgeport_origin_errors_total", &[]), Some(1.0), "{}", metrics.text);
    metrics.expect("edgeport_requests_total", &[("status", "502")], 1.0);
}

#[test]
fn https_origin_is_502() {
    let origin = Origin::start("main");
    let config = format!("[[behavior]]\npath = \"/secure/*\"\norigin = \"https://127.0.0.1:{}\"\n", origin.port());
    let serve = Setup::new(dist()).origin(&origin).config(&config).start();
    expect_failure(&serve.get("/secure/page"), 502, ERROR);
}

#[test]
fn origin_slower_than_read_timeout_is_504() {
    let origin = Origin::start("main");
    let serve =
        Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\norigin-request = \"short-read-timeout\"\n").start();
    let started = Instant::now();
    expect_failure(&serve.get("/slow"), 504, ERROR);
    assert!(started.elapsed() < SLOW_ORIGIN, "serve waited for the origin ({:?})", started.elapsed());
    assert_eq!(origin.targets(), ["/slow"]);
}

// ---------------------------------------------------------------------------------------------
// The config file

#[test]
fn behaviours_match_paths_in_order_and_unmatched_is_404() {
    let (main, api) = (Origin::start("main"), Origin::start("api"));
    let config = format!(
        r#"
[[behavior]]
path = "/first/*"
viewer-request = "say-a"

[[behavior]]
path = "/first/shadowed/*"
viewer-request = "say-b"

[[behavior]]
path = "/file?.txt"
viewer-request = "say-b"

[[behavior]]
path = "/api/*"
origin = "{}"
"#,
        api.url()
    );
    let serve = Setup::new(dist()).origin(&main).config(&config).start();

    let body = |target: &str| {
        let response = serve.get(target);
        assert_eq!(response.status, 200, "{target}: {response:#?}");
        response.body()
    };
    assert_eq!(body("/first/page"), "a");
    assert_eq!(body("/first/shadowed/page"), "a", "the first behaviour that matches wins");
    assert_eq!(body("/file1.txt"), "b");
    assert_eq!(body("/file1.txt?next=/first/x"), "b", "the query string is not matched");
    assert_eq!(body("/api/users"), "origin api saw GET /api/users", "a behaviour's own origin");
    for unmatched in ["/file12.txt", "/elsewhere", "/first"] {
        assert_eq!(serve.get(unmatched).status, 404, "{unmatched} matches no behaviour");
    }
    assert!(main.received().is_empty(), "{:?}", main.targets());
    assert_eq!(api.targets(), ["/api/users"]);
}

#[test]
fn config_mistakes_are_refused_naming_the_file_and_line() {
    let origin = Origin::start("main");
    let cases = [
        ("an unknown function", "[[behavior]]\npath = \"*\"\nviewer-request = \"no-such-function\"\n", "no-such-function", 3),
        ("a trigger the manifest does not name", "[[behavior]]\npath = \"*\"\n\norigin-response = \"say-a\"\n", "say-a", 4),
        ("an unknown key", "[[behavior]]\npath = \"*\"\nviewer-requests = \"say-a\"\n", "viewer-requests", 3),
    ];
    for (what, config, named, line) in cases {
        let refused = Setup::new(dist()).origin(&origin).config(config).refused();
        assert!(!refused.status.success(), "{what}: {}", refused.status);
        let file = refused.config.display().to_string();
        let stderr = refused.stderr;
        assert!(stderr.contains(named), "{what}: stderr does not name `{named}`:\n{stderr}");
        assert!(stderr.contains(&file), "{what}: stderr does not name the file {file}:\n{stderr}");
        assert!(
            stderr.contains(&format!("{file}:{line}")) || stderr.contains(&format!("line {line}")),
            "{what}: stderr does not name line {line}:\n{stderr}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Limits and instances

/// Sends an abusive request and, while it runs, a normal one; returns both answers and whether
/// the normal one came back first.
fn abuse_while_serving(serve: &Serve, abusive: &str, normal: &str) -> (Response, Response, bool) {
    let addr = serve.addr;
    let abusive_target = abusive.to_string();
    let abusive = std::thread::spawn(move || (get(addr, &abusive_target), Instant::now()));
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let normal = serve.get(normal);
    let normal_done = Instant::now();
    assert!(normal_done - started < Duration::from_secs(5), "a normal request took {:?}", normal_done - started);
    let (abusive, abusive_done) = abusive.join().expect("abusive request");
    (abusive, normal, normal_done < abusive_done)
}

#[test]
fn a_native_call_the_engine_cannot_stop_is_stopped_by_the_watchdog() {
    let origin = Origin::start("main");
    let config = "[[behavior]]\npath = \"/native\"\nviewer-request = \"native-call\"\n\n[[behavior]]\npath = \"/ok\"\nviewer-request = \"say-a\"\n";
    let serve = Setup::new(dist()).origin(&origin).config(config).flag("--viewer-timeout=1000").start();
    for _ in 0..2 {
        let started = Instant::now();
        let (answer, other, other_first) = abuse_while_serving(&serve, "/native", "/ok");
        let took = started.elapsed();
        expect_failure(&answer, 503, LIMIT);
        assert!(answer.header("x-edgeport-error").is_some_and(|error| error.contains("was stopped")), "{answer:#?}");
        assert!(took >= Duration::from_millis(1000) && took < Duration::from_secs(6), "stopped after {took:?}");
        assert_eq!((other.status, other_first), (200, true), "{other:#?}");
    }
    serve.metrics().expect("edgeport_invocation_errors_total", &[("function", "native-call"), ("kind", "timeout")], 2.0);
}

#[test]
fn abusive_functions_are_stopped_without_disturbing_other_requests() {
    let origin = Origin::start("main");
    let config = r#"
[[behavior]]
path = "/loop"
viewer-request = "infinite-loop"

[[behavior]]
path = "/swallow"
viewer-request = "swallow-loop"

[[behavior]]
path = "/bomb"
viewer-request = "memory-bomb"

[[behavior]]
path = "/recurse"
viewer-request = "deep-recursion"

[[behavior]]
path = "/ok"
viewer-request = "say-a"

[[behavior]]
path = "/pass/*"
"#;
    let serve = Setup::new(dist()).origin(&origin).config(config).flag("--viewer-timeout=2000").flag("--viewer-memory=64").start();

    for (abusive, normal) in [("/loop", "/ok"), ("/swallow", "/pass/during-swallow")] {
        let started = Instant::now();
        let (answer, other, other_first) = abuse_while_serving(&serve, abusive, normal);
        expect_failure(&answer, 503, LIMIT);
        assert!(started.elapsed() < Duration::from_secs(10), "{abusive} ran {:?}", started.elapsed());
        assert_eq!(other.status, 200, "{normal} during {abusive}: {other:#?}");
        assert!(other_first, "{normal} waited for {abusive}");
    }

    let (bomb, other, _) = abuse_while_serving(&serve, "/bomb", "/ok");
    expect_failure(&bomb, 503, LIMIT);
    assert_eq!(other.status, 200, "{other:#?}");

    // A RangeError from the engine's stack limit is a thrown error, a Wasm stack overflow a
    // trap; docs/serve.md allows both, and both are 503.
    let (recursion, other, _) = abuse_while_serving(&serve, "/recurse", "/pass/during-recursion");
    assert!(
        recursion.status == 503
            && matches!(recursion.header("x-cache"), Some(LIMIT | EXECUTION)),
        "{recursion:#?}"
    );
    assert_eq!(other.status, 200, "{other:#?}");

    // After all of it, and a second round of the loop, the server still answers.
    expect_failure(&serve.get("/loop"), 503, LIMIT);
    assert_eq!(serve.get("/ok").body(), "a");
    assert_eq!(serve.get("/pass/after").status, 200);

    let metrics = serve.metrics();
    metrics.expect("edgeport_invocation_errors_total", &[("function", "infinite-loop"), ("kind", "timeout")], 2.0);
    metrics.expect("edgeport_invocation_errors_total", &[("function", "swallow-loop"), ("kind", "timeout")], 1.0);
    metrics.expect("edgeport_invocation_errors_total", &[("function", "memory-bomb"), ("kind", "memory")], 1.0);
}

#[test]
fn a_10_mb_generated_body_is_a_502_validation_error() {
    let origin = Origin::start("main");
    // The default limits: building and returning 10 MB takes the engine a while on a busy
    // machine, and it is the size, not the time, that this test is about.
    let config = "[[behavior]]\npath = \"/huge\"\nviewer-request = \"huge-body\"\n\n[[behavior]]\npath = \"/ok\"\nviewer-request = \"say-a\"\n";
    let serve = Setup::new(dist()).origin(&origin).config(config).start();
    let (huge, other, _) = abuse_while_serving(&serve, "/huge", "/ok");
    expect_failure(&huge, 502, VALIDATION);
    assert_eq!((other.status, other.body()), (200, "a".to_string()), "{other:#?}");
    serve.metrics().expect("edgeport_invocation_errors_total", &[("function", "huge-body"), ("kind", "validation")], 1.0);
}

#[test]
fn warm_instances_keep_module_state_between_requests() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\nviewer-request = \"counter\"\n").start();
    // Sequential requests go to the invocation thread that became idle last, which holds the
    // warm instance: one instance answers them all, like one warm Lambda container.
    let counts: Vec<u32> = (0..12).map(|_| serve.get("/count").body().parse().expect("a count")).collect();
    assert_eq!(counts, (1..=12).collect::<Vec<u32>>(), "one warm instance should answer every sequential request");
}

#[test]
fn instances_are_started_at_most_once_per_invocation_thread() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist())
        .origin(&origin)
        .config("[[behavior]]\npath = \"*\"\nviewer-request = \"counter\"\n")
        .flag("--threads=2")
        .start();
    let addr = serve.addr;
    for _ in 0..3 {
        let clients: Vec<_> = (0..8).map(|_| std::thread::spawn(move || get(addr, "/count").status)).collect();
        for client in clients {
            assert_eq!(client.join().expect("client"), 200);
        }
    }
    // One instance at load (to prove the function starts), then at most one per thread: each
    // thread keeps its warm instance for the next request.
    let metrics = serve.metrics();
    let started = metrics.value("edgeport_instances_started_total", &[("function", "counter")]);
    assert!(started.is_some_and(|started| (2.0..=3.0).contains(&started)), "instances started: {started:?} in\n{}", metrics.text);
    let idle = metrics.value("edgeport_pool_idle_instances", &[("function", "counter")]);
    assert!(idle.is_some_and(|idle| idle <= 2.0), "{idle:?}");
}

#[test]
fn isolate_requests_starts_every_request_fresh() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist())
        .origin(&origin)
        .config("[[behavior]]\npath = \"*\"\nviewer-request = \"counter\"\n")
        .flag("--isolate-requests")
        .start();
    let counts: Vec<String> = (0..12).map(|_| serve.get("/count").body()).collect();
    assert!(counts.iter().all(|count| count == "1"), "{counts:?}");
}

#[test]
fn an_instance_that_timed_out_is_never_reused() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist())
        .origin(&origin)
        .config("[[behavior]]\npath = \"*\"\nviewer-request = \"counter-or-loop\"\n")
        .flag("--viewer-timeout=500")
        .start();
    // Warm every instance first, so that the one that times out is a pooled one.
    for _ in 0..20 {
        serve.get("/count").expect(200, GENERATED);
    }
    expect_failure(&serve.get("/loop"), 503, LIMIT);
    let after: Vec<String> = (0..40).map(|_| serve.get("/count").body()).collect();
    assert!(!after.iter().any(|body| body == "reused"), "the instance that timed out answered again: {after:?}");
}

// ---------------------------------------------------------------------------------------------
// Observability

#[test]
fn metrics_count_invocations_and_errors() {
    let origin = Origin::start("main");
    let config = r#"
[[behavior]]
path = "/throw"
viewer-request = "throws"

[[behavior]]
path = "*"
viewer-request = "say-a"
"#;
    let serve = Setup::new(dist()).origin(&origin).config(config).start();
    for _ in 0..3 {
        serve.get("/a").expect(200, GENERATED);
    }
    for _ in 0..2 {
        serve.get("/throw").expect(503, EXECUTION);
    }
    let metrics = serve.metrics();
    metrics.expect("edgeport_invocations_total", &[("function", "say-a"), ("trigger", "viewer-request")], 3.0);
    metrics.expect("edgeport_invocations_total", &[("function", "throws"), ("trigger", "viewer-request")], 2.0);
    metrics.expect(
        "edgeport_invocation_errors_total",
        &[("function", "throws"), ("trigger", "viewer-request"), ("kind", "execution")],
        2.0,
    );
    assert_eq!(metrics.value("edgeport_invocation_errors_total", &[("function", "say-a")]).unwrap_or(0.0), 0.0, "{}", metrics.text);
    metrics.expect("edgeport_requests_total", &[("status", "200")], 3.0);
    metrics.expect("edgeport_requests_total", &[("status", "503")], 2.0);
}

#[test]
fn access_log_has_one_json_object_per_request() {
    let origin = Origin::start("main");
    let log_dir = tempfile::tempdir().expect("temp dir");
    let log = log_dir.path().join("access.log");
    let serve = Setup::new(dist())
        .origin(&origin)
        .config("[[behavior]]\npath = \"/throw\"\nviewer-request = \"throws\"\n\n[[behavior]]\npath = \"*\"\nviewer-request = \"rewrite\"\n")
        .flag(&format!("--access-log={}", log.display()))
        .start();
    let ok = serve.get("/logged?q=1");
    let failed = serve.get("/throw");
    let deadline = Instant::now() + Duration::from_secs(10);
    let entries = loop {
        let entries: Vec<Value> = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
            .collect();
        if entries.len() >= 2 || Instant::now() > deadline {
            break entries;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(entries.len(), 2, "{entries:#?}");
    let entry = entries.iter().find(|e| e["requestId"].as_str() == ok.header("x-amz-cf-id")).expect("an entry for the request id");
    for field in ["time", "clientIp", "method", "uri", "status", "bytes", "durationMs", "functions"] {
        assert!(entry.get(field).is_some(), "{field} is missing: {entry:#}");
    }
    assert_eq!((&entry["status"], &entry["clientIp"], &entry["method"]), (&Value::from(200), &Value::from("127.0.0.1"), &Value::from("GET")));
    assert_eq!(entry["functions"][0]["trigger"], "viewer-request", "{entry:#}");
    assert_eq!(entry["functions"][0]["function"], "rewrite", "{entry:#}");
    let entry = entries.iter().find(|e| e["requestId"].as_str() == failed.header("x-amz-cf-id")).expect("an entry for the failure");
    assert_eq!(entry["status"], 503, "{entry:#}");
    assert!(entry["error"].as_str().is_some_and(|error| !error.is_empty()), "{entry:#}");

    // What the function printed is on serve's stderr, tagged with the function and request id.
    let expected = format!("throws {} about to throw for /throw", failed.header("x-amz-cf-id").expect("a request id"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !serve.stderr().contains(&expected) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(serve.stderr().contains(&expected), "no {expected:?} in serve's stderr:\n{}", serve.stderr());
}

// ---------------------------------------------------------------------------------------------
// The fast path

/// The hooks fixture, or `None` (after printing why) when node is not there to prove its rule.
fn proven_hooks() -> Option<&'static Path> {
    if Command::new("node").arg("--version").output().map_or(true, |output| !output.status.success()) {
        println!("SKIPPED: node is not installed, so `edgeport convert` cannot prove the hook rules");
        return None;
    }
    let dist = hooks_dist();
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(dist.join("blocker/manifest.json")).expect("manifest"))
        .expect("manifest JSON");
    assert_eq!(manifest["hooks"]["rules"].as_array().map(Vec::len), Some(1), "the fixture's rule must be proven: {manifest:#}");
    Some(dist)
}

const BLOCKER_CONFIG: &str = "[[behavior]]\npath = \"*\"\nviewer-request = \"blocker\"\n";

#[test]
fn fast_path_answers_proven_rules_without_running_the_function() {
    let Some(dist) = proven_hooks() else { return };
    let origin = Origin::start("main");
    let serve = Setup::new(dist).origin(&origin).config(BLOCKER_CONFIG).start();

    let blocked = serve.get("/blocked");
    blocked.expect(403, GENERATED);
    assert_eq!(blocked.body(), "no");
    serve.get("/other").expect(200, MISS);
    assert_eq!(origin.targets(), ["/other"]);

    let metrics = serve.metrics();
    metrics.expect("edgeport_fast_path_total", &[("function", "blocker")], 1.0);
    metrics.expect("edgeport_invocations_total", &[("function", "blocker"), ("trigger", "viewer-request")], 1.0);
}

#[test]
fn no_fast_path_runs_the_function_for_every_request() {
    let Some(dist) = proven_hooks() else { return };
    let origin = Origin::start("main");
    let serve = Setup::new(dist).origin(&origin).config(BLOCKER_CONFIG).flag("--no-fast-path").start();

    let blocked = serve.get("/blocked");
    blocked.expect(403, GENERATED);
    assert_eq!(blocked.body(), "no");
    let metrics = serve.metrics();
    assert_eq!(metrics.value("edgeport_fast_path_total", &[("function", "blocker")]).unwrap_or(0.0), 0.0, "{}", metrics.text);
    metrics.expect("edgeport_invocations_total", &[("function", "blocker"), ("trigger", "viewer-request")], 1.0);
}

// ---------------------------------------------------------------------------------------------
// Reload and shutdown

/// Asks for `target` until `accept` holds for the body, for at most `within`.
fn eventually(serve: &Serve, target: &str, within: Duration, accept: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + within;
    loop {
        let body = serve.get(target).body();
        if accept(&body) || Instant::now() > deadline {
            return body;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sighup_reloads_the_config_and_keeps_the_old_one_when_the_new_one_is_bad() {
    let origin = Origin::start("main");
    let serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\nviewer-request = \"say-a\"\n").start();
    assert_eq!(serve.get("/").body(), "a");

    std::fs::write(serve.config_path(), "[[behavior]]\npath = \"*\"\nviewer-request = \"say-b\"\n").expect("rewrite config");
    serve.signal("HUP");
    assert_eq!(eventually(&serve, "/", Duration::from_secs(10), |body| body == "b"), "b", "the reload did not take");

    std::fs::write(serve.config_path(), "[[behavior]]\npath = \"*\"\nviewer-request = \"no-such-function\"\n").expect("break config");
    serve.signal("HUP");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(serve.get("/").body(), "b", "a failed reload keeps the old configuration");
    let stderr = serve.stderr();
    assert!(stderr.contains("no-such-function"), "the failed reload is logged:\n{stderr}");
}

#[test]
fn sigterm_lets_requests_in_flight_finish_and_exits_0() {
    let origin = Origin::start("main");
    let mut serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\n").start();
    let addr = serve.addr;
    let in_flight = std::thread::spawn(move || get(addr, "/slow"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while origin.received().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    serve.signal("TERM");
    let response = in_flight.join().expect("request in flight");
    assert_eq!((response.status, response.body()), (200, "origin main saw GET /slow".to_string()));
    let status = serve.wait_for_exit(Duration::from_secs(10)).expect("serve exits after SIGTERM");
    assert_eq!(status.code(), Some(0), "stderr:\n{}", serve.stderr());
}

// ---------------------------------------------------------------------------------------------
// HTTP/2

#[test]
fn http2_header_names_get_title_case_keys() {
    let features = Command::new("curl").arg("--version").output().map(|output| text(&output.stdout)).unwrap_or_default();
    if !features.lines().any(|line| line.starts_with("Features:") && line.contains("HTTP2")) {
        println!("SKIPPED: no curl with HTTP/2 to speak h2c to serve");
        return;
    }
    let origin = Origin::start("main");
    let serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\nviewer-request = \"echo-event\"\n").start();
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--http2-prior-knowledge", "--max-time", "20"])
        .args(["--header", "X-Custom-Thing: value", "--write-out", "\n%{http_version}"])
        .arg(format!("http://{}/h2?q=1", serve.addr))
        .output()
        .expect("run curl");
    assert!(output.status.success(), "curl: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let (body, version) = stdout.rsplit_once('\n').expect("curl wrote the version last");
    assert_eq!(version, "2", "the request did not use HTTP/2");
    let event: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    let request = &event["Records"][0]["cf"]["request"];
    assert_eq!(request["headers"]["x-custom-thing"], serde_json::json!([{"key": "X-Custom-Thing", "value": "value"}]), "{event:#}");
    assert_eq!((&request["uri"], &request["querystring"]), (&Value::from("/h2"), &Value::from("q=1")));
}

#[test]
fn sigint_exits_0() {
    let origin = Origin::start("main");
    let mut serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\n").start();
    serve.get("/before").expect(200, MISS);
    serve.signal("INT");
    let status = serve.wait_for_exit(Duration::from_secs(10)).expect("serve exits after SIGINT");
    assert_eq!(status.code(), Some(0), "stderr:\n{}", serve.stderr());
}

#[test]
fn grace_period_bounds_the_wait_for_requests_in_flight() {
    let origin = Origin::start("main");
    let mut serve = Setup::new(dist()).origin(&origin).config("[[behavior]]\npath = \"*\"\n").flag("--grace-period=1").start();
    let addr = serve.addr;
    // The answer does not matter: serve may cut this request off.
    let _in_flight = std::thread::spawn(move || {
        let _ = std::panic::catch_unwind(|| get(addr, "/slow"));
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while origin.received().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let signalled = Instant::now();
    serve.signal("TERM");
    let status = serve.wait_for_exit(Duration::from_secs(10)).expect("serve exits after SIGTERM");
    assert!(signalled.elapsed() < SLOW_ORIGIN, "serve waited {:?}, past its 1 s grace period", signalled.elapsed());
    assert_eq!(status.code(), Some(0), "stderr:\n{}", serve.stderr());
}
