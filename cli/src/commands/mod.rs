//! One module per subcommand.

pub mod convert;
pub mod explain;
pub mod invoke;
pub mod test;

use edgeport_runtime::{Runtime, RuntimeOptions};

/// The runtime every command shares, with the default on-disk cache of compiled engine code.
pub fn runtime() -> Runtime {
    Runtime::new(RuntimeOptions { cache_dir: RuntimeOptions::default_cache_dir() })
}
