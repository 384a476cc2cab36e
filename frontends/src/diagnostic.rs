//! Diagnostics: problems found in the user's code, with byte-range labels, rendered in the
//! annotate-snippets style, and the catalogue of codes that `edgeport explain CODE` prints.
//!
//! Invariant: every code a frontend emits is listed in [`CODES`] with an explanation.

use std::ops::Range;

use annotate_snippets::{Level, Renderer, Snippet};
use serde::Serialize;

use crate::SourceFile;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Conversion of the function fails.
    Error,
    /// The function converts, but may behave differently from the original.
    Warning,
}

/// A byte range in the source with a short message about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    /// Byte offsets into [`SourceFile::text`].
    pub span: Range<usize>,
    /// What is wrong at this place; may be empty.
    pub message: String,
}

/// A problem in the user's code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// A stable code such as `EP0102`; see [`explain`].
    pub code: &'static str,
    /// Whether conversion fails.
    pub severity: Severity,
    /// One line saying what is wrong, lower-case, no trailing period.
    pub message: String,
    /// Places in the source; the first one is the primary location.
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// Creates an error diagnostic without labels.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    /// Creates a warning diagnostic without labels.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            code,
            severity,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// Adds a label; the first label added is the primary location.
    #[must_use]
    pub fn with_label(mut self, span: Range<usize>, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The 1-based line and 1-based column (in characters) of the primary label, if any.
    pub fn location(&self, file: &SourceFile) -> Option<(usize, usize)> {
        let label = self.labels.first()?;
        let offset = anchor(&file.text, label.span.start);
        let before = &file.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let column = before[line_start..].chars().count() + 1;
        Some((line, column))
    }

    /// Renders the diagnostic as plain text, with `name:line:col` and the source excerpt.
    pub fn render(&self, file: &SourceFile) -> String {
        self.render_with(file, Renderer::plain())
    }

    /// Renders the diagnostic with ANSI colours, for terminals.
    pub fn render_styled(&self, file: &SourceFile) -> String {
        self.render_with(file, Renderer::styled())
    }

    fn render_with(&self, file: &SourceFile, renderer: Renderer) -> String {
        let level = match self.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
        };
        // annotate-snippets slices the source with these ranges, so they must lie on character
        // boundaries inside the text, whatever a frontend computed.
        let spans: Vec<Range<usize>> = self
            .labels
            .iter()
            .map(|label| {
                let start = anchor(&file.text, label.span.start);
                let end = anchor(&file.text, label.span.end).max(start);
                start..end
            })
            .collect();
        let mut message = level.title(&self.message).id(self.code);
        if !spans.is_empty() {
            let mut snippet = Snippet::source(&file.text)
                .line_start(1)
                .origin(&file.name)
                .fold(true);
            for (index, (label, span)) in self.labels.iter().zip(&spans).enumerate() {
                let annotation_level = if index == 0 { level } else { Level::Info };
                snippet = snippet.annotation(
                    annotation_level
                        .span(span.clone())
                        .label(label.message.as_str()),
                );
            }
            message = message.snippet(snippet);
        }
        if let Some(help) = &self.help {
            message = message.footer(Level::Help.title(help));
        }
        renderer.render(message).to_string()
    }
}

/// Where a label at `offset` is shown: on a character boundary inside the text, and never past
/// its last visible character — an "unexpected end of file" points just after the code, not at
/// an empty last line that no excerpt can show.
fn anchor(text: &str, offset: usize) -> usize {
    snap_to_char_boundary(text, offset).min(text.trim_end().len())
}

/// Clamps `offset` into `text` and moves it back to the nearest character boundary.
fn snap_to_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// One diagnostic code and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The code, e.g. `EP0102`.
    pub code: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// A few words naming the problem.
    pub summary: &'static str,
    /// One paragraph: what it is, why it matters at the edge, how to fix it.
    pub explanation: &'static str,
}

/// Names for the diagnostic codes, so that code matching on them reads well.
pub mod codes {
    /// The file does not parse.
    pub const SYNTAX_ERROR: &str = "EP0001";
    /// No handler export was found.
    pub const MISSING_HANDLER: &str = "EP0002";
    /// A TypeScript or module construct that needs code generation.
    pub const NEEDS_CODE_GENERATION: &str = "EP0003";
    /// The analyzer itself failed on this input.
    pub const INTERNAL_ERROR: &str = "EP0004";
    /// The edge engine could not compile the script (reported by the converter).
    pub const ENGINE_REJECTED_SCRIPT: &str = "EP0005";
    /// The module's top-level code threw when the engine loaded it (reported by the converter).
    pub const TOP_LEVEL_FAILED: &str = "EP0006";
    /// `child_process` (Python: `subprocess`, `os.system`, ...) is used.
    pub const CHILD_PROCESS: &str = "EP0101";
    /// An outbound network module is used.
    pub const OUTBOUND_NETWORK: &str = "EP0102";
    /// The file system is written.
    pub const FILESYSTEM_WRITE: &str = "EP0103";
    /// A native addon is loaded.
    pub const NATIVE_ADDON: &str = "EP0104";
    /// `process.env` (Python: `os.environ`, `os.getenv`) is read.
    pub const PROCESS_ENV: &str = "EP0105";
    /// Code is evaluated from a non-literal string.
    pub const DYNAMIC_CODE: &str = "EP0106";
    /// The AWS SDK is used.
    pub const AWS_SDK: &str = "EP0107";
    /// An npm package is required.
    pub const UNRESOLVED_MODULE: &str = "EP0108";
    /// A Node built-in the edge engine does not provide yet.
    pub const UNSUPPORTED_BUILTIN: &str = "EP0109";
    /// A local module is required.
    pub const LOCAL_MODULE: &str = "EP0110";
    /// A third-party Python package is imported that is not beside the file.
    pub const THIRD_PARTY_PACKAGE: &str = "EP0111";
    /// Python threads or signals are used.
    pub const THREADS_AND_SIGNALS: &str = "EP0112";
    /// A synchronous handler returns a value Lambda ignores.
    pub const SYNC_RETURN_IGNORED: &str = "EP0201";
    /// A Python handler is an `async def`.
    pub const ASYNC_PYTHON_HANDLER: &str = "EP0202";
    /// A Python handler cannot be called with `(event, context)`.
    pub const HANDLER_SIGNATURE: &str = "EP0203";
    /// A `{{NAME}}` deploy-time placeholder without a value.
    pub const UNDEFINED_PLACEHOLDER: &str = "EP0204";
}

/// Every diagnostic code edgeport can emit (the frontends', and the converter's EP0005/EP0006).
pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: codes::ENGINE_REJECTED_SCRIPT,
        severity: Severity::Error,
        summary: "the edge engine rejected the script",
        explanation: "The file parses, but the edge engine (QuickJS) refused to compile the \
            script edgeport derived from it, at the line and column shown. QuickJS follows the \
            ECMAScript standard closely, so this is usually syntax that Node accepts as an \
            extension or a very new proposal. Without bytecode there is nothing to run at the \
            edge. Rewrite the construct in standard JavaScript; if the file is valid standard \
            JavaScript, report it as an edgeport bug with the file attached.",
    },
    CodeInfo {
        code: codes::TOP_LEVEL_FAILED,
        severity: Severity::Error,
        summary: "the module's top-level code failed",
        explanation: "edgeport runs the module's top-level code once, at conversion, and keeps \
            the resulting state in the artifact's snapshot, so that each cold start begins \
            where Lambda's initialisation ended. That code threw here (the message and location \
            are the engine's), so the function would have failed to initialise at the edge too: \
            typically a `require` of something the edge engine does not provide, or code that \
            reads configuration that is not there. Fix or guard the failing statement; code that \
            must run per request belongs inside the handler.",
    },
    CodeInfo {
        code: codes::SYNTAX_ERROR,
        severity: Severity::Error,
        summary: "syntax error",
        explanation: "The file does not parse as JavaScript or TypeScript (the dialect is chosen \
            by the extension: .js and .cjs as script or module, .mjs as module, .ts as \
            TypeScript), or a .py file does not parse as Python 3. Nothing can be converted \
            from a file that does not parse, and Node or CPython would have refused to load it \
            too, so the deployed function was probably built from another file. Fix the syntax at the reported line and column, or point edgeport at \
            the file that is actually deployed.",
    },
    CodeInfo {
        code: codes::MISSING_HANDLER,
        severity: Severity::Error,
        summary: "handler not found",
        explanation: "Lambda@Edge calls the exported function named by the handler setting \
            (`index.handler` calls the export `handler`), but no export of that name that is a \
            function defined in this file was found. Without it edgeport does not know which \
            function to convert. Export the handler with `exports.handler = ...`, \
            `module.exports = { handler }` or `export const handler = ...`, or pass \
            `--handler NAME` when the export has another name. In Python the handler is a \
            module-level function (`def lambda_handler(event, context):`); without \
            `--handler`, edgeport takes the first of `lambda_handler`, `handler` and `main`.",
    },
    CodeInfo {
        code: codes::NEEDS_CODE_GENERATION,
        severity: Severity::Error,
        summary: "construct needs code generation",
        explanation: "edgeport runs TypeScript and ES modules by blanking out type syntax and \
            rewriting imports, exports and enums in place, so that every line and column of the \
            running code matches the file you wrote and stack traces point at your source. Enum \
            members whose values are computed (`B = A << 1`), namespaces with values, \
            constructor parameter properties, decorators and `import x = require()` cannot be \
            rewritten that way: they need generated code. Top-level \
            `await` and `import.meta` have no equivalent in the CommonJS function the edge \
            engine loads. Rewrite them with plain JavaScript equivalents (literal enum values \
            or an object literal, explicit field assignments instead of parameter properties, \
            `import x from` instead of `import x = require()`, the awaited work moved into the \
            handler), or compile the file with tsc and convert the output.",
    },
    CodeInfo {
        code: codes::INTERNAL_ERROR,
        severity: Severity::Error,
        summary: "internal analyzer error",
        explanation: "The analyzer failed on this input, which is a bug in edgeport rather than \
            in your code. No facts could be extracted, so the function cannot be converted. \
            Please report the file (or a reduced version of it) so that the analyzer can be \
            fixed; in the meantime, simplifying the construct near the end of the file that \
            triggers it may work around the problem.",
    },
    CodeInfo {
        code: codes::CHILD_PROCESS,
        severity: Severity::Error,
        summary: "child_process is not available",
        explanation: "The function uses `child_process` (in Python `subprocess`, \
            `multiprocessing`, `os.system`, `os.popen`, `os.exec*`, `os.spawn*` or `os.fork`) \
            to start other programs. The edge runtime runs a single WebAssembly instance with \
            no processes, shells or executables, so there is nothing to start. Do the work in \
            JavaScript or Python inside the function, precompute it at build time, or move it \
            to the origin.",
    },
    CodeInfo {
        code: codes::OUTBOUND_NETWORK,
        severity: Severity::Error,
        summary: "outbound network module",
        explanation: "The function imports a networking module (http, https, net, tls, dgram, \
            http2 or dns; in Python requests, urllib3, httpx, aiohttp, urllib.request, \
            http.client, socket, ssl, smtplib and the like), typically to call an API or fetch keys on every request. The edge \
            runtime gives functions no sockets: outbound calls are not available, and they \
            would add a round trip to every request anyway. Precompute the data at deploy time \
            (for example bake JWKS keys into the code) or move the call to the origin.",
    },
    CodeInfo {
        code: codes::FILESYSTEM_WRITE,
        severity: Severity::Error,
        summary: "file system write",
        explanation: "The function writes to the file system (writeFile, appendFile, mkdir, \
            unlink, rm, rename, copyFile, createWriteStream, ...; in Python `open` with a \
            writing mode, `os.remove`, `os.makedirs`, `shutil`, `tempfile`, \
            `Path.write_text`, ...). At the edge there is no \
            writable disk, and on Lambda@Edge writes to /tmp were only ever a per-instance \
            cache that other requests might not see. Keep such state in memory, or drop the \
            write; reading files bundled with the function is a separate matter.",
    },
    CodeInfo {
        code: codes::NATIVE_ADDON,
        severity: Severity::Error,
        summary: "native addon",
        explanation: "The function loads a compiled native addon (a `.node` file, or a package \
            such as bcrypt, sharp, canvas or sqlite3 that ships one). Native code built for \
            Linux on x86 or ARM cannot run inside the WebAssembly edge engine. The same holds \
            for Python packages with compiled extension modules (numpy, pandas, cryptography, \
            Pillow, lxml, ...) and for `ctypes`. Use a pure JavaScript or pure Python \
            alternative (bcryptjs instead of bcrypt, hashlib and hmac instead of cryptography \
            for HMACs, for example) or move the work to the origin.",
    },
    CodeInfo {
        code: codes::PROCESS_ENV,
        severity: Severity::Warning,
        summary: "process.env read",
        explanation: "The function reads `process.env` (in Python `os.environ` or \
            `os.getenv`). Lambda@Edge never supported environment variables, so on the original \
            deployment the value was undefined (Python: missing, so `os.environ['X']` raised \
            KeyError and `os.getenv('X')` returned None) unless the code was templated before \
            upload; the edge runtime behaves the same way. The function still converts, but \
            check that it copes with the missing value, and template the value into the code at \
            deploy time if it is configuration.",
    },
    CodeInfo {
        code: codes::DYNAMIC_CODE,
        severity: Severity::Error,
        summary: "dynamic code evaluation",
        explanation: "The function evaluates code built at run time (`eval`, `new Function` or \
            the `vm` module with an argument that is not a literal). edgeport must know all the \
            code of a function when converting it, and the edge engine does not compile new \
            code at request time. Replace the evaluation with ordinary code, for example a \
            lookup table instead of evaluating expressions.",
    },
    CodeInfo {
        code: codes::AWS_SDK,
        severity: Severity::Error,
        summary: "AWS SDK",
        explanation: "The function uses the AWS SDK (`aws-sdk` or `@aws-sdk/*`), which calls \
            AWS services over the network with credentials from the Lambda role. The edge \
            runtime has neither outbound network access nor AWS credentials. Fetch the data at \
            deploy time (for example read the secret or parameter and template it into the \
            code) or move the call to the origin.",
    },
    CodeInfo {
        code: codes::UNRESOLVED_MODULE,
        severity: Severity::Error,
        summary: "npm package not found",
        explanation: "The function requires an npm package that is not installed where Node \
            would look for it: a `node_modules` directory next to the requiring file or above \
            it. The converter bundles the packages a function uses into its artifact, the way \
            a deployment package holds them, so they must be installed before converting. Run \
            `npm ci` (or `npm install`) in the function's package, or remove the require. In \
            an npm package's own code this is a warning: packages often require optional \
            dependencies inside `try`, and the require only fails if that code runs. A \
            `require` or `import()` whose specifier is computed at run time is a warning too: \
            only modules named by a literal can be bundled.",
    },
    CodeInfo {
        code: codes::UNSUPPORTED_BUILTIN,
        severity: Severity::Error,
        summary: "Node built-in not available yet",
        explanation: "The function requires a Node.js built-in module that the edge engine \
            does not provide. The engine provides `buffer`, `crypto` (hashes, HMAC, random \
            values), `events`, `fs` (read-only, over the files bundled with the function), \
            `path`, `querystring`, `stream`, `string_decoder`, `timers`, `url` and `util`, \
            with or without the `node:` prefix. Calls into other modules would throw at the \
            edge. Replace the module with plain JavaScript, or move the work to the origin.",
    },
    CodeInfo {
        code: codes::LOCAL_MODULE,
        severity: Severity::Error,
        summary: "local module not found",
        explanation: "The function requires a file of its own package (a relative or absolute \
            path) that does not exist, with any of the extensions Node tries (`.js`, `.json`, \
            `.cjs`, `.mjs`, `.ts`, or a directory's `package.json` `main` or `index` file). The \
            converter bundles local modules into the artifact, so a require that Node could not \
            satisfy fails conversion rather than failing at the edge. Fix the path, or add the \
            missing file.",
    },
    CodeInfo {
        code: codes::THIRD_PARTY_PACKAGE,
        severity: Severity::Warning,
        summary: "third-party Python package must be bundled",
        explanation: "The function imports a Python package that is neither in the standard \
            library nor a module or package in the function's own directory. On Lambda it came \
            from the deployment zip or a layer; the edge has no pip and no layers, so the \
            package's code must be part of what is converted or the import fails when the \
            module loads. Install it into the function's directory (`pip install --target . \
            NAME`) so that it is converted with the function, or replace it with the standard \
            library (a few lines of `hmac` and `base64` often replace a JWT library for HS256).",
    },
    CodeInfo {
        code: codes::THREADS_AND_SIGNALS,
        severity: Severity::Warning,
        summary: "threads and signals are not available",
        explanation: "The function imports `threading`, `_thread`, `concurrent.futures` or \
            `signal`. An edge instance is one WebAssembly thread: starting a thread or a thread \
            pool raises RuntimeError, and signal handlers (typically `signal.alarm` used as a \
            timeout) never run. Importing the module is harmless and locks still work, so the \
            function converts; do the work inline instead of in threads, and rely on the edge's \
            own time limit instead of alarms.",
    },
    CodeInfo {
        code: codes::SYNC_RETURN_IGNORED,
        severity: Severity::Warning,
        summary: "synchronous handler result ignored",
        explanation: "The handler is neither async, nor returns a promise, nor uses the \
            callback or `context.succeed`. Lambda ignores the plain return value of such a \
            handler, so CloudFront never saw the request or response it returns; the converted \
            function reproduces what the original did, which is probably not what was meant. \
            Make the handler `async`, or call `callback(null, result)`.",
    },
    CodeInfo {
        code: codes::ASYNC_PYTHON_HANDLER,
        severity: Severity::Error,
        summary: "async Python handler",
        explanation: "The Python handler is declared `async def`. Lambda's Python runtime calls \
            the handler and serialises what it returns; it does not run coroutines, so an async \
            handler returns a coroutine object and every invocation fails with a serialisation \
            error. The original function cannot have worked as deployed. Make the handler a \
            plain `def` and, if it must await something, run it with `asyncio.run(...)` inside.",
    },
    CodeInfo {
        code: codes::HANDLER_SIGNATURE,
        severity: Severity::Warning,
        summary: "handler cannot take (event, context)",
        explanation: "Lambda's Python runtime calls the handler with two positional arguments, \
            the event and the context. This handler's parameters cannot take them (it has fewer \
            than two positional parameters and no `*args`, or more than two without defaults, \
            or a keyword-only parameter without a default), so every invocation raises \
            TypeError, on Lambda as at the edge. The function converts and reproduces that \
            failure; declare the handler as `def handler(event, context):` to fix it.",
    },
    CodeInfo {
        code: codes::UNDEFINED_PLACEHOLDER,
        severity: Severity::Warning,
        summary: "deploy-time placeholder without a value",
        explanation: "The function's code holds a `{{NAME}}` placeholder that a deployment \
            pipeline used to replace (Lambda@Edge has no environment variables, so \
            configuration is written into the code at deploy time). No value was given for it, \
            so the converted function keeps the placeholder text, and behaves as the code would \
            if deployed without substitution. Give the value with `--define NAME=VALUE`, a \
            `--values` file, or a `[defines]` entry in `edgeport.toml`; `${NAME}` and \
            `__NAME__` are substituted too when NAME has a value.",
    },
];

/// The one-paragraph explanation of a diagnostic code, if it exists.
pub fn explain(code: &str) -> Option<&'static str> {
    code_info(code).map(|info| info.explanation)
}

/// The catalogue entry of a diagnostic code, if it exists.
pub fn code_info(code: &str) -> Option<&'static CodeInfo> {
    CODES
        .iter()
        .find(|info| info.code.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("handler.js", text)
    }

    #[test]
    fn location_counts_characters_not_bytes() {
        let source = file("const a = 1;\nconst é = ü;\n");
        let start = source.text.find('ü').expect("fixture contains ü");
        let diagnostic =
            Diagnostic::error(codes::SYNTAX_ERROR, "x").with_label(start..start + 2, "");
        assert_eq!(diagnostic.location(&source), Some((2, 11)));
    }

    #[test]
    fn location_without_labels_is_none() {
        let diagnostic = Diagnostic::error(codes::SYNTAX_ERROR, "x");
        assert_eq!(diagnostic.location(&file("a")), None);
    }

    #[test]
    fn render_shows_file_line_and_column() {
        let source = file("exports.x = 1;\nrequire('child_process');\n");
        let start = source
            .text
            .find("require")
            .expect("fixture contains require");
        let rendered = Diagnostic::error(codes::CHILD_PROCESS, "child_process is not available")
            .with_label(start..start + 24, "required here")
            .with_help("do it in JavaScript")
            .render(&source);
        assert!(
            rendered.contains("error[EP0101]: child_process is not available"),
            "{rendered}"
        );
        assert!(rendered.contains("--> handler.js:2:1"), "{rendered}");
        assert!(rendered.contains("help: do it in JavaScript"), "{rendered}");
    }

    #[test]
    fn an_end_of_file_label_points_after_the_code() {
        let source = file("exports.handler = async (event => {\n\n");
        let end = source.text.len();
        let diagnostic =
            Diagnostic::error(codes::SYNTAX_ERROR, "Expected '}', got '<eof>'").with_label(end..end, "here");
        assert_eq!(diagnostic.location(&source), Some((1, 36)));
        let rendered = diagnostic.render(&source);
        assert!(rendered.contains("--> handler.js:1:36"), "{rendered}");
        assert!(rendered.contains("exports.handler = async (event => {"), "the excerpt shows the code: {rendered}");
    }

    #[test]
    fn render_survives_bad_spans() {
        for text in ["", "é", "a\n", "\n\n", "ab\r\ncd"] {
            let source = file(text);
            // Reversed and out-of-range spans are deliberate: rendering must survive them.
            let reversed = Range { start: 2, end: 1 };
            for span in [
                0..0,
                0..1,
                1..1,
                1..2,
                5..9,
                reversed,
                usize::MAX - 1..usize::MAX,
            ] {
                let diagnostic = Diagnostic::warning(codes::PROCESS_ENV, "m")
                    .with_label(span.clone(), "primary")
                    .with_label(span, "secondary");
                let rendered = diagnostic.render(&source);
                assert!(rendered.contains("EP0105"));
                assert!(diagnostic.location(&source).is_some());
            }
        }
    }

    #[test]
    fn every_code_is_explained_once() {
        for info in CODES {
            assert!(
                info.explanation.len() > 100,
                "{} needs a real explanation",
                info.code
            );
            assert_eq!(
                CODES.iter().filter(|other| other.code == info.code).count(),
                1
            );
            assert_eq!(explain(info.code), Some(info.explanation));
        }
        assert_eq!(explain("ep0101"), explain("EP0101"));
        assert_eq!(explain("EP9999"), None);
    }
}
