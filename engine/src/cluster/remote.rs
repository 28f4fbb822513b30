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
