//! Messages the session actor answers.

use actix::Message;
use serde::{Deserialize, Serialize};
use vitrine_persistence::model::ParticipantId;

use super::commands::{Caller, Command, CommandReply};
use super::outbound::Outbound;
use super::state::SessionView;
use crate::identity::Role;

/// Identifies one connection within the process.
pub type ConnectionId = u64;

/// Attaches a connection to the session. The session queues `welcome` (and, when resuming,
/// the missed events) on the connection's outbound queue before any live event.
#[derive(Clone, Message)]
#[rtype(result = "Result<Joined, JoinError>")]
pub struct Join {
    /// The connection.
    pub conn_id: ConnectionId,
    /// Who is on it.
    pub caller: Caller,
    /// Where the session sends frames for it.
    pub outbound: Outbound,
    /// The last seq the client saw, if it is resuming.
    pub resume_after: Option<u64>,
}

/// A connection was attached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    /// The participant.
    pub participant_id: ParticipantId,
    /// Their role.
    pub role: Role,
    /// The seq the welcome snapshot stands for.
    pub seq: u64,
}

/// Why a connection could not be attached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinError {
    /// The store could not be reached to load the session.
    #[error("session unavailable")]
    Unavailable,
    /// The session does not exist (any more).
    #[error("no such session")]
    NotFound,
    /// The session is too busy to take another participant.
    #[error("session is overloaded")]
    Overloaded,
    /// The participant has as many connections open as allowed.
    #[error("too many connections for one participant")]
    TooManyConnections,
}

/// Runs one command of a participant.
#[derive(Clone, Message)]
#[rtype(result = "CommandReply")]
pub struct Execute {
    /// Who sent it.
    pub caller: Caller,
    /// The client's command id, for idempotent retries.
    pub command_id: String,
    /// The command.
    pub command: Command,
    /// The span the command is traced under (its outcome is recorded on it).
    pub span: tracing::Span,
}

/// Runs one command and answers on `reply`. Sent with `do_send`, it is in the session's
/// mailbox as soon as sending returns, whatever the mailbox holds already, so commands
/// handed over one after another are run in that order. `reply` is dropped unanswered
/// only if the session stops first.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Submit {
    /// The command.
    pub exec: Execute,
    /// Where its reply goes.
    pub reply: tokio::sync::oneshot::Sender<CommandReply>,
}

/// Detaches a connection.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    /// The connection.
    pub conn_id: ConnectionId,
}

/// Reads the session's current state.
#[derive(Message)]
#[rtype(result = "Result<SessionView, JoinError>")]
pub struct GetView;

/// Resolves once every piece of work the session accepted so far is settled (stored and
/// answered, or refused); used when a node stops.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Drain;

/// Seats a connection of another node: the session counts it as connected and publishes
/// its events for that node, which delivers them. Answers the `welcome` frame.
#[derive(Message)]
#[rtype(result = "Result<(Joined, std::sync::Arc<str>), JoinError>")]
pub struct RemoteJoin {
    /// The node the connection is on.
    pub node: String,
    /// The connection, numbered by that node.
    pub conn: ConnectionId,
    /// Who is on it.
    pub caller: Caller,
}

/// A connection of another node closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoteLeave {
    /// The node the connection was on.
    pub node: String,
    /// The connection, numbered by that node.
    pub conn: ConnectionId,
}

/// A node died: its connections are gone.
#[derive(Message)]
#[rtype(result = "()")]
pub struct NodeGone {
    /// The node.
    pub node: String,
}

/// This node lost the session's lease: stop serving it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StepDown;
