//! The commands a participant can send, their replies, and the rules that turn a command
//! into events.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{json, Value};
use vitrine_persistence::model::{ParticipantId, ProductId, UserId, VariantId};

use crate::commerce::{CatalogQuery, Commerce, CommerceError, QuantityChange};
use crate::events::{ConsentKind, EventBody};
use crate::identity::Role;

use super::state::{SessionState, SessionStatus};

/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 4000;
/// Longest card note, end reason or search query, in characters.
pub const MAX_SHORT_TEXT_CHARS: usize = 500;
/// Longest survey comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// Default number of search results.
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;

/// A command from a participant. (Its serde form travels between nodes only; the wire
/// form is the gateway's.)
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Go live.
    StartSession,
    /// End the call (or cancel it, if it never went live).
    EndSession {
        /// Why.
        reason: Option<String>,
    },
    /// Search the catalog.
    SearchCatalog {
        /// Search text.
        query: String,
        /// Collection filter.
        collection: Option<String>,
        /// Most results.
        limit: Option<u32>,
    },
    /// Push a product card to everyone.
    PushCard {
        /// The product.
        product_id: ProductId,
        /// A variant to highlight.
        variant_id: Option<VariantId>,
        /// A note shown with the card.
        note: Option<String>,
    },
    /// Add units of a variant to the customer's cart.
    AddToCart {
        /// The variant.
        variant_id: VariantId,
        /// Units to add.
        quantity: i64,
    },
    /// Set a cart line's quantity; zero removes it.
    SetCartQuantity {
        /// The variant.
        variant_id: VariantId,
        /// New quantity.
        quantity: i64,
    },
    /// Check the customer's cart out.
    Checkout,
    /// Write in the chat.
    SendChat {
        /// Text, 1 to 4000 characters.
        text: String,
    },
    /// Give consent.
    GiveConsent {
        /// To what.
        kind: ConsentKind,
    },
    /// Answer the survey.
    SubmitSurvey {
        /// 0 to 10.
        score: u8,
        /// Free comment.
        comment: Option<String>,
    },
    /// Check the connection; changes nothing.
    Ping,
    /// A `media.*` command, run by the session's media.
    Media(Box<super::media::MediaCommand>),
}

impl Command {
    /// The wire name of the command.
    pub fn name(&self) -> &'static str {
        match self {
            Self::StartSession => "session.start",
            Self::EndSession { .. } => "session.end",
            Self::SearchCatalog { .. } => "catalog.search",
            Self::PushCard { .. } => "card.push",
            Self::AddToCart { .. } => "cart.add",
            Self::SetCartQuantity { .. } => "cart.set_quantity",
            Self::Checkout => "checkout",
            Self::SendChat { .. } => "chat.send",
            Self::GiveConsent { .. } => "consent.give",
            Self::SubmitSurvey { .. } => "survey.submit",
            Self::Ping => "ping",
            Self::Media(media) => media.name(),
        }
    }
}

/// Error codes of the wire contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Bad or missing token.
    Unauthorized,
    /// Not allowed for this role.
    Forbidden,
    /// No such object (or not visible to the caller).
    NotFound,
    /// Malformed or out-of-range input.
    Invalid,
    /// Not enough stock.
    OutOfStock,
    /// Not possible in the current state.
    Conflict,
    /// Too many commands.
    RateLimited,
    /// Too large.
    TooLarge,
    /// The session is over.
    SessionEnded,
    /// A dependency is down; retry later.
    Unavailable,
    /// A fault of ours.
    Internal,
}

impl ErrorCode {
    /// The code as it is spelled on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Invalid => "invalid",
            Self::OutOfStock => "out_of_stock",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate_limited",
            Self::TooLarge => "too_large",
            Self::SessionEnded => "session_ended",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

/// A failed command's code and message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CommandError {
    /// Stable code.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

impl CommandError {
    /// An error with `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }
}

impl From<CommerceError> for CommandError {
    fn from(e: CommerceError) -> Self {
        let code = match &e {
            CommerceError::OutOfStock(_) => ErrorCode::OutOfStock,
            CommerceError::NotFound(_) => ErrorCode::NotFound,
            CommerceError::Invalid(_) => ErrorCode::Invalid,
            CommerceError::Conflict(_) => ErrorCode::Conflict,
            CommerceError::Unavailable(_) => ErrorCode::Unavailable,
            CommerceError::Internal(_) => ErrorCode::Internal,
        };
        // Failures of ours are logged here, where they become a reply; the client only
        // learns that it may retry.
        let message = match code {
            ErrorCode::Internal => {
                tracing::error!(error = %e, "commerce call failed");
                "internal error".to_owned()
            }
            ErrorCode::Unavailable => {
                tracing::warn!(error = %e, "commerce unavailable");
                "commerce is unavailable; try again".to_owned()
            }
            _ => e.to_string(),
        };
        Self { code, message }
    }
}

/// The answer to a command.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct CommandReply {
    /// Whether it took effect.
    pub ok: bool,
    /// Seq of the event it produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Result data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CommandError>,
}

impl CommandReply {
    /// How the command ended, for spans and metrics: `ok` or its error code.
    pub fn outcome(&self) -> &'static str {
        self.error.as_ref().map_or("ok", |e| e.code.as_str())
    }
}

impl CommandReply {
    /// A success.
    pub fn ok(seq: Option<u64>, data: Value) -> Self {
        Self {
            ok: true,
            seq,
            data: Some(data),
            error: None,
        }
    }

    /// A failure.
    pub fn failed(error: CommandError) -> Self {
        Self {
            ok: false,
            seq: None,
            data: None,
            error: Some(error),
        }
    }
}

/// Who sent a command, as established when their connection joined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Caller {
    /// Participant id.
    pub participant_id: ParticipantId,
    /// Role in the session.
    pub role: Role,
    /// Display name.
    pub name: String,
    /// The staff user behind a shopper or observer.
    pub user_id: Option<UserId>,
    /// Collections the shopper specialises in.
    pub collections: Arc<[String]>,
}

/// What a command comes to.
pub(crate) enum Plan {
    /// Nothing to store: reply now.
    Reply(CommandReply),
    /// Store these events, then reply with `data`.
    Events(Vec<EventBody>, Value),
    /// Ask commerce first.
    Async(BoxFuture<'static, Result<(Vec<EventBody>, Value), CommandError>>),
}

fn refuse(code: ErrorCode, message: &str) -> Plan {
    Plan::Reply(CommandReply::failed(CommandError::new(code, message)))
}

fn too_long(text: &str, max: usize) -> bool {
    text.chars().count() > max
}

/// Decides what `command` from `caller` does to `state`.
pub(crate) fn plan(
    state: &SessionState,
    caller: &Caller,
    command: Command,
    commerce: &Arc<dyn Commerce>,
    idempotency_key: String,
) -> Plan {
    use Command::*;

    // Who may send what.
    let allowed = match &command {
        StartSession | EndSession { .. } | SearchCatalog { .. } | PushCard { .. } => {
            caller.role == Role::Shopper
        }
        AddToCart { .. } | SetCartQuantity { .. } => {
            matches!(caller.role, Role::Shopper | Role::Customer)
        }
        Checkout | SubmitSurvey { .. } => caller.role == Role::Customer,
        SendChat { .. } | GiveConsent { .. } | Ping => true,
        // Run by the session's media, before this plan (see `session::media`).
        Media(_) => false,
    };
    if !allowed {
        let message = format!("{} may not send {}", caller.role.as_str(), command.name());
        return Plan::Reply(CommandReply::failed(CommandError::new(
            ErrorCode::Forbidden,
            message,
        )));
    }

    // What the session's status allows.
    let status = state.status;
    match &command {
        Ping => {}
        SubmitSurvey { .. } if status == SessionStatus::Ended => {}
        _ if status.is_over() => return refuse(ErrorCode::SessionEnded, "the session is over"),
        PushCard { .. } | AddToCart { .. } | SetCartQuantity { .. } | Checkout
            if status != SessionStatus::Live =>
        {
            return refuse(ErrorCode::Conflict, "the session is not live");
        }
        _ => {}
    }

    match command {
        StartSession => {
            if status == SessionStatus::Live {
                return refuse(ErrorCode::Conflict, "the session is already live");
            }
            let mut events = Vec::new();
            if state.shopper_id.is_none() {
                if let Some(user) = &caller.user_id {
                    events.push(EventBody::SessionMatched {
                        shopper_id: user.clone(),
                    });
                }
            }
            events.push(EventBody::SessionStarted {});
            Plan::Events(events, json!({ "status": "live" }))
        }
        EndSession { reason } => {
            if reason
                .as_deref()
                .is_some_and(|r| too_long(r, MAX_SHORT_TEXT_CHARS))
            {
                return Plan::Reply(CommandReply::failed(CommandError::invalid(
                    "reason is longer than 500 characters",
                )));
            }
            if status == SessionStatus::Live {
                Plan::Events(
                    vec![EventBody::SessionEnded { reason }],
                    json!({ "status": "ended" }),
                )
            } else {
                Plan::Events(
                    vec![EventBody::SessionCancelled { reason }],
                    json!({ "status": "cancelled" }),
                )
            }
        }
        SearchCatalog {
            query,
            collection,
            limit,
        } => {
            if too_long(&query, MAX_SHORT_TEXT_CHARS) {
                return Plan::Reply(CommandReply::failed(CommandError::invalid(
                    "query is longer than 500 characters",
                )));
            }
            let limit = limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
            if !(1..=crate::commerce::builtin::MAX_SEARCH_RESULTS).contains(&limit) {
                return Plan::Reply(CommandReply::failed(CommandError::invalid(
                    "limit must be between 1 and 50",
                )));
            }
            let commerce = Arc::clone(commerce);
            let tenant = state.tenant_id.clone();
            let preferred = Arc::clone(&caller.collections);
            Plan::Async(Box::pin(async move {
                let q = CatalogQuery {
                    text: query.clone(),
                    collection: collection.clone(),
                    limit,
                };
                let cards = commerce.search(&tenant, &q, &preferred).await?;
                let results = u32::try_from(cards.len()).unwrap_or(u32::MAX);
                Ok((
                    vec![EventBody::ProductSearched {
                        query,
                        collection,
                        results,
                    }],
                    json!({ "products": cards }),
                ))
            }))
        }
        PushCard {
            product_id,
            variant_id,
            note,
        } => {
            if note
                .as_deref()
                .is_some_and(|n| too_long(n, MAX_SHORT_TEXT_CHARS))
            {
                return Plan::Reply(CommandReply::failed(CommandError::invalid(
                    "note is longer than 500 characters",
                )));
            }
            let commerce = Arc::clone(commerce);
            let tenant = state.tenant_id.clone();
            Plan::Async(Box::pin(async move {
                let card = commerce
                    .card(&tenant, &product_id, variant_id.as_ref())
                    .await?;
                let data = json!({ "card": card });
                Ok((vec![EventBody::ProductShared { card, note }], data))
            }))
        }
        AddToCart {
            variant_id,
            quantity,
        } => {
            if !(1..=crate::commerce::builtin::MAX_LINE_QUANTITY).contains(&quantity) {
                return Plan::Reply(CommandReply::failed(CommandError::invalid(
                    "quantity must be between 1 and 999",
                )));
            }
            cart_change(
                state,
                commerce,
                variant_id,
                QuantityChange::Add(quantity),
                idempotency_key,
            )
        }
        SetCartQuantity {
            variant_id,
            quantity,
        } => {
            if !(0..=crate::commerce::builtin::MAX_LINE_QUANTITY).contains(&quantity) {
                return Plan::Reply(CommandReply::failed(CommandError::invalid(
                    "quantity must be between 0 and 999",
                )));
            }
            cart_change(
                state,
                commerce,
                variant_id,
                QuantityChange::Set(quantity),
                idempotency_key,
            )
        }
        Checkout => {
            let commerce = Arc::clone(commerce);
            let tenant = state.tenant_id.clone();
            let cart = state.cart.cart_id.clone();
            let session = state.session_id.clone();
            Plan::Async(Box::pin(async move {
                let done = commerce.checkout(&tenant, &cart, Some(&session)).await?;
                let data = json!({ "order": done.order, "cart": done.cart });
                Ok((
                    vec![EventBody::OrderCreated {
                        order: done.order,
                        cart: done.cart,
                    }],
                    data,
                ))
            }))
        }
        SendChat { text } => match crate::text::chat(&text, MAX_CHAT_CHARS) {
            Ok(text) => Plan::Events(vec![EventBody::ChatMessage { text }], json!({})),
            Err(message) => Plan::Reply(CommandReply::failed(CommandError::invalid(&message))),
        },
        GiveConsent { kind } => {
            let given = state
                .consents
                .get(&caller.participant_id)
                .is_some_and(|c| c.contains(&kind));
            if given {
                // Consent already on record: nothing new to store.
                return Plan::Reply(CommandReply::ok(None, json!({ "consent": kind })));
            }
            Plan::Events(
                vec![EventBody::ConsentRecorded { consent: kind }],
                json!({ "consent": kind }),
            )
        }
        SubmitSurvey { score, comment } => {
            if status != SessionStatus::Ended {
                return refuse(
                    ErrorCode::Conflict,
                    "the survey opens when the session ends",
                );
            }
            if state.survey.is_some() {
                return refuse(ErrorCode::Conflict, "the survey was already answered");
            }
            if score > 10 {
                return Plan::Reply(CommandReply::failed(CommandError::invalid(
                    "score must be between 0 and 10",
                )));
            }
            if comment
                .as_deref()
                .is_some_and(|c| too_long(c, MAX_COMMENT_CHARS))
            {
                return Plan::Reply(CommandReply::failed(CommandError::invalid(
                    "comment is longer than 2000 characters",
                )));
            }
            Plan::Events(
                vec![EventBody::SurveyCompleted { score, comment }],
                json!({}),
            )
        }
        Ping => Plan::Reply(CommandReply::ok(None, json!({ "pong": true }))),
        Media(_) => refuse(
            ErrorCode::Internal,
            "media commands are run by the session's media",
        ),
    }
}

fn cart_change(
    state: &SessionState,
    commerce: &Arc<dyn Commerce>,
    variant_id: VariantId,
    change: QuantityChange,
    idempotency_key: String,
) -> Plan {
    let commerce = Arc::clone(commerce);
    let tenant = state.tenant_id.clone();
    let cart = state.cart.cart_id.clone();
    Plan::Async(Box::pin(async move {
        let cart = commerce
            .change_line(&tenant, &cart, &variant_id, change, &idempotency_key)
            .await?;
        let data = json!({ "cart": cart });
        Ok((
            vec![EventBody::CartUpdated {
                cart,
                variant_id: Some(variant_id),
            }],
            data,
        ))
    }))
}

#[cfg(test)]
mod error_code_tests {
    use super::ErrorCode;

    #[test]
    fn as_str_is_the_wire_spelling() {
        for code in [
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Invalid,
            ErrorCode::OutOfStock,
            ErrorCode::Conflict,
            ErrorCode::RateLimited,
            ErrorCode::TooLarge,
            ErrorCode::SessionEnded,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
