//! A session's state, built only by applying its events in order.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vitrine_persistence::model::{CustomerId, ParticipantId, SessionId, TenantId, UserId};

use crate::commerce::{CartView, OrderView, ProductCard};
use crate::events::{ConsentKind, EventBody, ParticipantInfo, SessionEvent};

/// Where a session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Waiting for a shopper.
    Requested,
    /// A shopper took it.
    Matched,
    /// Booked for later.
    Scheduled,
    /// The call is on.
    Live,
    /// The call is over.
    Ended,
    /// Called off before it went live.
    Cancelled,
}

impl SessionStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Matched => "matched",
            Self::Scheduled => "scheduled",
            Self::Live => "live",
            Self::Ended => "ended",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "requested" => Self::Requested,
            "matched" => Self::Matched,
            "scheduled" => Self::Scheduled,
            "live" => Self::Live,
            "ended" => Self::Ended,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// Ended or cancelled: nothing but the survey changes it any more.
    pub fn is_over(self) -> bool {
        matches!(self, Self::Ended | Self::Cancelled)
    }
}

/// A card in the session's shared list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedCard {
    /// Seq of the `product.shared` event.
    pub seq: u64,
    /// Who pushed it.
    pub by: Option<ParticipantId>,
    /// The card.
    #[serde(flatten)]
    pub card: ProductCard,
    /// The shopper's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One chat line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatLine {
    /// Seq of the `chat.message` event.
    pub seq: u64,
    /// Who wrote it.
    pub by: Option<ParticipantId>,
    /// What they wrote.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The customer's answer to the survey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyAnswer {
    /// Who answered.
    pub by: Option<ParticipantId>,
    /// 0 to 10.
    pub score: u8,
    /// Free comment.
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Everything a session is, as of `seq`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Session id.
    pub session_id: SessionId,
    /// Seq of the last applied event.
    pub seq: u64,
    /// Lifecycle status.
    pub status: SessionStatus,
    /// Assigned shopper.
    pub shopper_id: Option<UserId>,
    /// The customer behind the session.
    pub customer_id: CustomerId,
    /// Everyone who ever joined, in order of first appearance.
    pub participants: Vec<ParticipantInfo>,
    /// Shared product cards, oldest first.
    pub cards: Vec<SharedCard>,
    /// Mirror of the customer's cart.
    pub cart: CartView,
    /// Orders placed in the session.
    pub orders: Vec<OrderView>,
    /// Chat, oldest first.
    pub chat: Vec<ChatLine>,
    /// Consents per participant.
    pub consents: BTreeMap<ParticipantId, BTreeSet<ConsentKind>>,
    /// Survey answer.
    pub survey: Option<SurveyAnswer>,
    /// Where the request came from.
    pub context: serde_json::Value,
    /// When the session was requested.
    pub created_at: DateTime<Utc>,
    /// Booked start time.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// When it went live.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended or was cancelled.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

/// An event that cannot follow the state it was applied to.
#[derive(Debug, thiserror::Error)]
#[error("event {seq} ({kind}) cannot follow seq {current}")]
pub struct ApplyError {
    /// Seq of the refused event.
    pub seq: u64,
    /// Its kind.
    pub kind: &'static str,
    /// Seq of the state.
    pub current: u64,
}

impl SessionState {
    /// The state after the first event, which must be `session.requested`.
    pub fn from_first(
        tenant_id: TenantId,
        session_id: SessionId,
        customer_id: CustomerId,
        first: &SessionEvent,
    ) -> Option<Self> {
        let EventBody::SessionRequested {
            customer,
            cart,
            context,
        } = &first.body
        else {
            return None;
        };
        Some(Self {
            tenant_id,
            session_id,
            seq: first.seq,
            status: SessionStatus::Requested,
            shopper_id: None,
            customer_id,
            participants: vec![customer.clone()],
            cards: Vec::new(),
            cart: cart.clone(),
            orders: Vec::new(),
            chat: Vec::new(),
            consents: BTreeMap::new(),
            survey: None,
            context: context.clone(),
            created_at: first.at,
            scheduled_for: None,
            started_at: None,
            ended_at: None,
            end_reason: None,
        })
    }

    /// Applies the next event. Events must come in seq order without gaps.
    pub fn apply(&mut self, e: &SessionEvent) -> Result<(), ApplyError> {
        if e.seq != self.seq + 1 {
            return Err(ApplyError {
                seq: e.seq,
                kind: e.body.kind(),
                current: self.seq,
            });
        }
        self.seq = e.seq;
        match &e.body {
            EventBody::SessionRequested { .. } => {}
            EventBody::SessionMatched { shopper_id } => {
                self.shopper_id = Some(shopper_id.clone());
                if self.status == SessionStatus::Requested {
                    self.status = SessionStatus::Matched;
                }
            }
            EventBody::SessionScheduled { scheduled_for } => {
                self.scheduled_for = Some(*scheduled_for);
                self.status = SessionStatus::Scheduled;
            }
            EventBody::SessionStarted {} => {
                self.status = SessionStatus::Live;
                self.started_at = Some(e.at);
            }
            EventBody::ParticipantJoined { participant } => {
                match self
                    .participants
                    .iter_mut()
                    .find(|p| p.participant_id == participant.participant_id)
                {
                    Some(known) => *known = participant.clone(),
                    None => self.participants.push(participant.clone()),
                }
            }
            EventBody::ParticipantLeft { .. } => {}
            EventBody::ProductSearched { .. } => {}
            EventBody::ProductShared { card, note } => self.cards.push(SharedCard {
                seq: e.seq,
                by: e.by.clone(),
                card: card.clone(),
                note: note.clone(),
            }),
            EventBody::CartUpdated { cart, .. } => self.cart = cart.clone(),
            EventBody::OrderCreated { order, cart } => {
                self.orders.push(order.clone());
                self.cart = cart.clone();
            }
            EventBody::ChatMessage { text } => self.chat.push(ChatLine {
                seq: e.seq,
                by: e.by.clone(),
                text: text.clone(),
                at: e.at,
            }),
            EventBody::ConsentRecorded { consent } => {
                if let Some(by) = &e.by {
                    self.consents
                        .entry(by.clone())
                        .or_default()
                        .insert(*consent);
                }
            }
            EventBody::SessionEnded { reason } => {
                self.status = SessionStatus::Ended;
                self.ended_at = Some(e.at);
                self.end_reason = reason.clone();
            }
            EventBody::SessionCancelled { reason } => {
                self.status = SessionStatus::Cancelled;
                self.ended_at = Some(e.at);
                self.end_reason = reason.clone();
            }
            // Tracks live in the media router, which does not outlive the actor: a
            // rebuilt session has none, and clients produce again when they reconnect.
            EventBody::MediaProducerAdded { .. } | EventBody::MediaProducerRemoved { .. } => {}
            EventBody::SurveyCompleted { score, comment } => {
                self.survey = Some(SurveyAnswer {
                    by: e.by.clone(),
                    score: *score,
                    comment: comment.clone(),
                    at: e.at,
                })
            }
        }
        Ok(())
    }

    /// The participant with this id.
    pub fn participant(&self, id: &ParticipantId) -> Option<&ParticipantInfo> {
        self.participants.iter().find(|p| &p.participant_id == id)
    }

    /// The wire view, with `connected` telling who is online now.
    pub fn view(&self, connected: &dyn Fn(&ParticipantId) -> bool) -> SessionView {
        SessionView {
            session_id: self.session_id.clone(),
            tenant_id: self.tenant_id.clone(),
            status: self.status,
            seq: self.seq,
            shopper_id: self.shopper_id.clone(),
            participants: self
                .participants
                .iter()
                .map(|p| ParticipantView {
                    participant_id: p.participant_id.clone(),
                    role: p.role,
                    name: p.name.clone(),
                    connected: connected(&p.participant_id),
                })
                .collect(),
            cards: self.cards.clone(),
            cart: self.cart.clone(),
            order: self.orders.last().cloned(),
            orders: self.orders.clone(),
            chat: self.chat.clone(),
            consents: self.consents.clone(),
            survey: self.survey.clone(),
            created_at: self.created_at,
            scheduled_for: self.scheduled_for,
            started_at: self.started_at,
            ended_at: self.ended_at,
        }
    }
}

/// A participant on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantView {
    /// Participant id.
    pub participant_id: ParticipantId,
    /// Role.
    pub role: crate::identity::Role,
    /// Display name.
    pub name: String,
    /// Whether they are connected now.
    pub connected: bool,
}

/// The session state as the wire carries it (`welcome.session`, `GET /v1/sessions/{id}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    /// Session id.
    pub session_id: SessionId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Status.
    pub status: SessionStatus,
    /// Seq of the last event.
    pub seq: u64,
    /// Assigned shopper.
    pub shopper_id: Option<UserId>,
    /// Participants.
    pub participants: Vec<ParticipantView>,
    /// Shared cards.
    pub cards: Vec<SharedCard>,
    /// The customer's cart.
    pub cart: CartView,
    /// The latest order, if any.
    pub order: Option<OrderView>,
    /// Every order of the session.
    pub orders: Vec<OrderView>,
    /// Chat.
    pub chat: Vec<ChatLine>,
    /// Consents per participant.
    pub consents: BTreeMap<ParticipantId, BTreeSet<ConsentKind>>,
    /// Survey answer.
    pub survey: Option<SurveyAnswer>,
    /// When requested.
    pub created_at: DateTime<Utc>,
    /// Booked start.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// When it went live.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
}
