//! Module loads: the import facts, what each local name is bound to (`const fs =
//! require('fs')`), and the diagnostics for modules the edge cannot provide.
//!
//! Invariant: a module load produces at most one diagnostic, at the load itself.

use std::collections::{BTreeSet, HashMap};

use swc_atoms::Atom;
use swc_common::Span;
use swc_ecma_ast::{
    CallExpr, Callee, ExportAll, Expr, Ident, ImportDecl, ImportSpecifier, NamedExport,
    ObjectPatProp, Pat, Program, TsImportEqualsDecl, TsModuleRef, VarDeclarator,
};
use swc_ecma_visit::{noop_visit_type, Visit, VisitWith};

use super::erasure::Erasure;
use crate::facts::{Import, ImportKind};
use super::parse::SourceText;
use super::syntax::{
    export_name, ident_name, member_prop_name, prop_name, require_call_specifier, require_specifier,
    str_value, string_value, unwrap_expr,
};
use crate::diagnostic::{codes, Diagnostic};

/// Node's built-in modules (as of Node 20), without `node:` prefix.
const NODE_BUILTINS: &[&str] = &[
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "domain",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "repl",
    "stream",
    "string_decoder",
    "sys",
    "timers",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
];

/// Built-ins the edge engine provides (`converter/engines/javascript/js/node/`).
pub const SUPPORTED_BUILTINS: &[&str] = &[
    "buffer",
    "crypto",
    "events",
    "fs",
    "fs/promises",
    "path",
    "querystring",
    "stream",
    "string_decoder",
    "timers",
    "timers/promises",
    "url",
    "util",
];

/// Built-ins whose purpose is outbound networking.
const NETWORK_BUILTINS: &[&str] = &["http", "https", "net", "tls", "dgram", "http2", "dns"];

/// npm packages that load a compiled native addon.
const NATIVE_PACKAGES: &[&str] = &[
    "@mapbox/node-pre-gyp",
    "@napi-rs/canvas",
    "argon2",
    "bcrypt",
    "better-sqlite3",
    "bufferutil",
    "canvas",
    "cpu-features",
    "deasync",
    "ffi-napi",
    "fibers",
    "grpc",
    "kerberos",
    "leveldown",
    "libxmljs",
    "microtime",
    "node-gyp-build",
    "node-sass",
    "re2",
    "ref-napi",
    "serialport",
    "sharp",
    "sodium-native",
    "sqlite3",
    "usb",
    "utf-8-validate",
    "zeromq",
];

/// The built-in a specifier names, without `node:` prefix, if it names one.
pub(crate) fn builtin_name(specifier: &str) -> Option<&str> {
    if let Some(name) = specifier.strip_prefix("node:") {
        return Some(name);
    }
    let base = specifier.split('/').next().unwrap_or(specifier);
    NODE_BUILTINS.contains(&base).then_some(specifier)
}

/// What the local name of an import or `require` refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ModuleBinding {
    /// The whole module: `const fs = require('fs')`, `import * as fs from 'fs'`.
    Module(String),
    /// One export of it: `const { writeFile } = require('fs')`.
    Export(String, String),
}

/// Local names bound to modules, by name (the analysis does not model scopes).
#[derive(Debug, Default)]
pub(crate) struct ModuleBindings {
    names: HashMap<Atom, ModuleBinding>,
}

impl ModuleBindings {
    /// The module an expression evaluates to: a bound name, `require('m')`, or `fs.promises`.
    /// Built-in names are returned without `node:` prefix.
    pub(crate) fn module_of(&self, expr: &Expr) -> Option<String> {
        match unwrap_expr(expr) {
            Expr::Ident(ident) => match self.names.get(&ident.sym)? {
                ModuleBinding::Module(module) => Some(module.clone()),
                ModuleBinding::Export(module, name) => submodule(module, name),
            },
            Expr::Member(member) => {
                let module = self.module_of(&member.obj)?;
                submodule(&module, &member_prop_name(&member.prop)?)
            }
            other => require_specifier(other).map(|specifier| normalize(&specifier)),
        }
    }

    /// The module export a bare identifier is bound to.
    pub(crate) fn export_of(&self, name: &Atom) -> Option<(&str, &str)> {
        match self.names.get(name)? {
            ModuleBinding::Export(module, export) => Some((module, export)),
            ModuleBinding::Module(_) => None,
        }
    }
}

/// `fs.promises` is the module `fs/promises`; other exports are not modules.
fn submodule(module: &str, export: &str) -> Option<String> {
    (module == "fs" && export == "promises").then(|| "fs/promises".to_owned())
}

fn normalize(specifier: &str) -> String {
    specifier
        .strip_prefix("node:")
        .unwrap_or(specifier)
        .to_owned()
}

/// Everything the module-load pass found.
pub(crate) struct ModuleLoads {
    pub(crate) imports: Vec<Import>,
    pub(crate) builtins: Vec<String>,
    pub(crate) bindings: ModuleBindings,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Collects module loads and their diagnostics.
pub(crate) fn analyze(program: &Program, source: SourceText<'_>, erasure: &Erasure) -> ModuleLoads {
    let mut collector = Collector {
        source,
        erasure,
        imports: Vec::new(),
        bindings: ModuleBindings::default(),
        uses_buffer_global: false,
        computed: Vec::new(),
    };
    program.visit_with(&mut collector);
    let mut builtins: BTreeSet<String> = collector
        .imports
        .iter()
        .filter_map(|import| builtin_name(&import.specifier).map(str::to_owned))
        .collect();
    if collector.uses_buffer_global {
        builtins.insert("buffer".to_owned());
    }
    let mut diagnostics: Vec<Diagnostic> = collector
        .imports
        .iter()
        .filter_map(load_diagnostic)
        .collect();
    diagnostics.extend(collector.computed.iter().map(|span| {
        Diagnostic::warning(codes::UNRESOLVED_MODULE, "a module named at run time cannot be bundled")
            .with_label(span.clone(), "the specifier is not a string literal")
            .with_help("only modules required by a literal are part of the converted function; require each possible module by name (a lookup table of requires), or this load fails at the edge")
    }));
    ModuleLoads {
        imports: collector.imports,
        builtins: builtins.into_iter().collect(),
        bindings: collector.bindings,
        diagnostics,
    }
}

/// The diagnostic for loading a module the edge cannot provide, if any.
fn load_diagnostic(import: &Import) -> Option<Diagnostic> {
    let specifier = import.specifier.as_str();
    let span = import.span.clone();
    let verb = match import.kind {
        ImportKind::Require => "required here",
        ImportKind::Import | ImportKind::DynamicImport | ImportKind::FromImport => "imported here",
        ImportKind::ReExport => "re-exported here",
    };
    let package = package_name(specifier);
    if specifier.ends_with(".node") || NATIVE_PACKAGES.contains(&package) {
        return Some(
            Diagnostic::error(codes::NATIVE_ADDON, format!("'{specifier}' loads a native addon, which cannot run in WebAssembly"))
                .with_label(span, verb)
                .with_help("use a pure JavaScript package (bcryptjs instead of bcrypt, for example) or move the work to origin"),
        );
    }
    if let Some(builtin) = builtin_name(specifier) {
        let base = builtin.split('/').next().unwrap_or(builtin);
        if base == "child_process" {
            return Some(
                Diagnostic::error(
                    codes::CHILD_PROCESS,
                    "'child_process' cannot start processes at the edge",
                )
                .with_label(span, verb)
                .with_help("do the work in JavaScript, precompute it, or move it to origin"),
            );
        }
        if NETWORK_BUILTINS.contains(&base) {
            return Some(
                Diagnostic::error(codes::OUTBOUND_NETWORK, format!("'{specifier}' makes outbound network calls"))
                    .with_label(span, verb)
                    .with_help("outbound calls are not available in the edge runtime; precompute or move to origin"),
            );
        }
        if SUPPORTED_BUILTINS.contains(&builtin) {
            return None;
        }
        return Some(
            Diagnostic::error(
                codes::UNSUPPORTED_BUILTIN,
                format!("Node built-in '{builtin}' is not available in the edge engine"),
            )
            .with_label(span, verb)
            .with_help(format!(
                "the edge engine provides {}; replace the module with plain JavaScript",
                SUPPORTED_BUILTINS.join(", ")
            )),
        );
    }
    if package == "aws-sdk" || package.starts_with("@aws-sdk/") {
        return Some(
            Diagnostic::error(codes::AWS_SDK, format!("the AWS SDK ('{specifier}') calls AWS services over the network"))
                .with_label(span, verb)
                .with_help("outbound calls are not available in the edge runtime; fetch the data at deploy time or move the call to origin"),
        );
    }
    // Local modules and npm packages are resolved and bundled by the converter, which
    // reports those it cannot find.
    None
}

/// The package part of a bare specifier: `@scope/name` or `name`.
fn package_name(specifier: &str) -> &str {
    let mut slashes = specifier.match_indices('/').map(|(index, _)| index);
    let end = if specifier.starts_with('@') {
        slashes.nth(1)
    } else {
        slashes.next()
    };
    end.map_or(specifier, |end| &specifier[..end])
}

struct Collector<'a> {
    source: SourceText<'a>,
    erasure: &'a Erasure,
    imports: Vec<Import>,
    bindings: ModuleBindings,
    uses_buffer_global: bool,
    /// `require(x)` and `import(x)` whose specifier is not a literal.
    computed: Vec<std::ops::Range<usize>>,
}

impl Collector<'_> {
    fn push(&mut self, specifier: String, kind: ImportKind, span: Span) {
        let builtin = builtin_name(&specifier).is_some();
        self.imports.push(Import {
            specifier,
            kind,
            span: self.source.range(span),
            builtin,
        });
    }

    fn bind(&mut self, name: &Ident, binding: ModuleBinding) {
        self.bindings.names.insert(name.sym.clone(), binding);
    }
}

impl Visit for Collector<'_> {
    noop_visit_type!();

    fn visit_call_expr(&mut self, call: &CallExpr) {
        match &call.callee {
            Callee::Import(_) => {
                if let Some(specifier) = call
                    .args
                    .first()
                    .and_then(|argument| string_value(&argument.expr))
                {
                    self.push(specifier, ImportKind::DynamicImport, call.span);
                } else {
                    self.computed.push(self.source.range(call.span));
                }
            }
            Callee::Expr(callee) => {
                if let Some(specifier) = require_call_specifier(call) {
                    self.push(specifier, ImportKind::Require, call.span);
                } else if ident_name(callee).map(Atom::as_str) == Some("require") && !call.args.is_empty() {
                    self.computed.push(self.source.range(call.span));
                }
            }
            Callee::Super(_) => {}
        }
        call.visit_children_with(self);
    }

    fn visit_var_declarator(&mut self, declarator: &VarDeclarator) {
        if let Some(init) = &declarator.init {
            let init = unwrap_expr(init);
            let (module, export) = match init {
                Expr::Member(member) => (
                    require_specifier(&member.obj),
                    member_prop_name(&member.prop),
                ),
                other => (require_specifier(other), None),
            };
            if let Some(module) = module.map(|specifier| normalize(&specifier)) {
                match (&declarator.name, export) {
                    (Pat::Ident(binding), None) => {
                        self.bind(&binding.id, ModuleBinding::Module(module))
                    }
                    (Pat::Ident(binding), Some(export)) => {
                        self.bind(&binding.id, ModuleBinding::Export(module, export));
                    }
                    (Pat::Object(object), None) => {
                        for prop in &object.props {
                            match prop {
                                ObjectPatProp::KeyValue(key_value) => {
                                    if let (Some(key), Pat::Ident(binding)) =
                                        (prop_name(&key_value.key), &*key_value.value)
                                    {
                                        self.bind(
                                            &binding.id,
                                            ModuleBinding::Export(module.clone(), key),
                                        );
                                    }
                                }
                                ObjectPatProp::Assign(assign) => {
                                    let key = assign.key.id.sym.as_str().to_owned();
                                    self.bind(
                                        &assign.key.id,
                                        ModuleBinding::Export(module.clone(), key),
                                    );
                                }
                                ObjectPatProp::Rest(_) => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        declarator.visit_children_with(self);
    }

    fn visit_import_decl(&mut self, import: &ImportDecl) {
        if !self.erasure.keeps_import(import) {
            return;
        }
        let specifier = str_value(&import.src);
        let module = normalize(&specifier);
        for binding in &import.specifiers {
            match binding {
                ImportSpecifier::Default(default) => {
                    self.bind(&default.local, ModuleBinding::Module(module.clone()))
                }
                ImportSpecifier::Namespace(namespace) => {
                    self.bind(&namespace.local, ModuleBinding::Module(module.clone()));
                }
                ImportSpecifier::Named(named) => {
                    let imported = named
                        .imported
                        .as_ref()
                        .map_or_else(|| named.local.sym.as_str().to_owned(), export_name);
                    let binding = if imported == "default" {
                        ModuleBinding::Module(module.clone())
                    } else {
                        ModuleBinding::Export(module.clone(), imported)
                    };
                    self.bind(&named.local, binding);
                }
            }
        }
        self.push(specifier, ImportKind::Import, import.span);
    }

    fn visit_named_export(&mut self, export: &NamedExport) {
        if let Some(src) = &export.src {
            if !export.type_only {
                let specifier = str_value(src);
                self.push(specifier, ImportKind::ReExport, export.span);
            }
        }
        export.visit_children_with(self);
    }

    fn visit_export_all(&mut self, export: &ExportAll) {
        if !export.type_only {
            let specifier = str_value(&export.src);
            self.push(specifier, ImportKind::ReExport, export.span);
        }
    }

    fn visit_ts_import_equals_decl(&mut self, import: &TsImportEqualsDecl) {
        if let TsModuleRef::TsExternalModuleRef(reference) = &import.module_ref {
            if !import.is_type_only {
                let specifier = str_value(&reference.expr);
                self.push(specifier, ImportKind::Require, import.span);
            }
        }
    }

    fn visit_ident(&mut self, ident: &Ident) {
        if ident.sym == "Buffer" {
            self.uses_buffer_global = true;
        }
    }
}
