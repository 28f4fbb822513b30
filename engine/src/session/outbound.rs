//! The bounded queue of frames from a session to one connection.
//!
//! The session actor never waits on a connection: it offers each frame with `try_send`.
//! When a connection's queue is full its reader is too slow, and it is cut off (close code
//! 4429) instead of delaying everyone else. The connection's writer drains the queue into
//! the socket.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};

use super::replay::ReplayRequest;

/// One item for a connection's writer.
#[derive(Debug)]
pub enum OutFrame {
    /// A text frame, serialised once and shared by every recipient.
    Text(Arc<str>),
    /// An event's frame, with when the event was created (for fan-out latency).
    Event(Arc<str>, std::time::Instant),
    /// Read these events from the store and send them before anything queued after.
    Replay(Box<ReplayRequest>),
    /// Close the connection with this code once the frames before it are sent.
    Close {
        /// WebSocket close code.
        code: u16,
        /// Short reason for the client.
        reason: &'static str,
    },
}

/// Close codes the session asks connections to close with.
pub mod close_code {
    /// Too slow to read, or too many frames.
    pub const TOO_SLOW: u16 = 4429;
    /// The session cannot be served here now; reconnect (possibly elsewhere).
    pub const TRY_AGAIN: u16 = 1013;
}

/// The sending side of a connection's queue.
#[derive(Clone, Debug)]
pub struct Outbound {
    tx: mpsc::Sender<OutFrame>,
    overflow: Arc<Overflow>,
}

#[derive(Debug, Default)]
struct Overflow {
    hit: AtomicBool,
    notify: Notify,
}

/// The receiving side, owned by the connection's writer.
#[derive(Debug)]
pub struct OutboundReceiver {
    rx: mpsc::Receiver<OutFrame>,
    overflow: Arc<Overflow>,
}

/// The frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Queued.
    Queued,
    /// The queue was full: the connection has been told to close with 4429.
    Overflowed,
    /// The connection is gone.
    Closed,
}

/// A queue holding at most `capacity` frames.
pub fn outbound(capacity: usize) -> (Outbound, OutboundReceiver) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let overflow = Arc::new(Overflow::default());
    (
        Outbound {
            tx,
            overflow: Arc::clone(&overflow),
        },
        OutboundReceiver { rx, overflow },
    )
}

impl Outbound {
    /// Offers a frame without waiting.
    pub fn offer(&self, frame: OutFrame) -> Offer {
        if self.overflow.hit.load(Ordering::Acquire) {
            return Offer::Overflowed;
        }
        match self.tx.try_send(frame) {
            Ok(()) => Offer::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.overflow.hit.store(true, Ordering::Release);
                self.overflow.notify.notify_one();
                Offer::Overflowed
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Offer::Closed,
        }
    }

    /// Offers a text frame.
    pub fn offer_text(&self, text: Arc<str>) -> Offer {
        self.offer(OutFrame::Text(text))
    }

    /// Whether the writer has gone away.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// What the writer should do next.
#[derive(Debug)]
pub enum Next {
    /// Send this frame.
    Frame(OutFrame),
    /// The queue overflowed: close with 4429 now.
    Overflowed,
    /// Every sender is gone.
    Done,
}

impl OutboundReceiver {
    /// Waits for the next frame; an overflow takes precedence over queued frames.
    pub async fn next(&mut self) -> Next {
        if self.overflow.hit.load(Ordering::Acquire) {
            return Next::Overflowed;
        }
        tokio::select! {
            biased;
            _ = self.overflow.notify.notified() => Next::Overflowed,
            frame = self.rx.recv() => match frame {
                Some(f) => Next::Frame(f),
                None => Next::Done,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_overflows_and_the_writer_hears_it_first() {
        let (out, mut rx) = outbound(2);
        assert_eq!(out.offer_text("a".into()), Offer::Queued);
        assert_eq!(out.offer_text("b".into()), Offer::Queued);
        assert_eq!(out.offer_text("c".into()), Offer::Overflowed);
        assert_eq!(out.offer_text("d".into()), Offer::Overflowed);
        assert!(matches!(rx.next().await, Next::Overflowed));
    }

    #[tokio::test]
    async fn frames_arrive_in_order_and_the_end_is_reported() {
        let (out, mut rx) = outbound(4);
        out.offer_text("1".into());
        out.offer_text("2".into());
        drop(out);
        for want in ["1", "2"] {
            match rx.next().await {
                Next::Frame(OutFrame::Text(t)) => assert_eq!(&*t, want),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(matches!(rx.next().await, Next::Done));
    }
}
