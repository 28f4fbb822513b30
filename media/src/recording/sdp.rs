//! The SDP file that tells ffmpeg's RTP demuxer what arrives on which loopback port, and
//! the RTP capabilities the recorder consumes with.

use std::fmt::Write as _;

use mediasoup::prelude::*;
use serde_json::Value;

use crate::ffmpeg::LOOPBACK;

/// One consumed track: where ffmpeg listens for it and what it carries.
pub(super) struct Track {
    /// RTP port ffmpeg binds (RTCP on the next one).
    pub(super) port: u16,
    pub(super) kind: MediaKind,
    /// The consumer's RTP parameters, whose first codec is the media codec.
    pub(super) rtp: RtpParameters,
}

/// What the recorder can receive: the router's codecs without RTX, header extensions or
/// RTCP feedback, none of which ffmpeg's RTP demuxer answers.
pub(super) fn capabilities(router: &Router) -> Result<RtpCapabilities, String> {
    let mut caps = serde_json::to_value(router.rtp_capabilities())
        .map_err(|e| format!("router capabilities: {e}"))?;
    caps["headerExtensions"] = Value::Array(vec![]);
    if let Some(codecs) = caps["codecs"].as_array_mut() {
        codecs.retain(|c| {
            !c["mimeType"]
                .as_str()
                .is_some_and(|m| m.to_ascii_lowercase().ends_with("/rtx"))
        });
        for codec in codecs.iter_mut() {
            codec["rtcpFeedback"] = Value::Array(vec![]);
        }
    }
    serde_json::from_value(caps).map_err(|e| format!("router capabilities: {e}"))
}

/// The SDP of these tracks: one `m=` section per track, receive-only, on loopback.
pub(super) fn describe(tracks: &[Track]) -> Result<String, String> {
    let mut sdp = format!(
        "v=0\r\no=- 0 0 IN IP4 {LOOPBACK}\r\ns=Vitrine recording\r\nc=IN IP4 {LOOPBACK}\r\nt=0 0\r\n"
    );
    for track in tracks {
        let codec = track
            .rtp
            .codecs
            .first()
            .ok_or_else(|| "a consumer has no codec".to_owned())?;
        let (media, channels) = match (track.kind, codec) {
            (MediaKind::Audio, RtpCodecParameters::Audio { channels, .. }) => {
                ("audio", format!("/{channels}"))
            }
            _ => ("video", String::new()),
        };
        let pt = codec.payload_type();
        let mime = serde_json::to_value(codec)
            .ok()
            .and_then(|c| c["mimeType"].as_str().map(str::to_owned))
            .ok_or_else(|| "a consumer's codec has no MIME type".to_owned())?;
        let subtype = mime.split_once('/').map_or(mime.as_str(), |(_, s)| s);
        // String writes cannot fail.
        let _ = write!(
            sdp,
            "m={media} {port} RTP/AVP {pt}\r\na=rtpmap:{pt} {subtype}/{clock}{channels}\r\n",
            port = track.port,
            clock = codec.clock_rate(),
        );
        let fmtp = fmtp(codec.parameters());
        if !fmtp.is_empty() {
            let _ = write!(sdp, "a=fmtp:{pt} {fmtp}\r\n");
        }
        sdp.push_str("a=recvonly\r\n");
    }
    Ok(sdp)
}

/// Codec parameters as an `a=fmtp` value (`key=value;key=value`).
fn fmtp(parameters: &RtpCodecParametersParameters) -> String {
    let Ok(Value::Object(map)) = serde_json::to_value(parameters) else {
        return String::new();
    };
    map.iter()
        .map(|(key, value)| match value {
            Value::String(s) => format!("{key}={s}"),
            other => format!("{key}={other}"),
        })
        .collect::<Vec<_>>()
        .join(";")
}
