//! `GET /v1/sessions/{id}` and `GET /v1/sessions`.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vitrine_engine::identity::Module;
use vitrine_engine::session::SessionStatus;
use vitrine_persistence::model::{SessionFilter, SessionId, UserId};

use super::session_key;
use super::state::SessionStateShape;
use crate::auth::Staff;
use crate::error::{ApiError, ErrorBody};
use crate::openapi::SessionStatusName;
use crate::state::AppState;

/// The current state of one session.
///
/// The same object `welcome.session` carries on the WebSocket, live or ended.
#[utoipa::path(
    get,
    path = "/v1/sessions/{id}",
    tag = "sessions",
    operation_id = "get_session",
    params(("id" = String, Path, description = "The session")),
    security(("staff_token" = ["video_calls"]), ("staff_token" = ["analytics"])),
    responses(
        (status = 200, description = "The session's state", body = SessionStateShape),
        (status = 401, description = "No staff token, or one that is not valid", body = ErrorBody),
        (status = 403, description = "A participant token, or staff with neither \
            `video_calls` nor `analytics`", body = ErrorBody),
        (status = 404, description = "No such session in the caller's tenant", body = ErrorBody),
        (status = 503, description = "The store or session is unavailable; retry",
            body = ErrorBody),
    )
)]
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
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only sessions with this status.
    #[param(value_type = Option<SessionStatusName>)]
    status: Option<String>,
    /// Only sessions of this staff user.
    shopper_id: Option<String>,
    /// The exact session id, or part of the customer's name (any case); at most 200
    /// characters.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Created at or after this time.
    from: Option<DateTime<Utc>>,
    /// Created before this time.
    to: Option<DateTime<Utc>>,
    /// Page size, 1 to 200; 50 by default.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One session in a list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SessionSummary)]
pub struct Listed {
    /// Session id.
    #[schema(value_type = String)]
    pub session_id: SessionId,
    /// Where the session is in its life.
    #[schema(value_type = SessionStatusName)]
    pub status: String,
    /// The assigned staff user, or `null`.
    #[schema(value_type = Option<String>, required = true)]
    pub shopper_id: Option<UserId>,
    /// The customer's display name.
    pub customer_name: String,
    /// Seq of the last event.
    pub seq: u64,
    /// When the session was requested.
    pub created_at: DateTime<Utc>,
    /// When the call went live, or `null`.
    #[schema(required = true)]
    pub started_at: Option<DateTime<Utc>>,
    /// When the session ended or was cancelled, or `null`.
    #[schema(required = true)]
    pub ended_at: Option<DateTime<Utc>>,
}

/// A page of the session list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SessionPage)]
pub struct Page {
    /// Newest first.
    pub sessions: Vec<Listed>,
    /// Pass as `cursor` for the next page; set only when this page is full.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Default and largest page of the session list.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

/// A page of sessions, newest first.
///
/// Staff with `analytics` list anything; staff with only `video_calls` (shoppers) list the
/// requested queue (`status=requested` without `shopper_id`) or their own sessions
/// (`shopper_id=<their own user id>`).
#[utoipa::path(
    get,
    path = "/v1/sessions",
    tag = "sessions",
    operation_id = "list_sessions",
    params(ListQuery),
    security(("staff_token" = ["analytics"]), ("staff_token" = ["video_calls"])),
    responses(
        (status = 200, description = "A page of sessions", body = Page),
        (status = 400, description = "An invalid filter, limit or cursor", body = ErrorBody),
        (status = 401, description = "No staff token, or one that is not valid", body = ErrorBody),
        (status = 403, description = "A participant token, or a list that needs `analytics`",
            body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry", body = ErrorBody),
    )
)]
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
    let sessions = rows
        .into_iter()
        .map(|s| Listed {
            session_id: s.row.id,
            status: s.row.status,
            shopper_id: s.row.shopper_id,
            customer_name: s.customer_name,
            seq: s.row.seq,
            created_at: s.row.created_at,
            started_at: s.row.started_at,
            ended_at: s.row.ended_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        sessions,
        next_cursor,
    }))
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
