//! The store conformance suite: behaviours every [`Store`] implementation must show.
//!
//! Each check is an `async fn(Arc<dyn Store>)` that arranges its own records through the
//! trait, acts and asserts, so it runs unchanged against any implementation. The
//! [`store_conformance!`] macro turns every check into a `#[tokio::test]` for one
//! implementation, given a function that opens a fresh, empty store:
//!
//! ```ignore
//! mod postgres {
//!     async fn open() -> (Arc<dyn Store>, impl Sized) { /* fresh schema, drop guard */ }
//!     store_conformance!(open);
//! }
//! ```
//!
//! Layout: `support.rs` builds records and arranges common state; the other files hold the
//! checks of one area each.

mod carts;
mod catalog;
mod concurrency;
mod identity;
mod listing;
mod orders;
mod sessions;
mod snapshots;
mod support;
mod tenancy;

use std::sync::Arc;

use crate::store::Store;

/// Instantiates every conformance check as a test against the store that `$open` returns.
///
/// `$open` is an `async fn() -> (Arc<dyn Store>, G)`; `G` is kept alive until the test ends
/// (a temporary directory, a schema to drop) and is otherwise unused.
macro_rules! store_conformance {
    ($open:path) => {
        $crate::conformance::store_conformance!(@each $open;
            sessions::creating_a_session_stores_its_first_event_as_seq_1,
            sessions::creating_a_session_twice_is_already_exists,
            sessions::appended_events_read_back_in_order,
            sessions::events_page_after_a_seq_up_to_a_limit,
            sessions::the_session_seq_follows_appends,
            sessions::a_stale_expected_seq_is_a_seq_conflict_and_writes_nothing,
            sessions::an_append_applies_its_projection_patch,
            sessions::claiming_a_session_raises_its_epoch,
            sessions::an_append_with_an_older_epoch_is_fenced_and_writes_nothing,
            sessions::appending_to_or_claiming_a_missing_session_is_no_session,
            snapshots::the_latest_snapshot_is_the_newest_saved,
            snapshots::an_older_snapshot_never_replaces_a_newer_one,
            snapshots::a_command_record_is_kept_with_its_append,
            snapshots::recent_commands_are_oldest_first_within_limit_and_since,
            sessions::a_returning_customer_keeps_one_customer_record,
            concurrency::concurrent_appends_from_many_sessions_all_commit_without_gaps,
            concurrency::a_rejected_append_does_not_fail_the_appends_submitted_with_it,
            listing::sessions_list_newest_first_filtered_by_status_and_shopper,
            listing::sessions_list_finds_a_customer_by_a_non_ascii_name_fragment,
            listing::sessions_list_filters_by_creation_time,
            listing::sessions_list_pages_with_a_limit_and_a_before_cursor,
            tenancy::another_tenants_sessions_are_invisible,
            tenancy::another_tenants_catalog_carts_and_orders_are_invisible,
            tenancy::another_tenants_users_and_audit_log_are_invisible,
            tenancy::the_same_ids_in_two_tenants_name_different_records,
            identity::tenants_are_unique_by_id_and_by_public_key,
            identity::users_are_unique_by_email_within_a_tenant,
            identity::users_list_oldest_first,
            identity::the_signing_key_is_the_first_one_stored,
            identity::the_audit_log_reads_newest_first,
            catalog::importing_products_stores_them_with_their_variants,
            catalog::reimporting_a_product_replaces_its_fields_and_drops_unlisted_variants,
            catalog::variant_owners_name_the_product_of_each_known_variant,
            catalog::search_matches_only_products_with_every_term,
            catalog::search_filters_by_collection,
            catalog::search_ranks_preferred_collections_first_within_the_limit,
            catalog::search_treats_like_wildcards_in_the_query_literally,
            catalog::search_skips_inactive_products_when_asked,
            carts::opening_a_cart_creates_one_and_returns_it_again,
            carts::concurrent_opens_of_a_customers_cart_return_one_cart,
            carts::setting_cart_lines_adds_updates_and_removes_and_bumps_the_version,
            carts::a_stale_cart_version_is_a_conflict_carrying_the_current_cart,
            carts::a_cart_line_for_an_unknown_variant_or_cart_is_not_found,
            carts::the_same_idempotency_key_applies_a_cart_change_once,
            carts::an_ordered_cart_refuses_line_changes,
            orders::placing_an_order_decrements_stock_and_closes_the_cart,
            orders::placing_an_order_again_for_the_same_cart_returns_the_first_order,
            orders::concurrent_orders_for_one_cart_produce_one_order,
            orders::an_order_beyond_stock_is_out_of_stock_and_changes_nothing,
            orders::a_backorderable_variant_may_sell_past_zero_stock,
            orders::untracked_stock_never_blocks_an_order,
            orders::two_checkouts_racing_for_the_last_unit_place_one_order,
            orders::an_order_at_a_stale_cart_version_is_a_conflict,
            orders::an_order_for_an_unknown_cart_is_not_found,
        );
    };
    (@each $open:path; $($area:ident :: $check:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let (store, _guard) = $open().await;
                $crate::conformance::$area::$check(store).await;
            }
        )+
    };
}
pub(crate) use store_conformance;

/// Opens a fresh SQLite store with `options` adjusted by `adjust`, in its own directory.
fn open_sqlite(
    adjust: impl FnOnce(&mut crate::sqlite::SqliteOptions),
) -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let mut options = crate::sqlite::SqliteOptions::new(dir.path().join("vitrine.db"));
    adjust(&mut options);
    let store = crate::sqlite::SqliteStore::open(&options).expect("open the sqlite store");
    (Arc::new(store), dir)
}

/// The embedded store with its default settings (grouped commits, full fsync).
mod sqlite {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use crate::group_commit::{BatchObserver, GroupCommitOptions};
    use crate::sqlite::{SqliteOptions, SqliteStore};
    use crate::store::Store;

    use super::concurrency;

    async fn open() -> (Arc<dyn Store>, tempfile::TempDir) {
        super::open_sqlite(|_| {})
    }

    super::store_conformance!(open);

    /// Records the size of every committed group.
    #[derive(Default)]
    struct GroupSizes(Mutex<Vec<usize>>);

    impl BatchObserver for GroupSizes {
        fn committed(&self, size: usize, _elapsed: Duration) {
            self.0.lock().expect("group sizes lock").push(size);
        }
    }

    /// With a commit window wide enough to gather every simultaneous append, the rejected
    /// appends of the shared check really do share one transaction with the valid ones.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn rejected_appends_share_a_group_commit_with_the_valid_ones() {
        // Arrange
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let options = SqliteOptions {
            group_commit: GroupCommitOptions {
                window: Duration::from_millis(250),
                max_batch: 512,
            },
            ..SqliteOptions::new(dir.path().join("vitrine.db"))
        };
        let sizes = Arc::new(GroupSizes::default());
        let observer: Arc<dyn BatchObserver> = sizes.clone();
        let store = SqliteStore::open_observed(&options, observer).expect("open the store");

        // Act
        concurrency::a_rejected_append_does_not_fail_the_appends_submitted_with_it(Arc::new(store))
            .await;

        // Assert
        let sizes = sizes.0.lock().expect("group sizes lock").clone();
        assert!(
            sizes.contains(&concurrency::SIMULTANEOUS_APPENDS),
            "group sizes {sizes:?}"
        );
    }
}

/// The embedded store committing every append on its own.
mod sqlite_unbatched {
    use std::sync::Arc;

    use crate::group_commit::GroupCommitOptions;
    use crate::store::Store;

    async fn open() -> (Arc<dyn Store>, tempfile::TempDir) {
        super::open_sqlite(|options| options.group_commit = GroupCommitOptions::unbatched())
    }

    super::store_conformance!(open);
}

/// The production store, each test in a fresh schema of the local Postgres.
mod postgres {
    use std::sync::Arc;

    use crate::postgres::testing::TestSchema;
    use crate::postgres::PgStore;
    use crate::store::Store;

    async fn open() -> (Arc<dyn Store>, TestSchema) {
        let schema = TestSchema::new().await;
        let store = PgStore::connect(&schema.options())
            .await
            .expect("open the postgres store");
        (Arc::new(store), schema)
    }

    super::store_conformance!(open);
}

/// The production store committing one append per transaction.
mod postgres_unbatched {
    use std::sync::Arc;

    use crate::group_commit::GroupCommitOptions;
    use crate::postgres::testing::TestSchema;
    use crate::postgres::PgStore;
    use crate::store::Store;

    async fn open() -> (Arc<dyn Store>, TestSchema) {
        let schema = TestSchema::new().await;
        let mut options = schema.options();
        options.group_commit = GroupCommitOptions::unbatched();
        let store = PgStore::connect(&options)
            .await
            .expect("open the postgres store");
        (Arc::new(store), schema)
    }

    super::store_conformance!(open);
}
