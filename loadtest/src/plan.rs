//! Run parameters: the command line, and the checked [`Plan`] it turns into. Every run is
//! bounded: in connections, in time, and to the addresses it is given.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::mix::Mix;
use crate::target::{Target, TargetKind};

/// Most sessions one run opens.
pub const MAX_SESSIONS: usize = 20_000;
/// Most participants per session.
pub const MAX_PARTICIPANTS: usize = 16;
/// Most connections one run holds open.
pub const MAX_CONNECTIONS: usize = 30_000;
/// Longest traffic phase (and longest ramp step).
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// Longest a whole run may take, setup and wrap-up included.
pub const MAX_RUN_TIME: Duration = Duration::from_secs(3 * 3600);
/// Shortest interval between one participant's commands.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Drive real WebSocket participants against Vitrine (or the peers measured beside it)
/// and report exact delivery accounting and corrected latency histograms.
#[derive(Debug, Parser)]
#[command(name = "vitrine-loadtest", version, about)]
pub struct Cli {
    /// The scenario to run.
    #[command(subcommand)]
    pub scenario: ScenarioCmd,
}

/// A scenario and its own options.
#[derive(Debug, Subcommand)]
pub enum ScenarioCmd {
    /// Open S sessions of P participants within T, then steady traffic.
    Spike(#[command(flatten)] Common),
    /// Open sessions at an even pace over T; each starts its traffic once its
    /// participants are in, and the full load is held for the duration.
    Steady(#[command(flatten)] Common),
    /// Like spike, then drop a fraction of the connections at once and resume them.
    ReconnectStorm {
        /// Options of every scenario.
        #[command(flatten)]
        common: Common,
        /// The storm.
        #[command(flatten)]
        storm: StormArgs,
    },
    /// Add sessions step by step until a latency, loss or error bound breaks; report the
    /// last good step.
    Ramp {
        /// Options of every scenario.
        #[command(flatten)]
        common: Common,
        /// The steps.
        #[command(flatten)]
        ramp: RampArgs,
    },
}

impl ScenarioCmd {
    /// The options every scenario has.
    pub fn common(&self) -> &Common {
        match self {
            Self::Spike(c) | Self::Steady(c) => c,
            Self::ReconnectStorm { common, .. } | Self::Ramp { common, .. } => common,
        }
    }
}

/// Options of every scenario.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Base URL of a node; repeat for several nodes (clients are spread across them).
    #[arg(long = "target", default_value = "http://127.0.0.1:8080")]
    pub targets: Vec<String>,
    /// The kind of server at the targets.
    #[arg(long, value_enum, default_value = "vitrine")]
    pub kind: TargetKind,
    /// Allow targets that are not loopback addresses.
    #[arg(long)]
    pub allow_remote: bool,
    /// Admin token of the tenant (creates shoppers and reads session logs).
    #[arg(long, env = "VITRINE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Sessions to open (for ramp: the first step).
    #[arg(long, default_value_t = 100)]
    pub sessions: usize,
    /// Participants per session: one shopper, the rest customers.
    #[arg(long, default_value_t = 3)]
    pub participants: usize,
    /// Time over which the connections open.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub within: Duration,
    /// Length of the traffic phase.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub duration: Duration,
    /// Shopper's card pushes (`off` for none).
    #[arg(long, value_parser = parse_interval, default_value = "500ms")]
    pub card_interval: Interval,
    /// Shopper's chat messages (`off` for none).
    #[arg(long, value_parser = parse_interval, default_value = "off")]
    pub shopper_chat_interval: Interval,
    /// Chat messages of chatters and buyers (`off` for none).
    #[arg(long, value_parser = parse_interval, default_value = "5s")]
    pub chat_interval: Interval,
    /// Cart changes of buyers (`off` for none).
    #[arg(long, value_parser = parse_interval, default_value = "3s")]
    pub cart_interval: Interval,
    /// Weights of customer behaviours [default: watcher=1,chatter=1,buyer=1 for Vitrine,
    /// watcher=1 for the peers].
    #[arg(long)]
    pub customer_mix: Option<Mix>,
    /// Fraction of sessions whose customer checks out when the traffic ends.
    #[arg(long, default_value_t = 0.2)]
    pub checkout_fraction: f64,
    /// How long to wait for the last replies and deliveries after the traffic.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub drain_timeout: Duration,
    /// Hard limit on the whole run, setup included (default: derived from the plan).
    #[arg(long, value_parser = parse_duration)]
    pub max_run_time: Option<Duration>,
    /// Staff users to create; sessions are shared among them (default: one per session).
    #[arg(long)]
    pub shoppers: Option<usize>,
    /// Process id of a server on this machine, for its CPU and RSS; repeatable.
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
    /// Free text recorded with the run (what is being compared, settings changed).
    #[arg(long)]
    pub label: Option<String>,
    /// Directory for the JSON report and the Markdown summary.
    #[arg(long, default_value = ".")]
    pub report_dir: std::path::PathBuf,
    /// A previous JSON report to compare the headline figures with.
    #[arg(long)]
    pub compare: Option<std::path::PathBuf>,
    /// How often the progress line is printed (`off` for never).
    #[arg(long, value_parser = parse_interval, default_value = "2s")]
    pub progress_interval: Interval,
    /// Worker threads of the load generator (default: the cores it may run on).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Options of `reconnect-storm`.
#[derive(Debug, Clone, Args)]
pub struct StormArgs {
    /// When the storm hits, counted from the start of the traffic.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub storm_at: Duration,
    /// Fraction of all connections dropped at once.
    #[arg(long, default_value_t = 0.5)]
    pub drop_fraction: f64,
    /// How long a dropped client keeps trying to resume.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub resume_deadline: Duration,
}

/// Options of `ramp`.
#[derive(Debug, Clone, Args)]
pub struct RampArgs {
    /// Sessions added at each step after the first.
    #[arg(long, default_value_t = 100)]
    pub step_sessions: usize,
    /// Stop after the step that reaches this many sessions.
    #[arg(long, default_value_t = 2000)]
    pub max_sessions: usize,
    /// Traffic time of each step.
    #[arg(long, value_parser = parse_duration, default_value = "20s")]
    pub step_duration: Duration,
    /// A step is good while its fan-out p99 stays at or under this.
    #[arg(long, value_parser = parse_duration, default_value = "50ms")]
    pub max_p99: Duration,
    /// A step is good while its failed commands stay at or under this fraction.
    #[arg(long, default_value_t = 0.0)]
    pub max_error_rate: f64,
}

/// An interval that may be off.
pub type Interval = Option<Duration>;

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration such as 500ms, 5s or 2m: {e}"))
}

fn parse_interval(text: &str) -> Result<Interval, String> {
    match text.trim() {
        "off" | "none" | "0" => Ok(None),
        other => parse_duration(other).map(Some),
    }
}

/// The scenario of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// See [`ScenarioCmd::Spike`].
    Spike,
    /// See [`ScenarioCmd::Steady`].
    Steady,
    /// See [`ScenarioCmd::ReconnectStorm`].
    ReconnectStorm,
    /// See [`ScenarioCmd::Ramp`].
    Ramp,
}

impl Scenario {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Spike => "spike",
            Self::Steady => "steady",
            Self::ReconnectStorm => "reconnect-storm",
            Self::Ramp => "ramp",
        }
    }
}

/// What each participant sends, and how often.
#[derive(Clone, Debug, Serialize)]
pub struct Traffic {
    /// Shopper's `card.push`.
    #[serde(with = "opt_duration")]
    pub card_interval: Interval,
    /// Shopper's `chat.send`.
    #[serde(with = "opt_duration")]
    pub shopper_chat_interval: Interval,
    /// Chatters' and buyers' `chat.send`.
    #[serde(with = "opt_duration")]
    pub chat_interval: Interval,
    /// Buyers' cart changes.
    #[serde(with = "opt_duration")]
    pub cart_interval: Interval,
    /// Customer behaviours.
    #[serde(serialize_with = "as_display")]
    pub customer_mix: Mix,
    /// Fraction of sessions that check out.
    pub checkout_fraction: f64,
}

/// Parameters of a reconnect storm.
#[derive(Clone, Debug, Serialize)]
pub struct Storm {
    /// When, from the start of the traffic.
    #[serde(with = "humantime_text")]
    pub at: Duration,
    /// Fraction of connections dropped.
    pub fraction: f64,
    /// How long a client keeps trying to resume.
    #[serde(with = "humantime_text")]
    pub resume_deadline: Duration,
}

/// Parameters of a ramp.
#[derive(Clone, Debug, Serialize)]
pub struct Ramp {
    /// Sessions added per step.
    pub step_sessions: usize,
    /// Last step's sessions, at most.
    pub max_sessions: usize,
    /// Traffic time of each step.
    #[serde(with = "humantime_text")]
    pub step_duration: Duration,
    /// Fan-out p99 bound.
    #[serde(with = "humantime_text")]
    pub max_p99: Duration,
    /// Failed-command fraction bound.
    pub max_error_rate: f64,
}

/// A checked run.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// The scenario.
    pub scenario: Scenario,
    /// The kind of server.
    pub kind: TargetKind,
    /// The nodes.
    pub targets: Vec<Target>,
    /// Admin token (never reported).
    #[serde(skip)]
    pub admin_token: Option<String>,
    /// Sessions (the first step, for ramp).
    pub sessions: usize,
    /// Participants per session.
    pub participants: usize,
    /// Connection window.
    #[serde(with = "humantime_text")]
    pub within: Duration,
    /// Traffic phase.
    #[serde(with = "humantime_text")]
    pub duration: Duration,
    /// What participants send.
    pub traffic: Traffic,
    /// The storm, for `reconnect-storm`.
    pub storm: Option<Storm>,
    /// The steps, for `ramp`.
    pub ramp: Option<Ramp>,
    /// Wait for the last replies and deliveries.
    #[serde(with = "humantime_text")]
    pub drain_timeout: Duration,
    /// Hard limit of the run.
    #[serde(with = "humantime_text")]
    pub max_run_time: Duration,
    /// Staff users created.
    pub shoppers: usize,
    /// Server processes sampled.
    pub server_pids: Vec<u32>,
    /// Free text.
    pub label: Option<String>,
    /// Progress line period.
    #[serde(skip)]
    pub progress_interval: Interval,
}

/// A plan that cannot run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

mod plan_check;

impl Plan {
    /// Checks a parsed command line and turns it into a plan.
    pub fn from_cli(cmd: &ScenarioCmd) -> Result<Self, PlanError> {
        plan_check::build(cmd)
    }

    /// Parses and checks command-line words (the first word is the scenario).
    pub fn from_words<I, S>(words: I) -> Result<Self, PlanError>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString> + Clone,
    {
        let args = std::iter::once(std::ffi::OsString::from("vitrine-loadtest"))
            .chain(words.into_iter().map(Into::into));
        let cli = Cli::try_parse_from(args).map_err(|e| PlanError(e.to_string()))?;
        Self::from_cli(&cli.scenario)
    }

    /// Connections of the whole run (the last step, for ramp).
    pub fn connections(&self) -> usize {
        self.final_sessions() * self.participants
    }

    /// Sessions of the whole run (the last step, for ramp).
    pub fn final_sessions(&self) -> usize {
        match &self.ramp {
            Some(r) => r.max_sessions,
            None => self.sessions,
        }
    }
}

fn as_display<T: std::fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Durations as humantime text in reports ("500ms", "30s").
pub mod humantime_text {
    use std::time::Duration;

    /// Serializes a duration as text.
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*d))
    }
}

mod opt_duration {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(&humantime::format_duration(*d)),
            None => s.serialize_str("off"),
        }
    }
}
