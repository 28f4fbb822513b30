//! Durable events per second into each store, and the latency of each append.
//!
//! Many writers (one per session, as session actors are) append one event at a time, each
//! waiting for its append to commit before the next, for a fixed time. Reported: events
//! committed per second and the append latency distribution, for each store with group
//! commit and with one append per commit.
//!
//! Run: `cargo bench -p vitrine-persistence --bench append_throughput`
//! Options (environment): `BENCH_WRITERS` (default 256), `BENCH_SECONDS` (default 5),
//! `BENCH_POSTGRES_URL` (default the local server), `BENCH_ONLY` (`sqlite` or `postgres`),
//! `BENCH_WINDOWS` (commit windows to try, default `0`), `BENCH_MAX_BATCH` (default 512),
//! `BENCH_COMMITTERS` (Postgres groups in flight at once, default the store's default).

#![allow(missing_docs)]
#![allow(clippy::print_stdout)] // The report is printed for the person running the bench.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use vitrine_persistence::model::{
    AppendBatch, Customer, NewEvent, NewSession, SessionId, SessionPatch, Tenant, TenantId,
};
use vitrine_persistence::postgres::testing::TestSchema;
use vitrine_persistence::postgres::PgStore;
use vitrine_persistence::sqlite::{SqliteOptions, SqliteStore};
use vitrine_persistence::{GroupCommitOptions, Store};

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Figures {
    events: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

async fn prepare(store: &Arc<dyn Store>, writers: usize) -> Vec<SessionId> {
    let tenant = TenantId::new("bench");
    let now = vitrine_persistence::now();
    store
        .create_tenant(&Tenant {
            id: tenant.clone(),
            name: "Bench".into(),
            public_key: "pk_bench".into(),
            currency: "USD".into(),
            created_at: now,
        })
        .await
        .expect("tenant");
    let mut ids = Vec::with_capacity(writers);
    for i in 0..writers {
        let id = SessionId::new(format!("ses_bench_{i}"));
        store
            .create_session(&NewSession {
                tenant_id: tenant.clone(),
                id: id.clone(),
                status: "live".into(),
                shopper_id: None,
                customer: Customer {
                    id: format!("cus_{i}").into(),
                    name: "Bench".into(),
                    email: None,
                    phone: None,
                    locale: None,
                },
                customer_participant_id: format!("par_{i}").into(),
                created_at: now,
                events: vec![event()],
            })
            .await
            .expect("session");
        ids.push(id);
    }
    ids
}

fn event() -> NewEvent {
    NewEvent {
        kind: "chat.message".into(),
        at: vitrine_persistence::now(),
        by: Some("par_bench".into()),
        data: serde_json::json!({ "text": "Does this come in a size up? I'd like to try it on." }),
    }
}

async fn load(store: Arc<dyn Store>, sessions: Vec<SessionId>, run_for: Duration) -> Figures {
    let deadline = Instant::now() + run_for;
    let started = Instant::now();
    let tasks: Vec<_> = sessions
        .into_iter()
        .map(|session| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
                let mut seq = 1;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    store
                        .append(AppendBatch {
                            tenant_id: TenantId::new("bench"),
                            session_id: session.clone(),
                            expected_seq: seq,
                            epoch: 0,
                            events: vec![event()],
                            patch: SessionPatch::default(),
                            commands: Vec::new(),
                        })
                        .await
                        .expect("append");
                    let _ = latency.record(t.elapsed().as_micros() as u64);
                    seq += 1;
                }
                (seq - 1, latency)
            })
        })
        .collect();
    let mut events = 0;
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for t in tasks {
        let (n, h) = t.await.expect("writer");
        events += n;
        latency.add(h).expect("same bounds");
    }
    Figures {
        events,
        elapsed: started.elapsed(),
        latency,
    }
}

fn report(store: &str, mode: &str, f: &Figures) {
    let ms = |q: f64| f.latency.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "| {store} | {mode} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
        f.events as f64 / f.elapsed.as_secs_f64(),
        ms(0.5),
        ms(0.99),
        ms(0.999),
        f.latency.max() as f64 / 1000.0
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let writers: usize = env_or("BENCH_WRITERS", 256);
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let max_batch: usize = env_or("BENCH_MAX_BATCH", 512);
    let windows: Vec<Duration> = std::env::var("BENCH_WINDOWS")
        .unwrap_or_else(|_| "0".into())
        .split(',')
        .filter_map(|w| w.trim().parse::<u64>().ok())
        .map(Duration::from_micros)
        .collect();
    let run_for = Duration::from_secs(seconds);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    println!("writers: {writers}, seconds per case: {seconds}, max batch: {max_batch}");
    println!("| store | mode | events/s | p50 ms | p99 ms | p99.9 ms | max ms |");
    println!("|---|---|---|---|---|---|---|");
    let mut modes: Vec<(String, GroupCommitOptions)> = windows
        .iter()
        .map(|w| {
            (
                format!("group commit, window {} µs", w.as_micros()),
                GroupCommitOptions {
                    window: *w,
                    max_batch,
                },
            )
        })
        .collect();
    modes.push((
        "one append per commit".into(),
        GroupCommitOptions::unbatched(),
    ));

    for (mode, group) in &modes {
        if only.is_empty() || only == "sqlite" {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut options = SqliteOptions::new(dir.path().join("bench.db"));
            options.group_commit = *group;
            let f = rt.block_on(async {
                let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&options).expect("sqlite"));
                let sessions = prepare(&store, writers).await;
                load(store, sessions, run_for).await
            });
            report("SQLite (fsync every commit)", mode, &f);
        }
        if only.is_empty() || only == "postgres" {
            let f = rt.block_on(async {
                let schema = match std::env::var("BENCH_POSTGRES_URL") {
                    Ok(url) => TestSchema::at(&url).await,
                    Err(_) => TestSchema::new().await,
                };
                let mut options = schema.options();
                options.group_commit = *group;
                options.pool_size = 8;
                options.threads = 2;
                options.committers = env_or("BENCH_COMMITTERS", options.committers);
                let store: Arc<dyn Store> =
                    Arc::new(PgStore::connect(&options).await.expect("postgres"));
                let sessions = prepare(&store, writers).await;
                let f = load(Arc::clone(&store), sessions, run_for).await;
                drop(store);
                drop(schema);
                f
            });
            report("Postgres", mode, &f);
        }
    }
}
