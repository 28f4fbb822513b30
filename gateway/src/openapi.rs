//! The OpenAPI document of the HTTP API, served at `GET /v1/openapi.json`.
//!
//! The document is generated from the handlers' `#[utoipa::path]` annotations and the
//! schemas derived on their request and response types. This module adds what the
//! handlers do not say themselves: the security schemes, the tags, and schemas for the
//! engine's wire names (roles, modules, statuses) and for cards, carts and orders.
//!
//! Every route [`crate::routes::mounted`] lists must be in [`ApiDoc::paths`] and the
//! reverse; the end-to-end tests check both directions, along with the shapes of real
//! answers against the documented schemas.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use vitrine_engine::events::ConsentKind;
use vitrine_engine::identity::{Module, Role, ROLES};
use vitrine_engine::session::SessionStatus;

use crate::error::{ErrorBody, ErrorCodeName, ErrorDetail};
use crate::routes;

/// Name of the security scheme of staff bearer tokens.
pub const STAFF_TOKEN: &str = "staff_token";
/// Name of the security scheme of the widget's public key.
pub const WIDGET_KEY: &str = "widget_key";

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vitrine",
        version = env!("CARGO_PKG_VERSION"),
        description = "The HTTP API of a Vitrine node: live video personal shopping. \
            Staff authenticate with a bearer token; the widget creates sessions with its \
            tenant's public key. Errors answer `{\"error\": {\"code\", \"message\"}}`. \
            The WebSocket protocol of `/v1/ws` is described in `docs/protocol.md`.",
        license(name = "Apache-2.0"),
    ),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::metrics::metrics,
        routes::assets::index,
        routes::assets::demo_image,
        routes::web_app::call_page,
        routes::web_app::widget_page,
        routes::web_app::console_page,
        routes::web_app::admin_page,
        routes::web_app::embed_script,
        routes::web_app::asset,
        routes::spec::openapi,
        routes::realtime::ws,
        routes::sessions::post::create,
        routes::sessions::get::list,
        routes::sessions::get::one,
        routes::sessions::log::events,
        routes::sessions::log::transcript,
        routes::sessions::post::invite,
        routes::catalog::import::import,
        routes::catalog::products::search,
        routes::shoppers::create,
        routes::shoppers::list,
        routes::shoppers::token,
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        ErrorCodeName,
        RoleName,
        ModuleName,
        StaffRoleName,
        SessionStatusName,
        ConsentKindName,
        routes::sessions::log::TranscriptFormat,
        Card,
        Cart,
        Order,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "sessions", description = "Creating sessions, reading their state and logs, \
            inviting participants"),
        (name = "catalog", description = "Importing and searching the product catalog"),
        (name = "shoppers", description = "Staff users and their tokens"),
        (name = "realtime", description = "The WebSocket that carries live sessions"),
        (name = "operations", description = "Liveness, readiness and metrics, for the admin \
            network"),
        (name = "app", description = "The browser app's pages and files, the landing page \
            and the demo catalog's images"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// The document as JSON, built once.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        // unwrap: the document is plain data (strings, maps, numbers); it always serializes.
        ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI document serializes")
    })
}

/// Adds the security schemes the operations name.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            STAFF_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A staff token (`POST /v1/shoppers/{id}/tokens`, or the admin token \
                         printed on first start). An operation's requirement lists the \
                         modules it needs; alternatives are separate requirements.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            WIDGET_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                crate::routes::sessions::post::PUBLIC_KEY_HEADER,
                "The tenant's public widget key; only `POST /v1/sessions` takes it.",
            ))),
        );
    }
}

/// A participant's role in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Role)]
pub enum RoleName {
    /// The salesperson running the call.
    Shopper,
    /// The customer being served.
    Customer,
    /// Watches the call without selling.
    Observer,
}

impl From<Role> for RoleName {
    // Exhaustive on purpose: a new engine role does not compile until it is documented.
    fn from(role: Role) -> Self {
        match role {
            Role::Shopper => Self::Shopper,
            Role::Customer => Self::Customer,
            Role::Observer => Self::Observer,
        }
    }
}

/// Where a session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SessionStatus)]
pub enum SessionStatusName {
    /// Waiting for a shopper.
    Requested,
    /// A shopper took it.
    Matched,
    /// Booked for later.
    Scheduled,
    /// The call is on.
    Live,
    /// The call is over.
    Ended,
    /// Called off before it went live.
    Cancelled,
}

impl From<SessionStatus> for SessionStatusName {
    // Exhaustive on purpose, as for roles.
    fn from(status: SessionStatus) -> Self {
        match status {
            SessionStatus::Requested => Self::Requested,
            SessionStatus::Matched => Self::Matched,
            SessionStatus::Scheduled => Self::Scheduled,
            SessionStatus::Live => Self::Live,
            SessionStatus::Ended => Self::Ended,
            SessionStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// What a participant agreed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ConsentKind)]
pub enum ConsentKindName {
    /// The privacy notice.
    Privacy,
    /// Being recorded.
    Recording,
}

impl From<ConsentKind> for ConsentKindName {
    // Exhaustive on purpose, as for roles.
    fn from(kind: ConsentKind) -> Self {
        match kind {
            ConsentKind::Privacy => Self::Privacy,
            ConsentKind::Recording => Self::Recording,
        }
    }
}

/// A permission module, listed from the engine's own table.
pub struct ModuleName;

impl PartialSchema for ModuleName {
    fn schema() -> RefOr<Schema> {
        let names = Module::ALL.iter().filter_map(wire_name);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some(
                "A permission module: `video_calls` (take calls, see sessions), `analytics` \
                 (session lists, logs, transcripts), `settings` (shoppers, catalog).",
            ))
            .into()
    }
}

impl ToSchema for ModuleName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Module")
    }
}

/// A staff role, listed from the engine's own table.
pub struct StaffRoleName;

impl PartialSchema for StaffRoleName {
    fn schema() -> RefOr<Schema> {
        let grants: Vec<String> = ROLES
            .iter()
            .map(|(name, modules)| {
                let modules: Vec<String> = modules.iter().filter_map(wire_name).collect();
                format!("`{name}`: {}", modules.join(", "))
            })
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ROLES.iter().map(|(name, _)| *name)))
            .description(Some(format!(
                "A staff role; each grants modules. {}.",
                grants.join("; ")
            )))
            .into()
    }
}

impl ToSchema for StaffRoleName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("StaffRole")
    }
}

/// The wire spelling of a module.
fn wire_name(module: &Module) -> Option<String> {
    serde_json::to_value(module)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// A product card.
///
/// `product_id`, `title`, `vendor`; `images` (URLs, or paths on this host such as
/// `/demo/images/…`); `price` and `compare_at_price` (money: `{"amount_minor",
/// "currency"}`; `compare_at_price` only when higher, else `null`); `collection`;
/// `variants` (`[{variant_id, sku, options, price, compare_at_price, available, stock}]`);
/// `in_stock`; `option_names`; and `variant_id`, the highlighted variant, when one was
/// named. See `docs/protocol.md`, "Cards, carts and orders".
#[derive(ToSchema)]
#[schema(value_type = Object)]
pub struct Card(pub serde_json::Value);

/// A cart as commerce answered it.
///
/// `cart_id`, `version` (changes with every edit), `lines`
/// (`[{variant_id, product_id, title, quantity, unit_price, line_total}]`), `subtotal`
/// and `currency`. See `docs/protocol.md`, "Cards, carts and orders".
#[derive(ToSchema)]
#[schema(value_type = Object)]
pub struct Cart(pub serde_json::Value);

/// An order.
///
/// `order_id`, `cart_id`, `lines` (as cart lines, priced at checkout), `total` and
/// `currency`. See `docs/protocol.md`, "Cards, carts and orders".
#[derive(ToSchema)]
#[schema(value_type = Object)]
pub struct Order(pub serde_json::Value);

#[cfg(test)]
mod tests {
    use super::*;

    fn spelled<T: Serialize>(value: T) -> serde_json::Value {
        serde_json::to_value(value).expect("serializes")
    }

    /// The documented names are the engine's wire spelling.
    #[test]
    fn documented_names_match_the_engine_spelling() {
        for role in [Role::Shopper, Role::Customer, Role::Observer] {
            assert_eq!(spelled(role), spelled(RoleName::from(role)));
        }
        for status in [
            SessionStatus::Requested,
            SessionStatus::Matched,
            SessionStatus::Scheduled,
            SessionStatus::Live,
            SessionStatus::Ended,
            SessionStatus::Cancelled,
        ] {
            assert_eq!(spelled(status), spelled(SessionStatusName::from(status)));
        }
        for kind in [ConsentKind::Privacy, ConsentKind::Recording] {
            assert_eq!(spelled(kind), spelled(ConsentKindName::from(kind)));
        }
    }

    #[test]
    fn the_document_names_the_product_and_this_version() {
        let doc: serde_json::Value = serde_json::from_str(json()).expect("JSON");
        assert_eq!(doc["info"]["title"], "Vitrine");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    }
}
