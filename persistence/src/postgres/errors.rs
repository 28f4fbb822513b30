//! Turning Postgres and pool failures into [`StoreError`]s that say what went wrong.
//!
//! `tokio_postgres::Error`'s own text is only its kind ("db error", "error connecting to
//! server"); the reason sits in the server's `DbError` or in the error's sources. The
//! messages built here carry that reason, but never statement parameters: detail lines
//! (which quote key values) are left out, and so are the messages of data exceptions
//! (SQLSTATE class 22), which quote the offending input.

use std::error::Error as _;

use tokio_postgres::error::SqlState;

use crate::error::StoreError;

/// Maps a Postgres error: lost connections, shutdowns, timeouts and overload are
/// "unavailable"; a unique violation is "already exists" at the call sites that expect it.
pub(crate) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    if is_transient(&e) {
        StoreError::Unavailable(describe(&e))
    } else {
        StoreError::Internal(describe(&e))
    }
}

fn is_transient(e: &tokio_postgres::Error) -> bool {
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection itself failed (refused, reset, closed).
        return true;
    };
    let class = &code.code()[..2];
    matches!(class, "08" | "53" | "57" | "40")
        || *code == SqlState::QUERY_CANCELED
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
}

/// Maps a unique violation to `AlreadyExists(what)`.
pub(crate) fn unique_or(e: tokio_postgres::Error, what: String) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::AlreadyExists(what)
    } else {
        pg_error(e)
    }
}

/// Maps a pool failure: every one of them (timeout, refused connection) is transient.
pub(crate) fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    let cause = match &e {
        deadpool_postgres::PoolError::Backend(pg) => describe(pg),
        other => other.to_string(),
    };
    StoreError::Unavailable(format!("no database connection: {cause}"))
}

/// Maps a failed migration run, with the database's reason when it gave one.
pub(crate) fn migration_error(e: &refinery::Error) -> StoreError {
    let cause = e
        .source()
        .and_then(|s| s.downcast_ref::<tokio_postgres::Error>())
        .map(describe);
    StoreError::Internal(match cause {
        Some(cause) => format!("migrate postgres: {e}: {cause}"),
        None => format!("migrate postgres: {e}"),
    })
}

/// The error's kind followed by its cause: the server's code and message, or the chain
/// of sources (such as "Connection refused") when the server never answered.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        // Data exceptions quote the value that failed to convert: keep only the code.
        if code.starts_with("22") {
            return format!("{e}: SQLSTATE {code} (data exception)");
        }
        return format!("{e}: SQLSTATE {code}: {}", db.message());
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use tokio_postgres::NoTls;

    use super::*;
    use crate::postgres::testing;

    /// A URL of a port nothing listens on (bound for a moment, then let go).
    fn closed_url() -> String {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        format!("postgres://postgres@127.0.0.1:{port}/x")
    }

    /// Opening the store fails with the cause, inside a runtime, without a panic from
    /// the store's own runtime being dropped there.
    #[tokio::test]
    async fn a_store_that_cannot_connect_fails_naming_the_cause() {
        let options = crate::postgres::PgOptions::new(closed_url());

        let e = crate::postgres::PgStore::connect(&options)
            .await
            .unwrap_err();

        assert!(e.is_unavailable(), "{e}");
        assert!(e.to_string().to_lowercase().contains("refused"), "{e}");
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_refusal() {
        let url = closed_url();

        let e = tokio_postgres::connect(&url, NoTls).await.err().unwrap();
        let mapped = pg_error(e);

        assert!(mapped.is_unavailable(), "{mapped}");
        assert!(
            mapped.to_string().to_lowercase().contains("refused"),
            "{mapped}"
        );
    }

    #[tokio::test]
    async fn a_refused_statement_carries_its_sqlstate_and_message() {
        let (client, conn) = tokio_postgres::connect(&testing::server_url(), NoTls)
            .await
            .unwrap();
        let task = tokio::spawn(conn);

        let e = client
            .batch_execute("SELECT nothing FROM no_such_table_here")
            .await
            .unwrap_err();
        let text = pg_error(e).to_string();

        assert!(text.contains("42P01"), "{text}");
        assert!(text.contains("no_such_table_here"), "{text}");
        drop(client);
        let _ = task.await;
    }

    #[tokio::test]
    async fn data_exceptions_and_key_details_leave_values_out() {
        let (client, conn) = tokio_postgres::connect(&testing::server_url(), NoTls)
            .await
            .unwrap();
        let task = tokio::spawn(conn);

        // A bad value in a parameter: the server's message would quote it.
        let e = client
            .query("SELECT $1::text::uuid", &[&"secret-value@example.test"])
            .await
            .unwrap_err();
        let text = pg_error(e).to_string();
        assert!(text.contains("22P02"), "{text}");
        assert!(!text.contains("secret-value"), "{text}");

        // A duplicate key: the server's detail line would quote it.
        client
            .batch_execute("CREATE TEMP TABLE people (email text PRIMARY KEY)")
            .await
            .unwrap();
        let insert = "INSERT INTO people VALUES ($1)";
        client
            .execute(insert, &[&"dup@example.test"])
            .await
            .unwrap();
        let e = client
            .execute(insert, &[&"dup@example.test"])
            .await
            .unwrap_err();
        let text = pg_error(e).to_string();
        assert!(text.contains("23505"), "{text}");
        assert!(!text.contains("dup@example.test"), "{text}");

        drop(client);
        let _ = task.await;
    }
}
