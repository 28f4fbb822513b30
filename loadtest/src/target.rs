//! Where the load goes: the nodes' base URLs, checked to be on this machine unless the
//! operator allows otherwise, and the WebSocket address each kind of server listens on.

use std::net::IpAddr;

use reqwest::Url;
use serde::Serialize;

/// The kind of server under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// A Vitrine node: `/v1/ws` and the HTTP API.
    Vitrine,
    /// The Socket.IO 4 peer (Engine.IO v4, WebSocket transport only).
    Socketio,
    /// The peer's plain-WebSocket variant: one JSON object per frame.
    RawWs,
}

impl TargetKind {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Vitrine => "vitrine",
            Self::Socketio => "socketio",
            Self::RawWs => "raw-ws",
        }
    }
}

/// One node: its HTTP base URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    /// `http://host:port`, without a trailing slash.
    pub base: String,
}

/// A target that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Not a URL.
    #[error("{0:?} is not a URL (expected something like http://127.0.0.1:8080): {1}")]
    Unparsable(String, String),
    /// A scheme other than http or ws.
    #[error("{0:?}: use an http:// or ws:// URL (TLS is not supported)")]
    Scheme(String),
    /// A host that is not on this machine.
    #[error(
        "{0:?} is not a loopback address; the load test only talks to this machine \
         unless --allow-remote is given"
    )]
    NotLoopback(String),
    /// A URL with a path, query or credentials.
    #[error("{0:?}: give only scheme, host and port (no path, query or user)")]
    Extra(String),
}

impl Target {
    /// Parses `http://host:port` (or `ws://`), refusing hosts off this machine unless
    /// `allow_remote`.
    pub fn parse(text: &str, allow_remote: bool) -> Result<Self, TargetError> {
        let url =
            Url::parse(text).map_err(|e| TargetError::Unparsable(text.into(), e.to_string()))?;
        let scheme = match url.scheme() {
            "http" | "ws" => "http",
            _ => return Err(TargetError::Scheme(text.into())),
        };
        if !(url.path().is_empty() || url.path() == "/")
            || url.query().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(TargetError::Extra(text.into()));
        }
        let Some(host) = url.host_str() else {
            return Err(TargetError::Unparsable(text.into(), "no host".into()));
        };
        if !allow_remote && !is_loopback(host) {
            return Err(TargetError::NotLoopback(text.into()));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        Ok(Self {
            base: format!("{scheme}://{host}:{port}"),
        })
    }

    /// The WebSocket URL for a kind of server.
    pub fn ws_url(&self, kind: TargetKind) -> String {
        let ws = self.base.replacen("http://", "ws://", 1);
        match kind {
            TargetKind::Vitrine => format!("{ws}/v1/ws"),
            TargetKind::Socketio => format!("{ws}/socket.io/?EIO=4&transport=websocket"),
            TargetKind::RawWs => format!("{ws}/"),
        }
    }
}

/// Whether a URL host names this machine: the 127.0.0.0/8 range, `::1` or `localhost`.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_are_accepted_and_normalised() {
        let t = Target::parse("http://127.0.0.1:8080/", false).unwrap();
        assert_eq!(t.base, "http://127.0.0.1:8080");
        assert_eq!(t.ws_url(TargetKind::Vitrine), "ws://127.0.0.1:8080/v1/ws");
        assert!(Target::parse("ws://localhost:3000", false).is_ok());
        assert!(Target::parse("http://[::1]:3000", false).is_ok());
        assert!(Target::parse("http://127.0.0.2:3000", false).is_ok());
    }

    #[test]
    fn other_hosts_are_refused_unless_allowed() {
        for url in [
            "http://10.0.0.5:8080",
            "http://example.com",
            "http://192.168.1.2",
        ] {
            assert!(matches!(
                Target::parse(url, false),
                Err(TargetError::NotLoopback(_))
            ));
            assert!(Target::parse(url, true).is_ok());
        }
    }

    #[test]
    fn odd_urls_get_clear_errors() {
        assert!(matches!(
            Target::parse("https://127.0.0.1", false),
            Err(TargetError::Scheme(_))
        ));
        assert!(matches!(
            Target::parse("127.0.0.1:8080", false),
            Err(TargetError::Scheme(_) | TargetError::Unparsable(..))
        ));
        assert!(matches!(
            Target::parse("http://127.0.0.1:8080/v1/ws", false),
            Err(TargetError::Extra(_))
        ));
    }
}
