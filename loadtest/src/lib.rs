//! Vitrine's load test: real WebSocket participants that speak the wire contract through
//! the gateway's own frame types ([`vitrine_gateway::protocol`]), so the load test cannot
//! drift from the wire.
//!
//! A run follows a [`plan::Plan`]: a scenario (`spike`, `steady`, `reconnect-storm`,
//! `ramp`) over sessions whose participants follow weighted behaviours. It ends with a
//! [`report::Report`] holding the run parameters, exact delivery accounting, HDR latency
//! histograms corrected for coordinated omission, errors and close codes, and the
//! server's CPU and memory when its process id is known.
//!
//! Layout:
//!
//! - [`plan`]: validated run parameters and their bounds; [`target`]: where to connect,
//!   loopback only unless allowed.
//! - [`mix`]: participant behaviours and their weights; the transactions they run.
//! - [`setup`]: staff, sessions and invitations created over the HTTP API.
//! - [`client`]: one task per participant, generic over the wire it speaks (Vitrine, or
//!   the Socket.IO and plain-WebSocket peers measured beside it).
//! - [`ledger`]: per-session bookkeeping of what was sent and what each participant
//!   received, from which deliveries, gaps, duplicates and reorderings are counted.
//! - [`metrics`]: histograms and live counters; [`procstat`]: server CPU and RSS.
//! - [`fleet`] and [`scenario`]: run the phases of each scenario.
//! - [`report`]: the JSON report and its Markdown summary.

pub mod client;
pub mod clock;
pub mod fleet;
pub mod ledger;
pub mod metrics;
pub mod mix;
pub mod plan;
pub mod procstat;
pub mod report;
pub mod scenario;
pub mod setup;
pub mod target;

pub use plan::Plan;
pub use report::Report;
pub use scenario::{run, Progress, ProgressFn};
