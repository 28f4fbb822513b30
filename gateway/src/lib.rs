//! Vitrine's gateway: the `vitrine` binary.
//!
//! - [`config`]: settings from defaults, a TOML file and the environment.
//! - [`startup`]: builds a node (store, bootstrap, engine, HTTP server).
//! - [`routes`]: the HTTP API under `/v1/`, health, static files.
//! - [`ws`]: `/v1/ws`, one [`ws::WsConnection`] actor per socket.
//! - [`protocol`]: the WebSocket wire contract, shared with the load test and the tests.
//!
//! # Why actix-ws feeding a connection actor
//!
//! `actix-web-actors` (WebSocket contexts as actors) is deprecated upstream. `actix-ws`
//! gives a plain message stream and a sending handle instead. We keep one actor per
//! connection, because the connection has state that actors model well (the `hello`
//! deadline, heartbeats, rate limits, the joined session), and feed it the `actix-ws`
//! stream with `add_stream`. Sending is done by a separate writer task that owns the
//! `actix-ws` session: awaiting a slow socket there never blocks the actor or the session,
//! and the session reaches the writer through a bounded queue whose overflow is how a slow
//! reader is detected (close code 4429).

pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod error;
pub mod openapi;
pub mod protocol;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod ws;
