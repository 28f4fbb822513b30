//! Products and variants.

use deadpool_postgres::{GenericClient, Pool};
use tokio_postgres::types::ToSql;

use super::{pg_error, pool_error};
use crate::error::StoreError;
use crate::like_escape;
use crate::model::{
    ImportCounts, InventoryPolicy, Product, ProductId, ProductQuery, TenantId, Variant, VariantId,
};

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

pub(crate) async fn import_products(
    pool: Pool,
    tenant: TenantId,
    products: Vec<Product>,
) -> Result<ImportCounts, StoreError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await.map_err(pg_error)?;
    let mut counts = ImportCounts::default();
    let upsert_product = tx
        .prepare_cached(
            "INSERT INTO products (tenant_id, product_id, title, body_html, vendor, product_type,
                                   tags, collections, option_names, images, status, search_text,
                                   updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())
             ON CONFLICT (tenant_id, product_id) DO UPDATE SET
                 title = excluded.title, body_html = excluded.body_html,
                 vendor = excluded.vendor, product_type = excluded.product_type,
                 tags = excluded.tags, collections = excluded.collections,
                 option_names = excluded.option_names, images = excluded.images,
                 status = excluded.status, search_text = excluded.search_text,
                 updated_at = excluded.updated_at",
        )
        .await
        .map_err(pg_error)?;
    let upsert_variant = tx
        .prepare_cached(
            "INSERT INTO variants (tenant_id, variant_id, product_id, sku, option_values,
                                   price_minor, compare_at_minor, stock, inventory_policy,
                                   position, image)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (tenant_id, variant_id) DO UPDATE SET
                 product_id = excluded.product_id, sku = excluded.sku,
                 option_values = excluded.option_values, price_minor = excluded.price_minor,
                 compare_at_minor = excluded.compare_at_minor, stock = excluded.stock,
                 inventory_policy = excluded.inventory_policy, position = excluded.position,
                 image = excluded.image",
        )
        .await
        .map_err(pg_error)?;
    for p in &products {
        tx.execute(
            &upsert_product,
            &[
                &tenant.as_str(),
                &p.id.as_str(),
                &p.title,
                &p.body_html,
                &p.vendor,
                &p.product_type,
                &json(&p.tags),
                &p.collections,
                &json(&p.option_names),
                &json(&p.images),
                &p.status,
                &p.search_text(),
            ],
        )
        .await
        .map_err(pg_error)?;
        counts.products += 1;

        // Variants the catalog no longer lists are removed; the rest are upserted.
        let keep: Vec<&str> = p.variants.iter().map(|v| v.id.as_str()).collect();
        tx.execute(
            "DELETE FROM variants WHERE tenant_id = $1 AND product_id = $2
             AND NOT (variant_id = ANY($3))",
            &[&tenant.as_str(), &p.id.as_str(), &keep],
        )
        .await
        .map_err(pg_error)?;
        for v in &p.variants {
            tx.execute(
                &upsert_variant,
                &[
                    &tenant.as_str(),
                    &v.id.as_str(),
                    &p.id.as_str(),
                    &v.sku,
                    &json(&v.option_values),
                    &v.price_minor,
                    &v.compare_at_minor,
                    &v.stock,
                    &v.inventory_policy.as_str(),
                    &i32::try_from(v.position).unwrap_or(i32::MAX),
                    &v.image,
                ],
            )
            .await
            .map_err(pg_error)?;
            counts.variants += 1;
        }
    }
    tx.commit().await.map_err(pg_error)?;
    Ok(counts)
}

/// Reads one product with its variants through any client or transaction.
pub(crate) async fn load_product<C: GenericClient>(
    client: &C,
    tenant: &TenantId,
    id: &ProductId,
) -> Result<Option<Product>, StoreError> {
    let head = client
        .query_opt(
            "SELECT product_id, title, body_html, vendor, product_type, tags, collections,
                    option_names, images, status
             FROM products WHERE tenant_id = $1 AND product_id = $2",
            &[&tenant.as_str(), &id.as_str()],
        )
        .await
        .map_err(pg_error)?;
    let Some(r) = head else {
        return Ok(None);
    };
    let mut product = Product {
        id: ProductId::new(r.get::<_, String>(0)),
        title: r.get(1),
        body_html: r.get(2),
        vendor: r.get(3),
        product_type: r.get(4),
        tags: serde_json::from_value(r.get(5)).unwrap_or_default(),
        collections: r.get(6),
        option_names: serde_json::from_value(r.get(7)).unwrap_or_default(),
        images: serde_json::from_value(r.get(8)).unwrap_or_default(),
        status: r.get(9),
        variants: Vec::new(),
    };
    let rows = client
        .query(
            "SELECT variant_id, sku, option_values, price_minor, compare_at_minor, stock,
                    inventory_policy, position, image
             FROM variants WHERE tenant_id = $1 AND product_id = $2
             ORDER BY position, variant_id",
            &[&tenant.as_str(), &id.as_str()],
        )
        .await
        .map_err(pg_error)?;
    product.variants = rows
        .iter()
        .map(|r| Variant {
            id: VariantId::new(r.get::<_, String>(0)),
            sku: r.get(1),
            option_values: serde_json::from_value(r.get(2)).unwrap_or_default(),
            price_minor: r.get(3),
            compare_at_minor: r.get(4),
            stock: r.get(5),
            inventory_policy: InventoryPolicy::parse(r.get::<_, &str>(6))
                .unwrap_or(InventoryPolicy::Deny),
            position: u32::try_from(r.get::<_, i32>(7)).unwrap_or(0),
            image: r.get(8),
        })
        .collect();
    Ok(Some(product))
}

pub(crate) async fn product(
    pool: Pool,
    tenant: TenantId,
    id: ProductId,
) -> Result<Option<Product>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    load_product(&client, &tenant, &id).await
}

pub(crate) async fn variant_owners(
    pool: Pool,
    tenant: TenantId,
    variants: Vec<VariantId>,
) -> Result<Vec<(VariantId, ProductId)>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let ids: Vec<&str> = variants.iter().map(VariantId::as_str).collect();
    let rows = client
        .query(
            "SELECT variant_id, product_id FROM variants
             WHERE tenant_id = $1 AND variant_id = ANY($2)",
            &[&tenant.as_str(), &ids],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                VariantId::new(r.get::<_, String>(0)),
                ProductId::new(r.get::<_, String>(1)),
            )
        })
        .collect())
}

pub(crate) async fn product_of_variant(
    pool: Pool,
    tenant: TenantId,
    variant: VariantId,
) -> Result<Option<Product>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let row = client
        .query_opt(
            "SELECT product_id FROM variants WHERE tenant_id = $1 AND variant_id = $2",
            &[&tenant.as_str(), &variant.as_str()],
        )
        .await
        .map_err(pg_error)?;
    match row {
        Some(r) => load_product(&client, &tenant, &ProductId::new(r.get::<_, String>(0))).await,
        None => Ok(None),
    }
}

pub(crate) async fn search_products(
    pool: Pool,
    tenant: TenantId,
    query: ProductQuery,
    preferred: Vec<String>,
) -> Result<Vec<Product>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let mut sql = String::from("SELECT product_id FROM products WHERE tenant_id = $1");
    let mut args: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(tenant.as_str().to_owned())];
    if query.active_only {
        sql.push_str(" AND status = 'active'");
    }
    if let Some(collection) = &query.collection {
        args.push(Box::new(collection.clone()));
        sql.push_str(&format!(" AND ${} = ANY(collections)", args.len()));
    }
    for term in &query.terms {
        args.push(Box::new(format!("%{}%", like_escape(term))));
        sql.push_str(&format!(" AND search_text LIKE ${}", args.len()));
    }
    sql.push_str(" ORDER BY ");
    if !preferred.is_empty() {
        args.push(Box::new(preferred.clone()));
        sql.push_str(&format!("(collections && ${}::text[]) DESC, ", args.len()));
    }
    sql.push_str(&format!("title, product_id LIMIT {}", query.limit.max(1)));
    let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| &**a as _).collect();
    let rows = client.query(&sql, &params).await.map_err(pg_error)?;
    let mut products = Vec::with_capacity(rows.len());
    for r in rows {
        let id = ProductId::new(r.get::<_, String>(0));
        if let Some(p) = load_product(&client, &tenant, &id).await? {
            products.push(p);
        }
    }
    Ok(products)
}
