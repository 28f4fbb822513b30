//! This node's connections to sessions another node owns.
//!
//! For each such session the node keeps one [`RemoteSession`]: it is subscribed to the
//! session's event channel, and it hands each event to its local connections. Each
//! connection remembers the last seq it was given (`at`), so whatever the channel does,
//! a connection gets every event once and in order:
//!
//! - an event at or below `at` is a repeat and is dropped;
//! - an event past `at + 1` reveals a gap (Redis dropped messages, or the connection
//!   joined while events were on their way): the missed events are read from the store
//!   by the connection's writer, before the event itself;
//! - a heartbeat carries the owner's last stored seq, so a gap at the end is noticed
//!   within a heartbeat, as is a resubscription after Redis comes back.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use vitrine_persistence::Store;

use crate::directory::SessionKey;
use crate::identity::Role;
use crate::metrics as m;
use crate::session::{close_code, ConnectionId, Offer, OutFrame, Outbound, ReplayRequest};

/// One local connection to a remotely owned session.
pub(crate) struct RemoteConn {
    pub outbound: Outbound,
    pub role: Role,
    /// The last seq this connection was given (or will be, by a queued catch-up).
    pub at: u64,
}

/// A session owned by another node, as this node follows it.
pub(crate) struct RemoteSession {
    pub key: SessionKey,
    pub owner: String,
    pub conns: HashMap<ConnectionId, RemoteConn>,
    /// Connections being seated: they take events only once the owner has answered.
    pub joining: usize,
    /// The highest seq seen on the channel or in a heartbeat.
    pub last_seq: u64,
    /// When the owner was last heard from on the channel.
    pub last_heard: Instant,
}

impl RemoteSession {
    pub fn new(key: SessionKey, owner: String) -> Self {
        Self {
            key,
            owner,
            conns: HashMap::new(),
            joining: 0,
            last_seq: 0,
            last_heard: Instant::now(),
        }
    }

    /// Adds a seated connection; it counts as a connected participant of this node.
    pub fn add(&mut self, id: ConnectionId, conn: RemoteConn) {
        metrics::gauge!(m::CONNECTED_PARTICIPANTS, "role" => conn.role.as_str()).increment(1.0);
        if let Some(old) = self.conns.insert(id, conn) {
            gone(&old);
        }
    }

    /// Removes a connection.
    pub fn remove(&mut self, id: ConnectionId) -> Option<RemoteConn> {
        let conn = self.conns.remove(&id)?;
        gone(&conn);
        Some(conn)
    }

    /// Whether nothing here needs the session any more.
    pub fn is_unused(&self) -> bool {
        self.conns.is_empty() && self.joining == 0
    }

    /// Hands a stored event to every connection that has not had it; returns the
    /// connections that could take no more (they are removed).
    pub fn deliver(
        &mut self,
        store: &Arc<dyn Store>,
        seq: u64,
        staff_only: bool,
        frame: &Arc<str>,
    ) -> Vec<ConnectionId> {
        self.last_heard = Instant::now();
        self.last_seq = self.last_seq.max(seq);
        let received = Instant::now();
        let mut dropped = Vec::new();
        for (id, conn) in &mut self.conns {
            if seq <= conn.at {
                continue;
            }
            let mut offered = Offer::Queued;
            if seq > conn.at + 1 {
                offered = conn.outbound.offer(replay(
                    store,
                    &self.key,
                    conn.at,
                    seq - 1,
                    conn.role.is_staff(),
                ));
            }
            if offered == Offer::Queued && (conn.role.is_staff() || !staff_only) {
                offered = conn
                    .outbound
                    .offer(OutFrame::Event(Arc::clone(frame), received));
            }
            conn.at = seq;
            if offered != Offer::Queued {
                dropped.push(*id);
            }
        }
        for id in &dropped {
            self.remove(*id);
        }
        dropped
    }

    /// Brings every connection up to `seq` (stored by the owner), reading what they
    /// missed from the store; returns the connections that could take no more.
    pub fn catch_up(&mut self, store: &Arc<dyn Store>, seq: u64) -> Vec<ConnectionId> {
        self.last_seq = self.last_seq.max(seq);
        let mut dropped = Vec::new();
        for (id, conn) in &mut self.conns {
            if conn.at >= seq {
                continue;
            }
            let offered =
                conn.outbound
                    .offer(replay(store, &self.key, conn.at, seq, conn.role.is_staff()));
            conn.at = seq;
            if offered != Offer::Queued {
                dropped.push(*id);
            }
        }
        for id in &dropped {
            self.remove(*id);
        }
        dropped
    }

    /// Asks every connection to reconnect (the session moved); they are removed.
    // Limitation: when the owner changes, followers' connections reconnect and resume
    // (a pause of a round trip or two) instead of being seated with the new owner in
    // place; resuming is the one path that is already proven not to lose or repeat events.
    /// Returns the connections.
    pub fn move_off(&mut self) -> Vec<ConnectionId> {
        let mut moved = Vec::with_capacity(self.conns.len());
        for (id, conn) in self.conns.drain() {
            gone(&conn);
            conn.outbound.offer(OutFrame::Close {
                code: close_code::TRY_AGAIN,
                reason: "the session moved; reconnect",
            });
            moved.push(id);
        }
        moved
    }
}

/// A catch-up of `(after, upto]` for one connection.
pub(crate) fn replay(
    store: &Arc<dyn Store>,
    key: &SessionKey,
    after: u64,
    upto: u64,
    staff: bool,
) -> OutFrame {
    OutFrame::Replay(Box::new(ReplayRequest::new(
        Arc::clone(store),
        key.tenant.clone(),
        key.session.clone(),
        after,
        upto,
        staff,
    )))
}

fn gone(conn: &RemoteConn) {
    metrics::gauge!(m::CONNECTED_PARTICIPANTS, "role" => conn.role.as_str()).decrement(1.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{outbound, Next, OutboundReceiver};
    use vitrine_persistence::model::{SessionId, TenantId};
    use vitrine_persistence::sqlite::{SqliteOptions, SqliteStore};

    fn store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
        let options = SqliteOptions::new(dir.path().join("vitrine.db"));
        Arc::new(SqliteStore::open(&options).expect("a store"))
    }

    fn followed(conns: &[(ConnectionId, Role, u64)]) -> (RemoteSession, Vec<OutboundReceiver>) {
        let key = SessionKey {
            tenant: TenantId::new("demo"),
            session: SessionId::new("ses_1"),
        };
        let mut s = RemoteSession::new(key, "nod_owner".into());
        let mut receivers = Vec::new();
        for (id, role, at) in conns {
            let (tx, rx) = outbound(4, 0);
            s.add(
                *id,
                RemoteConn {
                    outbound: tx,
                    role: *role,
                    at: *at,
                },
            );
            receivers.push(rx);
        }
        (s, receivers)
    }

    /// What a connection's queue holds now: `E{seq-ish text}` for frames, `R{after}-{upto}`
    /// for catch-ups, `C{code}` for closes.
    async fn drain(rx: &mut OutboundReceiver) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(next) =
            tokio::time::timeout(std::time::Duration::from_millis(20), rx.next()).await
        {
            match next {
                Next::Frame(OutFrame::Event(f, _) | OutFrame::Text(f) | OutFrame::Reply(f)) => {
                    out.push(format!("E{f}"))
                }
                Next::Frame(OutFrame::Replay(r)) => out.push(format!("R{r:?}")),
                Next::Frame(OutFrame::Close { code, .. }) => out.push(format!("C{code}")),
                Next::Overflowed => out.push("overflow".into()),
                Next::Done => break,
            }
        }
        out
    }

    #[tokio::test]
    async fn each_connection_gets_each_event_once_with_gaps_read_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let (mut s, mut rx) = followed(&[(1, Role::Customer, 3), (2, Role::Shopper, 5)]);
        let frame = |n: u64| Arc::<str>::from(format!("{n}"));

        // 4 and 5: the customer gets both, the shopper (at 5 already) nothing.
        assert!(s.deliver(&store, 4, false, &frame(4)).is_empty());
        assert!(s.deliver(&store, 5, false, &frame(5)).is_empty());
        // A repeat, then a jump past a gap, then a staff-only event.
        assert!(s.deliver(&store, 5, false, &frame(5)).is_empty());
        assert!(s.deliver(&store, 8, false, &frame(8)).is_empty());
        assert!(s.deliver(&store, 9, true, &frame(9)).is_empty());

        let customer = drain(&mut rx[0]).await;
        assert_eq!(customer[..2], ["E4".to_owned(), "E5".to_owned()]);
        assert!(
            customer[2].contains("after: 5") && customer[2].contains("upto: 7"),
            "{customer:?}"
        );
        assert_eq!(customer[3], "E8");
        assert_eq!(
            customer.len(),
            4,
            "no staff-only event for a customer: {customer:?}"
        );
        let shopper = drain(&mut rx[1]).await;
        assert!(
            shopper[0].contains("after: 5") && shopper[0].contains("upto: 7"),
            "{shopper:?}"
        );
        assert_eq!(shopper[1..], ["E8".to_owned(), "E9".to_owned()]);
        assert_eq!(s.last_seq, 9);

        // A heartbeat past everyone's seq catches them up from the store; one at or below
        // changes nothing.
        assert!(s.catch_up(&store, 9).is_empty());
        assert!(s.catch_up(&store, 11).is_empty());
        let customer = drain(&mut rx[0]).await;
        assert_eq!(customer.len(), 1);
        assert!(
            customer[0].contains("after: 9") && customer[0].contains("upto: 11"),
            "{customer:?}"
        );
    }

    #[tokio::test]
    async fn a_full_queue_drops_only_that_connection_and_moving_off_closes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let (mut s, mut rx) = followed(&[(1, Role::Customer, 0), (2, Role::Customer, 0)]);
        let frame = Arc::<str>::from("x");
        // Connection 1 reads; connection 2 never does, and its queue (4) fills.
        let mut dropped = Vec::new();
        for seq in 1..=6 {
            dropped.extend(s.deliver(&store, seq, false, &frame));
            let _ = drain(&mut rx[0]).await;
        }
        assert_eq!(dropped, [2]);
        assert_eq!(s.conns.len(), 1);
        let moved = s.move_off();
        assert_eq!(moved, [1]);
        assert!(s.is_unused());
        assert_eq!(drain(&mut rx[0]).await, ["C1013"]);
    }
}
