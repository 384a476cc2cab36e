//! Module imports: the `imports` and `builtins` facts, the names imports bind (which the other
//! passes resolve calls with), and diagnostics for modules the edge cannot provide.
//!
//! Invariant: a module the edge cannot provide is reported once per import statement, at the
//! statement.

use std::collections::BTreeSet;

use rustpython_parser::ast::{ExceptHandler, Expr, Stmt, StmtImport, StmtImportFrom};

use super::stdlib::is_stdlib;
use super::syntax::{span, walk_stmt, ImportBindings, Visit};
use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::facts::{Import, ImportKind};

/// The AWS SDK for Python and the packages around it.
const AWS_SDK_MODULES: &[&str] = &[
    "aioboto3",
    "aiobotocore",
    "awswrangler",
    "boto3",
    "botocore",
    "s3transfer",
];

/// Modules whose purpose is talking to other hosts.
const NETWORK_MODULES: &[&str] = &[
    "aiohttp",
    "ftplib",
    "http.client",
    "http.server",
    "httplib2",
    "httpx",
    "imaplib",
    "nntplib",
    "poplib",
    "requests",
    "smtplib",
    "socket",
    "socketserver",
    "ssl",
    "telnetlib",
    "urllib.request",
    "urllib3",
    "websocket",
    "websockets",
    "xmlrpc.client",
];

/// Modules that start other processes.
const PROCESS_MODULES: &[&str] = &["multiprocessing", "pty", "subprocess"];

/// Packages that ship compiled extension modules (and `ctypes`, which loads native libraries).
const NATIVE_MODULES: &[&str] = &[
    "Crypto",
    "Cryptodome",
    "Levenshtein",
    "MySQLdb",
    "PIL",
    "bcrypt",
    "brotli",
    "cffi",
    "ctypes",
    "cv2",
    "cryptography",
    "gevent",
    "greenlet",
    "grpc",
    "lxml",
    "matplotlib",
    "nacl",
    "numpy",
    "orjson",
    "pandas",
    "psutil",
    "psycopg2",
    "pycurl",
    "pydantic_core",
    "rapidjson",
    "regex",
    "scipy",
    "sklearn",
    "tensorflow",
    "torch",
    "ujson",
    "uvloop",
    "zstandard",
];

/// Modules for threads and signals, which a single-threaded WebAssembly instance lacks.
const THREAD_MODULES: &[&str] = &["_thread", "concurrent.futures", "signal", "threading"];

/// Everything the import pass found.
pub(crate) struct ModuleLoads {
    pub(crate) imports: Vec<Import>,
    pub(crate) builtins: Vec<String>,
    pub(crate) bindings: ImportBindings,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Collects the imports of a module.
pub(crate) fn analyze(body: &[Stmt]) -> ModuleLoads {
    let mut collector = Collector {
        guarded: 0,
        loads: ModuleLoads {
            imports: Vec::new(),
            builtins: Vec::new(),
            bindings: ImportBindings::default(),
            diagnostics: Vec::new(),
        },
        builtins: BTreeSet::new(),
    };
    collector.visit_body(body);
    let mut loads = collector.loads;
    loads.builtins = collector.builtins.into_iter().collect();
    loads
}

struct Collector {
    /// How many enclosing `try` blocks catch a failed import: an import there may fail and
    /// the fallback run, so what the edge lacks is a warning rather than an error.
    guarded: usize,
    loads: ModuleLoads,
    builtins: BTreeSet<String>,
}

impl Collector {
    fn push(&mut self, specifier: String, kind: ImportKind, range: std::ops::Range<usize>) {
        let relative = specifier.starts_with('.');
        let top = top_level(&specifier);
        let builtin = !relative && is_stdlib(top);
        if builtin {
            self.builtins.insert(top.to_owned());
        }
        self.loads.imports.push(Import {
            specifier,
            kind,
            span: range,
            builtin,
        });
    }

    fn import(&mut self, import: &StmtImport) {
        let range = span(import);
        for alias in &import.names {
            let module = alias.name.as_str();
            match &alias.asname {
                Some(local) => self.loads.bindings.bind(local.as_str(), module.to_owned()),
                None => {
                    let top = top_level(module);
                    self.loads.bindings.bind(top, top.to_owned());
                }
            }
            self.push(module.to_owned(), ImportKind::Import, range.clone());
            self.check(&[module.to_owned()], &range);
        }
    }

    fn import_from(&mut self, import: &StmtImportFrom) {
        let range = span(import);
        let level = import.level.as_ref().map_or(0, |level| level.to_usize());
        let dots = ".".repeat(level.min(64));
        let module = import.module.as_ref().map_or("", |module| module.as_str());
        let specifier = format!("{dots}{module}");
        let separator = if module.is_empty() { "" } else { "." };
        let mut loaded = vec![specifier.clone()];
        for alias in &import.names {
            let name = alias.name.as_str();
            if name == "*" {
                continue;
            }
            let target = format!("{specifier}{separator}{name}");
            let local = alias.asname.as_ref().map_or(name, |local| local.as_str());
            self.loads.bindings.bind(local, target.clone());
            // `from urllib import request` loads the submodule `urllib.request`.
            loaded.push(target);
        }
        self.push(specifier, ImportKind::FromImport, range.clone());
        if level == 0 {
            self.check(&loaded, &range);
        }
    }

    /// Reports the first module of `modules` the edge cannot provide (they are one import).
    /// Whether another module is beside the file or missing is for the converter, which
    /// bundles the local ones, to tell ([`unbundled_import`]).
    fn check(&mut self, modules: &[String], range: &std::ops::Range<usize>) {
        let Some(mut diagnostic) = modules.iter().find_map(|module| edge_diagnostic(module, range.clone())) else {
            return;
        };
        if self.guarded > 0 && diagnostic.severity == Severity::Error {
            diagnostic.severity = Severity::Warning;
            diagnostic.message.push_str(" (the import is inside `try`/`except ImportError`: at the edge it fails and the fallback runs)");
        }
        self.loads.diagnostics.push(diagnostic);
    }
}

/// The warning for an import of `import.specifier` that is neither in the standard library nor
/// a module the converter found beside the handler; `None` for the standard library and
/// relative imports.
pub fn unbundled_import(import: &Import) -> Option<Diagnostic> {
    let top = top_level(&import.specifier);
    if import.builtin || top.is_empty() || import.specifier.starts_with('.') {
        return None;
    }
    Some(
        Diagnostic::warning(
            codes::THIRD_PARTY_PACKAGE,
            format!("'{top}' is not in the standard library; the package must be bundled with the function"),
        )
        .with_label(import.span.clone(), "imported here")
        .with_help(format!("install it into the function's directory (`pip install --target . {top}`) so that it is converted with the function, or replace it with the standard library")),
    )
}

impl Visit for Collector {
    fn visit_stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Import(import) => self.import(import),
            Stmt::ImportFrom(import) => self.import_from(import),
            Stmt::Try(block) if block.handlers.iter().any(catches_import_errors) => {
                self.guarded += 1;
                self.visit_body(&block.body);
                self.guarded -= 1;
                for ExceptHandler::ExceptHandler(handler) in &block.handlers {
                    self.visit_body(&handler.body);
                }
                self.visit_body(&block.orelse);
                self.visit_body(&block.finalbody);
            }
            _ => walk_stmt(self, stmt),
        }
    }
}

/// Whether an `except` clause catches a failed import: bare, or naming `ImportError`,
/// `ModuleNotFoundError`, `Exception` or `BaseException` (alone or in a tuple).
fn catches_import_errors(handler: &ExceptHandler) -> bool {
    let ExceptHandler::ExceptHandler(handler) = handler;
    let catches = |expr: &Expr| {
        matches!(expr, Expr::Name(name) if ["ImportError", "ModuleNotFoundError", "Exception", "BaseException"].contains(&name.id.as_str()))
    };
    match handler.type_.as_deref() {
        None => true,
        Some(Expr::Tuple(tuple)) => tuple.elts.iter().any(catches),
        Some(expr) => catches(expr),
    }
}

/// The part of a dotted module name before the first dot.
pub(crate) fn top_level(module: &str) -> &str {
    module.split('.').next().unwrap_or(module)
}

/// Whether `module` is `listed` or a submodule of it.
fn is_within(module: &str, listed: &str) -> bool {
    module
        .strip_prefix(listed)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

fn listed(module: &str, list: &[&str]) -> bool {
    list.iter().any(|listed| is_within(module, listed))
}

/// The diagnostic for loading a module the edge cannot provide, if any.
fn edge_diagnostic(module: &str, range: std::ops::Range<usize>) -> Option<Diagnostic> {
    let top = top_level(module);
    if listed(module, AWS_SDK_MODULES) {
        return Some(
            Diagnostic::error(codes::AWS_SDK, format!("the AWS SDK ('{top}') calls AWS services over the network"))
                .with_label(range, "imported here")
                .with_help("outbound calls are not available in the edge runtime; fetch the data at deploy time or move the call to origin"),
        );
    }
    if listed(module, NETWORK_MODULES) {
        return Some(
            Diagnostic::error(codes::OUTBOUND_NETWORK, format!("'{module}' makes outbound network calls"))
                .with_label(range, "imported here")
                .with_help("outbound calls are not available in the edge runtime; precompute the data (for example bake keys into the code) or move the call to origin"),
        );
    }
    if listed(module, PROCESS_MODULES) {
        return Some(
            Diagnostic::error(
                codes::CHILD_PROCESS,
                format!("'{top}' cannot start processes at the edge"),
            )
            .with_label(range, "imported here")
            .with_help("do the work in Python, precompute it, or move it to origin"),
        );
    }
    if listed(module, NATIVE_MODULES) {
        return Some(
            Diagnostic::error(codes::NATIVE_ADDON, format!("'{top}' loads compiled extension modules, which cannot run in WebAssembly"))
                .with_label(range, "imported here")
                .with_help("use a pure-Python package or the standard library (hashlib and hmac instead of cryptography for HMACs, for example), or move the work to origin"),
        );
    }
    if listed(module, THREAD_MODULES) {
        let (message, help) = if top == "signal" {
            (
                "signal handlers never run at the edge".to_owned(),
                "the edge enforces the time limit itself; drop alarm-based timeouts",
            )
        } else {
            (
                format!("'{module}' cannot start threads at the edge; starting one raises RuntimeError"),
                "do the work inline in the handler; locks and thread-locals still work in the single thread",
            )
        };
        return Some(
            Diagnostic::warning(codes::THREADS_AND_SIGNALS, message)
                .with_label(range, "imported here")
                .with_help(help),
        );
    }
    None
}
