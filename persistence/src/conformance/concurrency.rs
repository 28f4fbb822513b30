//! Checks of appends that arrive together: implementations may commit them in one
//! transaction (group commit), and each must still succeed or fail on its own.

use std::sync::Arc;

use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::error::AppendError;
use crate::model::{SessionId, TenantId};
use crate::store::Store;

use super::support::{append_after, event, given_session, given_tenant};

/// Number of sessions, and of appends in each, of the many-writers check.
const SESSIONS: usize = 50;
const APPENDS_PER_SESSION: u64 = 20;

/// Number of valid appends submitted alongside the rejected ones.
const VALID_APPENDS: usize = 30;

/// The seqs stored for a session, in order.
async fn stored_seqs(store: &dyn Store, tenant: &TenantId, session: &SessionId) -> Vec<u64> {
    store
        .events(tenant, session, 0, 1_000)
        .await
        .expect("read events")
        .into_iter()
        .map(|e| e.seq)
        .collect()
}

pub(crate) async fn concurrent_appends_from_many_sessions_all_commit_without_gaps(
    store: Arc<dyn Store>,
) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;

    // Act: every session appends one event at a time; the sessions run concurrently.
    let mut writers = JoinSet::new();
    for s in 0..SESSIONS {
        let (store, tenant) = (Arc::clone(&store), tenant.clone());
        writers.spawn(async move {
            let id = given_session(&*store, &tenant, &format!("ses_{s:02}"))
                .await
                .id;
            for n in 1..=APPENDS_PER_SESSION {
                let batch = append_after(&tenant, &id, n, vec![event("chat.posted", n)]);
                store.append(batch).await.expect("a concurrent append");
            }
            id
        });
    }
    let sessions = writers.join_all().await;

    // Assert
    let expected: Vec<u64> = (1..=1 + APPENDS_PER_SESSION).collect();
    assert_eq!(sessions.len(), SESSIONS);
    for id in &sessions {
        assert_eq!(
            stored_seqs(&*store, &tenant, id).await,
            expected,
            "session {id}"
        );
        let row = store
            .session(&tenant, id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(row.seq, 1 + APPENDS_PER_SESSION, "session {id}");
    }
}

/// Valid appends submitted at the same moment as a stale-seq append, a fenced append and
/// an append to a missing session all commit; each rejected append gets its own error.
pub(crate) async fn a_rejected_append_does_not_fail_the_appends_submitted_with_it(
    store: Arc<dyn Store>,
) {
    // Arrange: valid sessions at seq 1, a contested one at seq 2, a fenced one at epoch 1.
    let tenant = given_tenant(&*store, "ten_a").await;
    let mut valid = Vec::new();
    for s in 0..VALID_APPENDS {
        valid.push(
            given_session(&*store, &tenant, &format!("ses_{s:02}"))
                .await
                .id,
        );
    }
    let contested = given_session(&*store, &tenant, "ses_contested").await.id;
    let winner = append_after(&tenant, &contested, 1, vec![event("chat.posted", 1)]);
    store
        .append(winner)
        .await
        .expect("the first writer appends");
    let fenced = given_session(&*store, &tenant, "ses_fenced").await.id;
    store.claim_session(&tenant, &fenced).await.expect("claim");

    let mut batches = Vec::new();
    for id in &valid {
        batches.push(append_after(&tenant, id, 1, vec![event("chat.posted", 1)]));
    }
    batches.push(append_after(
        &tenant,
        &contested,
        1,
        vec![event("chat.posted", 99)],
    ));
    batches.push(append_after(
        &tenant,
        &fenced,
        1,
        vec![event("chat.posted", 99)],
    ));
    let missing = SessionId::new("ses_missing");
    batches.push(append_after(
        &tenant,
        &missing,
        0,
        vec![event("chat.posted", 99)],
    ));

    // Act: release every append at once so they queue together.
    let barrier = Arc::new(Barrier::new(batches.len()));
    let mut appends = JoinSet::new();
    for batch in batches {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        appends.spawn(async move {
            let session = batch.session_id.clone();
            barrier.wait().await;
            (session, store.append(batch).await)
        });
    }
    let outcomes = appends.join_all().await;

    // Assert
    for (session, outcome) in &outcomes {
        match session.as_str() {
            "ses_contested" => assert!(
                matches!(
                    outcome,
                    Err(AppendError::SeqConflict {
                        expected: 1,
                        stored: 2
                    })
                ),
                "contested append: {outcome:?}"
            ),
            "ses_fenced" => assert!(
                matches!(
                    outcome,
                    Err(AppendError::Fenced {
                        stored: 1,
                        attempted: 0
                    })
                ),
                "fenced append: {outcome:?}"
            ),
            "ses_missing" => assert!(
                matches!(outcome, Err(AppendError::NoSession)),
                "append to a missing session: {outcome:?}"
            ),
            _ => assert!(outcome.is_ok(), "valid append to {session}: {outcome:?}"),
        }
    }
    for id in &valid {
        assert_eq!(
            stored_seqs(&*store, &tenant, id).await,
            vec![1, 2],
            "session {id}"
        );
    }
    assert_eq!(stored_seqs(&*store, &tenant, &contested).await, vec![1, 2]);
    assert_eq!(stored_seqs(&*store, &tenant, &fenced).await, vec![1]);
    assert_eq!(store.session(&tenant, &missing).await.expect("read"), None);
}

/// The number of appends [`a_rejected_append_does_not_fail_the_appends_submitted_with_it`]
/// submits at once, for implementations that can observe how they were grouped.
pub(crate) const SIMULTANEOUS_APPENDS: usize = VALID_APPENDS + 3;
