//! Module-level state (which survives from one request to the next in a warm instance) and
//! nondeterministic calls: the two reasons a converted function can legitimately answer
//! differently from the original on the same event.

use std::collections::HashSet;

use swc_atoms::Atom;
use swc_common::Span;
use swc_ecma_ast::{
    AssignExpr, AssignTarget, CallExpr, Callee, Decl, Expr, ModuleDecl, NewExpr, Program,
    SimpleAssignTarget, Stmt, UnaryExpr, UnaryOp, UpdateExpr, VarDecl, VarDeclKind,
};
use swc_ecma_visit::{noop_visit_type, Visit, VisitWith};

use crate::facts::{ModuleState, ModuleStateKind, Nondeterminism, NondeterminismKind};
use super::imports::ModuleBindings;
use super::parse::SourceText;
use super::syntax::{
    bound_names, ident_name, is_member_of, member_prop_name, module_decls, top_level_stmts,
    track_function_depth, unwrap_expr,
};

/// Methods that change the object they are called on.
const MUTATING_METHODS: &[&str] = &[
    "push",
    "pop",
    "shift",
    "unshift",
    "splice",
    "sort",
    "reverse",
    "fill",
    "copyWithin",
    "set",
    "add",
    "delete",
    "clear",
];

/// Constructors whose instances are mutable containers.
const CONTAINER_CONSTRUCTORS: &[&str] = &["Map", "Set", "WeakMap", "WeakSet", "Array", "Object"];

/// What the state pass found.
pub(crate) struct StateFacts {
    pub(crate) module_state: Vec<ModuleState>,
    pub(crate) nondeterminism: Vec<Nondeterminism>,
}

/// Finds module-level state and nondeterministic calls.
pub(crate) fn analyze(
    program: &Program,
    source: SourceText<'_>,
    bindings: &ModuleBindings,
) -> StateFacts {
    let mut candidates: Vec<ModuleState> = Vec::new();
    let mut add_var = |var: &VarDecl| {
        if var.declare {
            return;
        }
        for declarator in &var.decls {
            let kind = match var.kind {
                VarDeclKind::Let | VarDeclKind::Var => ModuleStateKind::Binding,
                VarDeclKind::Const if declarator.init.as_deref().is_some_and(is_container) => {
                    ModuleStateKind::MutatedObject
                }
                VarDeclKind::Const => continue,
            };
            for (name, _) in bound_names(&declarator.name) {
                candidates.push(ModuleState {
                    name: name.as_str().to_owned(),
                    kind,
                    mutated: false,
                    span: source.range(declarator.span),
                });
            }
        }
    };
    for stmt in top_level_stmts(program) {
        if let Stmt::Decl(Decl::Var(var)) = stmt {
            add_var(var);
        }
    }
    for decl in module_decls(program) {
        if let ModuleDecl::ExportDecl(export) = decl {
            if let Decl::Var(var) = &export.decl {
                add_var(var);
            }
        }
    }
    candidates.sort_by_key(|state| state.span.start);

    let mut finder = StateFinder {
        source,
        bindings,
        function_depth: 0,
        mutated: HashSet::new(),
        nondeterminism: Vec::new(),
    };
    program.visit_with(&mut finder);
    let module_state = candidates
        .into_iter()
        .filter_map(|mut state| {
            state.mutated = finder.mutated.contains(&Atom::from(state.name.as_str()));
            (state.kind == ModuleStateKind::Binding || state.mutated).then_some(state)
        })
        .collect();
    StateFacts {
        module_state,
        nondeterminism: finder.nondeterminism,
    }
}

/// Whether an initializer creates a mutable container: an object or array literal, or a `Map`,
/// `Set` and the like.
fn is_container(init: &Expr) -> bool {
    match unwrap_expr(init) {
        Expr::Object(_) | Expr::Array(_) => true,
        Expr::New(new) => ident_name(&new.callee)
            .is_some_and(|name| CONTAINER_CONSTRUCTORS.contains(&name.as_str())),
        _ => false,
    }
}

/// The identifier at the root of `a.b[c].d`.
fn root_ident(expr: &Expr) -> Option<&Atom> {
    match unwrap_expr(expr) {
        Expr::Ident(ident) => Some(&ident.sym),
        Expr::Member(member) => root_ident(&member.obj),
        _ => None,
    }
}

struct StateFinder<'a> {
    source: SourceText<'a>,
    bindings: &'a ModuleBindings,
    function_depth: usize,
    mutated: HashSet<Atom>,
    nondeterminism: Vec<Nondeterminism>,
}

impl StateFinder<'_> {
    fn mark(&mut self, name: Option<&Atom>) {
        if self.function_depth > 0 {
            if let Some(name) = name {
                self.mutated.insert(name.clone());
            }
        }
    }

    fn record(&mut self, kind: NondeterminismKind, span: Span) {
        self.nondeterminism.push(Nondeterminism {
            kind,
            span: self.source.range(span),
        });
    }

    /// The nondeterministic crypto function a callee refers to.
    fn crypto_kind(&self, callee: &Expr) -> Option<NondeterminismKind> {
        let name = match unwrap_expr(callee) {
            Expr::Member(member) => {
                let object = unwrap_expr(&member.obj);
                let is_crypto = ident_name(object).is_some_and(|name| name == "crypto")
                    || self.bindings.module_of(object).as_deref() == Some("crypto")
                    || matches!(object, Expr::Member(inner)
                        if matches!(member_prop_name(&inner.prop).as_deref(), Some("webcrypto" | "crypto")));
                if !is_crypto {
                    return None;
                }
                member_prop_name(&member.prop)?
            }
            Expr::Ident(ident) => match self.bindings.export_of(&ident.sym)? {
                ("crypto", export) => export.to_owned(),
                _ => return None,
            },
            _ => return None,
        };
        match name.as_str() {
            "randomUUID" => Some(NondeterminismKind::CryptoRandomUuid),
            "randomBytes" | "pseudoRandomBytes" => Some(NondeterminismKind::CryptoRandomBytes),
            "randomInt" => Some(NondeterminismKind::CryptoRandomInt),
            "getRandomValues" => Some(NondeterminismKind::CryptoGetRandomValues),
            _ => None,
        }
    }
}

impl Visit for StateFinder<'_> {
    noop_visit_type!();

    track_function_depth!();

    fn visit_assign_expr(&mut self, assign: &AssignExpr) {
        match &assign.left {
            AssignTarget::Simple(SimpleAssignTarget::Ident(binding)) => {
                self.mark(Some(&binding.id.sym))
            }
            AssignTarget::Simple(SimpleAssignTarget::Member(member)) => {
                self.mark(root_ident(&member.obj))
            }
            _ => {}
        }
        assign.visit_children_with(self);
    }

    fn visit_update_expr(&mut self, update: &UpdateExpr) {
        self.mark(root_ident(&update.arg));
        update.visit_children_with(self);
    }

    fn visit_unary_expr(&mut self, unary: &UnaryExpr) {
        if unary.op == UnaryOp::Delete {
            if let Expr::Member(member) = unwrap_expr(&unary.arg) {
                self.mark(root_ident(&member.obj));
            }
        }
        unary.visit_children_with(self);
    }

    fn visit_call_expr(&mut self, call: &CallExpr) {
        if let Callee::Expr(callee) = &call.callee {
            match unwrap_expr(callee) {
                Expr::Member(member) => {
                    if is_member_of(member, "Math", "random") {
                        self.record(NondeterminismKind::MathRandom, call.span);
                    } else if is_member_of(member, "Date", "now") {
                        self.record(NondeterminismKind::DateNow, call.span);
                    } else if is_member_of(member, "Object", "assign") {
                        let target = call
                            .args
                            .first()
                            .and_then(|argument| root_ident(&argument.expr));
                        self.mark(target);
                    } else if member_prop_name(&member.prop)
                        .is_some_and(|name| MUTATING_METHODS.contains(&name.as_str()))
                    {
                        self.mark(root_ident(&member.obj));
                    }
                }
                Expr::Ident(ident) if ident.sym == "Date" && call.args.is_empty() => {
                    self.record(NondeterminismKind::NewDate, call.span);
                }
                _ => {}
            }
            if let Some(kind) = self.crypto_kind(callee) {
                self.record(kind, call.span);
            }
        }
        call.visit_children_with(self);
    }

    fn visit_new_expr(&mut self, new: &NewExpr) {
        if ident_name(&new.callee).is_some_and(|name| name == "Date")
            && new.args.as_ref().is_none_or(Vec::is_empty)
        {
            self.record(NondeterminismKind::NewDate, new.span);
        }
        new.visit_children_with(self);
    }
}
