//! A Postgres cluster of the tests' own, which they may stop and start without disturbing
//! the shared one the other tests use.

use std::process::{Command, Stdio};

/// Name of the cluster.
pub const CLUSTER: &str = "vitrine_faults";
/// Its port.
pub const PORT: u16 = 5433;

fn version() -> String {
    let mut versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
        .expect("Postgres is installed (/etc/postgresql)")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    versions.sort_by_key(|v| v.parse::<u32>().unwrap_or(0));
    versions.pop().expect("a Postgres version")
}

fn run(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Creates (once) and starts the cluster; returns its server URL.
pub fn ensure() -> String {
    let v = version();
    let listed = Command::new("pg_lsclusters")
        .args(["-h", &v, CLUSTER])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(CLUSTER))
        .unwrap_or(false);
    if !listed {
        let port = PORT.to_string();
        assert!(
            run(
                "pg_createcluster",
                &[&v, CLUSTER, "-p", &port, "--", "--auth=trust"]
            ),
            "could not create the Postgres cluster {CLUSTER}"
        );
    }
    start();
    format!("postgres://postgres@127.0.0.1:{PORT}/postgres")
}

/// Stops the cluster at once, cutting every connection.
pub fn stop() {
    assert!(
        run(
            "pg_ctlcluster",
            &[
                "--skip-systemctl-redirect",
                &version(),
                CLUSTER,
                "stop",
                "-m",
                "fast"
            ]
        ),
        "could not stop {CLUSTER}"
    );
}

/// Starts the cluster (does nothing if it runs).
pub fn start() {
    let v = version();
    let up = Command::new("pg_ctlcluster")
        .args([&v, CLUSTER, "status"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !up {
        assert!(
            run(
                "pg_ctlcluster",
                &["--skip-systemctl-redirect", &v, CLUSTER, "start"]
            ),
            "could not start {CLUSTER}"
        );
    }
}
