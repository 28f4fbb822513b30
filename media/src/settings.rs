//! How the media pool runs: how many workers, where they listen, what they announce.

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

/// Settings of the worker pool.
#[derive(Clone, Debug)]
pub struct MediaSettings {
    /// Workers to run; 0 runs one per core.
    pub workers: usize,
    /// Address the workers listen on for media (UDP and TCP).
    pub listen_ip: IpAddr,
    /// Address or host name given to browsers in ICE candidates, when it differs from
    /// `listen_ip` (a node behind NAT).
    pub announced_ip: Option<String>,
    /// Ports the workers may listen on. Each worker's WebRTC server takes one port from
    /// it for both UDP and TCP (ICE-TCP, for networks that block UDP); recording takes
    /// more.
    pub ports: RangeInclusive<u16>,
    /// First wait before a dead worker is started again; doubled at each failure in a row.
    pub restart_backoff: Duration,
    /// Longest wait between restarts.
    pub max_restart_backoff: Duration,
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            workers: 0,
            listen_ip: IpAddr::from([0, 0, 0, 0]),
            announced_ip: None,
            ports: 40000..=49999,
            restart_backoff: Duration::from_millis(500),
            max_restart_backoff: Duration::from_secs(30),
        }
    }
}

impl MediaSettings {
    /// The number of workers these settings run on this machine.
    pub fn worker_count(&self) -> usize {
        if self.workers > 0 {
            return self.workers;
        }
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}
