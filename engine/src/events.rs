//! Domain events: every change to a session is one of these, named `noun.verb`.
//!
//! The log stores an event as its kind and its data; [`EventBody`] is the typed form.
//! Events never change once stored, so a field may be added (with a default) but never
//! renamed or removed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vitrine_persistence::model::{NewEvent, ParticipantId, StoredEvent, UserId, VariantId};

use crate::commerce::{CartView, OrderView, ProductCard};
use crate::identity::Role;

/// A participant as introduced by `session.requested` or `participant.joined`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantInfo {
    /// Participant id.
    pub participant_id: ParticipantId,
    /// Role in the session.
    pub role: Role,
    /// Display name.
    pub name: String,
    /// The staff user behind a shopper or observer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
}

/// What a participant agreed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// The privacy notice (required of customers before the call).
    Privacy,
    /// Being recorded.
    Recording,
}

/// The typed payload of each event kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data")]
pub enum EventBody {
    /// A customer asked for a session.
    #[serde(rename = "session.requested")]
    SessionRequested {
        /// The customer.
        customer: ParticipantInfo,
        /// The customer's cart when the session was created.
        cart: CartView,
        /// Where the request came from (product page, collection).
        #[serde(default)]
        context: serde_json::Value,
    },
    /// A shopper took the session.
    #[serde(rename = "session.matched")]
    SessionMatched {
        /// The shopper's user id.
        shopper_id: UserId,
    },
    /// The session was booked for a later time.
    #[serde(rename = "session.scheduled")]
    SessionScheduled {
        /// When it is to start.
        scheduled_for: DateTime<Utc>,
    },
    /// The call went live.
    #[serde(rename = "session.started")]
    SessionStarted {},
    /// A participant connected (for the first time, or again after leaving).
    #[serde(rename = "participant.joined")]
    ParticipantJoined {
        /// Who.
        participant: ParticipantInfo,
    },
    /// A participant's last connection closed.
    #[serde(rename = "participant.left")]
    ParticipantLeft {
        /// Who.
        participant_id: ParticipantId,
    },
    /// The shopper searched the catalog (staff only).
    #[serde(rename = "product.searched")]
    ProductSearched {
        /// Search text.
        query: String,
        /// Collection filter.
        #[serde(default)]
        collection: Option<String>,
        /// Number of results.
        results: u32,
    },
    /// The shopper pushed a product card.
    #[serde(rename = "product.shared")]
    ProductShared {
        /// The card as it was at push time.
        card: ProductCard,
        /// The shopper's note.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The customer's cart changed.
    #[serde(rename = "cart.updated")]
    CartUpdated {
        /// The cart as the commerce platform answered.
        cart: CartView,
        /// The variant whose line changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variant_id: Option<VariantId>,
    },
    /// A checkout created an order.
    #[serde(rename = "order.created")]
    OrderCreated {
        /// The order.
        order: OrderView,
        /// The customer's new, empty cart.
        cart: CartView,
    },
    /// Someone wrote in the chat.
    #[serde(rename = "chat.message")]
    ChatMessage {
        /// The text, 1 to 4000 characters.
        text: String,
    },
    /// A participant gave consent.
    #[serde(rename = "consent.recorded")]
    ConsentRecorded {
        /// To what.
        consent: ConsentKind,
    },
    /// The shopper ended the call.
    #[serde(rename = "session.ended")]
    SessionEnded {
        /// Why, if said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The session was called off before it went live.
    #[serde(rename = "session.cancelled")]
    SessionCancelled {
        /// Why, if said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A participant started sending a track (camera, microphone or screen).
    #[serde(rename = "media.producer_added")]
    MediaProducerAdded {
        /// The producer, to consume it with `media.consume`.
        producer_id: String,
        /// Who sends it.
        participant_id: ParticipantId,
        /// `audio` or `video`.
        kind: String,
        /// `camera`, `microphone`, `screen` or `screen_audio`.
        source: String,
    },
    /// A track stopped: closed by its sender, or its sender left.
    #[serde(rename = "media.producer_removed")]
    MediaProducerRemoved {
        /// The producer.
        producer_id: String,
        /// Who sent it.
        participant_id: ParticipantId,
        /// `closed` or `left`.
        reason: String,
    },
    /// The customer answered the satisfaction survey.
    #[serde(rename = "survey.completed")]
    SurveyCompleted {
        /// Net promoter score, 0 to 10.
        score: u8,
        /// Free comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
}

impl EventBody {
    /// The `noun.verb` kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SessionRequested { .. } => "session.requested",
            Self::SessionMatched { .. } => "session.matched",
            Self::SessionScheduled { .. } => "session.scheduled",
            Self::SessionStarted {} => "session.started",
            Self::ParticipantJoined { .. } => "participant.joined",
            Self::ParticipantLeft { .. } => "participant.left",
            Self::ProductSearched { .. } => "product.searched",
            Self::ProductShared { .. } => "product.shared",
            Self::CartUpdated { .. } => "cart.updated",
            Self::OrderCreated { .. } => "order.created",
            Self::ChatMessage { .. } => "chat.message",
            Self::ConsentRecorded { .. } => "consent.recorded",
            Self::SessionEnded { .. } => "session.ended",
            Self::SessionCancelled { .. } => "session.cancelled",
            Self::MediaProducerAdded { .. } => "media.producer_added",
            Self::MediaProducerRemoved { .. } => "media.producer_removed",
            Self::SurveyCompleted { .. } => "survey.completed",
        }
    }

    /// Whether only staff may see events of `kind`.
    pub fn is_staff_only_kind(kind: &str) -> bool {
        kind == "product.searched" || kind.starts_with("notification.")
    }

    /// The payload alone, as stored.
    pub fn data(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.remove("data").unwrap_or(serde_json::Value::Null)
            }
            _ => serde_json::Value::Null,
        }
    }

    /// Rebuilds the typed body from a stored kind and data.
    pub fn from_parts(kind: &str, data: &serde_json::Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "data": data }))
    }
}

/// An event with its place in the session.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionEvent {
    /// Position in the session.
    pub seq: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Acting participant.
    pub by: Option<ParticipantId>,
    /// What happened.
    pub body: EventBody,
}

impl SessionEvent {
    /// The stored form, without its seq.
    pub fn to_new_event(&self) -> NewEvent {
        NewEvent {
            kind: self.body.kind().to_owned(),
            at: self.at,
            by: self.by.clone(),
            data: self.body.data(),
        }
    }

    /// Reads a stored event back.
    pub fn from_stored(e: &StoredEvent) -> Result<Self, serde_json::Error> {
        Ok(Self {
            seq: e.seq,
            at: e.at,
            by: e.by.clone(),
            body: EventBody::from_parts(&e.kind, &e.data)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_through_their_stored_parts() {
        let body = EventBody::ChatMessage {
            text: "¿Tienes talla M? 👗".into(),
        };
        let back = EventBody::from_parts(body.kind(), &body.data()).unwrap();
        assert_eq!(back, body);
        assert_eq!(
            body.data(),
            serde_json::json!({"text": "¿Tienes talla M? 👗"})
        );
    }

    #[test]
    fn unit_like_bodies_store_an_empty_object() {
        let body = EventBody::SessionStarted {};
        assert_eq!(body.data(), serde_json::json!({}));
        assert_eq!(
            EventBody::from_parts("session.started", &body.data()).unwrap(),
            body
        );
    }

    #[test]
    fn only_searches_and_notifications_are_staff_only() {
        assert!(EventBody::is_staff_only_kind("product.searched"));
        assert!(EventBody::is_staff_only_kind("notification.sent"));
        assert!(!EventBody::is_staff_only_kind("product.shared"));
    }
}
