//! The WebSocket wire contract, in one place: what clients send ([`ClientFrame`]), what
//! the server sends ([`ServerFrame`]), close codes and parsing. The load test and the
//! end-to-end tests use these same types, so they cannot drift from the wire.

mod client;
mod server;

use serde_json::Value;
use vitrine_engine::session::ErrorCode;

pub use client::{ClientFrame, UNSUPPORTED_TYPES};
pub use server::{error_frame, reply_frame, ServerFrame};

/// Close codes.
pub mod close {
    /// Bad or missing token.
    pub const UNAUTHORIZED: u16 = 4401;
    /// No such session.
    pub const NOT_FOUND: u16 = 4404;
    /// No `hello` in time.
    pub const HELLO_TIMEOUT: u16 = 4408;
    /// Too slow, or too many frames.
    pub const TOO_SLOW: u16 = 4429;
    /// Frame too large.
    pub const TOO_LARGE: u16 = 1009;
    /// The server cannot serve the session now; reconnect later.
    pub const TRY_AGAIN: u16 = 1013;
    /// The client stopped answering pings.
    pub const GOING_AWAY: u16 = 1001;
    /// The node is stopping: reconnect (to any node) and resume by seq.
    pub const SERVICE_RESTART: u16 = 1012;
    /// The client broke the WebSocket protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
}

/// Frame types this server understands.
const KNOWN_TYPES: &[&str] = &[
    "hello",
    "session.start",
    "session.end",
    "catalog.search",
    "card.push",
    "cart.add",
    "cart.set_quantity",
    "checkout",
    "chat.send",
    "consent.give",
    "survey.submit",
    "ping",
    "media.capabilities",
    "media.transport.create",
    "media.transport.connect",
    "media.produce",
    "media.consume",
    "media.consumer.resume",
    "media.producer.close",
];

/// Longest command id accepted.
pub const MAX_COMMAND_ID_CHARS: usize = 128;

/// A frame that could not be parsed, and how to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadFrame {
    /// An `id` could be read: answer with a failed `reply`.
    Reply {
        /// The id.
        id: String,
        /// Code.
        code: ErrorCode,
        /// Message.
        message: String,
    },
    /// No usable `id`: answer with an `error` frame.
    Error {
        /// Code.
        code: ErrorCode,
        /// Message.
        message: String,
    },
}

/// Parses one text frame.
pub fn parse(text: &str) -> Result<ClientFrame, BadFrame> {
    let value: Value = serde_json::from_str(text).map_err(|e| BadFrame::Error {
        code: ErrorCode::Invalid,
        message: format!("not JSON: {e}"),
    })?;
    let Value::Object(map) = &value else {
        return Err(BadFrame::Error {
            code: ErrorCode::Invalid,
            message: "a frame must be a JSON object".into(),
        });
    };
    let kind = map
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let id = match map.get("id") {
        Some(Value::String(s))
            if !s.is_empty()
                && s.chars().count() <= MAX_COMMAND_ID_CHARS
                && !s.chars().any(char::is_control) =>
        {
            Some(s.clone())
        }
        _ => None,
    };

    let bad = |code: ErrorCode, message: String| match &id {
        Some(id) => BadFrame::Reply {
            id: id.clone(),
            code,
            message,
        },
        None => BadFrame::Error { code, message },
    };
    if kind.is_empty() {
        return Err(bad(ErrorCode::Invalid, "missing \"type\"".into()));
    }
    if vitrine_persistence::json_holds_nul(&value) {
        return Err(bad(
            ErrorCode::Invalid,
            "text may not hold NUL characters".into(),
        ));
    }
    if UNSUPPORTED_TYPES.contains(&kind.as_str()) {
        return Err(bad(
            ErrorCode::Invalid,
            format!("{kind} is not supported by this server"),
        ));
    }
    if kind != "hello" && id.is_none() {
        return Err(BadFrame::Error {
            code: ErrorCode::Invalid,
            message: format!(
                "\"id\" must be a string of 1 to {MAX_COMMAND_ID_CHARS} characters, without control characters"
            ),
        });
    }
    if !KNOWN_TYPES.contains(&kind.as_str()) {
        return Err(bad(ErrorCode::Invalid, format!("unknown type {kind:?}")));
    }
    serde_json::from_value::<ClientFrame>(value)
        .map_err(|e| bad(ErrorCode::Invalid, format!("bad {kind}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_with_an_id_parses_into_its_variant() {
        let f = parse(r#"{"id":"c-1","type":"cart.add","variant_id":"V1","quantity":2}"#).unwrap();
        assert!(matches!(f, ClientFrame::CartAdd { quantity: 2, .. }));
    }

    #[test]
    fn malformed_json_gets_an_error_frame() {
        assert!(matches!(parse("{nope"), Err(BadFrame::Error { .. })));
        assert!(matches!(parse("[1,2]"), Err(BadFrame::Error { .. })));
        assert!(matches!(parse("\"\u{0}\""), Err(BadFrame::Error { .. })));
    }

    #[test]
    fn wrong_fields_get_a_reply_when_the_id_is_readable() {
        let r = parse(r#"{"id":"c-2","type":"cart.add","variant_id":"V1","quantity":"two"}"#);
        assert!(
            matches!(r, Err(BadFrame::Reply { ref id, code: ErrorCode::Invalid, .. }) if id == "c-2")
        );
        let r = parse(r#"{"id":"c-3","type":"teleport"}"#);
        assert!(
            matches!(r, Err(BadFrame::Reply { ref message, .. }) if message.contains("teleport"))
        );
        let r = parse(r#"{"id":"c-4","type":"media.produce"}"#);
        assert!(matches!(r, Err(BadFrame::Reply { .. })));
        let r = parse(r#"{"id":"c-5","type":"consent.give","kind":"marketing"}"#);
        assert!(
            matches!(r, Err(BadFrame::Reply { ref message, .. }) if message.contains("marketing"))
        );
    }

    #[test]
    fn commands_without_a_usable_id_get_an_error_frame() {
        assert!(matches!(
            parse(r#"{"type":"ping"}"#),
            Err(BadFrame::Error { .. })
        ));
        assert!(matches!(
            parse(r#"{"type":"ping","id":7}"#),
            Err(BadFrame::Error { .. })
        ));
        let long = format!(r#"{{"type":"ping","id":"{}"}}"#, "x".repeat(200));
        assert!(matches!(parse(&long), Err(BadFrame::Error { .. })));
    }

    #[test]
    fn every_known_type_is_a_frame_variant() {
        for kind in KNOWN_TYPES {
            let r = parse(&format!(r#"{{"id":"k","type":"{kind}"}}"#));
            if let Err(BadFrame::Reply { message, .. } | BadFrame::Error { message, .. }) = r {
                assert!(!message.contains("unknown type"), "{kind}: {message}");
            }
        }
    }

    #[test]
    fn hello_needs_no_id() {
        let f = parse(r#"{"type":"hello","token":"t","session_id":"s","resume_after":4}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame::Hello {
                token: "t".into(),
                session_id: "s".into(),
                resume_after: Some(4)
            }
        );
    }

    #[test]
    fn unicode_text_survives_parsing() {
        let f = parse(r#"{"id":"ü-1","type":"chat.send","text":"مرحبا 👋 — ¿qué tal?"}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame::ChatSend {
                id: "ü-1".into(),
                text: "مرحبا 👋 — ¿qué tal?".into()
            }
        );
    }
}
