//! `edgeport serve`: converted functions behind an HTTP server that behaves like CloudFront
//! (docs/serve.md).
//!
//! [`serve`] loads a [`State`] (the routing and the loaded functions), binds the listener and
//! the metrics listener, and runs until SIGINT or SIGTERM. Each request takes the current
//! state (an `Arc`): SIGHUP builds a new one and swaps it in, and requests in flight finish
//! with the one they started with. Wasm runs on tokio's blocking threads, I/O on its async
//! workers.

pub mod chain;
pub mod config;
mod fast_path;
pub mod functions;
mod invoker;
pub mod metrics;
pub mod origin;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use edgeport_contract::EventType;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

use crate::config::{OriginUrl, Routing};
use crate::fast_path::Xdp;
use crate::functions::{Functions, Runtimes};
use crate::invoker::Invoker;
use crate::metrics::Metrics;
use crate::origin::OriginClient;

/// Limits and instance policy (docs/serve.md "Limits", "Instances").
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock timeout of viewer triggers.
    pub viewer_timeout: Duration,
    /// Wall-clock timeout of origin triggers.
    pub origin_timeout: Duration,
    /// Memory cap of viewer triggers' instances, bytes.
    pub viewer_memory: u64,
    /// Memory cap of origin triggers' instances, bytes.
    pub origin_memory: u64,
    /// Invocation threads (at most this many functions run at once).
    pub threads: usize,
    /// A fresh instance for every invocation.
    pub isolate: bool,
}

impl Default for Limits {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        Limits {
            viewer_timeout: Duration::from_millis(EventType::ViewerRequest.timeout_ms()),
            origin_timeout: Duration::from_millis(EventType::OriginRequest.timeout_ms()),
            viewer_memory: 128 << 20,
            origin_memory: 3008 << 20,
            threads: (2 * cpus).max(4),
            isolate: false,
        }
    }
}

/// Where the access log goes.
#[derive(Debug, Clone)]
pub enum AccessLog {
    /// stderr.
    Stderr,
    /// stdout.
    Stdout,
    /// Appended to a file.
    File(PathBuf),
}

/// Everything `edgeport serve` is told.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The convert output directory (or one function's directory).
    pub dist: PathBuf,
    /// The behaviours file; `None`: every function on its manifest's triggers.
    pub config: Option<PathBuf>,
    /// The default origin (wins over the config's).
    pub origin: Option<OriginUrl>,
    /// Where viewers connect.
    pub listen: SocketAddr,
    /// Where `/metrics` is served.
    pub metrics: SocketAddr,
    /// Limits and instances.
    pub limits: Limits,
    /// Run proven hook rules before Wasm.
    pub fast_path: bool,
    /// Attach the viewer-request function's hook program at XDP on this interface.
    pub xdp: Option<String>,
    /// `--resolve NAME=HOST:PORT`.
    pub resolve: Vec<(String, SocketAddr)>,
    /// The access log.
    pub access_log: AccessLog,
    /// How long requests in flight may take to finish at shutdown.
    pub grace_period: Duration,
    /// Compiled engine code cache.
    pub cache_dir: Option<PathBuf>,
}

/// Why the server could not start (or reload).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The config file is wrong.
    #[error("{}:{line}: {message}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong and what to do.
        message: String,
    },
    /// Two functions claim one trigger and no config says which runs.
    #[error("both {first} and {second} are converted for {event_type}; write a config file saying which runs where (--config, see docs/serve.md)")]
    Ambiguous {
        /// The trigger.
        event_type: EventType,
        /// One function.
        first: String,
        /// The other.
        second: String,
    },
    /// Nothing to serve.
    #[error("{} has no converted functions (no */function.wasm); run `edgeport convert SRC --out {}` first", .0.display(), .0.display())]
    NoFunctions(PathBuf),
    /// A manifest is unreadable.
    #[error("{}: {message}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// An artifact does not load or start.
    #[error("{}: {message}; convert the function again", path.display())]
    Load {
        /// The artifact.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// `--xdp` could not attach.
    #[error("--xdp: {0}")]
    Xdp(String),
}

/// What can change on reload: the routing and the functions it attaches.
pub struct State {
    /// Behaviours.
    pub routing: Routing,
    /// Loaded functions.
    pub functions: Functions,
}

impl State {
    /// Reads the served directory and the config, and loads every attached function.
    pub fn load(options: &ServeOptions, runtimes: &Runtimes) -> Result<State, ServeError> {
        let dirs = functions::discover(&options.dist)?;
        let available = functions::available(&dirs);
        let routing = match &options.config {
            Some(path) => config::read(path, &available)?,
            None => config::from_manifests(&available)?,
        };
        let functions = Functions::load(&dirs, &routing, runtimes, &options.limits, options.fast_path)?;
        Ok(State { routing, functions })
    }

    /// The one viewer-request function every behaviour runs, which XDP may stand in for.
    fn xdp_function(&self) -> Result<&functions::Function, String> {
        let mut names = self.routing.behaviors.iter().map(|behavior| behavior.functions.get(&EventType::ViewerRequest));
        let first = names.next().flatten();
        match first {
            Some(name) if names.all(|other| other == Some(name)) => {
                self.functions.get(name).map(|function| function.as_ref()).ok_or_else(|| format!("{name} is not loaded"))
            }
            _ => Err("XDP sees every request on the port, so every behaviour must run the same viewer-request function".into()),
        }
    }
}

/// What every request shares.
pub struct Shared {
    /// The options the server started with.
    pub options: ServeOptions,
    state: RwLock<Arc<State>>,
    /// Metrics.
    pub metrics: Metrics,
    /// The origin client.
    pub origin: OriginClient,
    /// Where Wasm runs.
    invoker: Invoker,
    runtimes: Runtimes,
    /// Buffered; flushed every [`LOG_FLUSH`] and at shutdown.
    access_log: Mutex<std::io::BufWriter<Box<dyn Write + Send>>>,
    xdp: Mutex<Option<(String, Xdp)>>,
}

impl Shared {
    fn state(&self) -> Arc<State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Starts every function of `state` warm on the invocation thread the next request takes.
    async fn warm(&self, state: &Arc<State>) -> Result<(), ServeError> {
        let warming = state.clone();
        match self.invoker.run(move || warming.functions.warm()).await {
            Ok(result) => result,
            Err(refused) => Err(ServeError::Load { path: self.options.dist.clone(), message: format!("starting the functions failed: {refused:?}") }),
        }
    }

    /// Loads the config and functions again and swaps them in; the old state stays in use
    /// until its last request finishes.
    async fn reload(self: &Arc<Self>) -> Result<(), ServeError> {
        let loading = self.clone();
        let state = tokio::task::spawn_blocking(move || State::load(&loading.options, &loading.runtimes))
            .await
            .map_err(|e| ServeError::Load { path: self.options.dist.clone(), message: format!("loading failed: {e}") })??;
        let state = Arc::new(state);
        self.warm(&state).await?;
        self.attach_xdp(&state)?;
        *self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = state;
        Ok(())
    }

    fn attach_xdp(&self, state: &State) -> Result<(), ServeError> {
        let Some(iface) = &self.options.xdp else { return Ok(()) };
        let function = state.xdp_function().map_err(ServeError::Xdp)?;
        let fast_path = function
            .fast_path
            .as_ref()
            .filter(|fast_path| fast_path.event_type == EventType::ViewerRequest)
            .ok_or_else(|| ServeError::Xdp(format!("{} has no proven viewer-request rules (edgeport hooks explains why)", function.name)))?;
        let mut xdp = lock(&self.xdp);
        // One XDP program per interface: the old one is detached before the new one attaches.
        *xdp = None;
        let attached = fast_path.attach_xdp(iface, self.options.listen.port()).map_err(ServeError::Xdp)?;
        *xdp = Some((function.name.clone(), attached));
        Ok(())
    }

    fn log(&self, line: &serde_json::Value) {
        let mut sink = lock(&self.access_log);
        let _ = writeln!(sink, "{line}");
    }

    fn flush_log(&self) {
        let _ = lock(&self.access_log).flush();
    }

    fn render_metrics(&self) -> String {
        let state = self.state();
        let mut gauges = Vec::new();
        let mut counters = Vec::new();
        for function in state.functions.iter() {
            let (mut idle, mut busy, mut started) = (0, 0, 0);
            for pool in function.pools() {
                let (i, b, s) = pool.state();
                idle += i;
                busy += b;
                started += s;
            }
            let labels = vec![("function", function.name.clone())];
            gauges.push(("edgeport_pool_idle_instances", labels.clone(), idle as f64));
            gauges.push(("edgeport_pool_busy_instances", labels.clone(), busy as f64));
            counters.push(("edgeport_instances_started_total", labels, started));
        }
        if let Some((name, xdp)) = lock(&self.xdp).as_ref() {
            for (verdict, count) in xdp.counters() {
                counters.push(("edgeport_xdp_verdicts_total", vec![("function", name.clone()), ("verdict", verdict)], count));
            }
        }
        self.metrics.render(&gauges, &counters)
    }
}

/// The addresses the server listens on.
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    /// Viewers.
    pub listen: SocketAddr,
    /// `/metrics`.
    pub metrics: SocketAddr,
}

/// Locks a mutex, whether or not a thread panicked while holding it: every value serve keeps
/// behind one (maps of counters, a log buffer, a VM's scratch state) stays valid after a panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The largest viewer body serve reads (bodies are forwarded to the origin whole).
const MAX_BODY: usize = 32 << 20;

/// Loads everything, binds, calls `ready`, and serves until SIGINT or SIGTERM.
pub fn serve(options: ServeOptions, ready: impl FnOnce(Listening)) -> Result<(), ServeError> {
    let runtimes = Runtimes::new(options.cache_dir.clone(), &options.limits);
    let state = Arc::new(State::load(&options, &runtimes)?);
    let access_log: Box<dyn Write + Send> = match &options.access_log {
        AccessLog::Stderr => Box::new(std::io::stderr()),
        AccessLog::Stdout => Box::new(std::io::stdout()),
        AccessLog::File(path) => Box::new(
            std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|source| ServeError::Io { path: path.clone(), source })?,
        ),
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("edgeport-serve")
        .build()
        .map_err(|source| ServeError::Io { path: "tokio runtime".into(), source })?;
    tokio.block_on(async move {
        let bind = |address: SocketAddr| async move { TcpListener::bind(address).await.map_err(|source| ServeError::Bind { address, source }) };
        let listener = bind(options.listen).await?;
        let metrics_listener = bind(options.metrics).await?;
        let listening = Listening {
            listen: listener.local_addr().map_err(|source| ServeError::Bind { address: options.listen, source })?,
            metrics: metrics_listener.local_addr().map_err(|source| ServeError::Bind { address: options.metrics, source })?,
        };
        let mut options = options;
        options.listen = listening.listen;
        let shared = Arc::new(Shared {
            origin: OriginClient::new(&options.resolve),
            invoker: Invoker::new(options.limits.threads),
            options,
            state: RwLock::new(state.clone()),
            metrics: Metrics::default(),
            runtimes,
            access_log: Mutex::new(std::io::BufWriter::with_capacity(64 << 10, access_log)),
            xdp: Mutex::new(None),
        });
        shared.warm(&state).await?;
        shared.attach_xdp(&state)?;
        drop(state);
        ready(listening);
        run(shared, listener, metrics_listener).await;
        Ok(())
    })
}

/// Accepts connections until a stop signal, reloading on SIGHUP, then drains.
async fn run(shared: Arc<Shared>, listener: TcpListener, metrics_listener: TcpListener) {
    let mut terminate = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    let mut interrupt = signal(SignalKind::interrupt()).expect("installing the SIGINT handler");
    let mut hangup = signal(SignalKind::hangup()).expect("installing the SIGHUP handler");
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let flusher = shared.clone();
    let flushing = tokio::spawn(async move {
        let mut every = tokio::time::interval(LOG_FLUSH);
        loop {
            every.tick().await;
            flusher.flush_log();
        }
    });
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let service = hyper::service::service_fn(move |request| {
                    let shared = shared.clone();
                    async move { Ok::<_, std::convert::Infallible>(handle(shared, request, peer).await) }
                });
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            accepted = metrics_listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                    let shared = shared.clone();
                    async move { Ok::<_, std::convert::Infallible>(metrics_endpoint(&shared, request.uri().path())) }
                });
                tokio::spawn(async move {
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                });
            }
            _ = hangup.recv() => {
                // In a task of its own: connections keep being accepted while it loads.
                let shared = shared.clone();
                tokio::spawn(async move {
                    let outcome = match shared.reload().await {
                        Ok(()) => { eprintln!("edgeport serve: reloaded"); "ok" }
                        Err(error) => { eprintln!("edgeport serve: reload failed, keeping the running configuration: {error}"); "failed" }
                    };
                    shared.metrics.add("edgeport_reloads_total", vec![("result", outcome.to_string())], 1);
                });
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    drop(listener);
    let grace = shared.options.grace_period;
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        eprintln!("edgeport serve: requests still running after {} s; stopping anyway", grace.as_secs());
    }
    flushing.abort();
    shared.flush_log();
}

/// How often the access log is written out: one write per interval, not per request.
const LOG_FLUSH: Duration = Duration::from_millis(200);

fn metrics_endpoint(shared: &Shared, path: &str) -> hyper::Response<Full<Bytes>> {
    let (status, content_type, body) = match path {
        "/metrics" => (200, "text/plain; version=0.0.4; charset=utf-8", shared.render_metrics()),
        _ => (404, "text/plain", "not found; metrics are at /metrics\n".to_string()),
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static(content_type));
    response
}

/// One viewer request: the chain, the response, the metrics and the access log line.
async fn handle(shared: Arc<Shared>, request: hyper::Request<Incoming>, peer: SocketAddr) -> hyper::Response<Full<Bytes>> {
    let started = Instant::now();
    let state = shared.state();
    let request_id = new_request_id();
    let (parts, body) = request.into_parts();
    let uri = parts.uri.path().to_string();
    let querystring = parts.uri.query().unwrap_or_default().to_string();
    let mut headers: Vec<(String, String)> = Vec::with_capacity(parts.headers.len() + 1);
    if parts.headers.get(hyper::header::HOST).is_none() {
        // HTTP/2 carries the host as :authority.
        if let Some(authority) = parts.uri.authority() {
            headers.push(("host".into(), authority.to_string()));
        }
    }
    headers.extend(parts.headers.iter().map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned())));
    let method = parts.method.to_string();
    let client_ip = peer.ip().to_canonical();

    let mut trace = chain::Trace::default();
    let reply = match Limited::new(body, MAX_BODY).collect().await {
        Err(error) => plain(413, format!("the request body could not be read (at most {} MB): {error}", MAX_BODY >> 20)),
        Ok(body) => match state.routing.behavior(&uri) {
            None => plain(404, format!("no behaviour matches {uri}")),
            Some(behavior) => {
                let viewer = chain::ViewerRequest { client_ip, method: method.clone(), uri: uri.clone(), querystring, headers, body: body.to_bytes() };
                chain::run(&shared, &state, behavior, viewer, &request_id, &mut trace).await
            }
        },
    };

    let mut response = hyper::Response::new(Full::new(reply.body.clone()));
    *response.status_mut() = hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    let out = response.headers_mut();
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (hyper::header::HeaderName::from_bytes(name.as_bytes()), hyper::header::HeaderValue::from_str(value)) {
            out.append(name, value);
        }
    }
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = hyper::header::HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    };
    set("x-cache", reply.cache);
    set("x-amz-cf-id", &request_id);
    set("via", chain::VIA);
    if let Some(error) = &reply.error {
        set("x-edgeport-error", error);
    }

    let elapsed = started.elapsed();
    shared.metrics.add("edgeport_requests_total", vec![("status", reply.status.to_string())], 1);
    shared.metrics.observe("edgeport_request_duration_seconds", Vec::new(), elapsed);
    let time = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    shared.log(&json!({
        "time": (time * 1000.0).round() / 1000.0,
        "requestId": request_id,
        "clientIp": client_ip.to_string(),
        "method": method,
        "uri": uri,
        "status": reply.status,
        "bytes": reply.body.len(),
        "durationMs": (elapsed.as_secs_f64() * 1e6).round() / 1e3,
        "functions": trace.steps,
        "fastPath": trace.fast_path,
        "error": reply.error,
    }));
    response
}

fn plain(status: u16, message: String) -> chain::Reply {
    chain::Reply {
        status,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: Bytes::from(format!("{message}\n")),
        cache: "Error from cloudfront",
        error: Some(message),
    }
}

/// A CloudFront-style request id: 56 characters of URL-safe base64.
fn new_request_id() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id = String::with_capacity(56);
    while id.len() < 56 {
        let bits = functions::random_u32();
        for shift in (0..30).step_by(6) {
            if id.len() < 56 {
                id.push(char::from(ALPHABET[((bits >> shift) & 63) as usize]));
            }
        }
    }
    id
}
