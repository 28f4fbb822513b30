//! The production store: Postgres through a `deadpool-postgres` pool.
//!
//! All Postgres I/O runs on a small runtime owned by the store, so connections never
//! depend on which actix thread happened to open them; callers on any thread await the
//! spawned work. Appends go to a group committer (`committer.rs`) that writes everything
//! queued in one transaction with set-based statements. `sessions.rs`, `catalog.rs`,
//! `commerce.rs` and `identity.rs` hold the queries of each area.

mod catalog;
mod commerce;
mod committer;
mod errors;
mod identity;
mod sessions;
pub mod testing;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::mpsc;
use tokio_postgres::NoTls;

use crate::error::{AppendError, CartWriteError, PlaceOrderError, StoreError};
use crate::group_commit::{BatchObserver, GroupCommitOptions, NoObserver};
use crate::model::{
    AppendBatch, AuditEntry, Cart, CartId, CartLineChange, CommandRecord, Customer, CustomerId,
    ImportCounts, NewSession, Order, OrderId, Product, ProductId, ProductQuery, SessionFilter,
    SessionId, SessionRow, SessionSummary, Snapshot, StoredEvent, Tenant, TenantId, User, UserId,
    VariantId,
};
use crate::store::{NewOrder, Store};

pub(crate) use errors::{pg_error, pool_error, unique_or};

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// Settings of the Postgres store.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// Connection URL (`postgres://user:password@host:port/db`).
    pub url: String,
    /// A schema to use (and create) instead of `public`; tests give each run its own.
    pub schema: Option<String>,
    /// Most connections in the pool.
    pub pool_size: usize,
    /// How long a caller waits for a free connection before the store is "unavailable".
    pub pool_wait: Duration,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// Longest a statement may run.
    pub statement_timeout: Duration,
    /// Group commit of appends.
    pub group_commit: GroupCommitOptions,
    /// Group commits that may be in flight at once, each on its own connection.
    pub committers: usize,
    /// Threads of the store's own runtime.
    pub threads: usize,
}

impl PgOptions {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            schema: None,
            pool_size: 16,
            pool_wait: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            group_commit: GroupCommitOptions::default(),
            committers: 2,
            threads: 2,
        }
    }
}

/// The Postgres implementation of [`Store`].
pub struct PgStore {
    pool: Pool,
    /// Owned so that dropping the store stops its threads; `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    appends: mpsc::Sender<committer::AppendJob>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgStore { .. }")
    }
}

/// Checks a schema name before it is used in SQL.
fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

impl PgStore {
    /// Connects, runs pending migrations and starts the group committer.
    pub async fn connect(options: &PgOptions) -> Result<Self, StoreError> {
        Self::connect_observed(options, Arc::new(NoObserver)).await
    }

    /// Like [`connect`](Self::connect), reporting every group commit to `observer`.
    pub async fn connect_observed(
        options: &PgOptions,
        observer: Arc<dyn BatchObserver>,
    ) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.threads.max(1))
            .thread_name("vitrine-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Internal(format!("start the postgres runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let options = options.clone();
        let started = handle
            .spawn(async move {
                let pool = build_pool(&options).await?;
                let (tx, rx) = mpsc::channel(committer::QUEUE_BOUND);
                tokio::spawn(committer::run(
                    pool.clone(),
                    rx,
                    committer::Limits::of(&options),
                    observer,
                ));
                Ok::<_, StoreError>((pool, tx))
            })
            .await
            .unwrap_or_else(|e| Err(StoreError::Internal(format!("postgres start-up task: {e}"))));
        match started {
            Ok((pool, appends)) => Ok(Self {
                pool,
                runtime: Some(runtime),
                handle,
                appends,
            }),
            Err(e) => {
                // Dropping a runtime waits for its threads, which panics inside the
                // caller's runtime: let them end in the background instead.
                runtime.shutdown_background();
                Err(e)
            }
        }
    }

    /// Runs `f` with the pool on the store's runtime.
    async fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Pool) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.handle
            .spawn(f(self.pool.clone()))
            .await
            .map_err(|e| StoreError::Internal(format!("postgres task failed: {e}")))?
    }

    /// Like [`run`](Self::run) for operations with their own error type.
    async fn run_with<T, E, F, Fut>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(Pool) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        match self.handle.spawn(f(self.pool.clone())).await {
            Ok(result) => result,
            Err(e) => Err(StoreError::Internal(format!("postgres task failed: {e}")).into()),
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // The store may be dropped inside another runtime (tests, shutdown): stop its
        // threads without blocking that one.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn build_pool(options: &PgOptions) -> Result<Pool, StoreError> {
    let mut config: tokio_postgres::Config = options
        .url
        .parse()
        .map_err(|e| StoreError::Internal(format!("DATABASE_URL is not a Postgres URL: {e}")))?;
    config.connect_timeout(options.connect_timeout);
    config.application_name("vitrine");
    let mut params = format!(
        "-c statement_timeout={}",
        options.statement_timeout.as_millis().max(1)
    );
    if let Some(schema) = &options.schema {
        if !valid_schema(schema) {
            return Err(StoreError::Internal(format!(
                "invalid schema name {schema:?}"
            )));
        }
        params.push_str(&format!(" -c search_path={schema}"));
    }
    config.options(&params);

    // The schema must exist before migrations (which run inside it) can.
    if let Some(schema) = &options.schema {
        let (client, conn) = config.connect(NoTls).await.map_err(pg_error)?;
        let task = tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .map_err(pg_error)?;
        drop(client);
        let _ = task.await;
    }

    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(options.pool_size.max(2))
        .wait_timeout(Some(options.pool_wait))
        .create_timeout(Some(options.connect_timeout))
        .recycle_timeout(Some(options.connect_timeout))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Internal(format!("build the postgres pool: {e}")))?;

    let mut client = pool.get().await.map_err(pool_error)?;
    let pg: &mut tokio_postgres::Client = &mut client;
    embedded::migrations::runner()
        .run_async(pg)
        .await
        .map_err(|e| errors::migration_error(&e))?;
    Ok(pool)
}

/// Converts a `u64` for binding; values past `i64::MAX` never occur for seqs and epochs.
pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Reads a non-negative `bigint` as `u64`.
pub(crate) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl Store for PgStore {
    #[tracing::instrument(level = "debug", skip_all, name = "store.ping")]
    async fn ping(&self) -> Result<(), StoreError> {
        self.run(|pool| async move {
            let client = pool.get().await.map_err(pool_error)?;
            client.simple_query("SELECT 1").await.map_err(pg_error)?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.signing_key")]
    async fn signing_key(&self, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        self.run(|pool| identity::signing_key(pool, candidate))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.create_tenant")]
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let tenant = tenant.clone();
        self.run(|pool| identity::create_tenant(pool, tenant)).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.tenant")]
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let id = id.clone();
        self.run(|pool| identity::tenant(pool, id)).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.tenant_by_public_key")]
    async fn tenant_by_public_key(&self, key: &str) -> Result<Option<Tenant>, StoreError> {
        let key = key.to_owned();
        self.run(|pool| identity::tenant_by_public_key(pool, key))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.create_user")]
    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        let user = user.clone();
        self.run(|pool| identity::create_user(pool, user)).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.user")]
    async fn user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.run(|pool| identity::user(pool, tenant, id)).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.list_users")]
    async fn list_users(&self, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
        let tenant = tenant.clone();
        self.run(|pool| identity::list_users(pool, tenant)).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.record_audit")]
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let entry = entry.clone();
        self.run(|pool| identity::record_audit(pool, entry)).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.audit_log")]
    async fn audit_log(
        &self,
        tenant: &TenantId,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let tenant = tenant.clone();
        self.run(move |pool| identity::audit_log(pool, tenant, limit))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.create_session")]
    async fn create_session(&self, session: &NewSession) -> Result<SessionRow, StoreError> {
        let session = session.clone();
        self.run(|pool| sessions::create_session(pool, session))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.session")]
    async fn session(
        &self,
        tenant: &TenantId,
        id: &SessionId,
    ) -> Result<Option<SessionRow>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.run(|pool| sessions::session(pool, tenant, id)).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.list_sessions")]
    async fn list_sessions(
        &self,
        tenant: &TenantId,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let (tenant, filter) = (tenant.clone(), filter.clone());
        self.run(|pool| sessions::list_sessions(pool, tenant, filter))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.customer")]
    async fn customer(
        &self,
        tenant: &TenantId,
        id: &CustomerId,
    ) -> Result<Option<Customer>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.run(|pool| sessions::customer(pool, tenant, id)).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.claim_session")]
    async fn claim_session(&self, tenant: &TenantId, id: &SessionId) -> Result<u64, AppendError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.run_with(|pool| sessions::claim_session(pool, tenant, id))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.append",
        fields(tenant_id = %batch.tenant_id, session_id = %batch.session_id,
               events = batch.events.len()))]
    async fn append(&self, batch: AppendBatch) -> Result<(), AppendError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.appends
            .try_send(committer::AppendJob {
                batch,
                reply: tx,
                span: tracing::Span::current(),
                queued: std::time::Instant::now(),
            })
            .map_err(|e| {
                AppendError::Store(StoreError::Unavailable(match e {
                    mpsc::error::TrySendError::Full(_) => "the append queue is full".into(),
                    mpsc::error::TrySendError::Closed(_) => "the committer has stopped".into(),
                }))
            })?;
        rx.await.map_err(|_| {
            AppendError::Store(StoreError::Unavailable("the committer has stopped".into()))
        })?
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
        self.run(move |pool| sessions::events(pool, tenant, session, after, limit))
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
        self.run(|pool| sessions::save_snapshot(pool, tenant, session, snapshot))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.latest_snapshot")]
    async fn latest_snapshot(
        &self,
        tenant: &TenantId,
        session: &SessionId,
    ) -> Result<Option<Snapshot>, StoreError> {
        let (tenant, session) = (tenant.clone(), session.clone());
        self.run(|pool| sessions::latest_snapshot(pool, tenant, session))
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
        self.run(move |pool| sessions::recent_commands(pool, tenant, session, limit, since))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.import_products")]
    async fn import_products(
        &self,
        tenant: &TenantId,
        products: &[Product],
    ) -> Result<ImportCounts, StoreError> {
        let (tenant, products) = (tenant.clone(), products.to_vec());
        self.run(|pool| catalog::import_products(pool, tenant, products))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.product")]
    async fn product(
        &self,
        tenant: &TenantId,
        id: &ProductId,
    ) -> Result<Option<Product>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.run(|pool| catalog::product(pool, tenant, id)).await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.product_of_variant")]
    async fn product_of_variant(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
    ) -> Result<Option<Product>, StoreError> {
        let (tenant, variant) = (tenant.clone(), variant.clone());
        self.run(|pool| catalog::product_of_variant(pool, tenant, variant))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.variant_owners")]
    async fn variant_owners(
        &self,
        tenant: &TenantId,
        variants: &[VariantId],
    ) -> Result<Vec<(VariantId, ProductId)>, StoreError> {
        let (tenant, variants) = (tenant.clone(), variants.to_vec());
        self.run(|pool| catalog::variant_owners(pool, tenant, variants))
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
        self.run(|pool| catalog::search_products(pool, tenant, query, preferred))
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
        self.run(|pool| commerce::open_cart(pool, tenant, customer, currency))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.cart")]
    async fn cart(&self, tenant: &TenantId, id: &CartId) -> Result<Option<Cart>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.run(|pool| commerce::cart_by_id(pool, tenant, id))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.set_cart_line")]
    async fn set_cart_line(
        &self,
        tenant: &TenantId,
        change: &CartLineChange,
    ) -> Result<Cart, CartWriteError> {
        let (tenant, change) = (tenant.clone(), change.clone());
        self.run_with(|pool| commerce::set_cart_line(pool, tenant, change))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.place_order")]
    async fn place_order(
        &self,
        tenant: &TenantId,
        order: &NewOrder,
    ) -> Result<Order, PlaceOrderError> {
        let (tenant, order) = (tenant.clone(), order.clone());
        self.run_with(|pool| commerce::place_order(pool, tenant, order))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.order")]
    async fn order(&self, tenant: &TenantId, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.run(|pool| commerce::order_by_id(pool, tenant, id))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, name = "store.order_for_cart")]
    async fn order_for_cart(
        &self,
        tenant: &TenantId,
        cart: &CartId,
    ) -> Result<Option<Order>, StoreError> {
        let (tenant, cart) = (tenant.clone(), cart.clone());
        self.run(|pool| commerce::order_for_cart(pool, tenant, cart))
            .await
    }
}
