//! `GET /v1/sessions/{id}/events` and `GET /v1/sessions/{id}/transcript`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use vitrine_engine::identity::Module;

use super::session_key;
use crate::auth::Staff;
use crate::error::ApiError;
use crate::state::AppState;

/// Paging of the event log.
#[derive(Deserialize)]
pub struct EventsQuery {
    after: Option<u64>,
    limit: Option<u32>,
}

/// Default and largest page of the event log.
const DEFAULT_EVENTS: u32 = 100;
const MAX_EVENTS: u32 = 1000;

/// The event log, in seq order.
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
    Ok(HttpResponse::Ok().json(json!({ "events": events, "next_after": next_after })))
}

/// Format of the transcript.
#[derive(Deserialize)]
pub struct TranscriptQuery {
    format: Option<String>,
}

/// The chat transcript, as a text download (or JSON with `format=json`).
pub async fn transcript(
    staff: Staff,
    app: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<TranscriptQuery>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Module::Analytics)?;
    let key = session_key(&staff, &path)?;
    let view = app.engine.view(&key).await?;
    let who = |by: &Option<vitrine_persistence::model::ParticipantId>| {
        by.as_ref()
            .and_then(|id| view.participants.iter().find(|p| &p.participant_id == id))
            .map(|p| (p.name.clone(), p.role.as_str()))
            .unwrap_or_else(|| ("unknown".to_owned(), "unknown"))
    };

    match query.format.as_deref() {
        Some("json") => {
            let messages: Vec<_> = view
                .chat
                .iter()
                .map(|line| {
                    let (name, role) = who(&line.by);
                    json!({ "seq": line.seq, "at": line.at, "by": line.by, "name": name,
                            "role": role, "text": line.text })
                })
                .collect();
            Ok(HttpResponse::Ok()
                .json(json!({ "session_id": view.session_id, "messages": messages })))
        }
        None | Some("text") => {
            let mut text = String::new();
            for line in &view.chat {
                let (name, role) = who(&line.by);
                text.push_str(&format!(
                    "[{}] {} ({}): {}\n",
                    line.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    name,
                    role,
                    line.text
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
