//! Running a plan: setup, the scenario's phases, the final accounting and the report.
//!
//! - `spike`: every connection opens within the window, then the traffic runs for the
//!   duration (sessions staggered across the first card interval).
//! - `steady`: connections open at an even pace over the window and each session starts
//!   its traffic as soon as its participants are in; the full load is then held for the
//!   duration.
//! - `reconnect-storm`: a spike, then at the storm time a fraction of all connections is
//!   dropped at once (no close frame) and every dropped client resumes from the last seq
//!   it has, re-sending unanswered commands with their ids.
//! - `ramp`: steps of more sessions; each step's traffic is measured on its own, drained
//!   and counted exactly before the next step connects, and the ramp stops at the first
//!   step that breaks a bound.

mod progress;
mod steps;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::client::wire::{RawWsWire, SocketIoWire, VitrineWire, Wire};
use crate::clock::{micros, Clock};
use crate::fleet::Fleet;
use crate::metrics::Recorder;
use crate::plan::{Plan, Scenario};
use crate::procstat::Sampler;
use crate::report::{Phases, Report, ReportInputs};
use crate::setup::Setup;
use crate::target::TargetKind;

pub use progress::{Progress, ProgressFn};

/// File descriptors kept free beyond one per connection.
const SPARE_DESCRIPTORS: usize = 200;

/// Runs a plan to its report. The run stops by itself: each phase is bounded, and the
/// whole run is cut off at the plan's `max_run_time`.
pub async fn run(plan: Plan, progress: Option<ProgressFn>) -> Result<Report> {
    check_descriptors(plan.connections())?;
    let plan = Arc::new(plan);
    let started_at = chrono::Utc::now();
    let load_at_start = crate::report::load_average();
    let clock = Clock::new();
    let recorder = Arc::new(Recorder::new());

    let setup = Setup::prepare(&plan).await?;
    let catalog = Arc::new(setup.catalog().await?);
    let wire: Arc<dyn Wire> = match plan.kind {
        TargetKind::Vitrine => Arc::new(VitrineWire),
        TargetKind::Socketio => Arc::new(SocketIoWire),
        TargetKind::RawWs => Arc::new(RawWsWire),
    };
    let pids = plan.server_pids.iter().map(u32::to_string).collect();
    let server = Sampler::start(pids, clock);
    let own = Sampler::start(vec!["self".into()], clock);
    let mut fleet = Fleet::new(plan.clone(), clock, recorder.clone(), catalog, wire);

    let ticker = progress.map(|f| {
        progress::spawn(
            f,
            plan.progress_interval,
            clock,
            recorder.clone(),
            fleet.doing.clone(),
            server.clone(),
            plan.connections(),
        )
    });

    let limit = plan.max_run_time.saturating_sub(started_elapsed(&clock));
    let mut steps = steps::Steps {
        plan: &plan,
        fleet: &mut fleet,
        setup: &setup,
        server: &server,
        own: &own,
        clock,
        recorder: &recorder,
        deadline: clock.now() + micros(limit),
        cut_short: Default::default(),
        problems: Vec::new(),
    };
    let outcome = tokio::time::timeout(limit + Duration::from_secs(30), async {
        match plan.scenario {
            Scenario::Spike => steps.spike().await,
            Scenario::Steady => steps.steady().await,
            Scenario::ReconnectStorm => steps.storm().await,
            Scenario::Ramp => steps.ramp().await,
        }
    })
    .await;

    // Every connection closes, whatever happened.
    fleet.close().await;
    if let Some(t) = ticker {
        t.abort();
    }
    let outcome = match outcome {
        Ok(o) => o?,
        Err(_) => bail!(
            "the run passed its time limit of {}",
            humantime::format_duration(plan.max_run_time)
        ),
    };

    Ok(Report::build(ReportInputs {
        plan: &plan,
        measurements: recorder.snapshot(),
        accounting: outcome.accounting,
        connections: outcome.connections,
        phases: Phases {
            started_at,
            connect_seconds: outcome.connect_seconds,
            traffic_seconds: outcome.traffic_seconds,
            total_seconds: clock.now() as f64 / 1e6,
        },
        drained: outcome.drained,
        logs_checked: outcome.logs_checked,
        events_only_in_logs: outcome.events_only_in_logs,
        storm: outcome.storm,
        ramp: outcome.ramp,
        server: outcome.server,
        loadgen_traffic: outcome.loadgen_traffic,
        loadgen_threads: tokio::runtime::Handle::current().metrics().num_workers(),
        load_at_start,
        problems: outcome.problems,
    }))
}

fn started_elapsed(clock: &Clock) -> Duration {
    Duration::from_micros(clock.now())
}

/// Refuses a run that would run out of file descriptors halfway.
fn check_descriptors(connections: usize) -> Result<()> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(soft) = soft {
        if connections + SPARE_DESCRIPTORS > soft {
            bail!(
                "{connections} connections need about {} file descriptors, but the limit is \
                 {soft}: raise it (ulimit -n) or plan fewer connections",
                connections + SPARE_DESCRIPTORS
            );
        }
    }
    Ok(())
}
