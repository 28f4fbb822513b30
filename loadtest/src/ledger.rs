//! Per-session bookkeeping, from which deliveries are counted exactly.
//!
//! A session's events are numbered 1, 2, 3 … by the server (for the peers, which have no
//! sequence, the load generator numbers the shopper's sends itself). Each participant's
//! record holds the seq it started after (its first `welcome`) and how many times each
//! later seq arrived, across every connection it had. At the end, with the session's
//! final seq known, every seq in `(start, final]` is expected exactly once per
//! participant: a seq that never arrived is missing (a gap), one that arrived twice is a
//! duplicate, and a first arrival below one already seen is a reordering. Nothing is
//! sampled.
//!
//! The ledger also matches deliveries to send times for fan-out latency. A sender learns
//! its event's seq from the reply, but the event may reach other participants before
//! that reply reaches the sender, so early receipts wait here until the stamp arrives.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::clock::Micros;
use crate::metrics::FanoutSample;

/// Stamps older than this are dropped: a delivery later than that is no longer matched
/// for latency (it is still counted for delivery).
const STAMP_TTL_US: Micros = 300_000_000;

/// Event kinds the load test names; anything else is `other`.
pub fn kind_name(kind: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "session.requested",
        "session.matched",
        "session.scheduled",
        "session.started",
        "session.ended",
        "session.cancelled",
        "participant.joined",
        "participant.left",
        "product.shared",
        "product.searched",
        "cart.updated",
        "order.created",
        "chat.message",
        "consent.recorded",
        "survey.completed",
        "card",
        "chat",
    ];
    KNOWN
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("other")
}

/// Kinds that the load test's own commands produce, whose deliveries get a latency.
fn is_stamped_kind(kind: &str) -> bool {
    matches!(
        kind,
        "session.started"
            | "product.shared"
            | "chat.message"
            | "cart.updated"
            | "order.created"
            | "card"
            | "chat"
    )
}

/// When and by whom an event was sent.
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    /// Scheduled send time.
    pub scheduled: Micros,
    /// Actual write.
    pub written: Micros,
    /// The sending participant.
    pub sender: usize,
}

#[derive(Clone, Copy, Debug)]
struct Early {
    kind: &'static str,
    received: Micros,
    catchup: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct EventInfo {
    kind: Option<&'static str>,
    sender: Option<usize>,
}

/// One participant's receipts over all its connections.
#[derive(Clone, Debug, Default)]
pub struct MemberRecord {
    /// The seq its first welcome stood for; `None` until it joined.
    pub start_after: Option<u64>,
    counts: Vec<u8>,
    /// Every expected seq up to this one has arrived.
    pub contiguous: u64,
    /// Highest seq received.
    pub max_seen: u64,
    /// First arrivals below a seq already seen.
    pub reorders: u64,
    /// Receipts at or before its start (the server sent the past it should not have).
    pub before_start: u64,
    /// Whether it receives events at all (the peers' shopper gets acks instead).
    pub receives: bool,
    /// Whether a connection is open and joined now.
    pub connected: bool,
    /// Joins so far (the first, then one per resume).
    pub joins: u32,
    catchup_until: u64,
}

/// What a receipt was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The first arrival of this seq at this participant.
    pub first: bool,
    /// Part of a resume's catch-up.
    pub catchup: bool,
}

/// Delivery counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Tally {
    /// Deliveries that should have happened.
    pub expected: u64,
    /// Expected deliveries that happened (at least once).
    pub delivered: u64,
    /// Expected deliveries that never happened (gaps).
    pub missing: u64,
    /// Extra arrivals of a seq already delivered.
    pub duplicates: u64,
    /// First arrivals below a seq already seen.
    pub reordered: u64,
    /// Arrivals of seqs outside what the participant should get.
    pub unexpected: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.expected += o.expected;
        self.delivered += o.delivered;
        self.missing += o.missing;
        self.duplicates += o.duplicates;
        self.reordered += o.reordered;
        self.unexpected += o.unexpected;
    }

    /// Every expected delivery happened exactly once, in order, and nothing else came.
    pub fn is_exact(&self) -> bool {
        self.missing == 0 && self.duplicates == 0 && self.reordered == 0 && self.unexpected == 0
    }
}

/// Delivery counts of many sessions, in total and per event kind.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Accounting {
    /// All kinds.
    pub total: Tally,
    /// Per kind (reorderings and unexpected arrivals are counted in the total only).
    pub by_kind: BTreeMap<&'static str, Tally>,
    /// Participants whose deliveries were counted (they joined).
    pub participants: u64,
}

impl Accounting {
    /// Adds another session's counts.
    pub fn merge(&mut self, o: &Accounting) {
        self.total.add(&o.total);
        for (k, t) in &o.by_kind {
            self.by_kind.entry(k).or_default().add(t);
        }
        self.participants += o.participants;
    }
}

/// One session's ledger.
#[derive(Debug)]
pub struct SessionLedger {
    members: Vec<MemberRecord>,
    events: Vec<EventInfo>,
    stamps: BTreeMap<u64, Stamp>,
    early: HashMap<u64, Vec<Early>>,
    echo: bool,
    /// Highest seq a reply (or the peers' ack) confirmed.
    pub max_acked: u64,
    /// Highest seq anyone received.
    pub max_seen: u64,
    /// The final seq, once read from the server's log.
    pub final_seq: Option<u64>,
}

mod ops;
