//! What a team with 200 functions in a repository sees from `edgeport convert`: a generated
//! repository (header rewrites, redirects, cookie routing, query normalisation, TypeScript and
//! about 10 % Python, each function with its own constants so no two files are alike)
//! converted with a cold cache, again with nothing changed, and after editing 10 functions.
//!
//! `cargo bench -p edgeport-converter --bench batch [-- --functions N --jobs N]`; not part of CI.
//! Peak RSS is the process's high-water mark (`VmHWM`) after each scenario, so it only grows.

use std::path::{Path, PathBuf};
use std::time::Instant;

use edgeport_converter::batch::{convert_all, BatchOptions, BatchReport, FunctionStatus};
use edgeport_converter::{discover, ConvertOptions};
use edgeport_runtime::{Runtime, RuntimeOptions};

/// One kind of function: the handler file name and its source for function number `n`.
struct Template {
    kind: &'static str,
    file: &'static str,
    source: fn(usize) -> String,
}

const TEMPLATES: [Template; 10] = [
    Template { kind: "security-headers", file: "index.js", source: security_headers },
    Template { kind: "redirects", file: "index.js", source: redirects },
    Template { kind: "cookie-ab", file: "index.js", source: cookie_ab },
    Template { kind: "query-normalize", file: "index.js", source: query_normalize },
    Template { kind: "canonical-url", file: "index.ts", source: canonical_url_ts },
    Template { kind: "origin-switch", file: "index.mjs", source: origin_switch_esm },
    Template { kind: "basic-auth", file: "index.js", source: basic_auth },
    Template { kind: "device-routing", file: "index.js", source: device_routing },
    Template { kind: "cache-control", file: "index.js", source: cache_control_callback },
    Template { kind: "py-index-rewrite", file: "lambda_function.py", source: python_rewrite },
];

fn security_headers(n: usize) -> String {
    format!(
        r#"'use strict';
// Trigger: origin-response. Security headers for site {n}.
const HEADERS = {{
  'strict-transport-security': 'max-age={max_age}; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': '{frame}',
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'self' https://cdn{n}.example.com",
}};
exports.handler = async (event) => {{
  const response = event.Records[0].cf.response;
  for (const [name, value] of Object.entries(HEADERS)) {{
    response.headers[name] = [{{ key: name.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()), value }}];
  }}
  delete response.headers['x-powered-by-{n}'];
  return response;
}};
"#,
        max_age = 31_536_000 + n,
        frame = if n.is_multiple_of(2) { "DENY" } else { "SAMEORIGIN" },
    )
}

fn redirects(n: usize) -> String {
    let rules: String = (0..5 + n % 7).map(|i| format!("  ['/old-{n}-{i}', '/new/{i}/page-{n}'],\n")).collect();
    format!(
        r#"'use strict';
// Trigger: viewer-request. Permanent redirects for retired pages.
const REDIRECTS = new Map([
{rules}]);
exports.handler = async (event) => {{
  const request = event.Records[0].cf.request;
  const target = REDIRECTS.get(request.uri.toLowerCase());
  if (!target) return request;
  return {{
    status: '301',
    statusDescription: 'Moved Permanently',
    headers: {{ location: [{{ key: 'Location', value: 'https://www{n}.example.com' + target }}] }},
  }};
}};
"#
    )
}

fn cookie_ab(n: usize) -> String {
    format!(
        r#"'use strict';
// Trigger: viewer-request. A/B test {n}: the experiment cookie picks the landing page.
function parseCookies(headers) {{
  const cookies = {{}};
  for (const header of headers.cookie || []) {{
    for (const pair of header.value.split(';')) {{
      const [name, ...rest] = pair.trim().split('=');
      if (name) cookies[name] = rest.join('=');
    }}
  }}
  return cookies;
}}
exports.handler = (event, context, callback) => {{
  const request = event.Records[0].cf.request;
  const cookies = parseCookies(request.headers);
  const group = cookies['exp-{n}'] || (Math.random() < 0.{share} ? 'a' : 'b');
  if (request.uri === '/' || request.uri === '/index.html') {{
    request.uri = '/experiments/' + group + '/index.html';
  }}
  request.headers['x-experiment-{n}'] = [{{ key: 'X-Experiment-{n}', value: group }}];
  callback(null, request);
}};
"#,
        share = 25 + n % 50,
    )
}

fn query_normalize(n: usize) -> String {
    format!(
        r#"'use strict';
// Trigger: viewer-request. Sorted, filtered query strings raise the cache hit ratio.
const querystring = require('querystring');
const KEEP = new Set(['page', 'sort', 'q', 'lang{n}']);
exports.handler = async (event) => {{
  const request = event.Records[0].cf.request;
  const params = querystring.parse(request.querystring);
  const kept = Object.keys(params).filter((k) => KEEP.has(k)).sort();
  request.querystring = kept.map((k) => k + '=' + encodeURIComponent(params[k])).join('&');
  if (kept.length > {limit}) request.headers['x-long-query'] = [{{ key: 'X-Long-Query', value: 'yes' }}];
  return request;
}};
"#,
        limit = 2 + n % 3,
    )
}

fn canonical_url_ts(n: usize) -> String {
    format!(
        r#"// Trigger: viewer-request. Canonical URLs for docs site {n}.
interface Header {{ key?: string; value: string; }}
type Headers = Record<string, Header[]>;
interface Redirect {{ status: string; statusDescription: string; headers: Headers; }}

const EXEMPT: readonly string[] = ['/api/', '/assets{n}/'];

function canonicalize(uri: string): string {{
  let canonical: string = uri.replace(/\/{{2,}}/g, '/').toLowerCase();
  if (canonical.length > 1 && canonical.endsWith('/')) canonical = canonical.slice(0, -1);
  return canonical;
}}

export const handler = async (event: any): Promise<any> => {{
  const request = event.Records[0].cf.request;
  if (EXEMPT.some((prefix: string) => request.uri.startsWith(prefix))) return request;
  const canonical: string = canonicalize(request.uri);
  if (canonical === request.uri) return request;
  const redirect: Redirect = {{
    status: '301',
    statusDescription: 'Moved Permanently',
    headers: {{ location: [{{ key: 'Location', value: canonical }}] }},
  }};
  return redirect;
}};
"#
    )
}

fn origin_switch_esm(n: usize) -> String {
    format!(
        r#"// Trigger: origin-request. Route /api to the API origin of region {n}.
const API_ORIGIN = 'api-{n}.example.com';

export const handler = async (event) => {{
  const request = event.Records[0].cf.request;
  if (request.uri.startsWith('/api/')) {{
    request.origin = {{
      custom: {{
        domainName: API_ORIGIN, port: 443, protocol: 'https', path: '',
        sslProtocols: ['TLSv1.2'], readTimeout: {timeout}, keepaliveTimeout: 5, customHeaders: {{}},
      }},
    }};
    request.headers.host = [{{ key: 'Host', value: API_ORIGIN }}];
  }}
  return request;
}};
"#,
        timeout = 10 + n % 20,
    )
}

fn basic_auth(n: usize) -> String {
    format!(
        r#"'use strict';
// Trigger: viewer-request. Basic authentication for staging site {n}.
const EXPECTED = 'Basic ' + Buffer.from('user{n}:secret-{n}').toString('base64');
exports.handler = async (event) => {{
  const request = event.Records[0].cf.request;
  const authorization = request.headers.authorization;
  if (authorization && authorization[0].value === EXPECTED) return request;
  return {{
    status: '401',
    statusDescription: 'Unauthorized',
    headers: {{ 'www-authenticate': [{{ key: 'WWW-Authenticate', value: 'Basic realm="staging-{n}"' }}] }},
  }};
}};
"#
    )
}

fn device_routing(n: usize) -> String {
    format!(
        r#"'use strict';
// Trigger: origin-request. Device-specific pages, from CloudFront's device headers.
const PREFIX = {{ mobile: '/m{n}', tablet: '/t{n}', desktop: '' }};
exports.handler = async (event) => {{
  const request = event.Records[0].cf.request;
  const headers = request.headers;
  const is = (name) => headers[name] && headers[name][0].value === 'true';
  const device = is('cloudfront-is-mobile-viewer') ? 'mobile' : is('cloudfront-is-tablet-viewer') ? 'tablet' : 'desktop';
  request.uri = PREFIX[device] + request.uri;
  return request;
}};
"#
    )
}

fn cache_control_callback(n: usize) -> String {
    format!(
        r#"'use strict';
// Trigger: origin-response. Long caching for hashed assets, short for pages.
exports.handler = (event, context, callback) => {{
  const {{ request, response }} = event.Records[0].cf;
  const hashed = /\.[0-9a-f]{{8,}}\.(js|css|woff2)$/.test(request.uri);
  const maxAge = hashed ? 31536000 : {page_age};
  response.headers['cache-control'] = [{{ key: 'Cache-Control', value: 'public, max-age=' + maxAge }}];
  callback(null, response);
}};
"#,
        page_age = 60 * (1 + n % 10),
    )
}

fn python_rewrite(n: usize) -> String {
    format!(
        r#""""Trigger: origin-request. Directory URLs of static site {n} serve their index.html."""
import re

HAS_EXTENSION = re.compile(r'\.[A-Za-z0-9]+$')
LEGACY_PREFIX = '/legacy-{n}/'


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    uri = request['uri']
    if uri.startswith(LEGACY_PREFIX):
        uri = '/' + uri[len(LEGACY_PREFIX):]
    if uri.endswith('/'):
        uri = uri + 'index.html'
    elif not HAS_EXTENSION.search(uri.rsplit('/', 1)[-1]):
        uri = uri + '/index.html'
    request['uri'] = uri
    return request
"#
    )
}

/// Writes `count` functions under `root`; returns each one's handler path.
fn generate(root: &Path, count: usize) -> Vec<PathBuf> {
    (0..count)
        .map(|n| {
            let template = &TEMPLATES[n % TEMPLATES.len()];
            let dir = root.join(format!("{:03}-{}", n, template.kind));
            std::fs::create_dir_all(&dir).expect("create a function directory");
            let handler = dir.join(template.file);
            std::fs::write(&handler, (template.source)(n)).expect("write a handler");
            handler
        })
        .collect()
}

/// The process's peak resident set, from `/proc/self/status` (Linux only).
fn peak_rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or_else(|| "-".into(), |kib| format!("{} MiB", kib / 1024))
}

fn argument(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

fn main() {
    let count = argument("--functions").unwrap_or(200);
    let jobs = argument("--jobs").unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let runtime = Runtime::new(RuntimeOptions { cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgeport-cache")), memory_limit: None });
    let repo = tempfile::tempdir().expect("temp dir");
    let root = repo.path().join("functions");
    let handlers = generate(&root, count);
    let functions = discover::discover(&root).expect("the generated functions are found");
    assert_eq!(functions.len(), count, "every generated function is discovered");
    let options = BatchOptions { convert: ConvertOptions::default(), out_dir: repo.path().join("dist"), jobs, cache: true };

    println!(
        "{count} functions ({} Python), {jobs} jobs\n",
        handlers.iter().filter(|h| h.extension().is_some_and(|e| e == "py")).count()
    );
    println!("| scenario | functions | converted | cached | failed | wall time | functions/min | peak RSS |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let scenario = |name: &str| {
        let started = Instant::now();
        let report: BatchReport = convert_all(&runtime, &functions, &options, &|_| {}).expect("the batch runs");
        let wall = started.elapsed().as_secs_f64();
        println!(
            "| {name} | {} | {} | {} | {} | {wall:.1} s | {:.0} | {} |",
            report.functions.len(),
            report.count(FunctionStatus::Converted),
            report.count(FunctionStatus::Cached),
            report.count(FunctionStatus::Failed),
            report.functions.len() as f64 * 60.0 / wall,
            peak_rss()
        );
        for failure in report.functions.iter().filter(|f| f.status == FunctionStatus::Failed) {
            eprintln!("  failed: {}: {}", failure.function.name, failure.first_error().unwrap_or_default());
        }
    };
    scenario("cold cache");
    scenario("warm cache, no changes");
    // Ten functions spread over the templates, Python and TypeScript included.
    for k in 0..10.min(count) {
        let handler = &handlers[(20 * k + k % 10) % count];
        let comment = if handler.extension().is_some_and(|e| e == "py") { "#" } else { "//" };
        let mut source = std::fs::read_to_string(handler).expect("read a handler");
        source.push_str(&format!("{comment} edited: ticket {k}\n"));
        std::fs::write(handler, source).expect("edit a handler");
    }
    scenario("10 functions edited");
}
