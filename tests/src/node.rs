//! Vitrine nodes for tests: in-process (fast, with access to the state) or as a real
//! `vitrine` process (to kill it).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::web;
use figment::providers::{Format, Toml};
use figment::Figment;
use tempfile::TempDir;
use vitrine_gateway::config::Settings;
use vitrine_gateway::startup::Application;
use vitrine_gateway::state::AppState;

use crate::http::Api;

/// The admin token every test node accepts.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";

/// A node running inside the test process. Tests using it run under `#[actix_web::test]`.
pub struct TestNode {
    /// Its API.
    pub api: Api,
    /// Its shared state.
    pub state: web::Data<AppState>,
    /// Its data directory.
    pub data_dir: PathBuf,
    handle: ServerHandle,
    _dir: Option<TempDir>,
}

impl TestNode {
    /// A fresh node on the Postgres store, in a schema of its own at `url`'s database.
    pub async fn start_postgres(
        schema: &vitrine_persistence::postgres::testing::TestSchema,
        toml: &str,
    ) -> Self {
        Self::start_with(&format!(
            "[postgres]\nurl = {:?}\nschema = {:?}\npool_size = 6\nthreads = 1\n{toml}",
            schema.url, schema.name
        ))
        .await
    }

    /// A fresh node with default settings and its own data directory.
    pub async fn start() -> Self {
        Self::start_with("").await
    }

    /// A fresh node with extra settings in TOML.
    pub async fn start_with(toml: &str) -> Self {
        let dir = tempfile::tempdir().expect("create a data directory");
        let path = dir.path().to_owned();
        let mut node = Self::start_in(&path, toml).await;
        node._dir = Some(dir);
        node
    }

    /// A node on an existing data directory.
    pub async fn start_in(data_dir: &Path, toml: &str) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            vitrine_gateway::telemetry::init();
        }
        let figment: Figment = Settings::defaults()
            .merge(Toml::string(&format!(
                "listen = \"127.0.0.1:0\"\nhttp_workers = 2\nsession_threads = 2\n\
                 admin_token = \"{ADMIN_TOKEN}\"\ndata_dir = {:?}\n",
                data_dir.display().to_string()
            )))
            .merge(Toml::string(toml));
        let settings = Settings::extract(figment).expect("test settings are valid");
        let app = Application::build(settings).await.expect("node starts");
        let api = Api::new(app.public_base().to_owned());
        let state = app.state().clone();
        let handle = app.handle();
        actix_web::rt::spawn(app.run_until_stopped());
        Self {
            api,
            state,
            data_dir: data_dir.to_owned(),
            handle,
            _dir: None,
        }
    }

    /// The admin token.
    pub fn admin(&self) -> &'static str {
        ADMIN_TOKEN
    }

    /// Stops accepting and closes connections.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

/// Where the `vitrine` binary of this build is.
pub fn vitrine_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("VITRINE_BIN") {
        return PathBuf::from(path);
    }
    // Tests run from target/<profile>/deps; the binary sits one level up.
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("vitrine"))
        .expect("target directory");
    assert!(
        bin.is_file(),
        "{} is missing: build it first with `cargo build --bin vitrine`",
        bin.display()
    );
    bin
}

/// A `vitrine` process.
pub struct ServerProcess {
    /// Its API.
    pub api: Api,
    child: Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The `vitrine` command on `port` and `data_dir`, with only the environment tests choose.
fn command(port: u16, data_dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(vitrine_bin());
    // The server reads every VITRINE_* and OTEL_* variable: pass on only ours.
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("VITRINE_") || key_text.starts_with("OTEL_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("VITRINE_LISTEN", format!("127.0.0.1:{port}"))
        .env("VITRINE_DATA_DIR", data_dir)
        .env("VITRINE_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("VITRINE_HTTP_WORKERS", "2")
        .env("VITRINE_SESSION_THREADS", "2")
        .env(
            "RUST_LOG",
            std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `vitrine` with extra environment until it exits on its own (a start-up
/// failure), for at most `timeout`; its exit status and stderr, or `None` if it still ran.
pub async fn run_to_exit(
    data_dir: &Path,
    env: &[(&str, &str)],
    timeout: Duration,
) -> Option<(std::process::ExitStatus, String)> {
    let mut child = command(free_port(), data_dir, env)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vitrine");
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            return Some((status, stderr));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

impl ServerProcess {
    /// Starts `vitrine` on `data_dir` with extra environment, and waits until it is ready.
    pub async fn start(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_on(free_port(), data_dir, env).await
    }

    /// Like [`start`](Self::start) on a given port (to restart a node where it was).
    pub async fn start_on(port: u16, data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_logging(port, data_dir, env, None).await
    }

    /// Like [`start_on`](Self::start_on), writing the server's log (stderr) to `log`.
    pub async fn start_logging(
        port: u16,
        data_dir: &Path,
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> Self {
        let mut cmd = command(port, data_dir, env);
        cmd.stderr(match log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("create the log file")),
            None if std::env::var_os("TEST_LOG").is_some() => Stdio::inherit(),
            None => Stdio::null(),
        });
        let child = cmd.spawn().expect("start vitrine");
        let api = Api::new(format!("http://127.0.0.1:{port}"));
        let process = Self { api, child };
        process.wait_ready().await;
        process
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = reqwest::Client::new();
        while Instant::now() < deadline {
            let url = format!("{}/readyz", self.api.base());
            if let Ok(r) = client.get(url).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("vitrine did not become ready");
    }

    /// Kills the process without warning (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The admin token.
    pub fn admin(&self) -> &'static str {
        ADMIN_TOKEN
    }

    /// Sends a signal (`STOP`, `CONT`, `TERM`, …) to the process.
    pub fn signal(&self, name: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status();
    }

    /// Asks the process to stop (SIGTERM).
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    /// Waits up to `timeout` for the process to exit; its exit status if it did.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.api
            .base()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the base URL")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
