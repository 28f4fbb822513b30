//! What a run measures: HDR histograms of every transaction and of fan-out per event kind,
//! counts of errors and close codes, and live counters for the progress line.
//!
//! # Coordinated omission
//!
//! Senders follow a timetable (a card every 500 ms, say) and never wait for a reply before
//! the next send. Each command carries its *scheduled* send time, and the corrected
//! latency of a reply or a delivery runs from that time, not from the moment the frame
//! was actually written. A generator that falls behind (a stalled socket, a busy core)
//! therefore shows up as latency instead of silently sending fewer, later commands. The
//! uncorrected latency, from the actual write, is kept beside it, and the gap between the
//! two (the send lag) is reported on its own, so a saturated load generator can be told
//! apart from a slow server.
//!
//! The generator's timer wakes on whole milliseconds, so a send up to [`TIMER_SLACK_US`]
//! past its due time counts as on time: corrected latency runs from the due time plus
//! that slack, or from the actual write if that was sooner.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::clock::Micros;
use crate::mix::Transaction;

/// Largest latency a histogram holds exactly: one hour, in microseconds. Larger values
/// are clamped to it.
const MAX_TRACKABLE_US: u64 = 3_600_000_000;
/// Significant digits kept.
const SIGFIGS: u8 = 3;
/// How late a send may be and still count as on time: the timer's resolution.
pub const TIMER_SLACK_US: Micros = 1_000;

/// Where a corrected latency starts: the due time (plus the timer's slack), or the
/// actual write when that was sooner.
pub fn corrected_start(scheduled: Micros, written: Micros) -> Micros {
    written.min(scheduled + TIMER_SLACK_US)
}

fn histogram() -> Histogram<u64> {
    // unwrap: constant bounds that hdrhistogram accepts.
    Histogram::new_with_bounds(1, MAX_TRACKABLE_US, SIGFIGS).expect("valid histogram bounds")
}

/// Percentiles of one histogram, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Percentiles {
    /// Reads a histogram of microseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// A latency measured twice: from the scheduled send time (corrected) and from the
/// actual write (raw).
#[derive(Clone)]
pub struct Latency {
    /// From the scheduled send.
    pub corrected: Histogram<u64>,
    /// From the actual write.
    pub raw: Histogram<u64>,
}

impl Latency {
    fn new() -> Self {
        Self {
            corrected: histogram(),
            raw: histogram(),
        }
    }

    fn record(&mut self, scheduled: Micros, written: Micros, now: Micros) {
        let start = corrected_start(scheduled, written);
        self.corrected
            .saturating_record(now.saturating_sub(start).max(1));
        self.raw
            .saturating_record(now.saturating_sub(written).max(1));
    }
}

/// One transaction's outcomes.
#[derive(Clone)]
pub struct TxStats {
    /// Attempts that ended (succeeded or failed).
    pub count: u64,
    /// Failed attempts (error replies, refused or timed-out connections, no reply).
    pub failures: u64,
    /// Latency of the successful ones.
    pub latency: Latency,
}

/// Everything measured, behind one lock. Recording is a few hundred nanoseconds, far below
/// what contention would make noticeable at the rates one load generator reaches.
#[derive(Clone)]
pub struct Measurements {
    /// Per transaction.
    pub tx: BTreeMap<Transaction, TxStats>,
    /// Fan-out per event kind, live deliveries only.
    pub fanout: BTreeMap<&'static str, Latency>,
    /// Fan-out of every kind together.
    pub fanout_all: Latency,
    /// With several targets: fan-out to recipients on the shopper's node (which owns the
    /// session, the shopper joining first) and on other nodes, by [`Placement::label`].
    pub fanout_by_placement: BTreeMap<&'static str, Latency>,
    /// Deliveries caught up after a resume, from their scheduled send time.
    pub catchup: Histogram<u64>,
    /// Fan-out since the last progress line.
    pub window: Histogram<u64>,
    /// Fan-out since the current ramp step began.
    pub step: Histogram<u64>,
    /// Scheduled-to-actual send delay of the generator itself.
    pub send_lag: Histogram<u64>,
    /// Failed replies and `error` frames by code.
    pub errors: BTreeMap<String, u64>,
    /// Connections closed by the server or lost, by close code and meaning.
    pub closes: BTreeMap<String, u64>,
    /// Connection attempts that failed, by reason.
    pub connect_failures: BTreeMap<String, u64>,
    /// Frames received and their bytes, per event kind.
    pub frames: BTreeMap<&'static str, (u64, u64)>,
    /// Frames that could not be read, with the first few for the report.
    pub bad_frames: (u64, Vec<String>),
}

impl Measurements {
    fn new() -> Self {
        Self {
            tx: BTreeMap::new(),
            fanout: BTreeMap::new(),
            fanout_all: Latency::new(),
            fanout_by_placement: BTreeMap::new(),
            catchup: histogram(),
            window: histogram(),
            step: histogram(),
            send_lag: histogram(),
            errors: BTreeMap::new(),
            closes: BTreeMap::new(),
            connect_failures: BTreeMap::new(),
            frames: BTreeMap::new(),
            bad_frames: (0, Vec::new()),
        }
    }

    fn tx(&mut self, t: Transaction) -> &mut TxStats {
        self.tx.entry(t).or_insert_with(|| TxStats {
            count: 0,
            failures: 0,
            latency: Latency::new(),
        })
    }
}

/// Counters read by the progress line without taking the lock.
#[derive(Default)]
pub struct Live {
    /// Connections open now (joined or resuming).
    pub open: AtomicI64,
    /// First joins that succeeded.
    pub joined: AtomicU64,
    /// First joins that failed.
    pub join_failed: AtomicU64,
    /// Commands written.
    pub commands: AtomicU64,
    /// Replies received.
    pub replies: AtomicU64,
    /// Events received.
    pub events: AtomicU64,
    /// Errors of any kind (failed replies, error frames, failed connections, closes).
    pub errors: AtomicU64,
    /// Unanswered commands written again after a resume.
    pub resent: AtomicU64,
    /// Commands written whose reply has not arrived.
    pub outstanding: AtomicI64,
}

/// A fan-out sample waiting to be recorded.
#[derive(Clone, Copy, Debug)]
pub struct FanoutSample {
    /// Event kind.
    pub kind: &'static str,
    /// Scheduled send time.
    pub scheduled: Micros,
    /// Actual write.
    pub written: Micros,
    /// Receipt.
    pub received: Micros,
    /// Received in a resume's catch-up rather than live.
    pub catchup: bool,
}

/// Where a recipient sits relative to the session's owner, when a run has several nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// On the node of the session's shopper, which owns the session.
    OwnerNode,
    /// On another node: events reach it forwarded.
    OtherNode,
}

impl Placement {
    /// The row name in reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::OwnerNode => "all, recipient on the owner's node",
            Self::OtherNode => "all, recipient on another node",
        }
    }
}

/// The recorder shared by every participant of a run.
pub struct Recorder {
    inner: Mutex<Measurements>,
    /// Lock-free counters.
    pub live: Live,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(Measurements::new()),
            live: Live::default(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Measurements) -> R) -> R {
        // A panic while holding the lock leaves counters that are still usable.
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// A transaction that succeeded.
    pub fn tx_ok(&self, t: Transaction, scheduled: Micros, written: Micros, now: Micros) {
        self.with(|m| {
            let s = m.tx(t);
            s.count += 1;
            s.latency.record(scheduled, written, now);
        });
    }

    /// A transaction that failed, with the reason counted under `errors`.
    pub fn tx_failed(&self, t: Transaction, reason: &str) {
        self.live.errors.fetch_add(1, Ordering::Relaxed);
        self.with(|m| {
            let s = m.tx(t);
            s.count += 1;
            s.failures += 1;
            let key = if t.is_command() {
                reason.to_owned()
            } else {
                format!("{}: {reason}", t.name())
            };
            *m.errors.entry(key).or_default() += 1;
        });
    }

    /// Fan-out samples.
    pub fn fanout(&self, samples: &[FanoutSample], placement: Option<Placement>) {
        if samples.is_empty() {
            return;
        }
        self.with(|m| {
            if let Some(p) = placement {
                let by = m
                    .fanout_by_placement
                    .entry(p.label())
                    .or_insert_with(Latency::new);
                for s in samples.iter().filter(|s| !s.catchup) {
                    by.record(s.scheduled, s.written, s.received);
                }
            }
            for s in samples {
                let start = corrected_start(s.scheduled, s.written);
                let corrected = s.received.saturating_sub(start).max(1);
                if s.catchup {
                    m.catchup.saturating_record(corrected);
                    continue;
                }
                m.fanout.entry(s.kind).or_insert_with(Latency::new).record(
                    s.scheduled,
                    s.written,
                    s.received,
                );
                m.fanout_all.record(s.scheduled, s.written, s.received);
                m.window.saturating_record(corrected);
                m.step.saturating_record(corrected);
            }
        });
    }

    /// How late the generator wrote a command after its scheduled time.
    pub fn send_lag(&self, lag: Micros) {
        self.with(|m| m.send_lag.saturating_record(lag.max(1)));
    }

    /// An `error` frame from the server.
    pub fn error_frame(&self, code: &str) {
        self.live.errors.fetch_add(1, Ordering::Relaxed);
        self.with(|m| *m.errors.entry(format!("error frame: {code}")).or_default() += 1);
    }

    /// A connection the server closed or that was lost, while it should have stayed open.
    pub fn close(&self, code: u16) {
        self.live.errors.fetch_add(1, Ordering::Relaxed);
        self.with(|m| *m.closes.entry(close_name(code)).or_default() += 1);
    }

    /// A connection attempt that failed.
    pub fn connect_failure(&self, reason: &str) {
        self.live.errors.fetch_add(1, Ordering::Relaxed);
        self.with(|m| *m.connect_failures.entry(reason.to_owned()).or_default() += 1);
    }

    /// A received frame's size.
    pub fn frame(&self, kind: &'static str, bytes: usize) {
        self.with(|m| {
            let e = m.frames.entry(kind).or_default();
            e.0 += 1;
            e.1 += bytes as u64;
        });
    }

    /// A frame that could not be read.
    pub fn bad_frame(&self, text: &str, why: &str) {
        self.live.errors.fetch_add(1, Ordering::Relaxed);
        self.with(|m| {
            m.bad_frames.0 += 1;
            if m.bad_frames.1.len() < 5 {
                let mut shown: String = text.chars().take(200).collect();
                shown.push_str(&format!(" ({why})"));
                m.bad_frames.1.push(shown);
            }
        });
    }

    /// The fan-out p99 since the last call, in milliseconds, and resets the window.
    pub fn take_window_p99(&self) -> Option<f64> {
        self.with(|m| {
            let p = (!m.window.is_empty()).then(|| m.window.value_at_quantile(0.99) as f64 / 1e3);
            m.window.reset();
            p
        })
    }

    /// Starts a new ramp step's fan-out histogram.
    pub fn reset_step(&self) {
        self.with(|m| m.step.reset());
    }

    /// The current step's fan-out.
    pub fn step_fanout(&self) -> Percentiles {
        self.with(|m| Percentiles::of(&m.step))
    }

    /// Failed command replies so far.
    pub fn failed_commands(&self) -> u64 {
        self.with(|m| {
            m.tx.iter()
                .filter(|(t, _)| t.is_command())
                .map(|(_, s)| s.failures)
                .sum()
        })
    }

    /// A copy of everything, for the report.
    pub fn snapshot(&self) -> Measurements {
        self.with(|m| m.clone())
    }

    /// Counts one more written command.
    pub fn command_written(&self) {
        self.live.commands.fetch_add(1, Ordering::Relaxed);
        self.live.outstanding.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a command that is settled (replied, or given up).
    pub fn command_settled(&self, replied: bool) {
        if replied {
            self.live.replies.fetch_add(1, Ordering::Relaxed);
        }
        self.live.outstanding.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A close code with its meaning in the contract.
pub fn close_name(code: u16) -> String {
    let meaning = match code {
        1000 => "normal",
        1001 => "going away (heartbeat timeout)",
        1002 => "protocol error",
        1005 => "no status",
        1006 => "lost without a close frame",
        1009 => "frame too large",
        1011 => "server error",
        1013 => "try again later",
        4401 => "bad or missing token",
        4404 => "no such session",
        4408 => "no hello in time",
        4429 => "too slow or too many frames",
        _ => "other",
    };
    format!("{code} {meaning}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrected_latency_counts_from_the_scheduled_send() {
        let r = Recorder::new();
        // Scheduled at 0, written late at 91 ms, received at 101 ms.
        r.fanout(
            &[FanoutSample {
                kind: "product.shared",
                scheduled: 0,
                written: 91_000,
                received: 101_000,
                catchup: false,
            }],
            Some(Placement::OtherNode),
        );
        let m = r.snapshot();
        let f = &m.fanout["product.shared"];
        assert_eq!(
            m.fanout_by_placement[Placement::OtherNode.label()]
                .corrected
                .len(),
            1
        );
        assert!(!m
            .fanout_by_placement
            .contains_key(Placement::OwnerNode.label()));
        assert!((Percentiles::of(&f.corrected).max - 100.0).abs() < 0.2);
        assert!((Percentiles::of(&f.raw).max - 10.0).abs() < 0.1);
        assert_eq!(r.take_window_p99().map(|p| p.round()), Some(100.0));
        // Within the timer's slack a send is on time: corrected equals uncorrected.
        assert_eq!(corrected_start(5_000, 5_600), 5_600);
        assert_eq!(r.take_window_p99(), None, "the window was reset");
    }
}
