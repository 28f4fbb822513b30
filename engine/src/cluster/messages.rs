//! What nodes say to each other over Redis.
//!
//! A node's inbox carries [`Envelope`]s as JSON: requests for sessions the node owns, and
//! the replies to requests it sent. A session's event channel carries [`SessionNote`]s in
//! a small text form, `e {seq} {a|s} {frame}`, `h {seq} {node}` or `m {node}`, so an
//! event's frame, already encoded once for the owner's own connections, is sent as it is.
//! Heartbeats and moves name their sender: a follower heeds only its owner's, not those
//! of an old owner that has yet to notice it lost the session.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::directory::SessionKey;
use crate::session::{Caller, Command, CommandReply, JoinError, Joined, SessionView};

/// A message in a node's inbox.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Envelope {
    /// A request that wants a reply to `from`'s inbox, matched by `corr`.
    Request {
        /// The asking node.
        from: String,
        /// Matches the reply to the request.
        corr: u64,
        /// What is asked.
        request: Request,
    },
    /// The reply to a request this node sent.
    Reply {
        /// The request's `corr`.
        corr: u64,
        /// The answer.
        reply: Reply,
    },
    /// A participant's connection on `from` closed.
    Leave {
        /// The node the connection was on.
        from: String,
        /// The session.
        key: SessionKey,
        /// The connection, numbered by `from`.
        conn: u64,
    },
    /// The owner no longer counts `from`'s connections to this session (it took `from` for
    /// dead): they must join again.
    Evicted {
        /// The session.
        key: SessionKey,
    },
}

/// A request to a session's owner.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Run a command.
    Execute {
        /// The session.
        key: SessionKey,
        /// Who sent it.
        caller: Caller,
        /// The client's command id.
        command_id: String,
        /// The command.
        command: Command,
        /// W3C trace context of the forwarding hop, when traces are exported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trace: Option<String>,
    },
    /// Seat a connection of the asking node.
    Join {
        /// The session.
        key: SessionKey,
        /// The connection, numbered by the asking node.
        conn: u64,
        /// Who is on it.
        caller: Caller,
    },
    /// Read the session's live state.
    View {
        /// The session.
        key: SessionKey,
    },
}

/// The answer to a [`Request`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "r", rename_all = "snake_case")]
pub enum Reply {
    /// A command's reply.
    Command {
        /// The reply.
        reply: CommandReply,
    },
    /// The connection is seated.
    Joined {
        /// Who it is and at which seq the welcome stands.
        joined: Joined,
        /// The `welcome` frame, as the owner encoded it.
        welcome: String,
    },
    /// The connection could not be seated.
    JoinFailed {
        /// Why.
        error: JoinError,
    },
    /// The session's live state.
    View {
        /// The state.
        view: Box<SessionView>,
    },
    /// The node does not own the session (any more).
    NotOwner,
    /// No node received the request: the owner is gone. Never sent; made up locally.
    #[serde(skip)]
    Unreachable,
    /// The request could not be sent or no reply came in time. Never sent.
    #[serde(skip)]
    Lost,
}

/// A message on a session's event channel.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionNote {
    /// A stored event's frame.
    Event {
        /// Its seq.
        seq: u64,
        /// Whether only staff may see it.
        staff_only: bool,
        /// The `event` frame.
        frame: Arc<str>,
    },
    /// The owner is alive and has stored everything up to `seq`.
    Heartbeat {
        /// The last stored seq.
        seq: u64,
        /// The sending node.
        node: String,
    },
    /// The owner stopped serving the session: its participants must join again.
    Moved {
        /// The sending node.
        node: String,
    },
}

impl SessionNote {
    /// The note's text form.
    pub fn encode(&self) -> String {
        match self {
            Self::Event {
                seq,
                staff_only,
                frame,
            } => Self::encode_event(*seq, *staff_only, frame),
            Self::Heartbeat { seq, node } => format!("h {seq} {node}"),
            Self::Moved { node } => format!("m {node}"),
        }
    }

    /// The text form of an event note, written straight from the borrowed frame.
    pub fn encode_event(seq: u64, staff_only: bool, frame: &str) -> String {
        let audience = if staff_only { 's' } else { 'a' };
        format!("e {seq} {audience} {frame}")
    }

    /// Reads a note; `None` when it is not one.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(4, ' ');
        match parts.next()? {
            "e" => {
                let seq = parts.next()?.parse().ok()?;
                let staff_only = match parts.next()? {
                    "s" => true,
                    "a" => false,
                    _ => return None,
                };
                let frame = parts.next()?;
                Some(Self::Event {
                    seq,
                    staff_only,
                    frame: Arc::from(frame),
                })
            }
            "h" => Some(Self::Heartbeat {
                seq: parts.next()?.parse().ok()?,
                node: node_name(parts.next())?,
            }),
            "m" => Some(Self::Moved {
                node: node_name(parts.next())?,
            }),
            _ => None,
        }
    }
}

fn node_name(part: Option<&str>) -> Option<String> {
    part.filter(|n| !n.is_empty() && !n.contains(' '))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_notes_read_back_as_written() {
        let notes = [
            SessionNote::Event {
                seq: 42,
                staff_only: true,
                frame: Arc::from(r#"{"type":"event","seq":42,"data":{"text":"a b  c ✓"}}"#),
            },
            SessionNote::Event {
                seq: 1,
                staff_only: false,
                frame: Arc::from("x"),
            },
            SessionNote::Heartbeat {
                seq: 7,
                node: "nod_1".into(),
            },
            SessionNote::Moved {
                node: "nod_2".into(),
            },
        ];
        for note in notes {
            assert_eq!(SessionNote::decode(&note.encode()), Some(note));
        }
    }

    #[test]
    fn broken_notes_are_refused() {
        for text in [
            "",
            "e",
            "e x a {}",
            "e 1 q {}",
            "e 1 a",
            "h",
            "h -1 n",
            "h 1",
            "m",
            "z 1",
            "e 18446744073709551616 a {}",
        ] {
            assert_eq!(SessionNote::decode(text), None, "{text:?}");
        }
    }
}
