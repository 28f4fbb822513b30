//! Participants: one task per connection, following its behaviour's timetable, reading
//! every frame, and recording what it sees into its session's ledger and the run's
//! recorder.
//!
//! - [`wire`]: the framings (Vitrine's protocol types, and the peers').
//! - `member`: the participant task: join, send, receive, drop and resume.
//! - `timetable`: when each of a behaviour's transactions is due.

mod member;
mod peer_wire;
mod timetable;
pub mod wire;

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, watch};

use crate::clock::{Clock, Micros};
use crate::ledger::SessionLedger;
use crate::metrics::Recorder;
use crate::mix::Behaviour;
use crate::plan::Plan;
use crate::setup::{Catalog, SessionSetup};

pub use member::spawn;

/// The phase of the run, broadcast to every participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Connections open; no traffic yet.
    Connect,
    /// Traffic, counted from `start`; `epoch` tells successive traffic phases apart.
    Traffic {
        /// Which traffic phase.
        epoch: u32,
        /// When it starts.
        start: Micros,
    },
    /// No new traffic; checkout sessions check out; replies and deliveries drain.
    WrapUp {
        /// The traffic phase that ended.
        epoch: u32,
    },
    /// Close every connection.
    Close,
}

/// An order to one participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Drop the connection at once, without a close frame, and resume.
    Drop,
}

/// Whether a session's traffic may begin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gate {
    /// Participants that joined at least once.
    pub joined: usize,
    /// Whether the session is live.
    pub started: bool,
    /// When the gate opened (everyone in and live).
    pub opened_at: Option<Micros>,
}

/// What every participant of a session shares.
pub struct SessionShared {
    /// How it was set up.
    pub setup: SessionSetup,
    /// Its bookkeeping.
    pub ledger: Mutex<SessionLedger>,
    /// Its traffic gate.
    pub gate: watch::Sender<Gate>,
    /// Where in the first interval its timetable starts, so sessions do not all send at
    /// the same instant.
    pub offset: Micros,
    /// The customer that checks out at wrap-up, if this is a checkout session.
    pub checkout_member: Option<usize>,
    /// Each participant's behaviour.
    pub behaviours: Vec<Behaviour>,
}

impl SessionShared {
    /// The ledger, locked.
    pub fn ledger(&self) -> MutexGuard<'_, SessionLedger> {
        // A panic while holding the lock leaves counts that are still usable.
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes a first join, opening the gate once everyone is in and the session is live.
    pub fn note_joined(&self, now: Micros) {
        self.gate.send_modify(|g| {
            g.joined += 1;
            open_if_ready(g, self.setup.members.len(), now);
        });
    }

    /// Notes that the session is live.
    pub fn note_started(&self, now: Micros) {
        self.gate.send_modify(|g| {
            g.started = true;
            open_if_ready(g, self.setup.members.len(), now);
        });
    }
}

fn open_if_ready(g: &mut Gate, members: usize, now: Micros) {
    if g.opened_at.is_none() && g.started && g.joined >= members {
        g.opened_at = Some(now);
    }
}

/// What every participant of a run shares.
pub struct RunContext {
    /// The plan.
    pub plan: Arc<Plan>,
    /// The clock.
    pub clock: Clock,
    /// The recorder.
    pub recorder: Arc<Recorder>,
    /// Catalog ids.
    pub catalog: Arc<Catalog>,
    /// The wire.
    pub wire: Arc<dyn wire::Wire>,
    /// The phase.
    pub phase: watch::Receiver<Phase>,
}

/// A participant to start.
pub struct MemberSpec {
    /// Its session.
    pub session: Arc<SessionShared>,
    /// Its index in the session (0 is the shopper).
    pub member: usize,
    /// When it connects.
    pub connect_at: Micros,
    /// Orders from the fleet.
    pub orders: mpsc::UnboundedReceiver<Order>,
}
