//! Checks of the session list: order, filters and cursor paging.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{SessionFilter, SessionId, SessionSummary, TenantId, UserId};
use crate::store::Store;

use super::support::{customer, given_tenant, minutes_after, session_at};

/// A session to seed: id, customer name, status, shopper and minutes after the base time.
struct Seed {
    id: &'static str,
    name: &'static str,
    status: &'static str,
    shopper: Option<&'static str>,
    minute: i64,
}

const fn seed(id: &'static str, name: &'static str, minute: i64) -> Seed {
    Seed {
        id,
        name,
        status: "requested",
        shopper: None,
        minute,
    }
}

/// Creates the seeded sessions and returns the base time their minutes count from.
async fn given_sessions(store: &dyn Store, tenant: &TenantId, seeds: &[Seed]) -> DateTime<Utc> {
    let base = crate::now() - chrono::Duration::days(1);
    for s in seeds {
        let buyer = customer(&format!("cus_{}", s.id), s.name);
        let mut new = session_at(tenant, s.id, buyer, minutes_after(base, s.minute));
        new.status = s.status.to_owned();
        new.shopper_id = s.shopper.map(UserId::new);
        store.create_session(&new).await.expect("create a session");
    }
    base
}

/// A filter with a page size of 50 and nothing else.
fn all() -> SessionFilter {
    SessionFilter {
        limit: 50,
        ..SessionFilter::default()
    }
}

/// Lists with `filter` and returns the session ids, in the order listed.
async fn listed(store: &dyn Store, tenant: &TenantId, filter: &SessionFilter) -> Vec<String> {
    store
        .list_sessions(tenant, filter)
        .await
        .expect("list sessions")
        .into_iter()
        .map(|s| s.row.id.into_string())
        .collect()
}

pub(crate) async fn sessions_list_newest_first_filtered_by_status_and_shopper(
    store: Arc<dyn Store>,
) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let seeds = [
        Seed {
            status: "live",
            shopper: Some("usr_ana"),
            ..seed("ses_a", "Ada", 1)
        },
        Seed {
            status: "ended",
            shopper: Some("usr_ana"),
            ..seed("ses_b", "Bea", 2)
        },
        Seed {
            status: "live",
            shopper: Some("usr_bob"),
            ..seed("ses_c", "Cai", 3)
        },
        seed("ses_d", "Dov", 4),
    ];
    given_sessions(&*store, &tenant, &seeds).await;
    let live = SessionFilter {
        status: Some("live".into()),
        ..all()
    };
    let ana = SessionFilter {
        shopper_id: Some(UserId::new("usr_ana")),
        ..all()
    };
    let ana_live = SessionFilter {
        status: Some("live".into()),
        ..ana.clone()
    };

    // Act
    let everything = store.list_sessions(&tenant, &all()).await.expect("list");
    let live_ids = listed(&*store, &tenant, &live).await;
    let ana_ids = listed(&*store, &tenant, &ana).await;
    let ana_live_ids = listed(&*store, &tenant, &ana_live).await;

    // Assert
    let ids: Vec<&str> = everything.iter().map(|s| s.row.id.as_str()).collect();
    assert_eq!(ids, ["ses_d", "ses_c", "ses_b", "ses_a"]);
    let names: Vec<&str> = everything
        .iter()
        .map(|s| s.customer_name.as_str())
        .collect();
    assert_eq!(names, ["Dov", "Cai", "Bea", "Ada"]);
    assert_eq!(live_ids, ["ses_c", "ses_a"]);
    assert_eq!(ana_ids, ["ses_b", "ses_a"]);
    assert_eq!(ana_live_ids, ["ses_a"]);
}

pub(crate) async fn sessions_list_finds_a_customer_by_a_non_ascii_name_fragment(
    store: Arc<dyn Store>,
) {
    // Arrange
    let tenant = given_tenant(&*store, "ten_a").await;
    let seeds = [
        seed("ses_jose", "José Ñúñez", 1),
        seed("ses_joseph", "Joseph Nunez", 2),
        seed("ses_zoe", "Zoë Ångström", 3),
    ];
    given_sessions(&*store, &tenant, &seeds).await;
    let query = |q: &str| SessionFilter {
        query: Some(q.to_owned()),
        ..all()
    };

    // Act
    let folded = store
        .list_sessions(&tenant, &query("josé ñ"))
        .await
        .expect("list");
    let upper = listed(&*store, &tenant, &query("JOSÉ ÑÚ")).await;
    let inner = listed(&*store, &tenant, &query("ñúñez")).await;
    let ascii = listed(&*store, &tenant, &query("nunez")).await;
    let by_id = listed(&*store, &tenant, &query("ses_zoe")).await;
    let nobody = listed(&*store, &tenant, &query("josé x")).await;

    // Assert
    let found: Vec<(&str, &str)> = folded
        .iter()
        .map(|s| (s.row.id.as_str(), s.customer_name.as_str()))
        .collect();
    assert_eq!(found, [("ses_jose", "José Ñúñez")]);
    assert_eq!(upper, ["ses_jose"]);
    assert_eq!(inner, ["ses_jose"]);
    assert_eq!(ascii, ["ses_joseph"]);
    assert_eq!(by_id, ["ses_zoe"]);
    assert!(nobody.is_empty(), "found {nobody:?}");
}

pub(crate) async fn sessions_list_filters_by_creation_time(store: Arc<dyn Store>) {
    // Arrange: sessions at minutes 10, 20, 30 and 40.
    let tenant = given_tenant(&*store, "ten_a").await;
    let seeds = [
        seed("ses_10", "Ten", 10),
        seed("ses_20", "Twenty", 20),
        seed("ses_30", "Thirty", 30),
        seed("ses_40", "Forty", 40),
    ];
    let base = given_sessions(&*store, &tenant, &seeds).await;
    let window = SessionFilter {
        from: Some(minutes_after(base, 20)),
        to: Some(minutes_after(base, 40)),
        ..all()
    };
    let from_only = SessionFilter {
        from: Some(minutes_after(base, 30)),
        ..all()
    };
    let to_only = SessionFilter {
        to: Some(minutes_after(base, 20)),
        ..all()
    };

    // Act
    let in_window = listed(&*store, &tenant, &window).await;
    let since_30 = listed(&*store, &tenant, &from_only).await;
    let before_20 = listed(&*store, &tenant, &to_only).await;

    // Assert: `from` is inclusive, `to` exclusive.
    assert_eq!(in_window, ["ses_30", "ses_20"]);
    assert_eq!(since_30, ["ses_40", "ses_30"]);
    assert_eq!(before_20, ["ses_10"]);
}

pub(crate) async fn sessions_list_pages_with_a_limit_and_a_before_cursor(store: Arc<dyn Store>) {
    // Arrange: seven sessions, three of them created in the same millisecond.
    let tenant = given_tenant(&*store, "ten_a").await;
    let seeds = [
        seed("ses_1", "One", 1),
        seed("ses_2", "Two", 2),
        seed("ses_3a", "Three A", 3),
        seed("ses_3b", "Three B", 3),
        seed("ses_3c", "Three C", 3),
        seed("ses_4", "Four", 4),
        seed("ses_5", "Five", 5),
    ];
    given_sessions(&*store, &tenant, &seeds).await;
    let unpaged = listed(&*store, &tenant, &all()).await;

    // Act
    let mut pages: Vec<Vec<SessionSummary>> = Vec::new();
    let mut before: Option<(DateTime<Utc>, SessionId)> = None;
    loop {
        let filter = SessionFilter {
            limit: 3,
            before: before.clone(),
            ..all()
        };
        let page = store
            .list_sessions(&tenant, &filter)
            .await
            .expect("list a page");
        if page.is_empty() {
            break;
        }
        assert!(pages.len() < seeds.len(), "paging does not end");
        let last = page.last().expect("a non-empty page");
        before = Some((last.row.created_at, last.row.id.clone()));
        pages.push(page);
    }

    // Assert
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1]);
    let paged: Vec<String> = pages
        .into_iter()
        .flatten()
        .map(|s| s.row.id.into_string())
        .collect();
    assert_eq!(paged, unpaged);
    assert_eq!(paged.iter().collect::<HashSet<_>>().len(), seeds.len());
    assert_eq!(
        paged,
        ["ses_5", "ses_4", "ses_3c", "ses_3b", "ses_3a", "ses_2", "ses_1"]
    );
}
