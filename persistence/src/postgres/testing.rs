//! Fresh, isolated Postgres schemas for tests against a real server.
//!
//! Tests share one database (`vitrine_test`, created on first use) and each gets its own
//! schema, dropped when the guard goes. The server is `VITRINE_TEST_DATABASE_URL`, or the
//! local one at `postgres://postgres@127.0.0.1:5432/postgres`.

use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

use super::PgOptions;

/// The server tests use when nothing else is said.
pub const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The database every test schema lives in.
pub const TEST_DATABASE: &str = "vitrine_test";

/// The server URL for tests.
pub fn server_url() -> String {
    std::env::var("VITRINE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER_URL.to_owned())
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (head, tail) = url.rsplit_once('/').unwrap_or((url, ""));
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{head}/{database}{query}")
}

/// A schema of its own for one test; dropped (with everything in it) on drop.
pub struct TestSchema {
    /// The schema's name.
    pub name: String,
    /// URL of the database holding it.
    pub url: String,
}

impl TestSchema {
    /// Creates the test database on the tests' server if needed and picks a fresh schema.
    pub async fn new() -> Self {
        Self::at(&server_url()).await
    }

    /// Like [`new`](Self::new) on the server at `server` (any database URL of it).
    pub async fn at(server: &str) -> Self {
        let server = server.to_owned();
        ensure_database(&server).await;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        Self {
            name,
            url: with_database(&server, TEST_DATABASE),
        }
    }

    /// Store options pointing at this schema, with a small pool (tests run in parallel).
    pub fn options(&self) -> PgOptions {
        let mut options = PgOptions::new(self.url.clone());
        options.schema = Some(self.name.clone());
        options.pool_size = 4;
        options.threads = 1;
        options
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop may run inside a runtime: do the cleanup on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, conn)) = tokio_postgres::connect(&url, NoTls).await {
                    let task = tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .await;
                    drop(client);
                    let _ = task.await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

async fn ensure_database(server: &str) {
    let (client, conn) = tokio_postgres::connect(server, NoTls)
        .await
        .unwrap_or_else(|e| panic!("tests need Postgres at {server}: {e}"));
    let task = tokio::spawn(conn);
    if let Err(e) = client
        .batch_execute(&format!("CREATE DATABASE {TEST_DATABASE}"))
        .await
    {
        // Another test created it first, maybe at the same moment.
        let raced = e.code() == Some(&SqlState::DUPLICATE_DATABASE)
            || e.code() == Some(&SqlState::UNIQUE_VIOLATION);
        assert!(raced, "could not create the test database: {e}");
    }
    drop(client);
    let _ = task.await;
}
