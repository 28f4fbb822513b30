//! `GET /v1/catalog/products`.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vitrine_engine::commerce::builtin::MAX_SEARCH_RESULTS;
use vitrine_engine::commerce::{CatalogQuery, ProductCard};

use crate::auth::Staff;
use crate::error::{ApiError, ErrorBody};
use crate::openapi::Card;
use crate::state::AppState;

/// Query of a catalog search.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words that must all appear; at most 500 characters. Empty lists everything.
    #[param(max_length = 500)]
    q: Option<String>,
    /// Only products of this collection (a slug).
    collection: Option<String>,
    /// How many cards, 1 to 50; 20 by default.
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
}

/// The answer of a catalog search.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProductSearch)]
pub struct Found {
    /// Cards, the caller's own collections first.
    #[schema(value_type = Vec<Card>)]
    pub products: Vec<ProductCard>,
}

/// Searches the catalog; the caller's own collections come first.
#[utoipa::path(
    get,
    path = "/v1/catalog/products",
    tag = "catalog",
    operation_id = "search_products",
    params(SearchQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "Matching product cards", body = Found),
        (status = 400, description = "An invalid `q` or `limit`", body = ErrorBody),
        (status = 401, description = "No staff token, or one that is not valid", body = ErrorBody),
        (status = 403, description = "A participant token", body = ErrorBody),
        (status = 503, description = "The store or commerce is unavailable; retry",
            body = ErrorBody),
    )
)]
pub async fn search(
    staff: Staff,
    app: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(20);
    if !(1..=MAX_SEARCH_RESULTS).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 50"));
    }
    let text = q.q.unwrap_or_default();
    if text.chars().count() > 500 {
        return Err(ApiError::invalid("q is longer than 500 characters"));
    }
    let store = app.engine.store();
    let preferred = store
        .user(&staff.0.tenant_id, &staff.0.user_id)
        .await?
        .map(|u| u.collections)
        .unwrap_or_default();
    let cards = app
        .engine
        .commerce()
        .search(
            &staff.0.tenant_id,
            &CatalogQuery {
                text,
                collection: q.collection,
                limit,
            },
            &preferred,
        )
        .await
        .map_err(|e| ApiError::from(vitrine_engine::EngineError::from(e)))?;
    Ok(HttpResponse::Ok().json(Found { products: cards }))
}
