//! `edgeport invoke dist/<fn> --event event.json`: run one event and print what CloudFront
//! would do with the result.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use edgeport_converter::output::ARTIFACT_FILE;
use edgeport_runtime::cloudfront::{self, Decision, EventType};
use edgeport_runtime::wasi::Clock;
use edgeport_runtime::{InstanceOptions, Invocation, LambdaContext, Outcome};

use crate::Status;

/// Arguments of `edgeport invoke`.
#[derive(clap::Args)]
pub struct Args {
    /// A converted function's directory (or its function.wasm).
    function: PathBuf,
    /// The Lambda@Edge event, as JSON.
    #[arg(long)]
    event: PathBuf,
    /// Event type (default: the event's `config.eventType`).
    #[arg(long = "event-type", value_parser = |s: &str| s.parse::<EventType>())]
    event_type: Option<EventType>,
    /// Seed for Math.random (default: random).
    #[arg(long)]
    seed: Option<u32>,
    /// Freeze the clock at this many milliseconds since the epoch (default: the real clock).
    #[arg(long, num_args = 0..=1, default_missing_value = "1767225600000")]
    now: Option<u64>,
    /// Print the handler's raw outcome instead of CloudFront's decision.
    #[arg(long)]
    raw: bool,
}

/// Invokes the function once.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let artifact = if args.function.is_dir() { args.function.join(ARTIFACT_FILE) } else { args.function.clone() };
    let event_json = std::fs::read_to_string(&args.event).with_context(|| format!("reading {}", args.event.display()))?;
    let event: serde_json::Value = serde_json::from_str(&event_json)
        .with_context(|| format!("{} is not valid JSON; an event is a Lambda@Edge event object", args.event.display()))?;
    let event_type = match args.event_type.or_else(|| cloudfront::event_type_of(&event)) {
        Some(event_type) => event_type,
        None => bail!(
            "{} has no Records[0].cf.config.eventType; pass --event-type viewer-request|origin-request|origin-response|viewer-response",
            args.event.display()
        ),
    };

    let runtime = super::runtime();
    let function = runtime.load(&artifact).with_context(|| format!("loading {}", artifact.display()))?;
    let metadata = function.metadata().with_context(|| format!("{} is not an edgeport artifact", artifact.display()))?;
    if !metadata.event_types.iter().any(|t| t == event_type.as_str()) {
        eprintln!("warning: {} is attached to {}, not {event_type}", metadata.name, metadata.event_types.join(", "));
    }
    let options = match args.now {
        Some(unix_ms) => InstanceOptions { clock: Clock::Fixed { unix_ms }, ..InstanceOptions::live() },
        None => InstanceOptions::live(),
    };
    let now_ms = options.clock.now_ms();
    let seed = args.seed.unwrap_or_else(random_seed);
    let mut instance = function.instantiate(options)?;
    let context = LambdaContext::for_function(&metadata.name, &request_id(&event));
    let invocation = Invocation { event_json: &event_json, context: &context, seed, deadline_ms: now_ms + event_type.timeout_ms() };
    let outcome = instance.invoke(&invocation)?;
    relay_logs(&mut instance)?;

    let mut stdout = std::io::stdout().lock();
    if args.raw {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&outcome)?)?;
        return Ok(if matches!(outcome, Outcome::Result { .. }) { Status::Clean } else { Status::Findings });
    }
    match cloudfront::decide(event_type, &event, &outcome) {
        Decision::Forward { request: value } | Decision::Respond { response: value } => {
            writeln!(stdout, "{}", serde_json::to_string_pretty(&value)?)?;
            Ok(Status::Clean)
        }
        Decision::Fail { status, title, reason } => {
            let mut stderr = std::io::stderr().lock();
            writeln!(stderr, "error: CloudFront would answer {status} ({title}): {reason}")?;
            if let Outcome::Error { trace, .. } = &outcome {
                for line in trace.iter().skip(1) {
                    writeln!(stderr, "    {line}")?;
                }
            }
            Ok(Status::Findings)
        }
    }
}

fn relay_logs(instance: &mut edgeport_runtime::Instance) -> anyhow::Result<()> {
    let (stdout, stderr) = instance.take_logs();
    let mut sink = std::io::stderr().lock();
    sink.write_all(&stdout)?;
    sink.write_all(&stderr)?;
    Ok(())
}

/// The event's CloudFront request id, which Lambda@Edge also uses as the invocation's id.
fn request_id(event: &serde_json::Value) -> String {
    event
        .pointer("/Records/0/cf/config/requestId")
        .and_then(|v| v.as_str())
        .unwrap_or("8f5e2a3c-0000-4000-8000-000000000000")
        .to_string()
}

/// A seed that differs between runs, as Lambda's Math.random would.
fn random_seed() -> u32 {
    let nanos = Clock::System.now_ns();
    (nanos ^ (nanos >> 32)) as u32
}
