//! Opening a connection: the WebSocket handshake, the peers' greeting, the join, and the
//! resume after a drop.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{self, Message};

use super::*;
use crate::client::wire::Join;

/// Longest a TCP and WebSocket handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest the server may take to answer the join.
const WELCOME_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a client keeps resuming when the plan names no storm.
const DEFAULT_RESUME_DEADLINE: Duration = Duration::from_secs(30);

/// A joined connection.
pub(super) struct Joined {
    pub ws: Ws,
    /// Seq the welcome stood for (the peers: the highest seq known).
    pub seq: u64,
    /// Whether the session is live.
    pub live: bool,
}

impl Member {
    /// The first join. A failure is counted and ends the participant: the run measures
    /// how many joins a burst gets through, so it does not retry.
    pub(super) async fn join_first(&mut self) -> Option<Ws> {
        let scheduled = self.now();
        let joined = match self.open(None).await {
            Ok(j) => j,
            Err(reason) => {
                self.ctx.recorder.connect_failure(&reason);
                self.ctx
                    .recorder
                    .live
                    .join_failed
                    .fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        let now = self.now();
        self.ctx
            .recorder
            .tx_ok(Transaction::Welcome, scheduled, scheduled, now);
        self.ctx
            .recorder
            .live
            .joined
            .fetch_add(1, Ordering::Relaxed);
        self.session.note_joined(now);
        let mut ws = joined.ws;

        // The shopper takes the session live; the peers have no such step.
        if self.m == 0 && self.ctx.wire.echo() {
            if joined.live {
                self.session.note_started(now);
            } else if self
                .send_command(&mut ws, Transaction::SessionStart, &Command::Start, now)
                .await
                .is_err()
            {
                self.ctx.recorder.close(1006);
                return None;
            }
        }
        Some(ws)
    }

    /// Resumes after losing the connection at `lost_at`, retrying with backoff until the
    /// resume deadline; then re-sends every unanswered command with its original id.
    pub(super) async fn resume(&mut self, lost_at: Micros) -> Option<Ws> {
        let window = self
            .ctx
            .plan
            .storm
            .as_ref()
            .map_or(DEFAULT_RESUME_DEADLINE, |s| s.resume_deadline);
        let deadline = lost_at + crate::clock::micros(window);
        let mut backoff = Duration::from_millis(50);
        loop {
            if matches!(*self.phase.borrow(), Phase::Close) {
                return None;
            }
            let after = self.session.ledger().resume_point(self.m);
            match self.open(after).await {
                Ok(joined) => {
                    let now = self.now();
                    self.ctx
                        .recorder
                        .tx_ok(Transaction::Resume, lost_at, lost_at, now);
                    let mut ws = joined.ws;
                    self.catchup_target = Some((joined.seq, lost_at));
                    self.check_caught_up(now);
                    if self.resend_pending(&mut ws).await.is_ok() {
                        return Some(ws);
                    }
                    self.ctx.recorder.close(1006);
                    self.ctx.recorder.live.open.fetch_sub(1, Ordering::Relaxed);
                    self.session.ledger().left(self.m);
                }
                Err(reason) => self
                    .ctx
                    .recorder
                    .connect_failure(&format!("resume: {reason}")),
            }
            if self.now() >= deadline {
                self.ctx
                    .recorder
                    .tx_failed(Transaction::Resume, "resume: gave up");
                return None;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    async fn resend_pending(&mut self, ws: &mut Ws) -> Result<(), ()> {
        let mut ids: Vec<u64> = self.pending.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let now = self.now();
            let Some(p) = self.pending.get_mut(&id) else {
                continue;
            };
            p.written = now;
            let frame = p.frame.clone();
            self.ctx
                .recorder
                .live
                .resent
                .fetch_add(1, Ordering::Relaxed);
            ws.send(Message::text(frame)).await.map_err(|_| ())?;
        }
        Ok(())
    }

    /// Records the end of a resume's catch-up once everything up to its welcome is in.
    pub(super) fn check_caught_up(&mut self, now: Micros) {
        let Some((target, lost_at)) = self.catchup_target else {
            return;
        };
        if self.session.ledger().member(self.m).contiguous >= target {
            self.ctx
                .recorder
                .tx_ok(Transaction::CatchUp, lost_at, lost_at, now);
            self.catchup_target = None;
        }
    }

    /// Connects and joins; `resume_after` resumes a participant that joined before.
    async fn open(&mut self, resume_after: Option<u64>) -> Result<Joined, String> {
        let setup = &self.session.setup;
        let target = &self.ctx.plan.targets[setup.members[self.m].target];
        let url = target.ws_url(self.ctx.plan.kind);

        let t0 = self.now();
        let connecting = tokio_tungstenite::connect_async_with_config(url, None, true);
        let (mut ws, _) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| "connect timed out".to_string())?
            .map_err(|e| describe(&e))?;
        let t1 = self.now();
        self.ctx.recorder.tx_ok(Transaction::Connect, t0, t0, t1);
        self.ctx.recorder.live.open.fetch_add(1, Ordering::Relaxed);

        match self.handshake(&mut ws, resume_after).await {
            Ok((seq, live)) => {
                self.session.ledger().joined(self.m, seq);
                Ok(Joined { ws, seq, live })
            }
            Err(reason) => {
                self.ctx.recorder.live.open.fetch_sub(1, Ordering::Relaxed);
                Err(reason)
            }
        }
    }

    /// The peers' greeting, then the join, then its answer: `(seq, live)`.
    async fn handshake(
        &mut self,
        ws: &mut Ws,
        resume_after: Option<u64>,
    ) -> Result<(u64, bool), String> {
        let wire = self.ctx.wire.clone();
        let deadline = tokio::time::Instant::now() + WELCOME_TIMEOUT;
        if wire.greets_first() {
            self.wait_for(ws, deadline, |i| matches!(i, Incoming::Open))
                .await?;
            send(ws, wire.open_reply()).await?;
            self.wait_for(ws, deadline, |i| matches!(i, Incoming::Connected))
                .await?;
        }

        self.next_id += 1;
        let join_id = self.next_id;
        let setup = &self.session.setup;
        let frame = wire.join(&Join {
            token: &setup.members[self.m].token,
            session_id: &setup.session_id,
            shopper: self.m == 0,
            resume_after,
            id: join_id,
        });
        send(ws, &frame).await?;

        let answer = self
            .wait_for(ws, deadline, |i| match i {
                Incoming::Welcome { .. } => true,
                Incoming::Reply { id, .. } => *id == join_id,
                _ => false,
            })
            .await?;
        match answer {
            Incoming::Welcome {
                seq,
                participant_id,
                live,
            } => {
                self.participant_id = Some(participant_id);
                Ok((seq, live))
            }
            Incoming::Reply { ok: true, .. } => Ok((self.session.ledger().max_known(), true)),
            Incoming::Reply { code, .. } => Err(format!(
                "join refused: {}",
                code.unwrap_or_else(|| "no reason".into())
            )),
            _ => Err("unexpected answer to the join".into()),
        }
    }

    /// Reads frames until one matches, answering heartbeats on the way.
    async fn wait_for(
        &mut self,
        ws: &mut Ws,
        deadline: tokio::time::Instant,
        wanted: impl Fn(&Incoming) -> bool,
    ) -> Result<Incoming, String> {
        let mut last_error = None;
        loop {
            let msg = tokio::time::timeout_at(deadline, ws.next())
                .await
                .map_err(|_| "no answer to the join in time".to_string())?;
            let text = match msg {
                None | Some(Err(_)) => {
                    return Err("connection lost before the join was answered".into())
                }
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.map_or(1005, |f| u16::from(f.code));
                    let why = last_error.map(|c| format!(" ({c})")).unwrap_or_default();
                    return Err(format!("closed {code}{why} before the join was answered"));
                }
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(_)) => continue,
            };
            match self.ctx.wire.decode(text.as_str()) {
                Ok(i) if wanted(&i) => return Ok(i),
                Ok(Incoming::Answer(a)) => send(ws, a).await?,
                Ok(Incoming::Error { code }) => {
                    self.ctx.recorder.error_frame(&code);
                    last_error = Some(code);
                }
                Ok(_) => {}
                Err(why) => self.ctx.recorder.bad_frame(text.as_str(), &why),
            }
        }
    }
}

async fn send(ws: &mut Ws, text: &str) -> Result<(), String> {
    ws.send(Message::text(text.to_owned()))
        .await
        .map_err(|e| format!("write failed: {}", describe(&e)))
}

/// A short, stable reason for a failed connection, fit to count by.
fn describe(e: &tungstenite::Error) -> String {
    use std::io::ErrorKind;
    match e {
        tungstenite::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => "connection refused".into(),
            ErrorKind::ConnectionReset => "connection reset".into(),
            ErrorKind::TimedOut => "connect timed out".into(),
            ErrorKind::AddrNotAvailable => "no local port free (ephemeral ports exhausted)".into(),
            ErrorKind::AddrInUse => "local address in use".into(),
            kind => format!("I/O error: {kind}"),
        },
        tungstenite::Error::Http(resp) => format!("handshake refused: HTTP {}", resp.status()),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            "closed during the handshake".into()
        }
        other => {
            let text = other.to_string();
            text.chars().take(80).collect()
        }
    }
}
