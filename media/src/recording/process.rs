//! The recorder's ffmpeg child: started on the SDP file, watched until it exits or is
//! asked to stop, and ffprobe reading the finished file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use super::{sdp, RecordingError};
use crate::ffmpeg::{self, StderrTail};

/// How long ffmpeg may take to open its ports.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for ffprobe on a finished file.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// How the ffmpeg child ended.
pub(super) enum Ended {
    /// Asked to stop; `killed` when it did not finish within the grace time.
    Asked { killed: bool, stderr: String },
    /// Exited by itself, before being asked.
    Early { message: String },
}

/// Starts ffmpeg on the SDP file and waits until it listens on every track's port.
// Limitation: ffmpeg's SDP demuxer binds its ports on every interface, not 127.0.0.1
// only, and takes packets from any sender; a firewall must keep the media port range
// closed to others. A demuxer option for the local address would lift it.
// Limitation: ffmpeg waits for packets without a timeout, so a recording whose worker
// died keeps running (with nothing new) until stopped; the session actor stops it when
// the router closes.
pub(super) async fn spawn_listening(
    sdp_path: &Path,
    path: &Path,
    tracks: &[sdp::Track],
) -> Result<(Child, StderrTail), RecordingError> {
    let args: Vec<String> = [
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "warning",
        "-n",
        "-protocol_whitelist",
        "file,udp,rtp",
        // A deep socket buffer: ffmpeg reads nothing while it probes the streams.
        "-buffer_size",
        "4194304",
        "-analyzeduration",
        "5000000",
        "-probesize",
        "5000000",
        "-i",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([sdp_path.display().to_string()])
    .chain(["-map", "0", "-c", "copy", "-f", "matroska"].map(String::from))
    .chain([path.to_string_lossy().into_owned()])
    .collect();
    let (mut child, stderr) = ffmpeg::spawn("ffmpeg", &args).map_err(RecordingError::Ffmpeg)?;
    let deadline = Instant::now() + LISTEN_TIMEOUT;
    while !tracks.iter().all(|t| ffmpeg::port_taken(t.port)) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(RecordingError::Ffmpeg(format!(
                "ffmpeg exited at start ({status}): {}",
                stderr.text()
            )));
        }
        if Instant::now() > deadline {
            return Err(RecordingError::Ffmpeg(format!(
                "ffmpeg did not listen within {LISTEN_TIMEOUT:?}: {}",
                stderr.text()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((child, stderr))
}

/// Owns the ffmpeg child until it exits by itself or is asked to stop (or the recording
/// is dropped), then removes the SDP file.
pub(super) async fn supervise(
    mut child: Child,
    stderr: StderrTail,
    stop: oneshot::Receiver<()>,
    sdp_path: PathBuf,
    path: String,
) -> Ended {
    let ended = tokio::select! {
        status = child.wait() => {
            let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
            let message = format!("{status}: {}", stderr.text());
            tracing::error!(path = %path, %message, "recording ffmpeg exited early; recording failed");
            Ended::Early { message }
        }
        _ = stop => {
            let (_, killed) = ffmpeg::quit(&mut child).await;
            Ended::Asked { killed, stderr: stderr.text() }
        }
    };
    let _ = std::fs::remove_file(&sdp_path);
    ended
}

/// The media duration of a finished file, read by ffprobe.
pub(super) async fn probe_duration(path: &Path) -> Result<Duration, RecordingError> {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PROBE_TIMEOUT, output)
        .await
        .map_err(|_| RecordingError::Ffmpeg(format!("ffprobe took over {PROBE_TIMEOUT:?}")))?
        .map_err(|e| RecordingError::Ffmpeg(ffmpeg::not_started("ffprobe", &e)))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            RecordingError::Ffmpeg(format!(
                "ffprobe read no duration from {}: {}",
                path.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        })
}
