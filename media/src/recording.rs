//! Recording a session: its producers are consumed on plain transports that send RTP to
//! an `ffmpeg` child on 127.0.0.1, which copies the packets (no re-encoding) into one
//! Matroska file at the path the caller gives.
//!
//! Matroska rather than WebM because it takes every codec the routers offer (Opus, VP8
//! and H264; WebM has no H264), and because a file cut short by a crash still plays up to
//! where it stops. The file is Matroska whatever the path's extension.
//!
//! A recording starts with [`Recording::start`] (or [`Recording::start_session`]) and
//! ends with [`Recording::stop`], which answers its [`RecordingInfo`]. The consumers are
//! resumed only once ffmpeg listens on every port, and keyframes are asked for during
//! the first seconds so that the file starts with a decodable picture.
//!
//! If ffmpeg exits before it is asked to stop, the recording is failed: it is not
//! restarted (a second part file would need joining, and a crash that repeats would
//! fail the same way). The failure is logged at error level at once, [`Recording::has_failed`]
//! answers true from then on, and [`Recording::stop`] returns
//! [`RecordingError::Failed`] naming the partial file, so the caller can mark the
//! recording failed; nothing is lost silently.

mod process;
mod sdp;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mediasoup::prelude::*;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::ffmpeg::{self, LOOPBACK};
use crate::SessionMedia;
use process::Ended;

/// Most tracks in one recording.
const MAX_TRACKS: usize = 8;
/// How often and how many times keyframes are asked for after the start.
const KEYFRAME_INTERVAL: Duration = Duration::from_secs(1);
const KEYFRAME_REQUESTS: u32 = 5;

/// What a finished recording is.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordingInfo {
    /// The file written.
    pub path: PathBuf,
    /// Its media duration, as ffprobe reads it from the file.
    pub duration: Duration,
    /// Its size.
    pub bytes: u64,
}

/// Why a recording could not start or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// There is nothing to record.
    #[error("nothing to record: the session has no producers")]
    NoProducers,
    /// More tracks than one recording takes.
    #[error("too many producers to record ({0}; at most {MAX_TRACKS})")]
    TooManyProducers(usize),
    /// The path cannot take the recording.
    #[error("cannot record to {path}: {reason}")]
    Path {
        /// The path asked for.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The router refused a transport or a consumer.
    #[error("recording: {0}")]
    Media(String),
    /// ffmpeg or ffprobe did not start or did not work.
    #[error("recording: {0}")]
    Ffmpeg(String),
    /// ffmpeg exited before it was asked to stop; the file, if any, is partial.
    #[error("recording to {path} failed: ffmpeg exited early: {message}")]
    Failed {
        /// The partial file (it may not exist, or not be playable).
        path: PathBuf,
        /// ffmpeg's exit status and last stderr lines.
        message: String,
    },
}

/// A running recording. Dropping it without [`stop`](Self::stop) still asks ffmpeg to
/// finish the file, in the background.
pub struct Recording {
    path: PathBuf,
    started: Instant,
    pid: Option<u32>,
    stop: Option<oneshot::Sender<()>>,
    ffmpeg: JoinHandle<Ended>,
    keyframes: JoinHandle<()>,
    _consumers: Vec<Consumer>,
    _transports: Vec<PlainTransport>,
}

impl Recording {
    /// Records the producers open now in `media`'s session to `path`.
    pub async fn start_session(media: &SessionMedia, path: &Path) -> Result<Self, RecordingError> {
        Self::start(media.router(), &media.live_producers(), path).await
    }

    /// Records `producers` (of `router`) to a new file at `path`, whose directory must
    /// exist and which must not exist yet.
    pub async fn start(
        router: &Router,
        producers: &[Producer],
        path: &Path,
    ) -> Result<Self, RecordingError> {
        if producers.is_empty() {
            return Err(RecordingError::NoProducers);
        }
        if producers.len() > MAX_TRACKS {
            return Err(RecordingError::TooManyProducers(producers.len()));
        }
        check_path(path)?;

        // A paused consumer per producer, on a transport sending to ports ffmpeg will bind.
        let caps = sdp::capabilities(router).map_err(RecordingError::Media)?;
        let (mut transports, mut consumers, mut tracks) = (vec![], vec![], vec![]);
        for producer in producers {
            let port = free_port(&tracks).map_err(RecordingError::Media)?;
            let (transport, consumer) = consume(router, producer, &caps, port).await?;
            tracks.push(sdp::Track {
                port,
                kind: consumer.kind(),
                rtp: consumer.rtp_parameters().clone(),
            });
            transports.push(transport);
            consumers.push(consumer);
        }

        let description = sdp::describe(&tracks).map_err(RecordingError::Media)?;
        let sdp_path = std::env::temp_dir().join(format!(
            "vitrine-recording-{:016x}.sdp",
            rand::random::<u64>()
        ));
        std::fs::write(&sdp_path, description)
            .map_err(|e| RecordingError::Ffmpeg(format!("could not write the SDP file: {e}")))?;
        let started = process::spawn_listening(&sdp_path, path, &tracks).await;
        let (child, stderr) = match started {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_file(&sdp_path);
                return Err(e);
            }
        };

        for consumer in &consumers {
            if let Err(e) = consumer.resume().await {
                // Dropping the child kills it; its SDP file goes too.
                let _ = std::fs::remove_file(&sdp_path);
                return Err(RecordingError::Media(format!("resume refused: {e}")));
            }
        }
        let pid = child.id();
        let (stop, stop_rx) = oneshot::channel();
        let label = path.display().to_string();
        tracing::info!(path = %label, tracks = tracks.len(), ffmpeg_pid = ?pid, "recording started");
        Ok(Self {
            path: path.to_owned(),
            started: Instant::now(),
            pid,
            stop: Some(stop),
            ffmpeg: tokio::spawn(process::supervise(child, stderr, stop_rx, sdp_path, label)),
            keyframes: tokio::spawn(ask_keyframes(consumers.clone())),
            _consumers: consumers,
            _transports: transports,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ffmpeg child's process id (to watch it, or in tests to kill it).
    pub fn ffmpeg_pid(&self) -> Option<u32> {
        self.pid
    }

    /// Whether ffmpeg exited before being asked to stop: the recording is failed, and
    /// [`stop`](Self::stop) will say so.
    pub fn has_failed(&self) -> bool {
        self.stop.is_some() && self.ffmpeg.is_finished()
    }

    /// Asks ffmpeg to finish the file and answers what it wrote. The wait is bounded
    /// (ffmpeg's grace time, then ffprobe's timeout).
    pub async fn stop(mut self) -> Result<RecordingInfo, RecordingError> {
        self.keyframes.abort();
        if let Some(stop) = self.stop.take() {
            // A supervisor that already returned (ffmpeg exited) no longer listens.
            let _ = stop.send(());
        }
        let ended = (&mut self.ffmpeg)
            .await
            .map_err(|e| RecordingError::Ffmpeg(format!("the ffmpeg supervisor failed: {e}")))?;
        let measured = self.started.elapsed();
        let stderr = match ended {
            Ended::Early { message } => {
                return Err(RecordingError::Failed {
                    path: self.path.clone(),
                    message,
                })
            }
            Ended::Asked { killed, stderr } => {
                if killed {
                    tracing::warn!(path = %self.path.display(),
                        "ffmpeg did not finish within its grace time and was killed");
                }
                stderr
            }
        };
        let bytes = std::fs::metadata(&self.path)
            .map_err(|e| RecordingError::Ffmpeg(format!("ffmpeg wrote no file ({e}): {stderr}")))?
            .len();
        let duration = process::probe_duration(&self.path)
            .await
            .map_err(|e| RecordingError::Ffmpeg(format!("{e}; ffmpeg said: {stderr}")))?;
        tracing::info!(path = %self.path.display(), bytes, duration_s = duration.as_secs_f64(),
            measured_s = measured.as_secs_f64(), "recording finished");
        Ok(RecordingInfo {
            path: self.path.clone(),
            duration,
            bytes,
        })
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.keyframes.abort();
    }
}

fn check_path(path: &Path) -> Result<(), RecordingError> {
    let fail = |reason: &str| RecordingError::Path {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if path.file_name().is_none() {
        return Err(fail("it names no file"));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(fail("its directory does not exist"));
    }
    if path.exists() {
        return Err(fail("a file is already there"));
    }
    Ok(())
}

/// An even port, with its successor, free now and not given to another track.
fn free_port(tracks: &[sdp::Track]) -> Result<u16, String> {
    for _ in 0..16 {
        let port = ffmpeg::free_port_pair()?;
        if tracks.iter().all(|t| t.port.abs_diff(port) > 1) {
            return Ok(port);
        }
    }
    Err("no free pair of loopback UDP ports".to_owned())
}

/// A transport sending RTP to `port` and RTCP to the next one (ffmpeg's RTP demuxer has
/// no RTCP mux), and a paused consumer of `producer` on it.
async fn consume(
    router: &Router,
    producer: &Producer,
    caps: &RtpCapabilities,
    port: u16,
) -> Result<(PlainTransport, Consumer), RecordingError> {
    let media =
        |what: &str, e: &dyn std::fmt::Display| RecordingError::Media(format!("{what}: {e}"));
    let transport = ffmpeg::loopback_transport(router, false, false)
        .await
        .map_err(|e| media("transport refused", &e))?;
    transport
        .connect(PlainTransportRemoteParameters {
            ip: Some(LOOPBACK),
            port: Some(port),
            rtcp_port: Some(port + 1),
            srtp_parameters: None,
        })
        .await
        .map_err(|e| media("connect refused", &e))?;
    let mut options = ConsumerOptions::new(producer.id(), caps.clone());
    options.paused = true;
    let consumer = transport
        .consume(options)
        .await
        .map_err(|e| media("consume refused", &e))?;
    Ok((transport, consumer))
}

async fn ask_keyframes(consumers: Vec<Consumer>) {
    for _ in 0..KEYFRAME_REQUESTS {
        for consumer in consumers.iter().filter(|c| c.kind() == MediaKind::Video) {
            if let Err(e) = consumer.request_key_frame().await {
                tracing::debug!(error = %e, "keyframe request failed");
            }
        }
        tokio::time::sleep(KEYFRAME_INTERVAL).await;
    }
}
