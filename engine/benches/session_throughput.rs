#![allow(missing_docs)] // criterion_group! generates undocumented items.

//! Events per second through one session actor into the SQLite store.
//!
//! Each iteration opens a fresh store in a temporary directory, creates a live session,
//! then sends `chat.send` commands to its actor without waiting between them and measures
//! until every reply (each one stored before it is sent) has arrived.
//!
//! Run: `cargo bench -p vitrine-engine --bench session_throughput`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use vitrine_engine::commerce::builtin::BuiltinCommerce;
use vitrine_engine::commerce::Commerce;
use vitrine_engine::directory::SessionKey;
use vitrine_engine::identity::Role;
use vitrine_engine::session::{Caller, Command, Execute, SessionSettings};
use vitrine_engine::{CustomerDetails, Engine, SessionRequest};
use vitrine_persistence::model::{ParticipantId, Tenant, TenantId, UserId};
use vitrine_persistence::sqlite::{SqliteOptions, SqliteStore, Synchronous};
use vitrine_persistence::{GroupCommitOptions, Store};

/// Commands per measured run.
const COMMANDS: u64 = 2000;

fn run(options: SqliteOptions, session: SessionSettings, commands: u64) -> Duration {
    actix::System::new().block_on(async move {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&options).expect("open store"));
        let tenant = TenantId::new("bench");
        store
            .create_tenant(&Tenant {
                id: tenant.clone(),
                name: "Bench".into(),
                public_key: "pk_bench".into(),
                currency: "USD".into(),
                created_at: vitrine_persistence::now(),
            })
            .await
            .expect("tenant");
        let commerce: Arc<dyn Commerce> = Arc::new(BuiltinCommerce::new(Arc::clone(&store)));
        let engine = Engine::new(store, commerce, session, 1);
        let created = engine
            .create_session(
                &tenant,
                SessionRequest {
                    customer: CustomerDetails {
                        name: "Bench Customer".into(),
                        ..CustomerDetails::default()
                    },
                    shopper: Some(UserId::new("usr_bench")),
                    ..SessionRequest::default()
                },
            )
            .await
            .expect("session");
        let key = SessionKey {
            tenant,
            session: created.row.id,
        };
        let shopper = Caller {
            participant_id: ParticipantId::new("par_usr_bench"),
            role: Role::Shopper,
            name: "Bench Shopper".into(),
            user_id: Some(UserId::new("usr_bench")),
            collections: Arc::from(Vec::new()),
        };
        let addr = engine.open(&key).await.expect("actor");
        let start = |id: String, command: Command| Execute {
            caller: shopper.clone(),
            command_id: id,
            command,
            span: tracing::Span::none(),
        };
        let r = addr
            .send(start("start".into(), Command::StartSession))
            .await
            .expect("started");
        assert!(r.ok, "{r:?}");

        let began = Instant::now();
        let pending: Vec<_> = (0..commands)
            .map(|i| {
                addr.send(start(
                    format!("c{i}"),
                    Command::SendChat {
                        text: format!("message number {i}"),
                    },
                ))
            })
            .collect();
        for reply in futures_util::future::join_all(pending).await {
            assert!(reply.expect("reply").ok);
        }
        began.elapsed()
    })
}

fn options(dir: &std::path::Path, sync: Synchronous, group: GroupCommitOptions) -> SqliteOptions {
    SqliteOptions {
        path: dir.join(format!("bench-{}.db", rand_suffix())),
        synchronous: sync,
        group_commit: group,
        readers: 2,
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn one_session(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut g = c.benchmark_group("one_session_chat_events");
    g.throughput(Throughput::Elements(COMMANDS));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    // Grouped: the actor appends queued commands together and the writer commits queued
    // appends together. One per commit: one command per append, one append per commit.
    let grouped = (GroupCommitOptions::default(), SessionSettings::default());
    let single = (
        GroupCommitOptions::unbatched(),
        SessionSettings {
            max_batch: 1,
            ..SessionSettings::default()
        },
    );
    let cases = [
        ("full_sync_group_commit", Synchronous::Full, grouped.clone()),
        ("full_sync_one_per_commit", Synchronous::Full, single),
        ("normal_sync_group_commit", Synchronous::Normal, grouped),
    ];
    for (name, sync, (group, session)) in cases {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| run(options(dir.path(), sync, group), session.clone(), COMMANDS))
                    .sum()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, one_session);
criterion_main!(benches);
