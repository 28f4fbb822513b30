//! Recording with a real mediasoup worker and a real ffmpeg: a synthetic publisher's
//! picture and tone recorded to a file, a recorder whose ffmpeg dies, and paths and
//! sessions that cannot be recorded.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use vitrine_media::recording::{Recording, RecordingError};
use vitrine_media::synthetic::{SyntheticOptions, SyntheticPublisher};
use vitrine_media::{MediaPool, MediaSettings, SessionMedia};

/// Longest any one step of these tests may take before the test fails.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Fails (never skips) when ffmpeg or ffprobe is missing.
fn require_ffmpeg() {
    for program in ["ffmpeg", "ffprobe"] {
        let found = Command::new(program)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{program} is required by these tests: apt-get install -y ffmpeg"
        );
    }
}

async fn session() -> SessionMedia {
    let pool = MediaPool::new(MediaSettings {
        workers: 1,
        listen_ip: [127, 0, 0, 1].into(),
        ..MediaSettings::default()
    });
    pool.open_session("recording-test")
        .await
        .expect("a router opens")
}

/// A fresh directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vitrine-media-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
    dir
}

async fn publisher(media: &SessionMedia, seconds: u64) -> SyntheticPublisher {
    let options = SyntheticOptions {
        duration: Duration::from_secs(seconds),
        // A small picture: three tests encode at once on a shared machine.
        size: (320, 180),
        ..SyntheticOptions::default()
    };
    SyntheticPublisher::start(media.router(), &options)
        .await
        .expect("the publisher starts")
}

fn producers(publisher: &SyntheticPublisher) -> Vec<mediasoup::producer::Producer> {
    vec![publisher.audio().clone(), publisher.video().clone()]
}

fn probe(path: &Path) -> Value {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(
        output.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("ffprobe answers JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_of_six_seconds_holds_one_audio_and_one_video_stream_of_that_length() {
    require_ffmpeg();
    let media = session().await;
    let mut publisher = publisher(&media, 15).await;
    // Unicode, spaces and a quote in the name: the path reaches ffmpeg as one argument.
    let path = scratch("six-seconds").join("séance d'essai ✓ 1.mkv");

    let recording = tokio::time::timeout(
        STEP_TIMEOUT,
        Recording::start(media.router(), &producers(&publisher), &path),
    )
    .await
    .expect("start is bounded")
    .expect("the recording starts");
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(!recording.has_failed());
    let info = tokio::time::timeout(STEP_TIMEOUT, recording.stop())
        .await
        .expect("stop is bounded")
        .expect("the recording finishes");
    let recorded = started.elapsed().as_secs_f64();
    assert!(publisher.is_running().expect("the publisher did not fail"));

    assert_eq!(info.path, path);
    assert!(info.bytes > 50_000, "{} bytes for six seconds", info.bytes);
    let probed = probe(&path);
    let kinds: Vec<&str> = probed["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|s| s["codec_type"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "audio").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "video").count(),
        1,
        "{kinds:?}"
    );
    let duration: f64 = probed["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("the file has a duration");
    assert!(
        (duration - recorded).abs() <= 1.5,
        "file {duration:.2} s, recorded {recorded:.2} s"
    );
    assert!((info.duration.as_secs_f64() - duration).abs() < 0.01);
    let _ = std::fs::remove_dir_all(path.parent().expect("a directory"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorder_whose_ffmpeg_is_killed_reports_the_recording_failed() {
    require_ffmpeg();
    let media = session().await;
    let publisher = publisher(&media, 15).await;
    let path = scratch("killed").join("killed.mkv");
    let recording = Recording::start(media.router(), &producers(&publisher), &path)
        .await
        .expect("the recording starts");
    tokio::time::sleep(Duration::from_secs(2)).await;

    let pid = recording.ffmpeg_pid().expect("ffmpeg has a pid");
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while !recording.has_failed() {
        assert!(
            Instant::now() < deadline,
            "the death of ffmpeg went unnoticed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let outcome = tokio::time::timeout(STEP_TIMEOUT, recording.stop())
        .await
        .expect("stop is bounded");
    match outcome {
        Err(RecordingError::Failed {
            path: partial,
            message,
        }) => {
            assert_eq!(partial, path);
            assert!(message.contains("signal"), "{message}");
        }
        other => panic!("expected a failed recording, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(path.parent().expect("a directory"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_that_cannot_be_made_say_why_before_starting_ffmpeg() {
    require_ffmpeg();
    let media = session().await;

    // A session without producers.
    let dir = scratch("refused");
    let empty = Recording::start_session(&media, &dir.join("empty.mkv")).await;
    assert!(
        matches!(empty, Err(RecordingError::NoProducers)),
        "{:?}",
        empty.err()
    );

    let publisher = publisher(&media, 5).await;
    let tracks = producers(&publisher);
    // A directory that does not exist.
    let missing = dir.join("no such directory").join("x.mkv");
    let outcome = Recording::start(media.router(), &tracks, &missing).await;
    let message = outcome.err().expect("refused").to_string();
    assert!(message.contains("directory does not exist"), "{message}");
    // A file that is already there is not overwritten.
    let taken = dir.join("taken ✓.mkv");
    std::fs::write(&taken, b"keep me").expect("writable");
    let outcome = Recording::start(media.router(), &tracks, &taken).await;
    assert!(matches!(outcome, Err(RecordingError::Path { .. })));
    assert_eq!(std::fs::read(&taken).expect("still there"), b"keep me");
    // A directory in place of a file.
    assert!(Recording::start(media.router(), &tracks, &dir)
        .await
        .is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
