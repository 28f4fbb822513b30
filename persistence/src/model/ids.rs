//! Typed identifiers. Every id is an opaque string on the wire; the types keep a
//! session id from being passed where a participant id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Prefix of freshly generated ids of this kind.
            pub const PREFIX: &'static str = $prefix;

            /// Wraps an existing id.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// Generates a new, time-ordered, random id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Consumes the id, returning its string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A retailer: every object belongs to exactly one tenant.
    TenantId,
    "ten_"
);
id_type!(
    /// A live-shopping session.
    SessionId,
    "ses_"
);
id_type!(
    /// One participant of one session (a shopper, customer or observer).
    ParticipantId,
    "par_"
);
id_type!(
    /// A staff user (admin, shopper, manager).
    UserId,
    "usr_"
);
id_type!(
    /// A customer of a retailer.
    CustomerId,
    "cus_"
);
id_type!(
    /// A product; for imported catalogs, the Shopify handle.
    ProductId,
    "prd_"
);
id_type!(
    /// A product variant; for imported catalogs, the SKU when it has one.
    VariantId,
    "var_"
);
id_type!(
    /// A commerce cart.
    CartId,
    "crt_"
);
id_type!(
    /// An order created by a checkout.
    OrderId,
    "ord_"
);
id_type!(
    /// A running node of a deployment, new at every start.
    NodeId,
    "nod_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_carry_their_prefix_and_are_unique() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert!(a.as_str().starts_with("ses_"));
        assert_ne!(a, b);
    }

    #[test]
    fn ids_serialize_as_plain_strings() {
        let id = VariantId::new("MT-CHR-001-BL");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"MT-CHR-001-BL\"");
    }
}
