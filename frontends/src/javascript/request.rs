//! Which request fields the handler compares with which literals, and which triggers it was
//! written for.
//!
//! This is a best-effort visitor, not a dataflow engine. It knows the shape of the event
//! (`event.Records[0].cf.request.headers['user-agent'][0].value`), follows local names bound
//! to parts of it (aliases, destructuring, arguments of functions declared in the file), and
//! records a comparison when one side is a request field and the other a literal or a
//! constant bound to one. Names are tracked without scopes: the first binding of a name to a
//! part of the event wins.
//!
//! Invariant: a comparison is only recorded when the field side provably comes from the event.

use std::collections::{HashMap, HashSet};

use swc_atoms::Atom;
use swc_common::{Span, Spanned};
use swc_ecma_ast::{
    AssignExpr, AssignOp, AssignTarget, BinExpr, BinaryOp, CallExpr, Callee, Expr, ExprOrSpread,
    ForHead, ForOfStmt, Lit, MemberExpr, MemberProp, ObjectPatProp, OptChainBase, OptChainExpr,
    Pat, Program, Prop, PropOrSpread, SimpleAssignTarget, SwitchStmt, VarDecl, VarDeclKind,
    VarDeclarator,
};
use swc_ecma_visit::{noop_visit_type, Visit, VisitWith};

use super::facts::{ComparedLiteral, Comparison, ComparisonOperator, EventType};
use super::parse::SourceText;
use super::syntax::{
    as_function, as_member, ident_name, is_member_of, member_prop_name, prop_name, string_value,
    unwrap_expr, FunctionRef, TopLevel,
};

/// What part of the Lambda@Edge event a value is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    Event,
    Records,
    Record,
    Cf,
    Request,
    Response,
    Config,
    Headers,
    /// `headers['name']`: the array of `{key, value}` entries.
    HeaderList(String),
    /// `headers['name'][0]`.
    HeaderEntry(String),
    Origin,
    /// A string field compared with literals.
    Field {
        name: String,
        case_insensitive: bool,
    },
}

/// A name bound to a literal with `const`.
#[derive(Debug, Clone)]
enum Constant {
    String(String),
    Regex { pattern: String, flags: String },
    List(Vec<String>),
    Keys(Vec<String>),
}

/// What the request pass found.
pub(crate) struct RequestFacts {
    pub(crate) comparisons: Vec<Comparison>,
    pub(crate) event_types: Vec<EventType>,
}

/// Rounds of alias propagation before recording; aliases of aliases need more than one.
const MAX_ROUNDS: usize = 6;

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
        reads_response: false,
        touches_origin: false,
        assignment_targets: HashSet::new(),
        classified: HashMap::new(),
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

    let mut comparisons = tracker.comparisons;
    comparisons.sort_by_key(|comparison| comparison.span.start);
    comparisons.dedup();
    let event_types = if tracker.reads_response {
        vec![EventType::OriginResponse, EventType::ViewerResponse]
    } else if tracker.touches_origin {
        vec![EventType::OriginRequest]
    } else {
        vec![EventType::ViewerRequest, EventType::OriginRequest]
    };
    RequestFacts {
        comparisons,
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
    if let Some(values) = string_list(expr).filter(|values| !values.is_empty()) {
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

/// `['a', 'b']` or `new Set(['a', 'b'])` with only string elements.
fn string_list(expr: &Expr) -> Option<Vec<String>> {
    match unwrap_expr(expr) {
        Expr::Array(array) => array
            .elems
            .iter()
            .map(|element| match element {
                Some(element) if element.spread.is_none() => string_value(&element.expr),
                _ => None,
            })
            .collect(),
        Expr::New(new) if ident_name(&new.callee).is_some_and(|name| name == "Set") => {
            string_list(&new.args.as_deref()?.first()?.expr)
        }
        _ => None,
    }
}

/// The keys of an object literal whose keys are all static.
fn object_keys(expr: &Expr) -> Option<Vec<String>> {
    let Expr::Object(object) = unwrap_expr(expr) else {
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
    reads_response: bool,
    touches_origin: bool,
    /// Members written by an assignment (`cache[uri] = ...`), which are not key lookups.
    assignment_targets: HashSet<Span>,
    /// Shapes of the expressions classified in this pass, by span. Visiting `a.b.c.d`
    /// classifies every inner chain again; the cache keeps long chains linear.
    classified: HashMap<Span, Option<Shape>>,
}

impl Tracker<'_, '_> {
    fn set(&mut self, name: &Atom, shape: Shape) {
        if !self.shapes.contains_key(name) {
            self.shapes.insert(name.clone(), shape);
            self.changed = true;
        }
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
                                self.bind(&key_value.value, child);
                            }
                        }
                        ObjectPatProp::Assign(assign) => {
                            if let Some(child) = self.member(&shape, assign.key.id.sym.as_str()) {
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
                        self.bind(first, child);
                    }
                }
            }
            _ => {}
        }
    }

    /// The shape of `shape[key]`, noting the accesses that reveal the trigger.
    fn member(&mut self, shape: &Shape, key: &str) -> Option<Shape> {
        let field = |name: &str| Shape::Field {
            name: name.to_owned(),
            case_insensitive: false,
        };
        let child = match (shape, key) {
            (Shape::Event, "Records") => Shape::Records,
            (Shape::Records, "0") => Shape::Record,
            (Shape::Record, "cf") => Shape::Cf,
            (Shape::Cf, "request") => Shape::Request,
            (Shape::Cf, "response") => Shape::Response,
            (Shape::Cf, "config") => Shape::Config,
            (Shape::Request, "uri" | "querystring" | "clientIp" | "method") => field(key),
            (Shape::Request, "headers") => Shape::Headers,
            (Shape::Request, "origin") => Shape::Origin,
            (Shape::Response, "status") => field("status"),
            (Shape::Headers, name) => Shape::HeaderList(name.to_ascii_lowercase()),
            (Shape::HeaderList(name), "0") => Shape::HeaderEntry(name.clone()),
            (Shape::HeaderEntry(name), "value") if name == "cookie" => field("cookie"),
            (Shape::HeaderEntry(name), "value") => field(&format!("header:{name}")),
            _ => return None,
        };
        if self.recording {
            match child {
                Shape::Response => self.reads_response = true,
                Shape::Origin => self.touches_origin = true,
                _ => {}
            }
        }
        Some(child)
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
        let key = self.static_key(&member.prop)?;
        self.member(&object, &key)
    }

    /// The shape of the value an expression evaluates to.
    fn classify(&mut self, expr: &Expr) -> Option<Shape> {
        let expr = unwrap_expr(expr);
        if let Expr::Ident(ident) = expr {
            return self.shapes.get(&ident.sym).cloned();
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
            Expr::Ident(ident) => self.shapes.get(&ident.sym).cloned(),
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

    fn regex_of(&self, expr: &Expr) -> Option<ComparedLiteral> {
        let (pattern, flags) = regex_literal(expr).or_else(|| match self.constant(expr)? {
            Constant::Regex { pattern, flags } => Some((pattern.clone(), flags.clone())),
            _ => None,
        })?;
        Some(ComparedLiteral::Regex { pattern, flags })
    }

    fn list_of(&self, expr: &Expr) -> Option<Vec<String>> {
        string_list(expr)
            .filter(|values| !values.is_empty())
            .or_else(|| match self.constant(expr)? {
                Constant::List(values) => Some(values.clone()),
                _ => None,
            })
    }

    fn keys_of(&self, expr: &Expr) -> Option<Vec<String>> {
        object_keys(expr)
            .filter(|keys| !keys.is_empty())
            .or_else(|| match self.constant(expr)? {
                Constant::Keys(keys) => Some(keys.clone()),
                _ => None,
            })
    }

    fn record(
        &mut self,
        (field, case_insensitive): (String, bool),
        operator: ComparisonOperator,
        literal: ComparedLiteral,
        span: Span,
    ) {
        if self.recording {
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
                let iterates = member_prop_name(&member.prop).is_some_and(|method| {
                    matches!(
                        method.as_str(),
                        "forEach" | "map" | "some" | "every" | "find" | "filter" | "findIndex"
                    )
                });
                if !iterates {
                    return;
                }
                let element = match self.classify(&member.obj) {
                    Some(list @ Shape::HeaderList(_)) => self.member(&list, "0"),
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
            let string_operator = match method.as_str() {
                "startsWith" => Some(ComparisonOperator::StartsWith),
                "endsWith" => Some(ComparisonOperator::EndsWith),
                "includes" => Some(ComparisonOperator::Includes),
                "indexOf" | "lastIndexOf" => Some(ComparisonOperator::IndexOf),
                _ => None,
            };
            let regex_operator = match method.as_str() {
                "match" | "matchAll" => Some(ComparisonOperator::RegexMatch),
                "search" => Some(ComparisonOperator::RegexSearch),
                "replace" | "replaceAll" => Some(ComparisonOperator::RegexReplace),
                _ => None,
            };
            if let (Some(operator), Some(value)) = (string_operator, self.string_of(&first.expr)) {
                self.record(field, operator, ComparedLiteral::String { value }, span);
            } else if let (Some(operator), Some(regex)) =
                (regex_operator, self.regex_of(&first.expr))
            {
                self.record(field, operator, regex, span);
            } else if let (Some(ComparisonOperator::RegexMatch), Some(value)) =
                (regex_operator, self.string_of(&first.expr))
            {
                // `match` turns a string argument into a regular expression.
                self.record(
                    field,
                    ComparisonOperator::RegexMatch,
                    ComparedLiteral::String { value },
                    span,
                );
            }
            return;
        }
        let Some(field) = self.field_of(&first.expr) else {
            return;
        };
        if matches!(method.as_str(), "test" | "exec") {
            if let Some(regex) = self.regex_of(&member.obj) {
                self.record(field, ComparisonOperator::RegexTest, regex, span);
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
    }

    fn visit_assign_expr(&mut self, assign: &AssignExpr) {
        if let AssignTarget::Simple(SimpleAssignTarget::Member(member)) = &assign.left {
            self.assignment_targets.insert(member.span);
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
        if let ForHead::VarDecl(var) = &for_of.left {
            let element = match self.classify(&for_of.right) {
                Some(list) => self.member(&list, "0"),
                None => None,
            };
            if let (Some(element), Some(declarator)) = (element, var.decls.first()) {
                self.bind(&declarator.name, element);
            }
        }
        for_of.visit_children_with(self);
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
        if let Callee::Expr(callee) = &call.callee {
            self.bind_call_arguments(callee, &call.args);
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
                    }
                }
            }
        }
        call.visit_children_with(self);
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
                    if let Some(value) = self.string_of(literal_side) {
                        if let Some(field) = self.field_of(field_side) {
                            self.record(
                                field,
                                operator,
                                ComparedLiteral::String { value },
                                bin.span,
                            );
                            break;
                        }
                    }
                }
            } else if bin.op == BinaryOp::In {
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
