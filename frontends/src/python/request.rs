//! Which request and response fields the handler reads, which of them it compares with which
//! literals, and which triggers it was written for.
//!
//! The Python counterpart of the JavaScript frontend's request pass, with the same field names
//! and the same event walk ([`crate::event`]): a best-effort tracker, not a dataflow engine.
//! It knows the shape of the event (`event['Records'][0]['cf']['request']['headers']`),
//! follows names bound to parts of it (assignments, `:=`, loop targets, parameters of
//! module-level functions called with them), and records a comparison when one side is a
//! request field and the other a literal or a module-level constant bound to one. Names are
//! tracked without scopes: the first binding of a name to a part of the event wins.
//!
//! Python idioms on top of the JavaScript ones: `dict.get(key, default)` reads like a
//! subscript; `'x' in field` is `Includes`, `field in ('a', 'b')` is `InList`, `field in MAP`
//! and `MAP.get(field)` are `ObjectKey`; `re.match(pattern, field)` and a compiled pattern's
//! `match`/`search`/`fullmatch` are `RegexTest`; `match`/`case` string patterns are
//! `SwitchCase`; `ipaddress.ip_address(client_ip) in ipaddress.ip_network('10.0.0.0/8')`
//! compares `clientIp` with the CIDR; the names `urllib.parse.parse_qs(querystring)` is
//! asked for become `querystring` `Includes` comparisons with `name=` (and `name=value`).
//! Unlike the JavaScript pass, a helper called with literal arguments is not visited once per
//! call.
//!
//! Invariant: a comparison or read is only recorded when the field provably comes from the
//! event.

use std::collections::HashMap;
use std::ops::Range;

use rustpython_parser::ast::{
    BoolOp, CmpOp, Expr, ExprCall, ExprContext, Operator, Pattern, Ranged, Stmt,
};

use super::handler::{FunctionRef, TopLevel};
use super::syntax::{
    argument, callee_name, is_int_literal, module_level, name_of, span, string_value, walk_expr,
    walk_stmt, ImportBindings, Visit,
};
use crate::event::{in_source_order, Shape, Triggers};
use crate::facts::{ComparedLiteral, Comparison, ComparisonOperator, EventType, FieldRead};

/// What a value is, as far as the tracker can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    /// A part of the event.
    Event(Shape),
    /// `urllib.parse.parse_qs(querystring)`.
    QueryParams,
    /// The values of one query parameter, or one of them (`params.get('lang', [''])[0]`).
    QueryParameter(String),
    /// `ipaddress.ip_address(client_ip)`.
    ClientAddress,
}

/// A module-level name bound to a literal.
#[derive(Debug, Clone)]
enum Constant {
    String(String),
    Regex {
        pattern: String,
        flags: String,
    },
    /// A list, tuple or set of string and regex literals; never empty.
    List(Vec<ComparedLiteral>),
    /// The string keys of a dict literal; never empty.
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

/// The literals recorded comparisons may hold in all (as in the JavaScript pass).
const MAX_RECORDED_LITERALS: usize = 100_000;

/// Tracks the event through the module and records comparisons.
pub(crate) fn analyze(
    body: &[Stmt],
    top_level: &TopLevel<'_>,
    bindings: &ImportBindings,
    handler: Option<FunctionRef<'_>>,
) -> RequestFacts {
    let mut tracker = Tracker {
        top_level,
        bindings,
        constants: collect_constants(body, bindings),
        shapes: HashMap::new(),
        classified: HashMap::new(),
        elements: HashMap::new(),
        changed: false,
        recording: false,
        comparisons: Vec::new(),
        reads: Vec::new(),
        triggers: Triggers::default(),
        recorded_literals: 0,
    };
    let event = handler
        .and_then(|handler| handler.positional_names().first().copied())
        .unwrap_or("event");
    tracker.set(event, Value::Event(Shape::Event));
    for _ in 0..MAX_ROUNDS {
        tracker.changed = false;
        tracker.classified.clear();
        tracker.visit_body(body);
        if !tracker.changed {
            break;
        }
    }
    tracker.recording = true;
    tracker.classified.clear();
    tracker.visit_body(body);

    let (comparisons, reads) = in_source_order(tracker.comparisons, tracker.reads);
    RequestFacts {
        comparisons,
        reads,
        event_types: tracker.triggers.event_types(),
    }
}

/// The module-level names bound to literals, first binding first.
fn collect_constants(body: &[Stmt], bindings: &ImportBindings) -> HashMap<String, Constant> {
    let mut constants = HashMap::new();
    for stmt in module_level(body) {
        let (targets, value): (Vec<&Expr>, &Expr) = match stmt {
            Stmt::Assign(assign) => (assign.targets.iter().collect(), &assign.value),
            Stmt::AnnAssign(assign) => match &assign.value {
                Some(value) => (vec![&assign.target], value),
                None => continue,
            },
            _ => continue,
        };
        let Some(constant) = constant_of(value, bindings) else {
            continue;
        };
        for target in targets {
            if let Some(name) = name_of(target) {
                constants
                    .entry(name.to_owned())
                    .or_insert_with(|| constant.clone());
            }
        }
    }
    constants
}

fn constant_of(value: &Expr, bindings: &ImportBindings) -> Option<Constant> {
    if let Some(literal) = literal_of(value, bindings) {
        return Some(match literal {
            ComparedLiteral::String { value } => Constant::String(value),
            ComparedLiteral::Regex { pattern, flags } => Constant::Regex { pattern, flags },
            ComparedLiteral::List { values } => Constant::List(
                values
                    .into_iter()
                    .map(|value| ComparedLiteral::String { value })
                    .collect(),
            ),
        });
    }
    if let Some(elements) = literal_list(value, bindings) {
        return Some(Constant::List(elements));
    }
    dict_keys(value).map(Constant::Keys)
}

/// A string literal, a `re.compile` of one, or an `ipaddress` network or address of one
/// (which stands for its text).
fn literal_of(expr: &Expr, bindings: &ImportBindings) -> Option<ComparedLiteral> {
    if let Some(value) = string_value(expr) {
        return Some(ComparedLiteral::String {
            value: value.to_owned(),
        });
    }
    let Expr::Call(call) = expr else {
        return None;
    };
    let name = callee_name(bindings, call)?;
    let text = argument(call, 0, "").and_then(string_value);
    match name.as_str() {
        "re.compile" => Some(ComparedLiteral::Regex {
            pattern: argument(call, 0, "pattern")
                .and_then(string_value)?
                .to_owned(),
            flags: regex_flags(argument(call, 1, "flags"), bindings),
        }),
        "ipaddress.ip_network"
        | "ipaddress.IPv4Network"
        | "ipaddress.IPv6Network"
        | "ipaddress.ip_address"
        | "ipaddress.IPv4Address"
        | "ipaddress.IPv6Address" => Some(ComparedLiteral::String {
            value: text?.to_owned(),
        }),
        _ => None,
    }
}

/// The flags of `re.I | re.M` as JavaScript-style letters, sorted; flags without a
/// JavaScript meaning are left out.
fn regex_flags(flags: Option<&Expr>, bindings: &ImportBindings) -> String {
    let mut letters = Vec::new();
    let mut pending: Vec<&Expr> = flags.into_iter().collect();
    while let Some(flag) = pending.pop() {
        if let Expr::BinOp(bin_op) = flag {
            if bin_op.op == Operator::BitOr {
                pending.push(&bin_op.left);
                pending.push(&bin_op.right);
            }
            continue;
        }
        let letter = match bindings.qualified_name(flag).as_deref() {
            Some("re.I" | "re.IGNORECASE") => 'i',
            Some("re.M" | "re.MULTILINE") => 'm',
            Some("re.S" | "re.DOTALL") => 's',
            _ => continue,
        };
        if !letters.contains(&letter) {
            letters.push(letter);
        }
    }
    letters.sort_unstable();
    letters.into_iter().collect()
}

/// The elements of a list, tuple or set display of literals (or `frozenset(...)`, `set(...)`,
/// `tuple(...)` of one), at least one.
fn literal_list(expr: &Expr, bindings: &ImportBindings) -> Option<Vec<ComparedLiteral>> {
    let elements = match expr {
        Expr::List(list) => &list.elts,
        Expr::Tuple(tuple) => &tuple.elts,
        Expr::Set(set) => &set.elts,
        Expr::Call(call) => {
            let name = callee_name(bindings, call)?;
            if !matches!(name.as_str(), "frozenset" | "set" | "tuple" | "list")
                || call.args.len() != 1
            {
                return None;
            }
            return literal_list(&call.args[0], bindings);
        }
        _ => return None,
    };
    let literals: Vec<ComparedLiteral> = elements
        .iter()
        .map(|element| literal_of(element, bindings))
        .collect::<Option<_>>()?;
    (!literals.is_empty()).then_some(literals)
}

/// The keys of a dict display whose keys are all strings, at least one.
fn dict_keys(expr: &Expr) -> Option<Vec<String>> {
    let Expr::Dict(dict) = expr else {
        return None;
    };
    let keys: Vec<String> = dict
        .keys
        .iter()
        .map(|key| key.as_ref().and_then(string_value).map(str::to_owned))
        .collect::<Option<_>>()?;
    (!keys.is_empty()).then_some(keys)
}

fn strings_of(literals: &[ComparedLiteral]) -> Option<Vec<String>> {
    literals
        .iter()
        .map(|literal| match literal {
            ComparedLiteral::String { value } => Some(value.clone()),
            _ => None,
        })
        .collect()
}

struct Tracker<'a, 'ast> {
    top_level: &'a TopLevel<'ast>,
    bindings: &'a ImportBindings,
    constants: HashMap<String, Constant>,
    shapes: HashMap<String, Value>,
    /// Values of the expressions classified in this pass, by range: classifying `a[b][c]`
    /// classifies every inner subscript again, and the cache keeps long chains linear.
    classified: HashMap<(usize, usize), Option<Value>>,
    /// The literal lists that loop names run over (`bot` in `for bot in BOTS`), innermost last.
    elements: HashMap<String, Vec<Vec<ComparedLiteral>>>,
    changed: bool,
    recording: bool,
    comparisons: Vec<Comparison>,
    /// Every read recorded, in visiting order and with repetitions.
    reads: Vec<FieldRead>,
    triggers: Triggers,
    recorded_literals: usize,
}

impl Tracker<'_, '_> {
    fn set(&mut self, name: &str, value: Value) {
        if !self.shapes.contains_key(name) {
            self.shapes.insert(name.to_owned(), value);
            self.changed = true;
        }
    }

    fn bind(&mut self, target: &Expr, value: Value) {
        if let Some(name) = name_of(target) {
            self.set(name, value);
        }
    }

    fn value_of_name(&self, name: &str) -> Option<Value> {
        if self
            .elements
            .get(name)
            .is_some_and(|stack| !stack.is_empty())
        {
            return None;
        }
        self.shapes.get(name).cloned()
    }

    fn note_read(&mut self, shape: &Shape, range: Range<usize>) {
        if !self.recording {
            return;
        }
        if let Some(field) = shape.read_field() {
            self.reads.push(FieldRead { field, span: range });
        }
    }

    /// `value[key]` (or `value.get(key)`), noting the read and what reveals the trigger.
    fn child(
        &mut self,
        value: Value,
        key: Option<String>,
        range: Range<usize>,
        reads: bool,
    ) -> Option<Value> {
        match value {
            Value::Event(shape) => {
                let key = match key {
                    Some(key) => key,
                    // `cookies[i]`: an index computed at run time still picks an entry.
                    None if matches!(shape, Shape::HeaderList(..)) => "0".to_owned(),
                    None => return None,
                };
                let child = shape.child(&key)?;
                if self.recording {
                    self.triggers.note(&child);
                }
                if reads {
                    self.note_read(&child, range);
                }
                Some(Value::Event(child))
            }
            Value::QueryParams => {
                let key = key?;
                if reads {
                    self.record_query(&key, None, range);
                }
                Some(Value::QueryParameter(key))
            }
            Value::QueryParameter(name) => Some(Value::QueryParameter(name)),
            Value::ClientAddress => None,
        }
    }

    /// The key a subscript names: a string, a constant bound to one, or any integer (`[0]`,
    /// `[-1]`) as `0`.
    fn static_key(&self, slice: &Expr) -> Option<String> {
        if is_int_literal(slice) {
            return Some("0".to_owned());
        }
        self.string_of(slice)
    }

    fn string_of(&self, expr: &Expr) -> Option<String> {
        if let Some(value) = string_value(expr) {
            return Some(value.to_owned());
        }
        match self.constants.get(name_of(expr)?)? {
            Constant::String(value) => Some(value.clone()),
            _ => None,
        }
    }

    fn classify(&mut self, expr: &Expr) -> Option<Value> {
        if let Expr::Name(name) = expr {
            return self.value_of_name(name.id.as_str());
        }
        let range = span(expr);
        let key = (range.start, range.end);
        if let Some(value) = self.classified.get(&key) {
            return value.clone();
        }
        let value = self.classify_uncached(expr);
        self.classified.insert(key, value.clone());
        value
    }

    fn classify_uncached(&mut self, expr: &Expr) -> Option<Value> {
        match expr {
            Expr::Subscript(subscript) => {
                let object = self.classify(&subscript.value)?;
                let key = self.static_key(&subscript.slice);
                let reads = subscript.ctx == ExprContext::Load;
                self.child(object, key, span(expr), reads)
            }
            Expr::Call(call) => self.classify_call(call, expr),
            Expr::BoolOp(bool_op) => match bool_op.op {
                BoolOp::And => self.classify(bool_op.values.last()?),
                BoolOp::Or => {
                    let mut found = None;
                    for value in &bool_op.values {
                        if let Some(value) = self.classify(value) {
                            found = Some(value);
                            break;
                        }
                    }
                    found
                }
            },
            Expr::IfExp(if_exp) => self
                .classify(&if_exp.body)
                .or_else(|| self.classify(&if_exp.orelse)),
            Expr::NamedExpr(named) => self.classify(&named.value),
            _ => None,
        }
    }

    fn classify_call(&mut self, call: &ExprCall, expr: &Expr) -> Option<Value> {
        if let Expr::Attribute(attribute) = &*call.func {
            let method = attribute.attr.as_str();
            let object = self.classify(&attribute.value);
            match (object, method) {
                (Some(object), "get") => {
                    let key = self.string_of(call.args.first()?);
                    key.as_ref()?;
                    return self.child(object, key, span(expr), true);
                }
                (
                    Some(Value::Event(Shape::Field {
                        name,
                        case_insensitive,
                    })),
                    _,
                ) => {
                    let case_insensitive = match method {
                        "lower" | "upper" | "casefold" => true,
                        "strip" | "lstrip" | "rstrip" => case_insensitive,
                        _ => return None,
                    };
                    return Some(Value::Event(Shape::Field {
                        name,
                        case_insensitive,
                    }));
                }
                (Some(Value::QueryParameter(name)), "lower" | "upper" | "casefold" | "strip") => {
                    return Some(Value::QueryParameter(name));
                }
                _ => {}
            }
        }
        let name = callee_name(self.bindings, call)?;
        let first = call.args.first()?;
        match name.as_str() {
            "urllib.parse.parse_qs" => match self.classify(first)? {
                Value::Event(Shape::Field { name, .. }) if name == "querystring" => {
                    Some(Value::QueryParams)
                }
                _ => None,
            },
            "ipaddress.ip_address" | "ipaddress.IPv4Address" | "ipaddress.IPv6Address" => {
                match self.classify(first)? {
                    Value::Event(Shape::Field { name, .. }) if name == "clientIp" => {
                        Some(Value::ClientAddress)
                    }
                    _ => None,
                }
            }
            "str" | "urllib.parse.unquote" | "urllib.parse.unquote_plus" => {
                match self.classify(first)? {
                    field @ Value::Event(Shape::Field { .. }) => Some(field),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn field_of(&mut self, expr: &Expr) -> Option<(String, bool)> {
        match self.classify(expr)? {
            Value::Event(Shape::Field {
                name,
                case_insensitive,
            }) => Some((name, case_insensitive)),
            _ => None,
        }
    }

    /// The string and regex literals an expression may be: a literal, a constant bound to
    /// one, or the element of a literal list that a loop name runs over.
    fn literals_of(&self, expr: &Expr) -> Vec<ComparedLiteral> {
        if !self.can_record() {
            return Vec::new();
        }
        if let Some(literal) = literal_of(expr, self.bindings) {
            return match literal {
                ComparedLiteral::List { .. } => Vec::new(),
                literal => vec![literal],
            };
        }
        // `ip_network(cidr)` with `cidr` a loop name over a list of strings.
        if let Expr::Call(call) = expr {
            let is_network = callee_name(self.bindings, call).is_some_and(|name| {
                matches!(
                    name.as_str(),
                    "ipaddress.ip_network" | "ipaddress.IPv4Network" | "ipaddress.IPv6Network"
                )
            });
            return match call.args.first() {
                Some(first) if is_network => self.literals_of(first),
                _ => Vec::new(),
            };
        }
        let Some(name) = name_of(expr) else {
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

    /// The literals of a `startswith` argument: one literal, a tuple of them, or a constant
    /// bound to a tuple of them.
    fn literals_or_tuple(&self, expr: &Expr) -> Vec<ComparedLiteral> {
        if let Expr::Tuple(tuple) = expr {
            return tuple
                .elts
                .iter()
                .flat_map(|element| self.literals_of(element))
                .collect();
        }
        let literals = self.literals_of(expr);
        if !literals.is_empty() || !self.can_record() {
            return literals;
        }
        match name_of(expr).and_then(|name| self.constants.get(name)) {
            Some(Constant::List(elements)) => elements.clone(),
            _ => Vec::new(),
        }
    }

    fn elements_of(&self, expr: &Expr) -> Option<Vec<ComparedLiteral>> {
        literal_list(expr, self.bindings).or_else(|| match self.constants.get(name_of(expr)?)? {
            Constant::List(elements) => Some(elements.clone()),
            _ => None,
        })
    }

    fn keys_of(&self, expr: &Expr) -> Option<Vec<String>> {
        dict_keys(expr).or_else(|| match self.constants.get(name_of(expr)?)? {
            Constant::Keys(keys) => Some(keys.clone()),
            _ => None,
        })
    }

    fn can_record(&self) -> bool {
        self.recording && self.recorded_literals < MAX_RECORDED_LITERALS
    }

    fn record(
        &mut self,
        (field, case_insensitive): (String, bool),
        operator: ComparisonOperator,
        literal: ComparedLiteral,
        range: Range<usize>,
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
                span: range,
            });
        }
    }

    /// A query parameter asked for (`name=`) or compared with a value (`name=value`): the
    /// query string includes the pair.
    fn record_query(&mut self, name: &str, value: Option<&str>, range: Range<usize>) {
        let pair = format!("{name}={}", value.unwrap_or_default());
        self.record(
            ("querystring".to_owned(), false),
            ComparisonOperator::Includes,
            ComparedLiteral::String { value: pair },
            range,
        );
    }

    /// Runs `visit` with `name` standing for each element of a literal list.
    fn with_elements(
        &mut self,
        name: &str,
        elements: Vec<ComparedLiteral>,
        visit: impl FnOnce(&mut Self),
    ) {
        self.elements
            .entry(name.to_owned())
            .or_default()
            .push(elements);
        visit(self);
        if let Some(stack) = self.elements.get_mut(name) {
            stack.pop();
        }
    }

    /// Binds the parameters of a module-level function to the values of its arguments.
    fn bind_call_arguments(&mut self, call: &ExprCall) {
        let Some(function) = name_of(&call.func).and_then(|name| self.top_level.function(name))
        else {
            return;
        };
        let params = function.positional_names();
        for (param, argument) in params.iter().zip(&call.args) {
            if let Some(value) = self.classify(argument) {
                self.set(param, value);
            }
        }
        for keyword in &call.keywords {
            let Some(param) = keyword.arg.as_ref() else {
                continue;
            };
            if let Some(value) = self.classify(&keyword.value) {
                self.set(param.as_str(), value);
            }
        }
    }

    fn record_compare(&mut self, left: &Expr, op: CmpOp, right: &Expr, range: Range<usize>) {
        match op {
            CmpOp::Eq | CmpOp::NotEq => {
                let operator = if op == CmpOp::Eq {
                    ComparisonOperator::Equals
                } else {
                    ComparisonOperator::NotEquals
                };
                for (field_side, literal_side) in [(left, right), (right, left)] {
                    let strings: Vec<ComparedLiteral> = self
                        .literals_of(literal_side)
                        .into_iter()
                        .filter(|literal| matches!(literal, ComparedLiteral::String { .. }))
                        .collect();
                    if strings.is_empty() {
                        continue;
                    }
                    match self.classify(field_side) {
                        Some(Value::Event(Shape::Field {
                            name,
                            case_insensitive,
                        })) => {
                            for literal in strings {
                                self.record(
                                    (name.clone(), case_insensitive),
                                    operator,
                                    literal,
                                    range.clone(),
                                );
                            }
                            break;
                        }
                        Some(Value::QueryParameter(name)) => {
                            for value in strings_of(&strings).unwrap_or_default() {
                                self.record_query(&name, Some(&value), range.clone());
                            }
                            break;
                        }
                        _ => {}
                    }
                }
            }
            CmpOp::In | CmpOp::NotIn => self.record_membership(left, right, range),
            _ => {}
        }
    }

    /// `left in right`.
    fn record_membership(&mut self, left: &Expr, right: &Expr, range: Range<usize>) {
        let container = self.classify(right);
        match container {
            // `'authorization' in headers`
            Some(Value::Event(Shape::Headers(message))) => {
                if let Some(name) = self.string_of(left) {
                    self.note_read(
                        &Shape::HeaderList(message, name.to_ascii_lowercase()),
                        range,
                    );
                }
                return;
            }
            // `'lang' in params`
            Some(Value::QueryParams) => {
                if let Some(name) = self.string_of(left) {
                    self.record_query(&name, None, range);
                }
                return;
            }
            // `'admin' in uri`
            Some(Value::Event(Shape::Field {
                name,
                case_insensitive,
            })) => {
                for literal in self.literals_of(left) {
                    if matches!(literal, ComparedLiteral::String { .. }) {
                        self.record(
                            (name.clone(), case_insensitive),
                            ComparisonOperator::Includes,
                            literal,
                            range.clone(),
                        );
                    }
                }
                return;
            }
            _ => {}
        }
        match self.classify(left) {
            Some(Value::Event(Shape::Field {
                name,
                case_insensitive,
            })) => {
                let field = (name, case_insensitive);
                if let Some(values) = self.elements_of(right).as_deref().and_then(strings_of) {
                    self.record(
                        field,
                        ComparisonOperator::InList,
                        ComparedLiteral::List { values },
                        range,
                    );
                } else if let Some(values) = self.keys_of(right) {
                    self.record(
                        field,
                        ComparisonOperator::ObjectKey,
                        ComparedLiteral::List { values },
                        range,
                    );
                }
            }
            // `ip_address(client_ip) in ip_network('10.0.0.0/8')`
            Some(Value::ClientAddress) => {
                for literal in self.literals_of(right) {
                    if matches!(literal, ComparedLiteral::String { .. }) {
                        self.record(
                            ("clientIp".to_owned(), false),
                            ComparisonOperator::Equals,
                            literal,
                            range.clone(),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// Comparisons made by calls: string methods of a field, `re` functions, methods of a
    /// compiled pattern, `MAP.get(field)`.
    fn record_call(&mut self, call: &ExprCall, range: Range<usize>) {
        if let Expr::Attribute(attribute) = &*call.func {
            let method = attribute.attr.as_str();
            if let Some(field) = self.field_of(&attribute.value) {
                let Some(first) = call.args.first() else {
                    return;
                };
                let operator = match method {
                    "startswith" => ComparisonOperator::StartsWith,
                    "endswith" => ComparisonOperator::EndsWith,
                    "find" | "rfind" | "index" | "rindex" | "count" => ComparisonOperator::IndexOf,
                    _ => return,
                };
                for literal in self.literals_or_tuple(first) {
                    if matches!(literal, ComparedLiteral::String { .. }) {
                        self.record(field.clone(), operator, literal, range.clone());
                    }
                }
                return;
            }
            // `PATTERN.match(field)`, `PATTERN.sub(replacement, field)`
            let regexes: Vec<ComparedLiteral> = self
                .literals_of(&attribute.value)
                .into_iter()
                .filter(|literal| matches!(literal, ComparedLiteral::Regex { .. }))
                .collect();
            if !regexes.is_empty() {
                let (operator, subject) = match method {
                    "match" | "search" | "fullmatch" => {
                        (ComparisonOperator::RegexTest, call.args.first())
                    }
                    "findall" | "finditer" => (ComparisonOperator::RegexMatch, call.args.first()),
                    "sub" | "subn" => (ComparisonOperator::RegexReplace, call.args.get(1)),
                    _ => return,
                };
                if let Some(field) = subject.and_then(|subject| self.field_of(subject)) {
                    for regex in regexes {
                        self.record(field.clone(), operator, regex, range.clone());
                    }
                }
                return;
            }
            // `REDIRECTS.get(uri)`
            if method == "get" {
                if let (Some(values), Some(first)) =
                    (self.keys_of(&attribute.value), call.args.first())
                {
                    if let Some(field) = self.field_of(first) {
                        self.record(
                            field,
                            ComparisonOperator::ObjectKey,
                            ComparedLiteral::List { values },
                            range,
                        );
                    }
                }
                return;
            }
        }
        let Some(name) = callee_name(self.bindings, call) else {
            return;
        };
        let (operator, subject) = match name.as_str() {
            "re.match" | "re.search" | "re.fullmatch" => {
                (ComparisonOperator::RegexTest, argument(call, 1, "string"))
            }
            "re.findall" | "re.finditer" => {
                (ComparisonOperator::RegexMatch, argument(call, 1, "string"))
            }
            "re.sub" | "re.subn" => (
                ComparisonOperator::RegexReplace,
                argument(call, 2, "string"),
            ),
            _ => return,
        };
        let flags_position = if operator == ComparisonOperator::RegexReplace {
            4
        } else {
            2
        };
        let Some(field) = subject.and_then(|subject| self.field_of(subject)) else {
            return;
        };
        let Some(pattern) = argument(call, 0, "pattern") else {
            return;
        };
        let extra_flags = regex_flags(argument(call, flags_position, "flags"), self.bindings);
        for literal in self.literals_of(pattern) {
            let (pattern, flags) = match literal {
                ComparedLiteral::String { value } => (value, String::new()),
                ComparedLiteral::Regex { pattern, flags } => (pattern, flags),
                ComparedLiteral::List { .. } => continue,
            };
            let mut letters: Vec<char> = flags.chars().chain(extra_flags.chars()).collect();
            letters.sort_unstable();
            letters.dedup();
            let flags = letters.into_iter().collect();
            self.record(
                field.clone(),
                operator,
                ComparedLiteral::Regex { pattern, flags },
                range.clone(),
            );
        }
    }

    /// `match field:` with string `case`s.
    fn record_cases(&mut self, subject: &Expr, cases: &[rustpython_parser::ast::MatchCase]) {
        let Some(field) = self.field_of(subject) else {
            return;
        };
        let mut patterns: Vec<&Pattern> = cases.iter().map(|case| &case.pattern).collect();
        let mut index = 0;
        while index < patterns.len() {
            let pattern = patterns[index];
            index += 1;
            match pattern {
                Pattern::MatchValue(value) => {
                    if let Some(text) = string_value(&value.value) {
                        self.record(
                            field.clone(),
                            ComparisonOperator::SwitchCase,
                            ComparedLiteral::String {
                                value: text.to_owned(),
                            },
                            span(&*value.value),
                        );
                    }
                }
                Pattern::MatchOr(or) => patterns.extend(or.patterns.iter()),
                Pattern::MatchAs(pattern_as) => patterns.extend(pattern_as.pattern.as_deref()),
                _ => {}
            }
        }
    }

    /// Visits comprehension parts with each target standing for what its iterable yields.
    fn visit_comprehension(
        &mut self,
        generators: &[rustpython_parser::ast::Comprehension],
        rest: &[&Expr],
    ) {
        let Some((generator, more)) = generators.split_first() else {
            for expr in rest {
                self.visit_expr(expr);
            }
            return;
        };
        self.visit_expr(&generator.iter);
        self.bind_iteration(&generator.target, &generator.iter);
        let visit = |this: &mut Self| {
            for condition in &generator.ifs {
                this.visit_expr(condition);
            }
            this.visit_comprehension(more, rest);
        };
        match (
            name_of(&generator.target),
            self.elements_of(&generator.iter),
        ) {
            (Some(name), Some(elements)) => self.with_elements(name, elements, visit),
            _ => visit(self),
        }
    }

    /// `for entry in headers['cookie']` binds `entry` to one header entry.
    fn bind_iteration(&mut self, target: &Expr, iter: &Expr) {
        if let Some(Value::Event(list @ Shape::HeaderList(..))) = self.classify(iter) {
            if let Some(entry) = list.child("0") {
                self.bind(target, Value::Event(entry));
            }
        }
    }
}

impl Visit for Tracker<'_, '_> {
    fn visit_stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Assign(assign) => {
                if let Some(value) = self.classify(&assign.value) {
                    for target in &assign.targets {
                        self.bind(target, value.clone());
                    }
                }
            }
            Stmt::AnnAssign(assign) => {
                if let Some(value) = assign
                    .value
                    .as_deref()
                    .and_then(|value| self.classify(value))
                {
                    self.bind(&assign.target, value);
                }
            }
            Stmt::For(for_stmt) => {
                self.visit_expr(&for_stmt.iter);
                self.bind_iteration(&for_stmt.target, &for_stmt.iter);
                let elements = name_of(&for_stmt.target).zip(self.elements_of(&for_stmt.iter));
                match elements {
                    Some((name, elements)) => self.with_elements(name, elements, |this| {
                        this.visit_body(&for_stmt.body);
                    }),
                    None => self.visit_body(&for_stmt.body),
                }
                self.visit_body(&for_stmt.orelse);
                return;
            }
            Stmt::Match(match_stmt) if self.recording => {
                self.record_cases(&match_stmt.subject, &match_stmt.cases);
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &Expr) {
        match expr {
            Expr::NamedExpr(named) => {
                if let Some(value) = self.classify(&named.value) {
                    self.bind(&named.target, value);
                }
            }
            Expr::Call(call) => {
                self.bind_call_arguments(call);
                if self.recording {
                    // Classifying notes reads made by `.get(...)`.
                    self.classify(expr);
                    self.record_call(call, span(expr));
                }
            }
            Expr::Compare(compare) if self.recording => {
                let mut left = &*compare.left;
                for (op, right) in compare.ops.iter().zip(&compare.comparators) {
                    let range = usize::from(left.start())..usize::from(right.end());
                    self.record_compare(left, *op, right, range);
                    left = right;
                }
            }
            Expr::Subscript(subscript) if self.recording && subscript.ctx == ExprContext::Load => {
                self.classify(expr);
                // `REDIRECTS[uri]`
                if let Some(values) = self.keys_of(&subscript.value) {
                    if let Some(field) = self.field_of(&subscript.slice) {
                        self.record(
                            field,
                            ComparisonOperator::ObjectKey,
                            ComparedLiteral::List { values },
                            span(expr),
                        );
                    }
                }
            }
            Expr::ListComp(comp) => {
                return self.visit_comprehension(&comp.generators, &[&comp.elt])
            }
            Expr::SetComp(comp) => return self.visit_comprehension(&comp.generators, &[&comp.elt]),
            Expr::GeneratorExp(comp) => {
                return self.visit_comprehension(&comp.generators, &[&comp.elt])
            }
            Expr::DictComp(comp) => {
                return self.visit_comprehension(&comp.generators, &[&comp.key, &comp.value]);
            }
            _ => {}
        }
        walk_expr(self, expr);
    }
}
