//! Products and variants.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::error::StoreError;
use crate::model::{
    ImportCounts, InventoryPolicy, Product, ProductId, ProductQuery, TenantId, Variant, VariantId,
};

use super::rows::{collections_from, collections_text, json_at, json_text, time_text};
use super::sql_error;
use crate::like_escape;

// Limitation: an import is one transaction on the writer thread, so appends of live
// sessions wait behind a large catalog for as long as its import takes.
pub(crate) fn import_products(
    conn: &mut Connection,
    tenant: &TenantId,
    products: &[Product],
) -> Result<ImportCounts, StoreError> {
    let tx = conn.transaction().map_err(sql_error)?;
    let now = time_text(&chrono::Utc::now());
    let mut counts = ImportCounts::default();
    for p in products {
        tx.prepare_cached(
            "INSERT INTO products (tenant_id, product_id, title, body_html, vendor, product_type,
                                   tags, collections, option_names, images, status, search_text,
                                   updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (tenant_id, product_id) DO UPDATE SET
                 title = excluded.title, body_html = excluded.body_html,
                 vendor = excluded.vendor, product_type = excluded.product_type,
                 tags = excluded.tags, collections = excluded.collections,
                 option_names = excluded.option_names, images = excluded.images,
                 status = excluded.status, search_text = excluded.search_text,
                 updated_at = excluded.updated_at",
        )
        .and_then(|mut st| {
            st.execute(params![
                tenant.as_str(),
                p.id.as_str(),
                p.title,
                p.body_html,
                p.vendor,
                p.product_type,
                json_text(&p.tags).map_err(to_sql)?,
                collections_text(&p.collections),
                json_text(&p.option_names).map_err(to_sql)?,
                json_text(&p.images).map_err(to_sql)?,
                p.status,
                p.search_text(),
                now
            ])
        })
        .map_err(sql_error)?;
        counts.products += 1;

        // Variants the catalog no longer lists are removed; the rest are upserted.
        let keep: Vec<&str> = p.variants.iter().map(|v| v.id.as_str()).collect();
        let existing: Vec<String> = tx
            .prepare_cached(
                "SELECT variant_id FROM variants WHERE tenant_id = ?1 AND product_id = ?2",
            )
            .and_then(|mut st| {
                st.query_map([tenant.as_str(), p.id.as_str()], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(sql_error)?;
        for gone in existing.iter().filter(|id| !keep.contains(&id.as_str())) {
            tx.execute(
                "DELETE FROM variants WHERE tenant_id = ?1 AND variant_id = ?2",
                [tenant.as_str(), gone],
            )
            .map_err(sql_error)?;
        }
        for v in &p.variants {
            upsert_variant(&tx, tenant, &p.id, v)?;
            counts.variants += 1;
        }
    }
    tx.commit().map_err(sql_error)?;
    Ok(counts)
}

fn to_sql(e: StoreError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

fn upsert_variant(
    conn: &Connection,
    tenant: &TenantId,
    product: &ProductId,
    v: &Variant,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO variants (tenant_id, variant_id, product_id, sku, option_values, price_minor,
                               compare_at_minor, stock, inventory_policy, position, image)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (tenant_id, variant_id) DO UPDATE SET
             product_id = excluded.product_id, sku = excluded.sku,
             option_values = excluded.option_values, price_minor = excluded.price_minor,
             compare_at_minor = excluded.compare_at_minor, stock = excluded.stock,
             inventory_policy = excluded.inventory_policy, position = excluded.position,
             image = excluded.image",
    )
    .and_then(|mut st| {
        st.execute(params![
            tenant.as_str(),
            v.id.as_str(),
            product.as_str(),
            v.sku,
            json_text(&v.option_values).map_err(to_sql)?,
            v.price_minor,
            v.compare_at_minor,
            v.stock,
            v.inventory_policy.as_str(),
            v.position,
            v.image
        ])
    })
    .map_err(sql_error)?;
    Ok(())
}

pub(crate) fn product(
    conn: &Connection,
    tenant: &TenantId,
    id: &ProductId,
) -> Result<Option<Product>, StoreError> {
    let head = conn
        .prepare_cached(
            "SELECT product_id, title, body_html, vendor, product_type, tags, collections,
                    option_names, images, status
             FROM products WHERE tenant_id = ?1 AND product_id = ?2",
        )
        .and_then(|mut st| {
            st.query_row([tenant.as_str(), id.as_str()], |row| {
                Ok(Product {
                    id: ProductId::new(row.get::<_, String>(0)?),
                    title: row.get(1)?,
                    body_html: row.get(2)?,
                    vendor: row.get(3)?,
                    product_type: row.get(4)?,
                    tags: json_at(row, 5)?,
                    collections: collections_from(&row.get::<_, String>(6)?),
                    option_names: json_at(row, 7)?,
                    images: json_at(row, 8)?,
                    status: row.get(9)?,
                    variants: Vec::new(),
                })
            })
            .optional()
        })
        .map_err(sql_error)?;
    let Some(mut product) = head else {
        return Ok(None);
    };
    product.variants = conn
        .prepare_cached(
            "SELECT variant_id, sku, option_values, price_minor, compare_at_minor, stock,
                    inventory_policy, position, image
             FROM variants WHERE tenant_id = ?1 AND product_id = ?2 ORDER BY position, variant_id",
        )
        .and_then(|mut st| {
            st.query_map([tenant.as_str(), id.as_str()], |row| {
                let policy: String = row.get(6)?;
                Ok(Variant {
                    id: VariantId::new(row.get::<_, String>(0)?),
                    sku: row.get(1)?,
                    option_values: json_at(row, 2)?,
                    price_minor: row.get(3)?,
                    compare_at_minor: row.get(4)?,
                    stock: row.get(5)?,
                    inventory_policy: InventoryPolicy::parse(&policy)
                        .unwrap_or(InventoryPolicy::Deny),
                    position: row.get(7)?,
                    image: row.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(sql_error)?;
    Ok(Some(product))
}

pub(crate) fn product_of_variant(
    conn: &Connection,
    tenant: &TenantId,
    variant: &VariantId,
) -> Result<Option<Product>, StoreError> {
    let product_id: Option<String> = conn
        .prepare_cached("SELECT product_id FROM variants WHERE tenant_id = ?1 AND variant_id = ?2")
        .and_then(|mut st| {
            st.query_row([tenant.as_str(), variant.as_str()], |r| r.get(0))
                .optional()
        })
        .map_err(sql_error)?;
    match product_id {
        Some(id) => product(conn, tenant, &ProductId::new(id)),
        None => Ok(None),
    }
}

pub(crate) fn variant_owners(
    conn: &Connection,
    tenant: &TenantId,
    variants: &[VariantId],
) -> Result<Vec<(VariantId, ProductId)>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT product_id FROM variants WHERE tenant_id = ?1 AND variant_id = ?2")
        .map_err(sql_error)?;
    let mut owners = Vec::new();
    for variant in variants {
        let owner: Option<String> = st
            .query_row([tenant.as_str(), variant.as_str()], |r| r.get(0))
            .optional()
            .map_err(sql_error)?;
        if let Some(owner) = owner {
            owners.push((variant.clone(), ProductId::new(owner)));
        }
    }
    Ok(owners)
}

pub(crate) fn search_products(
    conn: &Connection,
    tenant: &TenantId,
    query: &ProductQuery,
    preferred: &[String],
) -> Result<Vec<Product>, StoreError> {
    let mut sql = String::from("SELECT product_id FROM products WHERE tenant_id = ?");
    let mut args: Vec<String> = vec![tenant.as_str().to_owned()];
    if query.active_only {
        sql.push_str(" AND status = 'active'");
    }
    if let Some(collection) = &query.collection {
        sql.push_str(" AND collections LIKE ? ESCAPE '\\'");
        args.push(format!("%|{}|%", like_escape(collection)));
    }
    for term in &query.terms {
        sql.push_str(" AND search_text LIKE ? ESCAPE '\\'");
        args.push(format!("%{}%", like_escape(term)));
    }
    sql.push_str(" ORDER BY ");
    if !preferred.is_empty() {
        let any = vec!["collections LIKE ? ESCAPE '\\'"; preferred.len()].join(" OR ");
        sql.push_str(&format!("CASE WHEN {any} THEN 0 ELSE 1 END, "));
        args.extend(preferred.iter().map(|c| format!("%|{}|%", like_escape(c))));
    }
    sql.push_str(&format!("title, product_id LIMIT {}", query.limit.max(1)));

    let ids: Vec<String> = conn
        .prepare_cached(&sql)
        .and_then(|mut st| {
            st.query_map(params_from_iter(args.iter()), |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(sql_error)?;
    let mut products = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(p) = product(conn, tenant, &ProductId::new(id))? {
            products.push(p);
        }
    }
    Ok(products)
}
