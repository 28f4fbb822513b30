//! Vitrine's session engine.
//!
//! - [`events`]: the domain events, named `noun.verb`.
//! - [`session`]: the [`session::LiveSession`] actor, the single writer of one session, with
//!   its commands, state, outbound queues and rebuild from the store.
//! - [`directory`]: where each session's actor lives in this process.
//! - [`cluster`]: the Redis directory, when several nodes share one store.
//! - [`commerce`]: the commerce port and its built-in implementation, with the Shopify CSV
//!   importer.
//! - [`identity`]: roles, permissions and signed tokens.
//! - [`wire`]: the frames a session sends to participants.
//! - [`engine`]: the entry points the gateway calls.
//!
//! The engine holds no SQL: everything durable goes through
//! [`vitrine_persistence::Store`].

pub mod cluster;
pub mod commerce;
pub mod directory;
pub mod engine;
pub mod events;
pub mod identity;
pub mod metrics;
pub mod session;
pub mod text;
pub mod wire;

pub use engine::{CreatedSession, CustomerDetails, Engine, EngineError, SessionRequest};
