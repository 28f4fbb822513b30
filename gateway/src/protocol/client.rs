//! Frames a client sends.

use serde::{Deserialize, Serialize};
use vitrine_engine::events::ConsentKind;
use vitrine_engine::session::{Command, MediaCommand};
use vitrine_media::Direction;
use vitrine_persistence::model::{ProductId, VariantId};

/// Every frame a client may send, tagged by `type`. Field names are the wire's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ClientFrame {
    /// Opens the connection into a session; must come first.
    #[serde(rename = "hello")]
    Hello {
        /// Bearer token.
        token: String,
        /// The session to open.
        session_id: String,
        /// The last seq this client saw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_after: Option<u64>,
    },
    /// `session.start`.
    #[serde(rename = "session.start")]
    SessionStart {
        /// Command id.
        id: String,
    },
    /// `session.end`.
    #[serde(rename = "session.end")]
    SessionEnd {
        /// Command id.
        id: String,
        /// Why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// `catalog.search`.
    #[serde(rename = "catalog.search")]
    CatalogSearch {
        /// Command id.
        id: String,
        /// Search text.
        query: String,
        /// Collection filter.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        collection: Option<String>,
        /// Most results.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// `card.push`.
    #[serde(rename = "card.push")]
    CardPush {
        /// Command id.
        id: String,
        /// Product.
        product_id: ProductId,
        /// Highlighted variant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variant_id: Option<VariantId>,
        /// Shopper's note.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// `cart.add`.
    #[serde(rename = "cart.add")]
    CartAdd {
        /// Command id.
        id: String,
        /// Variant.
        variant_id: VariantId,
        /// Units to add.
        quantity: i64,
    },
    /// `cart.set_quantity`.
    #[serde(rename = "cart.set_quantity")]
    CartSetQuantity {
        /// Command id.
        id: String,
        /// Variant.
        variant_id: VariantId,
        /// New quantity; zero removes the line.
        quantity: i64,
    },
    /// `checkout`.
    #[serde(rename = "checkout")]
    Checkout {
        /// Command id.
        id: String,
    },
    /// `chat.send`.
    #[serde(rename = "chat.send")]
    ChatSend {
        /// Command id.
        id: String,
        /// Text.
        text: String,
    },
    /// `consent.give`.
    #[serde(rename = "consent.give")]
    ConsentGive {
        /// Command id.
        id: String,
        /// `privacy` or `recording`.
        kind: ConsentKind,
    },
    /// `survey.submit`.
    #[serde(rename = "survey.submit")]
    SurveySubmit {
        /// Command id.
        id: String,
        /// 0 to 10.
        score: u8,
        /// Free comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// `ping`.
    #[serde(rename = "ping")]
    Ping {
        /// Command id.
        id: String,
    },
    /// `media.capabilities`.
    #[serde(rename = "media.capabilities")]
    MediaCapabilities {
        /// Command id.
        id: String,
    },
    /// `media.transport.create`.
    #[serde(rename = "media.transport.create")]
    MediaTransportCreate {
        /// Command id.
        id: String,
        /// `send` or `recv`.
        direction: Direction,
    },
    /// `media.transport.connect`.
    #[serde(rename = "media.transport.connect")]
    MediaTransportConnect {
        /// Command id.
        id: String,
        /// The transport.
        transport_id: String,
        /// DTLS role and fingerprints, as mediasoup-client gives them.
        dtls_parameters: serde_json::Value,
    },
    /// `media.produce`.
    #[serde(rename = "media.produce")]
    MediaProduce {
        /// Command id.
        id: String,
        /// A send transport.
        transport_id: String,
        /// `audio` or `video`.
        kind: String,
        /// RTP parameters, as mediasoup-client gives them.
        rtp_parameters: serde_json::Value,
        /// `camera`, `microphone`, `screen` or `screen_audio`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
    },
    /// `media.consume`.
    #[serde(rename = "media.consume")]
    MediaConsume {
        /// Command id.
        id: String,
        /// A receive transport.
        transport_id: String,
        /// The producer to receive.
        producer_id: String,
        /// The client's RTP capabilities.
        rtp_capabilities: serde_json::Value,
    },
    /// `media.consumer.resume`.
    #[serde(rename = "media.consumer.resume")]
    MediaConsumerResume {
        /// Command id.
        id: String,
        /// The consumer.
        consumer_id: String,
    },
    /// `media.producer.close`.
    #[serde(rename = "media.producer.close")]
    MediaProducerClose {
        /// Command id.
        id: String,
        /// The producer.
        producer_id: String,
    },
}

/// Command types of the contract that this server does not carry yet.
pub const UNSUPPORTED_TYPES: &[&str] = &["recording.start", "recording.stop"];

impl ClientFrame {
    /// Splits a command frame into its id and engine command; `None` for `hello`.
    pub fn into_command(self) -> Option<(String, Command)> {
        use ClientFrame::*;
        Some(match self {
            Hello { .. } => return None,
            SessionStart { id } => (id, Command::StartSession),
            SessionEnd { id, reason } => (id, Command::EndSession { reason }),
            CatalogSearch {
                id,
                query,
                collection,
                limit,
            } => (
                id,
                Command::SearchCatalog {
                    query,
                    collection,
                    limit,
                },
            ),
            CardPush {
                id,
                product_id,
                variant_id,
                note,
            } => (
                id,
                Command::PushCard {
                    product_id,
                    variant_id,
                    note,
                },
            ),
            CartAdd {
                id,
                variant_id,
                quantity,
            } => (
                id,
                Command::AddToCart {
                    variant_id,
                    quantity,
                },
            ),
            CartSetQuantity {
                id,
                variant_id,
                quantity,
            } => (
                id,
                Command::SetCartQuantity {
                    variant_id,
                    quantity,
                },
            ),
            Checkout { id } => (id, Command::Checkout),
            ChatSend { id, text } => (id, Command::SendChat { text }),
            ConsentGive { id, kind } => (id, Command::GiveConsent { kind }),
            SurveySubmit { id, score, comment } => (id, Command::SubmitSurvey { score, comment }),
            Ping { id } => (id, Command::Ping),
            MediaCapabilities { id } => (id, Command::Media(Box::new(MediaCommand::Capabilities))),
            MediaTransportCreate { id, direction } => (
                id,
                Command::Media(Box::new(MediaCommand::CreateTransport { direction })),
            ),
            MediaTransportConnect {
                id,
                transport_id,
                dtls_parameters,
            } => (
                id,
                Command::Media(Box::new(MediaCommand::ConnectTransport {
                    transport_id,
                    dtls_parameters,
                })),
            ),
            MediaProduce {
                id,
                transport_id,
                kind,
                rtp_parameters,
                source,
            } => (
                id,
                Command::Media(Box::new(MediaCommand::Produce {
                    transport_id,
                    kind,
                    source,
                    rtp_parameters,
                })),
            ),
            MediaConsume {
                id,
                transport_id,
                producer_id,
                rtp_capabilities,
            } => (
                id,
                Command::Media(Box::new(MediaCommand::Consume {
                    transport_id,
                    producer_id,
                    rtp_capabilities,
                })),
            ),
            MediaConsumerResume { id, consumer_id } => (
                id,
                Command::Media(Box::new(MediaCommand::ResumeConsumer { consumer_id })),
            ),
            MediaProducerClose { id, producer_id } => (
                id,
                Command::Media(Box::new(MediaCommand::CloseProducer { producer_id })),
            ),
        })
    }
}
