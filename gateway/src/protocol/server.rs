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

/// The `reply` frame for a command.
pub fn reply_frame(id: &str, reply: &CommandReply) -> Arc<str> {
    let frame = ServerFrame::Reply {
        id: id.to_owned(),
        ok: reply.ok,
        seq: reply.seq,
        data: reply.data.clone(),
        error: reply.error.clone(),
    };
    encode(&frame)
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
