//! Helpers for Vitrine's end-to-end tests: nodes started in-process or as real
//! processes, an HTTP client for the API and a WebSocket client that speaks the protocol
//! through the gateway's own types.

pub mod call;
pub mod cluster;
pub mod faults;
pub mod http;
pub mod node;
pub mod otlp;
pub mod steady;
pub mod ws;

/// How long a test waits for something that should happen promptly.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// The folder of real catalogs beside the project, when it exists.
pub fn shared_catalogs() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/catalogs");
    dir.is_dir().then_some(dir)
}
