//! Conversions between SQLite values and domain types, in one place.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::Type;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::StoreError;

/// Formats a time the way every table stores it.
pub(crate) fn time_text(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads a stored time from column `idx`.
pub(crate) fn time_at(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(idx)?;
    parse_time(&text).map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, e))
}

/// Reads an optional stored time from column `idx`.
pub(crate) fn opt_time_at(
    row: &rusqlite::Row<'_>,
    idx: usize,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let text: Option<String> = row.get(idx)?;
    text.map(|t| {
        parse_time(&t).map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, e))
    })
    .transpose()
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, Box<dyn std::error::Error + Send + Sync>> {
    Ok(DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc))
}

/// Reads a JSON column into a typed value.
pub(crate) fn json_at<T: DeserializeOwned>(
    row: &rusqlite::Row<'_>,
    idx: usize,
) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

/// Serialises a value for a JSON column.
pub(crate) fn json_text<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(format!("encode json: {e}")))
}

/// Reads a non-negative integer column as `u64`.
pub(crate) fn u64_at(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let n: i64 = row.get(idx)?;
    u64::try_from(n)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Integer, e.into()))
}

/// Converts a `u64` for binding; values past `i64::MAX` never occur for seqs and epochs.
pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Collections are stored as `|a|b|` so one `LIKE '%|a|%'` finds a member.
pub(crate) fn collections_text(collections: &[String]) -> String {
    let mut text = String::from("|");
    for c in collections {
        text.push_str(c);
        text.push('|');
    }
    text
}

/// Parses a `|a|b|` collections column.
pub(crate) fn collections_from(text: &str) -> Vec<String> {
    text.split('|')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
