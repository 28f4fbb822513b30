//! Configuration: defaults, then an optional TOML file (`VITRINE_CONFIG`), then
//! environment variables prefixed `VITRINE_` (nested keys joined by `__`, for example
//! `VITRINE_WS__OUTBOUND_QUEUE=512`). `vitrine.sample.toml` lists every key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use vitrine_engine::cluster::ClusterSettings;
use vitrine_engine::session::SessionSettings;
use vitrine_persistence::sqlite::Synchronous;
use vitrine_persistence::GroupCommitOptions;

/// Every setting of a node.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory of the embedded database and other local files.
    pub data_dir: PathBuf,
    /// Public base URL used in join links; defaults to `http://{listen}`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// A fixed token accepted as the demo admin's token.
    #[serde(default)]
    pub admin_token: Option<SecretString>,
    /// HTTP worker threads (0: one per core).
    pub http_workers: usize,
    /// Threads running session actors (0: one per core).
    pub session_threads: usize,
    /// Create the demo tenant, admin and catalog on first start.
    pub demo: bool,
    /// WebSocket connections.
    pub ws: WsSettings,
    /// Session actors.
    pub session: SessionSettings,
    /// The store (either one).
    pub store: StoreSettings,
    /// The production store, used when `DATABASE_URL` (or `postgres.url`) is set.
    pub postgres: PostgresSettings,
    /// The Redis directory, used when `REDIS_URL` (or `redis.url`) is set: several nodes
    /// then share one Postgres store.
    pub redis: RedisSettings,
    /// Token lifetimes.
    pub tokens: TokenSettings,
    /// Catalog import.
    pub catalog: CatalogSettings,
    /// How long a stopping node waits for open work.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// Record metrics for `/metrics`. Off only to measure what recording costs.
    pub metrics: bool,
    /// Audio and video.
    pub media: MediaConfig,
}

/// Audio and video: the mediasoup workers of this node.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Carry audio and video. Workers start with the first call that needs them.
    pub enabled: bool,
    /// Workers (0: one per core).
    pub workers: usize,
    /// Address the workers listen on, UDP and TCP.
    pub listen_ip: std::net::IpAddr,
    /// Address or host name browsers are told to send media to, when it is not
    /// `listen_ip` (a node behind NAT, or listening on 0.0.0.0). Also
    /// `VITRINE_MEDIA_ANNOUNCED_IP`.
    pub announced_ip: Option<String>,
    /// Lowest port the workers may listen on.
    pub port_min: u16,
    /// Highest port the workers may listen on.
    pub port_max: u16,
}

impl Default for MediaConfig {
    fn default() -> Self {
        let media = vitrine_media::MediaSettings::default();
        Self {
            enabled: true,
            workers: media.workers,
            // Reachable from a browser on this machine out of the box; a deployment
            // listens on 0.0.0.0 and announces its public address.
            listen_ip: std::net::IpAddr::from([127, 0, 0, 1]),
            announced_ip: None,
            port_min: *media.ports.start(),
            port_max: *media.ports.end(),
        }
    }
}

impl MediaConfig {
    /// The pool's settings, or `None` when media is off.
    pub fn pool_settings(&self) -> Option<vitrine_media::MediaSettings> {
        self.enabled.then(|| vitrine_media::MediaSettings {
            workers: self.workers,
            listen_ip: self.listen_ip,
            announced_ip: self.announced_ip.clone(),
            ports: self.port_min..=self.port_max,
            ..vitrine_media::MediaSettings::default()
        })
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.port_min == 0 || self.port_min > self.port_max {
            return Err(ConfigError(
                "media.port_min must be at least 1 and at most media.port_max".into(),
            ));
        }
        if self.workers > 256 {
            return Err(ConfigError("media.workers must be at most 256".into()));
        }
        if let Some(ip) = &self.announced_ip {
            let host_like = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':');
            if ip.is_empty() || ip.len() > 253 || !ip.chars().all(host_like) {
                return Err(ConfigError(
                    "media.announced_ip must be an IP address or host name".into(),
                ));
            }
        }
        if self.listen_ip.is_unspecified() && self.announced_ip.is_none() {
            return Err(ConfigError(
                "media.listen_ip 0.0.0.0 needs media.announced_ip (VITRINE_MEDIA_ANNOUNCED_IP): \
                 browsers cannot send media to 0.0.0.0"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// WebSocket connection limits.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WsSettings {
    /// Time allowed for the first frame (`hello`).
    #[serde(with = "humantime_serde")]
    pub hello_timeout: Duration,
    /// How often the server pings.
    #[serde(with = "humantime_serde")]
    pub heartbeat_interval: Duration,
    /// A connection silent for this long is closed.
    #[serde(with = "humantime_serde")]
    pub client_timeout: Duration,
    /// Largest frame accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Frames of the session queued for one connection before it counts as too slow
    /// (4429). Replies to the connection's own commands come on top, up to `frame_burst`.
    pub outbound_queue: usize,
    /// Sustained frames per second a client may send.
    pub frames_per_second: u32,
    /// Burst of frames a client may send at once.
    pub frame_burst: u32,
    /// Kernel send buffer of each connection, in bytes (0 keeps the system's). It bounds
    /// what a stalled client holds beyond its outbound queue.
    pub send_buffer_bytes: usize,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            hello_timeout: Duration::from_secs(5),
            heartbeat_interval: Duration::from_secs(15),
            client_timeout: Duration::from_secs(45),
            max_frame_bytes: 64 * 1024,
            outbound_queue: 256,
            frames_per_second: 50,
            frame_burst: 200,
            send_buffer_bytes: 256 * 1024,
        }
    }
}

/// The embedded store.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `full` (fsync every commit) or `normal` (survives a crash of the process only).
    pub synchronous: Synchronous,
    /// Read-only connections.
    pub readers: usize,
    /// Group commit of appends.
    pub group_commit: GroupCommitOptions,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            readers: 4,
            group_commit: GroupCommitOptions::default(),
        }
    }
}

/// The Postgres store.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresSettings {
    /// Connection URL; usually given as `DATABASE_URL`. Unset means the embedded store.
    #[serde(skip_serializing)]
    pub url: Option<SecretString>,
    /// A schema to use instead of `public` (created if missing).
    pub schema: Option<String>,
    /// Most connections in the pool.
    pub pool_size: usize,
    /// How long a request waits for a free connection before it is answered "unavailable".
    #[serde(with = "humantime_serde")]
    pub pool_wait: Duration,
    /// How long opening a connection may take.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Longest a statement may run.
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
    /// Group commits in flight at once, each on its own connection.
    pub committers: usize,
    /// Threads doing Postgres I/O.
    pub threads: usize,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        Self {
            url: None,
            schema: None,
            pool_size: 16,
            pool_wait: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            committers: 2,
            threads: 2,
        }
    }
}

/// The Redis directory of several nodes.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// Connection URL; usually given as `REDIS_URL`. Unset means a single node.
    #[serde(skip_serializing)]
    pub url: Option<SecretString>,
    /// Start of every key and channel name; deployments sharing a Redis differ here.
    pub prefix: String,
    /// How long a session's lease, and a node's announcement, last without renewal: how
    /// long a dead node's sessions wait before another node takes them.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// Longest wait for the owning node's reply to a forwarded command or join.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Connections in the pool for Redis commands (pub/sub has one of its own).
    pub pool_size: usize,
}

impl Default for RedisSettings {
    fn default() -> Self {
        let c = ClusterSettings::default();
        Self {
            url: None,
            prefix: c.prefix,
            lease: c.lease,
            request_timeout: c.request_timeout,
            pool_size: c.pool_size,
        }
    }
}

impl RedisSettings {
    /// The engine's view of these settings.
    pub fn cluster(&self) -> ClusterSettings {
        ClusterSettings {
            prefix: self.prefix.clone(),
            lease: self.lease,
            request_timeout: self.request_timeout,
            pool_size: self.pool_size,
        }
    }
}

/// Token lifetimes.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    /// Customer and invited participant tokens.
    #[serde(with = "humantime_serde")]
    pub participant_ttl: Duration,
    /// Staff tokens minted through the API.
    #[serde(with = "humantime_serde")]
    pub staff_ttl: Duration,
    /// The admin token printed at first start.
    #[serde(with = "humantime_serde")]
    pub admin_ttl: Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            participant_ttl: Duration::from_secs(24 * 3600),
            staff_ttl: Duration::from_secs(12 * 3600),
            admin_ttl: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// Catalog import.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogSettings {
    /// Largest CSV body accepted, in bytes.
    pub import_max_bytes: usize,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self {
            import_max_bytes: 4 * 1024 * 1024,
        }
    }
}

#[derive(Serialize)]
struct Defaults {
    listen: &'static str,
    data_dir: &'static str,
    http_workers: usize,
    session_threads: usize,
    demo: bool,
    ws: WsSettings,
    session: SessionDefaults,
    store: StoreSettings,
    postgres: PostgresSettings,
    redis: RedisSettings,
    tokens: TokenSettings,
    catalog: CatalogSettings,
    shutdown_timeout: &'static str,
    metrics: bool,
    media: MediaConfig,
}

#[derive(Serialize)]
struct SessionDefaults {}

/// A setting could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Reads settings from the defaults, `VITRINE_CONFIG` and the environment.
    pub fn load() -> Result<Self, ConfigError> {
        let mut figment = Self::defaults();
        if let Ok(path) = std::env::var("VITRINE_CONFIG") {
            if !std::path::Path::new(&path).is_file() {
                return Err(ConfigError(format!("VITRINE_CONFIG: no file at {path}")));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment
            .merge(
                Env::prefixed("VITRINE_")
                    .split("__")
                    .map(|key| {
                        // The one flat name kept for the setting deployments set most.
                        if key == "media_announced_ip" {
                            "media.announced_ip".into()
                        } else {
                            key.into()
                        }
                    })
                    .ignore(&["config", "log_format"]),
            )
            .merge(
                // Names compare without case, as the environment's do here.
                Env::raw().filter_map(|key| {
                    if key == "database_url" {
                        Some("postgres.url".into())
                    } else if key == "redis_url" {
                        Some("redis.url".into())
                    } else {
                        None
                    }
                }),
            );
        Self::extract(figment)
    }

    /// The built-in defaults, for tests to layer their own values over.
    pub fn defaults() -> Figment {
        Figment::from(Serialized::defaults(Defaults {
            listen: "127.0.0.1:8080",
            data_dir: "./data",
            http_workers: 0,
            session_threads: 0,
            demo: true,
            ws: WsSettings::default(),
            session: SessionDefaults {},
            store: StoreSettings::default(),
            postgres: PostgresSettings::default(),
            redis: RedisSettings::default(),
            tokens: TokenSettings::default(),
            catalog: CatalogSettings::default(),
            shutdown_timeout: "10s",
            metrics: true,
            media: MediaConfig::default(),
        }))
    }

    /// Extracts and checks settings.
    pub fn extract(figment: Figment) -> Result<Self, ConfigError> {
        let mut settings: Settings = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        // `DATABASE_URL=` or `REDIS_URL=` (set but empty, as compose files leave them)
        // means not set.
        let blank = |url: &Option<SecretString>| {
            url.as_ref()
                .is_some_and(|u| secrecy::ExposeSecret::expose_secret(u).trim().is_empty())
        };
        if blank(&settings.postgres.url) {
            settings.postgres.url = None;
        }
        if blank(&settings.redis.url) {
            settings.redis.url = None;
        }
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let ws = &self.ws;
        if ws.max_frame_bytes < 1024 || ws.max_frame_bytes > 16 * 1024 * 1024 {
            return Err(ConfigError(
                "ws.max_frame_bytes must be 1 KiB to 16 MiB".into(),
            ));
        }
        self.media.check()?;
        if ws.outbound_queue < 8 {
            return Err(ConfigError("ws.outbound_queue must be at least 8".into()));
        }
        if ws.frames_per_second == 0 || ws.frame_burst == 0 {
            return Err(ConfigError(
                "ws.frames_per_second and ws.frame_burst must be positive".into(),
            ));
        }
        if ws.client_timeout <= ws.heartbeat_interval {
            return Err(ConfigError(
                "ws.client_timeout must exceed ws.heartbeat_interval".into(),
            ));
        }
        let pg = &self.postgres;
        if pg.pool_size < 2 || pg.committers == 0 || pg.committers >= pg.pool_size {
            return Err(ConfigError(
                "postgres: pool_size must be at least 2 and exceed committers (at least 1)".into(),
            ));
        }
        if let Some(url) = &pg.url {
            let url = secrecy::ExposeSecret::expose_secret(url);
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError(
                    "DATABASE_URL must be a postgres:// or postgresql:// URL".into(),
                ));
            }
        }
        let redis = &self.redis;
        if let Some(url) = &redis.url {
            let url = secrecy::ExposeSecret::expose_secret(url);
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError(
                    "REDIS_URL must be a redis:// or rediss:// URL".into(),
                ));
            }
            if pg.url.is_none() {
                return Err(ConfigError(
                    "REDIS_URL needs DATABASE_URL: nodes share sessions through one Postgres"
                        .into(),
                ));
            }
        }
        if redis.lease < Duration::from_secs(1) || redis.lease > Duration::from_secs(300) {
            return Err(ConfigError("redis.lease must be 1 s to 5 min".into()));
        }
        if redis.request_timeout.is_zero() || redis.pool_size == 0 {
            return Err(ConfigError(
                "redis.request_timeout and redis.pool_size must be positive".into(),
            ));
        }
        if redis.prefix.is_empty()
            || redis.prefix.len() > 64
            || !redis
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(ConfigError(
                "redis.prefix must be 1 to 64 letters, digits, '-', '_' or '.'".into(),
            ));
        }
        if self.store.group_commit.max_batch == 0 {
            return Err(ConfigError(
                "store.group_commit.max_batch must be at least 1".into(),
            ));
        }
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError(
                    "public_url must start with http:// or https://".into(),
                ));
            }
        }
        Ok(())
    }

    /// The base URL of join links, without a trailing slash.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The public base with the actually bound address (for port 0).
    pub fn public_base_for(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Settings {
    /// HTTP workers to start.
    pub fn http_worker_count(&self) -> usize {
        if self.http_workers == 0 {
            cores()
        } else {
            self.http_workers
        }
    }

    /// Session threads to start.
    pub fn session_thread_count(&self) -> usize {
        if self.session_threads == 0 {
            cores()
        } else {
            self.session_threads
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_config_is_valid_and_states_the_defaults() {
        let sample = include_str!("../../vitrine.sample.toml");
        let from_sample =
            Settings::extract(Settings::defaults().merge(Toml::string(sample))).unwrap();
        let defaults = Settings::extract(Settings::defaults()).unwrap();
        assert_eq!(format!("{from_sample:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn defaults_alone_make_valid_settings() {
        let s = Settings::extract(Settings::defaults()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.ws.max_frame_bytes, 65536);
        assert_eq!(s.session.remembered_replies, 1024);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_clear_errors() {
        let bad = Settings::defaults().merge(Toml::string("listne = \"1.2.3.4:5\""));
        assert!(Settings::extract(bad)
            .unwrap_err()
            .to_string()
            .contains("listne"));
        let bad = Settings::defaults().merge(Toml::string("[ws]\nhello_timeout = \"soon\""));
        assert!(Settings::extract(bad).is_err());
        let bad = Settings::defaults().merge(Toml::string("listen = \"not an address\""));
        assert!(Settings::extract(bad).is_err());
        let bad = Settings::defaults().merge(Toml::string("public_url = \"ftp://x\""));
        assert!(Settings::extract(bad).is_err());
    }

    #[test]
    fn redis_settings_are_checked() {
        let pg = "[postgres]\nurl = \"postgres://u@127.0.0.1/db\"\n";
        let ok = Settings::extract(Settings::defaults().merge(Toml::string(&format!(
            "{pg}[redis]\nurl = \"redis://127.0.0.1:6379\"\nlease = \"2s\"\nprefix = \"shop-1\""
        ))))
        .unwrap();
        assert_eq!(ok.redis.cluster().lease, Duration::from_secs(2));
        let blank = Settings::extract(
            Settings::defaults()
                .merge(Toml::string("[postgres]\nurl = \"\"\n[redis]\nurl = \" \"")),
        )
        .unwrap();
        assert!(blank.redis.url.is_none() && blank.postgres.url.is_none());
        assert_eq!(ok.redis.cluster().prefix, "shop-1");
        for (toml, complaint) in [
            ("[redis]\nurl = \"redis://127.0.0.1\"", "DATABASE_URL"),
            (
                &*format!("{pg}[redis]\nurl = \"http://127.0.0.1\""),
                "redis://",
            ),
            (&*format!("{pg}[redis]\nlease = \"10ms\""), "lease"),
            (&*format!("{pg}[redis]\nlease = \"1h\""), "lease"),
            (&*format!("{pg}[redis]\nprefix = \"\""), "prefix"),
            (&*format!("{pg}[redis]\nprefix = \"a b:c\""), "prefix"),
            (&*format!("{pg}[redis]\nprefix = \"ñandú🦤\""), "prefix"),
            (
                &*format!("{pg}[redis]\nprefix = \"{}\"", "p".repeat(65)),
                "prefix",
            ),
            (&*format!("{pg}[redis]\npool_size = 0"), "pool_size"),
            (&*format!("{pg}[redis]\nleese = \"2s\""), "leese"),
        ] {
            let err = Settings::extract(Settings::defaults().merge(Toml::string(toml)))
                .unwrap_err()
                .to_string();
            assert!(err.contains(complaint), "{toml:?}: {err}");
        }
    }

    #[test]
    fn media_settings_are_checked() {
        let ok = Settings::extract(Settings::defaults().merge(Toml::string(
            "[media]\nworkers = 2\nlisten_ip = \"0.0.0.0\"\nannounced_ip = \"media.shop.example\"\n\
             port_min = 41000\nport_max = 41001",
        )))
        .unwrap();
        let pool = ok.media.pool_settings().unwrap();
        assert_eq!(pool.workers, 2);
        assert_eq!(pool.ports, 41000..=41001);
        assert_eq!(pool.announced_ip.as_deref(), Some("media.shop.example"));
        let off =
            Settings::extract(Settings::defaults().merge(Toml::string("[media]\nenabled = false")))
                .unwrap();
        assert!(off.media.pool_settings().is_none());
        for (toml, complaint) in [
            ("[media]\nport_min = 0", "port_min"),
            ("[media]\nport_min = 50000\nport_max = 40000", "port_min"),
            ("[media]\nport_max = 70000", "port_max"),
            ("[media]\nworkers = 100000", "workers"),
            ("[media]\nworkers = -1", "workers"),
            ("[media]\nlisten_ip = \"0.0.0.0\"", "announced_ip"),
            ("[media]\nlisten_ip = \"localhost\"", "listen_ip"),
            ("[media]\nannounced_ip = \"\"", "announced_ip"),
            ("[media]\nannounced_ip = \"a b; rm -rf\"", "announced_ip"),
            ("[media]\nannounced_ip = \"médía.example\"", "announced_ip"),
            ("[media]\nenabled = \"yes please\"", "enabled"),
            ("[media]\nwrokers = 1", "wrokers"),
        ] {
            let err = Settings::extract(Settings::defaults().merge(Toml::string(toml)))
                .unwrap_err()
                .to_string();
            assert!(err.contains(complaint), "{toml:?}: {err}");
        }
        let long = format!("[media]\nannounced_ip = \"{}\"", "a".repeat(254));
        assert!(Settings::extract(Settings::defaults().merge(Toml::string(&long))).is_err());
    }

    #[test]
    fn nested_values_override_one_key_only() {
        let s = Settings::extract(Settings::defaults().merge(Toml::string(
            "[ws]\noutbound_queue = 32\n[session]\nidle_timeout = \"2s\"",
        )))
        .unwrap();
        assert_eq!(s.ws.outbound_queue, 32);
        assert_eq!(s.ws.hello_timeout, Duration::from_secs(5));
        assert_eq!(s.session.idle_timeout, Duration::from_secs(2));
    }
}
