//! `edgeport explain CODE`: what a diagnostic means and how to fix it.

use std::io::Write;

use anyhow::bail;

use crate::Status;

/// Arguments of `edgeport explain`.
#[derive(clap::Args)]
pub struct Args {
    /// A diagnostic code such as EP0105.
    code: String,
}

/// Prints the explanation of one code.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let code = args.code.to_ascii_uppercase();
    let Some(text) = edgeport_frontends::diagnostic::explain(&code) else {
        bail!("unknown diagnostic code '{}'; codes look like EP0001", args.code);
    };
    writeln!(std::io::stdout(), "{code}\n\n{text}")?;
    Ok(Status::Clean)
}
