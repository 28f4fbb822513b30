//! A WebSocket client that speaks the protocol with the gateway's own frame types.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use vitrine_engine::session::CommandError;
use vitrine_gateway::protocol::{ClientFrame, ServerFrame};

use crate::http::Api;
use crate::PATIENCE;

/// An `event` frame as received.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Seq.
    pub seq: u64,
    /// Kind.
    pub kind: String,
    /// Acting participant.
    pub by: Option<String>,
    /// Payload.
    pub data: Value,
}

/// A `reply` frame as received.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// Command id.
    pub id: String,
    /// Whether it took effect.
    pub ok: bool,
    /// Seq of its event.
    pub seq: Option<u64>,
    /// Data.
    pub data: Value,
    /// Error.
    pub error: Option<CommandError>,
}

impl Reply {
    /// The error code as a string, or `""` on success.
    pub fn code(&self) -> String {
        self.error
            .as_ref()
            .and_then(|e| serde_json::to_value(e.code).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A `welcome` frame as received.
#[derive(Clone, Debug)]
pub struct Welcome {
    /// The participant's id.
    pub participant_id: String,
    /// Role.
    pub role: String,
    /// Seq of the snapshot.
    pub seq: u64,
    /// The session state.
    pub session: Value,
}

/// One WebSocket connection.
pub struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every event received, in order of arrival.
    pub events: Vec<Event>,
    /// Every reply received, in order of arrival.
    pub replies: Vec<Reply>,
    /// `error` frames received.
    pub errors: Vec<CommandError>,
    /// The close code, once closed.
    pub closed: Option<u16>,
    welcome: Option<Welcome>,
    next_id: u64,
    tag: u64,
}

impl WsClient {
    /// Connects to the node's `/v1/ws`.
    pub async fn connect(api: &Api) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(api.ws_url())
            .await
            .expect("websocket connects");
        Self::wrap(ws)
    }

    /// Connects, or `None` when the node refuses the connection.
    pub async fn try_connect(api: &Api) -> Option<Self> {
        let (ws, _) = tokio_tungstenite::connect_async(api.ws_url()).await.ok()?;
        Some(Self::wrap(ws))
    }

    /// Connects with a tiny receive buffer, like a phone on a stalled network.
    pub async fn connect_with_receive_buffer(api: &Api, bytes: usize) -> Self {
        let url = api.ws_url();
        let addr: std::net::SocketAddr = api
            .base()
            .trim_start_matches("http://")
            .parse()
            .expect("loopback address");
        let socket = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .expect("socket");
        socket.set_recv_buffer_size(bytes).expect("set SO_RCVBUF");
        socket.connect(&addr.into()).expect("connect");
        socket.set_nonblocking(true).expect("nonblocking");
        let stream = TcpStream::from_std(socket.into()).expect("tokio stream");
        let (ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
            .await
            .expect("websocket handshake");
        Self::wrap(ws)
    }

    fn wrap(ws: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Self {
        Self {
            ws,
            events: Vec::new(),
            replies: Vec::new(),
            errors: Vec::new(),
            closed: None,
            welcome: None,
            next_id: 0,
            tag: 0,
        }
    }

    /// A fresh command id, unique across connections of the test process.
    pub fn new_id(&mut self) -> String {
        static CONNECTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        if self.tag == 0 {
            self.tag = CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        }
        self.next_id += 1;
        format!("c{}-{}", self.tag, self.next_id)
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: &str) {
        let _ = self.ws.send(Message::text(text.to_owned())).await;
    }

    /// Sends a raw WebSocket message.
    pub async fn send_message(&mut self, msg: Message) {
        let _ = self.ws.send(msg).await;
    }

    /// Sends a typed frame.
    pub async fn send(&mut self, frame: &ClientFrame) {
        let text = serde_json::to_string(frame).expect("client frames encode");
        self.send_text(&text).await;
    }

    /// Says hello; returns the welcome, or the close code if the server refused.
    pub async fn try_hello(
        &mut self,
        token: &str,
        session_id: &str,
        resume_after: Option<u64>,
    ) -> Result<Welcome, Option<u16>> {
        self.send(&ClientFrame::Hello {
            token: token.to_owned(),
            session_id: session_id.to_owned(),
            resume_after,
        })
        .await;
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if self.next_frame(PATIENCE).await.is_none() {
                break;
            }
            if let Some(w) = self.welcome.take() {
                return Ok(w);
            }
        }
        Err(self.closed)
    }

    /// Says hello and expects a welcome.
    pub async fn hello(
        &mut self,
        token: &str,
        session_id: &str,
        resume_after: Option<u64>,
    ) -> Welcome {
        match self.try_hello(token, session_id, resume_after).await {
            Ok(w) => w,
            Err(code) => panic!("hello refused (close {code:?}); errors {:?}", self.errors),
        }
    }

    /// Reads the next frame, recording it. `None` on timeout or close.
    pub async fn next_frame(&mut self, timeout: Duration) -> Option<ServerFrame> {
        if self.closed.is_some() {
            return None;
        }
        loop {
            let msg = match tokio::time::timeout(timeout, self.ws.next()).await {
                Err(_) => return None,
                Ok(None) => {
                    self.closed.get_or_insert(1006);
                    return None;
                }
                Ok(Some(Err(_))) => {
                    self.closed.get_or_insert(1006);
                    return None;
                }
                Ok(Some(Ok(msg))) => msg,
            };
            match msg {
                Message::Text(text) => {
                    let frame: ServerFrame =
                        serde_json::from_str(text.as_str()).expect("server frames parse");
                    self.record(&frame);
                    return Some(frame);
                }
                Message::Close(frame) => {
                    self.closed = Some(frame.map_or(1005, |f| u16::from(f.code)));
                    return None;
                }
                _ => continue,
            }
        }
    }

    fn record(&mut self, frame: &ServerFrame) {
        match frame.clone() {
            ServerFrame::Welcome {
                participant_id,
                role,
                seq,
                session,
            } => {
                self.welcome = Some(Welcome {
                    participant_id,
                    role,
                    seq,
                    session,
                })
            }
            ServerFrame::Event {
                seq,
                kind,
                by,
                data,
                ..
            } => self.events.push(Event {
                seq,
                kind,
                by,
                data,
            }),
            ServerFrame::Reply {
                id,
                ok,
                seq,
                data,
                error,
            } => self.replies.push(Reply {
                id,
                ok,
                seq,
                data: data.unwrap_or(Value::Null),
                error,
            }),
            ServerFrame::Error { error } => self.errors.push(error),
        }
    }

    /// Sends a command given as JSON (an `id` is added when absent) and waits for its
    /// reply.
    pub async fn command(&mut self, mut frame: Value) -> Reply {
        if frame.get("id").is_none() {
            frame["id"] = Value::String(self.new_id());
        }
        let id = frame["id"].as_str().expect("string id").to_owned();
        self.send_text(&frame.to_string()).await;
        self.reply_to(&id).await
    }

    /// Waits for the reply to `id`.
    pub async fn reply_to(&mut self, id: &str) -> Reply {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(r) = self.replies.iter().rev().find(|r| r.id == id) {
                return r.clone();
            }
            assert!(Instant::now() < deadline, "no reply to {id}");
            if self.next_frame(PATIENCE).await.is_none() {
                panic!(
                    "connection ended (close {:?}) before the reply to {id}",
                    self.closed
                );
            }
        }
    }

    /// Reads frames until `done` holds or the time is up; returns whether it held.
    pub async fn wait_until(&mut self, done: impl Fn(&Self) -> bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.next_frame(left).await.is_none() && self.closed.is_some() {
                return done(self);
            }
        }
        true
    }

    /// Waits until an event with `seq` has arrived.
    pub async fn wait_for_seq(&mut self, seq: u64) -> bool {
        self.wait_until(|c| c.events.iter().any(|e| e.seq >= seq), PATIENCE)
            .await
    }

    /// Reads until the server closes; returns the close code.
    pub async fn expect_close(&mut self, timeout: Duration) -> Option<u16> {
        let deadline = Instant::now() + timeout;
        while self.closed.is_none() && Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = self.next_frame(left).await;
        }
        self.closed
    }

    /// Closes the connection from this side.
    pub async fn close(mut self) {
        let _ = self
            .ws
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await;
    }

    /// Drops the connection without a close frame (as a lost network would).
    pub fn abandon(self) {
        drop(self);
    }

    /// The seqs of received events.
    pub fn seqs(&self) -> Vec<u64> {
        self.events.iter().map(|e| e.seq).collect()
    }
}
