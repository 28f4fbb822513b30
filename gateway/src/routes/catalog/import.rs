//! `POST /v1/catalog/import`: a Shopify product CSV.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use vitrine_engine::commerce::import::{
    parse_shopify_csv, ImportError, ImportIssue, ImportOptions, ParsedCatalog,
};
use vitrine_engine::identity::Module;
use vitrine_engine::session::ErrorCode;
use vitrine_persistence::model::{AuditEntry, ProductId, TenantId, VariantId};

use crate::auth::Staff;
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::state::AppState;

/// Query of a catalog import.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Import the products without issues even if others have some.
    #[serde(default)]
    partial: bool,
}

/// A problem with one product of the file; that product is left out whole.
#[derive(ToSchema)]
#[schema(as = ImportIssue)]
pub struct ImportIssueShape {
    /// 1-based line where the product's record starts (the header is line 1).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// The answer of a catalog import.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ImportResult)]
pub struct Outcome {
    /// Products created or replaced by this import.
    pub products: u64,
    /// Variants created or replaced by this import.
    pub variants: u64,
    /// Every issue found, by line.
    #[schema(value_type = Vec<ImportIssueShape>)]
    pub errors: Vec<ImportIssue>,
    /// Present when nothing was imported (`422`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error: Option<ErrorDetail>,
}

/// Imports a catalog.
///
/// By default a file with any issue changes nothing (422 with every issue listed);
/// `?partial=true` imports the products that have none.
///
/// The body is a Shopify product CSV export, at most `catalog.import_max_bytes` (4 MiB by
/// default). Products are created or replaced by handle; variants a product no longer
/// lists are removed.
#[utoipa::path(
    post,
    path = "/v1/catalog/import",
    tag = "catalog",
    operation_id = "import_catalog",
    params(ImportQuery),
    request_body(description = "A Shopify product CSV export; no `Content-Type` is read as CSV",
        content(
            (String = "text/csv"),
            (String = "application/csv"),
            (String = "text/plain"),
            (String = "application/octet-stream"),
        )
    ),
    security(("staff_token" = ["settings"])),
    responses(
        (status = 200, description = "Imported; with `partial=true`, `errors` lists what was \
            left out", body = Outcome),
        (status = 400, description = "Another content type, or a body that cannot be read",
            body = ErrorBody),
        (status = 401, description = "No staff token, or one that is not valid", body = ErrorBody),
        (status = 403, description = "A participant token, or staff without `settings`",
            body = ErrorBody),
        (status = 413, description = "The file is over the limit", body = ErrorBody),
        (status = 422, description = "Nothing was imported: the file has issues (without \
            `partial=true`), no product is fine, or the file cannot be read", body = Outcome),
        (status = 503, description = "The store is unavailable; retry", body = ErrorBody),
    )
)]
pub async fn import(
    staff: Staff,
    req: HttpRequest,
    app: web::Data<AppState>,
    query: web::Query<ImportQuery>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    staff.require(Module::Settings)?;
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/csv");
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    if !matches!(
        mime,
        "text/csv" | "application/csv" | "text/plain" | "application/octet-stream"
    ) {
        return Err(ApiError::invalid(format!(
            "send the catalog as text/csv, not {mime}"
        )));
    }

    // Read the body, refusing it as soon as it passes the limit.
    let max = app.settings.catalog.import_max_bytes;
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::invalid(format!("could not read the body: {e}")))?;
        if bytes.len() + chunk.len() > max {
            return Err(ApiError::new(
                ErrorCode::TooLarge,
                format!("the catalog file is over the limit of {max} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }

    let tenant = app
        .engine
        .store()
        .tenant(&staff.0.tenant_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let options = ImportOptions {
        currency: tenant.currency.clone(),
        max_bytes: max,
    };
    // Parsing a large file takes a while: keep it off the HTTP worker.
    let parsed = web::block(move || parse_shopify_csv(&bytes, &options))
        .await
        .map_err(ApiError::internal)?;
    let mut parsed = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return Ok(whole_file_error(&e)),
    };
    let moved = moved_variants(&app, &tenant.id, &parsed).await?;
    parsed.exclude(moved);

    if !parsed.errors.is_empty() && (!query.partial || parsed.products.is_empty()) {
        return Ok(HttpResponse::UnprocessableEntity().json(Outcome {
            products: 0,
            variants: 0,
            errors: parsed.errors,
            error: Some(ErrorDetail {
                code: ErrorCode::Invalid,
                message: "the catalog has errors; nothing was imported".into(),
            }),
        }));
    }

    let counts = app
        .engine
        .store()
        .import_products(&tenant.id, &parsed.products)
        .await?;
    let audit = AuditEntry {
        tenant_id: tenant.id.clone(),
        actor: staff.0.user_id.to_string(),
        action: "catalog.imported".into(),
        subject: "catalog".into(),
        at: vitrine_persistence::now(),
        detail: json!({ "products": counts.products, "variants": counts.variants,
                        "errors": parsed.errors.len() }),
    };
    app.engine.store().record_audit(&audit).await?;
    tracing::info!(tenant_id = %tenant.id, products = counts.products, variants = counts.variants,
        skipped = parsed.errors.len(), "catalog imported");
    Ok(HttpResponse::Ok().json(Outcome {
        products: counts.products,
        variants: counts.variants,
        errors: parsed.errors,
        error: None,
    }))
}

/// Variants the file gives to a product while the catalog has them on another product
/// that the file does not list: importing them would take them silently from that
/// product. Moving a SKU needs both products in one file.
// Limitation: the check reads before the import writes, so two imports at the same time
// could still move a SKU between them; imports are rare staff actions.
async fn moved_variants(
    app: &AppState,
    tenant: &TenantId,
    parsed: &ParsedCatalog,
) -> Result<Vec<(ProductId, ImportIssue)>, ApiError> {
    let ids: Vec<VariantId> = parsed
        .products
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.id.clone()))
        .collect();
    let owners: HashMap<VariantId, ProductId> = app
        .engine
        .store()
        .variant_owners(tenant, &ids)
        .await?
        .into_iter()
        .collect();
    let listed: HashSet<&ProductId> = parsed.products.iter().map(|p| &p.id).collect();
    let mut issues = Vec::new();
    for product in &parsed.products {
        for v in &product.variants {
            let Some(owner) = owners.get(&v.id) else {
                continue;
            };
            if owner != &product.id && !listed.contains(owner) {
                let line = parsed
                    .variant_lines
                    .get(v.id.as_str())
                    .copied()
                    .unwrap_or(0);
                let message = format!(
                    "SKU {:?} belongs to product {:?}, which this file does not list; \
                     include that product too to move the SKU",
                    v.id.as_str(),
                    owner.as_str()
                );
                issues.push((product.id.clone(), ImportIssue { line, message }));
            }
        }
    }
    Ok(issues)
}

fn whole_file_error(e: &ImportError) -> HttpResponse {
    let (status, code, line) = match e {
        ImportError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge, None),
        ImportError::NotUtf8 { line } | ImportError::Csv { line, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Invalid,
            Some(*line),
        ),
        ImportError::MissingColumns { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Invalid,
            Some(1),
        ),
        ImportError::Empty | ImportError::UnknownCurrency { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, None)
        }
    };
    let errors: Vec<ImportIssue> = line
        .map(|line| ImportIssue {
            line,
            message: e.to_string(),
        })
        .into_iter()
        .collect();
    HttpResponse::build(status).json(Outcome {
        products: 0,
        variants: 0,
        errors,
        error: Some(ErrorDetail {
            code,
            message: e.to_string(),
        }),
    })
}
