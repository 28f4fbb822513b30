//! `GET /v1/sessions/{id}` and `GET /v1/sessions`.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use vitrine_engine::identity::Module;
use vitrine_engine::session::SessionStatus;
use vitrine_persistence::model::{SessionFilter, SessionId, UserId};

use super::session_key;
use crate::auth::Staff;
use crate::error::ApiError;
use crate::state::AppState;

/// The current state of one session.
pub async fn one(
    staff: Staff,
    app: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    staff.require_any(&[Module::VideoCalls, Module::Analytics])?;
    let key = session_key(&staff, &path)?;
    let view = app.engine.view(&key).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Filters and paging of the session list.
#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    shopper_id: Option<String>,
    q: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Default and largest page of the session list.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

/// A page of sessions, newest first. Staff with `analytics` list anything; staff with
/// only `video_calls` list the requested queue or their own sessions.
pub async fn list(
    staff: Staff,
    app: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    staff.require_any(&[Module::Analytics, Module::VideoCalls])?;
    if !staff.0.can(Module::Analytics) {
        // A shopper without analytics sees the queue of requested sessions and their own
        // sessions, which is what taking calls needs, but not the tenant's history.
        let queue = q.status.as_deref() == Some("requested") && q.shopper_id.is_none();
        let own = q.shopper_id.as_deref() == Some(staff.0.user_id.as_str());
        if !queue && !own {
            return Err(ApiError::forbidden(
                "this needs the analytics module; shoppers may list status=requested \
                 or their own shopper_id",
            ));
        }
    }
    if let Some(status) = &q.status {
        if SessionStatus::parse(status).is_none() {
            return Err(ApiError::invalid(format!("unknown status {status:?}")));
        }
    }
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 200"));
    }
    if q.q.as_deref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::invalid("q is longer than 200 characters"));
    }
    let before = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let filter = SessionFilter {
        status: q.status,
        shopper_id: q.shopper_id.map(UserId::new),
        query: q.q,
        from: q.from,
        to: q.to,
        limit,
        before,
    };
    let rows = app
        .engine
        .store()
        .list_sessions(&staff.0.tenant_id, &filter)
        .await?;
    let next_cursor = (rows.len() == limit as usize)
        .then(|| {
            rows.last().map(|s| {
                format!(
                    "{}~{}",
                    s.row
                        .created_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    s.row.id
                )
            })
        })
        .flatten();
    let sessions: Vec<_> = rows
        .into_iter()
        .map(|s| {
            json!({
                "session_id": s.row.id,
                "status": s.row.status,
                "shopper_id": s.row.shopper_id,
                "customer_name": s.customer_name,
                "seq": s.row.seq,
                "created_at": s.row.created_at,
                "started_at": s.row.started_at,
                "ended_at": s.row.ended_at,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "sessions": sessions, "next_cursor": next_cursor })))
}

fn parse_cursor(cursor: &str) -> Result<(DateTime<Utc>, SessionId), ApiError> {
    let bad = || ApiError::invalid("cursor is not one this server issued");
    let (at, id) = cursor.split_once('~').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| bad())?;
    if id.is_empty() || id.len() > 128 {
        return Err(bad());
    }
    Ok((at.with_timezone(&Utc), SessionId::new(id)))
}
