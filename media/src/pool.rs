//! The worker pool: mediasoup workers (threads of this process), each with one WebRTC
//! server, restarted with backoff when one dies; routers go to the least-loaded worker.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mediasoup::prelude::*;
use mediasoup::worker::{WorkerLogLevel, WorkerLogTag};

use crate::error::MediaError;
use crate::room::SessionMedia;
use crate::settings::MediaSettings;

/// The pool of one process. Cloning is cheap: clones share the workers.
#[derive(Clone)]
pub struct MediaPool {
    inner: Arc<Inner>,
}

struct Inner {
    settings: MediaSettings,
    manager: WorkerManager,
    slots: Mutex<Vec<Slot>>,
    /// Starts the workers once, on first use: a node that never carries media runs none.
    started: Mutex<bool>,
}

/// One place for a worker in the pool.
struct Slot {
    live: Option<LiveWorker>,
    /// Routers open on this slot's worker (its load).
    routers: Arc<()>,
    /// Failed starts in a row, for the backoff.
    failures: u32,
}

/// A running worker and the WebRTC server every transport of its routers listens on.
#[derive(Clone)]
pub(crate) struct LiveWorker {
    pub(crate) worker: Worker,
    pub(crate) server: WebRtcServer,
}

/// What a caller keeps while a router lives on a worker: dropping it lowers the load.
pub(crate) struct Load(#[allow(dead_code)] Arc<()>);

/// The media codecs every router offers: Opus for audio; VP8 and H264 for video.
fn media_codecs() -> Vec<RtpCodecCapability> {
    use std::num::{NonZeroU32, NonZeroU8};
    // unwrap: the clock rates and channel counts below are constant and non-zero.
    let khz48 = NonZeroU32::new(48_000).expect("non-zero");
    let khz90 = NonZeroU32::new(90_000).expect("non-zero");
    let video_feedback = vec![
        RtcpFeedback::Nack,
        RtcpFeedback::NackPli,
        RtcpFeedback::CcmFir,
        RtcpFeedback::GoogRemb,
        RtcpFeedback::TransportCc,
    ];
    vec![
        RtpCodecCapability::Audio {
            mime_type: MimeTypeAudio::Opus,
            preferred_payload_type: None,
            clock_rate: khz48,
            channels: NonZeroU8::new(2).expect("non-zero"),
            parameters: RtpCodecParametersParameters::from([("useinbandfec", 1_u32.into())]),
            rtcp_feedback: vec![RtcpFeedback::TransportCc],
        },
        RtpCodecCapability::Video {
            mime_type: MimeTypeVideo::Vp8,
            preferred_payload_type: None,
            clock_rate: khz90,
            parameters: RtpCodecParametersParameters::default(),
            rtcp_feedback: video_feedback.clone(),
        },
        RtpCodecCapability::Video {
            mime_type: MimeTypeVideo::H264,
            preferred_payload_type: None,
            clock_rate: khz90,
            parameters: RtpCodecParametersParameters::from([
                ("packetization-mode", 1_u32.into()),
                ("level-asymmetry-allowed", 1_u32.into()),
                ("profile-level-id", "42e01f".into()),
            ]),
            rtcp_feedback: video_feedback,
        },
    ]
}

/// Ports tried for a worker's WebRTC server before giving up.
const LISTEN_ATTEMPTS: usize = 32;

impl MediaPool {
    /// A pool with these settings; no worker runs until media is first needed.
    pub fn new(settings: MediaSettings) -> Self {
        let slots = (0..settings.worker_count())
            .map(|_| Slot {
                live: None,
                routers: Arc::new(()),
                failures: 0,
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                settings,
                manager: WorkerManager::new(),
                slots: Mutex::new(slots),
                started: Mutex::new(false),
            }),
        }
    }

    /// The settings the pool runs with.
    pub fn settings(&self) -> &MediaSettings {
        &self.inner.settings
    }

    /// Opens the media of one session: a router on the least-loaded live worker.
    pub async fn open_session(&self, label: &str) -> Result<SessionMedia, MediaError> {
        self.start_once().await;
        let (live, load) = self
            .least_loaded()
            .ok_or_else(|| MediaError::Unavailable("no media worker is running".into()))?;
        let router = live
            .worker
            .create_router(RouterOptions::new(media_codecs()))
            .await
            .map_err(|e| MediaError::Unavailable(format!("could not open a router: {e}")))?;
        tracing::info!(session = label, router_id = %router.id(), worker_id = %live.worker.id(),
            "media router opened");
        Ok(SessionMedia::new(router, live.server, load))
    }

    /// Workers running now.
    pub fn live_workers(&self) -> usize {
        self.slots().iter().filter(|s| s.live.is_some()).count()
    }

    fn slots(&self) -> MutexGuard<'_, Vec<Slot>> {
        // A panic while holding the lock leaves the slots consistent: take them as they are.
        self.inner.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn least_loaded(&self) -> Option<(LiveWorker, Load)> {
        let slots = self.slots();
        slots
            .iter()
            .filter_map(|s| s.live.as_ref().map(|live| (s, live)))
            .min_by_key(|(s, _)| Arc::strong_count(&s.routers))
            .map(|(s, live)| (live.clone(), Load(Arc::clone(&s.routers))))
    }

    async fn start_once(&self) {
        let first = {
            let mut started = self.inner.started.lock().unwrap_or_else(|e| e.into_inner());
            !std::mem::replace(&mut *started, true)
        };
        if !first {
            return;
        }
        let count = self.slots().len();
        for index in 0..count {
            if let Err(e) = self.start_worker(index).await {
                tracing::error!(worker = index, error = %e, "media worker did not start");
                self.schedule_restart(index);
            }
        }
    }

    async fn start_worker(&self, index: usize) -> Result<(), MediaError> {
        let settings = &self.inner.settings;
        let mut worker_settings = WorkerSettings::default();
        worker_settings.log_level = WorkerLogLevel::Warn;
        worker_settings.log_tags = vec![WorkerLogTag::Info, WorkerLogTag::Ice, WorkerLogTag::Dtls];
        worker_settings.rtc_port_range = settings.ports.clone();
        let worker = self
            .inner
            .manager
            .create_worker(worker_settings)
            .await
            .map_err(|e| MediaError::Unavailable(format!("could not start a worker: {e}")))?;
        let server = self.listen(&worker).await?;
        let pool = self.clone();
        worker
            // Limitation: the sessions whose routers were on this worker are not told;
            // each opens a new router with its next media command, but a browser whose
            // socket stays up keeps its dead transports until it reconnects.
            .on_dead(move |result| {
                tracing::error!(worker = index, outcome = ?result,
                    "media worker died; its sessions lose their media until they reconnect");
                pool.forget(index);
                pool.schedule_restart(index);
            })
            .detach();
        tracing::info!(worker = index, worker_id = %worker.id(), "media worker started");
        let mut slots = self.slots();
        let slot = &mut slots[index];
        slot.live = Some(LiveWorker { worker, server });
        slot.failures = 0;
        Ok(())
    }

    /// The worker's WebRTC server, on one port of the range for both UDP and TCP (so a
    /// firewall rule per worker covers ICE-TCP too). Ports are tried at random, as other
    /// workers and processes hold some of the range.
    async fn listen(&self, worker: &Worker) -> Result<WebRtcServer, MediaError> {
        let ports = self.inner.settings.ports.clone();
        let mut last = String::from("no port tried");
        for _ in 0..LISTEN_ATTEMPTS {
            let port = rand::random_range(ports.clone());
            match worker
                .create_webrtc_server(WebRtcServerOptions::new(self.listen_infos(port)))
                .await
            {
                Ok(server) => return Ok(server),
                Err(e) => last = e.to_string(),
            }
        }
        Err(MediaError::Unavailable(format!(
            "could not listen for media on a port of {}..={}: {last}",
            ports.start(),
            ports.end()
        )))
    }

    fn listen_infos(&self, port: u16) -> WebRtcServerListenInfos {
        let settings = &self.inner.settings;
        let info = |protocol| ListenInfo {
            protocol,
            announced_address: settings.announced_ip.clone(),
            port: Some(port),
            ..crate::udp_listen(settings.listen_ip)
        };
        WebRtcServerListenInfos::new(info(Protocol::Udp)).insert(info(Protocol::Tcp))
    }

    fn forget(&self, index: usize) {
        if let Some(slot) = self.slots().get_mut(index) {
            slot.live = None;
        }
    }

    /// Starts the worker of `index` again after a backoff that grows with each failure.
    fn schedule_restart(&self, index: usize) {
        let wait = {
            let mut slots = self.slots();
            let Some(slot) = slots.get_mut(index) else {
                return;
            };
            slot.failures += 1;
            backoff(
                self.inner.settings.restart_backoff,
                self.inner.settings.max_restart_backoff,
                slot.failures,
            )
        };
        let pool = self.clone();
        // A thread of its own: the callback that asks may run on a worker's thread, and
        // mediasoup's futures run on any executor.
        let spawned = std::thread::Builder::new()
            .name(format!("media-restart-{index}"))
            .spawn(move || {
                std::thread::sleep(wait);
                if let Err(e) = futures_lite::future::block_on(pool.start_worker(index)) {
                    tracing::error!(worker = index, error = %e, "media worker did not restart");
                    pool.schedule_restart(index);
                }
            });
        if let Err(e) = spawned {
            tracing::error!(worker = index, error = %e, "could not schedule a media worker restart");
        }
    }
}

/// The wait before restart number `failures` (1 for the first).
fn backoff(first: Duration, max: Duration, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    first.saturating_mul(1 << doublings).min(max)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn restarts_back_off_doubling_up_to_the_cap() {
        let (first, max) = (Duration::from_millis(500), Duration::from_secs(30));
        let waits: Vec<u64> = (1..=9)
            .map(|n| backoff(first, max, n).as_millis() as u64)
            .collect();
        assert_eq!(
            waits,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(backoff(first, max, u32::MAX), max);
    }
}
