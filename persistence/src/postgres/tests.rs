//! Postgres-only behaviours: what callers see when the pool runs dry or a statement hangs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

use super::testing::TestSchema;
use super::PgStore;
use crate::error::{AppendError, StoreError};
use crate::model::{
    AppendBatch, Customer, NewEvent, NewSession, SessionId, SessionPatch, Tenant, TenantId,
};
use crate::store::Store;

fn event() -> NewEvent {
    NewEvent {
        kind: "chat.message".into(),
        at: crate::now(),
        by: None,
        data: serde_json::json!({ "text": "hola" }),
    }
}

async fn store_with_session(
    schema: &TestSchema,
    adjust: impl FnOnce(&mut super::PgOptions),
) -> Arc<dyn Store> {
    let mut options = schema.options();
    adjust(&mut options);
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&options).await.unwrap());
    store
        .create_tenant(&Tenant {
            id: "t".into(),
            name: "T".into(),
            public_key: "pk_t".into(),
            currency: "USD".into(),
            created_at: crate::now(),
        })
        .await
        .unwrap();
    store
        .create_session(&NewSession {
            tenant_id: "t".into(),
            id: "s".into(),
            status: "live".into(),
            shopper_id: None,
            customer: Customer {
                id: "c".into(),
                name: "C".into(),
                email: None,
                phone: None,
                locale: None,
            },
            customer_participant_id: "p".into(),
            created_at: crate::now(),
            events: vec![event()],
        })
        .await
        .unwrap();
    store
}

fn append(expected_seq: u64) -> AppendBatch {
    AppendBatch {
        tenant_id: TenantId::new("t"),
        session_id: SessionId::new("s"),
        expected_seq,
        epoch: 0,
        events: vec![event()],
        patch: SessionPatch::default(),
        commands: Vec::new(),
    }
}

/// A statement stuck behind a lock is cut off by the statement timeout and reported as
/// unavailable, and with every connection busy other calls are refused as unavailable
/// after the pool wait instead of hanging; once the lock goes, service resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_database_makes_calls_unavailable_not_stuck() {
    // Arrange: a tiny pool, short waits, and another client holding the session row.
    let schema = TestSchema::new().await;
    let store = store_with_session(&schema, |o| {
        o.pool_size = 2;
        o.committers = 1;
        o.pool_wait = Duration::from_millis(300);
        o.statement_timeout = Duration::from_millis(800);
    })
    .await;
    let (mut blocker, conn) = tokio_postgres::connect(&schema.url, NoTls).await.unwrap();
    tokio::spawn(conn);
    let lock = blocker.transaction().await.unwrap();
    lock.execute(
        &format!(
            "SELECT 1 FROM {}.sessions WHERE session_id = 's' FOR UPDATE",
            schema.name
        ),
        &[],
    )
    .await
    .unwrap();

    // Act: an append waits on the lock; meanwhile, fill the other connection too.
    let started = Instant::now();
    let stuck = tokio::spawn({
        let store = Arc::clone(&store);
        async move { store.append(append(1)).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let hold = tokio::spawn({
        let store = Arc::clone(&store);
        async move {
            // Also blocked on the row lock: a claim takes the second connection.
            store
                .claim_session(&TenantId::new("t"), &SessionId::new("s"))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = store
        .session(&TenantId::new("t"), &SessionId::new("s"))
        .await;

    // Assert: refused for want of a connection, then the append timed out.
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "a full pool answers unavailable: {refused:?}"
    );
    let appended = stuck.await.unwrap();
    assert!(
        matches!(
            appended,
            Err(AppendError::Store(StoreError::Unavailable(_)))
        ),
        "a statement past its timeout is unavailable: {appended:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "nothing hangs");
    let _ = hold.await.unwrap();

    // Once the lock is gone, the same calls succeed.
    lock.rollback().await.unwrap();
    store.append(append(1)).await.unwrap();
    let row = store
        .session(&TenantId::new("t"), &SessionId::new("s"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.seq, 2);
}

/// A TCP relay to the database that can stop passing bytes while keeping every
/// connection open: a server that hangs, or a network that drops packets.
struct FreezingRelay {
    port: u16,
    frozen: Arc<std::sync::atomic::AtomicBool>,
}

impl FreezingRelay {
    async fn to(upstream: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&frozen);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, Arc::clone(&flag)));
                tokio::spawn(pump(server_read, client_write, Arc::clone(&flag)));
            }
        });
        Self { port, frozen }
    }

    fn freeze(&self, frozen: bool) {
        self.frozen
            .store(frozen, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Copies bytes from `from` to `to`, holding them while `frozen` is set.
async fn pump(
    mut from: impl tokio::io::AsyncRead + Unpin,
    mut to: impl tokio::io::AsyncWrite + Unpin,
    frozen: Arc<std::sync::atomic::AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while frozen.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// A database that stops answering altogether never enforces its own statement timeout:
/// appends must still be answered `unavailable` within the store's own deadline, and
/// once it answers again nothing acknowledged is missing or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_to_a_database_that_stops_answering_are_unavailable_in_time() {
    // Arrange: the store talks to Postgres through the relay.
    let schema = TestSchema::new().await;
    let upstream: tokio_postgres::Config = schema.url.parse().unwrap();
    let host = match &upstream.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        other => panic!("the test server is reached over TCP, not {other:?}"),
    };
    let addr = tokio::net::lookup_host((host.as_str(), upstream.get_ports()[0]))
        .await
        .unwrap()
        .next()
        .unwrap();
    let relay = FreezingRelay::to(addr).await;
    let relayed = schema
        .url
        .replacen(
            &format!(":{}/", upstream.get_ports()[0]),
            &format!(":{}/", relay.port),
            1,
        )
        .replacen(&format!("@{host}:"), "@127.0.0.1:", 1);
    let store = store_with_session(&schema, |o| {
        o.url = relayed;
        o.pool_wait = Duration::from_millis(300);
        o.statement_timeout = Duration::from_millis(700);
    })
    .await;
    store.append(append(1)).await.unwrap();

    // Act: the database goes silent with appends in flight and queued.
    relay.freeze(true);
    let started = Instant::now();
    let outcomes = futures_util::future::join_all((0..3).map(|_| {
        let store = Arc::clone(&store);
        async move { store.append(append(2)).await }
    }))
    .await;
    let answered_in = started.elapsed();

    // Assert: each one unavailable, within 2 × pool wait + statement timeout + 0.5 s
    // (2.3 s here), with margin for a busy machine.
    for outcome in &outcomes {
        assert!(
            matches!(outcome, Err(AppendError::Store(StoreError::Unavailable(_)))),
            "{outcome:?}"
        );
    }
    assert!(
        answered_in < Duration::from_secs(6),
        "answered after {answered_in:?}"
    );

    // When it answers again, at most one of the silent appends took effect (each was to
    // store seq 3), and the next append follows whatever is stored.
    relay.freeze(false);
    let row = loop {
        match store
            .session(&TenantId::new("t"), &SessionId::new("s"))
            .await
        {
            Ok(Some(row)) => break row,
            _ if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("the store did not come back: {other:?}"),
        }
    };
    assert!(row.seq == 2 || row.seq == 3, "seq {}", row.seq);
    store.append(append(row.seq)).await.unwrap();
    let events = store
        .events(&TenantId::new("t"), &SessionId::new("s"), 0, 100)
        .await
        .unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=row.seq + 1).collect::<Vec<_>>());
}

/// Postgres cannot store NUL in text: such an append fails alone, and the append
/// committed in the same group with it is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_holding_nul_fails_alone_and_spares_its_group() {
    // Arrange: a window long enough to group the two appends.
    let schema = TestSchema::new().await;
    let store = store_with_session(&schema, |o| {
        o.group_commit.window = Duration::from_millis(100);
        o.committers = 1;
    })
    .await;
    let mut bad = append(1);
    bad.events[0].data = serde_json::json!({ "text": "bad\u{0}text" });

    // Act
    let (bad, good) = tokio::join!(store.append(bad), store.append(append(1)));

    // Assert
    assert!(
        matches!(bad, Err(AppendError::Store(StoreError::Internal(_)))),
        "{bad:?}"
    );
    good.unwrap();
    let events = store
        .events(&TenantId::new("t"), &SessionId::new("s"), 0, 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].data["text"], "hola");
}
