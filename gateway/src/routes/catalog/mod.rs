//! Catalog resources.

pub mod import;
pub mod products;
