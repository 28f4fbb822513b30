//! The fleet: every session and participant of a run, and the phases they go through.
//! Scenarios are written in terms of it: add sessions, start traffic, wrap up, drain,
//! storm, account, close.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use futures_util::{stream, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::client::{self, Gate, MemberSpec, Order, Phase, RunContext, SessionShared};
use crate::clock::{micros, Clock, Micros};
use crate::ledger::{kind_name, Accounting, SessionLedger};
use crate::metrics::Recorder;
use crate::mix::{is_checkout_session, Behaviour};
use crate::setup::{Catalog, SessionSetup, Setup};

/// How often waits poll their condition.
const POLL: Duration = Duration::from_millis(50);
/// Session logs read at once after the run.
const LOG_CONCURRENCY: usize = 16;
/// How long closing waits for participants to finish.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(15);

/// Every session and participant of a run.
pub struct Fleet {
    ctx: Arc<RunContext>,
    phase: watch::Sender<Phase>,
    sessions: Vec<Arc<SessionShared>>,
    /// Orders to each participant, with its session and index.
    orders: Vec<(usize, usize, mpsc::UnboundedSender<Order>)>,
    handles: Vec<JoinHandle<()>>,
    epoch: u32,
    customers: usize,
    /// A label of what the fleet is doing, for the progress line.
    pub doing: Arc<Mutex<&'static str>>,
}

/// What a storm did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StormOutcome {
    /// Connections dropped at once.
    pub dropped: usize,
    /// Of those, back and caught up before the deadline.
    pub resumed: usize,
    /// How long until the last one was back, in milliseconds.
    pub all_back_ms: Option<f64>,
}

impl Fleet {
    /// An empty fleet for a run.
    pub fn new(
        plan: Arc<crate::Plan>,
        clock: Clock,
        recorder: Arc<Recorder>,
        catalog: Arc<Catalog>,
        wire: Arc<dyn client::wire::Wire>,
    ) -> Self {
        let (phase, phase_rx) = watch::channel(Phase::Connect);
        Self {
            ctx: Arc::new(RunContext {
                plan,
                clock,
                recorder,
                catalog,
                wire,
                phase: phase_rx,
            }),
            phase,
            sessions: Vec::new(),
            orders: Vec::new(),
            handles: Vec::new(),
            epoch: 0,
            customers: 0,
            doing: Arc::new(Mutex::new("setting up")),
        }
    }

    /// Says what the fleet is doing.
    pub fn say(&self, doing: &'static str) {
        *self.doing.lock().unwrap_or_else(|p| p.into_inner()) = doing;
    }

    /// Sessions in the fleet.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Participants in the fleet.
    pub fn participants(&self) -> usize {
        self.orders.len()
    }

    /// Adds sessions whose participants connect one by one, evenly spread over `within`
    /// from `from`.
    pub fn add(&mut self, setups: Vec<SessionSetup>, from: Micros, within: Duration) {
        let plan = self.ctx.plan.clone();
        let traffic = &plan.traffic;
        let total: usize = setups.iter().map(|s| s.members.len()).sum();
        let spacing = micros(within) / total.max(1) as u64;
        let stagger = micros(traffic.card_interval.unwrap_or(Duration::from_millis(500)));
        let echo = self.ctx.wire.echo();
        let mut k = 0u64;

        for setup in setups {
            let members = setup.members.len();
            let mut behaviours = vec![Behaviour::Host];
            for _ in 1..members {
                behaviours.push(traffic.customer_mix.assign(self.customers));
                self.customers += 1;
            }
            let checkout_member =
                is_checkout_session(setup.index, traffic.checkout_fraction).then(|| {
                    (1..members)
                        .find(|&m| behaviours[m] == Behaviour::Buyer)
                        .unwrap_or(1)
                });
            // Golden-ratio offsets spread any number of sessions evenly over one interval.
            let offset = ((setup.index as f64 * 0.618_033_988_75).fract() * stagger as f64) as u64;
            let receives: Vec<bool> = (0..members).map(|m| echo || m != 0).collect();
            let (gate, _) = watch::channel(Gate {
                // The peers have no `session.start`: their sessions are live at once.
                started: !echo,
                ..Gate::default()
            });
            let session = Arc::new(SessionShared {
                ledger: Mutex::new(SessionLedger::new(&receives, echo)),
                gate,
                offset,
                checkout_member,
                behaviours,
                setup,
            });
            let s = self.sessions.len();
            for m in 0..members {
                let (tx, rx) = mpsc::unbounded_channel();
                self.orders.push((s, m, tx));
                let spec = MemberSpec {
                    session: session.clone(),
                    member: m,
                    connect_at: from + k * spacing,
                    orders: rx,
                };
                k += 1;
                self.handles.push(client::spawn(self.ctx.clone(), spec));
            }
            self.sessions.push(session);
        }
    }

    /// Waits until every participant's first join succeeded or failed, or `until`.
    /// Returns how many joined.
    pub async fn wait_joined(&self, until: Micros) -> usize {
        let live = &self.ctx.recorder.live;
        loop {
            let joined = live.joined.load(Ordering::Relaxed) as usize;
            let failed = live.join_failed.load(Ordering::Relaxed) as usize;
            if joined + failed >= self.orders.len() || self.ctx.clock.now() >= until {
                return joined;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Starts a traffic phase at `start`.
    pub fn start_traffic(&mut self, start: Micros) {
        self.epoch += 1;
        self.phase.send_replace(Phase::Traffic {
            epoch: self.epoch,
            start,
        });
        self.say("traffic");
    }

    /// Ends the traffic phase: timetables stop, checkout sessions check out.
    pub fn wrap_up(&mut self) {
        self.phase.send_replace(Phase::WrapUp { epoch: self.epoch });
        self.say("draining");
    }

    /// Waits until no command is unanswered and every connected participant has every
    /// event, or `timeout`. Returns whether it drained.
    pub async fn drain(&self, timeout: Duration) -> bool {
        let until = self.ctx.clock.now() + micros(timeout);
        // Give the wrap-up's checkouts a moment to be written before counting.
        tokio::time::sleep(POLL * 2).await;
        loop {
            let quiet = self.ctx.recorder.live.outstanding.load(Ordering::Relaxed) <= 0;
            if quiet && self.sessions.iter().all(|s| s.ledger().drained()) {
                return true;
            }
            if self.ctx.clock.now() >= until {
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Drops `fraction` of the connected participants at once (spread evenly across the
    /// fleet); returns who was dropped, with the joins each had before.
    pub fn storm(&self, fraction: f64) -> Vec<(usize, usize, u32)> {
        let mut dropped = Vec::new();
        for (k, (s, m, tx)) in self.orders.iter().enumerate() {
            if !is_checkout_session(k, fraction) {
                continue;
            }
            let record = self.sessions[*s].ledger().member(*m).clone();
            if !record.connected {
                continue;
            }
            if tx.send(Order::Drop).is_ok() {
                dropped.push((*s, *m, record.joins));
            }
        }
        dropped
    }

    /// Waits until every dropped participant is connected and caught up again, or
    /// `timeout`.
    pub async fn wait_back(
        &self,
        dropped: &[(usize, usize, u32)],
        since: Micros,
        timeout: Duration,
    ) -> StormOutcome {
        let until = self.ctx.clock.now() + micros(timeout);
        loop {
            let back = dropped
                .iter()
                .filter(|(s, m, joins)| {
                    let ledger = self.sessions[*s].ledger();
                    ledger.member(*m).joins > *joins && ledger.caught_up(*m)
                })
                .count();
            let now = self.ctx.clock.now();
            if back == dropped.len() || now >= until {
                return StormOutcome {
                    dropped: dropped.len(),
                    resumed: back,
                    all_back_ms: (back == dropped.len())
                        .then(|| now.saturating_sub(since) as f64 / 1e3),
                };
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Reads each session's log past the highest seq anyone saw; events found there were
    /// expected and never delivered. Returns how many were found.
    pub async fn check_logs(&self, setup: &Setup) -> Result<u64> {
        let found: Vec<Result<u64>> = stream::iter(self.sessions.iter())
            .map(|s| async move {
                let after = s.ledger().max_known();
                let events = setup.log_after(&s.setup, after).await?;
                let mut ledger = s.ledger();
                for (seq, kind) in &events {
                    ledger.logged(*seq, kind_name(kind));
                }
                Ok(events.len() as u64)
            })
            .buffer_unordered(LOG_CONCURRENCY)
            .collect()
            .await;
        found.into_iter().sum()
    }

    /// Delivery counts of every session so far.
    pub fn account(&self) -> Accounting {
        let mut total = Accounting::default();
        for s in &self.sessions {
            total.merge(&s.ledger().account());
        }
        total
    }

    /// Sessions whose traffic gate opened (everyone joined, live).
    pub fn sessions_started(&self) -> usize {
        self.sessions
            .iter()
            .filter(|s| s.gate.borrow().opened_at.is_some())
            .count()
    }

    /// Closes every connection and waits for the participants to finish.
    pub async fn close(&mut self) {
        self.say("closing");
        self.phase.send_replace(Phase::Close);
        let handles = std::mem::take(&mut self.handles);
        let aborts: Vec<_> = handles.iter().map(JoinHandle::abort_handle).collect();
        let all = futures_util::future::join_all(handles);
        if tokio::time::timeout(CLOSE_TIMEOUT, all).await.is_err() {
            for a in aborts {
                a.abort();
            }
        }
    }
}
