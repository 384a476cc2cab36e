//! One invocation: what goes into the guest (the envelope) and what comes out (the outcome).
//!
//! The shapes are shared with the node reference harness (difftest/reference/node/ric.js), which
//! runs the original handler under the same context, seed and clock.

use serde::{Deserialize, Serialize};

/// Milliseconds since the epoch of the clock used when none is given: 2026-01-01T00:00:00Z.
pub const DEFAULT_FIXED_NOW_MS: u64 = 1_767_225_600_000;

/// The `context` object handed to the handler (functions are added by the guest shim).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LambdaContext {
    /// Name of the function.
    pub function_name: String,
    /// Always `$LATEST` locally.
    pub function_version: String,
    /// ARN the function was invoked by.
    pub invoked_function_arn: String,
    /// Memory limit, as Lambda reports it (a string).
    pub memory_limit_in_m_b: String,
    /// Request id of this invocation.
    pub aws_request_id: String,
    /// Log group name.
    pub log_group_name: String,
    /// Log stream name.
    pub log_stream_name: String,
}

impl LambdaContext {
    /// True when both describe the same function (everything but the request id is equal).
    pub fn same_function(&self, other: &LambdaContext) -> bool {
        self.function_name == other.function_name
            && self.function_version == other.function_version
            && self.invoked_function_arn == other.invoked_function_arn
            && self.memory_limit_in_m_b == other.memory_limit_in_m_b
            && self.log_group_name == other.log_group_name
            && self.log_stream_name == other.log_stream_name
    }

    /// The context Lambda would give `function_name`, with a fixed request id.
    pub fn for_function(function_name: &str, aws_request_id: &str) -> Self {
        LambdaContext {
            function_name: function_name.to_string(),
            function_version: "$LATEST".to_string(),
            invoked_function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
            memory_limit_in_m_b: "128".to_string(),
            aws_request_id: aws_request_id.to_string(),
            log_group_name: format!("/aws/lambda/us-east-1.{function_name}"),
            log_stream_name: "2026/01/01/[$LATEST]00000000000000000000000000000000".to_string(),
        }
    }
}

/// Everything one invocation needs besides the instance.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    /// The Lambda@Edge event, as JSON text (passed through without re-serialising).
    pub event_json: &'a str,
    /// The context.
    pub context: &'a LambdaContext,
    /// Seed for `Math.random`.
    pub seed: u32,
    /// When the invocation times out, in milliseconds since the epoch of the instance's clock.
    pub deadline_ms: u64,
}

impl Invocation<'_> {
    /// The JSON envelope the guest shim reads. The context's constant part is sent only with
    /// `with_context`: an instance keeps it from one invocation to the next, which saves
    /// parsing it on every warm call.
    pub fn envelope(&self, with_context: bool) -> String {
        let request_id = serde_json::to_string(&self.context.aws_request_id).expect("a string serialises");
        let context = if with_context {
            let context = serde_json::to_string(self.context).expect("a context always serialises");
            format!("\"context\":{context},")
        } else {
            String::new()
        };
        format!(
            "{{\"event\":{},{context}\"awsRequestId\":{request_id},\"seed\":{},\"deadlineMs\":{}}}",
            self.event_json, self.seed, self.deadline_ms
        )
    }
}

/// What a handler did with one event, as Lambda reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Outcome {
    /// The handler produced a value (returned promise or callback).
    Result {
        /// The value after a JSON round trip (`undefined` becomes `null`).
        value: serde_json::Value,
    },
    /// The handler threw, rejected or called back with an error.
    Error {
        /// `error.name`, or `typeof` of a thrown non-error value.
        #[serde(rename = "errorType")]
        error_type: String,
        /// `error.message`.
        #[serde(rename = "errorMessage")]
        error_message: String,
        /// Stack trace lines (engine-specific; never compared).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        trace: Vec<String>,
    },
    /// The handler did not finish.
    Timeout {
        /// Why it is considered timed out.
        reason: String,
    },
}

impl Outcome {
    /// The outcome without engine-specific details (stack traces), as compared across engines.
    pub fn normalized(&self) -> Outcome {
        match self {
            Outcome::Error { error_type, error_message, .. } => Outcome::Error {
                error_type: error_type.clone(),
                error_message: error_message.clone(),
                trace: Vec::new(),
            },
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_embeds_event_verbatim() {
        let context = LambdaContext::for_function("fn", "id");
        let invocation = Invocation { event_json: "{\"a\": 1}", context: &context, seed: 7, deadline_ms: 9 };
        let envelope: serde_json::Value = serde_json::from_str(&invocation.envelope(true)).expect("valid JSON");
        assert_eq!(envelope["event"]["a"], 1);
        assert_eq!(envelope["seed"], 7);
        assert_eq!(envelope["awsRequestId"], "id");
        assert_eq!(envelope["context"]["memoryLimitInMB"], "128");
        let envelope: serde_json::Value = serde_json::from_str(&invocation.envelope(false)).expect("valid JSON");
        assert!(envelope.get("context").is_none());
        assert!(context.same_function(&LambdaContext::for_function("fn", "other id")));
        assert!(!context.same_function(&LambdaContext::for_function("other", "id")));
    }

    #[test]
    fn outcome_round_trips_the_shared_shape() {
        let error: Outcome = serde_json::from_str(r#"{"kind":"error","errorType":"Error","errorMessage":"boom","trace":["x"]}"#)
            .expect("valid outcome");
        assert_eq!(
            serde_json::to_value(error.normalized()).expect("serialises"),
            serde_json::json!({"kind": "error", "errorType": "Error", "errorMessage": "boom"})
        );
    }
}
