//! Module-level state (which survives from one request to the next in a warm instance) and
//! nondeterministic calls: the two reasons a converted function can legitimately answer
//! differently from the original on the same event.

use std::collections::{HashMap, HashSet};

use rustpython_parser::ast::{Expr, Stmt};

use super::syntax::{
    callee_name, module_level, name_of, span, walk_expr, walk_stmt, FunctionDepth, ImportBindings,
    Visit,
};
use crate::facts::{ModuleState, ModuleStateKind, Nondeterminism, NondeterminismKind};

/// Methods that change the list, dict, set or deque they are called on.
const MUTATING_METHODS: &[&str] = &[
    "add",
    "append",
    "appendleft",
    "clear",
    "difference_update",
    "discard",
    "extend",
    "extendleft",
    "insert",
    "intersection_update",
    "pop",
    "popitem",
    "popleft",
    "remove",
    "reverse",
    "rotate",
    "setdefault",
    "sort",
    "symmetric_difference_update",
    "update",
];

/// Calls that create a mutable container.
const CONTAINER_CONSTRUCTORS: &[&str] = &[
    "dict",
    "list",
    "set",
    "bytearray",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.deque",
    "collections.Counter",
];

/// What the state pass found.
pub(crate) struct StateFacts {
    pub(crate) module_state: Vec<ModuleState>,
    pub(crate) nondeterminism: Vec<Nondeterminism>,
}

/// Finds module-level state and nondeterministic calls.
pub(crate) fn analyze(body: &[Stmt], bindings: &ImportBindings) -> StateFacts {
    // The first module-level assignment of each name, and whether it makes a container.
    let mut assigned: HashMap<&str, (std::ops::Range<usize>, bool)> = HashMap::new();
    for stmt in module_level(body) {
        let (targets, value): (Vec<&Expr>, Option<&Expr>) = match stmt {
            Stmt::Assign(assign) => (assign.targets.iter().collect(), Some(&assign.value)),
            Stmt::AnnAssign(assign) => (vec![&assign.target], assign.value.as_deref()),
            Stmt::AugAssign(assign) => (vec![&assign.target], None),
            _ => continue,
        };
        let container = value.is_some_and(|value| is_container(value, bindings));
        for target in targets {
            if let Some(name) = name_of(target) {
                assigned.entry(name).or_insert((span(stmt), container));
            }
        }
    }

    let mut finder = StateFinder {
        bindings,
        depth: FunctionDepth::default(),
        globals: Vec::new(),
        rebound: Vec::new(),
        mutated: HashSet::new(),
        nondeterminism: Vec::new(),
    };
    finder.visit_body(body);

    let mut module_state: Vec<ModuleState> = Vec::new();
    let mut listed = HashSet::new();
    for (name, global_span) in &finder.rebound {
        if listed.insert(name.clone()) {
            let span = assigned
                .get(name.as_str())
                .map_or_else(|| global_span.clone(), |(span, _)| span.clone());
            module_state.push(ModuleState {
                name: name.clone(),
                kind: ModuleStateKind::Binding,
                mutated: true,
                span,
            });
        }
    }
    for (name, (span, container)) in &assigned {
        if *container && finder.mutated.contains(*name) && listed.insert((*name).to_owned()) {
            module_state.push(ModuleState {
                name: (*name).to_owned(),
                kind: ModuleStateKind::MutatedObject,
                mutated: true,
                span: span.clone(),
            });
        }
    }
    module_state.sort_by_key(|state| (state.span.start, state.name.clone()));
    StateFacts {
        module_state,
        nondeterminism: finder.nondeterminism,
    }
}

/// Whether a module-level value is a mutable container: a dict, list or set display or
/// comprehension, or a `dict()`, `collections.deque()` and the like.
fn is_container(value: &Expr, bindings: &ImportBindings) -> bool {
    match value {
        Expr::Dict(_)
        | Expr::List(_)
        | Expr::Set(_)
        | Expr::ListComp(_)
        | Expr::DictComp(_)
        | Expr::SetComp(_) => true,
        Expr::Call(call) => callee_name(bindings, call)
            .is_some_and(|name| CONTAINER_CONSTRUCTORS.contains(&name.as_str())),
        _ => false,
    }
}

/// The name at the root of `a[b].c[d]`.
fn root_name(expr: &Expr) -> Option<&str> {
    let mut current = expr;
    loop {
        match current {
            Expr::Name(name) => return Some(name.id.as_str()),
            Expr::Subscript(subscript) => current = &subscript.value,
            Expr::Attribute(attribute) => current = &attribute.value,
            _ => return None,
        }
    }
}

struct StateFinder<'a> {
    bindings: &'a ImportBindings,
    depth: FunctionDepth,
    /// The names declared `global` in each enclosing function, innermost last.
    globals: Vec<HashSet<String>>,
    /// Module-level names a function rebinds, with the `global` statement, in source order.
    rebound: Vec<(String, std::ops::Range<usize>)>,
    /// Names whose object a function mutates.
    mutated: HashSet<String>,
    nondeterminism: Vec<Nondeterminism>,
}

impl StateFinder<'_> {
    /// Notes an assignment to `target` inside a function.
    fn assign(&mut self, target: &Expr) {
        if !self.depth.inside() {
            return;
        }
        match target {
            Expr::Name(name) => {
                let declared = self
                    .globals
                    .last()
                    .is_some_and(|globals| globals.contains(name.id.as_str()));
                if declared {
                    let range = span(target);
                    self.rebound.push((name.id.to_string(), range));
                }
            }
            Expr::Tuple(tuple) => {
                for element in &tuple.elts {
                    self.assign(element);
                }
            }
            Expr::List(list) => {
                for element in &list.elts {
                    self.assign(element);
                }
            }
            Expr::Starred(starred) => self.assign(&starred.value),
            Expr::Subscript(subscript) => self.mutate(&subscript.value),
            Expr::Attribute(attribute) => self.mutate(&attribute.value),
            _ => {}
        }
    }

    fn mutate(&mut self, object: &Expr) {
        if self.depth.inside() {
            if let Some(name) = root_name(object) {
                self.mutated.insert(name.to_owned());
            }
        }
    }

    fn record(&mut self, kind: NondeterminismKind, expr: &Expr) {
        self.nondeterminism.push(Nondeterminism {
            kind,
            span: span(expr),
        });
    }
}

/// The kind of nondeterminism a call of `name` is.
fn nondeterminism_kind(name: &str) -> Option<NondeterminismKind> {
    let (module, function) = name.rsplit_once('.')?;
    match (module, function) {
        ("random", "seed") => None,
        ("random", _) => Some(NondeterminismKind::PythonRandom),
        ("time", "time" | "time_ns") => Some(NondeterminismKind::TimeTime),
        ("datetime.datetime", "now" | "utcnow" | "today") | ("datetime.date", "today") => {
            Some(NondeterminismKind::DatetimeNow)
        }
        ("uuid", "uuid1" | "uuid4") => Some(NondeterminismKind::UuidRandom),
        ("os", "urandom") => Some(NondeterminismKind::OsUrandom),
        ("secrets", _) => Some(NondeterminismKind::Secrets),
        _ => None,
    }
}

impl Visit for StateFinder<'_> {
    fn visit_stmt(&mut self, stmt: &Stmt) {
        let entered = self.depth.enter_stmt(stmt);
        if entered {
            self.globals.push(HashSet::new());
        }
        match stmt {
            Stmt::Global(global) => {
                if let Some(globals) = self.globals.last_mut() {
                    globals.extend(global.names.iter().map(|name| name.to_string()));
                }
            }
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    self.assign(target);
                }
            }
            Stmt::AugAssign(assign) => self.assign(&assign.target),
            Stmt::AnnAssign(assign) if assign.value.is_some() => self.assign(&assign.target),
            Stmt::Delete(delete) => {
                for target in &delete.targets {
                    self.assign(target);
                }
            }
            Stmt::For(for_stmt) => self.assign(&for_stmt.target),
            _ => {}
        }
        walk_stmt(self, stmt);
        if entered {
            self.globals.pop();
        }
        self.depth.leave(entered);
    }

    fn visit_expr(&mut self, expr: &Expr) {
        let entered = self.depth.enter_expr(expr);
        match expr {
            Expr::Call(call) => {
                if let Some(kind) = callee_name(self.bindings, call)
                    .as_deref()
                    .and_then(nondeterminism_kind)
                {
                    self.record(kind, expr);
                }
                if let Expr::Attribute(attribute) = &*call.func {
                    if MUTATING_METHODS.contains(&attribute.attr.as_str()) {
                        self.mutate(&attribute.value);
                    }
                }
            }
            Expr::NamedExpr(named) => self.assign(&named.target),
            _ => {}
        }
        walk_expr(self, expr);
        self.depth.leave(entered);
    }
}
