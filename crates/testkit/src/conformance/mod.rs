//! The conformance suite: what the use cases rely on from storage, checked against any adapter.
//!
//! Each check is a `pub async fn(Storage)` that gets a fresh, empty [`Storage`] and panics with a
//! message when the adapter behaves otherwise than the port documents (and the SQL adapter, the
//! reference, does). One module per port, plus [`cascades`] for what deleting a user takes along
//! and [`keyset`] for walking every paginated list by position.
//!
//! To run the suite for an adapter, write a harness — an `async fn(check: Check)` that builds a
//! fresh, empty store, hands it to `check` as a [`Storage`] and cleans up — and let
//! [`conformance_tests!`](crate::conformance_tests) make one `#[test]` per check:
//!
//! ```ignore
//! async fn on_my_store(check: hexgate_testkit::conformance::Check) {
//!     check(my_fresh_storage().await).await;
//! }
//! hexgate_testkit::conformance_tests!(on_my_store);
//! ```

pub mod account_tokens;
pub mod api_keys;
pub mod audit;
pub mod cascades;
pub mod catalog;
pub mod files;
pub mod jobs;
pub mod keyset;
pub mod orders;
pub mod orgs;
pub mod preferences;
pub mod second_factors;
pub mod sessions;
pub mod signing_keys;
mod support;
pub mod users;

use std::future::Future;
use std::pin::Pin;

pub use crate::Storage;

/// One conformance check, ready to run on a fresh store.
pub type Check = fn(Storage) -> Pin<Box<dyn Future<Output = ()>>>;

/// Runs a harness's future to the end on a multi-threaded runtime: the concurrency checks race
/// real tasks on several threads.
///
/// # Panics
/// When the runtime cannot be built, or when the check fails.
pub fn block_on(future: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future);
}

/// One `#[test]` per conformance check, in a module per port (`users::round_trip`, …), each
/// running `harness(check)`. `harness` is an `async fn(Check)` in scope where the macro is
/// called. Pass the ports to check after a colon to run only those:
/// `conformance_tests!(on_my_store: users, sessions)`.
#[macro_export]
macro_rules! conformance_tests {
    ($harness:path : $($port:ident),+ $(,)?) => {
        $( $crate::__conformance_port!($port, $harness); )+
    };
    ($harness:path) => {
        $crate::conformance_tests!(
            $harness: users, sessions, account_tokens, catalog, orders, keyset, preferences, files, jobs, cascades, api_keys, audit, signing_keys, orgs, second_factors
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_port {
    (users, $h:path) => {
        $crate::__conformance_checks!($h; users:
            round_trip,
            email_and_username_are_unique_whatever_their_case,
            concurrent_sign_ups_with_one_email_let_exactly_one_in,
            a_user_and_their_jobs_are_written_together,
            insert_many_is_all_or_nothing,
            lists_filter_sort_and_page,
            the_last_active_admin_cannot_be_demoted_deactivated_or_deleted,
            two_admins_demoting_each_other_at_once_leave_one_admin,
            two_admins_deleted_at_once_leave_one_admin
        );
    };
    (sessions, $h:path) => {
        $crate::__conformance_checks!($h; sessions:
            refresh_rotates_and_a_replayed_token_revokes_its_family,
            concurrent_refreshes_of_one_token_rotate_it_once,
            concurrent_refreshes_within_grace_stay_in_one_family,
            expired_tokens_and_sessions_are_dead,
            sessions_are_revoked_only_by_their_owner_and_listed_newest_first
        );
    };
    (account_tokens, $h:path) => {
        $crate::__conformance_checks!($h; account_tokens:
            a_reset_token_is_spent_once_and_ends_every_session,
            expired_used_and_wrong_purpose_tokens_do_nothing,
            a_verification_token_verifies_once,
            invalidate_kills_only_unused_tokens_of_that_purpose,
            concurrent_resets_with_one_token_let_one_through
        );
    };
    (catalog, $h:path) => {
        $crate::__conformance_checks!($h; catalog:
            products_round_trip_update_and_delete,
            products_list_newest_first_filtered_by_name
        );
    };
    (orders, $h:path) => {
        $crate::__conformance_checks!($h; orders:
            an_order_copies_its_products_names_and_prices,
            only_a_pending_order_can_be_cancelled,
            orders_list_newest_first_by_user_and_date_range
        );
    };
    (keyset, $h:path) => {
        $crate::__conformance_checks!($h; keyset:
            every_users_sort_walks_each_row_once_in_order,
            a_keyset_window_counts_nothing_and_starts_strictly_after_its_position,
            a_walk_is_not_shifted_by_rows_added_or_removed_before_its_position,
            products_and_orders_walk_newest_first_each_row_once
        );
    };
    (preferences, $h:path) => {
        $crate::__conformance_checks!($h; preferences:
            preferences_are_kept_per_user_and_replaced_whole,
            preferences_of_a_missing_user_are_refused
        );
    };
    (files, $h:path) => {
        $crate::__conformance_checks!($h; files:
            a_file_and_its_job_are_written_together_and_its_status_is_the_jobs,
            a_file_for_an_owner_who_is_gone_is_refused_and_queues_no_job
        );
    };
    (jobs, $h:path) => {
        $crate::__conformance_checks!($h; jobs:
            an_empty_queue_has_nothing_to_claim,
            a_job_runs_once_and_is_recorded_done,
            the_oldest_due_job_is_claimed_first_and_future_ones_wait,
            racing_workers_claim_each_job_exactly_once,
            a_failing_job_is_retried_with_backoff_then_failed_with_its_last_error,
            an_expired_lease_is_claimed_again_and_the_old_worker_is_fenced_out
        );
    };
    (api_keys, $h:path) => {
        $crate::__conformance_checks!($h; api_keys:
            keys_are_found_by_hash_with_their_owner_and_listed_newest_first,
            only_the_owner_deletes_a_key_and_its_event_is_written_with_it,
            last_used_is_written_at_most_once_per_interval,
            a_users_keys_go_with_them
        );
    };
    (audit, $h:path) => {
        $crate::__conformance_checks!($h; audit:
            events_round_trip_newest_first_and_filter,
            pages_neither_repeat_nor_skip_while_events_are_added,
            a_refused_change_records_nothing_and_an_applied_one_its_events,
            events_outlive_their_user_and_retention_prunes_only_old_ones
        );
    };
    (second_factors, $h:path) => {
        $crate::__conformance_checks!($h; second_factors:
            a_totp_step_is_accepted_once_however_many_race_for_it,
            an_mfa_token_takes_at_most_five_attempts_and_is_spent_once,
            recovery_codes_are_spent_once_and_go_with_totp,
            a_ceremony_finishes_once_and_only_as_its_own_kind,
            a_credential_has_one_account_and_its_sign_count_moves_on_once,
            a_reset_and_a_deleted_user_take_every_factor_along
        );
    };
    (signing_keys, $h:path) => {
        $crate::__conformance_checks!($h; signing_keys:
            a_key_round_trips_and_the_first_key_is_made_once,
            instances_racing_to_make_the_first_key_leave_exactly_one,
            rotation_hands_signing_to_the_new_key_and_keeps_the_old_one_live,
            concurrent_rotations_leave_one_active_key_and_lose_none,
            retirement_takes_rotated_keys_past_the_cutoff_and_never_the_active_one
        );
    };
    (orgs, $h:path) => {
        $crate::__conformance_checks!($h; orgs:
            organizations_round_trip_with_unique_slugs_and_their_creator_as_owner,
            membership_changes_follow_the_roles_and_the_last_owner_rule,
            two_owners_demoting_each_other_at_once_leave_one_owner,
            an_invitation_is_spent_once_even_when_accepted_concurrently,
            an_organization_takes_its_memberships_and_invitations_and_a_user_their_memberships
        );
    };
    (cascades, $h:path) => {
        $crate::__conformance_checks!($h; cascades:
            deleting_a_user_deletes_what_is_theirs_and_nothing_else
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_checks {
    ($h:path; $port:ident : $($check:ident),+ $(,)?) => {
        mod $port {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $check() {
                    let check: $crate::conformance::Check =
                        |storage| ::std::boxed::Box::pin($crate::conformance::$port::$check(storage));
                    $crate::conformance::block_on($h(check));
                }
            )+
        }
    };
}
