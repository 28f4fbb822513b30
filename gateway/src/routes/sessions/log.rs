//! `GET /v1/sessions/{id}/events` and `GET /v1/sessions/{id}/transcript`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vitrine_engine::identity::Module;
use vitrine_persistence::model::{ParticipantId, SessionId, StoredEvent};

use super::session_key;
use crate::auth::Staff;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Paging of the event log.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events with a greater seq; 0 by default.
    after: Option<u64>,
    /// Page size, 1 to 1000; 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// One stored event.
#[derive(ToSchema)]
#[schema(as = LoggedEvent)]
pub struct LoggedEventShape {
    /// Position in the session, from 1 with no gaps.
    pub seq: u64,
    /// `noun.verb` kind, such as `product.shared`.
    pub kind: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The acting participant, or `null`.
    #[schema(required = true)]
    pub by: Option<String>,
    /// The kind's payload, as `event` frames on the WebSocket carry it.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A page of the event log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EventPage)]
pub struct EventPage {
    /// In seq order, staff-only events included.
    #[schema(value_type = Vec<LoggedEventShape>)]
    pub events: Vec<StoredEvent>,
    /// Pass as `after` for the next page; set only when this page is full.
    #[schema(required = true)]
    pub next_after: Option<u64>,
}

/// Default and largest page of the event log.
const DEFAULT_EVENTS: u32 = 100;
const MAX_EVENTS: u32 = 1000;

/// The event log, in seq order.
#[utoipa::path(
    get,
    path = "/v1/sessions/{id}/events",
    tag = "sessions",
    operation_id = "list_session_events",
    params(("id" = String, Path, description = "The session"), EventsQuery),
    security(("staff_token" = ["analytics"])),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 400, description = "An invalid `after` or `limit`", body = ErrorBody),
        (status = 401, description = "No staff token, or one that is not valid", body = ErrorBody),
        (status = 403, description = "A participant token, or staff without `analytics`",
            body = ErrorBody),
        (status = 404, description = "No such session in the caller's tenant", body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry", body = ErrorBody),
    )
)]
pub async fn events(
    staff: Staff,
    app: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Module::Analytics)?;
    let key = session_key(&staff, &path)?;
    let limit = query.limit.unwrap_or(DEFAULT_EVENTS);
    if !(1..=MAX_EVENTS).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 1000"));
    }
    let store = app.engine.store();
    store
        .session(&key.tenant, &key.session)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let events = store
        .events(&key.tenant, &key.session, query.after.unwrap_or(0), limit)
        .await?;
    let next_after = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    Ok(HttpResponse::Ok().json(EventPage { events, next_after }))
}

/// Format of the transcript.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TranscriptQuery {
    /// `text` (the default) or `json`.
    #[param(value_type = Option<TranscriptFormat>)]
    format: Option<String>,
}

/// The formats of a transcript.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum TranscriptFormat {
    /// A `text/plain` attachment, one line per message.
    Text,
    /// JSON, one object per message.
    Json,
}

/// One message of a JSON transcript.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TranscriptMessage)]
pub struct Message {
    /// Seq of the `chat.message` event.
    pub seq: u64,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// Who sent it, or `null`.
    #[schema(value_type = Option<String>, required = true)]
    pub by: Option<ParticipantId>,
    /// The sender's display name, or `unknown`.
    pub name: String,
    /// The sender's role, or `unknown`.
    #[schema(value_type = String, example = "customer")]
    pub role: &'static str,
    /// What they wrote.
    pub text: String,
}

/// A JSON transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct Transcript {
    /// The session.
    #[schema(value_type = String)]
    pub session_id: SessionId,
    /// The chat, oldest first.
    pub messages: Vec<Message>,
}

/// The chat transcript, as a text download (or JSON with `format=json`).
///
/// As text, one line per message: `[2026-12-03T10:15:02Z] Zoë Ångström (customer): Hola`,
/// in an attachment named `transcript-<session id>.txt`.
#[utoipa::path(
    get,
    path = "/v1/sessions/{id}/transcript",
    tag = "sessions",
    operation_id = "get_session_transcript",
    params(("id" = String, Path, description = "The session"), TranscriptQuery),
    security(("staff_token" = ["analytics"])),
    responses(
        (status = 200, description = "The transcript", content(
            (String = "text/plain; charset=utf-8"),
            (Transcript = "application/json"),
        )),
        (status = 400, description = "An unknown `format`", body = ErrorBody),
        (status = 401, description = "No staff token, or one that is not valid", body = ErrorBody),
        (status = 403, description = "A participant token, or staff without `analytics`",
            body = ErrorBody),
        (status = 404, description = "No such session in the caller's tenant", body = ErrorBody),
        (status = 503, description = "The store or session is unavailable; retry",
            body = ErrorBody),
    )
)]
pub async fn transcript(
    staff: Staff,
    app: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<TranscriptQuery>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Module::Analytics)?;
    let key = session_key(&staff, &path)?;
    let view = app.engine.view(&key).await?;
    let who = |by: &Option<ParticipantId>| {
        by.as_ref()
            .and_then(|id| view.participants.iter().find(|p| &p.participant_id == id))
            .map(|p| (p.name.clone(), p.role.as_str()))
            .unwrap_or_else(|| ("unknown".to_owned(), "unknown"))
    };

    match query.format.as_deref() {
        Some("json") => {
            let messages = view
                .chat
                .iter()
                .map(|line| {
                    let (name, role) = who(&line.by);
                    Message {
                        seq: line.seq,
                        at: line.at,
                        by: line.by.clone(),
                        name,
                        role,
                        text: line.text.clone(),
                    }
                })
                .collect();
            Ok(HttpResponse::Ok().json(Transcript {
                session_id: view.session_id.clone(),
                messages,
            }))
        }
        None | Some("text") => {
            let mut text = String::new();
            for line in &view.chat {
                let (name, role) = who(&line.by);
                // Continuation lines are indented, so a message cannot fake a line of
                // its own; names are kept on one line.
                text.push_str(&format!(
                    "[{}] {} ({}): {}\n",
                    line.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    vitrine_engine::text::one_line(&name),
                    role,
                    line.text.lines().collect::<Vec<_>>().join("\n    ")
                ));
            }
            Ok(HttpResponse::Ok()
                .content_type("text/plain; charset=utf-8")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"transcript-{}.txt\"",
                        view.session_id
                    ),
                ))
                .body(text))
        }
        Some(other) => Err(ApiError::invalid(format!("unknown format {other:?}"))),
    }
}
