//! `POST /v1/sessions` and `POST /v1/sessions/{id}/participants`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use vitrine_engine::identity::{Module, ParticipantPrincipal, Principal, Role};
use vitrine_engine::{CustomerDetails, SessionRequest};
use vitrine_persistence::model::{ParticipantId, TenantId};

use super::session_key;
use crate::auth::{principal, Staff};
use crate::error::ApiError;
use crate::state::AppState;

/// Header carrying a tenant's public widget key.
pub const PUBLIC_KEY_HEADER: &str = "X-Vitrine-Key";

/// The customer in a session request.
#[derive(Deserialize)]
pub struct CustomerBody {
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    locale: Option<String>,
}

/// Body of `POST /v1/sessions`.
#[derive(Deserialize)]
pub struct CreateBody {
    customer: CustomerBody,
    #[serde(default)]
    context: Option<serde_json::Value>,
    #[serde(default)]
    scheduled_for: Option<DateTime<Utc>>,
}

/// Creates a session: from the widget (public key) or by a shopper (staff token).
pub async fn create(
    req: HttpRequest,
    app: web::Data<AppState>,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, shopper) = match principal(&req)? {
        Some(Principal::Staff(staff)) => {
            let staff = Staff(staff);
            staff.require(Module::VideoCalls)?;
            (staff.0.tenant_id, Some(staff.0.user_id))
        }
        Some(Principal::Participant(_)) => {
            return Err(ApiError::forbidden("customers cannot create sessions"))
        }
        None => (widget_tenant(&req, &app).await?, None),
    };

    let body = body.into_inner();
    let created = app
        .engine
        .create_session(
            &tenant,
            SessionRequest {
                customer: CustomerDetails {
                    name: body.customer.name,
                    email: body.customer.email,
                    phone: body.customer.phone,
                    locale: body.customer.locale,
                },
                context: body.context.unwrap_or(serde_json::Value::Null),
                shopper,
                scheduled_for: body.scheduled_for,
            },
        )
        .await?;

    let participant = ParticipantPrincipal {
        tenant_id: tenant,
        session_id: created.row.id.clone(),
        participant_id: created.customer.participant_id.clone(),
        role: Role::Customer,
        name: created.customer.name.clone(),
    };
    let issued = app
        .tokens
        .issue_participant(&participant, app.settings.tokens.participant_ttl);
    Ok(HttpResponse::Created().json(json!({
        "session_id": created.row.id,
        "status": created.row.status,
        "participant_id": participant.participant_id,
        "customer_token": issued.token,
        "expires_at": issued.expires_at,
        "join_url": join_url(&app, &participant.session_id, &issued.token),
    })))
}

/// The link a participant opens to join.
fn join_url(
    app: &AppState,
    session: &vitrine_persistence::model::SessionId,
    token: &str,
) -> String {
    format!(
        "{}/s/{}?t={}",
        app.public_base,
        urlencoding::encode(session.as_str()),
        urlencoding::encode(token)
    )
}

async fn widget_tenant(req: &HttpRequest, app: &AppState) -> Result<TenantId, ApiError> {
    let key = req
        .headers()
        .get(PUBLIC_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 128)
        .ok_or_else(|| {
            ApiError::unauthorized(format!(
                "send a staff token or the {PUBLIC_KEY_HEADER} header"
            ))
        })?;
    let tenant = app
        .engine
        .store()
        .tenant_by_public_key(key)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown public key"))?;
    Ok(tenant.id)
}

/// Body of `POST /v1/sessions/{id}/participants`.
#[derive(Deserialize)]
pub struct InviteBody {
    role: Role,
    name: String,
}

/// Invites another participant; returns their token and join link.
pub async fn invite(
    staff: Staff,
    app: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<InviteBody>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Module::VideoCalls)?;
    let key = session_key(&staff, &path)?;
    let view = app.engine.view(&key).await?;
    // The session's own shopper invites; admins (settings) may step in for them.
    let own = view.shopper_id.as_ref() == Some(&staff.0.user_id);
    if !own && !staff.0.can(Module::Settings) {
        return Err(ApiError::forbidden("only the session's shopper can invite"));
    }
    if view.status.is_over() {
        return Err(ApiError::new(
            vitrine_engine::session::ErrorCode::SessionEnded,
            "the session is over",
        ));
    }
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid("name must be 1 to 200 characters"));
    }
    let participant = ParticipantPrincipal {
        tenant_id: key.tenant,
        session_id: key.session,
        participant_id: ParticipantId::generate(),
        role: body.role,
        name: name.to_owned(),
    };
    let issued = app
        .tokens
        .issue_participant(&participant, app.settings.tokens.participant_ttl);
    Ok(HttpResponse::Created().json(json!({
        "participant_id": participant.participant_id,
        "role": participant.role,
        "token": issued.token,
        "expires_at": issued.expires_at,
        "join_url": join_url(&app, &participant.session_id, &issued.token),
    })))
}
