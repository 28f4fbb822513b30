//! One clock for every time stamp of a run. Send times, receipt times and reply times are
//! all read from it, in this one process, so latencies between participants need no clock
//! agreement with the server.

use std::time::{Duration, Instant};

/// Microseconds since the run's clock started.
pub type Micros = u64;

/// The run's clock.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock starting now.
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
        }
    }

    /// Now, in microseconds since the start.
    pub fn now(&self) -> Micros {
        self.at(Instant::now())
    }

    /// An instant, in microseconds since the start (zero for instants before it).
    pub fn at(&self, instant: Instant) -> Micros {
        micros(instant.saturating_duration_since(self.base))
    }

    /// The instant of a stamp.
    pub fn instant(&self, at: Micros) -> Instant {
        self.base + Duration::from_micros(at)
    }
}

/// A duration in whole microseconds, saturating.
pub fn micros(d: Duration) -> Micros {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
