//! `edgeport serve dist/ --origin http://127.0.0.1:8080`: the converted functions behind a
//! local CloudFront (docs/serve.md).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use edgeport_runtime::RuntimeOptions;
use edgeport_server::config::OriginUrl;
use edgeport_server::{AccessLog, Limits, ServeOptions};

use crate::Status;

/// Arguments of `edgeport serve`.
#[derive(clap::Args)]
pub struct Args {
    /// The output directory of `edgeport convert` (or one function's directory).
    dist: PathBuf,
    /// The default origin, http://HOST:PORT[/PATH] (wins over the config file's).
    #[arg(long, value_parser = |s: &str| s.parse::<OriginUrl>())]
    origin: Option<OriginUrl>,
    /// Where viewers connect.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Where /metrics is served.
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics: SocketAddr,
    /// Behaviours: path patterns to functions per trigger (TOML; see docs/serve.md). Default:
    /// every function on the triggers it was converted for.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Timeout of viewer-request and viewer-response functions, in milliseconds.
    #[arg(long = "viewer-timeout", value_name = "MS", default_value_t = 5_000)]
    viewer_timeout: u64,
    /// Timeout of origin-request and origin-response functions, in milliseconds.
    #[arg(long = "origin-timeout", value_name = "MS", default_value_t = 30_000)]
    origin_timeout: u64,
    /// Memory limit of viewer functions' instances, in MB.
    #[arg(long = "viewer-memory", value_name = "MB", default_value_t = 128)]
    viewer_memory: u64,
    /// Memory limit of origin functions' instances, in MB.
    #[arg(long = "origin-memory", value_name = "MB", default_value_t = 3008)]
    origin_memory: u64,
    /// Invocation threads: at most this many functions run at once (default: 2 per CPU, at
    /// least 4).
    #[arg(long)]
    threads: Option<usize>,
    /// A fresh instance for every invocation instead of warm ones.
    #[arg(long = "isolate-requests")]
    isolate_requests: bool,
    /// Do not answer from proven hook rules; always run the functions.
    #[arg(long = "no-fast-path")]
    no_fast_path: bool,
    /// Attach the viewer-request function's hook program at XDP on this interface (root).
    #[arg(long, value_name = "IFACE")]
    xdp: Option<String>,
    /// Connect to origin NAME at HOST:PORT instead of resolving it (repeatable).
    #[arg(long, value_name = "NAME=HOST:PORT", value_parser = parse_resolve)]
    resolve: Vec<(String, SocketAddr)>,
    /// Access log: a file, or - for stdout (default: stderr).
    #[arg(long = "access-log", value_name = "FILE")]
    access_log: Option<PathBuf>,
    /// Seconds requests in flight may take to finish after SIGINT or SIGTERM.
    #[arg(long = "grace-period", value_name = "SECONDS", default_value_t = 30)]
    grace_period: u64,
}

fn parse_resolve(text: &str) -> Result<(String, SocketAddr), String> {
    let (name, address) = text.split_once('=').ok_or("write --resolve NAME=HOST:PORT")?;
    let address = address.parse().map_err(|e| format!("{address:?} is not HOST:PORT with an IP address: {e}"))?;
    Ok((name.to_string(), address))
}

/// Serves until SIGINT or SIGTERM.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let defaults = Limits::default();
    let options = ServeOptions {
        dist: args.dist,
        config: args.config,
        origin: args.origin,
        listen: args.listen,
        metrics: args.metrics,
        limits: Limits {
            viewer_timeout: Duration::from_millis(args.viewer_timeout),
            origin_timeout: Duration::from_millis(args.origin_timeout),
            viewer_memory: args.viewer_memory << 20,
            origin_memory: args.origin_memory << 20,
            threads: args.threads.unwrap_or(defaults.threads),
            isolate: args.isolate_requests,
        },
        fast_path: !args.no_fast_path,
        xdp: args.xdp,
        resolve: args.resolve,
        access_log: match args.access_log {
            None => AccessLog::Stderr,
            Some(path) if path.as_os_str() == "-" => AccessLog::Stdout,
            Some(path) => AccessLog::File(path),
        },
        grace_period: Duration::from_secs(args.grace_period),
        cache_dir: RuntimeOptions::default_cache_dir(),
    };
    edgeport_server::serve(options, |listening| {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "listening on http://{}", listening.listen);
        let _ = writeln!(stdout, "metrics on http://{}/metrics", listening.metrics);
        let _ = stdout.flush();
    })?;
    Ok(Status::Clean)
}
