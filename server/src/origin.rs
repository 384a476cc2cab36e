//! Fetching from the origin a request's `origin` object names (docs/serve.md "The chain", 4).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::config::OriginUrl;

/// What the origin answered.
pub struct OriginResponse {
    /// Status code.
    pub status: u16,
    /// Header lines, names lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body, whole.
    pub body: Bytes,
}

/// Why there is no origin response.
#[derive(Debug)]
pub enum OriginError {
    /// No connection or an invalid exchange: 502.
    Unreachable(String),
    /// No answer within `readTimeout`: 504.
    Timeout(String),
}

impl OriginError {
    /// The metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            OriginError::Unreachable(_) => "unreachable",
            OriginError::Timeout(_) => "timeout",
        }
    }
}

/// Headers that belong to one connection, never forwarded either way.
pub const HOP_BY_HOP: &[&str] =
    &["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length"];

/// A pooled HTTP client plus the `--resolve` table.
pub struct OriginClient {
    client: Client<HttpConnector, Full<Bytes>>,
    resolve: HashMap<String, SocketAddr>,
}

impl OriginClient {
    /// A client; `resolve` maps origin domain names (or `name:port`) to addresses.
    pub fn new(resolve: &[(String, SocketAddr)]) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        OriginClient { client, resolve: resolve.iter().cloned().collect() }
    }

    /// Sends `request` (a CloudFront request object with its `origin`) and the viewer's body.
    pub async fn fetch(&self, request: &Value, body: Bytes) -> Result<OriginResponse, OriginError> {
        let unreachable = |message: String| OriginError::Unreachable(message);
        let (protocol, domain, port, path, read_timeout, custom_headers) = match (&request["origin"]["custom"], &request["origin"]["s3"]) {
            (custom @ Value::Object(_), _) => (
                custom["protocol"].as_str().unwrap_or("http"),
                custom["domainName"].as_str().unwrap_or_default(),
                custom["port"].as_u64().and_then(|port| u16::try_from(port).ok()).unwrap_or(80),
                custom["path"].as_str().unwrap_or_default(),
                custom["readTimeout"].as_u64().unwrap_or(30),
                &custom["customHeaders"],
            ),
            (_, s3 @ Value::Object(_)) => {
                ("http", s3["domainName"].as_str().unwrap_or_default(), 80, s3["path"].as_str().unwrap_or_default(), 30, &s3["customHeaders"])
            }
            _ => return Err(unreachable("the request has no origin (request.origin.custom or .s3)".into())),
        };
        if domain.is_empty() {
            return Err(unreachable("the origin has no domainName".into()));
        }
        if protocol != "http" {
            return Err(unreachable(format!(
                "the origin {domain} uses {protocol}; edgeport serve has no TLS client, so point the origin at http:// (or --resolve it to a local http server)"
            )));
        }
        let address = self
            .resolve
            .get(&format!("{domain}:{port}"))
            .or_else(|| self.resolve.get(domain))
            .map_or_else(|| authority(domain, port), |address| address.to_string());
        let uri = request["uri"].as_str().unwrap_or("/");
        let query = request["querystring"].as_str().filter(|q| !q.is_empty()).map(|q| format!("?{q}")).unwrap_or_default();
        let url = format!("http://{address}{}{uri}{query}", path.trim_end_matches('/'));
        let method = request["method"].as_str().unwrap_or("GET");
        let mut builder = hyper::Request::builder().method(method).uri(&url);
        let mut has_host = false;
        for headers in [&request["headers"], custom_headers] {
            for (name, entries) in headers.as_object().into_iter().flatten() {
                if HOP_BY_HOP.contains(&name.as_str()) {
                    continue;
                }
                has_host |= name == "host";
                for entry in entries.as_array().into_iter().flatten() {
                    if let Some(value) = entry["value"].as_str() {
                        builder = builder.header(name.as_str(), value);
                    }
                }
            }
        }
        if !has_host {
            builder = builder.header("host", authority(domain, port));
        }
        let outgoing = builder.body(Full::new(body)).map_err(|e| unreachable(format!("the request cannot be sent to {url}: {e}")))?;
        let timeout = Duration::from_secs(read_timeout.max(1));
        let exchange = async {
            let response = self.client.request(outgoing).await.map_err(|e| unreachable(format!("{url}: {}", error_chain(&e))))?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
                .collect();
            let body = response.into_body().collect().await.map_err(|e| unreachable(format!("{url}: reading the body: {e}")))?.to_bytes();
            Ok(OriginResponse { status, headers, body })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(OriginError::Timeout(format!("{url} did not answer within its readTimeout of {} s", timeout.as_secs()))),
        }
    }
}

/// The CloudFront `origin` object for a configured origin URL.
pub fn origin_object(origin: &OriginUrl) -> Value {
    serde_json::json!({"custom": {
        "customHeaders": {},
        "domainName": origin.domain,
        "keepaliveTimeout": 5,
        "path": origin.path,
        "port": origin.port,
        "protocol": origin.protocol,
        "readTimeout": 30,
        "sslProtocols": ["TLSv1.2"],
    }})
}

fn authority(domain: &str, port: u16) -> String {
    if domain.contains(':') {
        format!("[{domain}]:{port}")
    } else {
        format!("{domain}:{port}")
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
