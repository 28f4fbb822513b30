//! The embedded store: one SQLite file under the data directory.
//!
//! Layout: `pool.rs` owns the writer thread (with group commit) and the read connections;
//! `sessions.rs`, `catalog.rs`, `commerce.rs` and `identity.rs` hold the queries of each
//! area as plain functions over a connection.

mod catalog;
mod commerce;
mod identity;
mod pool;
mod rows;
mod sessions;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::error::{AppendError, CartWriteError, PlaceOrderError, StoreError};
use crate::group_commit::{BatchObserver, GroupCommitOptions, NoObserver};
use crate::model::{
    AppendBatch, AuditEntry, Cart, CartId, CartLineChange, CommandRecord, Customer, CustomerId,
    ImportCounts, NewSession, Order, OrderId, Product, ProductId, ProductQuery, SessionFilter,
    SessionId, SessionRow, SessionSummary, Snapshot, StoredEvent, Tenant, TenantId, User, UserId,
    VariantId,
};
use crate::store::{NewOrder, Store};

use pool::{Readers, Writer};

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// How hard SQLite works to survive a power cut.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// fsync at every commit: an acknowledged event survives a power cut.
    #[default]
    Full,
    /// fsync at checkpoints only: survives a process crash, may lose the last commits on
    /// a power cut.
    Normal,
}

/// Settings of the embedded store.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// Path of the database file.
    pub path: PathBuf,
    /// Durability of each commit.
    pub synchronous: Synchronous,
    /// Group commit settings.
    pub group_commit: GroupCommitOptions,
    /// Number of read-only connections.
    pub readers: usize,
}

impl SqliteOptions {
    /// Defaults for a database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous: Synchronous::Full,
            group_commit: GroupCommitOptions::default(),
            readers: 4,
        }
    }
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<Readers>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database, runs pending migrations and starts the
    /// writer thread.
    pub fn open(options: &SqliteOptions) -> Result<Self, StoreError> {
        Self::open_observed(options, Arc::new(NoObserver))
    }

    /// Like [`open`](Self::open), reporting every group commit to `observer`.
    pub fn open_observed(
        options: &SqliteOptions,
        observer: Arc<dyn BatchObserver>,
    ) -> Result<Self, StoreError> {
        if let Some(dir) = options.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Internal(format!("create data directory {}: {e}", dir.display()))
            })?;
        }
        let mut conn = open_writer(&options.path, options.synchronous)?;
        embedded::migrations::runner().run(&mut conn).map_err(|e| {
            StoreError::Internal(format!("migrate {}: {e}", options.path.display()))
        })?;
        let readers = Readers::open(&options.path, options.readers)?;
        let writer = Writer::start(conn, options.group_commit, observer);
        Ok(Self { writer, readers })
    }
}

fn open_writer(path: &Path, synchronous: Synchronous) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(sql_error)?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(sql_error)?;
    let sync = match synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON;"
    ))
    .map_err(sql_error)?;
    Ok(conn)
}

/// Maps a SQLite error: a locked database is "unavailable", the rest internal.
pub(crate) fn sql_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(e.to_string())
        }
        Some(ErrorCode::DiskFull | ErrorCode::CannotOpen) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Internal(e.to_string()),
    }
}

/// Maps a unique-constraint violation to `AlreadyExists(what)`.
pub(crate) fn unique_or(e: rusqlite::Error, what: String) -> StoreError {
    const UNIQUE: std::ffi::c_int = rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE;
    const PRIMARY_KEY: std::ffi::c_int = rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == UNIQUE || f.extended_code == PRIMARY_KEY =>
        {
            StoreError::AlreadyExists(what)
        }
        _ => sql_error(e),
    }
}

#[async_trait]
impl Store for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, name = "store.ping")]
    async fn ping(&self) -> Result<(), StoreError> {
        self.readers
            .read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(sql_error))
            .await?;
        // A reader answering is not enough: the writer thread must be alive too.
        self.writer.write(|_| ()).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.signing_key")]
    async fn signing_key(&self, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        self.writer
            .write(move |c| identity::signing_key(c, &candidate))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.create_tenant")]
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let tenant = tenant.clone();
        self.writer
            .write(move |c| identity::create_tenant(c, &tenant))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.tenant")]
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let id = id.clone();
        self.readers.read(move |c| identity::tenant(c, &id)).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.tenant_by_public_key")]
    async fn tenant_by_public_key(&self, key: &str) -> Result<Option<Tenant>, StoreError> {
        let key = key.to_owned();
        self.readers
            .read(move |c| identity::tenant_by_public_key(c, &key))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.create_user")]
    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        let user = user.clone();
        self.writer
            .write(move |c| identity::create_user(c, &user))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.user")]
    async fn user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.readers
            .read(move |c| identity::user(c, &tenant, &id))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.list_users")]
    async fn list_users(&self, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
        let tenant = tenant.clone();
        self.readers
            .read(move |c| identity::list_users(c, &tenant))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.record_audit")]
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let entry = entry.clone();
        self.writer
            .write(move |c| identity::record_audit(c, &entry))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.audit_log")]
    async fn audit_log(
        &self,
        tenant: &TenantId,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let tenant = tenant.clone();
        self.readers
            .read(move |c| identity::audit_log(c, &tenant, limit))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.create_session")]
    async fn create_session(&self, session: &NewSession) -> Result<SessionRow, StoreError> {
        let session = session.clone();
        self.writer
            .write(move |c| sessions::create_session(c, &session))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.session")]
    async fn session(
        &self,
        tenant: &TenantId,
        id: &SessionId,
    ) -> Result<Option<SessionRow>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.readers
            .read(move |c| sessions::session(c, &tenant, &id))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.list_sessions")]
    async fn list_sessions(
        &self,
        tenant: &TenantId,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let (tenant, filter) = (tenant.clone(), filter.clone());
        self.readers
            .read(move |c| sessions::list_sessions(c, &tenant, &filter))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.customer")]
    async fn customer(
        &self,
        tenant: &TenantId,
        id: &CustomerId,
    ) -> Result<Option<Customer>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.readers
            .read(move |c| sessions::customer(c, &tenant, &id))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.claim_session")]
    async fn claim_session(&self, tenant: &TenantId, id: &SessionId) -> Result<u64, AppendError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.writer
            .write(move |c| sessions::claim_session(c, &tenant, &id))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.append",
        fields(tenant_id = %batch.tenant_id, session_id = %batch.session_id,
               events = batch.events.len()))]
    async fn append(&self, batch: AppendBatch) -> Result<(), AppendError> {
        self.writer.append(batch).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.events")]
    async fn events(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let (tenant, session) = (tenant.clone(), session.clone());
        self.readers
            .read(move |c| sessions::events(c, &tenant, &session, after, limit))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.save_snapshot")]
    async fn save_snapshot(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        snapshot: &Snapshot,
    ) -> Result<(), StoreError> {
        let (tenant, session, snapshot) = (tenant.clone(), session.clone(), snapshot.clone());
        self.writer
            .write(move |c| sessions::save_snapshot(c, &tenant, &session, &snapshot))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.latest_snapshot")]
    async fn latest_snapshot(
        &self,
        tenant: &TenantId,
        session: &SessionId,
    ) -> Result<Option<Snapshot>, StoreError> {
        let (tenant, session) = (tenant.clone(), session.clone());
        self.readers
            .read(move |c| sessions::latest_snapshot(c, &tenant, &session))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.recent_commands")]
    async fn recent_commands(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        limit: u32,
        since: DateTime<Utc>,
    ) -> Result<Vec<CommandRecord>, StoreError> {
        let (tenant, session) = (tenant.clone(), session.clone());
        self.readers
            .read(move |c| sessions::recent_commands(c, &tenant, &session, limit, since))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.import_products")]
    async fn import_products(
        &self,
        tenant: &TenantId,
        products: &[Product],
    ) -> Result<ImportCounts, StoreError> {
        let (tenant, products) = (tenant.clone(), products.to_vec());
        self.writer
            .write(move |c| catalog::import_products(c, &tenant, &products))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.product")]
    async fn product(
        &self,
        tenant: &TenantId,
        id: &ProductId,
    ) -> Result<Option<Product>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.readers
            .read(move |c| catalog::product(c, &tenant, &id))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.product_of_variant")]
    async fn product_of_variant(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
    ) -> Result<Option<Product>, StoreError> {
        let (tenant, variant) = (tenant.clone(), variant.clone());
        self.readers
            .read(move |c| catalog::product_of_variant(c, &tenant, &variant))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.variant_owners")]
    async fn variant_owners(
        &self,
        tenant: &TenantId,
        variants: &[VariantId],
    ) -> Result<Vec<(VariantId, ProductId)>, StoreError> {
        let (tenant, variants) = (tenant.clone(), variants.to_vec());
        self.readers
            .read(move |c| catalog::variant_owners(c, &tenant, &variants))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.search_products")]
    async fn search_products(
        &self,
        tenant: &TenantId,
        query: &ProductQuery,
        preferred: &[String],
    ) -> Result<Vec<Product>, StoreError> {
        let (tenant, query, preferred) = (tenant.clone(), query.clone(), preferred.to_vec());
        self.readers
            .read(move |c| catalog::search_products(c, &tenant, &query, &preferred))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.open_cart")]
    async fn open_cart(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        currency: &str,
    ) -> Result<Cart, StoreError> {
        let (tenant, customer, currency) = (tenant.clone(), customer.clone(), currency.to_owned());
        self.writer
            .write(move |c| commerce::open_cart(c, &tenant, &customer, &currency))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.cart")]
    async fn cart(&self, tenant: &TenantId, id: &CartId) -> Result<Option<Cart>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.readers
            .read(move |c| commerce::cart(c, &tenant, &id))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.set_cart_line")]
    async fn set_cart_line(
        &self,
        tenant: &TenantId,
        change: &CartLineChange,
    ) -> Result<Cart, CartWriteError> {
        let (tenant, change) = (tenant.clone(), change.clone());
        self.writer
            .write(move |c| commerce::set_cart_line(c, &tenant, &change))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.place_order")]
    async fn place_order(
        &self,
        tenant: &TenantId,
        order: &NewOrder,
    ) -> Result<Order, PlaceOrderError> {
        let (tenant, order) = (tenant.clone(), order.clone());
        self.writer
            .write(move |c| commerce::place_order(c, &tenant, &order))
            .await?
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.order")]
    async fn order(&self, tenant: &TenantId, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.readers
            .read(move |c| commerce::order(c, &tenant, &id))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.order_for_cart")]
    async fn order_for_cart(
        &self,
        tenant: &TenantId,
        cart: &CartId,
    ) -> Result<Option<Order>, StoreError> {
        let (tenant, cart) = (tenant.clone(), cart.clone());
        self.readers
            .read(move |c| commerce::order_by_cart(c, &tenant, &cart))
            .await
    }
}
