//! Checks of the session log: creation, appends after an expected seq, the projection
//! patch, fencing, snapshots and command records.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use crate::error::{AppendError, StoreError};
use crate::model::{
    CustomerId, ParticipantId, SessionId, SessionPatch, SessionRow, StoredEvent, TenantId, UserId,
};
use crate::store::Store;

use super::support::{
    append_after, command, customer, event, given_session, given_tenant, session_at, session_for,
};

/// The session row, which the check expects to exist.
async fn row(store: &dyn Store, tenant: &TenantId, id: &SessionId) -> SessionRow {
    store
        .session(tenant, id)
        .await
        .expect("read the session")
        .expect("the session exists")
}

pub(crate) async fn creating_a_session_stores_its_first_event_as_seq_1(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let buyer = customer("cus_jose", "José Ñúñez");
    let mut new = session_at(&tenant, "ses_1", buyer.clone(), crate::now());
    new.shopper_id = Some(UserId::new("usr_ana"));

    // Act
    let created = store
        .create_session(&new)
        .await
        .expect("create the session");

    // Assert
    let expected = SessionRow {
        tenant_id: tenant.clone(),
        id: new.id.clone(),
        status: "requested".to_owned(),
        shopper_id: Some(UserId::new("usr_ana")),
        customer_id: buyer.id.clone(),
        customer_participant_id: new.customer_participant_id.clone(),
        seq: 1,
        owner_epoch: 0,
        created_at: new.created_at,
        started_at: None,
        ended_at: None,
    };
    assert_eq!(created, expected);
    assert_eq!(row(&*store, &tenant, &new.id).await, expected);
    let events = store
        .events(&tenant, &new.id, 0, 10)
        .await
        .expect("read events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].seq, 1);
    assert_eq!(events[0].kind, new.events[0].kind);
    assert_eq!(events[0].data, new.events[0].data);
    let stored = store
        .customer(&tenant, &buyer.id)
        .await
        .expect("read the customer");
    assert_eq!(stored, Some(buyer));
}

pub(crate) async fn creating_a_session_twice_is_already_exists(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let first = session_for(&tenant, "ses_1");
    store
        .create_session(&first)
        .await
        .expect("create the session");
    let mut again = session_for(&tenant, "ses_1");
    again.events = vec![event("session.scheduled", 99)];

    // Act
    let err = store
        .create_session(&again)
        .await
        .expect_err("a duplicate id");

    // Assert
    assert!(matches!(err, StoreError::AlreadyExists(_)), "got {err:?}");
    let events = store
        .events(&tenant, &first.id, 0, 10)
        .await
        .expect("read events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "session.requested");
}

pub(crate) async fn appended_events_read_back_in_order(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await.id;
    let first = vec![
        event("chat.posted", 1),
        event("product.pinned", 2),
        event("chat.posted", 3),
    ];
    let second = vec![event("cart.changed", 4), event("chat.posted", 5)];

    // Act
    store
        .append(append_after(&tenant, &session, 1, first.clone()))
        .await
        .expect("append the first batch");
    store
        .append(append_after(&tenant, &session, 4, second.clone()))
        .await
        .expect("append the second batch");

    // Assert
    let events = store
        .events(&tenant, &session, 0, 100)
        .await
        .expect("read events");
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=6).collect::<Vec<_>>());
    for (stored, sent) in events[1..].iter().zip(first.iter().chain(&second)) {
        assert_eq!(stored.kind, sent.kind);
        assert_eq!(stored.at, sent.at);
        assert_eq!(stored.by, sent.by);
        assert_eq!(stored.data, sent.data);
    }
}

pub(crate) async fn events_page_after_a_seq_up_to_a_limit(store: Arc<dyn Store>) {
    // Arrange: seqs 1..=10.
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await.id;
    let batch = (2..=10).map(|n| event("chat.posted", n)).collect();
    store
        .append(append_after(&tenant, &session, 1, batch))
        .await
        .expect("append");
    let seqs =
        |events: Vec<StoredEvent>| -> Vec<u64> { events.into_iter().map(|e| e.seq).collect() };

    // Act
    let head = store.events(&tenant, &session, 0, 3).await.expect("read");
    let middle = store.events(&tenant, &session, 3, 3).await.expect("read");
    let tail = store.events(&tenant, &session, 9, 3).await.expect("read");
    let past_end = store.events(&tenant, &session, 10, 3).await.expect("read");

    // Assert
    assert_eq!(seqs(head), vec![1, 2, 3]);
    assert_eq!(seqs(middle), vec![4, 5, 6]);
    assert_eq!(seqs(tail), vec![10]);
    assert!(past_end.is_empty());
}

pub(crate) async fn the_session_seq_follows_appends(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await.id;

    // Act and assert: one event, then three, then none.
    let batches = [(1, 1), (2, 3), (5, 0)];
    let mut expected_seq = 1;
    for (after, count) in batches {
        let events = (0..count).map(|n| event("chat.posted", n)).collect();
        store
            .append(append_after(&tenant, &session, after, events))
            .await
            .expect("append");
        expected_seq += count;
        assert_eq!(row(&*store, &tenant, &session).await.seq, expected_seq);
    }
    assert_eq!(expected_seq, 5);
}

pub(crate) async fn a_stale_expected_seq_is_a_seq_conflict_and_writes_nothing(
    store: Arc<dyn Store>,
) {
    // Arrange: the session is at seq 2.
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await.id;
    store
        .append(append_after(
            &tenant,
            &session,
            1,
            vec![event("chat.posted", 2)],
        ))
        .await
        .expect("append");
    let mut stale = append_after(&tenant, &session, 1, vec![event("chat.posted", 99)]);
    stale.patch.status = Some("live".to_owned());
    stale.commands = vec![command("cmd_stale", crate::now())];
    let mut ahead = stale.clone();
    ahead.expected_seq = 5;

    // Act
    let behind_err = store.append(stale).await.expect_err("a stale seq");
    let ahead_err = store
        .append(ahead)
        .await
        .expect_err("a seq from the future");

    // Assert
    assert!(
        matches!(
            behind_err,
            AppendError::SeqConflict {
                expected: 1,
                stored: 2
            }
        ),
        "got {behind_err:?}"
    );
    assert!(
        matches!(
            ahead_err,
            AppendError::SeqConflict {
                expected: 5,
                stored: 2
            }
        ),
        "got {ahead_err:?}"
    );
    let events = store
        .events(&tenant, &session, 0, 10)
        .await
        .expect("read events");
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].data, json!({ "n": 2 }));
    let after = row(&*store, &tenant, &session).await;
    assert_eq!((after.seq, after.status.as_str()), (2, "requested"));
    let since = crate::now() - Duration::hours(1);
    let commands = store
        .recent_commands(&tenant, &session, 10, since)
        .await
        .expect("read");
    assert!(
        commands.is_empty(),
        "a rejected append recorded {commands:?}"
    );
}

pub(crate) async fn an_append_applies_its_projection_patch(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await.id;
    let shopper = UserId::new("usr_ana");
    let (started, ended) = (crate::now(), crate::now() + Duration::minutes(20));
    let patches = [
        SessionPatch {
            status: Some("matched".to_owned()),
            shopper_id: Some(shopper.clone()),
            ..SessionPatch::default()
        },
        SessionPatch {
            status: Some("live".to_owned()),
            started_at: Some(started),
            ..SessionPatch::default()
        },
        SessionPatch {
            status: Some("ended".to_owned()),
            ended_at: Some(ended),
            ..SessionPatch::default()
        },
    ];

    // Act and assert: each patch sets its fields and keeps the others.
    let mut rows = Vec::new();
    for (after, patch) in (1..).zip(patches) {
        let mut batch = append_after(&tenant, &session, after, vec![event("session.changed", 0)]);
        batch.patch = patch;
        store.append(batch).await.expect("append");
        rows.push(row(&*store, &tenant, &session).await);
    }
    assert_eq!(rows[0].status, "matched");
    assert_eq!(rows[0].shopper_id.as_ref(), Some(&shopper));
    assert_eq!((rows[0].started_at, rows[0].ended_at), (None, None));
    assert_eq!(rows[1].status, "live");
    assert_eq!(rows[1].shopper_id.as_ref(), Some(&shopper));
    assert_eq!(
        (rows[1].started_at, rows[1].ended_at),
        (Some(started), None)
    );
    assert_eq!(rows[2].status, "ended");
    assert_eq!(rows[2].shopper_id.as_ref(), Some(&shopper));
    assert_eq!(
        (rows[2].started_at, rows[2].ended_at),
        (Some(started), Some(ended))
    );
    assert_eq!(rows[2].seq, 4);
}

pub(crate) async fn claiming_a_session_raises_its_epoch(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await;

    // Act
    let first = store
        .claim_session(&tenant, &session.id)
        .await
        .expect("claim");
    let second = store
        .claim_session(&tenant, &session.id)
        .await
        .expect("claim again");

    // Assert
    assert_eq!(session.owner_epoch, 0);
    assert_eq!((first, second), (1, 2));
    assert_eq!(row(&*store, &tenant, &session.id).await.owner_epoch, 2);
}

pub(crate) async fn an_append_with_an_older_epoch_is_fenced_and_writes_nothing(
    store: Arc<dyn Store>,
) {
    // Arrange: a first owner at epoch 1, then a second owner at epoch 2.
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await.id;
    let old_owner = store.claim_session(&tenant, &session).await.expect("claim");
    let new_owner = store.claim_session(&tenant, &session).await.expect("claim");
    let mut stale = append_after(&tenant, &session, 1, vec![event("chat.posted", 1)]);
    stale.epoch = old_owner;
    stale.patch.status = Some("live".to_owned());
    stale.commands = vec![command("cmd_fenced", crate::now())];
    let mut current = append_after(&tenant, &session, 1, vec![event("chat.posted", 2)]);
    current.epoch = new_owner;

    // Act
    let err = store.append(stale).await.expect_err("an older epoch");
    let events_after_fenced = store.events(&tenant, &session, 0, 10).await.expect("read");
    let row_after_fenced = row(&*store, &tenant, &session).await;
    store.append(current).await.expect("the new owner appends");

    // Assert
    assert!(
        matches!(
            err,
            AppendError::Fenced {
                stored: 2,
                attempted: 1
            }
        ),
        "got {err:?}"
    );
    assert_eq!(events_after_fenced.len(), 1);
    assert_eq!(
        (row_after_fenced.seq, row_after_fenced.status.as_str()),
        (1, "requested")
    );
    let since = crate::now() - Duration::hours(1);
    let commands = store
        .recent_commands(&tenant, &session, 10, since)
        .await
        .expect("read");
    assert!(commands.is_empty(), "a fenced append recorded {commands:?}");
    let events = store.events(&tenant, &session, 0, 10).await.expect("read");
    assert_eq!(
        events.last().map(|e| e.data.clone()),
        Some(json!({ "n": 2 }))
    );
}

pub(crate) async fn appending_to_or_claiming_a_missing_session_is_no_session(
    store: Arc<dyn Store>,
) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let missing = SessionId::new("ses_missing");

    // Act
    let append_err = store
        .append(append_after(
            &tenant,
            &missing,
            0,
            vec![event("chat.posted", 1)],
        ))
        .await
        .expect_err("no such session");
    let claim_err = store
        .claim_session(&tenant, &missing)
        .await
        .expect_err("no such session");

    // Assert
    assert!(
        matches!(append_err, AppendError::NoSession),
        "got {append_err:?}"
    );
    assert!(
        matches!(claim_err, AppendError::NoSession),
        "got {claim_err:?}"
    );
    assert!(store
        .events(&tenant, &missing, 0, 10)
        .await
        .expect("read")
        .is_empty());
    assert_eq!(store.session(&tenant, &missing).await.expect("read"), None);
}

pub(crate) async fn a_returning_customer_keeps_one_customer_record(store: Arc<dyn Store>) {
    // Arrange: a returning customer keeps one record across sessions.
    let tenant = given_tenant(&*store, "ten_a").await;
    let buyer = customer("cus_1", "Zoë Ångström");
    let first = session_at(&tenant, "ses_1", buyer.clone(), crate::now());
    let second = session_at(&tenant, "ses_2", buyer.clone(), crate::now());

    // Act
    store
        .create_session(&first)
        .await
        .expect("create the first session");
    store
        .create_session(&second)
        .await
        .expect("create the second session");

    // Assert
    let stored = store.customer(&tenant, &buyer.id).await.expect("read");
    assert_eq!(stored, Some(buyer));
    let other = store
        .customer(&tenant, &CustomerId::new("cus_2"))
        .await
        .expect("read");
    assert_eq!(other, None);
    let participant = row(&*store, &tenant, &second.id)
        .await
        .customer_participant_id;
    assert_eq!(participant, ParticipantId::new("par_ses_2"));
}
