//! The bounded queue of frames from a session to one connection.
//!
//! The session actor never waits on a connection: it offers each frame with `try_send`.
//! When a connection's queue is full its reader is too slow, and it is cut off (close code
//! 4429) instead of delaying everyone else. The connection's writer drains the queue into
//! the socket.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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
    /// A text frame answering one of the connection's own frames (see
    /// [`Outbound::offer_reply`]).
    Reply(Arc<str>),
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
    /// Frames of the session that may wait; beyond them the reader is too slow.
    capacity: usize,
    overflow: Arc<Overflow>,
}

#[derive(Debug, Default)]
struct Overflow {
    hit: AtomicBool,
    notify: Notify,
    /// Replies in the queue, which do not count against `capacity`.
    replies: AtomicUsize,
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

/// A queue holding at most `capacity` frames of the session, plus room for `replies`
/// more: the connection's answers to its own commands. A client that sends a burst its
/// rate limit allows, and reads as it should, is then not taken for a slow reader because
/// its replies came on top of the session's frames.
pub fn outbound(capacity: usize, replies: usize) -> (Outbound, OutboundReceiver) {
    let capacity = capacity.max(1);
    let (tx, rx) = mpsc::channel(capacity + replies);
    let overflow = Arc::new(Overflow::default());
    (
        Outbound {
            tx,
            capacity,
            overflow: Arc::clone(&overflow),
        },
        OutboundReceiver { rx, overflow },
    )
}

impl Outbound {
    /// Offers a frame of the session without waiting.
    pub fn offer(&self, frame: OutFrame) -> Offer {
        let queued = self.tx.max_capacity() - self.tx.capacity();
        let replies = self.overflow.replies.load(Ordering::Acquire);
        if queued.saturating_sub(replies) >= self.capacity && !self.tx.is_closed() {
            return self.overflowed();
        }
        self.queue(frame)
    }

    /// Offers a text frame of the session.
    pub fn offer_text(&self, text: Arc<str>) -> Offer {
        self.offer(OutFrame::Text(text))
    }

    /// Offers the connection's reply to one of its commands: it may use the room kept for
    /// replies.
    pub fn offer_reply(&self, text: Arc<str>) -> Offer {
        self.overflow.replies.fetch_add(1, Ordering::AcqRel);
        let offered = self.queue(OutFrame::Reply(text));
        if offered != Offer::Queued {
            self.overflow.replies.fetch_sub(1, Ordering::AcqRel);
        }
        offered
    }

    fn queue(&self, frame: OutFrame) -> Offer {
        if self.overflow.hit.load(Ordering::Acquire) {
            return Offer::Overflowed;
        }
        match self.tx.try_send(frame) {
            Ok(()) => Offer::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => self.overflowed(),
            Err(mpsc::error::TrySendError::Closed(_)) => Offer::Closed,
        }
    }

    fn overflowed(&self) -> Offer {
        self.overflow.hit.store(true, Ordering::Release);
        self.overflow.notify.notify_one();
        Offer::Overflowed
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
                Some(f) => {
                    if matches!(f, OutFrame::Reply(_)) {
                        self.overflow.replies.fetch_sub(1, Ordering::AcqRel);
                    }
                    Next::Frame(f)
                }
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
        let (out, mut rx) = outbound(2, 0);
        assert_eq!(out.offer_text("a".into()), Offer::Queued);
        assert_eq!(out.offer_text("b".into()), Offer::Queued);
        assert_eq!(out.offer_text("c".into()), Offer::Overflowed);
        assert_eq!(out.offer_text("d".into()), Offer::Overflowed);
        assert!(matches!(rx.next().await, Next::Overflowed));
    }

    #[tokio::test]
    async fn frames_arrive_in_order_and_the_end_is_reported() {
        let (out, mut rx) = outbound(4, 0);
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

    #[tokio::test]
    async fn replies_do_not_count_against_the_sessions_room() {
        let (out, mut rx) = outbound(2, 3);
        for reply in ["r1", "r2", "r3"] {
            assert_eq!(out.offer_reply(reply.into()), Offer::Queued);
        }
        assert_eq!(out.offer_text("e1".into()), Offer::Queued);
        assert_eq!(out.offer_text("e2".into()), Offer::Queued);
        // Two frames of the session wait: the next one finds the reader too slow.
        assert_eq!(out.offer_text("e3".into()), Offer::Overflowed);
        assert!(matches!(rx.next().await, Next::Overflowed));
    }

    #[tokio::test]
    async fn taken_replies_free_their_room_and_keep_their_order() {
        let (out, mut rx) = outbound(1, 1);
        assert_eq!(out.offer_reply("r1".into()), Offer::Queued);
        assert_eq!(out.offer_text("e1".into()), Offer::Queued);
        // The room for replies is taken: one more reply than it holds is too many.
        assert_eq!(out.offer_reply("r2".into()), Offer::Overflowed);
        let (out, mut rx2) = outbound(1, 1);
        out.offer_reply("a".into());
        match rx2.next().await {
            Next::Frame(OutFrame::Reply(t)) => assert_eq!(&*t, "a"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(out.offer_reply("b".into()), Offer::Queued);
        assert_eq!(out.offer_text("c".into()), Offer::Queued);
        for want in ["b", "c"] {
            match rx2.next().await {
                Next::Frame(OutFrame::Reply(t) | OutFrame::Text(t)) => assert_eq!(&*t, want),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(matches!(rx.next().await, Next::Overflowed));
    }
}
