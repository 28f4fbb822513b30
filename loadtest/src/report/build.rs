//! Putting a report together from what the run measured.

use super::*;

/// How long each phase took.
#[derive(Clone, Debug)]
pub struct Phases {
    /// When the run started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Seconds the connections took to open.
    pub connect_seconds: f64,
    /// Seconds of traffic.
    pub traffic_seconds: f64,
    /// Seconds of the whole run.
    pub total_seconds: f64,
}

/// Everything a report is made from.
pub struct ReportInputs<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// The recorder's contents.
    pub measurements: Measurements,
    /// Delivery counts.
    pub accounting: Accounting,
    /// Connections.
    pub connections: Connections,
    /// Phase lengths.
    pub phases: Phases,
    /// Whether it drained.
    pub drained: bool,
    /// Whether logs were read back.
    pub logs_checked: bool,
    /// Events found only in logs.
    pub events_only_in_logs: u64,
    /// The storm.
    pub storm: Option<StormReport>,
    /// The ramp.
    pub ramp: Option<RampReport>,
    /// Server figures.
    pub server: Option<ServerFigures>,
    /// The load generator's figures over the traffic.
    pub loadgen_traffic: Option<Usage>,
    /// Its worker threads.
    pub loadgen_threads: usize,
    /// One-minute load average when the run started.
    pub load_at_start: f64,
    /// What kept the run from measuring everything it planned to.
    pub problems: Vec<String>,
}

const COORDINATED_OMISSION: &str = "corrected: every latency runs from the command's scheduled \
send time on a fixed timetable that never waits for replies (sends up to 1 ms late, the \
timer's resolution, count as on time); sends that fall behind keep their scheduled times. \
Uncorrected figures (from the actual write) are given beside them.";

impl Report {
    /// Builds the report.
    pub fn build(i: ReportInputs<'_>) -> Self {
        let m = &i.measurements;
        let plan = i.plan;
        let run = RunInfo {
            scenario: plan.scenario.name().into(),
            kind: plan.kind.name().into(),
            targets: plan.targets.iter().map(|t| t.base.clone()).collect(),
            nodes: plan.targets.len(),
            commit: commit(),
            date: i
                .phases
                .started_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            machine: Machine::read(),
            loadgen_threads: i.loadgen_threads,
            connect_seconds: round3(i.phases.connect_seconds),
            traffic_seconds: round3(i.phases.traffic_seconds),
            total_seconds: round3(i.phases.total_seconds),
            drained: i.drained,
            logs_checked: i.logs_checked,
            events_only_in_logs: i.events_only_in_logs,
            coordinated_omission: COORDINATED_OMISSION.into(),
            load_average: [i.load_at_start, load_average()],
        };

        let mut fanout = vec![LatencyRow {
            kind: "all".into(),
            latency: Percentiles::of(&m.fanout_all.corrected),
            uncorrected: Percentiles::of(&m.fanout_all.raw),
        }];
        fanout.extend(m.fanout_by_placement.iter().map(|(k, l)| LatencyRow {
            kind: (*k).into(),
            latency: Percentiles::of(&l.corrected),
            uncorrected: Percentiles::of(&l.raw),
        }));
        fanout.extend(m.fanout.iter().map(|(k, l)| LatencyRow {
            kind: (*k).into(),
            latency: Percentiles::of(&l.corrected),
            uncorrected: Percentiles::of(&l.raw),
        }));

        let delivery = Delivery {
            total: i.accounting.total.clone(),
            by_kind: i
                .accounting
                .by_kind
                .iter()
                .map(|(k, t)| KindTally {
                    kind: (*k).into(),
                    tally: t.clone(),
                })
                .collect(),
            participants: i.accounting.participants,
        };
        let mut verdict = judge(
            &i.accounting,
            &i.connections,
            &run,
            m.bad_frames.0,
            i.storm.as_ref(),
        );
        verdict.problems.extend(i.problems);
        verdict.exact = verdict.problems.is_empty();

        Self {
            tool: format!("vitrine-loadtest {}", env!("CARGO_PKG_VERSION")),
            run,
            plan: plan.clone(),
            connections: i.connections,
            delivery,
            fanout,
            catchup: (!m.catchup.is_empty()).then(|| Percentiles::of(&m.catchup)),
            transactions: Self::tx_rows(m),
            errors: m.errors.clone(),
            closes: m.closes.clone(),
            connect_failures: m.connect_failures.clone(),
            bad_frames: BadFrames {
                count: m.bad_frames.0,
                examples: m.bad_frames.1.clone(),
            },
            frames: m
                .frames
                .iter()
                .map(|(k, (n, bytes))| FrameRow {
                    kind: (*k).into(),
                    frames: *n,
                    avg_bytes: if *n == 0 {
                        0.0
                    } else {
                        (*bytes as f64 / *n as f64).round()
                    },
                })
                .collect(),
            storm: i.storm,
            ramp: i.ramp,
            server: i.server,
            loadgen: LoadgenFigures {
                send_lag: Percentiles::of(&m.send_lag),
                traffic: i.loadgen_traffic,
            },
            verdict,
        }
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        // unwrap: the report holds strings, numbers, maps and lists only.
        serde_json::to_string_pretty(self).expect("reports encode")
    }
}

/// The one-minute load average, or zero when unreadable.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
