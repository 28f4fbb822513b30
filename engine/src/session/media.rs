//! The session's `media.*` commands. Each goes to the session's media, opened on the
//! first one, and comes back as a reply; starting and stopping a track are also events,
//! so every participant learns what it can consume.

use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use serde_json::{json, Value};
use vitrine_media::{Direction, MediaError, MediaPool, ProducerInfo, SessionMedia};
use vitrine_persistence::model::ParticipantId;

use super::commands::{Caller, CommandError, ErrorCode, Plan};
use crate::events::EventBody;
use crate::identity::Role;

/// One `media.*` command, with its parameters as the client sent them (checked in
/// `vitrine-media` before they reach a worker).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "media", rename_all = "snake_case")]
pub enum MediaCommand {
    /// The router's RTP capabilities and the producers open now.
    Capabilities,
    /// Opens a transport.
    CreateTransport {
        /// Which way it carries media, seen from the client.
        direction: Direction,
    },
    /// Completes a transport with the client's DTLS parameters.
    ConnectTransport {
        /// The transport.
        transport_id: String,
        /// The client's DTLS role and fingerprints, as mediasoup-client gives them.
        dtls_parameters: Value,
    },
    /// Starts sending a track.
    Produce {
        /// A send transport of the caller's.
        transport_id: String,
        /// `audio` or `video`.
        kind: String,
        /// `camera`, `microphone`, `screen` or `screen_audio` (by kind when absent).
        source: Option<String>,
        /// The track's RTP parameters, as mediasoup-client gives them.
        rtp_parameters: Value,
    },
    /// Starts receiving a producer, paused until resumed.
    Consume {
        /// A receive transport of the caller's.
        transport_id: String,
        /// What to receive.
        producer_id: String,
        /// The caller's RTP capabilities.
        rtp_capabilities: Value,
    },
    /// Resumes a consumer.
    ResumeConsumer {
        /// The consumer.
        consumer_id: String,
    },
    /// Stops one of the caller's tracks.
    CloseProducer {
        /// The producer.
        producer_id: String,
    },
}

impl MediaCommand {
    /// The wire name of the command.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Capabilities => "media.capabilities",
            Self::CreateTransport { .. } => "media.transport.create",
            Self::ConnectTransport { .. } => "media.transport.connect",
            Self::Produce { .. } => "media.produce",
            Self::Consume { .. } => "media.consume",
            Self::ResumeConsumer { .. } => "media.consumer.resume",
            Self::CloseProducer { .. } => "media.producer.close",
        }
    }
}

/// The media of one session actor: the pool it opens from, and the session's router
/// once opened. Clones share it.
#[derive(Clone, Default)]
pub(crate) struct MediaSlot {
    pool: Option<MediaPool>,
    label: String,
    open: Arc<Mutex<Option<SessionMedia>>>,
}

impl MediaSlot {
    pub(crate) fn new(pool: Option<MediaPool>, label: String) -> Self {
        Self {
            pool,
            label,
            open: Arc::default(),
        }
    }

    /// The session's media if it is open (its worker may since have died).
    pub(crate) fn current(&self) -> Option<SessionMedia> {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .filter(SessionMedia::is_open)
    }

    /// Closes the session's router (the call ended).
    pub(crate) fn close(&self) {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// The session's media, opened on a worker if it is not open (or its worker died).
    async fn get(&self) -> Result<SessionMedia, MediaError> {
        if let Some(media) = self.current() {
            return Ok(media);
        }
        let pool = self
            .pool
            .as_ref()
            .ok_or_else(|| MediaError::Unavailable("media is off on this node".into()))?;
        let media = pool.open_session(&self.label).await?;
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        match open.as_ref().filter(|m| m.is_open()) {
            // Opened meanwhile by another command: keep that one.
            Some(existing) => Ok(existing.clone()),
            None => {
                *open = Some(media.clone());
                Ok(media)
            }
        }
    }

    /// Closes everything of a participant who left: the events of the tracks that stop.
    pub(crate) fn leave(&self, participant: &ParticipantId) -> Vec<EventBody> {
        self.current()
            .map(|media| media.leave(participant.as_str()))
            .unwrap_or_default()
            .into_iter()
            .map(|info| removed(info, "left"))
            .collect()
    }
}

fn added(info: ProducerInfo) -> EventBody {
    EventBody::MediaProducerAdded {
        producer_id: info.producer_id,
        participant_id: ParticipantId::new(info.participant_id),
        kind: info.kind.to_owned(),
        source: info.source,
    }
}

fn removed(info: ProducerInfo, reason: &str) -> EventBody {
    EventBody::MediaProducerRemoved {
        producer_id: info.producer_id,
        participant_id: ParticipantId::new(info.participant_id),
        reason: reason.to_owned(),
    }
}

fn command_error(e: MediaError) -> CommandError {
    let code = match &e {
        MediaError::Invalid(_) => ErrorCode::Invalid,
        MediaError::NotFound(_) => ErrorCode::NotFound,
        MediaError::Unavailable(_) => ErrorCode::Unavailable,
    };
    CommandError::new(code, e.to_string())
}

/// What to do for a media command of `caller`: observers watch and do not send tracks.
pub(crate) fn plan(slot: &MediaSlot, caller: &Caller, command: MediaCommand) -> Plan {
    if caller.role == Role::Observer && matches!(command, MediaCommand::Produce { .. }) {
        return Plan::Reply(super::CommandReply::failed(CommandError::new(
            ErrorCode::Forbidden,
            "observers do not send media",
        )));
    }
    let slot = slot.clone();
    let participant = caller.participant_id.to_string();
    let staff = caller.role.is_staff();
    Plan::Async(
        async move {
            let media = slot.get().await.map_err(command_error)?;
            run(&media, &participant, staff, command)
                .await
                .map_err(command_error)
        }
        .boxed(),
    )
}

async fn run(
    media: &SessionMedia,
    participant: &str,
    staff: bool,
    command: MediaCommand,
) -> Result<(Vec<EventBody>, Value), MediaError> {
    use MediaCommand::*;
    Ok(match command {
        Capabilities => (Vec::new(), media.capabilities()),
        CreateTransport { direction } => (
            Vec::new(),
            media.create_transport(participant, direction).await?,
        ),
        ConnectTransport {
            transport_id,
            dtls_parameters,
        } => {
            media
                .connect_transport(participant, &transport_id, &dtls_parameters)
                .await?;
            (Vec::new(), json!({}))
        }
        Produce {
            transport_id,
            kind,
            source,
            rtp_parameters,
        } => {
            let info = media
                .produce(
                    participant,
                    staff,
                    &transport_id,
                    &kind,
                    source.as_deref(),
                    &rtp_parameters,
                )
                .await?;
            let data = json!({ "producer_id": info.producer_id });
            (vec![added(info)], data)
        }
        Consume {
            transport_id,
            producer_id,
            rtp_capabilities,
        } => (
            Vec::new(),
            media
                .consume(participant, &transport_id, &producer_id, &rtp_capabilities)
                .await?,
        ),
        ResumeConsumer { consumer_id } => {
            media.resume_consumer(participant, &consumer_id).await?;
            (Vec::new(), json!({}))
        }
        CloseProducer { producer_id } => {
            let info = media.close_producer(participant, &producer_id)?;
            let data = json!({ "producer_id": info.producer_id });
            (vec![removed(info, "closed")], data)
        }
    })
}
