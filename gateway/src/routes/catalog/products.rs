//! `GET /v1/catalog/products`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use vitrine_engine::commerce::builtin::MAX_SEARCH_RESULTS;
use vitrine_engine::commerce::CatalogQuery;

use crate::auth::Staff;
use crate::error::ApiError;
use crate::state::AppState;

/// Query of a catalog search.
#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    collection: Option<String>,
    limit: Option<u32>,
}

/// Searches the catalog; the caller's own collections come first.
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
    Ok(HttpResponse::Ok().json(json!({ "products": cards })))
}
