//! A synthetic publisher: an `ffmpeg` child that sends a test pattern (VP8) and a tone
//! (Opus) as RTP into a router, as a shopper's camera and microphone would. For tests and
//! benchmarks of recording and forwarding, without a browser.
//!
//! Each track has its own plain transport in `comedia` mode: ffmpeg's RTP muxer sends
//! from ephemeral ports it picks itself, and the transport takes the address of the
//! first packet it gets as the remote end. So nothing has to choose or reserve a port on
//! ffmpeg's side, and nothing but 127.0.0.1 is used. RTCP is not muxed: ffmpeg sends its
//! first sender report, before any RTP, from a second socket, and a muxed transport
//! would take that socket for the remote end and drop all RTP from the other one. The producers are created before
//! ffmpeg starts, with the SSRCs and payload types ffmpeg is told to send.

use std::num::{NonZeroU32, NonZeroU8};
use std::time::Duration;

use mediasoup::prelude::*;
use tokio::process::Child;

use crate::ffmpeg::{self, StderrTail, LOOPBACK};

/// Payload type of the synthetic Opus track.
const AUDIO_PAYLOAD_TYPE: u8 = 100;
/// Payload type of the synthetic VP8 track.
const VIDEO_PAYLOAD_TYPE: u8 = 101;
/// SSRC of the synthetic Opus track.
const AUDIO_SSRC: u32 = 0x5157_0001;
/// SSRC of the synthetic VP8 track.
const VIDEO_SSRC: u32 = 0x5157_0002;
/// Largest RTP packet ffmpeg sends (under a loopback or Internet MTU).
const PACKET_SIZE: u32 = 1200;

/// What the synthetic publisher sends.
#[derive(Clone, Debug)]
pub struct SyntheticOptions {
    /// How long ffmpeg sends before it exits by itself (its `-t`).
    pub duration: Duration,
    /// Target VP8 bitrate, in kbit/s.
    pub video_kbps: u32,
    /// Frame size, width by height.
    pub size: (u32, u32),
    /// Frames per second; a keyframe is sent every second.
    pub fps: u32,
}

impl Default for SyntheticOptions {
    fn default() -> Self {
        Self {
            duration: Duration::from_secs(30),
            video_kbps: 500,
            size: (640, 360),
            fps: 30,
        }
    }
}

/// Why the synthetic publisher could not start.
#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    /// The router refused a transport or a producer.
    #[error("synthetic publisher: {what} refused: {message}")]
    Refused {
        /// What was asked of the router.
        what: &'static str,
        /// The router's answer.
        message: String,
    },
    /// `ffmpeg` did not start, or exited at once.
    #[error("synthetic publisher: {0}")]
    Ffmpeg(String),
}

fn refused(what: &'static str) -> impl FnOnce(String) -> SyntheticError {
    move |message| SyntheticError::Refused { what, message }
}

/// A running synthetic publisher. Dropping it kills ffmpeg and closes both producers.
pub struct SyntheticPublisher {
    child: Child,
    stderr: StderrTail,
    audio: Producer,
    video: Producer,
    _transports: [PlainTransport; 2],
}

impl SyntheticPublisher {
    /// Opens two transports and producers on `router` and starts ffmpeg sending to them.
    pub async fn start(
        router: &Router,
        options: &SyntheticOptions,
    ) -> Result<Self, SyntheticError> {
        let audio_transport = ffmpeg::loopback_transport(router, true, false)
            .await
            .map_err(|e| refused("audio transport")(e.to_string()))?;
        let video_transport = ffmpeg::loopback_transport(router, true, false)
            .await
            .map_err(|e| refused("video transport")(e.to_string()))?;
        let audio = audio_transport
            .produce(ProducerOptions::new(MediaKind::Audio, audio_parameters()))
            .await
            .map_err(|e| refused("audio producer")(e.to_string()))?;
        let video = video_transport
            .produce(ProducerOptions::new(MediaKind::Video, video_parameters()))
            .await
            .map_err(|e| refused("video producer")(e.to_string()))?;

        let args = ffmpeg_args(options, ports(&audio_transport)?, ports(&video_transport)?);
        let (mut child, stderr) = ffmpeg::spawn("ffmpeg", &args).map_err(SyntheticError::Ffmpeg)?;
        // A bad option or a missing encoder makes ffmpeg exit within moments.
        tokio::time::sleep(Duration::from_millis(300)).await;
        if let Ok(Some(status)) = child.try_wait() {
            return Err(SyntheticError::Ffmpeg(format!(
                "ffmpeg exited at once ({status}): {}",
                stderr.text()
            )));
        }
        tracing::info!(audio_producer = %audio.id(), video_producer = %video.id(),
            seconds = options.duration.as_secs_f64(), "synthetic publisher started");
        Ok(Self {
            child,
            stderr,
            audio,
            video,
            _transports: [audio_transport, video_transport],
        })
    }

    /// The Opus producer.
    pub fn audio(&self) -> &Producer {
        &self.audio
    }

    /// The VP8 producer.
    pub fn video(&self) -> &Producer {
        &self.video
    }

    /// Whether ffmpeg still runs; once it exits, its last stderr lines say why.
    pub fn is_running(&mut self) -> Result<bool, String> {
        match self.child.try_wait() {
            Ok(None) => Ok(true),
            Ok(Some(status)) if status.success() => Ok(false),
            Ok(Some(status)) => Err(format!("ffmpeg exited ({status}): {}", self.stderr.text())),
            Err(e) => Err(format!("ffmpeg could not be waited for: {e}")),
        }
    }
}

/// A transport's RTP and RTCP ports.
fn ports(transport: &PlainTransport) -> Result<(u16, u16), SyntheticError> {
    let rtcp = transport
        .rtcp_tuple()
        .ok_or_else(|| refused("transport")("it has no RTCP port".to_owned()))?;
    Ok((transport.tuple().local_port(), rtcp.local_port()))
}

fn audio_parameters() -> RtpParameters {
    RtpParameters {
        codecs: vec![RtpCodecParameters::Audio {
            mime_type: MimeTypeAudio::Opus,
            payload_type: AUDIO_PAYLOAD_TYPE,
            clock_rate: NonZeroU32::new(48_000).expect("non-zero constant"),
            channels: NonZeroU8::new(2).expect("non-zero constant"),
            parameters: RtpCodecParametersParameters::default(),
            rtcp_feedback: vec![],
        }],
        encodings: vec![RtpEncodingParameters {
            ssrc: Some(AUDIO_SSRC),
            ..RtpEncodingParameters::default()
        }],
        rtcp: rtcp(),
        ..RtpParameters::default()
    }
}

fn video_parameters() -> RtpParameters {
    RtpParameters {
        codecs: vec![RtpCodecParameters::Video {
            mime_type: MimeTypeVideo::Vp8,
            payload_type: VIDEO_PAYLOAD_TYPE,
            clock_rate: NonZeroU32::new(90_000).expect("non-zero constant"),
            parameters: RtpCodecParametersParameters::default(),
            rtcp_feedback: vec![],
        }],
        encodings: vec![RtpEncodingParameters {
            ssrc: Some(VIDEO_SSRC),
            ..RtpEncodingParameters::default()
        }],
        rtcp: rtcp(),
        ..RtpParameters::default()
    }
}

fn rtcp() -> RtcpParameters {
    RtcpParameters {
        cname: Some("vitrine-synthetic".to_owned()),
        reduced_size: true,
    }
}

/// ffmpeg's arguments: two lavfi sources at real-time pace, encoded and sent through
/// one `tee` output, a `select`ed RTP stream per transport, each with its RTP and RTCP
/// ports.
#[rustfmt::skip]
fn ffmpeg_args(options: &SyntheticOptions, audio: (u16, u16), video: (u16, u16)) -> Vec<String> {
    let (width, height) = options.size;
    let fps = options.fps.max(1);
    let target = |(port, rtcp): (u16, u16), select: &str, ssrc: u32, pt: u8| {
        format!(
            "[select={select}:f=rtp:ssrc={ssrc}:payload_type={pt}]\
             rtp://{LOOPBACK}:{port}?rtcpport={rtcp}&pkt_size={PACKET_SIZE}"
        )
    };
    let tee = format!(
        "{}|{}",
        target(video, "v", VIDEO_SSRC, VIDEO_PAYLOAD_TYPE),
        target(audio, "a", AUDIO_SSRC, AUDIO_PAYLOAD_TYPE)
    );
    [
        "-hide_banner", "-nostats", "-loglevel", "warning",
        "-re", "-f", "lavfi", "-i", &format!("testsrc2=size={width}x{height}:rate={fps}"),
        "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", &format!("{:.3}", options.duration.as_secs_f64()),
        "-map", "0:v:0", "-c:v", "libvpx", "-b:v", &format!("{}k", options.video_kbps),
        "-deadline", "realtime", "-cpu-used", "8", "-g", &fps.to_string(),
        "-auto-alt-ref", "0", "-error-resilient", "1",
        "-map", "1:a:0", "-c:a", "libopus", "-b:a", "48k", "-ac", "2", "-ar", "48000",
        "-f", "tee", &tee,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
