//! `POST /v1/shoppers`, `GET /v1/shoppers`, `POST /v1/shoppers/{id}/tokens`.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use vitrine_engine::identity::{modules_of, Module, StaffPrincipal, MAX_TOKEN_TTL};
use vitrine_persistence::model::{AuditEntry, User, UserId};

use crate::auth::Staff;
use crate::error::ApiError;
use crate::state::AppState;

/// Body of `POST /v1/shoppers`.
#[derive(Deserialize)]
pub struct CreateBody {
    name: String,
    email: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    collections: Vec<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
}

/// Most collections one shopper may specialise in.
const MAX_COLLECTIONS: usize = 50;

fn shopper_json(user: &User) -> Value {
    json!({
        "shopper_id": user.id,
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "collections": user.collections,
        "roles": user.roles,
        "modules": modules_of(&user.roles).unwrap_or_default(),
        "created_at": user.created_at,
    })
}

/// Creates a shopper (any staff user, by the roles given; `shopper` by default).
pub async fn create(
    staff: Staff,
    app: web::Data<AppState>,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Module::Settings)?;
    let body = body.into_inner();
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid("name must be 1 to 200 characters"));
    }
    let email = body.email.trim().to_lowercase();
    if email.len() > 254 || !email.contains('@') || email.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid("email is not an email address"));
    }
    if body.collections.len() > MAX_COLLECTIONS
        || body
            .collections
            .iter()
            .any(|c| c.trim().is_empty() || c.chars().count() > 100)
    {
        return Err(ApiError::invalid(
            "collections: at most 50 names of 1 to 100 characters",
        ));
    }
    let roles = body.roles.unwrap_or_else(|| vec!["shopper".into()]);
    if roles.is_empty() {
        return Err(ApiError::invalid("roles must not be empty"));
    }
    modules_of(&roles).map_err(|role| ApiError::invalid(format!("unknown role {role:?}")))?;

    let user = User {
        tenant_id: staff.0.tenant_id.clone(),
        id: UserId::generate(),
        name,
        email,
        phone: body.phone.filter(|p| !p.trim().is_empty()),
        roles,
        collections: body
            .collections
            .iter()
            .map(|c| c.trim().to_lowercase())
            .collect(),
        created_at: vitrine_persistence::now(),
    };
    let store = app.engine.store();
    store.create_user(&user).await?;
    store
        .record_audit(&AuditEntry {
            tenant_id: user.tenant_id.clone(),
            actor: staff.0.user_id.to_string(),
            action: "shopper.created".into(),
            subject: user.id.to_string(),
            at: vitrine_persistence::now(),
            detail: json!({ "roles": user.roles }),
        })
        .await?;
    tracing::info!(tenant_id = %user.tenant_id, shopper_id = %user.id, "shopper created");
    Ok(HttpResponse::Created().json(shopper_json(&user)))
}

/// Lists the tenant's staff who can take calls.
pub async fn list(staff: Staff, app: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    staff.require(Module::Settings)?;
    let users = app.engine.store().list_users(&staff.0.tenant_id).await?;
    let shoppers: Vec<Value> = users
        .iter()
        .filter(|u| modules_of(&u.roles).is_ok_and(|m| m.contains(&Module::VideoCalls)))
        .map(shopper_json)
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "shoppers": shoppers })))
}

/// Body of `POST /v1/shoppers/{id}/tokens`.
#[derive(Deserialize, Default)]
pub struct TokenBody {
    #[serde(default)]
    ttl_seconds: Option<u64>,
}

/// Whether a request carries a body at all.
fn has_body(req: &HttpRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// Mints a staff token for a shopper.
pub async fn token(
    staff: Staff,
    app: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    body: Result<web::Json<TokenBody>, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Module::Settings)?;
    // The body is optional, but one that is sent must be valid: a bad `ttl_seconds` is
    // refused rather than silently replaced by the default lifetime.
    let ttl_seconds = match body {
        Ok(body) => body.into_inner().ttl_seconds,
        Err(_) if !has_body(&req) => None,
        Err(e) => return Ok(e.error_response()),
    };
    let id = path.into_inner();
    if id.is_empty() || id.len() > 128 {
        return Err(ApiError::not_found());
    }
    let store = app.engine.store();
    let user = store
        .user(&staff.0.tenant_id, &UserId::new(id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let ttl = match ttl_seconds {
        Some(0) => return Err(ApiError::invalid("ttl_seconds must be positive")),
        Some(s) if Duration::from_secs(s) > MAX_TOKEN_TTL => {
            return Err(ApiError::invalid("ttl_seconds is over 90 days"))
        }
        Some(s) => Duration::from_secs(s),
        None => app.settings.tokens.staff_ttl,
    };
    let modules = modules_of(&user.roles).map_err(|r| ApiError::internal(format!("role {r}")))?;
    let issued = app.tokens.issue_staff(
        &StaffPrincipal {
            tenant_id: user.tenant_id.clone(),
            user_id: user.id.clone(),
            name: user.name.clone(),
            modules,
        },
        ttl,
    );
    store
        .record_audit(&AuditEntry {
            tenant_id: user.tenant_id.clone(),
            actor: staff.0.user_id.to_string(),
            action: "token.issued".into(),
            subject: user.id.to_string(),
            at: vitrine_persistence::now(),
            detail: json!({ "expires_at": issued.expires_at }),
        })
        .await?;
    Ok(HttpResponse::Created()
        .json(json!({ "token": issued.token, "expires_at": issued.expires_at })))
}
