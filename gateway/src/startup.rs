//! Building and running a node: open the store, bootstrap, start the engine and bind.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use secrecy::ExposeSecret;
use vitrine_engine::cluster::Cluster;
use vitrine_engine::commerce::builtin::BuiltinCommerce;
use vitrine_engine::commerce::Commerce;
use vitrine_engine::identity::IssuedToken;
use vitrine_engine::Engine;
use vitrine_persistence::postgres::{PgOptions, PgStore};
use vitrine_persistence::sqlite::{SqliteOptions, SqliteStore};
use vitrine_persistence::Store;

use crate::bootstrap;
use crate::config::Settings;
use crate::routes;
use crate::state::AppState;
use crate::telemetry::GroupCommitMetrics;

/// File name of the embedded database inside the data directory.
pub const DATABASE_FILE: &str = "vitrine.db";

/// Opens the store the settings ask for: Postgres when a URL is set, else SQLite.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let pg = &settings.postgres;
    if let Some(url) = &pg.url {
        let options = PgOptions {
            url: url.expose_secret().to_owned(),
            schema: pg.schema.clone(),
            pool_size: pg.pool_size,
            pool_wait: pg.pool_wait,
            connect_timeout: pg.connect_timeout,
            statement_timeout: pg.statement_timeout,
            group_commit: settings.store.group_commit,
            committers: pg.committers,
            threads: pg.threads,
        };
        let store = PgStore::connect_observed(&options, Arc::new(GroupCommitMetrics))
            .await
            .context("failed to open the Postgres store (DATABASE_URL)")?;
        tracing::info!(pool_size = pg.pool_size, "using the postgres store");
        return Ok(Arc::new(store));
    }
    let path = settings.data_dir.join(DATABASE_FILE);
    let options = SqliteOptions {
        path: path.clone(),
        synchronous: settings.store.synchronous,
        group_commit: settings.store.group_commit,
        readers: settings.store.readers.max(1),
    };
    let store = SqliteStore::open_observed(&options, Arc::new(GroupCommitMetrics))
        .with_context(|| format!("failed to open the store at {}", path.display()))?;
    Ok(Arc::new(store))
}

/// A bound, ready-to-run node.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    state: web::Data<AppState>,
    /// The admin token to show, when the demo tenant was just created.
    pub admin_token: Option<IssuedToken>,
}

impl Application {
    /// Opens the store, bootstraps and binds. Must run inside an actix system.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = open_store(&settings).await?;
        let tokens = bootstrap::token_issuer(&settings, &store).await?;
        let admin_token = if settings.demo {
            bootstrap::ensure_demo(&settings, &store, &tokens).await?
        } else {
            None
        };

        let commerce: Arc<dyn Commerce> = Arc::new(BuiltinCommerce::new(Arc::clone(&store)));
        let cluster = match &settings.redis.url {
            Some(url) => {
                let cluster = Cluster::connect(
                    url.expose_secret(),
                    settings.redis.cluster(),
                    Arc::clone(&store),
                )
                .await
                .context("failed to reach Redis (REDIS_URL)")?;
                cluster.set_trace_context(Arc::new(crate::telemetry::W3cTraceContext));
                Some(cluster)
            }
            None => None,
        };
        let engine = Engine::with_cluster(
            store,
            commerce,
            settings.session.clone(),
            settings.session_thread_count(),
            cluster,
            settings
                .media
                .pool_settings()
                .map(vitrine_media::MediaPool::new),
        );

        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("failed to listen on {}", settings.listen))?;
        let addr = listener.local_addr()?;
        let public_base = settings.public_base_for(addr);
        let workers = settings.http_worker_count();
        let shutdown = settings.shutdown_timeout;
        let state = web::Data::new(AppState {
            settings,
            engine,
            tokens,
            public_base,
            next_connection_id: AtomicU64::new(1),
            stopping: tokio::sync::watch::channel(false).0,
        });
        // The metrics recorder must exist before the first request records anything.
        if state.settings.metrics {
            crate::telemetry::metrics();
        }

        let data = state.clone();
        let send_buffer = state.settings.ws.send_buffer_bytes;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(routes::refuse_nul))
                .wrap(tracing_actix_web::TracingLogger::<
                    crate::telemetry::HttpSpans,
                >::new())
                .app_data(data.clone())
                .configure(routes::configure)
        })
        .on_connect(move |conn, _| {
            if send_buffer > 0 {
                if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
                    if let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(send_buffer) {
                        tracing::warn!(error = %e, "could not size a socket's send buffer");
                    }
                }
            }
        })
        // Frames go out as soon as they are written: with Nagle's algorithm a second small
        // frame (a reply right after its event) waits for the client's delayed ACK, up to
        // 40 ms on Linux.
        .tcp_nodelay(true)
        .workers(workers)
        // Stopping is ours to drive (see `stop`): connections are told first.
        .disable_signals()
        // Workers end, at the latest, when the whole bound has passed (`stop` waits less).
        .shutdown_timeout(shutdown.as_secs_f64().ceil().max(1.0) as u64)
        .listen(listener)?
        .run();
        tracing::info!(%addr, "server listening");

        Ok(Self {
            addr,
            server,
            state,
            admin_token,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The public base URL.
    pub fn public_base(&self) -> &str {
        &self.state.public_base
    }

    /// The shared state (for tests).
    pub fn state(&self) -> &web::Data<AppState> {
        &self.state
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully; returns the instant the
    /// shutdown bound ends (what is left of it is for flushing traces).
    pub async fn run_until_signalled(self) -> anyhow::Result<Instant> {
        let handle = self.server.handle();
        let state = self.state.clone();
        // The server task is not awaited after the stop: when connections outlive the
        // bound, they close with the process rather than at actix's own timeout.
        let _server = actix_web::rt::spawn(self.server);
        wait_for_signal().await;
        let deadline = Instant::now() + state.settings.shutdown_timeout;
        stop(&state, &handle, deadline).await;
        Ok(deadline)
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("could not listen for signals; stop the node with SIGKILL");
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}

/// The part of a shutdown bound held back for flushing traces after the server stops.
fn flush_reserve(bound: Duration) -> Duration {
    (bound / 5).min(FLUSH_RESERVE_MAX)
}

/// Most of the shutdown bound held back for flushing traces.
const FLUSH_RESERVE_MAX: Duration = Duration::from_secs(1);

/// Stops a node by `deadline`: no new connections, every client told to reconnect
/// elsewhere (close 1012), every accepted command settled (stored and answered), then
/// the server stopped, all before the last fifth of the bound (at most a second), which
/// is left for flushing traces. Nothing acknowledged can be lost: an ack follows its
/// commit.
pub async fn stop(state: &web::Data<AppState>, handle: &ServerHandle, deadline: Instant) {
    let started = Instant::now();
    let bound = deadline.saturating_duration_since(started);
    let work_until = deadline - flush_reserve(bound);
    tracing::info!(bound_ms = bound.as_millis() as u64, "node stopping");

    // Stop accepting first: actix closes the listener at once (new connections are
    // refused), ends idle keep-alive connections, and lets the rest finish.
    let server_stopped = handle.stop(true);
    let _ = state.stopping.send(true);

    let drained = state
        .engine
        .drain(work_until.saturating_duration_since(Instant::now()))
        .await;
    if !drained {
        tracing::warn!("sessions still busy at the shutdown bound; unacknowledged work is dropped");
    }
    // Everything accepted is stored: other nodes may take the sessions now.
    let left = work_until.saturating_duration_since(Instant::now());
    if tokio::time::timeout(left, state.engine.leave_cluster())
        .await
        .is_err()
    {
        tracing::warn!("could not leave the cluster in time; leases lapse by themselves");
    }

    let left = work_until.saturating_duration_since(Instant::now());
    if tokio::time::timeout(left, server_stopped).await.is_err() {
        tracing::warn!("connections still open at the shutdown bound; they close with the process");
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "node stopped"
    );
}
