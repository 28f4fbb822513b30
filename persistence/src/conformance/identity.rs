//! Checks of tenants, staff users, the signing key and the audit log.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use crate::error::StoreError;
use crate::model::{AuditEntry, Tenant, TenantId, UserId};
use crate::store::Store;

use super::support::{given_tenant, staff, tenant_record};

pub(crate) async fn tenants_are_unique_by_id_and_by_public_key(store: Arc<dyn Store>) {
    // Arrange
    let tenant = tenant_record("ten_a");
    store
        .create_tenant(&tenant)
        .await
        .expect("create the tenant");
    let same_id = Tenant {
        public_key: "pk_other".to_owned(),
        ..tenant_record("ten_a")
    };
    let same_key = Tenant {
        public_key: tenant.public_key.clone(),
        ..tenant_record("ten_b")
    };

    // Act
    let id_err = store.create_tenant(&same_id).await.expect_err("a taken id");
    let key_err = store
        .create_tenant(&same_key)
        .await
        .expect_err("a taken key");

    // Assert
    assert!(
        matches!(id_err, StoreError::AlreadyExists(_)),
        "got {id_err:?}"
    );
    assert!(
        matches!(key_err, StoreError::AlreadyExists(_)),
        "got {key_err:?}"
    );
    assert_eq!(
        store.tenant(&tenant.id).await.expect("read"),
        Some(tenant.clone())
    );
    let by_key = store
        .tenant_by_public_key(&tenant.public_key)
        .await
        .expect("read");
    assert_eq!(by_key, Some(tenant));
    assert_eq!(
        store.tenant(&TenantId::new("ten_b")).await.expect("read"),
        None
    );
    assert_eq!(
        store.tenant_by_public_key("pk_other").await.expect("read"),
        None
    );
}

pub(crate) async fn users_are_unique_by_email_within_a_tenant(store: Arc<dyn Store>) {
    // Arrange
    let a = given_tenant(&*store, "ten_a").await;
    let b = given_tenant(&*store, "ten_b").await;
    let ana = staff(&a, "usr_ana", "ana@example.com");
    store.create_user(&ana).await.expect("create the user");
    let same_email = staff(&a, "usr_other", "ana@example.com");
    let same_id = staff(&a, "usr_ana", "someone@example.com");
    let other_tenant = staff(&b, "usr_ana_b", "ana@example.com");

    // Act
    let email_err = store
        .create_user(&same_email)
        .await
        .expect_err("a taken email");
    let id_err = store.create_user(&same_id).await.expect_err("a taken id");
    store
        .create_user(&other_tenant)
        .await
        .expect("the same email in another tenant");

    // Assert
    assert!(
        matches!(email_err, StoreError::AlreadyExists(_)),
        "got {email_err:?}"
    );
    assert!(
        matches!(id_err, StoreError::AlreadyExists(_)),
        "got {id_err:?}"
    );
    assert_eq!(
        store.user(&a, &ana.id).await.expect("read"),
        Some(ana.clone())
    );
    assert_eq!(store.list_users(&a).await.expect("list"), vec![ana]);
    assert_eq!(
        store.list_users(&b).await.expect("list"),
        vec![other_tenant]
    );
    let missing = store
        .user(&a, &UserId::new("usr_other"))
        .await
        .expect("read");
    assert_eq!(missing, None);
}

pub(crate) async fn users_list_oldest_first(store: Arc<dyn Store>) {
    // Arrange: created out of id order, a minute apart.
    let tenant = given_tenant(&*store, "ten_a").await;
    let base = crate::now() - Duration::hours(1);
    let mut users = Vec::new();
    for (minute, id) in [(1, "usr_c"), (2, "usr_a"), (3, "usr_b")] {
        let mut user = staff(&tenant, id, &format!("{id}@example.com"));
        user.created_at = base + Duration::minutes(minute);
        users.push(user);
    }

    // Act
    for user in users.iter().rev() {
        store.create_user(user).await.expect("create a user");
    }

    // Assert
    assert_eq!(store.list_users(&tenant).await.expect("list"), users);
}

pub(crate) async fn the_signing_key_is_the_first_one_stored(store: Arc<dyn Store>) {
    // Arrange
    let first = b"first-signing-key-0123456789abcdef".to_vec();
    let second = b"second-signing-key-0123456789abcde".to_vec();

    // Act
    let stored = store.signing_key(first.clone()).await.expect("store a key");
    let again = store.signing_key(second).await.expect("read the key");
    let later = store.signing_key(Vec::new()).await.expect("read the key");

    // Assert
    assert_eq!(stored, first);
    assert_eq!(again, first);
    assert_eq!(later, first);
}

pub(crate) async fn the_audit_log_reads_newest_first(store: Arc<dyn Store>) {
    // Arrange
    let a = given_tenant(&*store, "ten_a").await;
    let b = given_tenant(&*store, "ten_b").await;
    let base = crate::now() - Duration::minutes(10);
    let entry = |tenant: &TenantId, n: i64| AuditEntry {
        tenant_id: tenant.clone(),
        actor: "usr_admin".to_owned(),
        action: "shopper.created".to_owned(),
        subject: format!("usr_{n}"),
        at: base + Duration::minutes(n),
        detail: json!({ "n": n }),
    };
    let entries: Vec<AuditEntry> = (1..=3).map(|n| entry(&a, n)).collect();

    // Act
    for e in &entries {
        store.record_audit(e).await.expect("record");
    }
    store
        .record_audit(&entry(&b, 4))
        .await
        .expect("record in another tenant");

    // Assert
    let newest_first: Vec<AuditEntry> = entries.iter().rev().cloned().collect();
    assert_eq!(store.audit_log(&a, 10).await.expect("read"), newest_first);
    assert_eq!(
        store.audit_log(&a, 2).await.expect("read"),
        newest_first[..2]
    );
    assert_eq!(
        store.audit_log(&b, 10).await.expect("read"),
        vec![entry(&b, 4)]
    );
}
