//! `edgeport`: migrate Lambda@Edge functions to WebAssembly and run them.
//!
//! This binary only parses arguments, calls the libraries and maps results to exit codes:
//! 0 clean, 1 findings (a function failed to convert, a handler failed), 2 the tool itself
//! failed or was used wrongly. One file per subcommand under `commands/`.

mod commands;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Migrate legacy Lambda@Edge functions to a WebAssembly edge runtime.
#[derive(Parser)]
#[command(name = "edgeport", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert handlers into self-contained Wasm modules.
    Convert(commands::convert::Args),
    /// Run a converted function on one event and print what CloudFront would do.
    Invoke(commands::invoke::Args),
    /// Run the original and the converted functions on the same events; report differences.
    Test(commands::test::Args),
    /// Serve the converted functions over HTTP like a local CloudFront, around a real origin.
    Serve(commands::serve::Args),
    /// Explain which eBPF hook rules were recognised and proven, and why others were rejected.
    Hooks(commands::hooks::Args),
    /// Explain a diagnostic code.
    Explain(commands::explain::Args),
}

/// What a command found, mapped to the exit code.
pub enum Status {
    /// Everything worked.
    Clean,
    /// The command ran but found problems (failed conversions, a failing handler).
    Findings,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => commands::convert::run(args),
        Command::Invoke(args) => commands::invoke::run(args),
        Command::Test(args) => commands::test::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Hooks(args) => commands::hooks::run(args),
        Command::Explain(args) => commands::explain::run(args),
    };
    match result {
        Ok(Status::Clean) => ExitCode::SUCCESS,
        Ok(Status::Findings) => ExitCode::from(1),
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Output piped into `head` and closed early is not a failure.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
