//! What the synthetic publisher and the recorder share about running `ffmpeg`: starting
//! it with its stderr kept, stopping it cleanly, and the loopback transports they use.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mediasoup::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// The only address media to or from an `ffmpeg` child travels on.
pub(crate) const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// How long `ffmpeg` gets to finish its file after being asked to quit.
pub(crate) const QUIT_GRACE: Duration = Duration::from_secs(5);
/// Lines of `ffmpeg`'s stderr kept for error messages.
const STDERR_LINES: usize = 20;

/// The last lines an `ffmpeg` child wrote to stderr, shared with the task reading them.
#[derive(Clone, Default)]
pub(crate) struct StderrTail(Arc<Mutex<Vec<String>>>);

impl StderrTail {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == STDERR_LINES {
            lines.remove(0);
        }
        lines.push(line);
    }

    /// The kept lines, joined by ` | `, or a note that there were none.
    pub(crate) fn text(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.is_empty() {
            "ffmpeg wrote nothing to stderr".to_owned()
        } else {
            lines.join(" | ")
        }
    }
}

/// Starts `program` (ffmpeg or ffprobe) with these arguments, stdin piped (for `q`),
/// stdout discarded and stderr read into the returned tail. The child is killed if
/// dropped.
pub(crate) fn spawn(program: &str, args: &[String]) -> Result<(Child, StderrTail), String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| not_started(program, &e))?;
    let tail = StderrTail::default();
    if let Some(stderr) = child.stderr.take() {
        let tail = tail.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tail.push(line);
            }
        });
    }
    Ok((child, tail))
}

/// The message for a program that did not start, with what to do when it is missing.
pub(crate) fn not_started(program: &str, error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::NotFound {
        format!("{program} is not installed (on Debian: apt-get install -y ffmpeg)")
    } else {
        format!("could not start {program}: {error}")
    }
}

/// Asks `ffmpeg` to quit the way a terminal would (SIGINT, through `kill`, as this crate
/// has no unsafe code; `q` on its stdin if that fails), so that it finishes its file;
/// waits up to [`QUIT_GRACE`], then kills it. Answers its exit status and whether it had
/// to be killed.
pub(crate) async fn quit(child: &mut Child) -> (Option<ExitStatus>, bool) {
    let interrupted = match child.id() {
        Some(pid) => Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .await
            .is_ok_and(|s| s.success()),
        None => false,
    };
    if !interrupted {
        if let Some(stdin) = child.stdin.as_mut() {
            // A child that already exited has closed its stdin: its status says the rest.
            let _ = stdin.write_all(b"q").await;
            let _ = stdin.flush().await;
        }
    }
    match tokio::time::timeout(QUIT_GRACE, child.wait()).await {
        Ok(status) => (status.ok(), false),
        Err(_) => {
            let _ = child.kill().await;
            (child.wait().await.ok(), true)
        }
    }
}

/// A plain transport on the loopback address, RTP and RTCP on one port unless
/// `rtcp_mux` is false.
pub(crate) async fn loopback_transport(
    router: &Router,
    comedia: bool,
    rtcp_mux: bool,
) -> Result<PlainTransport, mediasoup::worker::RequestError> {
    let mut options = PlainTransportOptions::new(crate::udp_listen(LOOPBACK));
    options.comedia = comedia;
    options.rtcp_mux = rtcp_mux;
    router.create_plain_transport(options).await
}

/// An even loopback port whose successor is free too (RTP and RTCP for ffmpeg's RTP
/// demuxer), found by binding both and letting them go.
// Limitation: another process may take the ports between this check and ffmpeg binding
// them; the recorder then sees ffmpeg exit and reports it. Passing bound sockets to ffmpeg
// would lift it, which ffmpeg's rtp protocol does not take.
pub(crate) fn free_port_pair() -> Result<u16, String> {
    for _ in 0..64 {
        let probe = UdpSocket::bind((LOOPBACK, 0)).map_err(|e| format!("no free port: {e}"))?;
        let port = probe.local_addr().map_err(|e| e.to_string())?.port() & !1;
        drop(probe);
        if port < 1024 || port == u16::MAX - 1 {
            continue;
        }
        if let (Ok(_a), Ok(_b)) = (
            UdpSocket::bind((LOOPBACK, port)),
            UdpSocket::bind((LOOPBACK, port + 1)),
        ) {
            return Ok(port);
        }
    }
    Err("no free pair of loopback UDP ports".to_owned())
}

/// Whether someone holds this loopback UDP port now (ffmpeg, once it listens).
pub(crate) fn port_taken(port: u16) -> bool {
    matches!(UdpSocket::bind((LOOPBACK, port)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse)
}
