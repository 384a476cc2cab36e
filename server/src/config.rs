//! What runs where: behaviours (path pattern -> function per trigger) and their origins, from
//! a config file or from the functions' manifests (docs/serve.md "What runs where").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edgeport_contract::EventType;
use serde::Deserialize;

use crate::ServeError;

/// A cache behaviour: the requests whose URI matches `path` run these functions.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    /// A CloudFront path pattern (`*` any run, `?` one character).
    pub path: String,
    /// This behaviour's origin; `None` uses the default origin.
    pub origin: Option<OriginUrl>,
    /// Function name per trigger.
    pub functions: BTreeMap<EventType, String>,
    /// Request triggers see the viewer's body (`request.body`), CloudFront's "include body".
    pub include_body: bool,
}

impl Behavior {
    /// Whether `uri` (without the query string) falls under this behaviour.
    pub fn matches(&self, uri: &str) -> bool {
        wildcard_match(self.path.as_bytes(), uri.as_bytes())
    }
}

/// An origin as `http://host:port/path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginUrl {
    /// `http` or `https`.
    pub protocol: String,
    /// Host name or address.
    pub domain: String,
    /// Port.
    pub port: u16,
    /// Path prefix prepended to every request's URI (no trailing `/`; may be empty).
    pub path: String,
}

impl std::str::FromStr for OriginUrl {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, String> {
        let (protocol, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("origin {url:?} is not a URL; write it as http://HOST:PORT"))?;
        if protocol != "http" && protocol != "https" {
            return Err(format!("origin {url:?}: the protocol must be http or https"));
        }
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], rest[at..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let default_port = if protocol == "https" { 443 } else { 80 };
        let (domain, port) = match authority.rsplit_once(':') {
            Some((domain, port)) if !domain.ends_with(']') || authority.starts_with('[') => {
                let port = port.parse().map_err(|_| format!("origin {url:?}: {port:?} is not a port"))?;
                (domain, port)
            }
            _ => (authority, default_port),
        };
        if domain.is_empty() {
            return Err(format!("origin {url:?} has no host"));
        }
        Ok(OriginUrl { protocol: protocol.into(), domain: domain.trim_matches(['[', ']']).into(), port, path: path.into() })
    }
}

/// The behaviours, in order, and the default origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// The origin of behaviours without their own.
    pub origin: Option<OriginUrl>,
    /// First match wins.
    pub behaviors: Vec<Behavior>,
}

impl Routing {
    /// The behaviour for `uri`, if any.
    pub fn behavior(&self, uri: &str) -> Option<&Behavior> {
        self.behaviors.iter().find(|behavior| behavior.matches(uri))
    }

    /// Every function name attached somewhere.
    pub fn function_names(&self) -> impl Iterator<Item = &str> {
        self.behaviors.iter().flat_map(|behavior| behavior.functions.values().map(String::as_str))
    }
}

/// A config file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    origin: Option<toml::Spanned<String>>,
    #[serde(default)]
    behavior: Vec<BehaviorFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct BehaviorFile {
    path: toml::Spanned<String>,
    origin: Option<toml::Spanned<String>>,
    viewer_request: Option<toml::Spanned<String>>,
    origin_request: Option<toml::Spanned<String>>,
    origin_response: Option<toml::Spanned<String>>,
    viewer_response: Option<toml::Spanned<String>>,
    #[serde(default)]
    include_body: bool,
}

/// The functions a config may name: name -> the triggers its manifest declares.
pub type Available = BTreeMap<String, Vec<EventType>>;

/// Reads a config file, checking every function name against `available`.
pub fn read(path: &Path, available: &Available) -> Result<Routing, ServeError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServeError::Io { path: path.into(), source })?;
    parse(path, &text, available)
}

fn parse(path: &Path, text: &str, available: &Available) -> Result<Routing, ServeError> {
    let error = |offset: usize, message: String| ServeError::Config { path: path.into(), line: line_of(text, offset), message };
    let file: ConfigFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |span| span.start);
        ServeError::Config { path: path.into(), line: line_of(text, offset), message: e.message().to_string() }
    })?;
    let origin_of = |spanned: &Option<toml::Spanned<String>>| -> Result<Option<OriginUrl>, ServeError> {
        spanned.as_ref().map(|url| url.get_ref().parse().map_err(|message| error(url.span().start, message))).transpose()
    };
    let mut behaviors = Vec::new();
    for behavior in &file.behavior {
        let pattern = behavior.path.get_ref();
        if pattern.is_empty() || !(pattern.starts_with('/') || pattern.starts_with('*')) {
            return Err(error(behavior.path.span().start, format!("path {pattern:?} must start with '/' or '*'")));
        }
        let mut functions = BTreeMap::new();
        for (event_type, name) in [
            (EventType::ViewerRequest, &behavior.viewer_request),
            (EventType::OriginRequest, &behavior.origin_request),
            (EventType::OriginResponse, &behavior.origin_response),
            (EventType::ViewerResponse, &behavior.viewer_response),
        ] {
            let Some(name) = name else { continue };
            let Some(declared) = available.get(name.get_ref()) else {
                let known = available.keys().cloned().collect::<Vec<_>>().join(", ");
                return Err(error(name.span().start, format!("no function {:?} in the served directory (it has: {known})", name.get_ref())));
            };
            if !declared.contains(&event_type) {
                let declared = declared.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
                return Err(error(
                    name.span().start,
                    format!("{:?} is converted for {declared}, not {event_type}; convert it for {event_type} or attach it elsewhere", name.get_ref()),
                ));
            }
            functions.insert(event_type, name.get_ref().clone());
        }
        behaviors.push(Behavior { path: pattern.clone(), origin: origin_of(&behavior.origin)?, functions, include_body: behavior.include_body });
    }
    if behaviors.is_empty() {
        behaviors.push(Behavior { path: "*".into(), origin: None, functions: BTreeMap::new(), include_body: false });
    }
    Ok(Routing { origin: origin_of(&file.origin)?, behaviors })
}

/// One default behaviour (`*`) with every function on the triggers its manifest names.
pub fn from_manifests(available: &Available) -> Result<Routing, ServeError> {
    let mut functions: BTreeMap<EventType, String> = BTreeMap::new();
    for (name, event_types) in available {
        for event_type in event_types {
            if let Some(other) = functions.insert(*event_type, name.clone()) {
                return Err(ServeError::Ambiguous { event_type: *event_type, first: other, second: name.clone() });
            }
        }
    }
    Ok(Routing { origin: None, behaviors: vec![Behavior { path: "*".into(), origin: None, functions, include_body: false }] })
}

/// Where the config came from, for messages.
pub fn describe(config: Option<&PathBuf>) -> String {
    config.map_or_else(|| "the functions' manifests".to_string(), |path| path.display().to_string())
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// CloudFront path patterns: `*` matches any run of bytes (including `/`), `?` one byte.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, at)) => {
                    p = star + 1;
                    t = at + 1;
                    backtrack = Some((star, at + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn available() -> Available {
        BTreeMap::from([
            ("router".to_string(), vec![EventType::OriginRequest]),
            ("redirect".to_string(), vec![EventType::ViewerRequest]),
        ])
    }

    #[test]
    fn path_patterns_match_like_cloudfront() {
        assert!(wildcard_match(b"*", b"/anything/at/all"));
        assert!(wildcard_match(b"/images/*", b"/images/a/b.png"));
        assert!(!wildcard_match(b"/images/*", b"/image/a.png"));
        assert!(wildcard_match(b"/*.jpg", b"/a/b.jpg"));
        assert!(!wildcard_match(b"/*.jpg", b"/a/b.jpeg"));
        assert!(wildcard_match(b"/v?/api", b"/v2/api"));
        assert!(!wildcard_match(b"/v?/api", b"/v22/api"));
    }

    #[test]
    fn config_routes_first_match() {
        let text = "origin = \"http://127.0.0.1:8080\"\n[[behavior]]\npath = \"/api/*\"\norigin = \"http://127.0.0.1:9000/base/\"\norigin-request = \"router\"\n[[behavior]]\npath = \"*\"\nviewer-request = \"redirect\"\n";
        let routing = parse(Path::new("serve.toml"), text, &available()).expect("valid config");
        let api = routing.behavior("/api/users").expect("matches");
        assert_eq!(api.functions[&EventType::OriginRequest], "router");
        assert_eq!(api.origin.as_ref().map(|o| (o.port, o.path.as_str())), Some((9000, "/base")));
        assert_eq!(routing.behavior("/").expect("default").functions[&EventType::ViewerRequest], "redirect");
    }

    #[test]
    fn config_errors_name_the_line() {
        let unknown = parse(Path::new("serve.toml"), "[[behavior]]\npath = \"*\"\n\nviewer-request = \"nope\"\n", &available());
        let message = unknown.expect_err("unknown function").to_string();
        assert!(message.contains("serve.toml:4") && message.contains("\"nope\""), "{message}");
        let wrong_trigger = parse(Path::new("s.toml"), "[[behavior]]\npath = \"*\"\nviewer-request = \"router\"\n", &available());
        assert!(wrong_trigger.expect_err("wrong trigger").to_string().contains("not viewer-request"));
        let typo = parse(Path::new("s.toml"), "[[behavior]]\npath = \"*\"\nviewer_request = \"redirect\"\n", &available());
        assert!(typo.expect_err("unknown key").to_string().starts_with("s.toml:3"));
    }

    #[test]
    fn manifests_refuse_two_functions_on_one_trigger() {
        let mut available = available();
        available.insert("other".into(), vec![EventType::ViewerRequest]);
        let message = from_manifests(&available).expect_err("ambiguous").to_string();
        assert!(message.contains("other") && message.contains("redirect") && message.contains("--config"), "{message}");
    }

    #[test]
    fn origin_urls_parse() {
        let url: OriginUrl = "http://localhost:8080".parse().expect("valid");
        assert_eq!((url.domain.as_str(), url.port, url.path.as_str()), ("localhost", 8080, ""));
        let url: OriginUrl = "https://example.com/prefix".parse().expect("valid");
        assert_eq!((url.port, url.path.as_str()), (443, "/prefix"));
        assert!("127.0.0.1:80".parse::<OriginUrl>().is_err());
    }
}
