//! Media for live sessions: a pool of mediasoup workers and, for each session, a router
//! with its participants' transports, producers and consumers.
//!
//! The session actor holds a [`SessionMedia`] (opened with [`MediaPool::open_session`]
//! when media is first asked for) and calls it for each `media.*` command. Every
//! parameter from a client is checked here before it reaches a worker, and errors come
//! back as [`MediaError`]s a client can act on.
//!
//! [`recording`] writes a session's producers to a file through an `ffmpeg` child, and
//! [`synthetic`] sends a generated picture and tone into a router, for tests and
//! benchmarks.

mod error;
mod ffmpeg;
mod params;
mod pool;
pub mod recording;
mod room;
mod settings;
pub mod synthetic;

pub use error::MediaError;
pub use pool::MediaPool;
pub use room::{Direction, ProducerInfo, SessionMedia};
pub use settings::MediaSettings;

use mediasoup::prelude::{ListenInfo, Protocol};

/// Where a transport listens: UDP on `ip`, a port the worker picks, nothing announced.
pub fn udp_listen(ip: std::net::IpAddr) -> ListenInfo {
    ListenInfo {
        protocol: Protocol::Udp,
        ip,
        announced_address: None,
        expose_internal_ip: false,
        port: None,
        port_range: None,
        flags: None,
        send_buffer_size: None,
        recv_buffer_size: None,
    }
}
