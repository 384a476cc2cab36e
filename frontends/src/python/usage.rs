//! Uses of the Python runtime that the edge cannot honour even when the module loads:
//! environment reads, starting processes through `os`, and file system writes.

use rustpython_parser::ast::{Expr, ExprCall, Stmt};

use super::syntax::{argument, callee_name, span, string_value, walk_expr, ImportBindings, Visit};
use crate::diagnostic::{codes, Diagnostic};

/// Functions of `os` that start processes.
const OS_PROCESS_PREFIXES: &[&str] = &["system", "popen", "exec", "spawn", "fork", "posix_spawn"];

/// Functions of `os` that write to the file system.
const OS_WRITES: &[&str] = &[
    "chmod",
    "chown",
    "link",
    "makedirs",
    "mkdir",
    "mkfifo",
    "remove",
    "removedirs",
    "rename",
    "renames",
    "replace",
    "rmdir",
    "symlink",
    "truncate",
    "unlink",
    "utime",
];

/// Functions of `shutil` that only read.
const SHUTIL_READS: &[&str] = &["disk_usage", "get_terminal_size", "which"];

/// Methods of `pathlib.Path` that write and are distinctive enough to recognise on any
/// object (`mkdir` or `unlink` could be anyone's).
const PATH_WRITES: &[&str] = &["write_text", "write_bytes"];

/// Finds runtime uses the edge cannot honour.
pub(crate) fn analyze(body: &[Stmt], bindings: &ImportBindings) -> Vec<Diagnostic> {
    let mut finder = UsageFinder {
        bindings,
        diagnostics: Vec::new(),
    };
    finder.visit_body(body);
    finder.diagnostics
}

struct UsageFinder<'a> {
    bindings: &'a ImportBindings,
    diagnostics: Vec<Diagnostic>,
}

fn is_environ(name: &str) -> bool {
    name == "os.environ" || name == "os.environb"
}

impl UsageFinder<'_> {
    fn environment_read(&mut self, expr: &Expr) {
        self.diagnostics.push(
            Diagnostic::warning(
                codes::PROCESS_ENV,
                "Lambda@Edge has no environment variables; the variable is missing at the edge; template the value at deploy time",
            )
            .with_label(span(expr), "environment read here"),
        );
    }

    fn check_call(&mut self, call: &ExprCall, expr: &Expr) -> bool {
        let Some(name) = callee_name(self.bindings, call) else {
            return self.check_path_write(call, expr);
        };
        if name == "os.getenv" || name == "os.getenvb" || name.strip_prefix("os.environ.").is_some()
        {
            self.environment_read(expr);
            return true;
        }
        if let Some(function) = name.strip_prefix("os.") {
            if OS_PROCESS_PREFIXES
                .iter()
                .any(|prefix| function.starts_with(prefix))
            {
                self.diagnostics.push(
                    Diagnostic::error(
                        codes::CHILD_PROCESS,
                        format!("'{name}' cannot start processes at the edge"),
                    )
                    .with_label(span(expr), "process started here")
                    .with_help("do the work in Python, precompute it, or move it to origin"),
                );
            } else if OS_WRITES.contains(&function) {
                self.file_write(&name, expr);
            }
            return false;
        }
        if let Some(function) = name.strip_prefix("shutil.") {
            if !SHUTIL_READS.contains(&function) {
                self.file_write(&name, expr);
            }
            return false;
        }
        if name.starts_with("tempfile.") {
            self.file_write(&name, expr);
            return false;
        }
        if matches!(name.as_str(), "open" | "io.open" | "codecs.open") {
            let mode = argument(call, 1, "mode").and_then(string_value);
            if mode.is_some_and(|mode| mode.contains(['w', 'a', 'x', '+'])) {
                self.file_write(
                    &format!("{name}(..., '{}')", mode.unwrap_or_default()),
                    expr,
                );
            }
            return false;
        }
        self.check_path_write(call, expr)
    }

    fn check_path_write(&mut self, call: &ExprCall, expr: &Expr) -> bool {
        if let Expr::Attribute(attribute) = &*call.func {
            let method = attribute.attr.as_str();
            if PATH_WRITES.contains(&method) {
                self.file_write(&format!("Path.{method}"), expr);
            }
        }
        false
    }

    fn file_write(&mut self, what: &str, expr: &Expr) {
        self.diagnostics.push(
            Diagnostic::error(
                codes::FILESYSTEM_WRITE,
                format!("'{what}' writes to the file system, which the edge does not have"),
            )
            .with_label(span(expr), "file system write")
            .with_help("keep the data in memory, or drop the write; reading files bundled with the function still works"),
        );
    }
}

impl Visit for UsageFinder<'_> {
    fn visit_expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Call(call) if self.check_call(call, expr) => {
                // The arguments may read the environment too.
                for argument in &call.args {
                    self.visit_expr(argument);
                }
            }
            // `os.environ['X']` is labelled as a whole.
            Expr::Subscript(subscript)
                if self
                    .bindings
                    .qualified_name(&subscript.value)
                    .is_some_and(|name| is_environ(&name)) =>
            {
                self.environment_read(expr);
                self.visit_expr(&subscript.slice);
            }
            Expr::Attribute(_) | Expr::Name(_)
                if self
                    .bindings
                    .qualified_name(expr)
                    .is_some_and(|name| is_environ(&name)) =>
            {
                self.environment_read(expr);
            }
            _ => walk_expr(self, expr),
        }
    }
}
