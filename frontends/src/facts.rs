//! The facts a converter needs about a handler, whatever its language. They are serialized
//! into `manifest.json`, so field names are part of the manifest format.
//!
//! Invariant: every span is a byte range into the original text of the file.

use std::ops::Range;

use serde::Serialize;

/// A CloudFront trigger (the contract crate's, shared with the runtime).
pub use edgeport_contract::EventType;

/// Everything the frontend learned about one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandlerFacts {
    /// The source language.
    pub language: Language,
    /// Whether the file is a CommonJS script, an ES module or a Python module.
    pub module_kind: ModuleKind,
    /// The handler, when one was found (otherwise an `EP0002` diagnostic says why not).
    pub handler: Option<HandlerInfo>,
    /// Every module the file loads at run time, in source order.
    pub imports: Vec<Import>,
    /// The built-in modules the file uses, sorted: Node built-ins without `node:` prefix (the
    /// global `Buffer` counts as `buffer`), or the top-level names of the Python standard
    /// library modules it imports (`urllib` for `urllib.parse`). The converter preloads them
    /// into the snapshot.
    pub builtins: Vec<String>,
    /// Module-level state that survives from one request to the next in a warm instance.
    pub module_state: Vec<ModuleState>,
    /// Calls whose result differs from run to run.
    pub nondeterminism: Vec<Nondeterminism>,
    /// The triggers the handler was probably written for, in trigger order.
    pub event_types: Vec<EventType>,
    /// String literals and regexes compared with request and response fields, in source
    /// order.
    pub comparisons: Vec<Comparison>,
    /// The request and response fields the handler reads, compared with a literal or not,
    /// each once, in source order of its first read.
    pub reads: Vec<FieldRead>,
}

/// The source language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// `.js`, `.cjs`, `.mjs`.
    JavaScript,
    /// `.ts`, `.mts`, `.cts`.
    TypeScript,
    /// `.py`.
    Python,
}

/// How the file defines its exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModuleKind {
    /// `require` and `exports`; the file runs as written.
    CommonJs,
    /// `import` and `export`; the lowered text rewrites them to CommonJS.
    Esm,
    /// A Python module; the engine runs it as written.
    Python,
}

/// The handler function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandlerInfo {
    /// The name Lambda calls: the export (`handler` unless overridden) or, in Python, the
    /// module-level name.
    pub name: String,
    /// The name of the function's own binding when it has one (`function main` exported as
    /// `handler` has `main`).
    pub local_name: Option<String>,
    /// How the function is exported.
    pub export_form: ExportForm,
    /// The whole function, from `async`/`function`/`def` or the first parameter to its end.
    pub span: Range<usize>,
    /// The number of declared parameters (in Python, the positional ones).
    pub param_count: usize,
    /// Whether the function is declared `async`.
    pub is_async: bool,
    /// How the handler delivers its result.
    pub style: HandlerStyle,
}

/// How the handler is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportForm {
    /// `exports.handler = ...`
    ExportsProperty,
    /// `module.exports.handler = ...`
    ModuleExportsProperty,
    /// `module.exports = { handler }` (or TypeScript's `export = { handler }`).
    ModuleExportsObject,
    /// `export const handler = ...` (or `let`/`var`).
    ExportConst,
    /// `export function handler` or `export async function handler`.
    ExportFunction,
    /// `export { main as handler }`.
    ExportSpecifier,
    /// `export default ...`, when the handler name is `default`.
    ExportDefault,
    /// Python: a module-level `def handler(event, context)`.
    ModuleFunction,
    /// Python: a module-level name bound to a function, `handler = main` or
    /// `handler = lambda event, context: ...`.
    ModuleAssignment,
}

/// How a handler delivers its result to Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HandlerStyle {
    /// `async`, or returns a promise.
    Async,
    /// Calls the third parameter, or `context.succeed`/`fail`/`done`.
    Callback,
    /// Both of the above; the first result wins.
    Both,
    /// Neither: a JavaScript handler's return value is ignored. A Python handler is always
    /// synchronous; Lambda uses its return value.
    Sync,
}

/// One module load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    /// The module specifier as written, e.g. `node:crypto` or `./util`; in Python the dotted
    /// module name, with a leading dot per level when relative (`.util`, `..`).
    pub specifier: String,
    /// The syntax that loads it.
    pub kind: ImportKind,
    /// The `require(...)` call or the whole import/export statement.
    pub span: Range<usize>,
    /// Whether the specifier names a Node built-in, with or without `node:` prefix, or a module
    /// of Python's standard library.
    pub builtin: bool,
}

/// The syntax that loads a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    /// `require('x')`, or TypeScript's `import x = require('x')`.
    Require,
    /// `import ... from 'x'` or `import 'x'`.
    Import,
    /// `import('x')` with a literal specifier.
    DynamicImport,
    /// `export ... from 'x'`.
    ReExport,
    /// Python's `from x import y`; Python's `import x` is [`ImportKind::Import`].
    FromImport,
}

/// A module-level binding or object that outlives a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleState {
    /// The binding's name.
    pub name: String,
    /// What kind of state it is.
    pub kind: ModuleStateKind,
    /// Whether some function assigns or mutates it (module-level code does not count).
    pub mutated: bool,
    /// The declarator.
    pub span: Range<usize>,
}

/// What kind of module-level state a binding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleStateKind {
    /// A top-level `let` or `var` binding, or a Python module-level name a function rebinds
    /// after declaring it `global`.
    Binding,
    /// A top-level `const` object, array, `Map` or `Set` (a Python module-level dict, list,
    /// set or deque) that some function mutates.
    MutatedObject,
}

/// A call whose result differs from run to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nondeterminism {
    /// Which call it is.
    pub kind: NondeterminismKind,
    /// The call expression.
    pub span: Range<usize>,
}

/// Sources of nondeterminism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NondeterminismKind {
    /// `Math.random()`
    MathRandom,
    /// `Date.now()`
    DateNow,
    /// `new Date()` without arguments, or `Date()`.
    NewDate,
    /// `crypto.randomUUID()`
    CryptoRandomUuid,
    /// `crypto.randomBytes()` (or `pseudoRandomBytes`)
    CryptoRandomBytes,
    /// `crypto.randomInt()`
    CryptoRandomInt,
    /// `crypto.getRandomValues()`
    CryptoGetRandomValues,
    /// Python: a function of the `random` module other than `seed`.
    PythonRandom,
    /// Python: `time.time()` or `time.time_ns()`.
    TimeTime,
    /// Python: `datetime.now()`, `utcnow()` or `today()`, `date.today()`.
    DatetimeNow,
    /// Python: `uuid.uuid1()` or `uuid.uuid4()`.
    UuidRandom,
    /// Python: `os.urandom()`.
    OsUrandom,
    /// Python: a function of the `secrets` module.
    Secrets,
}

/// A request or response field the handler reads: accesses it, destructures it, passes it
/// on or tests for its presence (`'authorization' in headers`). Assigning or deleting a field
/// is no read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FieldRead {
    /// The field, named as in [`Comparison::field`]: `uri`, `querystring`, `clientIp`,
    /// `method`, `cookie` (the `Cookie` request header), `header:<lower-case name>` (another
    /// request header), `body`, `origin`, `status`, or `response-header:<lower-case name>`.
    pub field: String,
    /// The first expression (or destructuring property) that reads it.
    pub span: Range<usize>,
}

/// A literal compared with a request or response field.
///
/// A comparison with the element of a literal list (`BOTS.some((re) => re.test(ua))`) is one
/// comparison per element, all with the same span; so is one in a function called with
/// different literal arguments (`isTrue('cloudfront-is-mobile-viewer')`), one per call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Comparison {
    /// The field: `uri`, `querystring`, `clientIp`, `method`, `cookie`, `status`,
    /// `header:<lower-case name>` (a request header) or `response-header:<lower-case name>`.
    pub field: String,
    /// How the field is compared.
    pub operator: ComparisonOperator,
    /// What it is compared with.
    pub literal: ComparedLiteral,
    /// Whether the field was lower- or upper-cased before the comparison.
    pub case_insensitive: bool,
    /// The comparing expression (or the `case` label).
    pub span: Range<usize>,
}

/// How a field is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComparisonOperator {
    /// `==` or `===` (Python `==`)
    Equals,
    /// `!=` or `!==` (Python `!=`)
    NotEquals,
    /// `.startsWith(literal)` (Python `.startswith`, once per element of a tuple argument)
    StartsWith,
    /// `.endsWith(literal)` (Python `.endswith`)
    EndsWith,
    /// `.includes(literal)` (Python `literal in field`)
    Includes,
    /// `.indexOf(literal)` or `.lastIndexOf(literal)` (Python `.find`, `.index`, ...)
    IndexOf,
    /// `regex.test(field)` or `regex.exec(field)` (Python `re.match`, `re.search`,
    /// `re.fullmatch`, or those methods of a compiled pattern)
    RegexTest,
    /// `field.match(regex)` (a string argument is a pattern too; Python `re.findall`)
    RegexMatch,
    /// `field.search(regex)`
    RegexSearch,
    /// `field.replace(regex, ...)` or `replaceAll` (Python `re.sub`, `re.subn`)
    RegexReplace,
    /// `['a', 'b'].includes(field)`, `indexOf(field)`, or `set.has(field)` (Python
    /// `field in ('a', 'b')`).
    InList,
    /// `switch (field) { case 'a': ... }`, one comparison per case (Python `match`/`case`).
    SwitchCase,
    /// `map[field]`, `field in map` or `map.hasOwnProperty(field)` on an object literal
    /// (Python `MAP[field]`, `MAP.get(field)` or `field in MAP` on a dict literal).
    ObjectKey,
}

/// The literal side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ComparedLiteral {
    /// A string.
    String {
        /// The string's value.
        value: String,
    },
    /// A regular expression.
    Regex {
        /// The pattern between the slashes.
        pattern: String,
        /// The flags after the closing slash (Python's `re.I`, `re.M` and `re.S` as `i`, `m`
        /// and `s`).
        flags: String,
    },
    /// The strings of a list, or the keys of an object.
    List {
        /// The strings, in source order.
        values: Vec<String>,
    },
}
