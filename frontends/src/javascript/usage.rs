//! Uses of the Node.js runtime that the edge cannot honour even when the module loads:
//! `process.env` reads, evaluation of code built at run time, file system writes, and the parts
//! of supported built-ins the engine leaves out (which would throw `ERR_EDGEPORT_UNSUPPORTED`).

use swc_common::Span;
use swc_ecma_ast::{CallExpr, Callee, Expr, ExprOrSpread, MemberExpr, NewExpr, Program};
use swc_ecma_visit::{noop_visit_type, Visit, VisitWith};

use super::imports::ModuleBindings;
use super::parse::SourceText;
use super::syntax::{ident_name, is_literal, is_member_of, member_prop_name, unwrap_expr};
use crate::diagnostic::{codes, Diagnostic};

/// Functions of the `vm` module that compile a string.
const VM_EVALUATORS: &[&str] = &[
    "runInContext",
    "runInNewContext",
    "runInThisContext",
    "compileFunction",
    "Script",
    "SourceTextModule",
];

/// Prefixes of `fs` functions that write.
const FS_WRITE_PREFIXES: &[&str] = &[
    "writeFile",
    "appendFile",
    "mkdir",
    "mkdtemp",
    "unlink",
    "rm",
    "rename",
    "copyFile",
    "cp",
    "truncate",
    "symlink",
    "chmod",
    "createWriteStream",
];

/// Functions of the supported built-ins that the engine does not implement (see the header of
/// each module in `converter/engines/javascript/js/node/`), by module.
const UNIMPLEMENTED: &[(&str, &[&str])] = &[
    (
        "crypto",
        &[
            "checkPrime", "checkPrimeSync", "createCipheriv", "createDecipheriv", "createDiffieHellman",
            "createDiffieHellmanGroup", "createECDH", "createPrivateKey", "createPublicKey", "createSign",
            "createVerify", "diffieHellman", "generateKey", "generateKeyPair", "generateKeyPairSync",
            "generateKeySync", "generatePrime", "generatePrimeSync", "getDiffieHellman", "hkdf", "hkdfSync",
            "pbkdf2", "pbkdf2Sync", "privateDecrypt", "privateEncrypt", "publicDecrypt", "publicEncrypt",
            "scrypt", "scryptSync", "sign", "verify",
        ],
    ),
    ("fs", &["createReadStream", "open", "openSync", "read", "readSync", "watch", "watchFile"]),
    ("stream", &["pipeline", "finished"]),
];

fn is_fs_module(module: &str) -> bool {
    module == "fs" || module == "fs/promises"
}

fn is_fs_write(name: &str) -> bool {
    FS_WRITE_PREFIXES
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// Finds runtime uses the edge cannot honour.
pub(crate) fn analyze(
    program: &Program,
    source: SourceText<'_>,
    bindings: &ModuleBindings,
) -> Vec<Diagnostic> {
    let mut finder = UsageFinder {
        source,
        bindings,
        diagnostics: Vec::new(),
    };
    program.visit_with(&mut finder);
    finder.diagnostics
}

struct UsageFinder<'a> {
    source: SourceText<'a>,
    bindings: &'a ModuleBindings,
    diagnostics: Vec<Diagnostic>,
}

impl UsageFinder<'_> {
    /// The name of a function a callee refers to, when it belongs to `module_matches`: either
    /// `module.name` or a name bound to the module's export.
    fn module_function(&self, callee: &Expr, module_matches: fn(&str) -> bool) -> Option<String> {
        match unwrap_expr(callee) {
            Expr::Member(member) => {
                let module = self.bindings.module_of(&member.obj)?;
                module_matches(&module)
                    .then(|| member_prop_name(&member.prop))
                    .flatten()
            }
            Expr::Ident(ident) => {
                let (module, export) = self.bindings.export_of(&ident.sym)?;
                module_matches(module).then(|| export.to_owned())
            }
            _ => None,
        }
    }

    /// `(module, function)` when the callee is a built-in function the engine leaves out:
    /// `crypto.createSign` or a name bound to it.
    fn unimplemented_call(&self, callee: &Expr) -> Option<(&'static str, String)> {
        let module = match unwrap_expr(callee) {
            Expr::Member(member) => self.bindings.module_of(&member.obj)?,
            Expr::Ident(ident) => self.bindings.export_of(&ident.sym)?.0.to_owned(),
            _ => return None,
        };
        let function = self.module_function(callee, |_| true)?;
        UNIMPLEMENTED
            .iter()
            .find(|(name, functions)| *name == module && functions.contains(&function.as_str()))
            .map(|(name, _)| (*name, function))
    }

    fn check_evaluation(&mut self, callee: &Expr, args: &[ExprOrSpread], span: Span, is_new: bool) {
        let non_literal = args
            .iter()
            .any(|argument| argument.spread.is_some() || !is_literal(&argument.expr));
        let first_non_literal = args
            .first()
            .is_some_and(|argument| argument.spread.is_some() || !is_literal(&argument.expr));
        let evaluator = match ident_name(callee).map(|name| name.as_str()) {
            Some("eval") if !is_new && first_non_literal => Some("eval".to_owned()),
            Some("Function") if non_literal => {
                Some(if is_new { "new Function" } else { "Function" }.to_owned())
            }
            _ => self
                .module_function(callee, |module| module == "vm")
                .filter(|name| VM_EVALUATORS.contains(&name.as_str()) && first_non_literal)
                .map(|name| format!("vm.{name}")),
        };
        if let Some(evaluator) = evaluator {
            self.diagnostics.push(
                Diagnostic::error(codes::DYNAMIC_CODE, format!("'{evaluator}' evaluates code built at run time"))
                    .with_label(self.source.range(span), "the code is not a literal")
                    .with_help("replace the evaluation with ordinary code; the edge engine runs only code known at conversion time"),
            );
        }
    }
}

impl Visit for UsageFinder<'_> {
    noop_visit_type!();

    fn visit_member_expr(&mut self, member: &MemberExpr) {
        // Label the whole read, `process.env.NAME`, when there is a name.
        let object_is_env = matches!(unwrap_expr(&member.obj), Expr::Member(inner) if is_member_of(inner, "process", "env"));
        if object_is_env || is_member_of(member, "process", "env") {
            self.diagnostics.push(
                Diagnostic::warning(
                    codes::PROCESS_ENV,
                    "Lambda@Edge has no environment variables; the value is undefined at the edge; template it at deploy time",
                )
                .with_label(self.source.range(member.span), "environment read here"),
            );
            if object_is_env {
                member.prop.visit_with(self);
            }
            return;
        }
        member.visit_children_with(self);
    }

    fn visit_call_expr(&mut self, call: &CallExpr) {
        if let Callee::Expr(callee) = &call.callee {
            self.check_evaluation(callee, &call.args, call.span, false);
            if let Some(function) = self
                .module_function(callee, is_fs_module)
                .filter(|name| is_fs_write(name))
            {
                self.diagnostics.push(
                    Diagnostic::error(
                        codes::FILESYSTEM_WRITE,
                        format!(
                            "'{function}' writes to the file system, which the edge does not have"
                        ),
                    )
                    .with_label(self.source.range(call.span), "file system write")
                    .with_help("keep the data in memory, or drop the write"),
                );
            }
            if let Some((module, function)) = self.unimplemented_call(callee) {
                self.diagnostics.push(
                    Diagnostic::error(
                        codes::UNSUPPORTED_BUILTIN,
                        format!("'{module}.{function}' is not available in the edge engine"),
                    )
                    .with_label(self.source.range(call.span), "called here")
                    .with_help(format!(
                        "the engine's {module} module leaves {function} out; precompute its result at deploy time or move the work to the origin"
                    )),
                );
            }
        }
        call.visit_children_with(self);
    }

    fn visit_new_expr(&mut self, new: &NewExpr) {
        self.check_evaluation(
            &new.callee,
            new.args.as_deref().unwrap_or_default(),
            new.span,
            true,
        );
        new.visit_children_with(self);
    }
}
