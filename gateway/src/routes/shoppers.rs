//! `POST /v1/shoppers`, `GET /v1/shoppers`, `POST /v1/shoppers/{id}/tokens`.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use vitrine_engine::identity::{modules_of, Module, StaffPrincipal, MAX_TOKEN_TTL};
use vitrine_persistence::model::{AuditEntry, User, UserId};

use crate::auth::Staff;
use crate::error::{ApiError, ErrorBody};
use crate::openapi::{ModuleName, StaffRoleName};
use crate::state::AppState;

/// Body of `POST /v1/shoppers`.
#[derive(Deserialize, ToSchema)]
#[schema(as = NewShopper)]
pub struct CreateBody {
    /// Display name, 1 to 200 characters after trimming.
    #[schema(max_length = 200, example = "Marta Ruiz")]
    name: String,
    /// Unique in the tenant; stored lower-cased; at most 254 characters, with an `@`.
    #[schema(max_length = 254, example = "marta@example.com")]
    email: String,
    /// A phone number; blank means none.
    #[serde(default)]
    phone: Option<String>,
    /// At most 50 collection slugs of 1 to 100 characters, searched first; stored
    /// lower-cased.
    #[serde(default)]
    #[schema(max_items = 50, example = json!(["watches"]))]
    collections: Vec<String>,
    /// Roles; `["shopper"]` by default, never empty.
    #[serde(default)]
    #[schema(value_type = Option<Vec<StaffRoleName>>, min_items = 1)]
    roles: Option<Vec<String>>,
}

/// Most collections one shopper may specialise in.
const MAX_COLLECTIONS: usize = 50;

/// A staff user, as the shopper endpoints answer it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Shopper {
    /// User id.
    #[schema(value_type = String, example = "usr_0190f3c2a1b27c3d9e8f00112233aabb")]
    pub shopper_id: UserId,
    /// Display name.
    pub name: String,
    /// Email address, lower-cased.
    pub email: String,
    /// Phone number, or `null`.
    #[schema(required = true)]
    pub phone: Option<String>,
    /// Collections searched first.
    pub collections: Vec<String>,
    /// Roles.
    #[schema(value_type = Vec<StaffRoleName>)]
    pub roles: Vec<String>,
    /// The modules the roles grant.
    #[schema(value_type = Vec<ModuleName>)]
    pub modules: BTreeSet<Module>,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

impl From<&User> for Shopper {
    fn from(user: &User) -> Self {
        Self {
            shopper_id: user.id.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            phone: user.phone.clone(),
            collections: user.collections.clone(),
            roles: user.roles.clone(),
            modules: modules_of(&user.roles).unwrap_or_default(),
            created_at: user.created_at,
        }
    }
}

/// The answer of `GET /v1/shoppers`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShopperList)]
pub struct Shoppers {
    /// Oldest first.
    pub shoppers: Vec<Shopper>,
}

/// Creates a shopper (any staff user, by the roles given; `shopper` by default).
///
/// Written to the audit log.
#[utoipa::path(
    post,
    path = "/v1/shoppers",
    tag = "shoppers",
    operation_id = "create_shopper",
    request_body(content = CreateBody, example = json!({
        "name": "Marta Ruiz", "email": "marta@example.com", "collections": ["watches"]
    })),
    security(("staff_token" = ["settings"])),
    responses(
        (status = 201, description = "The user was created", body = Shopper),
        (status = 400, description = "A malformed body or an invalid field", body = ErrorBody),
        (status = 401, description = "No staff token, or one that is not valid", body = ErrorBody),
        (status = 403, description = "A participant token, or staff without `settings`",
            body = ErrorBody),
        (status = 409, description = "The email is already used in the tenant", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB", body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry", body = ErrorBody),
    )
)]
pub async fn create(
    staff: Staff,
    app: web::Data<AppState>,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Module::Settings)?;
    let body = body.into_inner();
    let name = vitrine_engine::text::display_name("name", &body.name).map_err(ApiError::invalid)?;
    let email = vitrine_engine::text::email("email", &body.email)
        .map_err(ApiError::invalid)?
        .to_lowercase();
    if body.collections.len() > MAX_COLLECTIONS
        || body.collections.iter().any(|c| {
            c.trim().is_empty() || c.chars().count() > 100 || c.chars().any(char::is_control)
        })
    {
        return Err(ApiError::invalid(
            "collections: at most 50 names of 1 to 100 characters, without control characters",
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
    Ok(HttpResponse::Created().json(Shopper::from(&user)))
}

/// Lists the tenant's staff who can take calls.
///
/// Every staff user whose roles grant `video_calls`, oldest first.
#[utoipa::path(
    get,
    path = "/v1/shoppers",
    tag = "shoppers",
    operation_id = "list_shoppers",
    security(("staff_token" = ["settings"])),
    responses(
        (status = 200, description = "The tenant's shoppers", body = Shoppers),
        (status = 401, description = "No staff token, or one that is not valid", body = ErrorBody),
        (status = 403, description = "A participant token, or staff without `settings`",
            body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry", body = ErrorBody),
    )
)]
pub async fn list(staff: Staff, app: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    staff.require(Module::Settings)?;
    let users = app.engine.store().list_users(&staff.0.tenant_id).await?;
    let shoppers = users
        .iter()
        .filter(|u| modules_of(&u.roles).is_ok_and(|m| m.contains(&Module::VideoCalls)))
        .map(Shopper::from)
        .collect();
    Ok(HttpResponse::Ok().json(Shoppers { shoppers }))
}

/// Body of `POST /v1/shoppers/{id}/tokens`.
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = TokenRequest)]
pub struct TokenBody {
    /// Lifetime in seconds, up to 90 days; `tokens.staff_ttl` (12 hours) by default.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 7_776_000, example = 3600)]
    ttl_seconds: Option<u64>,
}

/// The answer of `POST /v1/shoppers/{id}/tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffToken {
    /// The bearer token, carrying the modules of the user's roles.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
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
///
/// The body is optional; one that is sent must be valid JSON. Written to the audit log.
#[utoipa::path(
    post,
    path = "/v1/shoppers/{id}/tokens",
    tag = "shoppers",
    operation_id = "issue_staff_token",
    params(("id" = String, Path, description = "The staff user")),
    request_body(content = Option<TokenBody>, example = json!({"ttl_seconds": 3600})),
    security(("staff_token" = ["settings"])),
    responses(
        (status = 201, description = "The token was issued", body = StaffToken),
        (status = 400, description = "A malformed body or an invalid `ttl_seconds`",
            body = ErrorBody),
        (status = 401, description = "No staff token, or one that is not valid", body = ErrorBody),
        (status = 403, description = "A participant token, or staff without `settings`",
            body = ErrorBody),
        (status = 404, description = "No such user in the caller's tenant", body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry", body = ErrorBody),
    )
)]
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
    Ok(HttpResponse::Created().json(StaffToken {
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}
