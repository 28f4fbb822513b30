//! Checks of what is kept beside the session log: snapshots and command records.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use crate::model::{CommandRecord, Snapshot};
use crate::store::Store;

use super::support::{append_after, command, event, given_session, given_tenant};

pub(crate) async fn the_latest_snapshot_is_the_newest_saved(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await.id;
    let before_any = store
        .latest_snapshot(&tenant, &session)
        .await
        .expect("read");
    let early = Snapshot {
        seq: 5,
        state: json!({ "pinned": ["prd_a"] }),
    };
    let late = Snapshot {
        seq: 9,
        state: json!({ "pinned": ["prd_a", "prd_b"] }),
    };

    // Act
    store
        .save_snapshot(&tenant, &session, &early)
        .await
        .expect("save");
    let after_early = store
        .latest_snapshot(&tenant, &session)
        .await
        .expect("read");
    store
        .save_snapshot(&tenant, &session, &late)
        .await
        .expect("save");
    let after_late = store
        .latest_snapshot(&tenant, &session)
        .await
        .expect("read");

    // Assert
    assert_eq!(before_any, None);
    assert_eq!(after_early, Some(early));
    assert_eq!(after_late, Some(late));
}

pub(crate) async fn an_older_snapshot_never_replaces_a_newer_one(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await.id;
    let newer = Snapshot {
        seq: 9,
        state: json!({ "version": "newer" }),
    };
    let older = Snapshot {
        seq: 5,
        state: json!({ "version": "older" }),
    };
    store
        .save_snapshot(&tenant, &session, &newer)
        .await
        .expect("save");

    // Act
    store
        .save_snapshot(&tenant, &session, &older)
        .await
        .expect("save an older one");

    // Assert
    let latest = store
        .latest_snapshot(&tenant, &session)
        .await
        .expect("read");
    assert_eq!(latest, Some(newer));
}

pub(crate) async fn a_command_record_is_kept_with_its_append(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await.id;
    let record = command("cmd_1", crate::now());
    let mut batch = append_after(&tenant, &session, 1, vec![event("chat.posted", 1)]);
    batch.commands = vec![record.clone()];

    // Act
    store.append(batch).await.expect("append");

    // Assert
    let since = crate::now() - Duration::hours(1);
    let commands = store
        .recent_commands(&tenant, &session, 10, since)
        .await
        .expect("read");
    assert_eq!(commands, vec![record]);
}

pub(crate) async fn recent_commands_are_oldest_first_within_limit_and_since(store: Arc<dyn Store>) {
    // Arrange: five commands one second apart.
    let tenant = given_tenant(&*store, "ten_a").await;
    let session = given_session(&*store, &tenant, "ses_1").await.id;
    let base = crate::now() - Duration::minutes(1);
    let at = |i: i64| base + Duration::seconds(i);
    for i in 0..5 {
        let mut batch = append_after(&tenant, &session, 1 + i as u64, vec![event("x.done", 0)]);
        batch.commands = vec![command(&format!("cmd_{i}"), at(i))];
        store.append(batch).await.expect("append");
    }
    let ids = |records: Vec<CommandRecord>| -> Vec<String> {
        records.into_iter().map(|r| r.command_id).collect()
    };

    // Act
    let all = store
        .recent_commands(&tenant, &session, 10, base)
        .await
        .expect("read");
    let newest_two = store
        .recent_commands(&tenant, &session, 2, base)
        .await
        .expect("read");
    let since_third = store
        .recent_commands(&tenant, &session, 10, at(2))
        .await
        .expect("read");
    let after_all = store
        .recent_commands(&tenant, &session, 10, at(5))
        .await
        .expect("read");

    // Assert
    assert_eq!(ids(all), ["cmd_0", "cmd_1", "cmd_2", "cmd_3", "cmd_4"]);
    assert_eq!(ids(newest_two), ["cmd_3", "cmd_4"]);
    assert_eq!(ids(since_third), ["cmd_2", "cmd_3", "cmd_4"]);
    assert!(after_all.is_empty());
}
