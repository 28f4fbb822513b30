//! Durable state of Vitrine.
//!
//! The [`Store`] trait lists every durable operation the engine and the gateway need, in
//! domain types ([`model`]); no database type crosses it. Implementations:
//!
//! - [`sqlite::SqliteStore`]: the embedded default, one file under the data directory.
//! - [`postgres::PgStore`]: production and every multi-node setup.
//!
//! Every key starts with the tenant. Session events are appended after an expected seq, so
//! a session's log has no gaps and no duplicates, and appends carry the writer's fencing
//! epoch so a writer that lost a session cannot append to it. Appends that arrive together
//! share one transaction ([`group_commit`]).

pub mod error;
pub mod group_commit;
pub mod model;
pub mod postgres;
pub mod sqlite;
pub mod store;

#[cfg(test)]
mod conformance;

pub use error::{AppendError, CartWriteError, PlaceOrderError, StoreError};
pub use group_commit::{BatchObserver, GroupCommitOptions};
pub use store::{NewOrder, Store};

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern, so search text matches
/// literally in both stores.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The current time at the precision the stores keep (milliseconds), so that state built
/// in memory equals state rebuilt from the store.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now();
    now.duration_trunc(TimeDelta::milliseconds(1))
        .unwrap_or(now)
}

/// Whether any string in `value` (keys included) holds a NUL character, which Postgres
/// cannot store in `text` or `jsonb`. Inputs are checked at the edge; the Postgres store
/// checks again so that one such append cannot fail the others committed with it.
pub fn json_holds_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_holds_nul),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains('\0') || json_holds_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod nul_tests {
    use serde_json::json;

    #[test]
    fn nul_is_found_in_nested_strings_and_keys_only() {
        assert!(!super::json_holds_nul(
            &json!({"a": ["b", 1, null, {"c": "ñ😀"}]})
        ));
        assert!(super::json_holds_nul(
            &json!({"a": ["b", {"c": "x\u{0}y"}]})
        ));
        assert!(super::json_holds_nul(&json!({"k\u{0}": 1})));
        assert!(super::json_holds_nul(&json!("\u{0}")));
    }
}
