//! Which request and response fields the handler reads, which of them it compares with which
//! literals, and which triggers it was written for.
//!
//! This is a best-effort visitor, not a dataflow engine. It knows the shape of the event
//! (`event.Records[0].cf.request.headers['user-agent'][0].value`), follows local names bound
//! to parts of it (aliases, destructuring, arguments of functions declared in the file), and
//! records a comparison when one side is a request field and the other a literal or a
//! constant bound to one. Names are tracked without scopes: the first binding of a name to a
//! part of the event wins.
//!
//! Two kinds of literals reach a comparison from further away. The element of a literal list
//! that a callback (`BOTS.some((re) => re.test(ua))`) or a `for...of` loop runs over stands
//! for every element, so the comparison is recorded once per element. And a function called
//! with literal arguments (`isTrue('cloudfront-is-mobile-viewer')`) is visited once more per
//! distinct call, with its parameters bound to those literals, so that a header name or a
//! prefix passed in is seen where the function uses it.
//!
//! A read is every evaluated expression of a field's shape: an access, a destructuring
//! property, a presence test (`'authorization' in headers`). The target of a plain assignment
//! or of `delete` is no read.
//!
//! Invariant: a comparison or read is only recorded when the field provably comes from the
//! event.

use std::collections::{HashMap, HashSet};

use swc_atoms::Atom;
use swc_common::{Span, Spanned};
use swc_ecma_ast::{
    AssignExpr, AssignOp, AssignTarget, BinExpr, BinaryOp, CallExpr, Callee, Expr, ExprOrSpread,
    FnDecl, ForHead, ForOfStmt, Lit, MemberExpr, MemberProp, ObjectPatProp, OptChainBase,
    OptChainExpr, Pat, Program, Prop, PropOrSpread, SimpleAssignTarget, SwitchStmt, UnaryExpr,
    UnaryOp, VarDecl, VarDeclKind, VarDeclarator,
};
use swc_ecma_visit::{noop_visit_type, Visit, VisitWith};

use crate::event::{array_index, in_source_order, Shape, Triggers};
use crate::facts::{ComparedLiteral, Comparison, ComparisonOperator, EventType, FieldRead};
use super::parse::SourceText;
use super::syntax::{
    as_function, as_member, ident_name, is_literal, is_member_of, member_prop_name, prop_name,
    string_value, unwrap_expr, FunctionRef, TopLevel,
};

/// A name bound to a literal with `const`.
#[derive(Debug, Clone)]
enum Constant {
    String(String),
    Regex {
        pattern: String,
        flags: String,
    },
    /// An array or set of string and regex literals; never empty.
    List(Vec<ComparedLiteral>),
    Keys(Vec<String>),
}

/// What the request pass found.
pub(crate) struct RequestFacts {
    pub(crate) comparisons: Vec<Comparison>,
    pub(crate) reads: Vec<FieldRead>,
    pub(crate) event_types: Vec<EventType>,
}

/// Rounds of alias propagation before recording; aliases of aliases need more than one.
const MAX_ROUNDS: usize = 6;

/// Array methods whose callback gets each element as its first parameter.
const ELEMENT_CALLBACK_METHODS: &[&str] = &[
    "forEach",
    "map",
    "flatMap",
    "some",
    "every",
    "find",
    "findIndex",
    "findLast",
    "findLastIndex",
    "filter",
];

/// Members every object inherits (`headers.hasOwnProperty(...)`), which name no header.
const OBJECT_PROTOTYPE_MEMBERS: &[&str] = &[
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
    "__proto__",
];

/// The literals recorded comparisons may hold in all. Every site that compares with an element
/// of a list records the whole list, so a file of a few kilobytes could otherwise ask for
/// millions of comparisons; real handlers stay far below.
const MAX_RECORDED_LITERALS: usize = 100_000;

/// Distinct literal argument lists remembered per function name.
const MAX_LITERAL_CALLS: usize = 16;

/// How deep visits of functions with literal arguments nest (a helper calling a helper).
const MAX_LITERAL_CALL_DEPTH: usize = 4;

/// The source bytes that visits of functions with literal arguments may cover in all, as a
/// multiple of the file's size: the extra visits cost at most as much as this many passes over
/// the whole file.
const LITERAL_CALL_BUDGET_PASSES: usize = 16;

/// Tracks the event through the program and records comparisons.
pub(crate) fn analyze(
    program: &Program,
    source: SourceText<'_>,
    top_level: &TopLevel<'_>,
    handler: Option<FunctionRef<'_>>,
) -> RequestFacts {
    let mut constants = ConstantCollector::default();
    program.visit_with(&mut constants);
    let mut tracker = Tracker {
        source,
        top_level,
        shapes: HashMap::new(),
        constants: constants.constants,
        changed: false,
        recording: false,
        comparisons: Vec::new(),
        reads: Vec::new(),
        triggers: Triggers::default(),
        assignment_targets: HashSet::new(),
        overwritten: HashSet::new(),
        classified: HashMap::new(),
        elements: HashMap::new(),
        literal_calls: HashMap::new(),
        local_shapes: Vec::new(),
        revisited: HashSet::new(),
        revisit_budget: source
            .text()
            .len()
            .saturating_mul(LITERAL_CALL_BUDGET_PASSES),
        recorded_literals: 0,
    };
    match handler.and_then(|handler| handler.params().first().copied()) {
        Some(event) => tracker.bind(event, Shape::Event),
        None => tracker.set(&Atom::from("event"), Shape::Event),
    }
    for _ in 0..MAX_ROUNDS {
        tracker.changed = false;
        tracker.classified.clear();
        program.visit_with(&mut tracker);
        if !tracker.changed {
            break;
        }
    }
    tracker.recording = true;
    tracker.classified.clear();
    program.visit_with(&mut tracker);

    let (comparisons, reads) = in_source_order(tracker.comparisons, tracker.reads);
    let event_types = tracker.triggers.event_types();
    RequestFacts {
        comparisons,
        reads,
        event_types,
    }
}

/// Collects names bound with `const` to literals anywhere in the file.
#[derive(Default)]
struct ConstantCollector {
    constants: HashMap<Atom, Constant>,
}

impl Visit for ConstantCollector {
    noop_visit_type!();

    fn visit_var_decl(&mut self, var: &VarDecl) {
        if var.kind == VarDeclKind::Const {
            for declarator in &var.decls {
                if let (Pat::Ident(binding), Some(init)) = (&declarator.name, &declarator.init) {
                    if let Some(constant) = constant_of(init) {
                        self.constants
                            .entry(binding.id.sym.clone())
                            .or_insert(constant);
                    }
                }
            }
        }
        var.visit_children_with(self);
    }
}

/// The constant a literal expression denotes.
fn constant_of(expr: &Expr) -> Option<Constant> {
    if let Some(value) = string_value(expr) {
        return Some(Constant::String(value));
    }
    if let Some((pattern, flags)) = regex_literal(expr) {
        return Some(Constant::Regex { pattern, flags });
    }
    // An empty list or object is a container filled at run time, not a set of literals.
    if let Some(values) = literal_list(expr) {
        return Some(Constant::List(values));
    }
    object_keys(expr)
        .filter(|keys| !keys.is_empty())
        .map(Constant::Keys)
}

/// `/re/flags` or `new RegExp('re', 'flags')` with literal arguments.
fn regex_literal(expr: &Expr) -> Option<(String, String)> {
    match unwrap_expr(expr) {
        Expr::Lit(Lit::Regex(regex)) => Some((
            regex.exp.as_str().to_owned(),
            regex.flags.as_str().to_owned(),
        )),
        Expr::New(new) if ident_name(&new.callee).is_some_and(|name| name == "RegExp") => {
            regexp_arguments(new.args.as_deref().unwrap_or_default())
        }
        Expr::Call(call) => match &call.callee {
            Callee::Expr(callee) if ident_name(callee).is_some_and(|name| name == "RegExp") => {
                regexp_arguments(&call.args)
            }
            _ => None,
        },
        _ => None,
    }
}

fn regexp_arguments(args: &[ExprOrSpread]) -> Option<(String, String)> {
    let pattern = string_value(&args.first()?.expr)?;
    let flags = match args.get(1) {
        Some(flags) => string_value(&flags.expr)?,
        None => String::new(),
    };
    Some((pattern, flags))
}

/// `['a', /b/]`, `new Set(['a', 'b'])` or `Object.freeze([...])` with only string and regex
/// elements, and at least one.
fn literal_list(expr: &Expr) -> Option<Vec<ComparedLiteral>> {
    let mut expr = unfrozen(expr);
    if let Expr::New(new) = expr {
        if ident_name(&new.callee).is_some_and(|name| name == "Set") {
            expr = unfrozen(&new.args.as_deref()?.first()?.expr);
        }
    }
    let Expr::Array(array) = expr else {
        return None;
    };
    let elements: Vec<ComparedLiteral> = array
        .elems
        .iter()
        .map(|element| match element {
            Some(element) if element.spread.is_none() => literal_of(&element.expr),
            _ => None,
        })
        .collect::<Option<_>>()?;
    (!elements.is_empty()).then_some(elements)
}

/// A string or regex literal.
fn literal_of(expr: &Expr) -> Option<ComparedLiteral> {
    if let Some(value) = string_value(expr) {
        return Some(ComparedLiteral::String { value });
    }
    let (pattern, flags) = regex_literal(expr)?;
    Some(ComparedLiteral::Regex { pattern, flags })
}

/// The strings of a list whose elements are all strings.
fn strings_of(elements: &[ComparedLiteral]) -> Option<Vec<String>> {
    elements
        .iter()
        .map(|element| match element {
            ComparedLiteral::String { value } => Some(value.clone()),
            _ => None,
        })
        .collect()
}

/// Looks through `Object.freeze(...)`, which returns its argument.
fn unfrozen(mut expr: &Expr) -> &Expr {
    loop {
        expr = unwrap_expr(expr);
        let Expr::Call(call) = expr else {
            return expr;
        };
        let is_freeze = match &call.callee {
            Callee::Expr(callee) => {
                as_member(callee).is_some_and(|member| is_member_of(member, "Object", "freeze"))
            }
            _ => false,
        };
        match call.args.first() {
            Some(argument) if is_freeze && argument.spread.is_none() => expr = &argument.expr,
            _ => return expr,
        }
    }
}

/// The name a parameter binds when it is a plain name, with or without a default.
fn param_name(param: &Pat) -> Option<&Atom> {
    match param {
        Pat::Ident(binding) => Some(&binding.id.sym),
        Pat::Assign(assign) => match &*assign.left {
            Pat::Ident(binding) => Some(&binding.id.sym),
            _ => None,
        },
        _ => None,
    }
}

/// The name a `for...of` head binds each element to.
fn for_of_binding(head: &ForHead) -> Option<&Pat> {
    match head {
        ForHead::VarDecl(var) => var.decls.first().map(|declarator| &declarator.name),
        ForHead::Pat(pat) => Some(pat),
        ForHead::UsingDecl(_) => None,
    }
}

/// The keys of an object literal whose keys are all static.
fn object_keys(expr: &Expr) -> Option<Vec<String>> {
    let Expr::Object(object) = unfrozen(expr) else {
        return None;
    };
    object
        .props
        .iter()
        .map(|prop| match prop {
            PropOrSpread::Prop(prop) => match &**prop {
                Prop::Shorthand(ident) => Some(ident.sym.as_str().to_owned()),
                Prop::KeyValue(key_value) => prop_name(&key_value.key),
                Prop::Method(method) => prop_name(&method.key),
                _ => None,
            },
            PropOrSpread::Spread(_) => None,
        })
        .collect()
}

struct Tracker<'a, 'ast> {
    source: SourceText<'a>,
    top_level: &'a TopLevel<'ast>,
    shapes: HashMap<Atom, Shape>,
    constants: HashMap<Atom, Constant>,
    changed: bool,
    recording: bool,
    comparisons: Vec<Comparison>,
    /// Every read recorded, in visiting order and with repetitions.
    reads: Vec<FieldRead>,
    /// The parts of the event touched in the recording pass.
    triggers: Triggers,
    /// Members written by an assignment (`cache[uri] = ...`), which are not key lookups.
    assignment_targets: HashSet<Span>,
    /// Members replaced by a plain assignment or removed by `delete`, which are not reads.
    overwritten: HashSet<Span>,
    /// Shapes of the expressions classified in this pass, by span. Visiting `a.b.c.d`
    /// classifies every inner chain again; the cache keeps long chains linear.
    classified: HashMap<Span, Option<Shape>>,
    /// The literal lists that names in scope run over (`re` in `BOTS.some((re) => ...)`),
    /// innermost last.
    elements: HashMap<Atom, Vec<Vec<ComparedLiteral>>>,
    /// The distinct lists of literal arguments each function name is called with, in source
    /// order; `None` where an argument is no literal.
    literal_calls: HashMap<Atom, Vec<Vec<Option<String>>>>,
    /// Names bound while a function is visited for one of its literal calls, innermost last.
    /// They shadow `shapes` and are forgotten when the visit ends.
    local_shapes: Vec<HashMap<Atom, Shape>>,
    /// The functions (by span) and literal parameters already visited for a literal call.
    revisited: HashSet<(Span, Vec<(Atom, String)>)>,
    /// The source bytes that visits for literal calls may still cover.
    revisit_budget: usize,
    /// The literals recorded so far, a list counting its elements.
    recorded_literals: usize,
}

impl Tracker<'_, '_> {
    fn set(&mut self, name: &Atom, shape: Shape) {
        let shapes = self.local_shapes.last_mut().unwrap_or(&mut self.shapes);
        if !shapes.contains_key(name) {
            shapes.insert(name.clone(), shape);
            self.changed = true;
        }
    }

    /// The shape a name is bound to. A name that runs over a literal list here is an element
    /// of that list, whatever the same name is bound to elsewhere.
    fn shape_of_name(&self, name: &Atom) -> Option<Shape> {
        if self
            .elements
            .get(name)
            .is_some_and(|stack| !stack.is_empty())
        {
            return None;
        }
        self.local_shapes
            .iter()
            .rev()
            .chain([&self.shapes])
            .find_map(|shapes| shapes.get(name))
            .cloned()
    }

    /// Binds the names of a pattern to the parts of `shape` they destructure.
    fn bind(&mut self, pat: &Pat, shape: Shape) {
        match pat {
            Pat::Ident(binding) => self.set(&binding.id.sym, shape),
            Pat::Assign(assign) => self.bind(&assign.left, shape),
            Pat::Object(object) => {
                for prop in &object.props {
                    match prop {
                        ObjectPatProp::KeyValue(key_value) => {
                            let child =
                                prop_name(&key_value.key).and_then(|key| self.member(&shape, &key));
                            if let Some(child) = child {
                                self.note_read(&child, key_value.key.span());
                                self.bind(&key_value.value, child);
                            }
                        }
                        ObjectPatProp::Assign(assign) => {
                            if let Some(child) = self.member(&shape, assign.key.id.sym.as_str()) {
                                self.note_read(&child, assign.key.span);
                                self.set(&assign.key.id.sym, child);
                            }
                        }
                        ObjectPatProp::Rest(_) => {}
                    }
                }
            }
            Pat::Array(array) => {
                if let Some(Some(first)) = array.elems.first() {
                    if let Some(child) = self.member(&shape, "0") {
                        self.note_read(&child, first.span());
                        self.bind(first, child);
                    }
                }
            }
            _ => {}
        }
    }

    /// The shape of `shape[key]`, noting the accesses that reveal the trigger.
    fn member(&mut self, shape: &Shape, key: &str) -> Option<Shape> {
        if matches!(shape, Shape::Headers(_)) && OBJECT_PROTOTYPE_MEMBERS.contains(&key) {
            return None;
        }
        let child = shape.child(key)?;
        if self.recording {
            self.triggers.note(&child);
        }
        Some(child)
    }

    /// Records a read of the field `shape` is, if it is one, in a recording pass.
    fn note_read(&mut self, shape: &Shape, span: Span) {
        if !self.recording {
            return;
        }
        if let Some(field) = shape.read_field() {
            self.reads.push(FieldRead {
                field,
                span: self.source.range(span),
            });
        }
    }

    /// Records the read of header `name` in a presence test (`'x' in headers`,
    /// `headers.hasOwnProperty('x')`) when `headers` is a header object.
    fn note_presence_test(&mut self, headers: &Expr, name: &Expr, span: Span) {
        if !self.recording {
            return;
        }
        if let (Some(Shape::Headers(message)), Some(name)) =
            (self.classify(headers), self.string_of(name))
        {
            self.note_read(&Shape::HeaderList(message, name.to_ascii_lowercase()), span);
        }
    }

    /// The key of `object[key]` or `object.key`, following constants.
    fn static_key(&self, prop: &MemberProp) -> Option<String> {
        if let Some(name) = member_prop_name(prop) {
            return Some(name);
        }
        match prop {
            MemberProp::Computed(computed) => match self.constant(&computed.expr)? {
                Constant::String(value) => Some(value.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    fn constant(&self, expr: &Expr) -> Option<&Constant> {
        self.constants.get(ident_name(expr)?)
    }

    fn classify_member(&mut self, member: &MemberExpr) -> Option<Shape> {
        if let Some(shape) = self.classified.get(&member.span) {
            return shape.clone();
        }
        let object = self.classify(&member.obj)?;
        let key = match self.static_key(&member.prop) {
            Some(key) => key,
            // `headers.cookie[i]` in a loop: an index computed at run time still picks one
            // of the header's entries.
            None if matches!(object, Shape::HeaderList(..))
                && matches!(member.prop, MemberProp::Computed(_)) =>
            {
                "0".to_owned()
            }
            None => return None,
        };
        let child = self.member(&object, &key)?;
        if !self.overwritten.contains(&member.span) {
            self.note_read(&child, member.span);
        }
        Some(child)
    }

    /// The shape of the value an expression evaluates to.
    fn classify(&mut self, expr: &Expr) -> Option<Shape> {
        let expr = unwrap_expr(expr);
        if let Expr::Ident(ident) = expr {
            return self.shape_of_name(&ident.sym);
        }
        let span = expr.span();
        if let Some(shape) = self.classified.get(&span) {
            return shape.clone();
        }
        let shape = self.classify_uncached(expr);
        self.classified.insert(span, shape.clone());
        shape
    }

    fn classify_uncached(&mut self, expr: &Expr) -> Option<Shape> {
        match expr {
            Expr::Ident(ident) => self.shape_of_name(&ident.sym),
            Expr::Member(member) => self.classify_member(member),
            Expr::OptChain(chain) => match &*chain.base {
                OptChainBase::Member(member) => self.classify_member(member),
                OptChainBase::Call(call) => self.classify_call(&call.callee, &call.args),
            },
            Expr::Call(call) => match &call.callee {
                Callee::Expr(callee) => self.classify_call(callee, &call.args),
                _ => None,
            },
            Expr::Cond(cond) => self
                .classify(&cond.cons)
                .or_else(|| self.classify(&cond.alt)),
            Expr::Bin(bin) => match bin.op {
                BinaryOp::LogicalAnd => self.classify(&bin.right),
                BinaryOp::LogicalOr | BinaryOp::NullishCoalescing => self
                    .classify(&bin.left)
                    .or_else(|| self.classify(&bin.right)),
                _ => None,
            },
            Expr::Seq(seq) => seq.exprs.last().and_then(|last| self.classify(last)),
            Expr::Assign(assign) if assign.op == AssignOp::Assign => self.classify(&assign.right),
            _ => None,
        }
    }

    /// String methods that keep a field a field: case folding, trimming, decoding.
    fn classify_call(&mut self, callee: &Expr, args: &[ExprOrSpread]) -> Option<Shape> {
        if let Some(member) = as_member(callee) {
            let method = member_prop_name(&member.prop)?;
            let Shape::Field {
                name,
                case_insensitive,
            } = self.classify(&member.obj)?
            else {
                return None;
            };
            let case_insensitive = match method.as_str() {
                "toLowerCase" | "toUpperCase" | "toLocaleLowerCase" | "toLocaleUpperCase" => true,
                "trim" | "trimStart" | "trimEnd" | "toString" => case_insensitive,
                _ => return None,
            };
            return Some(Shape::Field {
                name,
                case_insensitive,
            });
        }
        match unwrap_expr(callee) {
            Expr::Ident(ident)
                if matches!(
                    ident.sym.as_str(),
                    "decodeURIComponent" | "decodeURI" | "String"
                ) =>
            {
                match self.classify(&args.first()?.expr)? {
                    field @ Shape::Field { .. } => Some(field),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn field_of(&mut self, expr: &Expr) -> Option<(String, bool)> {
        match self.classify(expr)? {
            Shape::Field {
                name,
                case_insensitive,
            } => Some((name, case_insensitive)),
            _ => None,
        }
    }

    fn string_of(&self, expr: &Expr) -> Option<String> {
        string_value(expr).or_else(|| match self.constant(expr)? {
            Constant::String(value) => Some(value.clone()),
            _ => None,
        })
    }

    /// The string and regex literals an expression may be: a literal, a constant bound to one,
    /// the element of a literal list that a name in scope runs over, or an element picked
    /// from such a list by index (every element when the index is computed at run time).
    fn literals_of(&self, expr: &Expr) -> Vec<ComparedLiteral> {
        if !self.can_record() {
            return Vec::new();
        }
        if let Some(literal) = literal_of(expr) {
            return vec![literal];
        }
        if let Some(member) = as_member(expr) {
            let MemberProp::Computed(computed) = &member.prop else {
                return Vec::new();
            };
            let Some(elements) = self.elements_of(&member.obj) else {
                return Vec::new();
            };
            return match self.static_key(&member.prop) {
                None if !is_literal(&computed.expr) => elements,
                key => key
                    .as_deref()
                    .and_then(array_index)
                    .and_then(|index| elements.into_iter().nth(index))
                    .into_iter()
                    .collect(),
            };
        }
        let Some(name) = ident_name(expr) else {
            return Vec::new();
        };
        if let Some(elements) = self.elements.get(name).and_then(|stack| stack.last()) {
            return elements.clone();
        }
        match self.constants.get(name) {
            Some(Constant::String(value)) => vec![ComparedLiteral::String {
                value: value.clone(),
            }],
            Some(Constant::Regex { pattern, flags }) => vec![ComparedLiteral::Regex {
                pattern: pattern.clone(),
                flags: flags.clone(),
            }],
            _ => Vec::new(),
        }
    }

    /// The elements of a literal list, written out or bound to a constant.
    fn elements_of(&self, expr: &Expr) -> Option<Vec<ComparedLiteral>> {
        literal_list(expr).or_else(|| match self.constant(expr)? {
            Constant::List(elements) => Some(elements.clone()),
            _ => None,
        })
    }

    /// The strings of a literal list of strings.
    fn list_of(&self, expr: &Expr) -> Option<Vec<String>> {
        strings_of(&self.elements_of(expr)?)
    }

    fn keys_of(&self, expr: &Expr) -> Option<Vec<String>> {
        object_keys(expr)
            .filter(|keys| !keys.is_empty())
            .or_else(|| match self.constant(expr)? {
                Constant::Keys(keys) => Some(keys.clone()),
                _ => None,
            })
    }

    /// Whether comparisons are recorded in this pass and the limit is not reached yet.
    fn can_record(&self) -> bool {
        self.recording && self.recorded_literals < MAX_RECORDED_LITERALS
    }

    fn record(
        &mut self,
        (field, case_insensitive): (String, bool),
        operator: ComparisonOperator,
        literal: ComparedLiteral,
        span: Span,
    ) {
        if self.can_record() {
            self.recorded_literals += match &literal {
                ComparedLiteral::List { values } => 1 + values.len(),
                _ => 1,
            };
            self.comparisons.push(Comparison {
                field,
                operator,
                literal,
                case_insensitive,
                span: self.source.range(span),
            });
        }
    }

    /// Binds the parameters of functions declared in this file to the shapes of the
    /// arguments they are called with, and the element parameter of `forEach`-like callbacks.
    fn bind_call_arguments(&mut self, callee: &Expr, args: &[ExprOrSpread]) {
        match unwrap_expr(callee) {
            Expr::Ident(ident) => {
                let Some(function) = self.top_level.functions.get(&ident.sym).copied() else {
                    return;
                };
                for (param, argument) in function.params().into_iter().zip(args) {
                    if let Some(shape) = self.classify(&argument.expr) {
                        self.bind(param, shape);
                    }
                }
            }
            Expr::Member(_) | Expr::OptChain(_) => {
                let Some(member) = as_member(callee) else {
                    return;
                };
                let iterates = member_prop_name(&member.prop)
                    .is_some_and(|method| ELEMENT_CALLBACK_METHODS.contains(&method.as_str()));
                if !iterates {
                    return;
                }
                let element = match self.classify(&member.obj) {
                    Some(list @ Shape::HeaderList(..)) => self.member(&list, "0"),
                    _ => None,
                };
                let callback = args
                    .first()
                    .and_then(|argument| as_function(&argument.expr));
                if let (Some(element), Some(callback)) = (element, callback) {
                    if let Some(param) = callback.params().first() {
                        self.bind(param, element);
                    }
                }
            }
            _ => {}
        }
    }

    /// Records comparisons made by method calls.
    fn record_call(&mut self, callee: &Expr, args: &[ExprOrSpread], span: Span) {
        let Some(member) = as_member(callee) else {
            return;
        };
        let Some(method) = member_prop_name(&member.prop) else {
            return;
        };
        let Some(first) = args.first().filter(|argument| argument.spread.is_none()) else {
            return;
        };
        if let Some(field) = self.field_of(&member.obj) {
            for literal in self.literals_of(&first.expr) {
                let is_string = matches!(literal, ComparedLiteral::String { .. });
                let operator = match method.as_str() {
                    "startsWith" if is_string => ComparisonOperator::StartsWith,
                    "endsWith" if is_string => ComparisonOperator::EndsWith,
                    "includes" if is_string => ComparisonOperator::Includes,
                    "indexOf" | "lastIndexOf" if is_string => ComparisonOperator::IndexOf,
                    // `match` turns a string argument into a regular expression.
                    "match" | "matchAll" => ComparisonOperator::RegexMatch,
                    "search" if !is_string => ComparisonOperator::RegexSearch,
                    "replace" | "replaceAll" if !is_string => ComparisonOperator::RegexReplace,
                    _ => continue,
                };
                self.record(field.clone(), operator, literal, span);
            }
            return;
        }
        let Some(field) = self.field_of(&first.expr) else {
            return;
        };
        if matches!(method.as_str(), "test" | "exec") {
            for literal in self.literals_of(&member.obj) {
                if matches!(literal, ComparedLiteral::Regex { .. }) {
                    self.record(field.clone(), ComparisonOperator::RegexTest, literal, span);
                }
            }
        } else if matches!(
            method.as_str(),
            "includes" | "indexOf" | "lastIndexOf" | "has"
        ) {
            if let Some(values) = self.list_of(&member.obj) {
                self.record(
                    field,
                    ComparisonOperator::InList,
                    ComparedLiteral::List { values },
                    span,
                );
            }
        } else if method == "hasOwnProperty" {
            if let Some(values) = self.keys_of(&member.obj) {
                self.record(
                    field,
                    ComparisonOperator::ObjectKey,
                    ComparedLiteral::List { values },
                    span,
                );
            }
        }
    }

    /// Remembers the literal arguments of a call of a function by name, for
    /// [`Self::revisit_with_literal_calls`]. Only calls outside such visits count, so that the
    /// list is complete before recording starts.
    fn note_literal_call(&mut self, callee: &Expr, args: &[ExprOrSpread]) {
        if self.recording || !self.local_shapes.is_empty() {
            return;
        }
        let Some(name) = ident_name(callee) else {
            return;
        };
        // Positions after a spread argument are unknown.
        let arguments: Vec<Option<String>> = args
            .iter()
            .take_while(|argument| argument.spread.is_none())
            .map(|argument| self.string_of(&argument.expr))
            .collect();
        if arguments.iter().all(Option::is_none) {
            return;
        }
        let calls = self.literal_calls.entry(name.clone()).or_default();
        if calls.len() < MAX_LITERAL_CALLS && !calls.contains(&arguments) {
            calls.push(arguments);
        }
    }

    /// Visits `function`, bound to `name`, once more for each distinct list of literal
    /// arguments it is called with, its parameters bound to those literals.
    fn revisit_with_literal_calls(&mut self, name: &Atom, function: FunctionRef<'_>) {
        if !self.recording || self.local_shapes.len() >= MAX_LITERAL_CALL_DEPTH {
            return;
        }
        let Some(calls) = self.literal_calls.get(name).cloned() else {
            return;
        };
        let params = function.params();
        let span = function.span();
        let cost = Self::pass_cost(span);
        for arguments in calls {
            let bound: Vec<(Atom, String)> = params
                .iter()
                .zip(arguments)
                .filter_map(|(param, argument)| Some((param_name(param)?.clone(), argument?)))
                .collect();
            if bound.is_empty() || cost > self.revisit_budget {
                continue;
            }
            if self.revisited.insert((span, bound.clone())) {
                self.revisit(function, &bound);
            }
        }
    }

    /// What one pass over a function costs from [`Self::revisit_budget`].
    fn pass_cost(span: Span) -> usize {
        usize::try_from(span.hi.0.saturating_sub(span.lo.0)).unwrap_or(usize::MAX)
    }

    /// Visits a function with its parameters bound to string constants: first to bind the
    /// names inside it, then to record. What the visit binds is forgotten afterwards.
    fn revisit(&mut self, function: FunctionRef<'_>, bound: &[(Atom, String)]) {
        let cost = Self::pass_cost(function.span());
        let shadowed: Vec<(Atom, Option<Constant>)> = bound
            .iter()
            .map(|(name, value)| {
                let previous = self
                    .constants
                    .insert(name.clone(), Constant::String(value.clone()));
                (name.clone(), previous)
            })
            .collect();
        let classified = std::mem::take(&mut self.classified);
        self.local_shapes.push(HashMap::new());

        // Binding rounds as in `analyze`, as long as the budget leaves a pass for recording
        // (which binds too, enough for names bound before they are used).
        self.recording = false;
        for _ in 0..MAX_ROUNDS {
            if self.revisit_budget < cost.saturating_mul(2) {
                break;
            }
            self.revisit_budget -= cost;
            self.changed = false;
            self.classified.clear();
            function.visit_with(self);
            if !self.changed {
                break;
            }
        }
        self.revisit_budget = self.revisit_budget.saturating_sub(cost);
        self.recording = true;
        self.classified.clear();
        function.visit_with(self);

        self.local_shapes.pop();
        self.classified = classified;
        for (name, previous) in shadowed.into_iter().rev() {
            match previous {
                Some(constant) => self.constants.insert(name, constant),
                None => self.constants.remove(&name),
            };
        }
    }

    /// Runs `visit` with `name` standing for each element of a literal list.
    fn with_elements(
        &mut self,
        name: &Atom,
        elements: Vec<ComparedLiteral>,
        visit: impl FnOnce(&mut Self),
    ) {
        self.elements
            .entry(name.clone())
            .or_default()
            .push(elements);
        visit(self);
        if let Some(stack) = self.elements.get_mut(name) {
            stack.pop();
        }
    }

    /// The elements of the literal list that `list.some(...)` and similar run over.
    fn iterated_elements(&self, callee: &Expr) -> Option<Vec<ComparedLiteral>> {
        let Expr::Member(member) = unwrap_expr(callee) else {
            return None;
        };
        let method = member_prop_name(&member.prop)?;
        if !ELEMENT_CALLBACK_METHODS.contains(&method.as_str()) {
            return None;
        }
        self.elements_of(&member.obj)
    }
}

impl Visit for Tracker<'_, '_> {
    noop_visit_type!();

    fn visit_var_declarator(&mut self, declarator: &VarDeclarator) {
        if let Some(init) = &declarator.init {
            if let Some(shape) = self.classify(init) {
                self.bind(&declarator.name, shape);
            }
        }
        declarator.visit_children_with(self);
        if let (Pat::Ident(binding), Some(init)) = (&declarator.name, &declarator.init) {
            if let Some(function) = as_function(init) {
                self.revisit_with_literal_calls(&binding.id.sym, function);
            }
        }
    }

    fn visit_assign_expr(&mut self, assign: &AssignExpr) {
        if let AssignTarget::Simple(SimpleAssignTarget::Member(member)) = &assign.left {
            self.assignment_targets.insert(member.span);
            if assign.op == AssignOp::Assign {
                self.overwritten.insert(member.span);
            }
        }
        if assign.op == AssignOp::Assign {
            if let AssignTarget::Simple(SimpleAssignTarget::Ident(binding)) = &assign.left {
                if let Some(shape) = self.classify(&assign.right) {
                    self.set(&binding.id.sym, shape);
                }
            }
        }
        assign.visit_children_with(self);
    }

    fn visit_for_of_stmt(&mut self, for_of: &ForOfStmt) {
        let binding = for_of_binding(&for_of.left);
        if let Some(binding) = binding {
            let element = match self.classify(&for_of.right) {
                Some(list) => self.member(&list, "0"),
                None => None,
            };
            if let Some(element) = element {
                self.bind(binding, element);
            }
        }
        let iterated = binding
            .and_then(param_name)
            .zip(self.elements_of(&for_of.right));
        match iterated {
            Some((name, elements)) => {
                for_of.left.visit_with(self);
                for_of.right.visit_with(self);
                self.with_elements(name, elements, |this| for_of.body.visit_with(this));
            }
            None => for_of.visit_children_with(self),
        }
    }

    fn visit_unary_expr(&mut self, unary: &UnaryExpr) {
        if unary.op == UnaryOp::Delete {
            if let Expr::Member(member) = unwrap_expr(&unary.arg) {
                self.overwritten.insert(member.span);
            }
        }
        unary.visit_children_with(self);
    }

    fn visit_fn_decl(&mut self, decl: &FnDecl) {
        decl.visit_children_with(self);
        self.revisit_with_literal_calls(&decl.ident.sym, FunctionRef::Function(&decl.function));
    }

    fn visit_member_expr(&mut self, member: &MemberExpr) {
        if self.recording {
            // Classifying notes accesses to `cf.response` and `request.origin`.
            self.classify_member(member);
            let is_lookup = !self.assignment_targets.contains(&member.span);
            if let (MemberProp::Computed(computed), true) = (&member.prop, is_lookup) {
                if let Some(field) = self.field_of(&computed.expr) {
                    if let Some(values) = self.keys_of(&member.obj) {
                        self.record(
                            field,
                            ComparisonOperator::ObjectKey,
                            ComparedLiteral::List { values },
                            member.span,
                        );
                    }
                }
            }
        }
        member.visit_children_with(self);
    }

    fn visit_opt_chain_expr(&mut self, chain: &OptChainExpr) {
        if let OptChainBase::Call(call) = &*chain.base {
            self.bind_call_arguments(&call.callee, &call.args);
            if self.recording {
                self.record_call(&call.callee, &call.args, chain.span);
            }
        }
        chain.visit_children_with(self);
    }

    fn visit_call_expr(&mut self, call: &CallExpr) {
        let Callee::Expr(callee) = &call.callee else {
            call.visit_children_with(self);
            return;
        };
        self.bind_call_arguments(callee, &call.args);
        self.note_literal_call(callee, &call.args);
        if self.recording {
            self.record_call(callee, &call.args, call.span);
            if let Expr::Member(member) = unwrap_expr(callee) {
                // `Object.hasOwn(map, field)`
                if is_member_of(member, "Object", "hasOwn") && call.args.len() == 2 {
                    if let (Some(values), Some(field)) = (
                        self.keys_of(&call.args[0].expr),
                        self.field_of(&call.args[1].expr),
                    ) {
                        self.record(
                            field,
                            ComparisonOperator::ObjectKey,
                            ComparedLiteral::List { values },
                            call.span,
                        );
                    }
                    // `Object.hasOwn(headers, 'authorization')`
                    self.note_presence_test(&call.args[0].expr, &call.args[1].expr, call.span);
                }
                // `headers.hasOwnProperty('authorization')`
                let method = member_prop_name(&member.prop);
                if let (Some("hasOwnProperty"), [name]) = (method.as_deref(), &call.args[..]) {
                    self.note_presence_test(&member.obj, &name.expr, call.span);
                }
            }
        }
        // In `BOTS.some((re) => re.test(ua))` the callback's parameter stands for every
        // element of the list.
        let iteration = call.args.split_first().and_then(|(first, rest)| {
            let function = as_function(&first.expr)?;
            let name = function.params().first().copied().and_then(param_name)?;
            Some((first, rest, name, self.iterated_elements(callee)?))
        });
        match iteration {
            Some((first, rest, name, elements)) => {
                callee.visit_with(self);
                self.with_elements(name, elements, |this| first.visit_with(this));
                rest.visit_with(self);
            }
            None => call.visit_children_with(self),
        }
    }

    fn visit_bin_expr(&mut self, bin: &BinExpr) {
        if self.recording {
            let operator = match bin.op {
                BinaryOp::EqEq | BinaryOp::EqEqEq => Some(ComparisonOperator::Equals),
                BinaryOp::NotEq | BinaryOp::NotEqEq => Some(ComparisonOperator::NotEquals),
                _ => None,
            };
            if let Some(operator) = operator {
                let sides = [(&bin.left, &bin.right), (&bin.right, &bin.left)];
                for (field_side, literal_side) in sides {
                    let strings: Vec<ComparedLiteral> = self
                        .literals_of(literal_side)
                        .into_iter()
                        .filter(|literal| matches!(literal, ComparedLiteral::String { .. }))
                        .collect();
                    if strings.is_empty() {
                        continue;
                    }
                    if let Some(field) = self.field_of(field_side) {
                        for literal in strings {
                            self.record(field.clone(), operator, literal, bin.span);
                        }
                        break;
                    }
                }
            } else if bin.op == BinaryOp::In {
                self.note_presence_test(&bin.right, &bin.left, bin.span);
                if let (Some(field), Some(values)) =
                    (self.field_of(&bin.left), self.keys_of(&bin.right))
                {
                    self.record(
                        field,
                        ComparisonOperator::ObjectKey,
                        ComparedLiteral::List { values },
                        bin.span,
                    );
                }
            }
        }
        bin.visit_children_with(self);
    }

    fn visit_switch_stmt(&mut self, switch: &SwitchStmt) {
        if self.recording {
            if let Some(field) = self.field_of(&switch.discriminant) {
                for case in &switch.cases {
                    let Some(test) = &case.test else { continue };
                    if let Some(value) = self.string_of(test) {
                        let span = test.span();
                        self.record(
                            field.clone(),
                            ComparisonOperator::SwitchCase,
                            ComparedLiteral::String { value },
                            span,
                        );
                    }
                }
            }
        }
        switch.visit_children_with(self);
    }
}
