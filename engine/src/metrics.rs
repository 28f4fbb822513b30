//! Metric names, in one place, and the few helpers that record them.
//!
//! Names follow the Prometheus conventions: a `vitrine_` prefix, counters ending in
//! `_total`, units in the name. Labels come from small fixed sets (command names, error
//! codes, roles, tenants); session and participant ids are never labels.

/// Live session actors in this process (gauge).
pub const LIVE_SESSIONS: &str = "vitrine_live_sessions";
/// Connected participants, by `role` (gauge).
pub const CONNECTED_PARTICIPANTS: &str = "vitrine_connected_participants";
/// Commands handled, by `command`, `outcome` (`ok` or the error code) and `tenant`.
pub const COMMANDS: &str = "vitrine_commands_total";
/// Time from a command's arrival at its session to its reply, by `command` (seconds).
pub const COMMAND_DURATION: &str = "vitrine_command_duration_seconds";
/// Time from an event's creation to its frame being handed to a participant's socket
/// (seconds).
pub const FANOUT_LATENCY: &str = "vitrine_fanout_latency_seconds";
/// Events stored, by `tenant`.
pub const EVENTS_APPENDED: &str = "vitrine_events_appended_total";
/// Appends per group commit.
pub const GROUP_COMMIT_SIZE: &str = "vitrine_group_commit_appends";
/// Duration of a group commit (seconds).
pub const GROUP_COMMIT_DURATION: &str = "vitrine_group_commit_duration_seconds";
/// Connections cut off for reading too slowly (close 4429).
pub const OUTBOUND_DROPS: &str = "vitrine_outbound_queue_drops_total";
/// Failed store calls, by `operation` and `kind` (`unavailable` or `internal`).
pub const STORE_ERRORS: &str = "vitrine_store_errors_total";
/// Messages to other nodes that could not be published (Redis down or the queue full);
/// followers catch up from the store.
pub const CLUSTER_DROPPED: &str = "vitrine_cluster_publish_dropped_total";
/// WebSocket connections open (gauge).
pub const WS_CONNECTIONS: &str = "vitrine_ws_connections";

/// Counts a failed store call.
pub fn store_error(operation: &'static str, error: &vitrine_persistence::StoreError) {
    let kind = if error.is_unavailable() {
        "unavailable"
    } else {
        "internal"
    };
    metrics::counter!(STORE_ERRORS, "operation" => operation, "kind" => kind).increment(1);
}
