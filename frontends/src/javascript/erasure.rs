//! Which TypeScript imports and exports vanish at run time.
//!
//! TypeScript drops an import binding that is used only in type positions (and the whole
//! import when no binding is left), as well as `import type`, `export type` and exports of
//! interfaces and type aliases. The frontend must do the same, or a handler that imports
//! `CloudFrontRequestHandler` from `aws-lambda` would be reported as requiring an npm package
//! and would fail to load.
//!
//! Invariant: for JavaScript every import is kept.

use std::collections::HashSet;

use swc_atoms::Atom;
use swc_ecma_ast::{
    BindingIdent, Decl, ExportSpecifier, Ident, ImportDecl, ImportSpecifier, ModuleDecl, Program,
    Stmt,
};
use swc_ecma_visit::{noop_visit_type, Visit, VisitWith};

use super::syntax::{module_decls, top_level_stmts};

/// The run-time view of a program's imports and exports.
#[derive(Debug, Default)]
pub(crate) struct Erasure {
    typescript: bool,
    /// Identifiers referenced outside of types.
    value_uses: HashSet<Atom>,
    /// Names that exist only as types: interfaces, type aliases, erased import bindings.
    type_names: HashSet<Atom>,
}

impl Erasure {
    pub(crate) fn new(program: &Program, typescript: bool) -> Self {
        if !typescript {
            return Self::default();
        }
        let mut collector = ValueUses::default();
        program.visit_with(&mut collector);
        let mut erasure = Self {
            typescript,
            value_uses: collector.names,
            type_names: HashSet::new(),
        };
        for stmt in top_level_stmts(program) {
            if let Stmt::Decl(decl) = stmt {
                erasure.add_type_name(decl);
            }
        }
        for decl in module_decls(program) {
            match decl {
                ModuleDecl::ExportDecl(export) => erasure.add_type_name(&export.decl),
                ModuleDecl::Import(import) => {
                    for specifier in &import.specifiers {
                        if !erasure.keeps_specifier(import, specifier) {
                            erasure
                                .type_names
                                .insert(specifier_local(specifier).sym.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        erasure
    }

    fn add_type_name(&mut self, decl: &Decl) {
        match decl {
            Decl::TsInterface(interface) => {
                self.type_names.insert(interface.id.sym.clone());
            }
            Decl::TsTypeAlias(alias) => {
                self.type_names.insert(alias.id.sym.clone());
            }
            _ => {}
        }
    }

    /// Whether an import binding survives to run time.
    pub(crate) fn keeps_specifier(&self, import: &ImportDecl, specifier: &ImportSpecifier) -> bool {
        if import.type_only {
            return false;
        }
        if !self.typescript {
            return true;
        }
        if let ImportSpecifier::Named(named) = specifier {
            if named.is_type_only {
                return false;
            }
        }
        self.value_uses.contains(&specifier_local(specifier).sym)
    }

    /// Whether an import statement survives to run time (possibly with fewer bindings).
    pub(crate) fn keeps_import(&self, import: &ImportDecl) -> bool {
        !import.type_only
            && (import.specifiers.is_empty()
                || import
                    .specifiers
                    .iter()
                    .any(|specifier| self.keeps_specifier(import, specifier)))
    }

    /// Whether `export { local }` exports a value rather than a type.
    pub(crate) fn keeps_export(&self, specifier: &ExportSpecifier) -> bool {
        match specifier {
            ExportSpecifier::Named(named) => {
                if named.is_type_only {
                    return false;
                }
                match &named.orig {
                    swc_ecma_ast::ModuleExportName::Ident(ident) => {
                        !self.type_names.contains(&ident.sym)
                    }
                    swc_ecma_ast::ModuleExportName::Str(_) => true,
                }
            }
            _ => true,
        }
    }
}

/// The local binding an import specifier introduces.
pub(crate) fn specifier_local(specifier: &ImportSpecifier) -> &Ident {
    match specifier {
        ImportSpecifier::Named(named) => &named.local,
        ImportSpecifier::Default(default) => &default.local,
        ImportSpecifier::Namespace(namespace) => &namespace.local,
    }
}

/// Collects identifiers that appear outside of type positions and outside of bindings.
#[derive(Default)]
struct ValueUses {
    names: HashSet<Atom>,
}

impl Visit for ValueUses {
    noop_visit_type!();

    fn visit_ident(&mut self, ident: &Ident) {
        self.names.insert(ident.sym.clone());
    }

    fn visit_binding_ident(&mut self, _binding: &BindingIdent) {}

    fn visit_import_decl(&mut self, _import: &ImportDecl) {}
}
