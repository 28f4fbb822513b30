//! The wires a participant can speak, behind one interface: Vitrine's protocol through
//! the gateway's own [`ClientFrame`] and [`ServerFrame`] types, and the two peers'
//! framings for the side-by-side comparison.

use vitrine_gateway::protocol::{ClientFrame, ServerFrame};

use crate::ledger::kind_name;

/// What one server frame means to a participant.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    /// Engine.IO's opening packet: answer with [`Wire::open_reply`].
    Open,
    /// Socket.IO's namespace connection: the join may be sent.
    Connected,
    /// Vitrine's `welcome`.
    Welcome {
        /// Seq the snapshot stands for.
        seq: u64,
        /// The participant's id.
        participant_id: String,
        /// Whether the session is live.
        live: bool,
    },
    /// A reply or ack to command `id`.
    Reply {
        /// The command's number.
        id: u64,
        /// Whether it took effect.
        ok: bool,
        /// Seq of its event (Vitrine only).
        seq: Option<u64>,
        /// Error code when it failed.
        code: Option<String>,
    },
    /// A session event.
    Event {
        /// Seq (for the peers, the number the sender gave it).
        seq: u64,
        /// Kind.
        kind: &'static str,
        /// Acting participant, when the server says.
        by: Option<String>,
    },
    /// An `error` frame.
    Error {
        /// Its code.
        code: String,
    },
    /// A frame to answer at once (a heartbeat).
    Answer(&'static str),
    /// The server ended the conversation inside the WebSocket (Socket.IO disconnect).
    Gone,
    /// Nothing to act on.
    Ignore,
}

/// A command a behaviour sends.
#[derive(Clone, Copy, Debug)]
pub enum Command<'a> {
    /// `session.start`.
    Start,
    /// `card.push` of a product.
    Card {
        /// The product.
        product: &'a str,
    },
    /// `chat.send`.
    Chat {
        /// The text.
        text: &'a str,
    },
    /// `cart.add` of one unit.
    CartAdd {
        /// The variant.
        variant: &'a str,
    },
    /// `cart.set_quantity`.
    CartSet {
        /// The variant.
        variant: &'a str,
        /// The new quantity.
        quantity: i64,
    },
    /// `checkout`.
    Checkout,
}

/// How a participant joins.
#[derive(Clone, Copy, Debug)]
pub struct Join<'a> {
    /// Token (Vitrine).
    pub token: &'a str,
    /// Session id or room name.
    pub session_id: &'a str,
    /// Whether this participant is the shopper.
    pub shopper: bool,
    /// Where to resume (Vitrine).
    pub resume_after: Option<u64>,
    /// Command number of the join (the peers ack it).
    pub id: u64,
}

/// One framing of the live-session conversation.
pub trait Wire: Send + Sync {
    /// Whether the server speaks first (Engine.IO's open packet).
    fn greets_first(&self) -> bool {
        false
    }

    /// The answer to the server's opening packet.
    fn open_reply(&self) -> &'static str {
        ""
    }

    /// Whether the join is answered by a reply to its id rather than a `welcome`.
    fn join_is_acked(&self) -> bool {
        true
    }

    /// Whether senders receive their own events.
    fn echo(&self) -> bool {
        false
    }

    /// The join frame.
    fn join(&self, join: &Join<'_>) -> String;

    /// A command frame. `event` is the number the peers carry in the payload.
    fn command(&self, id: u64, command: &Command<'_>, event: u64) -> String;

    /// Reads one text frame.
    fn decode(&self, text: &str) -> Result<Incoming, String>;
}

/// Vitrine's protocol, through the gateway's frame types.
pub struct VitrineWire;

/// Command ids on the wire: `c` and the participant's command number.
fn command_id(id: u64) -> String {
    format!("c{id}")
}

impl Wire for VitrineWire {
    fn join_is_acked(&self) -> bool {
        false
    }

    fn echo(&self) -> bool {
        true
    }

    fn join(&self, join: &Join<'_>) -> String {
        encode(&ClientFrame::Hello {
            token: join.token.to_owned(),
            session_id: join.session_id.to_owned(),
            resume_after: join.resume_after,
        })
    }

    fn command(&self, id: u64, command: &Command<'_>, _event: u64) -> String {
        let id = command_id(id);
        let frame = match *command {
            Command::Start => ClientFrame::SessionStart { id },
            Command::Card { product } => ClientFrame::CardPush {
                id,
                product_id: product.to_owned().into(),
                variant_id: None,
                note: None,
            },
            Command::Chat { text } => ClientFrame::ChatSend {
                id,
                text: text.to_owned(),
            },
            Command::CartAdd { variant } => ClientFrame::CartAdd {
                id,
                variant_id: variant.to_owned().into(),
                quantity: 1,
            },
            Command::CartSet { variant, quantity } => ClientFrame::CartSetQuantity {
                id,
                variant_id: variant.to_owned().into(),
                quantity,
            },
            Command::Checkout => ClientFrame::Checkout { id },
        };
        encode(&frame)
    }

    fn decode(&self, text: &str) -> Result<Incoming, String> {
        let frame: ServerFrame =
            serde_json::from_str(text).map_err(|e| format!("not a server frame: {e}"))?;
        Ok(match frame {
            ServerFrame::Welcome {
                participant_id,
                seq,
                session,
                ..
            } => Incoming::Welcome {
                seq,
                participant_id,
                live: session["status"] == "live",
            },
            ServerFrame::Reply {
                id, ok, seq, error, ..
            } => {
                let number = id
                    .strip_prefix('c')
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("a reply to id {id:?}, which this client never sent"))?;
                Incoming::Reply {
                    id: number,
                    ok,
                    seq,
                    code: error.map(|e| code_text(&e.code)),
                }
            }
            ServerFrame::Event { seq, kind, by, .. } => Incoming::Event {
                seq,
                kind: kind_name(&kind),
                by,
            },
            ServerFrame::Error { error } => Incoming::Error {
                code: code_text(&error.code),
            },
        })
    }
}

fn encode(frame: &ClientFrame) -> String {
    // unwrap: client frames hold strings and numbers, which always encode.
    serde_json::to_string(frame).expect("client frames encode")
}

/// An error code as the wire spells it.
fn code_text<T: serde::Serialize>(code: &T) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

pub use super::peer_wire::{RawWsWire, SocketIoWire};
