//! The shape of the session state (`GET /v1/sessions/{id}`, and `welcome.session` on the
//! WebSocket) for the OpenAPI document. The engine's `SessionView` is what is sent; these
//! types only describe it, and the end-to-end tests compare them with real answers.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use utoipa::ToSchema;

use crate::openapi::{Card, Cart, ConsentKindName, Order, RoleName, SessionStatusName};

/// A session's current state, live or ended.
#[derive(ToSchema)]
#[schema(as = SessionState)]
pub struct SessionStateShape {
    /// Session id.
    pub session_id: String,
    /// The owning tenant.
    pub tenant_id: String,
    /// Where the session is in its life.
    pub status: SessionStatusName,
    /// Seq of the last event the state includes.
    pub seq: u64,
    /// The assigned staff user, or `null`.
    #[schema(required = true)]
    pub shopper_id: Option<String>,
    /// The customer and everyone who has joined, in order of first appearance.
    pub participants: Vec<ParticipantShape>,
    /// Shared cards, oldest first: each card's fields plus `seq` and `by` of its
    /// `product.shared` event and the shopper's `note`, if any.
    pub cards: Vec<Card>,
    /// The customer's cart as commerce last answered.
    pub cart: Cart,
    /// The latest order, or `null`.
    #[schema(required = true)]
    pub order: Option<Order>,
    /// Every order of the session.
    pub orders: Vec<Order>,
    /// The chat, oldest first.
    pub chat: Vec<ChatLineShape>,
    /// Participant id to the consents they gave.
    pub consents: BTreeMap<String, Vec<ConsentKindName>>,
    /// The customer's survey answer, or `null`.
    #[schema(required = true)]
    pub survey: Option<SurveyShape>,
    /// When the session was requested.
    pub created_at: DateTime<Utc>,
    /// The booked start, or `null`.
    #[schema(required = true)]
    pub scheduled_for: Option<DateTime<Utc>>,
    /// When the call went live, or `null`.
    #[schema(required = true)]
    pub started_at: Option<DateTime<Utc>>,
    /// When the session ended or was cancelled, or `null`.
    #[schema(required = true)]
    pub ended_at: Option<DateTime<Utc>>,
}

/// A participant of a session.
#[derive(ToSchema)]
#[schema(as = Participant)]
pub struct ParticipantShape {
    /// Participant id.
    pub participant_id: String,
    /// Their role.
    pub role: RoleName,
    /// Display name.
    pub name: String,
    /// Whether they have a connection open on this node now.
    pub connected: bool,
}

/// One chat message.
#[derive(ToSchema)]
#[schema(as = ChatLine)]
pub struct ChatLineShape {
    /// Seq of the `chat.message` event.
    pub seq: u64,
    /// Who wrote it, or `null`.
    #[schema(required = true)]
    pub by: Option<String>,
    /// What they wrote.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The customer's answer to the survey.
#[derive(ToSchema)]
#[schema(as = Survey)]
pub struct SurveyShape {
    /// Who answered, or `null`.
    #[schema(required = true)]
    pub by: Option<String>,
    /// 0 to 10.
    #[schema(minimum = 0, maximum = 10)]
    pub score: u8,
    /// A free comment, or `null`.
    #[schema(required = true)]
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}
