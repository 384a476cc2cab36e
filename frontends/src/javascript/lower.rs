//! Lowering to the CommonJS script the edge engine runs: TypeScript type syntax is blanked out
//! and ES module syntax is rewritten to `require`/`exports`, all by editing spans of the
//! original text (never by printing the syntax tree again).
//!
//! Invariant: every token that survives keeps its line, and its column unless a rewritten
//! import or export earlier on the same line grew. Removed text becomes spaces, line breaks
//! are kept, and the only added lines are `exports.x = x;` lines after the end of the file.

use std::ops::Range;

use swc_common::{Span, Spanned};
use swc_ecma_ast::{
    ArrayPat, AwaitExpr, BindingIdent, Class, ClassMember, Decl, Decorator, DefaultDecl, ExportAll,
    ExportDecl, ExportDefaultDecl, ExportDefaultExpr, ExportSpecifier, FnDecl, ForOfStmt, Function,
    ImportDecl, ImportSpecifier, MetaPropExpr, MetaPropKind, ModuleDecl, ModuleExportName,
    ModuleItem, NamedExport, ObjectPat, Program, Stmt, TsAsExpr, TsConstAssertion, TsEnumDecl,
    TsExportAssignment, TsImportEqualsDecl, TsIndexSignature, TsInterfaceDecl, TsModuleDecl,
    TsNamespaceBody, TsNamespaceExportDecl, TsNonNullExpr, TsParamProp, TsSatisfiesExpr,
    TsTypeAliasDecl, TsTypeAnn, TsTypeAssertion, TsTypeParamDecl, TsTypeParamInstantiation,
    VarDecl, VarDeclarator,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::erasure::Erasure;
use super::parse::SourceText;
use super::syntax::{bound_names, export_name, track_function_depth};
use crate::diagnostic::{codes, Diagnostic};

/// The binding `export default <expression>` is rewritten to; as long as `export default `.
const DEFAULT_BINDING: &str = "__default";

/// TypeScript-only modifiers of class members.
const MEMBER_MODIFIERS: &[&str] = &[
    "public",
    "private",
    "protected",
    "abstract",
    "readonly",
    "override",
    "declare",
];

/// The lowered text, or the diagnostics explaining why there is none.
pub(crate) struct Lowering {
    pub(crate) text: Option<String>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Lowers a parsed program. A CommonJS JavaScript script comes back unchanged, apart from a
/// `#!` line, which is not valid inside the function the engine wraps the script in.
pub(crate) fn lower(
    program: &Program,
    source: SourceText<'_>,
    typescript: bool,
    erasure: &Erasure,
) -> Lowering {
    let mut lowerer = Lowerer {
        source,
        editor: Editor::new(source.text()),
        erasure,
        function_depth: 0,
        diagnostics: Vec::new(),
    };
    let shebang = match program {
        Program::Module(module) => module.shebang.is_some(),
        Program::Script(script) => script.shebang.is_some(),
    };
    if shebang {
        let start = source.text().find("#!").unwrap_or(0);
        let end = source.text()[start..]
            .find(['\n', '\r'])
            .map_or(source.text().len(), |end| start + end);
        lowerer.editor.blank(start..end);
    }
    if typescript || program.is_module() {
        program.visit_with(&mut lowerer);
    }
    let text = lowerer
        .diagnostics
        .is_empty()
        .then(|| lowerer.editor.finish());
    Lowering {
        text,
        diagnostics: lowerer.diagnostics,
    }
}

/// What to put in place of a range of the original text.
#[derive(Debug)]
enum Replacement {
    /// Spaces, keeping line breaks.
    Blank,
    /// Code on the first line of the range, then the range's line breaks.
    Code(String),
}

#[derive(Debug)]
struct Edit {
    range: Range<usize>,
    replacement: Replacement,
}

/// Collects span edits and applies them in one pass.
struct Editor<'a> {
    text: &'a str,
    edits: Vec<Edit>,
    appended: Vec<String>,
}

fn is_line_break(character: char) -> bool {
    matches!(character, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

impl<'a> Editor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            edits: Vec::new(),
            appended: Vec::new(),
        }
    }

    fn blank(&mut self, range: Range<usize>) {
        self.push(range, Replacement::Blank);
    }

    fn replace(&mut self, range: Range<usize>, code: String) {
        self.push(range, Replacement::Code(code));
    }

    fn push(&mut self, range: Range<usize>, replacement: Replacement) {
        if range.start < range.end && self.text.get(range.clone()).is_some() {
            self.edits.push(Edit { range, replacement });
        }
    }

    /// Adds a line after the end of the file.
    fn append(&mut self, line: String) {
        self.appended.push(line);
    }

    fn finish(mut self) -> String {
        // An edit inside an earlier one (a type annotation inside a blanked interface) is
        // already covered by it.
        self.edits.sort_by(|left, right| {
            left.range
                .start
                .cmp(&right.range.start)
                .then(right.range.end.cmp(&left.range.end))
        });
        let mut output = String::with_capacity(self.text.len() + 64);
        let mut cursor = 0;
        for edit in &self.edits {
            if edit.range.start < cursor {
                continue;
            }
            output.push_str(&self.text[cursor..edit.range.start]);
            let original = &self.text[edit.range.clone()];
            match &edit.replacement {
                Replacement::Blank => {
                    output.extend(original.chars().map(|character| {
                        if is_line_break(character) {
                            character
                        } else {
                            ' '
                        }
                    }));
                }
                Replacement::Code(code) => {
                    output.push_str(code);
                    match original.rfind(is_line_break) {
                        None => {
                            let width = original.chars().count();
                            output.extend(std::iter::repeat_n(
                                ' ',
                                width.saturating_sub(code.chars().count()),
                            ));
                        }
                        Some(last_break) => {
                            output.extend(
                                original
                                    .chars()
                                    .filter(|character| is_line_break(*character)),
                            );
                            let last_line = &original[last_break..];
                            let width = last_line.chars().count().saturating_sub(1);
                            output.extend(std::iter::repeat_n(' ', width));
                        }
                    }
                }
            }
            cursor = edit.range.end;
        }
        output.push_str(&self.text[cursor..]);
        if !self.appended.is_empty() {
            if !output.is_empty() && !output.ends_with(is_line_break) {
                output.push('\n');
            }
            for line in &self.appended {
                output.push_str(line);
                output.push('\n');
            }
        }
        output
    }
}

/// `exports.name` or `exports["odd name"]`.
/// The value of an enum member tsc can compute without type information.
#[derive(Debug)]
enum EnumValue {
    /// An integer, auto-incremented or written as a (negative) number literal.
    Number(i64),
    /// A string literal, as written.
    String(String),
}

/// Each member's name and value, or the span of the first member whose value needs code.
fn enum_values(enumeration: &TsEnumDecl) -> Result<Vec<(String, EnumValue)>, Span> {
    use swc_ecma_ast::{Expr, Lit, TsEnumMemberId, UnaryOp};
    let mut values = Vec::with_capacity(enumeration.members.len());
    let mut next = Some(0i64);
    for member in &enumeration.members {
        let key = match &member.id {
            TsEnumMemberId::Ident(ident) => ident.sym.as_str().to_owned(),
            TsEnumMemberId::Str(string) => string.value.to_atom_lossy().as_str().to_owned(),
        };
        let integer = |value: f64| (value.fract() == 0.0 && value.abs() < 9.0e15).then_some(value as i64);
        let value = match member.init.as_deref() {
            None => next.map(EnumValue::Number),
            Some(Expr::Lit(Lit::Num(number))) => integer(number.value).map(EnumValue::Number),
            Some(Expr::Unary(unary)) if unary.op == UnaryOp::Minus => match &*unary.arg {
                Expr::Lit(Lit::Num(number)) => integer(-number.value).map(EnumValue::Number),
                _ => None,
            },
            Some(Expr::Lit(Lit::Str(string))) => Some(EnumValue::String(js_string(&string.value.to_atom_lossy()))),
            Some(_) => None,
        };
        let Some(value) = value else { return Err(member.span) };
        next = match value {
            EnumValue::Number(number) => Some(number + 1),
            EnumValue::String(_) => None,
        };
        values.push((key, value));
    }
    Ok(values)
}

fn exports_member(name: &str) -> String {
    if is_identifier(name) {
        format!("exports.{name}")
    } else {
        format!("exports[{}]", js_string(name))
    }
}

/// `.name` or `["odd name"]`, to access an export of a required module.
fn property_access(name: &str) -> String {
    if is_identifier(name) {
        format!(".{name}")
    } else {
        format!("[{}]", js_string(name))
    }
}

fn is_identifier(name: &str) -> bool {
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first.is_alphabetic() || first == '_' || first == '$')
        && characters
            .all(|character| character.is_alphanumeric() || character == '_' || character == '$')
}

/// A double-quoted JavaScript string literal.
fn js_string(value: &str) -> String {
    let mut literal = String::with_capacity(value.len() + 2);
    literal.push('"');
    for character in value.chars() {
        match character {
            '"' => literal.push_str("\\\""),
            '\\' => literal.push_str("\\\\"),
            character if character.is_control() || is_line_break(character) => {
                literal.push_str(&format!("\\u{{{:x}}}", u32::from(character)));
            }
            character => literal.push(character),
        }
    }
    literal.push('"');
    literal
}

struct Lowerer<'a> {
    source: SourceText<'a>,
    editor: Editor<'a>,
    erasure: &'a Erasure,
    /// Nesting of functions, to tell top-level `await` from the ordinary kind.
    function_depth: usize,
    diagnostics: Vec<Diagnostic>,
}

impl Lowerer<'_> {
    fn range(&self, span: Span) -> Range<usize> {
        self.source.range(span)
    }

    fn blank_span(&mut self, span: Span) {
        let range = self.range(span);
        self.editor.blank(range);
    }

    fn unsupported(&mut self, span: Span, message: &str, label: &str, help: &str) {
        let range = self.range(span);
        self.diagnostics.push(
            Diagnostic::error(codes::NEEDS_CODE_GENERATION, message)
                .with_label(range, label)
                .with_help(help),
        );
    }

    /// Blanks `character` when it is the next non-blank character at or after `offset`.
    fn blank_char_after(&mut self, offset: usize, character: char) {
        let text = self.source.text();
        let Some(rest) = text.get(offset..) else {
            return;
        };
        let skipped = rest.len() - rest.trim_start().len();
        let position = offset + skipped;
        if text[position..].starts_with(character) {
            self.editor.blank(position..position + character.len_utf8());
        }
    }

    /// Blanks the `?` of an optional destructuring pattern, which sits before its type
    /// annotation, or at its end when it has none.
    fn blank_optional_marker(&mut self, pattern: Span, type_ann: Option<&TsTypeAnn>) {
        let before = type_ann.map_or(pattern.hi, |annotation| annotation.span.lo);
        let offset = self.source.offset(before);
        self.blank_char_before(offset, '?');
    }

    /// Blanks `character` when it is the last non-blank character before `offset`.
    fn blank_char_before(&mut self, offset: usize, character: char) {
        let Some(before) = self.source.text().get(..offset) else {
            return;
        };
        let trimmed = before.trim_end();
        if trimmed.ends_with(character) {
            let position = trimmed.len() - character.len_utf8();
            self.editor.blank(position..position + character.len_utf8());
        }
    }

    /// Blanks TypeScript modifiers (`private`, `readonly`, ...) in `range`, which lies between
    /// the start of a class member and its key.
    fn blank_modifiers(&mut self, range: Range<usize>) {
        let Some(region) = self.source.text().get(range.clone()) else {
            return;
        };
        let mut words = Vec::new();
        let mut word_start = None;
        for (index, character) in region
            .char_indices()
            .chain(std::iter::once((region.len(), ' ')))
        {
            let is_word = character.is_ascii_alphabetic();
            match (is_word, word_start) {
                (true, None) => word_start = Some(index),
                (false, Some(start)) => {
                    if MEMBER_MODIFIERS.contains(&&region[start..index]) {
                        words.push(range.start + start..range.start + index);
                    }
                    word_start = None;
                }
                _ => {}
            }
        }
        for word in words {
            self.editor.blank(word);
        }
    }

    /// Blanks `this: T`, which is not a parameter at run time, with the comma after it.
    fn blank_this_param(&mut self, function: &Function) {
        if let Some(this_param) = &function.this_param {
            let start = self.source.offset(this_param.span.lo);
            let end = match function.params.first() {
                Some(first) => self.source.offset(first.span.lo),
                None => self.source.offset(this_param.span.hi),
            };
            self.editor.blank(start..end.max(start));
        }
    }

    /// Whether a declaration exists only for the type checker: interfaces, type aliases,
    /// `declare` declarations, overload signatures, namespaces without values.
    fn is_type_only_decl(decl: &Decl) -> bool {
        match decl {
            Decl::TsInterface(_) | Decl::TsTypeAlias(_) => true,
            Decl::Var(var) => var.declare,
            Decl::Fn(function) => function.declare || function.function.body.is_none(),
            Decl::Class(class) => class.declare,
            Decl::TsEnum(enumeration) => enumeration.declare,
            Decl::TsModule(module) => {
                module.declare || module.global || !is_instantiated(module.body.as_ref())
            }
            Decl::Using(_) => false,
        }
    }

    /// The code that replaces an import declaration.
    fn import_code(&self, import: &ImportDecl) -> String {
        let source = self.source.slice(import.src.span);
        let require = format!("require({source})");
        let mut whole: Vec<String> = Vec::new();
        let mut named: Vec<String> = Vec::new();
        for specifier in &import.specifiers {
            if !self.erasure.keeps_specifier(import, specifier) {
                continue;
            }
            match specifier {
                // Node gives the default import of a CommonJS module its `module.exports`.
                ImportSpecifier::Default(default) => {
                    whole.push(default.local.sym.as_str().to_owned())
                }
                ImportSpecifier::Namespace(namespace) => {
                    whole.push(namespace.local.sym.as_str().to_owned())
                }
                ImportSpecifier::Named(specifier) => {
                    let local = specifier.local.sym.as_str();
                    let imported = specifier.imported.as_ref().map(export_name);
                    match imported.as_deref() {
                        Some("default") => whole.push(local.to_owned()),
                        Some(imported) if imported != local => {
                            let key = if is_identifier(imported) {
                                imported.to_owned()
                            } else {
                                js_string(imported)
                            };
                            named.push(format!("{key}: {local}"));
                        }
                        _ => named.push(local.to_owned()),
                    }
                }
            }
        }
        let mut declarations: Vec<String> = Vec::new();
        let first = whole.first().cloned();
        match &first {
            Some(first) => {
                declarations.push(format!("{first} = {require}"));
                declarations.extend(
                    whole
                        .iter()
                        .skip(1)
                        .map(|other| format!("{other} = {first}")),
                );
                if !named.is_empty() {
                    declarations.push(format!("{{ {} }} = {first}", named.join(", ")));
                }
            }
            None if !named.is_empty() => {
                declarations.push(format!("{{ {} }} = {require}", named.join(", ")))
            }
            None => return format!("{require};"),
        }
        format!("const {};", declarations.join(", "))
    }

    /// `export` in front of a declaration: blank the keyword, export the names at the end.
    /// Rewrites an enum as tsc emits it — `var E; (function (E) { E[E["A"] = 0] = "A"; })(E ||
    /// (E = {}));` — one member per member, so every line keeps its place. `const enum` is the
    /// same: a single-file compile (what a Lambda build runs) does not inline it.
    fn lower_enum(&mut self, enumeration: &TsEnumDecl, values: &[(String, EnumValue)]) {
        let name = enumeration.id.sym.as_str();
        let text = self.source.text();
        let start = self.source.offset(enumeration.span.lo);
        let end = self.source.offset(enumeration.span.hi);
        let Some(open) = text[self.source.offset(enumeration.id.span.hi)..end].find('{') else {
            return;
        };
        let open = self.source.offset(enumeration.id.span.hi) + open;
        self.editor.replace(start..open + 1, format!("var {name}; (function ({name}) {{"));
        for (member, (key, value)) in enumeration.members.iter().zip(values) {
            let member_start = self.source.offset(member.span.lo);
            let mut member_end = self.source.offset(member.span.hi);
            let after = &text[member_end..end];
            if after.trim_start().starts_with(',') {
                member_end += after.len() - after.trim_start().len() + 1;
            }
            let key = js_string(key);
            let code = match value {
                EnumValue::Number(number) => format!("{name}[{name}[{key}] = {number}] = {key};"),
                EnumValue::String(literal) => format!("{name}[{key}] = {literal};"),
            };
            self.editor.replace(member_start..member_end, code);
        }
        self.editor.replace(end - 1..end, format!("}})({name} || ({name} = {{}}));"));
    }

    fn lower_export_decl(&mut self, export: &ExportDecl) {
        if Self::is_type_only_decl(&export.decl) {
            self.blank_span(export.span);
            return;
        }
        let names: Vec<String> = match &export.decl {
            Decl::Var(var) => var
                .decls
                .iter()
                .flat_map(|declarator| bound_names(&declarator.name))
                .map(|(name, _)| name.as_str().to_owned())
                .collect(),
            Decl::Fn(function) => vec![function.ident.sym.as_str().to_owned()],
            Decl::Class(class) => vec![class.ident.sym.as_str().to_owned()],
            Decl::TsEnum(enumeration) => vec![enumeration.id.sym.as_str().to_owned()],
            _ => Vec::new(),
        };
        let keyword = self.source.offset(export.span.lo)..self.source.offset(export.decl.span().lo);
        self.editor.blank(keyword);
        for name in names {
            self.editor
                .append(format!("{} = {name};", exports_member(&name)));
        }
    }

    fn lower_named_export(&mut self, export: &NamedExport) {
        if export.type_only {
            self.blank_span(export.span);
            return;
        }
        let specifiers = export
            .specifiers
            .iter()
            .filter(|specifier| self.erasure.keeps_export(specifier));
        match &export.src {
            None => {
                let mut lines = Vec::new();
                for specifier in specifiers {
                    if let ExportSpecifier::Named(named) = specifier {
                        if let ModuleExportName::Ident(local) = &named.orig {
                            let exported = named
                                .exported
                                .as_ref()
                                .map_or_else(|| export_name(&named.orig), export_name);
                            lines.push(format!("{} = {};", exports_member(&exported), local.sym));
                        }
                    }
                }
                self.blank_span(export.span);
                for line in lines {
                    self.editor.append(line);
                }
            }
            Some(src) => {
                let require = format!("require({})", self.source.slice(src.span));
                let statements: Vec<String> = specifiers
                    .filter_map(|specifier| match specifier {
                        ExportSpecifier::Named(named) => {
                            let original = export_name(&named.orig);
                            let exported = named
                                .exported
                                .as_ref()
                                .map_or_else(|| original.clone(), export_name);
                            let value = if original == "default" {
                                require.clone()
                            } else {
                                format!("{require}{}", property_access(&original))
                            };
                            Some(format!("{} = {value};", exports_member(&exported)))
                        }
                        ExportSpecifier::Namespace(namespace) => Some(format!(
                            "{} = {require};",
                            exports_member(&export_name(&namespace.name))
                        )),
                        ExportSpecifier::Default(_) => None,
                    })
                    .collect();
                let range = self.range(export.span);
                if statements.is_empty() {
                    self.editor.blank(range);
                } else {
                    self.editor.replace(range, statements.join(" "));
                }
            }
        }
    }

    /// Replaces `export default ` in front of `body` with `var __default= `, which is as long,
    /// and exports the binding at the end.
    fn lower_export_default(&mut self, export_span: Span, body: Span, name: Option<&str>) {
        let prefix = self.source.offset(export_span.lo)..self.source.offset(body.lo);
        match name {
            Some(name) => {
                self.editor.blank(prefix);
                self.editor.append(format!("exports.default = {name};"));
            }
            None => {
                self.editor
                    .replace(prefix, format!("var {DEFAULT_BINDING}="));
                self.editor
                    .append(format!("exports.default = {DEFAULT_BINDING};"));
            }
        }
    }
}

/// Whether a namespace contains values (and so needs generated code).
fn is_instantiated(body: Option<&TsNamespaceBody>) -> bool {
    match body {
        None => false,
        Some(TsNamespaceBody::TsNamespaceDecl(inner)) => {
            !inner.declare && is_instantiated(Some(&inner.body))
        }
        Some(TsNamespaceBody::TsModuleBlock(block)) => block.body.iter().any(|item| {
            let decl = match item {
                ModuleItem::Stmt(Stmt::Decl(decl)) => decl,
                ModuleItem::ModuleDecl(ModuleDecl::ExportDecl(export)) => &export.decl,
                ModuleItem::Stmt(Stmt::Empty(_)) => return false,
                _ => return true,
            };
            !Lowerer::is_type_only_decl(decl)
        }),
    }
}

impl Visit for Lowerer<'_> {
    // Type syntax: blanked whole, never entered.

    fn visit_ts_type_ann(&mut self, annotation: &TsTypeAnn) {
        self.blank_span(annotation.span);
    }

    fn visit_ts_type_param_decl(&mut self, params: &TsTypeParamDecl) {
        self.blank_span(params.span);
    }

    fn visit_ts_type_param_instantiation(&mut self, args: &TsTypeParamInstantiation) {
        self.blank_span(args.span);
    }

    fn visit_ts_interface_decl(&mut self, interface: &TsInterfaceDecl) {
        self.blank_span(interface.span);
    }

    fn visit_ts_type_alias_decl(&mut self, alias: &TsTypeAliasDecl) {
        self.blank_span(alias.span);
    }

    fn visit_ts_index_signature(&mut self, signature: &TsIndexSignature) {
        self.blank_span(signature.span);
    }

    fn visit_ts_namespace_export_decl(&mut self, export: &TsNamespaceExportDecl) {
        self.blank_span(export.span);
    }

    // Expressions with a type part: blank the type part, keep the expression.

    fn visit_ts_as_expr(&mut self, expr: &TsAsExpr) {
        self.blank_span(Span::new(expr.expr.span().hi, expr.span.hi));
        expr.expr.visit_with(self);
    }

    fn visit_ts_satisfies_expr(&mut self, expr: &TsSatisfiesExpr) {
        self.blank_span(Span::new(expr.expr.span().hi, expr.span.hi));
        expr.expr.visit_with(self);
    }

    fn visit_ts_const_assertion(&mut self, expr: &TsConstAssertion) {
        self.blank_span(Span::new(expr.expr.span().hi, expr.span.hi));
        expr.expr.visit_with(self);
    }

    fn visit_ts_non_null_expr(&mut self, expr: &TsNonNullExpr) {
        self.blank_span(Span::new(expr.expr.span().hi, expr.span.hi));
        expr.expr.visit_with(self);
    }

    fn visit_ts_type_assertion(&mut self, expr: &TsTypeAssertion) {
        self.blank_span(Span::new(expr.span.lo, expr.expr.span().lo));
        expr.expr.visit_with(self);
    }

    // Declarations that exist only for the type checker.

    fn visit_var_decl(&mut self, var: &VarDecl) {
        if var.declare {
            self.blank_span(var.span);
        } else {
            var.visit_children_with(self);
        }
    }

    fn visit_fn_decl(&mut self, function: &FnDecl) {
        if function.declare || function.function.body.is_none() {
            self.blank_span(function.function.span);
        } else {
            function.visit_children_with(self);
        }
    }

    fn visit_class_decl(&mut self, class: &swc_ecma_ast::ClassDecl) {
        if class.declare {
            self.blank_span(class.class.span);
        } else {
            class.visit_children_with(self);
        }
    }

    fn visit_ts_enum_decl(&mut self, enumeration: &TsEnumDecl) {
        if enumeration.declare {
            self.blank_span(enumeration.span);
            return;
        }
        match enum_values(enumeration) {
            Ok(values) => self.lower_enum(enumeration, &values),
            Err(member) => self.unsupported(
                member,
                "enum members with computed values need generated code",
                "not a number or string literal",
                "give the member a literal value, or write the enum as an object literal, e.g. `const Color = { Red: 'red', Blue: 'blue' }`",
            ),
        }
    }

    fn visit_ts_module_decl(&mut self, module: &TsModuleDecl) {
        if module.declare || module.global || !is_instantiated(module.body.as_ref()) {
            self.blank_span(module.span);
        } else {
            self.unsupported(
                Span::new(module.span.lo, module.id.span().hi),
                "namespaces with values need generated code",
                "namespace declared here",
                "move the namespace's members to the top level of the module",
            );
        }
    }

    fn visit_ts_import_equals_decl(&mut self, import: &TsImportEqualsDecl) {
        if import.is_type_only {
            self.blank_span(import.span);
        } else {
            self.unsupported(
                import.span,
                "`import x = require()` needs generated code",
                "TypeScript import assignment",
                "write `import x from '...'` or `const x = require('...')` instead",
            );
        }
    }

    fn visit_ts_param_prop(&mut self, param: &TsParamProp) {
        self.unsupported(
            param.span,
            "constructor parameter properties need generated code",
            "parameter property",
            "declare the field in the class body and assign it in the constructor",
        );
    }

    fn visit_decorator(&mut self, decorator: &Decorator) {
        self.unsupported(
            decorator.span,
            "decorators need generated code",
            "decorator",
            "apply the decorator's effect by hand, or compile the file with tsc and convert the output",
        );
    }

    // Markers inside otherwise ordinary JavaScript.

    track_function_depth!(blank_this_param);

    fn visit_binding_ident(&mut self, binding: &BindingIdent) {
        if binding.id.optional {
            let offset = self.source.offset(binding.id.span.hi);
            self.blank_char_after(offset, '?');
        }
        binding.visit_children_with(self);
    }

    fn visit_object_pat(&mut self, pat: &ObjectPat) {
        if pat.optional {
            self.blank_optional_marker(pat.span, pat.type_ann.as_deref());
        }
        pat.visit_children_with(self);
    }

    fn visit_array_pat(&mut self, pat: &ArrayPat) {
        if pat.optional {
            self.blank_optional_marker(pat.span, pat.type_ann.as_deref());
        }
        pat.visit_children_with(self);
    }

    fn visit_var_declarator(&mut self, declarator: &VarDeclarator) {
        if declarator.definite {
            if let swc_ecma_ast::Pat::Ident(binding) = &declarator.name {
                let offset = self.source.offset(binding.id.span.hi);
                self.blank_char_after(offset, '!');
            }
        }
        declarator.visit_children_with(self);
    }

    fn visit_class(&mut self, class: &Class) {
        let start = self.source.offset(class.span.lo);
        if class.is_abstract && self.source.text()[start..].starts_with("abstract") {
            self.editor.blank(start..start + "abstract".len());
        }
        if let (Some(first), Some(last)) = (class.implements.first(), class.implements.last()) {
            let first_start = self.source.offset(first.span.lo);
            let keyword = self
                .source
                .text()
                .get(start..first_start)
                .and_then(|head| head.rfind("implements"));
            if let Some(keyword) = keyword {
                let end = self.source.offset(last.span.hi);
                self.editor.blank(start + keyword..end);
            }
        }
        class.visit_children_with(self);
    }

    fn visit_class_member(&mut self, member: &ClassMember) {
        let (span, key_span, erased, optional, definite) = match member {
            ClassMember::Constructor(constructor) => (
                constructor.span,
                constructor.key.span(),
                constructor.body.is_none(),
                false,
                false,
            ),
            ClassMember::Method(method) => (
                method.span,
                method.key.span(),
                method.function.body.is_none(),
                method.is_optional,
                false,
            ),
            ClassMember::PrivateMethod(method) => (
                method.span,
                method.key.span,
                method.function.body.is_none(),
                method.is_optional,
                false,
            ),
            ClassMember::ClassProp(prop) => (
                prop.span,
                prop.key.span(),
                prop.declare || prop.is_abstract,
                prop.is_optional,
                prop.definite,
            ),
            ClassMember::PrivateProp(prop) => (
                prop.span,
                prop.key.span,
                false,
                prop.is_optional,
                prop.definite,
            ),
            _ => {
                member.visit_children_with(self);
                return;
            }
        };
        if erased {
            self.blank_span(span);
            return;
        }
        let start = self.source.offset(span.lo);
        let key_start = self.source.offset(key_span.lo);
        self.blank_modifiers(start..key_start.max(start));
        let key_end = self.source.offset(key_span.hi);
        if optional {
            self.blank_char_after(key_end, '?');
        }
        if definite {
            self.blank_char_after(key_end, '!');
        }
        member.visit_children_with(self);
    }

    // Module syntax that a CommonJS function cannot contain.

    fn visit_await_expr(&mut self, expr: &AwaitExpr) {
        if self.function_depth == 0 {
            self.unsupported(
                expr.span,
                "top-level `await` cannot run in the CommonJS function the edge engine loads",
                "awaited at the top level",
                "move the awaited work into the handler, caching the result in a module-level variable",
            );
        }
        expr.visit_children_with(self);
    }

    fn visit_for_of_stmt(&mut self, stmt: &ForOfStmt) {
        if stmt.is_await && self.function_depth == 0 {
            self.unsupported(
                Span::new(stmt.span.lo, stmt.right.span().hi),
                "top-level `for await` cannot run in the CommonJS function the edge engine loads",
                "awaited at the top level",
                "move the loop into the handler",
            );
        }
        stmt.visit_children_with(self);
    }

    fn visit_meta_prop_expr(&mut self, expr: &MetaPropExpr) {
        if expr.kind == MetaPropKind::ImportMeta {
            self.unsupported(
                expr.span,
                "`import.meta` does not exist in the CommonJS function the edge engine loads",
                "only ES modules have `import.meta`",
                "use `__filename` and `__dirname`, or a constant",
            );
        }
    }

    // ES module syntax, rewritten to CommonJS.

    fn visit_import_decl(&mut self, import: &ImportDecl) {
        let range = self.range(import.span);
        if self.erasure.keeps_import(import) {
            let code = self.import_code(import);
            self.editor.replace(range, code);
        } else {
            self.editor.blank(range);
        }
    }

    fn visit_export_decl(&mut self, export: &ExportDecl) {
        self.lower_export_decl(export);
        if !Self::is_type_only_decl(&export.decl) {
            export.decl.visit_with(self);
        }
    }

    fn visit_named_export(&mut self, export: &NamedExport) {
        self.lower_named_export(export);
    }

    fn visit_export_all(&mut self, export: &ExportAll) {
        let range = self.range(export.span);
        if export.type_only {
            self.editor.blank(range);
        } else {
            let code = format!(
                "Object.assign(exports, require({}));",
                self.source.slice(export.src.span)
            );
            self.editor.replace(range, code);
        }
    }

    fn visit_export_default_decl(&mut self, export: &ExportDefaultDecl) {
        match &export.decl {
            DefaultDecl::Fn(function) => {
                let name = function
                    .ident
                    .as_ref()
                    .map(|ident| ident.sym.as_str().to_owned());
                self.lower_export_default(export.span, function.function.span, name.as_deref());
            }
            DefaultDecl::Class(class) => {
                let name = class
                    .ident
                    .as_ref()
                    .map(|ident| ident.sym.as_str().to_owned());
                self.lower_export_default(export.span, class.class.span, name.as_deref());
            }
            DefaultDecl::TsInterfaceDecl(_) => {
                self.blank_span(export.span);
                return;
            }
        }
        export.decl.visit_children_with(self);
    }

    fn visit_export_default_expr(&mut self, export: &ExportDefaultExpr) {
        self.lower_export_default(export.span, export.expr.span(), None);
        export.expr.visit_with(self);
    }

    fn visit_ts_export_assignment(&mut self, assignment: &TsExportAssignment) {
        let prefix =
            self.source.offset(assignment.span.lo)..self.source.offset(assignment.expr.span().lo);
        self.editor.replace(prefix, "module.exports = ".to_owned());
        assignment.expr.visit_with(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanking_keeps_line_breaks() {
        let mut editor = Editor::new("ab\r\ncd\nef");
        editor.blank(1..8);
        assert_eq!(editor.finish(), "a \r\n  \n f");
    }

    #[test]
    fn replacement_pads_short_code_and_keeps_following_lines_aligned() {
        let mut editor = Editor::new("import {\n  a,\n  b } from 'm'; x");
        let end = "import {\n  a,\n  b } from 'm';".len();
        editor.replace(0..end, "const { a, b } = require('m');".to_owned());
        let lowered = editor.finish();
        assert_eq!(lowered.lines().count(), 3);
        let last = lowered.lines().last().expect("three lines");
        assert_eq!(last.find('x'), Some("  b } from 'm'; ".len()));

        let mut editor = Editor::new("export default x;");
        editor.replace(0..15, "var __default=".to_owned());
        assert_eq!(editor.finish(), "var __default= x;");
    }

    #[test]
    fn nested_edits_are_covered_by_outer_ones() {
        let mut editor = Editor::new("interface A { b: string }\nlet c: number;");
        editor.blank(17..25);
        editor.blank(0..25);
        editor.blank(31..39);
        editor.append("exports.c = c;".to_owned());
        assert_eq!(
            editor.finish(),
            format!("{}\nlet c        ;\nexports.c = c;\n", " ".repeat(25))
        );
    }

    #[test]
    fn odd_export_names_are_quoted() {
        assert_eq!(exports_member("handler"), "exports.handler");
        assert_eq!(exports_member("a-b"), "exports[\"a-b\"]");
        assert_eq!(property_access("x\"y"), "[\"x\\\"y\"]");
    }
}
