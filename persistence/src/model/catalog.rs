//! Catalog records: products, their options, variants and images.

use serde::{Deserialize, Serialize};

use super::ids::{ProductId, VariantId};

/// What happens when a variant's stock runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventoryPolicy {
    /// Refuse to sell beyond the stock on hand.
    Deny,
    /// Keep selling (backorder) when stock is zero or negative.
    Continue,
}

impl InventoryPolicy {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Continue => "continue",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "deny" => Some(Self::Deny),
            "continue" => Some(Self::Continue),
            _ => None,
        }
    }
}

/// A product image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Absolute URL of the image.
    pub src: String,
    /// Alternative text, possibly empty.
    pub alt: String,
    /// 1-based display position.
    pub position: u32,
}

/// One purchasable variant of a product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// Variant id (the SKU for imported catalogs when there is one).
    pub id: VariantId,
    /// Stock keeping unit, if any.
    pub sku: Option<String>,
    /// Option values, in the order of the product's option names.
    pub option_values: Vec<String>,
    /// Price in minor units of the tenant currency.
    pub price_minor: i64,
    /// Compare-at ("was") price in minor units.
    pub compare_at_minor: Option<i64>,
    /// Units on hand; `None` when inventory is not tracked.
    pub stock: Option<i64>,
    /// Whether selling past zero stock is allowed.
    pub inventory_policy: InventoryPolicy,
    /// 1-based position within the product.
    pub position: u32,
    /// Variant-specific image URL.
    pub image: Option<String>,
}

impl Variant {
    /// Whether `quantity` units can be sold now.
    pub fn can_sell(&self, quantity: i64) -> bool {
        match (self.inventory_policy, self.stock) {
            (InventoryPolicy::Continue, _) | (_, None) => true,
            (InventoryPolicy::Deny, Some(stock)) => stock >= quantity,
        }
    }
}

/// A product with its variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Product id (the Shopify handle for imported catalogs).
    pub id: ProductId,
    /// Display title.
    pub title: String,
    /// Description as HTML from the catalog (never rendered unsanitised).
    pub body_html: String,
    /// Brand or vendor.
    pub vendor: String,
    /// Product type; also the product's primary collection.
    pub product_type: String,
    /// Tags, trimmed, in catalog order.
    pub tags: Vec<String>,
    /// Collection slugs derived from the product type and tags.
    pub collections: Vec<String>,
    /// Up to three option names (for example `Size`, `Color`).
    pub option_names: Vec<String>,
    /// Images in display order.
    pub images: Vec<Image>,
    /// `active`, `draft` or `archived`.
    pub status: String,
    /// Variants in display order.
    pub variants: Vec<Variant>,
}

impl Product {
    /// Lower-cased text that catalog search matches terms against: title, vendor, type,
    /// tags, SKUs and option values.
    pub fn search_text(&self) -> String {
        let mut text = format!(
            "{} {} {} {}",
            self.title,
            self.vendor,
            self.product_type,
            self.tags.join(" ")
        );
        for v in &self.variants {
            if let Some(sku) = &v.sku {
                text.push(' ');
                text.push_str(sku);
            }
            for value in &v.option_values {
                text.push(' ');
                text.push_str(value);
            }
        }
        text.to_lowercase()
    }
}

/// A catalog search.
#[derive(Clone, Debug, Default)]
pub struct ProductQuery {
    /// Lower-cased search terms; every term must match.
    pub terms: Vec<String>,
    /// Restrict to products in this collection slug.
    pub collection: Option<String>,
    /// Maximum number of products to return.
    pub limit: u32,
    /// Only `active` products when true.
    pub active_only: bool,
}

/// What an import wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Products created or updated.
    pub products: u64,
    /// Variants created or updated.
    pub variants: u64,
}
