//! The writer of one connection: drains the connection's outbound queue into the socket.
//!
//! It runs as its own task so that waiting for a slow socket never blocks the connection
//! actor or the session. Control frames (pongs, pings, closes) come on a separate small
//! channel and go first.

use actix_ws::{CloseCode, CloseReason, Session};
use tokio::sync::mpsc;
use vitrine_engine::session::{Next, OutFrame, OutboundReceiver};

use crate::protocol::close;
use vitrine_engine::metrics as m;

/// What the connection actor asks the writer to send out of band.
#[derive(Debug)]
pub(crate) enum Control {
    /// Answer a client ping.
    Pong(Vec<u8>),
    /// Ping the client.
    Ping,
    /// Send this text, then close with this code.
    CloseWith(Option<std::sync::Arc<str>>, u16, String),
}

fn reason(code: u16, description: impl Into<String>) -> CloseReason {
    CloseReason {
        code: CloseCode::from(code),
        description: Some(description.into()),
    }
}

/// Runs until the connection closes; returns how it ended.
pub(crate) async fn run(
    mut session: Session,
    mut frames: OutboundReceiver,
    mut control: mpsc::Receiver<Control>,
) -> u16 {
    // Resolved once: recording a sample is then an atomic push, with no registry lookup.
    let fanout = metrics::histogram!(m::FANOUT_LATENCY);
    loop {
        tokio::select! {
            biased;
            ctl = control.recv() => match ctl {
                Some(Control::Pong(bytes)) => {
                    if session.pong(&bytes).await.is_err() {
                        return close::GOING_AWAY;
                    }
                }
                Some(Control::Ping) => {
                    if session.ping(b"").await.is_err() {
                        return close::GOING_AWAY;
                    }
                }
                Some(Control::CloseWith(text, code, why)) => {
                    if let Some(text) = text {
                        let _ = session.text(text.to_string()).await;
                    }
                    let _ = session.close(Some(reason(code, why))).await;
                    return code;
                }
                None => {
                    let _ = session.close(None).await;
                    return close::GOING_AWAY;
                }
            },
            next = frames.next() => match next {
                Next::Frame(OutFrame::Text(text) | OutFrame::Reply(text)) => {
                    if session.text(text.to_string()).await.is_err() {
                        return close::GOING_AWAY;
                    }
                }
                Next::Frame(OutFrame::Event(text, staged)) => {
                    if session.text(text.to_string()).await.is_err() {
                        return close::GOING_AWAY;
                    }
                    fanout.record(staged.elapsed().as_secs_f64());
                }
                Next::Frame(OutFrame::Replay(mut replay)) => loop {
                    match replay.next_page().await {
                        Ok(Some(page)) => {
                            for text in page {
                                if session.text(text.to_string()).await.is_err() {
                                    return close::GOING_AWAY;
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "could not read events to resume");
                            let _ = session
                                .close(Some(reason(close::TRY_AGAIN, "resume failed; reconnect")))
                                .await;
                            return close::TRY_AGAIN;
                        }
                    }
                },
                Next::Frame(OutFrame::Close { code, reason: why }) => {
                    let _ = session.close(Some(reason(code, why))).await;
                    return code;
                }
                Next::Overflowed => {
                    metrics::counter!(m::OUTBOUND_DROPS).increment(1);
                    let _ = session
                        .close(Some(reason(close::TOO_SLOW, "too slow to read; resume")))
                        .await;
                    return close::TOO_SLOW;
                }
                Next::Done => {
                    let _ = session.close(None).await;
                    return close::GOING_AWAY;
                }
            },
        }
    }
}
