//! Checks of the catalog: imports and search.

use std::collections::HashSet;
use std::sync::Arc;

use crate::model::{ImportCounts, Product, ProductId, ProductQuery, TenantId, VariantId};
use crate::store::Store;

use super::support::{given_products, given_tenant, ids_of, product, variant};

/// A search for every term (already lower-cased), returning at most 50 products.
fn terms(terms: &[&str]) -> ProductQuery {
    ProductQuery {
        terms: terms.iter().map(|t| (*t).to_owned()).collect(),
        limit: 50,
        ..ProductQuery::default()
    }
}

/// Searches with `query` and no preferred collections, returning the ids found as a set.
async fn found(store: &dyn Store, tenant: &TenantId, query: &ProductQuery) -> HashSet<String> {
    store
        .search_products(tenant, query, &[])
        .await
        .expect("search")
        .into_iter()
        .map(|p| p.id.into_string())
        .collect()
}

/// The set of `ids`, for comparing with [`found`].
fn set(ids: &[&str]) -> HashSet<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

pub(crate) async fn importing_products_stores_them_with_their_variants(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let mut hoodie = product(
        "prd_hoodie",
        "Hoodie",
        &["tops", "sale"],
        vec![
            variant("var_hoodie_m", 4_900, Some(3)),
            variant("var_hoodie_l", 5_100, None),
        ],
    );
    hoodie.tags = vec!["cotton".to_owned(), "unisex".to_owned()];
    hoodie.variants[0].sku = Some("HD-M".to_owned());
    hoodie.variants[0].compare_at_minor = Some(5_900);
    hoodie.variants[1].image = Some("https://cdn.example.com/hoodie-l.jpg".to_owned());
    let cap = product(
        "prd_cap",
        "Cap",
        &["accessories"],
        vec![variant("var_cap", 1_500, Some(0))],
    );

    // Act
    let counts = store
        .import_products(&tenant, &[hoodie.clone(), cap.clone()])
        .await
        .expect("import");

    // Assert
    assert_eq!(
        counts,
        ImportCounts {
            products: 2,
            variants: 3
        }
    );
    assert_eq!(
        store.product(&tenant, &hoodie.id).await.expect("read"),
        Some(hoodie.clone())
    );
    assert_eq!(
        store.product(&tenant, &cap.id).await.expect("read"),
        Some(cap)
    );
    let of_variant = store
        .product_of_variant(&tenant, &VariantId::new("var_hoodie_l"))
        .await
        .expect("read");
    assert_eq!(of_variant, Some(hoodie));
    let unknown = store
        .product(&tenant, &ProductId::new("prd_none"))
        .await
        .expect("read");
    assert_eq!(unknown, None);
}

pub(crate) async fn reimporting_a_product_replaces_its_fields_and_drops_unlisted_variants(
    store: Arc<dyn Store>,
) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let first = product(
        "prd_tee",
        "Tee",
        &["tops"],
        vec![
            variant("var_tee_s", 2_000, Some(5)),
            variant("var_tee_m", 2_000, Some(5)),
        ],
    );
    given_products(&*store, &tenant, &[first]).await;
    let mut second = product(
        "prd_tee",
        "Organic Tee",
        &["tops", "organic"],
        vec![
            variant("var_tee_s", 2_500, Some(8)),
            variant("var_tee_xl", 2_700, None),
        ],
    );
    second.status = "draft".to_owned();
    second.option_names = vec!["Taille".to_owned()];

    // Act
    let counts = store
        .import_products(&tenant, &[second.clone()])
        .await
        .expect("re-import");

    // Assert
    assert_eq!(
        counts,
        ImportCounts {
            products: 1,
            variants: 2
        }
    );
    assert_eq!(
        store.product(&tenant, &second.id).await.expect("read"),
        Some(second)
    );
    let dropped = store
        .product_of_variant(&tenant, &VariantId::new("var_tee_m"))
        .await
        .expect("read");
    assert_eq!(dropped, None);
    let renamed = found(&*store, &tenant, &terms(&["organic"])).await;
    assert_eq!(renamed, set(&["prd_tee"]));
}

pub(crate) async fn variant_owners_name_the_product_of_each_known_variant(store: Arc<dyn Store>) {
    // Arrange: two products, and a variant of the same id in another tenant.
    let tenant = given_tenant(&*store, "ten_a").await;
    let other = given_tenant(&*store, "ten_b").await;
    let tee = product(
        "prd_tee",
        "Tee",
        &["tops"],
        vec![variant("TEE-S", 1_000, None), variant("TEE-M", 1_000, None)],
    );
    let mug = product("prd_mug", "Taza ☕", &[], vec![variant("MUG-1", 800, None)]);
    store
        .import_products(&tenant, &[tee, mug])
        .await
        .expect("import");
    let elsewhere = product("prd_x", "X", &[], vec![variant("NEW-1", 1, None)]);
    store
        .import_products(&other, &[elsewhere])
        .await
        .expect("import");

    // Act
    let ids: Vec<VariantId> = ["TEE-M", "MUG-1", "NEW-1", "NONE"]
        .into_iter()
        .map(VariantId::new)
        .collect();
    let mut owners = store.variant_owners(&tenant, &ids).await.expect("read");
    owners.sort();

    // Assert: only this tenant's variants, each with its product.
    assert_eq!(
        owners,
        vec![
            (VariantId::new("MUG-1"), ProductId::new("prd_mug")),
            (VariantId::new("TEE-M"), ProductId::new("prd_tee")),
        ]
    );
    assert_eq!(
        store.variant_owners(&tenant, &[]).await.expect("read"),
        vec![]
    );
}

/// A small catalog with Unicode-heavy titles.
fn unicode_catalog() -> Vec<Product> {
    vec![
        product(
            "prd_creme",
            "Café Crème 日本",
            &["coffee"],
            vec![variant("var_creme", 900, None)],
        ),
        product(
            "prd_noir",
            "Café Noir",
            &["coffee"],
            vec![variant("var_noir", 800, None)],
        ),
        product(
            "prd_eclair",
            "ÉCLAIR Über Ωmega",
            &["pastry"],
            vec![variant("var_ecl", 450, None)],
        ),
    ]
}

pub(crate) async fn search_matches_only_products_with_every_term(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    given_products(&*store, &tenant, &unicode_catalog()).await;

    // Act
    let cafe = found(&*store, &tenant, &terms(&["café"])).await;
    let cafe_creme = found(&*store, &tenant, &terms(&["café", "crème"])).await;
    let japan = found(&*store, &tenant, &terms(&["日本"])).await;
    let creme_noir = found(&*store, &tenant, &terms(&["crème", "noir"])).await;
    let folded = found(&*store, &tenant, &terms(&["éclair", "über", "ωmega"])).await;
    let by_type = found(&*store, &tenant, &terms(&["pastry"])).await;

    // Assert
    assert_eq!(cafe, set(&["prd_creme", "prd_noir"]));
    assert_eq!(cafe_creme, set(&["prd_creme"]));
    assert_eq!(japan, set(&["prd_creme"]));
    assert!(creme_noir.is_empty(), "found {creme_noir:?}");
    assert_eq!(folded, set(&["prd_eclair"]));
    assert_eq!(by_type, set(&["prd_eclair"]));
}

/// Four products over three collections.
fn collection_catalog() -> Vec<Product> {
    vec![
        product(
            "prd_alpha",
            "Alpha Loafer",
            &["shoes"],
            vec![variant("var_alpha", 9_000, None)],
        ),
        product(
            "prd_beta",
            "Beta Clutch",
            &["bags"],
            vec![variant("var_beta", 7_000, None)],
        ),
        product(
            "prd_gamma",
            "Gamma Sneaker",
            &["shoes"],
            vec![variant("var_gamma", 8_000, None)],
        ),
        product(
            "prd_delta",
            "Delta Scarf",
            &["scarves"],
            vec![variant("var_delta", 3_000, None)],
        ),
    ]
}

pub(crate) async fn search_filters_by_collection(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    given_products(&*store, &tenant, &collection_catalog()).await;
    let in_collection = |slug: &str| ProductQuery {
        collection: Some(slug.to_owned()),
        ..terms(&[])
    };

    // Act
    let shoes = found(&*store, &tenant, &in_collection("shoes")).await;
    let prefix = found(&*store, &tenant, &in_collection("shoe")).await;
    let shoes_named_gamma = found(
        &*store,
        &tenant,
        &ProductQuery {
            terms: vec!["gamma".to_owned()],
            ..in_collection("shoes")
        },
    )
    .await;

    // Assert
    assert_eq!(shoes, set(&["prd_alpha", "prd_gamma"]));
    assert!(prefix.is_empty(), "a collection prefix matched {prefix:?}");
    assert_eq!(shoes_named_gamma, set(&["prd_gamma"]));
}

pub(crate) async fn search_ranks_preferred_collections_first_within_the_limit(
    store: Arc<dyn Store>,
) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    given_products(&*store, &tenant, &collection_catalog()).await;
    let preferred = ["bags".to_owned(), "scarves".to_owned()];
    let limited = |limit: u32| ProductQuery {
        limit,
        ..terms(&[])
    };

    // Act
    let ranked = store
        .search_products(&tenant, &terms(&[]), &preferred)
        .await
        .expect("search");
    let top = store
        .search_products(&tenant, &limited(1), &preferred[..1])
        .await
        .expect("search");
    let two = store
        .search_products(&tenant, &limited(2), &[])
        .await
        .expect("search");

    // Assert
    let ids = ids_of(&ranked);
    assert_eq!(ids.len(), 4);
    assert_eq!(
        ids[..2].iter().collect::<HashSet<_>>(),
        ["prd_beta", "prd_delta"].iter().collect()
    );
    assert_eq!(
        ids[2..].iter().collect::<HashSet<_>>(),
        ["prd_alpha", "prd_gamma"].iter().collect()
    );
    assert_eq!(ids_of(&top), ["prd_beta"]);
    assert_eq!(two.len(), 2);
}

pub(crate) async fn search_treats_like_wildcards_in_the_query_literally(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let catalog = [
        product(
            "prd_pct",
            "Sale 50% off",
            &["sale"],
            vec![variant("var_pct", 100, None)],
        ),
        product(
            "prd_500",
            "Sale 500 off",
            &["sale"],
            vec![variant("var_500", 100, None)],
        ),
        product(
            "prd_under",
            "Tote_Bag Canvas",
            &["a_b"],
            vec![variant("var_under", 100, None)],
        ),
        product(
            "prd_x",
            "ToteXBag Canvas",
            &["axb"],
            vec![variant("var_x", 100, None)],
        ),
    ];
    given_products(&*store, &tenant, &catalog).await;
    let in_collection = |slug: &str| ProductQuery {
        collection: Some(slug.to_owned()),
        ..terms(&[])
    };

    // Act
    let percent = found(&*store, &tenant, &terms(&["50%"])).await;
    let bare_percent = found(&*store, &tenant, &terms(&["%"])).await;
    let underscore = found(&*store, &tenant, &terms(&["e_b"])).await;
    let underscore_collection = found(&*store, &tenant, &in_collection("a_b")).await;
    let percent_collection = found(&*store, &tenant, &in_collection("%")).await;

    // Assert
    assert_eq!(percent, set(&["prd_pct"]));
    assert_eq!(bare_percent, set(&["prd_pct"]));
    assert_eq!(underscore, set(&["prd_under"]));
    assert_eq!(underscore_collection, set(&["prd_under"]));
    assert!(
        percent_collection.is_empty(),
        "found {percent_collection:?}"
    );
}

pub(crate) async fn search_skips_inactive_products_when_asked(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let live = product(
        "prd_live",
        "Linen Shirt",
        &["tops"],
        vec![variant("var_live", 1, None)],
    );
    let mut draft = product(
        "prd_draft",
        "Linen Dress",
        &["tops"],
        vec![variant("var_dr", 1, None)],
    );
    draft.status = "draft".to_owned();
    given_products(&*store, &tenant, &[live, draft]).await;

    // Act
    let everything = found(&*store, &tenant, &terms(&["linen"])).await;
    let active = found(
        &*store,
        &tenant,
        &ProductQuery {
            active_only: true,
            ..terms(&["linen"])
        },
    )
    .await;

    // Assert
    assert_eq!(everything, set(&["prd_live", "prd_draft"]));
    assert_eq!(active, set(&["prd_live"]));
}
