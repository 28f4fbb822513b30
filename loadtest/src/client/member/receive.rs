//! Reading frames: events into the ledger, replies into the transactions, heartbeats
//! answered, and the checkout that follows a cart change.

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::{self, Message};

use super::*;

impl Member {
    /// Handles one WebSocket message; returns a close code when the connection ended.
    pub(super) async fn on_message(
        &mut self,
        ws: &mut Ws,
        msg: Option<Result<Message, tungstenite::Error>>,
    ) -> Option<u16> {
        match msg {
            None | Some(Err(_)) => Some(1006),
            Some(Ok(Message::Close(frame))) => Some(frame.map_or(1005, |f| u16::from(f.code))),
            Some(Ok(Message::Text(text))) => self.on_text(ws, text.as_str()).await.err(),
            // Pings are answered by the WebSocket layer; nothing else is expected.
            Some(Ok(_)) => None,
        }
    }

    async fn on_text(&mut self, ws: &mut Ws, text: &str) -> Result<(), u16> {
        let now = self.now();
        let incoming = match self.ctx.wire.decode(text) {
            Ok(i) => i,
            Err(why) => {
                self.ctx.recorder.bad_frame(text, &why);
                return Ok(());
            }
        };
        match incoming {
            Incoming::Event { seq, kind, by } => {
                self.ctx
                    .recorder
                    .live
                    .events
                    .fetch_add(1, Ordering::Relaxed);
                self.ctx.recorder.frame(kind, text.len());
                let own = by.is_some() && by == self.participant_id;
                self.session
                    .ledger()
                    .received(self.m, seq, kind, now, own, &mut self.samples);
                self.flush_samples();
                self.check_caught_up(now);
            }
            Incoming::Reply { id, ok, seq, code } => {
                self.on_reply(ws, id, ok, seq, code, now).await?;
            }
            Incoming::Error { code } => self.ctx.recorder.error_frame(&code),
            Incoming::Answer(answer) => {
                ws.send(Message::text(answer.to_owned()))
                    .await
                    .map_err(|_| 1006u16)?;
            }
            Incoming::Gone => return Err(1000),
            Incoming::Welcome { .. } => self
                .ctx
                .recorder
                .bad_frame(text, "a welcome on a connection that had one"),
            Incoming::Open | Incoming::Connected | Incoming::Ignore => {}
        }
        Ok(())
    }

    async fn on_reply(
        &mut self,
        ws: &mut Ws,
        id: u64,
        ok: bool,
        seq: Option<u64>,
        code: Option<String>,
        now: Micros,
    ) -> Result<(), u16> {
        let Some(p) = self.pending.remove(&id) else {
            self.ctx.recorder.bad_frame(
                &format!("reply to command {id}"),
                "a reply to no outstanding command (a repeat, or an id never sent)",
            );
            return Ok(());
        };
        self.ctx.recorder.command_settled(true);

        if ok {
            self.ctx.recorder.tx_ok(p.tx, p.scheduled, p.written, now);
            let mut ledger = self.session.ledger();
            if let Some(seq) = seq {
                ledger.acked(seq);
                let stamp = Stamp {
                    scheduled: p.scheduled,
                    written: p.written,
                    sender: self.m,
                };
                ledger.stamped(seq, stamp, &mut self.samples);
            }
            if let Some(ev) = p.event {
                ledger.acked(ev);
            }
            drop(ledger);
            self.flush_samples();
        } else {
            let code = code.as_deref().unwrap_or("failed without a code");
            self.ctx.recorder.tx_failed(p.tx, code);
        }

        let already_live = code.as_deref() == Some("conflict");
        if p.tx == Transaction::SessionStart && (ok || already_live) {
            self.session.note_started(now);
        }

        match self.checkout {
            CheckoutStep::Adding(a) if a == id => {
                self.checkout = CheckoutStep::Idle;
                if ok {
                    let next = self
                        .send_command(ws, Transaction::Checkout, &Command::Checkout, now)
                        .await?;
                    self.checkout = CheckoutStep::Buying(next);
                }
            }
            CheckoutStep::Buying(b) if b == id => self.checkout = CheckoutStep::Idle,
            _ => {}
        }
        Ok(())
    }
}
