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
