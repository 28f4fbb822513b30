//! One actor per WebSocket connection: authentication, the `hello` deadline, heartbeats,
//! rate limits and turning frames into engine commands.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use actix_ws::{AggregatedMessage as Message, ProtocolError};
use tokio::sync::mpsc;
use tracing::Instrument;
use vitrine_engine::directory::SessionKey;
use vitrine_engine::identity::{Module, Principal, Role};
use vitrine_engine::metrics as m;
use vitrine_engine::session::{
    Caller, CommandReply, ConnectionId, ErrorCode, Execute, Join, JoinError, Outbound,
};
use vitrine_persistence::model::{SessionId, TenantId};

use super::rate::TokenBucket;
use super::writer::Control;
use crate::protocol::{self, close, error_frame, reply_frame, BadFrame, ClientFrame};
use crate::state::AppState;

/// Longest session id accepted in `hello`.
const MAX_SESSION_ID_CHARS: usize = 128;

/// Refused frames in a row after which a flooding client is cut off.
const FLOOD_STRIKES: u32 = 100;

/// `command` label of a refused frame that did not parse as a command.
const UNPARSED_COMMAND: &str = "invalid";

/// `tenant` label of a frame refused before `hello` settled.
const NO_TENANT: &str = "none";

enum Phase {
    AwaitingHello,
    Joining,
    Joined {
        key: SessionKey,
        caller: Caller,
        /// The `tenant` label, made once: each command's metrics share it.
        tenant: metrics::SharedString,
    },
    Closing,
}

/// The actor of one WebSocket connection.
pub struct WsConnection {
    id: ConnectionId,
    app: Arc<AppState>,
    outbound: Outbound,
    control: mpsc::Sender<Control>,
    phase: Phase,
    last_heard: Instant,
    bucket: TokenBucket,
    strikes: u32,
    replies: ReplyOrder,
    /// Commands waiting for their session to be looked up, oldest first.
    unrouted: std::collections::VecDeque<(InFlight, Execute)>,
    span: tracing::Span,
}

/// A command handed on (or waiting to be), with what its reply needs.
struct InFlight {
    turn: u64,
    command_id: String,
    name: &'static str,
    tenant: metrics::SharedString,
    started: Instant,
    span: tracing::Span,
}

/// Puts the replies of a connection's commands in the order the commands came: a reply
/// that is ready early waits for those before it. (Futures finishing at once, after one
/// group commit, are otherwise polled in no particular order.)
#[derive(Default)]
struct ReplyOrder {
    next_turn: u64,
    next_out: u64,
    waiting: std::collections::BTreeMap<u64, Arc<str>>,
}

impl ReplyOrder {
    /// The turn of the next command.
    fn take_turn(&mut self) -> u64 {
        self.next_turn += 1;
        self.next_turn - 1
    }

    /// The reply of `turn` is ready: the replies that may go out now, in order.
    fn ready(&mut self, turn: u64, frame: Arc<str>) -> Vec<Arc<str>> {
        self.waiting.insert(turn, frame);
        let mut out = Vec::new();
        while let Some(frame) = self.waiting.remove(&self.next_out) {
            out.push(frame);
            self.next_out += 1;
        }
        out
    }
}

impl WsConnection {
    pub(crate) fn new(
        id: ConnectionId,
        app: Arc<AppState>,
        outbound: Outbound,
        control: mpsc::Sender<Control>,
    ) -> Self {
        let ws = &app.settings.ws;
        let bucket = TokenBucket::new(ws.frames_per_second, ws.frame_burst);
        Self {
            id,
            app,
            outbound,
            control,
            phase: Phase::AwaitingHello,
            last_heard: Instant::now(),
            bucket,
            strikes: 0,
            replies: ReplyOrder::default(),
            unrouted: std::collections::VecDeque::new(),
            span: tracing::debug_span!("ws", conn = id),
        }
    }

    /// Stops this actor when the writer ends: once the socket can take no more frames
    /// (closed, or cut off as too slow), nothing the client still sends is acted on.
    pub(crate) fn watching(
        self,
        writer: actix_web::rt::task::JoinHandle<u16>,
        ctx: &mut Context<Self>,
    ) -> Self {
        ctx.spawn(
            async move { writer.await.unwrap_or(close::GOING_AWAY) }
                .into_actor(&self)
                .map(|code, act, ctx| {
                    tracing::debug!(parent: &act.span, code, "writer finished");
                    act.leave_session();
                    act.phase = Phase::Closing;
                    ctx.stop();
                }),
        );
        self
    }

    /// Sends a frame answering the client's own, in order with the session's frames.
    fn send(&self, text: Arc<str>) {
        self.outbound.offer_reply(text);
    }

    /// Closes with `code`, after an optional last frame.
    fn close(&mut self, ctx: &mut Context<Self>, last: Option<Arc<str>>, code: u16, why: &str) {
        if matches!(self.phase, Phase::Closing) {
            return;
        }
        tracing::debug!(parent: &self.span, code, why, "closing connection");
        self.leave_session();
        self.phase = Phase::Closing;
        let _ = self
            .control
            .try_send(Control::CloseWith(last, code, why.to_owned()));
        // The client echoes the close; stop anyway if it never does.
        ctx.run_later(self.app.settings.ws.hello_timeout, |_, ctx| ctx.stop());
    }

    /// Counts a frame refused for rate in the commands metric. Label values stay few:
    /// command names come from the protocol's fixed set, tenants from verified tokens.
    fn count_rate_limited(&self, command: &'static str) {
        let tenant = match &self.phase {
            Phase::Joined { tenant, .. } => tenant.clone(),
            _ => metrics::SharedString::const_str(NO_TENANT),
        };
        metrics::counter!(m::COMMANDS, "command" => command,
            "outcome" => ErrorCode::RateLimited.as_str(), "tenant" => tenant)
        .increment(1);
    }

    fn leave_session(&mut self) {
        if let Phase::Joined { key, .. } = &self.phase {
            self.app.engine.leave(key, self.id);
        }
    }

    fn on_text(&mut self, text: &str, ctx: &mut Context<Self>) {
        if !self.bucket.take() {
            self.strikes += 1;
            if self.strikes >= FLOOD_STRIKES {
                self.close(ctx, None, close::TOO_SLOW, "too many frames");
                return;
            }
            let (frame, command) = match protocol::parse(text) {
                Ok(f) => match f.into_command() {
                    Some((id, command)) => (Some(id), command.name()),
                    None => (None, "hello"),
                },
                Err(BadFrame::Reply { id, .. }) => (Some(id), UNPARSED_COMMAND),
                Err(BadFrame::Error { .. }) => (None, UNPARSED_COMMAND),
            };
            self.count_rate_limited(command);
            let message = "too many frames; slow down";
            match frame {
                Some(id) => self.refuse(&id, ErrorCode::RateLimited, message),
                None => self.send(error_frame(ErrorCode::RateLimited, message)),
            }
            return;
        }
        self.strikes = 0;

        let frame = match protocol::parse(text) {
            Ok(frame) => frame,
            Err(BadFrame::Reply { code, message, .. })
                if matches!(self.phase, Phase::AwaitingHello) =>
            {
                self.close(
                    ctx,
                    Some(error_frame(code, message)),
                    close::UNAUTHORIZED,
                    "expected hello",
                );
                return;
            }
            Err(BadFrame::Reply { id, code, message }) => {
                self.refuse(&id, code, message);
                return;
            }
            Err(BadFrame::Error { code, message }) => {
                if matches!(self.phase, Phase::AwaitingHello) {
                    self.close(
                        ctx,
                        Some(error_frame(code, message)),
                        close::UNAUTHORIZED,
                        "expected hello",
                    );
                } else {
                    self.send(error_frame(code, message));
                }
                return;
            }
        };

        match (frame, &self.phase) {
            (
                ClientFrame::Hello {
                    token,
                    session_id,
                    resume_after,
                },
                Phase::AwaitingHello,
            ) => {
                self.hello(token, session_id, resume_after, ctx);
            }
            (ClientFrame::Hello { .. }, _) => {
                self.send(error_frame(ErrorCode::Invalid, "already said hello"));
            }
            (_, Phase::AwaitingHello) => {
                self.close(
                    ctx,
                    Some(error_frame(
                        ErrorCode::Unauthorized,
                        "the first frame must be hello",
                    )),
                    close::UNAUTHORIZED,
                    "expected hello",
                );
            }
            (
                command,
                Phase::Joined {
                    key,
                    caller,
                    tenant,
                },
            ) => {
                let Some((command_id, command)) = command.into_command() else {
                    return;
                };
                let name = command.name();
                // Each command is the root of its own trace, named after the command. At
                // debug: exported with the traces, but not formatted for every command by
                // the info-level log (its session's span gives logs their context).
                let span = tracing::debug_span!(
                    parent: None,
                    "ws.command",
                    otel.name = name,
                    command = name,
                    tenant_id = %key.tenant,
                    session_id = %key.session,
                    participant_id = %caller.participant_id,
                    outcome = tracing::field::Empty,
                );
                let exec = Execute {
                    caller: caller.clone(),
                    command_id: command_id.clone(),
                    command,
                    span: span.clone(),
                };
                let flight = InFlight {
                    turn: self.replies.take_turn(),
                    command_id,
                    name,
                    tenant: tenant.clone(),
                    started: Instant::now(),
                    span,
                };
                // Handed to the session here, as the frame is read, so the session runs a
                // connection's commands in the order they were sent. Behind a command that
                // is still looking for its session, later ones wait their turn.
                if self.unrouted.is_empty() {
                    let engine = &self.app.engine;
                    match flight.span.in_scope(|| engine.hand_off(key, exec)) {
                        Ok(reply) => self.await_reply(flight, reply, ctx),
                        Err(exec) => {
                            self.unrouted.push_back((flight, *exec));
                            self.route_next(ctx);
                        }
                    }
                } else {
                    self.unrouted.push_back((flight, exec));
                }
            }
            (_, Phase::Joining | Phase::Closing) => {}
        }
    }

    /// Sends the reply of a command handed to its session once it comes, in its turn.
    fn await_reply(
        &mut self,
        flight: InFlight,
        reply: impl std::future::Future<Output = CommandReply> + 'static,
        ctx: &mut Context<Self>,
    ) {
        let span = flight.span.clone();
        ctx.spawn(
            reply
                .instrument(span)
                .into_actor(self)
                .map(move |reply, act, _| act.answer(flight, &reply)),
        );
    }

    /// Runs the oldest command whose session must first be looked up; once answered, the
    /// commands behind it are handed over (or looked up) in order.
    fn route_next(&mut self, ctx: &mut Context<Self>) {
        let (Some((flight, exec)), Phase::Joined { key, .. }) =
            (self.unrouted.front(), &self.phase)
        else {
            return;
        };
        let (app, key, exec) = (Arc::clone(&self.app), key.clone(), exec.clone());
        let span = flight.span.clone();
        ctx.spawn(
            async move { app.engine.execute(&key, exec).await }
                .instrument(span)
                .into_actor(self)
                .map(|reply, act, ctx| {
                    if let Some((flight, _)) = act.unrouted.pop_front() {
                        act.answer(flight, &reply);
                    }
                    let Phase::Joined { key, .. } = &act.phase else {
                        return;
                    };
                    let key = key.clone();
                    while let Some((flight, exec)) = act.unrouted.pop_front() {
                        match act.app.engine.hand_off(&key, exec) {
                            Ok(reply) => act.await_reply(flight, reply, ctx),
                            Err(exec) => {
                                act.unrouted.push_front((flight, *exec));
                                act.route_next(ctx);
                                return;
                            }
                        }
                    }
                }),
        );
    }

    /// Answers a command refused before it reached its session, in its turn: after the
    /// replies of the commands sent before it.
    fn refuse(&mut self, command_id: &str, code: ErrorCode, message: impl Into<String>) {
        let reply = CommandReply::failed(vitrine_engine::session::CommandError::new(code, message));
        let turn = self.replies.take_turn();
        self.send_in_turn(turn, reply_frame(command_id, &reply));
    }

    /// Sends the reply of `turn` once the replies of earlier turns are out.
    fn send_in_turn(&mut self, turn: u64, frame: Arc<str>) {
        for frame in self.replies.ready(turn, frame) {
            self.send(frame);
        }
    }

    /// Counts a command's outcome and sends its reply in its turn.
    fn answer(&mut self, flight: InFlight, reply: &CommandReply) {
        let InFlight {
            turn,
            command_id,
            name,
            tenant,
            started,
            span,
        } = flight;
        metrics::counter!(m::COMMANDS, "command" => name,
            "outcome" => reply.outcome(), "tenant" => tenant)
        .increment(1);
        metrics::histogram!(m::COMMAND_DURATION, "command" => name)
            .record(started.elapsed().as_secs_f64());
        tracing::debug!(parent: &span, command = name, ok = reply.ok,
            elapsed_us = started.elapsed().as_micros() as u64, "command done");
        self.send_in_turn(turn, reply_frame(&command_id, reply));
    }

    fn hello(
        &mut self,
        token: String,
        session_id: String,
        resume_after: Option<u64>,
        ctx: &mut Context<Self>,
    ) {
        if session_id.is_empty() || session_id.chars().count() > MAX_SESSION_ID_CHARS {
            self.close(
                ctx,
                Some(error_frame(ErrorCode::NotFound, "no such session")),
                close::NOT_FOUND,
                "no such session",
            );
            return;
        }
        let principal = match self.app.tokens.verify(&token) {
            Ok(p) => p,
            Err(e) => {
                self.close(
                    ctx,
                    Some(error_frame(ErrorCode::Unauthorized, e.to_string())),
                    close::UNAUTHORIZED,
                    "bad token",
                );
                return;
            }
        };
        self.phase = Phase::Joining;
        let app = Arc::clone(&self.app);
        let (conn_id, outbound) = (self.id, self.outbound.clone());
        let session_id = SessionId::new(session_id);

        let fut = async move {
            let (tenant, caller) = caller_for(&app, principal, &session_id).await?;
            let key = SessionKey {
                tenant,
                session: session_id,
            };
            let join = Join {
                conn_id,
                caller: caller.clone(),
                outbound,
                resume_after,
            };
            match app.engine.join(&key, join).await {
                // The session may seat staff as observers: take the role it gave.
                Ok(joined) => Ok((
                    key,
                    Caller {
                        role: joined.role,
                        ..caller
                    },
                )),
                Err(JoinError::NotFound) => Err(HelloError::NotFound),
                Err(JoinError::TooManyConnections) => Err(HelloError::TooMany),
                Err(_) => Err(HelloError::Unavailable),
            }
        };
        // Wait: no other frame of this connection is handled before `hello` is settled.
        ctx.wait(fut.into_actor(self).map(|result, act, ctx| match result {
            Ok((key, caller)) => {
                tracing::debug!(parent: &act.span, session_id = %key.session,
                    participant_id = %caller.participant_id, "connection joined");
                let tenant = metrics::SharedString::from(Arc::<str>::from(key.tenant.as_str()));
                act.phase = Phase::Joined {
                    key,
                    caller,
                    tenant,
                };
            }
            Err(HelloError::Unauthorized(why)) => act.close(
                ctx,
                Some(error_frame(ErrorCode::Unauthorized, why)),
                close::UNAUTHORIZED,
                "unauthorized",
            ),
            Err(HelloError::NotFound) => act.close(
                ctx,
                Some(error_frame(ErrorCode::NotFound, "no such session")),
                close::NOT_FOUND,
                "no such session",
            ),
            Err(HelloError::TooMany) => act.close(
                ctx,
                Some(error_frame(
                    ErrorCode::RateLimited,
                    "too many connections for this participant",
                )),
                close::TOO_SLOW,
                "too many connections",
            ),
            Err(HelloError::Unavailable) => act.close(
                ctx,
                Some(error_frame(
                    ErrorCode::Unavailable,
                    "the session is unavailable; reconnect",
                )),
                close::TRY_AGAIN,
                "unavailable",
            ),
        }));
    }
}

enum HelloError {
    Unauthorized(String),
    NotFound,
    TooMany,
    Unavailable,
}

/// Who a token's bearer is in the session, or why they may not enter it.
async fn caller_for(
    app: &AppState,
    principal: Principal,
    session: &SessionId,
) -> Result<(TenantId, Caller), HelloError> {
    match principal {
        Principal::Participant(p) => {
            // A participant token opens its own session only; anything else looks absent.
            if &p.session_id != session {
                return Err(HelloError::NotFound);
            }
            let caller = Caller {
                participant_id: p.participant_id,
                role: p.role,
                name: p.name,
                user_id: None,
                collections: Arc::from(Vec::new()),
            };
            Ok((p.tenant_id, caller))
        }
        Principal::Staff(staff) => {
            if !staff.can(Module::VideoCalls) {
                return Err(HelloError::Unauthorized(
                    "joining calls needs the video_calls module".into(),
                ));
            }
            let user = app
                .engine
                .store()
                .user(&staff.tenant_id, &staff.user_id)
                .await
                .map_err(|_| HelloError::Unavailable)?
                .ok_or_else(|| HelloError::Unauthorized("unknown user".into()))?;
            let caller = Caller {
                participant_id: staff.participant_id(),
                role: Role::Shopper,
                name: user.name.clone(),
                user_id: Some(user.id.clone()),
                collections: Arc::from(user.collections.clone()),
            };
            Ok((staff.tenant_id, caller))
        }
    }
}

impl Actor for WsConnection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        metrics::gauge!(m::WS_CONNECTIONS).increment(1.0);
        // When the node stops, tell the client to go elsewhere.
        let mut stopping = self.app.stopping.subscribe();
        ctx.spawn(
            async move {
                let _ = stopping.wait_for(|s| *s).await;
            }
            .into_actor(self)
            .map(|_, act, ctx| {
                act.close(
                    ctx,
                    None,
                    close::SERVICE_RESTART,
                    "the node is stopping; reconnect",
                );
            }),
        );
        let ws = &self.app.settings.ws;
        ctx.run_later(ws.hello_timeout, |act, ctx| {
            if matches!(act.phase, Phase::AwaitingHello) {
                act.close(
                    ctx,
                    Some(error_frame(ErrorCode::Unauthorized, "no hello in time")),
                    close::HELLO_TIMEOUT,
                    "no hello in time",
                );
            }
        });
        let client_timeout = ws.client_timeout;
        ctx.run_interval(ws.heartbeat_interval, move |act, ctx| {
            if act.last_heard.elapsed() > client_timeout {
                act.close(ctx, None, close::GOING_AWAY, "heartbeat timeout");
            } else {
                let _ = act.control.try_send(Control::Ping);
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        metrics::gauge!(m::WS_CONNECTIONS).decrement(1.0);
        self.leave_session();
        tracing::debug!(parent: &self.span, "connection closed");
    }
}

/// Whether the stream refused a frame (or a run of continuations) for its size.
fn is_oversize(e: &ProtocolError) -> bool {
    match e {
        ProtocolError::Overflow => true,
        ProtocolError::Io(io) => io.to_string().contains("maximum continuation size"),
        _ => false,
    }
}

impl StreamHandler<Result<Message, ProtocolError>> for WsConnection {
    fn handle(&mut self, item: Result<Message, ProtocolError>, ctx: &mut Self::Context) {
        self.last_heard = Instant::now();
        match item {
            Ok(Message::Text(text)) => self.on_text(&text, ctx),
            Ok(Message::Binary(_)) => {
                self.send(error_frame(
                    ErrorCode::Invalid,
                    "binary frames are not supported",
                ));
            }
            Ok(Message::Ping(bytes)) => {
                let _ = self.control.try_send(Control::Pong(bytes.to_vec()));
            }
            Ok(Message::Pong(_)) => {}
            Ok(Message::Close(_)) => {
                self.close(ctx, None, 1000, "bye");
                ctx.stop();
            }
            Err(e) if is_oversize(&e) => {
                self.close(ctx, None, close::TOO_LARGE, "frame too large");
            }
            Err(e) => {
                tracing::debug!(parent: &self.span, error = %e, "websocket protocol error");
                self.close(ctx, None, close::PROTOCOL_ERROR, "protocol error");
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::ReplyOrder;

    #[test]
    fn replies_go_out_in_the_order_of_their_commands() {
        let mut order = ReplyOrder::default();
        let turns: Vec<u64> = (0..4).map(|_| order.take_turn()).collect();
        assert_eq!(turns, [0, 1, 2, 3]);
        assert!(order.ready(2, "c".into()).is_empty());
        assert!(order.ready(1, "b".into()).is_empty());
        let out: Vec<String> = order
            .ready(0, "a".into())
            .iter()
            .map(|f| f.to_string())
            .collect();
        assert_eq!(out, ["a", "b", "c"]);
        let out: Vec<String> = order
            .ready(3, "d".into())
            .iter()
            .map(|f| f.to_string())
            .collect();
        assert_eq!(out, ["d"]);
    }
}
