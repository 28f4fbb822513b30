//! The Postgres store under faults: a database restart and a killed node under load lose
//! nothing that was acknowledged.

use std::time::{Duration, Instant};

use vitrine_persistence::postgres::testing::{with_database, TestSchema};
use vitrine_tests::faults;
use vitrine_tests::node::{ServerProcess, TestNode};
use vitrine_tests::steady;

/// Sessions under steady load while Postgres stops and starts again: commands in the gap
/// get `unavailable` (never an ack), `/readyz` turns unready, service resumes by itself,
/// and afterwards every acknowledged event is in the log exactly once, no session's seq
/// run has a gap, and the customers, who resumed, saw the same.
#[actix_web::test]
async fn a_postgres_restart_under_load_loses_nothing_acknowledged() {
    // Arrange: a node on the tests' own cluster, which this test may restart.
    let server = faults::ensure();
    let schema = TestSchema::at(&with_database(&server, "postgres")).await;
    let node = TestNode::start_postgres(&schema, "pool_wait = \"500ms\"\n").await;
    let sessions = steady::sessions(&node.api, node.admin(), 6).await;

    // Act: load, and a restart of the database in the middle of it.
    let runs: Vec<_> = sessions
        .into_iter()
        .map(|s| {
            steady::drive(
                node.api.clone(),
                s,
                60,
                Duration::from_millis(40),
                Duration::from_secs(90),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    faults::stop();
    let mut saw_unready = false;
    let down_until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < down_until {
        let ready = node
            .api
            .call(reqwest::Method::GET, "/readyz", None, None)
            .await;
        saw_unready |= ready.status == 503;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    faults::start();

    let mut outcomes = Vec::new();
    for run in runs {
        outcomes.push(run.await.expect("load task"));
    }

    // Assert
    assert!(
        saw_unready,
        "/readyz must turn unready while the database is down"
    );
    let ready = node
        .api
        .call(reqwest::Method::GET, "/readyz", None, None)
        .await;
    assert_eq!(ready.status, 200, "service resumes without a restart");
    let unavailable: usize = outcomes.iter().map(|o| o.unavailable).sum();
    assert!(
        unavailable > 0,
        "the outage must have been felt by some command"
    );
    for o in &outcomes {
        assert_eq!(
            o.acked.keys().filter(|_| true).count(),
            61,
            "{}: every command acked",
            o.session_id
        );
        o.check(&steady::log(&node.api, node.admin(), &o.session_id).await);
    }
}

/// A `vitrine` process on Postgres killed (SIGKILL) under load and started again on the
/// same port: the same checks hold.
#[actix_web::test]
async fn a_killed_node_on_postgres_restarts_and_loses_nothing_acknowledged() {
    // Arrange
    let schema = TestSchema::new().await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", schema.url.as_str()),
        ("VITRINE_POSTGRES__SCHEMA", schema.name.as_str()),
        ("VITRINE_POSTGRES__POOL_SIZE", "6"),
    ];
    let mut server = ServerProcess::start(dir.path(), &env).await;
    let port = server.port();
    let api = server.api.clone();
    let sessions = steady::sessions(&api, server.admin(), 6).await;

    // Act: load, and a kill in the middle of it.
    let runs: Vec<_> = sessions
        .into_iter()
        .map(|s| {
            steady::drive(
                api.clone(),
                s,
                50,
                Duration::from_millis(40),
                Duration::from_secs(90),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    server.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server = ServerProcess::start_on(port, dir.path(), &env).await;

    let mut outcomes = Vec::new();
    for run in runs {
        outcomes.push(run.await.expect("load task"));
    }

    // Assert
    let reconnects: usize = outcomes.iter().map(|o| o.reconnects).sum();
    assert!(reconnects > 0, "the kill must have cut connections");
    for o in &outcomes {
        assert_eq!(o.acked.len(), 51, "{}: every command acked", o.session_id);
        o.check(&steady::log(&api, server.admin(), &o.session_id).await);
    }
}
