//! The media of one session: its router, and each participant's transports, producers
//! and consumers. Everything here is owned by a participant, and a participant reaches
//! only what it owns (and other participants' producers, to consume them).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use mediasoup::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{from_request, MediaError};
use crate::params;
use crate::pool::Load;

/// Most transports one participant may hold (a send and a receive one, with room for a
/// reconnect that has not closed the old ones yet).
const MAX_TRANSPORTS_PER_PARTICIPANT: usize = 4;
/// Most producers one participant may hold (camera, microphone, screen, screen audio).
const MAX_PRODUCERS_PER_PARTICIPANT: usize = 4;
/// Most consumers one participant may hold.
const MAX_CONSUMERS_PER_PARTICIPANT: usize = 64;
/// Priority of consumers of staff media: the shopper's camera is what the call is for.
const STAFF_PRIORITY: u8 = 200;
/// Priority of other consumers: they yield bandwidth first.
const CUSTOMER_PRIORITY: u8 = 1;

/// Which way a transport carries media, seen from the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The client sends (produces).
    Send,
    /// The client receives (consumes).
    Recv,
}

/// What the session tells everyone about a producer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProducerInfo {
    /// Its id, to consume it.
    pub producer_id: String,
    /// Who sends it.
    pub participant_id: String,
    /// `audio` or `video`.
    pub kind: &'static str,
    /// What it shows: `camera`, `microphone` or `screen`.
    pub source: String,
}

/// The media of one live session. Cloning is cheap; the router closes when the last
/// clone is dropped.
#[derive(Clone)]
pub struct SessionMedia {
    inner: Arc<Room>,
}

struct Room {
    router: Router,
    server: WebRtcServer,
    state: Mutex<RoomState>,
    _load: Load,
}

#[derive(Default)]
struct RoomState {
    transports: HashMap<TransportId, Owned<WebRtcTransport>>,
    producers: HashMap<ProducerId, OwnedProducer>,
    consumers: HashMap<ConsumerId, Owned<Consumer>>,
}

struct Owned<T> {
    owner: String,
    direction: Direction,
    item: T,
}

struct OwnedProducer {
    owner: String,
    staff: bool,
    source: String,
    producer: Producer,
}

fn kind_name(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Audio => "audio",
        MediaKind::Video => "video",
    }
}

impl SessionMedia {
    pub(crate) fn new(router: Router, server: WebRtcServer, load: Load) -> Self {
        Self {
            inner: Arc::new(Room {
                router,
                server,
                state: Mutex::new(RoomState::default()),
                _load: load,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, RoomState> {
        // The maps stay consistent whatever panicked while holding the lock.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session's router, for recording and benchmarks, which attach plain
    /// transports to it; clients reach it only through the methods here.
    pub fn router(&self) -> &Router {
        &self.inner.router
    }

    /// The producers open now, for recording them.
    pub(crate) fn live_producers(&self) -> Vec<Producer> {
        self.state()
            .producers
            .values()
            .map(|p| p.producer.clone())
            .collect()
    }

    /// Whether the router still runs (it closes with its worker).
    pub fn is_open(&self) -> bool {
        !self.inner.router.closed()
    }

    /// The router's RTP capabilities, and the producers a newcomer can consume.
    pub fn capabilities(&self) -> Value {
        let producers: Vec<ProducerInfo> = self
            .state()
            .producers
            .iter()
            .map(|(id, p)| info(id, p))
            .collect();
        json!({
            "rtp_capabilities": self.inner.router.rtp_capabilities(),
            "producers": producers,
        })
    }

    /// Opens a transport for `participant`, on the worker's WebRTC server (one port for
    /// UDP and TCP). Answers what mediasoup-client needs to build its side.
    pub async fn create_transport(
        &self,
        participant: &str,
        direction: Direction,
    ) -> Result<Value, MediaError> {
        let held = self
            .state()
            .transports
            .values()
            .filter(|t| t.owner == participant)
            .count();
        if held >= MAX_TRANSPORTS_PER_PARTICIPANT {
            return Err(MediaError::invalid("too many transports; close one first"));
        }
        let mut options = WebRtcTransportOptions::new_with_server(self.inner.server.clone());
        options.enable_udp = true;
        options.enable_tcp = true;
        options.prefer_udp = true;
        let transport = self
            .inner
            .router
            .create_webrtc_transport(options)
            .await
            .map_err(|e| MediaError::Unavailable(format!("could not open a transport: {e}")))?;
        let data = json!({
            "id": transport.id().to_string(),
            "direction": direction,
            "iceParameters": transport.ice_parameters(),
            "iceCandidates": transport.ice_candidates(),
            "dtlsParameters": transport.dtls_parameters(),
        });
        self.state().transports.insert(
            transport.id(),
            Owned {
                owner: participant.to_owned(),
                direction,
                item: transport,
            },
        );
        Ok(data)
    }

    fn transport(
        &self,
        participant: &str,
        transport_id: &str,
        direction: Direction,
    ) -> Result<WebRtcTransport, MediaError> {
        let id: TransportId = params::id("transport", transport_id)?;
        let state = self.state();
        let owned = state
            .transports
            .get(&id)
            .filter(|t| t.owner == participant)
            .ok_or_else(|| MediaError::not_found("transport"))?;
        if owned.direction != direction {
            return Err(MediaError::invalid(format!(
                "transport is not a {} transport",
                match direction {
                    Direction::Send => "send",
                    Direction::Recv => "recv",
                }
            )));
        }
        Ok(owned.item.clone())
    }

    /// Completes a transport's DTLS handshake parameters.
    pub async fn connect_transport(
        &self,
        participant: &str,
        transport_id: &str,
        dtls_parameters: &Value,
    ) -> Result<(), MediaError> {
        let dtls_parameters = params::dtls_parameters(dtls_parameters)?;
        let transport = {
            let id: TransportId = params::id("transport", transport_id)?;
            let state = self.state();
            state
                .transports
                .get(&id)
                .filter(|t| t.owner == participant)
                .map(|t| t.item.clone())
                .ok_or_else(|| MediaError::not_found("transport"))?
        };
        transport
            .connect(WebRtcTransportRemoteParameters { dtls_parameters })
            .await
            .map_err(|e| from_request("connect", &e))
    }

    /// Starts receiving a participant's track. `staff` producers are consumed with
    /// priority.
    pub async fn produce(
        &self,
        participant: &str,
        staff: bool,
        transport_id: &str,
        kind: &str,
        source: Option<&str>,
        rtp_parameters: &Value,
    ) -> Result<ProducerInfo, MediaError> {
        let kind = params::media_kind(kind)?;
        let source = match source {
            None => default_source(kind).to_owned(),
            Some(s @ ("camera" | "microphone" | "screen" | "screen_audio")) => s.to_owned(),
            Some(_) => {
                return Err(MediaError::invalid(
                    "source must be camera, microphone, screen or screen_audio",
                ))
            }
        };
        let rtp_parameters = params::rtp_parameters(kind, rtp_parameters)?;
        let transport = self.transport(participant, transport_id, Direction::Send)?;
        let held = self
            .state()
            .producers
            .values()
            .filter(|p| p.owner == participant)
            .count();
        if held >= MAX_PRODUCERS_PER_PARTICIPANT {
            return Err(MediaError::invalid("too many producers; close one first"));
        }
        let producer = transport
            .produce(ProducerOptions::new(kind, rtp_parameters))
            .await
            .map_err(|e| match e {
                ProduceError::Request(e) => from_request("produce", &e),
                other => MediaError::refused("produce", other),
            })?;
        let id = producer.id();
        let owned = OwnedProducer {
            owner: participant.to_owned(),
            staff,
            source,
            producer,
        };
        let info = info(&id, &owned);
        self.state().producers.insert(id, owned);
        Ok(info)
    }

    /// Starts sending a producer to `participant`, paused until the client resumes it.
    pub async fn consume(
        &self,
        participant: &str,
        transport_id: &str,
        producer_id: &str,
        rtp_capabilities: &Value,
    ) -> Result<Value, MediaError> {
        let rtp_capabilities = params::rtp_capabilities(rtp_capabilities)?;
        let transport = self.transport(participant, transport_id, Direction::Recv)?;
        let producer: ProducerId = params::id("producer", producer_id)?;
        let (staff, source) = {
            let state = self.state();
            let held = state
                .consumers
                .values()
                .filter(|c| c.owner == participant)
                .count();
            if held >= MAX_CONSUMERS_PER_PARTICIPANT {
                return Err(MediaError::invalid("too many consumers; close some first"));
            }
            let p = state
                .producers
                .get(&producer)
                .ok_or_else(|| MediaError::not_found("producer"))?;
            (p.staff, p.source.clone())
        };
        if !self.inner.router.can_consume(&producer, &rtp_capabilities) {
            return Err(MediaError::invalid(
                "rtp_capabilities cannot receive this producer",
            ));
        }
        let mut options = ConsumerOptions::new(producer, rtp_capabilities);
        options.paused = true;
        let consumer = transport.consume(options).await.map_err(|e| match e {
            ConsumeError::ProducerNotFound(_) => MediaError::not_found("producer"),
            ConsumeError::Request(e) => from_request("consume", &e),
            other => MediaError::refused("consume", other),
        })?;
        let priority = if staff {
            STAFF_PRIORITY
        } else {
            CUSTOMER_PRIORITY
        };
        if let Err(e) = consumer.set_priority(priority).await {
            tracing::warn!(error = %e, "could not set a consumer's priority");
        }
        let data = json!({
            "id": consumer.id().to_string(),
            "producerId": producer.to_string(),
            "kind": kind_name(consumer.kind()),
            "rtpParameters": consumer.rtp_parameters(),
            "type": consumer.r#type(),
            "producerPaused": consumer.producer_paused(),
            "source": source,
        });
        self.state().consumers.insert(
            consumer.id(),
            Owned {
                owner: participant.to_owned(),
                direction: Direction::Recv,
                item: consumer,
            },
        );
        Ok(data)
    }

    /// Resumes a consumer the client is ready to play.
    pub async fn resume_consumer(
        &self,
        participant: &str,
        consumer_id: &str,
    ) -> Result<(), MediaError> {
        let id: ConsumerId = params::id("consumer", consumer_id)?;
        let consumer = self
            .state()
            .consumers
            .get(&id)
            .filter(|c| c.owner == participant)
            .map(|c| c.item.clone())
            .ok_or_else(|| MediaError::not_found("consumer"))?;
        consumer
            .resume()
            .await
            .map_err(|e| from_request("resume", &e))
    }

    /// Stops one of `participant`'s producers; its consumers close with it.
    pub fn close_producer(
        &self,
        participant: &str,
        producer_id: &str,
    ) -> Result<ProducerInfo, MediaError> {
        let id: ProducerId = params::id("producer", producer_id)?;
        let mut state = self.state();
        if state
            .producers
            .get(&id)
            .is_none_or(|p| p.owner != participant)
        {
            return Err(MediaError::not_found("producer"));
        }
        let owned = state
            .producers
            .remove(&id)
            .ok_or_else(|| MediaError::not_found("producer"))?;
        let producer_info = info(&id, &owned);
        state.consumers.retain(|_, c| c.item.producer_id() != id);
        Ok(producer_info)
    }

    /// Closes everything of a participant who left; answers the producers that stopped.
    pub fn leave(&self, participant: &str) -> Vec<ProducerInfo> {
        let mut state = self.state();
        let gone: Vec<ProducerId> = state
            .producers
            .iter()
            .filter(|(_, p)| p.owner == participant)
            .map(|(id, _)| *id)
            .collect();
        let infos = gone
            .iter()
            .filter_map(|id| state.producers.remove(id).map(|p| info(id, &p)))
            .collect();
        state
            .consumers
            .retain(|_, c| c.owner != participant && !gone.contains(&c.item.producer_id()));
        state.transports.retain(|_, t| t.owner != participant);
        infos
    }

    /// Producers open now.
    pub fn producers(&self) -> Vec<ProducerInfo> {
        self.state()
            .producers
            .iter()
            .map(|(id, p)| info(id, p))
            .collect()
    }
}

fn default_source(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Audio => "microphone",
        MediaKind::Video => "camera",
    }
}

fn info(id: &ProducerId, p: &OwnedProducer) -> ProducerInfo {
    ProducerInfo {
        producer_id: id.to_string(),
        participant_id: p.owner.clone(),
        kind: kind_name(p.producer.kind()),
        source: p.source.clone(),
    }
}
