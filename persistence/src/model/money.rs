//! Money in integer minor units with an ISO 4217 currency code.

use serde::{Deserialize, Serialize};

/// An amount of money. `amount_minor` is in the currency's minor unit (cents for USD).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
}

impl Money {
    /// Builds an amount in `currency`.
    pub fn new(amount_minor: i64, currency: impl Into<String>) -> Self {
        Self {
            amount_minor,
            currency: currency.into(),
        }
    }
}
