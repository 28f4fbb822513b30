//! Where each session's actor lives. In one process: a map from session to actor address.
//!
//! Actors are spread over a fixed set of arbiters (threads), so sessions use every core
//! and one busy session never shares a thread with all the others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix::{Actor, Addr, Arbiter, ArbiterHandle};
use vitrine_persistence::model::{SessionId, TenantId};

use crate::session::{LiveSession, SessionDeps};

/// A session, by tenant and id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SessionKey {
    /// The tenant.
    pub tenant: TenantId,
    /// The session.
    pub session: SessionId,
}

struct Entry {
    activation: u64,
    addr: Addr<LiveSession>,
}

/// The in-process directory of live session actors.
pub struct LocalDirectory {
    sessions: Mutex<HashMap<SessionKey, Entry>>,
    activations: AtomicU64,
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: AtomicUsize,
    deps: Arc<SessionDeps>,
}

impl LocalDirectory {
    /// A directory that runs session actors on `threads` arbiters. Must be called inside
    /// a running actix system.
    pub fn new(deps: Arc<SessionDeps>, threads: usize) -> Arc<Self> {
        let arbiters = (0..threads.max(1))
            .map(|_| {
                let arbiter = Arbiter::new();
                let handle = arbiter.handle();
                // The arbiter lives as long as the process; its thread stops with it.
                std::mem::forget(arbiter);
                handle
            })
            .collect();
        Arc::new(Self {
            sessions: Mutex::new(HashMap::new()),
            activations: AtomicU64::new(1),
            arbiters,
            next_arbiter: AtomicUsize::new(0),
            deps,
        })
    }

    /// The actor of a session if it is active in this process.
    pub fn get(&self, key: &SessionKey) -> Option<Addr<LiveSession>> {
        let sessions = self.sessions.lock().ok()?;
        sessions
            .get(key)
            .filter(|e| e.addr.connected())
            .map(|e| e.addr.clone())
    }

    /// The actor of a session, started if it is not active. The caller must have checked
    /// that the session exists.
    pub fn get_or_start(self: &Arc<Self>, key: &SessionKey) -> Addr<LiveSession> {
        // unwrap: the lock guards plain map operations, which do not panic.
        let mut sessions = self.sessions.lock().unwrap();
        if let Some(e) = sessions.get(key).filter(|e| e.addr.connected()) {
            return e.addr.clone();
        }
        let activation = self.activations.fetch_add(1, Ordering::Relaxed);
        let arbiter =
            &self.arbiters[self.next_arbiter.fetch_add(1, Ordering::Relaxed) % self.arbiters.len()];
        let (k, deps, dir) = (key.clone(), Arc::clone(&self.deps), Arc::clone(self));
        let addr = LiveSession::start_in_arbiter(arbiter, move |_| {
            LiveSession::new(k, activation, deps, dir)
        });
        sessions.insert(
            key.clone(),
            Entry {
                activation,
                addr: addr.clone(),
            },
        );
        metrics::gauge!(crate::metrics::LIVE_SESSIONS).set(sessions.len() as f64);
        addr
    }

    /// Forgets a session's actor, if `activation` is still the registered one.
    pub fn remove(&self, key: &SessionKey, activation: u64) {
        if let Ok(mut sessions) = self.sessions.lock() {
            if sessions
                .get(key)
                .is_some_and(|e| e.activation == activation)
            {
                sessions.remove(key);
                metrics::gauge!(crate::metrics::LIVE_SESSIONS).set(sessions.len() as f64);
            }
        }
    }

    /// Every active session actor.
    pub fn all(&self) -> Vec<Addr<LiveSession>> {
        self.sessions
            .lock()
            .map(|s| s.values().map(|e| e.addr.clone()).collect())
            .unwrap_or_default()
    }

    /// Number of active session actors.
    pub fn len(&self) -> usize {
        self.sessions.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether no session is active.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What every session actor shares.
    pub fn deps(&self) -> &Arc<SessionDeps> {
        &self.deps
    }
}
