//! First start of a deployment: the token signing key, and with `demo` on, the demo tenant
//! with its admin, a shopper and a sample catalog.

use std::sync::Arc;

use anyhow::{bail, Context};
use rand::RngCore;
use secrecy::ExposeSecret;
use vitrine_engine::commerce::import::{parse_shopify_csv, ImportOptions};
use vitrine_engine::identity::{IssuedToken, Module, StaffPrincipal, TokenIssuer};
use vitrine_persistence::model::{AuditEntry, Tenant, TenantId, User, UserId};
use vitrine_persistence::Store;

use crate::config::Settings;

/// The demo tenant's id.
pub const DEMO_TENANT: &str = "demo";
/// The demo tenant's public widget key (not a secret).
pub const DEMO_PUBLIC_KEY: &str = "pk_demo";
/// The demo admin's user id.
pub const DEMO_ADMIN: &str = "usr_admin";
/// The demo shopper's user id.
pub const DEMO_SHOPPER: &str = "usr_demo_shopper";

/// The invented sample catalog of the demo tenant.
const DEMO_CATALOG: &[u8] = include_bytes!("../../engine/assets/demo-catalog.csv");

/// Shortest accepted `admin_token`.
const MIN_ADMIN_TOKEN: usize = 16;

/// The demo admin as a principal.
pub fn demo_admin() -> StaffPrincipal {
    StaffPrincipal {
        tenant_id: TenantId::new(DEMO_TENANT),
        user_id: UserId::new(DEMO_ADMIN),
        name: "Demo Admin".into(),
        modules: Module::ALL.into_iter().collect(),
    }
}

/// The token issuer over the deployment's signing key (created on first start).
pub async fn token_issuer(
    settings: &Settings,
    store: &Arc<dyn Store>,
) -> anyhow::Result<TokenIssuer> {
    let mut candidate = vec![0u8; 32];
    rand::rng().fill_bytes(&mut candidate);
    let secret = store
        .signing_key(candidate)
        .await
        .context("failed to read the token signing key")?;
    let mut issuer = TokenIssuer::new(&secret).context("the stored signing key is unusable")?;
    if let Some(token) = &settings.admin_token {
        let token = token.expose_secret();
        if token.len() < MIN_ADMIN_TOKEN {
            bail!("VITRINE_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN} characters");
        }
        issuer = issuer.with_static_admin(token.to_owned(), demo_admin());
    }
    Ok(issuer)
}

/// Creates the demo tenant if it does not exist. Returns the admin token to print when it
/// was just created (and no fixed admin token is configured).
pub async fn ensure_demo(
    settings: &Settings,
    store: &Arc<dyn Store>,
    tokens: &TokenIssuer,
) -> anyhow::Result<Option<IssuedToken>> {
    let tenant_id = TenantId::new(DEMO_TENANT);
    if store.tenant(&tenant_id).await?.is_some() {
        return Ok(None);
    }
    let now = vitrine_persistence::now();
    let tenant = Tenant {
        id: tenant_id.clone(),
        name: "Vitrine Demo Store".into(),
        public_key: DEMO_PUBLIC_KEY.into(),
        currency: "USD".into(),
        created_at: now,
    };
    store
        .create_tenant(&tenant)
        .await
        .context("failed to create the demo tenant")?;

    let catalog = parse_shopify_csv(DEMO_CATALOG, &ImportOptions::new("USD"))
        .context("the built-in demo catalog does not parse")?;
    if let Some(issue) = catalog.errors.first() {
        bail!(
            "the built-in demo catalog has an error at line {}: {}",
            issue.line,
            issue.message
        );
    }
    store.import_products(&tenant_id, &catalog.products).await?;

    let admin = User {
        tenant_id: tenant_id.clone(),
        id: UserId::new(DEMO_ADMIN),
        name: "Demo Admin".into(),
        email: "admin@demo.vitrine.invalid".into(),
        phone: None,
        roles: vec!["admin".into()],
        collections: Vec::new(),
        created_at: now,
    };
    store.create_user(&admin).await?;
    // The first two collections of the catalog are the demo shopper's speciality.
    let mut specialities: Vec<String> = Vec::new();
    for p in &catalog.products {
        if let Some(c) = p.collections.first() {
            if !specialities.contains(c) && specialities.len() < 2 {
                specialities.push(c.clone());
            }
        }
    }
    let shopper = User {
        tenant_id: tenant_id.clone(),
        id: UserId::new(DEMO_SHOPPER),
        name: "Sofía Martín".into(),
        email: "sofia@demo.vitrine.invalid".into(),
        phone: None,
        roles: vec!["shopper".into()],
        collections: specialities,
        created_at: now,
    };
    store.create_user(&shopper).await?;
    store
        .record_audit(&AuditEntry {
            tenant_id: tenant_id.clone(),
            actor: "system".into(),
            action: "tenant.created".into(),
            subject: DEMO_TENANT.into(),
            at: now,
            detail: serde_json::json!({ "products": catalog.products.len() }),
        })
        .await?;
    tracing::info!(
        tenant_id = DEMO_TENANT,
        products = catalog.products.len(),
        "demo tenant created"
    );

    if settings.admin_token.is_some() {
        return Ok(None);
    }
    Ok(Some(
        tokens.issue_staff(&demo_admin(), settings.tokens.admin_ttl),
    ))
}
