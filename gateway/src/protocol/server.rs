//! Frames the server sends. The session produces `welcome` and `event` frames itself
//! (`vitrine_engine::wire`); these types read every server frame back, for clients and
//! tests, and build the frames the gateway sends on its own (`reply`, `error`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vitrine_engine::session::{CommandError, CommandReply, ErrorCode};

/// Every frame the server sends, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerFrame {
    /// Answer to `hello`.
    #[serde(rename = "welcome")]
    Welcome {
        /// The participant's id.
        participant_id: String,
        /// Their role.
        role: String,
        /// Seq the snapshot stands for.
        seq: u64,
        /// The session state.
        session: serde_json::Value,
    },
    /// Answer to a command.
    #[serde(rename = "reply")]
    Reply {
        /// The command's id.
        id: String,
        /// Whether it took effect.
        ok: bool,
        /// Seq of the event it produced.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
        /// Result data.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<serde_json::Value>,
        /// Why it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<CommandError>,
    },
    /// A session event.
    #[serde(rename = "event")]
    Event {
        /// Position in the session.
        seq: u64,
        /// When.
        at: DateTime<Utc>,
        /// `noun.verb` kind.
        kind: String,
        /// Acting participant.
        by: Option<String>,
        /// Payload.
        data: serde_json::Value,
    },
    /// A frame that could not be answered with a reply (no readable id).
    #[serde(rename = "error")]
    Error {
        /// What went wrong.
        error: CommandError,
    },
}

/// A `reply` frame borrowing its reply, so encoding it copies nothing first. Its fields
/// and their order are those of [`ServerFrame::Reply`].
#[derive(Serialize)]
struct ReplyFrame<'a> {
    r#type: &'static str,
    id: &'a str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a CommandError>,
}

/// The `reply` frame for a command.
pub fn reply_frame(id: &str, reply: &CommandReply) -> Arc<str> {
    let frame = ReplyFrame {
        r#type: "reply",
        id,
        ok: reply.ok,
        seq: reply.seq,
        data: reply.data.as_ref(),
        error: reply.error.as_ref(),
    };
    // unwrap: a reply holds strings, numbers and JSON values, which always encode.
    serde_json::to_string(&frame)
        .expect("reply frames always encode")
        .into()
}

/// The `error` frame.
pub fn error_frame(code: ErrorCode, message: impl Into<String>) -> Arc<str> {
    encode(&ServerFrame::Error {
        error: CommandError::new(code, message),
    })
}

fn encode(frame: &ServerFrame) -> Arc<str> {
    // unwrap: server frames hold strings, numbers and JSON values, which always encode.
    serde_json::to_string(frame)
        .expect("server frames always encode")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_frame_reads_back_as_the_reply_it_encodes() {
        let reply = CommandReply::ok(Some(3), serde_json::json!({"card": {"title": "Robe"}}));
        let frame = reply_frame("c-1", &reply);
        let back: ServerFrame = serde_json::from_str(&frame).unwrap();
        assert_eq!(
            back,
            ServerFrame::Reply {
                id: "c-1".into(),
                ok: true,
                seq: Some(3),
                data: reply.data,
                error: None,
            }
        );
        let failed = CommandReply::failed(CommandError::new(ErrorCode::Invalid, "no"));
        let text = reply_frame("c-2", &failed);
        assert_eq!(
            &*text,
            r#"{"type":"reply","id":"c-2","ok":false,"error":{"code":"invalid","message":"no"}}"#
        );
    }
}
