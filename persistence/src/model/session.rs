//! Session records: the projection row, the event log, snapshots and command results.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::commerce::Customer;
use super::ids::{CustomerId, ParticipantId, SessionId, TenantId, UserId};

/// The stored summary of one session, kept in step with its event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Session id.
    pub id: SessionId,
    /// `requested`, `matched`, `scheduled`, `live`, `ended` or `cancelled`.
    pub status: String,
    /// Assigned shopper, once matched.
    pub shopper_id: Option<UserId>,
    /// The customer the session was created for.
    pub customer_id: CustomerId,
    /// The customer's participant id in this session.
    pub customer_participant_id: ParticipantId,
    /// Seq of the last event.
    pub seq: u64,
    /// Fencing epoch of the current owner.
    pub owner_epoch: u64,
    /// When the session was created.
    pub created_at: DateTime<Utc>,
    /// When it went live.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended or was cancelled.
    pub ended_at: Option<DateTime<Utc>>,
}

/// A session to create, with the customer it is for and its first event.
#[derive(Clone, Debug)]
pub struct NewSession {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// New session id.
    pub id: SessionId,
    /// Initial status.
    pub status: String,
    /// Assigned shopper, when a shopper creates the session.
    pub shopper_id: Option<UserId>,
    /// The customer; created if the id is new.
    pub customer: Customer,
    /// The customer's participant id.
    pub customer_participant_id: ParticipantId,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The session's first events (seq 1, 2, …); the first is `session.requested`. A session
    /// created already matched or scheduled says so in the events after it, stored in the
    /// same transaction.
    pub events: Vec<NewEvent>,
}

/// An event to append.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// `noun.verb` event kind.
    pub kind: String,
    /// When it happened (UTC).
    pub at: DateTime<Utc>,
    /// Acting participant, if any.
    pub by: Option<ParticipantId>,
    /// Kind-specific payload.
    pub data: serde_json::Value,
}

/// An event read back from the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Position in the session, from 1 with no gaps.
    pub seq: u64,
    /// `noun.verb` event kind.
    pub kind: String,
    /// When it happened (UTC).
    pub at: DateTime<Utc>,
    /// Acting participant, if any.
    pub by: Option<ParticipantId>,
    /// Kind-specific payload.
    pub data: serde_json::Value,
}

/// Changes to the projection row that travel with an append.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionPatch {
    /// New status.
    pub status: Option<String>,
    /// Newly assigned shopper.
    pub shopper_id: Option<UserId>,
    /// Time the session went live.
    pub started_at: Option<DateTime<Utc>>,
    /// Time the session ended.
    pub ended_at: Option<DateTime<Utc>>,
}

/// The result of a command, kept so that a retried command gets its original reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// Who sent the command.
    pub participant_id: ParticipantId,
    /// The client-chosen command id.
    pub command_id: String,
    /// The reply as sent.
    pub reply: serde_json::Value,
    /// When the command was applied.
    pub at: DateTime<Utc>,
}

/// Events of one session to append atomically, after `expected_seq`.
#[derive(Clone, Debug)]
pub struct AppendBatch {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Session the events belong to.
    pub session_id: SessionId,
    /// Seq of the last stored event; the first new event gets `expected_seq + 1`.
    pub expected_seq: u64,
    /// The writer's fencing epoch; older than the stored one means rejected.
    pub epoch: u64,
    /// Events in order.
    pub events: Vec<NewEvent>,
    /// Projection changes implied by the events.
    pub patch: SessionPatch,
    /// The commands that produced the events, for idempotent retries.
    pub commands: Vec<CommandRecord>,
}

/// A saved image of a session's state at a seq.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Seq the state includes.
    pub seq: u64,
    /// Engine-defined state.
    pub state: serde_json::Value,
}

/// A session list filter.
#[derive(Clone, Debug, Default)]
pub struct SessionFilter {
    /// Only sessions with this status.
    pub status: Option<String>,
    /// Only sessions assigned to this shopper.
    pub shopper_id: Option<UserId>,
    /// Matches the session id or the customer name (case-insensitive substring).
    pub query: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Page size.
    pub limit: u32,
    /// Continue after this `(created_at, id)` position, newest first.
    pub before: Option<(DateTime<Utc>, SessionId)>,
}

/// One row of a session list, joined with the customer name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The projection row.
    #[serde(flatten)]
    pub row: SessionRow,
    /// The customer's display name.
    pub customer_name: String,
}
