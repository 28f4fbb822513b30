//! Checks of everything a client sends for media, before any of it reaches a worker. A
//! worker runs inside this process: a parameter it chokes on would take the node down.

use mediasoup::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::MediaError;

/// Longest RTP `mid` or `rid` accepted (browsers use one to three characters).
const MAX_TAG_CHARS: usize = 16;
/// Most codecs in one producer's RTP parameters.
const MAX_CODECS: usize = 8;
/// Most encodings (simulcast layers) in one producer.
const MAX_ENCODINGS: usize = 4;
/// Most header extensions in RTP parameters.
const MAX_HEADER_EXTENSIONS: usize = 16;
/// Most codecs and header extensions in a client's RTP capabilities.
const MAX_CAPABILITY_ENTRIES: usize = 64;
/// Most DTLS fingerprints in one transport's parameters.
const MAX_FINGERPRINTS: usize = 4;
/// Longest CNAME accepted.
const MAX_CNAME_CHARS: usize = 256;

/// Reads a JSON value as `T`, naming `field` in the error.
fn parse<T: DeserializeOwned>(field: &str, value: &Value) -> Result<T, MediaError> {
    serde_json::from_value(value.clone())
        .map_err(|e| MediaError::invalid(format!("{field} is malformed: {e}")))
}

/// A transport's DTLS parameters, with at least one fingerprint.
pub fn dtls_parameters(value: &Value) -> Result<DtlsParameters, MediaError> {
    let params: DtlsParameters = parse("dtls_parameters", value)?;
    if params.fingerprints.is_empty() {
        return Err(MediaError::invalid("dtls_parameters has no fingerprint"));
    }
    if params.fingerprints.len() > MAX_FINGERPRINTS {
        return Err(MediaError::invalid(
            "dtls_parameters has too many fingerprints",
        ));
    }
    Ok(params)
}

fn tag_ok(tag: &Option<String>) -> bool {
    tag.as_ref().is_none_or(|t| {
        !t.is_empty()
            && t.chars().count() <= MAX_TAG_CHARS
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// A producer's RTP parameters, for media of `kind`.
pub fn rtp_parameters(kind: MediaKind, value: &Value) -> Result<RtpParameters, MediaError> {
    // mediasoup's own clients default `rtcp.reducedSize` to true; so do we.
    let params: RtpParameters = match value.get("rtcp").and_then(Value::as_object) {
        Some(rtcp) if !rtcp.contains_key("reducedSize") => {
            let mut value = value.clone();
            value["rtcp"]["reducedSize"] = Value::Bool(true);
            parse("rtp_parameters", &value)?
        }
        _ => parse("rtp_parameters", value)?,
    };
    if params.codecs.is_empty() || params.codecs.len() > MAX_CODECS {
        return Err(MediaError::invalid(format!(
            "rtp_parameters needs 1 to {MAX_CODECS} codecs"
        )));
    }
    if params.encodings.is_empty() || params.encodings.len() > MAX_ENCODINGS {
        return Err(MediaError::invalid(format!(
            "rtp_parameters needs 1 to {MAX_ENCODINGS} encodings"
        )));
    }
    if params.header_extensions.len() > MAX_HEADER_EXTENSIONS {
        return Err(MediaError::invalid(
            "rtp_parameters has too many header extensions",
        ));
    }
    if !tag_ok(&params.mid) || params.encodings.iter().any(|e| !tag_ok(&e.rid)) {
        return Err(MediaError::invalid(
            "rtp_parameters has a malformed mid or rid",
        ));
    }
    if params
        .rtcp
        .cname
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CNAME_CHARS)
    {
        return Err(MediaError::invalid("rtp_parameters has too long a cname"));
    }
    let wrong_kind = params.codecs.iter().any(|codec| {
        !matches!(
            (kind, codec),
            (MediaKind::Audio, RtpCodecParameters::Audio { .. })
                | (MediaKind::Video, RtpCodecParameters::Video { .. })
        )
    });
    if wrong_kind {
        return Err(MediaError::invalid(
            "rtp_parameters has a codec of another kind than the producer",
        ));
    }
    Ok(params)
}

/// A receiving client's RTP capabilities.
pub fn rtp_capabilities(value: &Value) -> Result<RtpCapabilities, MediaError> {
    let caps: RtpCapabilities = parse("rtp_capabilities", value)?;
    if caps.codecs.is_empty() {
        return Err(MediaError::invalid("rtp_capabilities has no codec"));
    }
    if caps.codecs.len() > MAX_CAPABILITY_ENTRIES
        || caps.header_extensions.len() > MAX_CAPABILITY_ENTRIES
    {
        return Err(MediaError::invalid("rtp_capabilities is too large"));
    }
    Ok(caps)
}

/// `audio` or `video`.
pub fn media_kind(value: &str) -> Result<MediaKind, MediaError> {
    match value {
        "audio" => Ok(MediaKind::Audio),
        "video" => Ok(MediaKind::Video),
        _ => Err(MediaError::invalid("kind must be audio or video")),
    }
}

/// An id of ours; anything that does not parse names nothing here.
pub fn id<T: std::str::FromStr>(what: &str, value: &str) -> Result<T, MediaError> {
    if value.len() > 64 {
        return Err(MediaError::not_found(what));
    }
    value.parse().map_err(|_| MediaError::not_found(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fingerprint() -> Value {
        json!({"algorithm": "sha-256", "value":
            "82:5A:68:3D:36:C3:0A:DE:AF:E7:32:43:D2:88:83:57:AC:2D:65:E5:80:C4:B6:FB:AF:1A:A0:21:9F:6D:0C:AD"})
    }

    fn vp8(encodings: Value) -> Value {
        json!({"mid": "0", "codecs": [{"mimeType": "video/VP8", "payloadType": 96,
            "clockRate": 90000, "parameters": {}, "rtcpFeedback": []}],
            "headerExtensions": [], "encodings": encodings, "rtcp": {"cname": "abc"}})
    }

    #[test]
    fn good_dtls_parameters_pass_and_empty_fingerprints_do_not() {
        assert!(
            dtls_parameters(&json!({"role": "client", "fingerprints": [fingerprint()]})).is_ok()
        );
        for bad in [
            json!({"role": "client", "fingerprints": []}),
            json!({"role": "client", "fingerprints": [{"algorithm": "sha-256", "value": ""}]}),
            json!({"role": "client", "fingerprints": [{"algorithm": "md5", "value": "00"}]}),
            json!({"role": "boss", "fingerprints": [fingerprint()]}),
            json!({"role": "client", "fingerprints": [fingerprint(), fingerprint(), fingerprint(),
                fingerprint(), fingerprint()]}),
            json!("x".repeat(60_000)),
            json!(null),
        ] {
            assert!(
                matches!(dtls_parameters(&bad), Err(MediaError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn rtp_parameters_are_bounded_and_must_match_the_kind() {
        let simulcast = json!([{"rid": "r0", "ssrc": null}, {"rid": "r1"}, {"rid": "r2"}]);
        assert!(rtp_parameters(MediaKind::Video, &vp8(simulcast)).is_ok());
        assert!(rtp_parameters(MediaKind::Audio, &vp8(json!([{"ssrc": 1}]))).is_err());
        let five = json!([{"rid": "a"}, {"rid": "b"}, {"rid": "c"}, {"rid": "d"}, {"rid": "e"}]);
        assert!(rtp_parameters(MediaKind::Video, &vp8(five)).is_err());
        assert!(rtp_parameters(MediaKind::Video, &vp8(json!([]))).is_err());
        let long_rid = json!([{"rid": "ř".repeat(40)}]);
        assert!(rtp_parameters(MediaKind::Video, &vp8(long_rid)).is_err());
        let mut unknown = vp8(json!([{"ssrc": 1}]));
        unknown["codecs"][0]["mimeType"] = json!("video/NOPE");
        assert!(rtp_parameters(MediaKind::Video, &unknown).is_err());
    }

    #[test]
    fn ids_that_do_not_parse_name_nothing() {
        assert!(matches!(
            id::<TransportId>("transport", "nope"),
            Err(MediaError::NotFound(_))
        ));
        assert!(matches!(
            id::<TransportId>("transport", &"9".repeat(10_000)),
            Err(MediaError::NotFound(_))
        ));
        assert!(id::<TransportId>("transport", "0b6c4fe4-5a1e-4b2e-9f3a-6c2d1e0f9a87").is_ok());
    }

    #[test]
    fn kinds_are_audio_or_video() {
        assert!(media_kind("audio").is_ok());
        assert!(media_kind("Video").is_err());
        assert!(media_kind("").is_err());
    }
}
