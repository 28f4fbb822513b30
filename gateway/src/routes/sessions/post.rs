//! `POST /v1/sessions` and `POST /v1/sessions/{id}/participants`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vitrine_engine::identity::{Module, ParticipantPrincipal, Principal, Role};
use vitrine_engine::{CustomerDetails, SessionRequest};
use vitrine_persistence::model::{ParticipantId, SessionId, TenantId};

use super::session_key;
use crate::auth::{principal, Staff};
use crate::error::{ApiError, ErrorBody};
use crate::openapi::{RoleName, SessionStatusName};
use crate::state::AppState;

/// Header carrying a tenant's public widget key.
pub const PUBLIC_KEY_HEADER: &str = "X-Vitrine-Key";

/// The customer in a session request.
#[derive(Deserialize, ToSchema)]
#[schema(as = Customer)]
pub struct CustomerBody {
    /// Display name, 1 to 200 characters after trimming.
    #[schema(max_length = 200, example = "Zoë Ångström")]
    name: String,
    /// At most 254 characters, with an `@` and no whitespace.
    #[serde(default)]
    #[schema(max_length = 254, example = "zoe@example.com")]
    email: Option<String>,
    /// At most 32 characters of digits, spaces and `+-().`.
    #[serde(default)]
    #[schema(max_length = 32, example = "+34 600 000 000")]
    phone: Option<String>,
    /// 2 to 35 letters, digits, `-` or `_`.
    #[serde(default)]
    #[schema(min_length = 2, max_length = 35, example = "es-ES")]
    locale: Option<String>,
}

/// Body of `POST /v1/sessions`.
#[derive(Deserialize, ToSchema)]
#[schema(as = NewSession)]
pub struct CreateBody {
    /// Who the session is for.
    customer: CustomerBody,
    /// What the customer was looking at, such as `product_id` or `collection`; at most
    /// 4 KiB as JSON.
    #[serde(default)]
    #[schema(value_type = Option<Object>, example = json!({"product_id": "harbor-field-watch"}))]
    context: Option<serde_json::Value>,
    /// Book the call for later: the session starts as `scheduled`.
    #[serde(default)]
    scheduled_for: Option<DateTime<Utc>>,
}

/// The answer of `POST /v1/sessions`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedSession)]
pub struct Created {
    /// The new session.
    #[schema(value_type = String, example = "ses_0190f3c2a1b27c3d9e8f00112233aabb")]
    pub session_id: SessionId,
    /// `requested` from the widget, `matched` when staff created it, or `scheduled`.
    #[schema(value_type = SessionStatusName)]
    pub status: String,
    /// The customer's participant id.
    #[schema(value_type = String)]
    pub participant_id: ParticipantId,
    /// The customer's token, for `hello` on `/v1/ws`.
    pub customer_token: String,
    /// When the customer's token stops working.
    pub expires_at: DateTime<Utc>,
    /// The link the customer opens to join, with the token in it.
    pub join_url: String,
}

/// Creates a session: from the widget (public key) or by a shopper (staff token).
///
/// The widget sends its tenant's public key in `X-Vitrine-Key`; staff with `video_calls`
/// send their token and become the session's shopper.
#[utoipa::path(
    post,
    path = "/v1/sessions",
    tag = "sessions",
    operation_id = "create_session",
    request_body(content = CreateBody, example = json!({
        "customer": {"name": "Zoë Ångström", "email": "zoe@example.com", "locale": "es-ES"},
        "context": {"product_id": "harbor-field-watch"}
    })),
    security(("widget_key" = []), ("staff_token" = ["video_calls"])),
    responses(
        (status = 201, description = "The session was created", body = Created),
        (status = 400, description = "A malformed body or an invalid field", body = ErrorBody),
        (status = 401, description = "Neither a staff token nor a known widget key", body = ErrorBody),
        (status = 403, description = "A participant token, or staff without `video_calls`",
            body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB", body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry", body = ErrorBody),
    )
)]
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
        // Limitation: widget requests are not rate limited per client address, so one
        // script with the public key can fill a tenant's queue; a reverse proxy's limit
        // is the guard for now.
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
    Ok(HttpResponse::Created().json(Created {
        join_url: join_url(&app, &participant.session_id, &issued.token),
        session_id: created.row.id,
        status: created.row.status,
        participant_id: participant.participant_id,
        customer_token: issued.token,
        expires_at: issued.expires_at,
    }))
}

/// The link a participant opens to join.
fn join_url(app: &AppState, session: &SessionId, token: &str) -> String {
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
#[derive(Deserialize, ToSchema)]
#[schema(as = Invitation)]
pub struct InviteBody {
    /// The role the invited participant joins with.
    #[schema(value_type = RoleName)]
    role: Role,
    /// Display name, 1 to 200 characters after trimming.
    #[schema(max_length = 200, example = "Laia Puig")]
    name: String,
}

/// The answer of `POST /v1/sessions/{id}/participants`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvitedParticipant)]
pub struct Invited {
    /// The new participant's id.
    #[schema(value_type = String)]
    pub participant_id: ParticipantId,
    /// Their role.
    #[schema(value_type = RoleName)]
    pub role: Role,
    /// Their token, for `hello` on `/v1/ws`.
    pub token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// The link they open to join, with the token in it.
    pub join_url: String,
}

/// Invites another participant; returns their token and join link.
///
/// The session's own shopper invites; staff with `settings` may invite for them.
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/participants",
    tag = "sessions",
    operation_id = "invite_participant",
    params(("id" = String, Path, description = "The session")),
    request_body(content = InviteBody, example = json!({"role": "observer", "name": "Laia Puig"})),
    security(("staff_token" = ["video_calls"])),
    responses(
        (status = 201, description = "The participant was invited", body = Invited),
        (status = 400, description = "A malformed body or an invalid field", body = ErrorBody),
        (status = 401, description = "No staff token, or one that is not valid", body = ErrorBody),
        (status = 403, description = "Not the session's shopper nor staff with `settings`, \
            or without `video_calls`", body = ErrorBody),
        (status = 404, description = "No such session in the caller's tenant", body = ErrorBody),
        (status = 409, description = "`session_ended`: the session is over", body = ErrorBody),
        (status = 503, description = "The store or session is unavailable; retry",
            body = ErrorBody),
    )
)]
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
    let name = vitrine_engine::text::display_name("name", &body.name).map_err(ApiError::invalid)?;
    let participant = ParticipantPrincipal {
        tenant_id: key.tenant,
        session_id: key.session,
        participant_id: ParticipantId::generate(),
        role: body.role,
        name,
    };
    let issued = app
        .tokens
        .issue_participant(&participant, app.settings.tokens.participant_ttl);
    Ok(HttpResponse::Created().json(Invited {
        join_url: join_url(&app, &participant.session_id, &issued.token),
        participant_id: participant.participant_id,
        role: participant.role,
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}
