//! The shape of the Lambda@Edge event as the frontends' request trackers see it: which part of
//! `event.Records[0].cf` a value is, how a key leads from one part to the next, which field a
//! part is a read of, and which triggers the parts a handler touches point to. Both languages
//! index the event the same way (`event.Records[0].cf.request.uri`,
//! `event['Records'][0]['cf']['request']['uri']`), so the walk is shared.

use std::collections::HashSet;

use crate::facts::{Comparison, EventType, FieldRead};

/// What part of the Lambda@Edge event a value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    Event,
    Records,
    Record,
    Cf,
    Request,
    Response,
    Config,
    Headers(Message),
    /// `headers['name']`: the array of `{key, value}` entries.
    HeaderList(Message, String),
    /// `headers['name'][0]`.
    HeaderEntry(Message, String),
    Origin,
    /// `request.body`, with `data` and its encoding.
    Body,
    /// A string field compared with literals.
    Field {
        name: String,
        case_insensitive: bool,
    },
}

/// Whose headers a header shape belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message {
    Request,
    Response,
}

impl Shape {
    /// A string field, compared case-sensitively.
    pub(crate) fn field(name: &str) -> Shape {
        Shape::Field {
            name: name.to_owned(),
            case_insensitive: false,
        }
    }

    /// The field this shape is a read of, named as in
    /// [`FieldRead::field`](crate::facts::FieldRead::field).
    pub(crate) fn read_field(&self) -> Option<String> {
        match self {
            Shape::Field { name, .. } => Some(name.clone()),
            Shape::HeaderList(message, name) | Shape::HeaderEntry(message, name) => {
                Some(header_field(*message, name))
            }
            Shape::Origin => Some("origin".to_owned()),
            Shape::Body => Some("body".to_owned()),
            _ => None,
        }
    }

    /// The shape of `self[key]`: header names are lower-cased, and any array index picks an
    /// element of a list.
    pub(crate) fn child(&self, key: &str) -> Option<Shape> {
        Some(match (self, key) {
            (Shape::Event, "Records") => Shape::Records,
            (Shape::Records, "0") => Shape::Record,
            (Shape::Record, "cf") => Shape::Cf,
            (Shape::Cf, "request") => Shape::Request,
            (Shape::Cf, "response") => Shape::Response,
            (Shape::Cf, "config") => Shape::Config,
            (Shape::Request, "uri" | "querystring" | "clientIp" | "method") => Shape::field(key),
            (Shape::Request, "headers") => Shape::Headers(Message::Request),
            (Shape::Request, "origin") => Shape::Origin,
            (Shape::Request, "body") => Shape::Body,
            (Shape::Response, "status") => Shape::field("status"),
            (Shape::Response, "headers") => Shape::Headers(Message::Response),
            (Shape::Headers(message), name) => {
                Shape::HeaderList(*message, name.to_ascii_lowercase())
            }
            (Shape::HeaderList(message, name), index) if array_index(index).is_some() => {
                Shape::HeaderEntry(*message, name.clone())
            }
            (Shape::HeaderEntry(message, name), "value") => {
                Shape::field(&header_field(*message, name))
            }
            _ => return None,
        })
    }
}

/// The field name of a header's value: `cookie`, `header:<name>` or `response-header:<name>`.
pub(crate) fn header_field(message: Message, name: &str) -> String {
    match message {
        Message::Request if name == "cookie" => "cookie".to_owned(),
        Message::Request => format!("header:{name}"),
        Message::Response => format!("response-header:{name}"),
    }
}

/// The array index a property key names: `0` or `12`, not `01` or `-1`.
pub(crate) fn array_index(key: &str) -> Option<usize> {
    let index: usize = key.parse().ok()?;
    (index.to_string() == key).then_some(index)
}

/// The parts of the event a handler touches that reveal its trigger.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Triggers {
    reads_response: bool,
    touches_origin: bool,
}

impl Triggers {
    /// Notes an access to a part of the event.
    pub(crate) fn note(&mut self, shape: &Shape) {
        match shape {
            Shape::Response => self.reads_response = true,
            Shape::Origin => self.touches_origin = true,
            _ => {}
        }
    }

    /// The triggers the handler was probably written for, in trigger order: the response
    /// triggers when it reads `cf.response`, origin-request when it touches `request.origin`,
    /// the request triggers otherwise.
    pub(crate) fn event_types(self) -> Vec<EventType> {
        if self.reads_response {
            vec![EventType::OriginResponse, EventType::ViewerResponse]
        } else if self.touches_origin {
            vec![EventType::OriginRequest]
        } else {
            vec![EventType::ViewerRequest, EventType::OriginRequest]
        }
    }
}

/// Puts what a request pass recorded in source order: comparisons without repetitions (a
/// function visited more than once records its comparisons again), reads each field once at
/// its first read.
pub(crate) fn in_source_order(
    mut comparisons: Vec<Comparison>,
    mut reads: Vec<FieldRead>,
) -> (Vec<Comparison>, Vec<FieldRead>) {
    comparisons.sort_by_key(|comparison| comparison.span.start);
    let mut seen = HashSet::new();
    comparisons.retain(|comparison| seen.insert(comparison.clone()));
    reads.sort_by_key(|read| read.span.start);
    let mut seen = HashSet::new();
    reads.retain(|read| seen.insert(read.field.clone()));
    (comparisons, reads)
}
