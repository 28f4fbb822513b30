//! The report of a run: run parameters first (scenario, targets, commit, date, machine),
//! then connections, exact delivery accounting, fan-out and transaction latencies, errors
//! and close codes, the server's CPU and memory, and a verdict that checks the accounting
//! adds up. Written as JSON and summarised in Markdown ([`markdown`]).

mod machine;
pub mod markdown;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::fleet::StormOutcome;
use crate::ledger::{Accounting, Tally};
use crate::metrics::{Measurements, Percentiles};
use crate::mix::Transaction;
use crate::plan::Plan;
use crate::procstat::Usage;

pub use machine::{commit, Machine};

/// Everything a run found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The tool and its version.
    pub tool: String,
    /// When, where, against what.
    pub run: RunInfo,
    /// The run parameters as given.
    pub plan: Plan,
    /// Connections and sessions.
    pub connections: Connections,
    /// Delivery accounting.
    pub delivery: Delivery,
    /// Fan-out latency per event kind (corrected), with an `all` row first.
    pub fanout: Vec<LatencyRow>,
    /// Deliveries caught up after a resume, from their scheduled send time.
    pub catchup: Option<Percentiles>,
    /// Transactions.
    pub transactions: Vec<TxRow>,
    /// Failed replies and error frames by code.
    pub errors: BTreeMap<String, u64>,
    /// Connections the server closed or lost, by code.
    pub closes: BTreeMap<String, u64>,
    /// Failed connection attempts by reason.
    pub connect_failures: BTreeMap<String, u64>,
    /// Frames that could not be read.
    pub bad_frames: BadFrames,
    /// Frames received per event kind.
    pub frames: Vec<FrameRow>,
    /// The reconnect storm.
    pub storm: Option<StormReport>,
    /// The ramp's steps.
    pub ramp: Option<RampReport>,
    /// The server's CPU and memory.
    pub server: Option<ServerFigures>,
    /// The load generator's own figures.
    pub loadgen: LoadgenFigures,
    /// Whether the accounting adds up and nothing was lost.
    pub verdict: Verdict,
}

/// When, where, against what.
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    /// Scenario name.
    pub scenario: String,
    /// Server kind.
    pub kind: String,
    /// Node URLs.
    pub targets: Vec<String>,
    /// Node count.
    pub nodes: usize,
    /// Commit of the load test's checkout, with `-dirty` for local changes.
    pub commit: String,
    /// Start, RFC 3339 UTC.
    pub date: String,
    /// The machine.
    pub machine: Machine,
    /// Worker threads of the load generator.
    pub loadgen_threads: usize,
    /// Seconds the connections took to open (first phase).
    pub connect_seconds: f64,
    /// Seconds of traffic.
    pub traffic_seconds: f64,
    /// Seconds of the whole run.
    pub total_seconds: f64,
    /// Whether every reply and delivery arrived before the drain timeout.
    pub drained: bool,
    /// Whether the session logs were read back to find undelivered events.
    pub logs_checked: bool,
    /// Events found in the logs past anything a participant saw.
    pub events_only_in_logs: u64,
    /// How coordinated omission is handled.
    pub coordinated_omission: String,
    /// The machine's one-minute load average at the start and at the end: other work on
    /// a shared machine shows here.
    pub load_average: [f64; 2],
}

/// Connections and sessions.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Connections {
    /// Sessions opened.
    pub sessions: usize,
    /// Sessions whose traffic started (everyone joined, live).
    pub sessions_started: usize,
    /// Participants planned.
    pub planned: usize,
    /// Participants whose first join succeeded.
    pub joined: usize,
    /// Participants whose first join failed.
    pub failed: usize,
    /// Connections open at the end of the traffic.
    pub open_at_end: i64,
}

/// Delivery accounting.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    /// All kinds.
    pub total: Tally,
    /// Per event kind.
    pub by_kind: Vec<KindTally>,
    /// Participants whose deliveries were counted.
    pub participants: u64,
}

/// One kind's counts.
#[derive(Clone, Debug, Serialize)]
pub struct KindTally {
    /// Event kind.
    pub kind: String,
    /// Counts.
    #[serde(flatten)]
    pub tally: Tally,
}

/// One latency row.
#[derive(Clone, Debug, Serialize)]
pub struct LatencyRow {
    /// Event kind, or `all`.
    pub kind: String,
    /// From the scheduled send.
    pub latency: Percentiles,
    /// From the actual write.
    pub uncorrected: Percentiles,
}

/// One transaction row.
#[derive(Clone, Debug, Serialize)]
pub struct TxRow {
    /// Transaction name.
    pub name: String,
    /// Attempts.
    pub count: u64,
    /// Failures.
    pub failures: u64,
    /// Latency of successes, from the scheduled send.
    pub latency: Percentiles,
    /// From the actual write.
    pub uncorrected: Percentiles,
}

/// Frames that could not be read.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BadFrames {
    /// How many.
    pub count: u64,
    /// The first few.
    pub examples: Vec<String>,
}

/// Frames of one kind.
#[derive(Clone, Debug, Serialize)]
pub struct FrameRow {
    /// Event kind.
    pub kind: String,
    /// Frames received.
    pub frames: u64,
    /// Average size in bytes.
    pub avg_bytes: f64,
}

/// The storm's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct StormReport {
    /// Drops and returns.
    #[serde(flatten)]
    pub outcome: StormOutcome,
    /// Unanswered commands written again, with their ids, after resuming.
    pub commands_resent: u64,
}

/// The ramp's steps.
#[derive(Clone, Debug, Serialize)]
pub struct RampReport {
    /// Every step run.
    pub steps: Vec<RampStep>,
    /// Index of the last good step.
    pub last_good: Option<usize>,
    /// Why the ramp stopped.
    pub stopped_because: String,
}

/// One step of a ramp.
#[derive(Clone, Debug, Serialize)]
pub struct RampStep {
    /// Sessions in the step.
    pub sessions: usize,
    /// Participants joined.
    pub connections: usize,
    /// Fan-out during the step's traffic.
    pub fanout: Percentiles,
    /// Deliveries missing, counted this step.
    pub missing: u64,
    /// Duplicates, counted this step.
    pub duplicates: u64,
    /// Commands that failed, this step.
    pub failed_commands: u64,
    /// Commands written, this step.
    pub commands: u64,
    /// Server figures over the step's traffic.
    pub server: Option<Usage>,
    /// Whether every bound held.
    pub good: bool,
    /// The bounds broken.
    pub broken: Vec<String>,
}

/// The server's CPU and memory.
#[derive(Clone, Debug, Serialize)]
pub struct ServerFigures {
    /// Processes summed.
    pub pids: Vec<u32>,
    /// RSS before any connection, KiB.
    pub rss_before_kib: u64,
    /// RSS once every connection is open, before the traffic, KiB.
    pub rss_connected_kib: u64,
    /// RSS at the end of the traffic, KiB.
    pub rss_loaded_kib: u64,
    /// Growth per joined connection from before connecting to connected, bytes.
    pub rss_per_connection_bytes: f64,
    /// Growth per joined connection from before connecting to the end of the traffic,
    /// bytes: connections plus what the traffic added (session state, caches).
    pub rss_per_connection_loaded_bytes: f64,
    /// Over the traffic phase.
    pub traffic: Usage,
    /// Over the connection phase.
    pub connect: Option<Usage>,
}

/// The load generator's own figures.
#[derive(Clone, Debug, Serialize)]
pub struct LoadgenFigures {
    /// Scheduled-to-actual send delay.
    pub send_lag: Percentiles,
    /// CPU and memory over the traffic phase.
    pub traffic: Option<Usage>,
}

/// Whether the run's accounting adds up.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// Every expected delivery happened exactly once, in order, nothing else arrived,
    /// every participant joined, and nothing was found only in the logs.
    pub exact: bool,
    /// The counts are internally consistent.
    pub consistent: bool,
    /// What failed, in words.
    pub problems: Vec<String>,
}

mod build;
pub use build::{load_average, Phases, ReportInputs};

impl Report {
    /// Transactions in report order.
    pub fn tx_rows(m: &Measurements) -> Vec<TxRow> {
        Transaction::ALL
            .iter()
            .filter_map(|t| m.tx.get(t).map(|s| (t, s)))
            .map(|(t, s)| TxRow {
                name: t.name().into(),
                count: s.count,
                failures: s.failures,
                latency: Percentiles::of(&s.latency.corrected),
                uncorrected: Percentiles::of(&s.latency.raw),
            })
            .collect()
    }

    /// A transaction's row by name.
    pub fn transaction(&self, name: &str) -> Option<&TxRow> {
        self.transactions.iter().find(|t| t.name == name)
    }

    /// The fan-out row of every kind together.
    pub fn fanout_all(&self) -> Option<&LatencyRow> {
        self.fanout.iter().find(|r| r.kind == "all")
    }
}

/// Checks that counts add up, and collects what is not exact.
pub fn judge(
    acc: &Accounting,
    conn: &Connections,
    info: &RunInfo,
    bad: u64,
    storm: Option<&StormReport>,
) -> Verdict {
    let mut problems = Vec::new();
    let mut consistent = true;
    let t = &acc.total;
    if t.delivered + t.missing != t.expected {
        consistent = false;
        problems.push(format!(
            "delivered {} + missing {} ≠ expected {}",
            t.delivered, t.missing, t.expected
        ));
    }
    let mut sum = Tally::default();
    for k in acc.by_kind.values() {
        if k.delivered + k.missing != k.expected {
            consistent = false;
        }
        sum.expected += k.expected;
        sum.delivered += k.delivered;
        sum.missing += k.missing;
        sum.duplicates += k.duplicates;
    }
    if (sum.expected, sum.delivered, sum.missing, sum.duplicates)
        != (t.expected, t.delivered, t.missing, t.duplicates)
    {
        consistent = false;
        problems.push("per-kind counts do not add up to the totals".into());
    }
    if t.missing > 0 {
        problems.push(format!("{} expected deliveries never arrived", t.missing));
    }
    if t.duplicates > 0 {
        problems.push(format!(
            "{} deliveries arrived more than once",
            t.duplicates
        ));
    }
    if t.reordered > 0 {
        problems.push(format!("{} deliveries arrived out of order", t.reordered));
    }
    if t.unexpected > 0 {
        problems.push(format!(
            "{} deliveries outside what was expected",
            t.unexpected
        ));
    }
    if conn.joined < conn.planned {
        problems.push(format!(
            "{} of {} participants never joined",
            conn.planned - conn.joined,
            conn.planned
        ));
    }
    if !info.drained {
        problems.push("replies or deliveries were still missing at the drain timeout".into());
    }
    if info.events_only_in_logs > 0 {
        problems.push(format!(
            "{} events are in the logs but reached no participant",
            info.events_only_in_logs
        ));
    }
    if bad > 0 {
        problems.push(format!("{bad} frames could not be read"));
    }
    if let Some(s) = storm {
        if s.outcome.resumed < s.outcome.dropped {
            problems.push(format!(
                "{} of {} dropped clients did not resume",
                s.outcome.dropped - s.outcome.resumed,
                s.outcome.dropped
            ));
        }
    }
    Verdict {
        exact: problems.is_empty(),
        consistent,
        problems,
    }
}
