//! What every handler and connection shares.

use std::sync::atomic::AtomicU64;

use vitrine_engine::identity::TokenIssuer;
use vitrine_engine::Engine;

use crate::config::Settings;

/// Shared state of one node.
pub struct AppState {
    /// Settings the node started with.
    pub settings: Settings,
    /// The session engine.
    pub engine: Engine,
    /// Token minting and checking.
    pub tokens: TokenIssuer,
    /// Base URL of join links.
    pub public_base: String,
    /// Source of connection ids.
    pub next_connection_id: AtomicU64,
    /// Turns true when the node starts stopping; connections watch it.
    pub stopping: tokio::sync::watch::Sender<bool>,
}
