//! Several nodes on one store: the Redis directory.
//!
//! - **Nodes** announce themselves under a key with a TTL of half a lease period, renew it,
//!   and remove it when they stop cleanly. Each node sweeps the nodes it cares about: a
//!   node whose key lapsed is dead, and its participants leave the sessions owned here.
//! - **Ownership**: a node owns a live session by a lease (`SET NX PX`) that it renews. The
//!   lease names the node and the fencing epoch the store gave its actor when it claimed
//!   the session, and the store refuses appends with an older epoch, so a node that lost
//!   its lease cannot append even before it notices. A node that finds its lease taken
//!   stops its actor, whose connections are told to reconnect.
//! - **Routing**: a connection may reach any node. A node that does not own the session
//!   seats the connection with the owner and forwards its commands to the owner's inbox
//!   channel; the owner publishes each stored event once on the session's channel, to
//!   which every node with participants of the session subscribes (see [`remote`]).
//! - **Failover**: when the owner dies its leases lapse (or, when its Redis connection is
//!   already closed, the first request that no node receives shows it is gone), and the
//!   next node that needs the session claims it and rebuilds it from the store.
//!   Participants of other nodes are asked to reconnect and resume by seq.
//! - **Redis trouble**: the subscriber reconnects and subscribes again to everything it
//!   needs, then brings every connection up to the store's seq; leases that lapsed
//!   meanwhile are taken again by their holder if nobody else took them.
//!
//! All Redis work runs on one arbiter of its own; Redis commands go through a
//! `deadpool-redis` pool, pub/sub through one dedicated connection, and everything this
//! node publishes through one publisher, in order.

pub mod keys;
pub mod messages;
mod remote;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use actix::{Addr, Arbiter};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;
use vitrine_persistence::Store;

use crate::directory::{LocalDirectory, SessionKey};
use crate::session::{
    CommandError, CommandReply, ConnectionId, ErrorCode, Execute, GetView, Join, JoinError, Joined,
    LiveSession, NodeGone, Offer, RemoteJoin, RemoteLeave, SessionView, StepDown, Submit,
};
use keys::Keys;
use messages::{Envelope, Reply, Request, SessionNote};
use remote::{RemoteConn, RemoteSession};

/// Tunables of the Redis directory.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// Start of every key and channel name; deployments sharing a Redis differ here.
    pub prefix: String,
    /// How long a lease (and a node's announcement) lasts without renewal: how long a dead
    /// node's sessions wait before another node takes them.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// Longest wait for the owner's reply to a forwarded command or join.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Connections in the pool for Redis commands.
    pub pool_size: usize,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            prefix: "vitrine".into(),
            lease: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            pool_size: 8,
        }
    }
}

impl ClusterSettings {
    /// How often leases and the node's announcement are renewed, nodes swept and
    /// heartbeats sent: a fifth of the lease, so four renewals may fail before it lapses.
    pub fn tick(&self) -> Duration {
        (self.lease / 5).max(Duration::from_millis(100))
    }

    /// How long a node's announcement lasts without renewal (half a lease: renewed at every
    /// tick, it survives a missed renewal or two).
    pub fn announcement(&self) -> Duration {
        self.lease / 2
    }
}

/// Why the directory could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The Redis URL does not parse.
    #[error("REDIS_URL is not a Redis URL: {0}")]
    BadUrl(String),
    /// Redis did not answer.
    #[error("Redis is unreachable: {0}")]
    Unreachable(String),
}

/// Where a session's actor runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Here: this node holds the lease.
    Here,
    /// On another node.
    Elsewhere(String),
}

/// Something the directory could not do now; retry later.
#[derive(Debug, thiserror::Error)]
#[error("the directory is unavailable: {0}")]
pub struct Unavailable(pub String);

impl From<redis::RedisError> for Unavailable {
    fn from(e: redis::RedisError) -> Self {
        Self(e.to_string())
    }
}

impl From<deadpool_redis::PoolError> for Unavailable {
    fn from(e: deadpool_redis::PoolError) -> Self {
        Self(e.to_string())
    }
}

/// A lease this node holds for one of its actors.
struct Held {
    activation: u64,
    epoch: u64,
    addr: Addr<LiveSession>,
}

/// One message to publish, in order with every other.
struct Outgoing {
    channel: String,
    payload: String,
    /// The request it carries, to fail at once if no node receives it.
    corr: Option<u64>,
}

enum Subscription {
    Add(String, oneshot::Sender<bool>),
    Remove(String),
}

/// Most messages published in one pipeline.
const PUBLISH_BATCH: usize = 512;
/// Messages waiting to be published before new ones are dropped (and noticed as gaps).
const PUBLISH_QUEUE: usize = 65_536;

/// Renews a lease this node holds (`ARGV[3]` is `node|`), answering 1; takes it back
/// when it lapsed (after a Redis restart, say), answering 2; answers 0 when another node
/// holds it. The value becomes `ARGV[1]`, the renewing activation's.
const RENEW: &str = r"
local v = redis.call('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
if string.sub(v, 1, string.len(ARGV[3])) == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0";

/// Deletes a lease if `ARGV[1]` (`node|activation|`) still holds it: one activation never
/// deletes the lease of a later one on the same node.
const RELEASE: &str = r"
local v = redis.call('GET', KEYS[1])
if v ~= false and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// The Redis directory of one node.
pub struct Cluster {
    node: String,
    keys: Keys,
    settings: ClusterSettings,
    pool: deadpool_redis::Pool,
    client: redis::Client,
    store: Arc<dyn Store>,
    out: mpsc::Sender<Outgoing>,
    out_rx: Mutex<Option<mpsc::Receiver<Outgoing>>>,
    subs: mpsc::UnboundedSender<Subscription>,
    subs_rx: Mutex<Option<mpsc::UnboundedReceiver<Subscription>>>,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>,
    next_corr: AtomicU64,
    /// Sessions owned elsewhere with connections here, by event channel.
    remotes: Mutex<HashMap<String, RemoteSession>>,
    /// Leases this node holds.
    held: Mutex<HashMap<SessionKey, Held>>,
    /// Nodes with connections to sessions owned here.
    member_nodes: Mutex<HashSet<String>>,
    directory: OnceLock<Weak<LocalDirectory>>,
    trace: OnceLock<Arc<dyn TraceContext>>,
    stopping: AtomicBool,
}

/// Carries trace context across the forwarding hop; the gateway provides it when traces
/// are exported.
pub trait TraceContext: Send + Sync {
    /// The W3C `traceparent` of `span`, if it is being traced.
    fn inject(&self, span: &tracing::Span) -> Option<String>;
    /// Makes `span` a child of the remote `traceparent`.
    fn extract(&self, traceparent: &str, span: &tracing::Span);
}

impl Cluster {
    /// Connects to Redis at `url` and checks that it answers. The node joins the cluster
    /// once [`Cluster::run`] is called.
    pub async fn connect(
        url: &str,
        settings: ClusterSettings,
        store: Arc<dyn Store>,
    ) -> Result<Arc<Self>, ClusterError> {
        let client = redis::Client::open(url).map_err(|e| ClusterError::BadUrl(e.to_string()))?;
        let mut config = deadpool_redis::Config::from_url(url);
        config.pool = Some(deadpool_redis::PoolConfig {
            max_size: settings.pool_size.max(2),
            timeouts: deadpool_redis::Timeouts {
                wait: Some(settings.request_timeout),
                create: Some(settings.request_timeout),
                recycle: Some(settings.request_timeout),
            },
            ..Default::default()
        });
        let pool = config
            .create_pool(Some(deadpool_redis::Runtime::Tokio1))
            .map_err(|e| ClusterError::BadUrl(e.to_string()))?;
        let ping = async {
            let mut conn = pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(settings.request_timeout, ping).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(ClusterError::Unreachable(e)),
            Err(_) => return Err(ClusterError::Unreachable("no answer to PING".into())),
        }
        let (out, out_rx) = mpsc::channel(PUBLISH_QUEUE);
        let (subs, subs_rx) = mpsc::unbounded_channel();
        let node = vitrine_persistence::model::NodeId::generate().into_string();
        Ok(Arc::new(Self {
            keys: Keys::new(&settings.prefix),
            node,
            settings,
            pool,
            client,
            store,
            out,
            out_rx: Mutex::new(Some(out_rx)),
            subs,
            subs_rx: Mutex::new(Some(subs_rx)),
            pending: Arc::new(Mutex::new(HashMap::new())),
            next_corr: AtomicU64::new(1),
            remotes: Mutex::new(HashMap::new()),
            held: Mutex::new(HashMap::new()),
            member_nodes: Mutex::new(HashSet::new()),
            directory: OnceLock::new(),
            trace: OnceLock::new(),
            stopping: AtomicBool::new(false),
        }))
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The settings.
    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    /// Lets forwarded commands carry trace context.
    pub fn set_trace_context(&self, trace: Arc<dyn TraceContext>) {
        let _ = self.trace.set(trace);
    }

    /// Joins the cluster: announces the node, listens on its inbox, and keeps leases and
    /// announcements alive, on an arbiter of its own. `directory` holds this node's actors.
    pub fn run(self: &Arc<Self>, directory: &Arc<LocalDirectory>) {
        let _ = self.directory.set(Arc::downgrade(directory));
        let arbiter = Arbiter::new();
        let (out_rx, subs_rx) = (
            self.out_rx.lock().ok().and_then(|mut r| r.take()),
            self.subs_rx.lock().ok().and_then(|mut r| r.take()),
        );
        let (Some(out_rx), Some(subs_rx)) = (out_rx, subs_rx) else {
            return;
        };
        let (me1, me2, me3) = (Arc::clone(self), Arc::clone(self), Arc::clone(self));
        arbiter.spawn(async move { me1.publisher(out_rx).await });
        arbiter.spawn(async move { me2.subscriber(subs_rx).await });
        arbiter.spawn(async move { me3.keeper().await });
        // The arbiter lives as long as the process.
        std::mem::forget(arbiter);
        tracing::info!(node = %self.node, prefix = %self.settings.prefix, "node joined the cluster");
    }

    fn directory(&self) -> Option<Arc<LocalDirectory>> {
        self.directory.get().and_then(Weak::upgrade)
    }

    async fn conn(&self) -> Result<deadpool_redis::Connection, Unavailable> {
        Ok(self.pool.get().await?)
    }

    /// A lease's value: `{node}|{activation}|{epoch}` (activation 0 until an actor holds it).
    fn lease_value(&self, activation: u64, epoch: u64) -> String {
        format!("{}|{activation}|{epoch}", self.node)
    }

    fn lease_owner(value: &str) -> &str {
        value.split('|').next().unwrap_or_default()
    }

    // ---- ownership ----------------------------------------------------------------

    /// Where the session's actor runs, taking the lease when nobody holds it.
    #[tracing::instrument(name = "redis.place", level = "debug", skip_all,
        fields(tenant_id = %key.tenant, session_id = %key.session))]
    pub async fn place(&self, key: &SessionKey) -> Result<Placement, Unavailable> {
        let lease = self.keys.lease(key);
        let px = self.settings.lease.as_millis() as u64;
        let mut conn = self.conn().await?;
        for _ in 0..3 {
            let taken: Option<String> = redis::cmd("SET")
                .arg(&lease)
                .arg(self.lease_value(0, 0))
                .arg("NX")
                .arg("PX")
                .arg(px)
                .query_async(&mut conn)
                .await?;
            if taken.is_some() {
                return Ok(Placement::Here);
            }
            let holder: Option<String> =
                redis::cmd("GET").arg(&lease).query_async(&mut conn).await?;
            match holder {
                // It lapsed just now: try again.
                None => continue,
                Some(v) if Self::lease_owner(&v) == self.node => return Ok(Placement::Here),
                Some(v) => return Ok(Placement::Elsewhere(Self::lease_owner(&v).to_owned())),
            }
        }
        Err(Unavailable("the lease keeps changing hands".into()))
    }

    /// The node holding the session's lease, when it is another node.
    #[tracing::instrument(name = "redis.owner_of", level = "debug", skip_all,
        fields(tenant_id = %key.tenant, session_id = %key.session))]
    pub async fn owner_of(&self, key: &SessionKey) -> Option<String> {
        let mut conn = self.conn().await.ok()?;
        let holder: Option<String> = redis::cmd("GET")
            .arg(self.keys.lease(key))
            .query_async(&mut conn)
            .await
            .ok()?;
        let owner = Self::lease_owner(&holder?).to_owned();
        (owner != self.node).then_some(owner)
    }

    /// Whether Redis answers.
    #[tracing::instrument(name = "redis.ping", level = "debug", skip_all)]
    pub async fn ping(&self) -> Result<(), Unavailable> {
        let mut conn = self.conn().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }

    /// Whether this node still holds the session's lease.
    #[tracing::instrument(name = "redis.holds", level = "debug", skip_all,
        fields(tenant_id = %key.tenant, session_id = %key.session))]
    pub async fn holds(&self, key: &SessionKey) -> Result<bool, Unavailable> {
        let mut conn = self.conn().await?;
        let holder: Option<String> = redis::cmd("GET")
            .arg(self.keys.lease(key))
            .query_async(&mut conn)
            .await?;
        Ok(holder.is_some_and(|v| Self::lease_owner(&v) == self.node))
    }

    /// Called by an actor once it started: its lease is renewed while it runs.
    pub fn hold(&self, key: &SessionKey, activation: u64, addr: Addr<LiveSession>) {
        if let Ok(mut held) = self.held.lock() {
            held.insert(
                key.clone(),
                Held {
                    activation,
                    epoch: 0,
                    addr,
                },
            );
        }
    }

    /// Called by an actor once it claimed the session in the store: the lease carries the
    /// epoch from the next renewal on.
    pub fn set_epoch(self: &Arc<Self>, key: &SessionKey, activation: u64, epoch: u64) {
        let addr = self.held.lock().ok().and_then(|mut held| {
            let h = held.get_mut(key).filter(|h| h.activation == activation)?;
            h.epoch = epoch;
            Some(h.addr.clone())
        });
        let Some(addr) = addr else { return };
        // Written now rather than at the next tick, so that the lease names this activation
        // (which alone may release it) from the start.
        let span = tracing::debug_span!("redis.claim", tenant_id = %key.tenant,
            session_id = %key.session, epoch);
        let (me, key) = (Arc::clone(self), key.clone());
        let claim = async move {
            let renewed = async {
                let mut conn = me.conn().await?;
                let outcome: i64 = redis::cmd("EVAL")
                    .arg(RENEW)
                    .arg(1)
                    .arg(me.keys.lease(&key))
                    .arg(me.lease_value(activation, epoch))
                    .arg(me.settings.lease.as_millis() as u64)
                    .arg(format!("{}|", me.node))
                    .query_async(&mut conn)
                    .await?;
                Ok::<_, Unavailable>(outcome)
            };
            match renewed.await {
                Ok(0) => {
                    tracing::warn!(session_id = %key.session, "lost a session's lease; stepping down");
                    me.forget_held(&key, activation);
                    addr.do_send(StepDown);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e.0, "could not write a lease; the next tick will")
                }
            }
        };
        actix::spawn(claim.instrument(span));
    }

    /// Called by an actor when it stops: gives the lease up.
    pub fn release(self: &Arc<Self>, key: &SessionKey, activation: u64) {
        let mine = self
            .held
            .lock()
            .map(|mut held| {
                if held.get(key).is_some_and(|h| h.activation == activation) {
                    held.remove(key);
                    true
                } else {
                    false
                }
            })
            .unwrap_or(false);
        if !mine {
            return;
        }
        let span = tracing::debug_span!("redis.release", tenant_id = %key.tenant,
            session_id = %key.session);
        let (me, key) = (Arc::clone(self), key.clone());
        let release = async move {
            let released = async {
                let mut conn = me.conn().await?;
                let mut pipe = redis::pipe();
                me.release_into(&mut pipe, &key, activation);
                pipe.query_async::<()>(&mut conn).await?;
                Ok::<_, Unavailable>(())
            };
            if let Err(e) = released.await {
                tracing::warn!(error = %e.0, "could not give a lease up; it lapses by itself");
            }
        };
        actix::spawn(release.instrument(span));
    }

    /// Adds the release of one activation's lease to `pipe`.
    fn release_into(&self, pipe: &mut redis::Pipeline, key: &SessionKey, activation: u64) {
        pipe.cmd("EVAL")
            .arg(RELEASE)
            .arg(1)
            .arg(self.keys.lease(key))
            .arg(format!("{}|{activation}|", self.node))
            .ignore();
    }

    // ---- publishing -----------------------------------------------------------------

    fn publish(&self, channel: String, payload: String, corr: Option<u64>) -> bool {
        match self.out.try_send(Outgoing {
            channel,
            payload,
            corr,
        }) {
            Ok(()) => true,
            Err(_) => {
                metrics::counter!(crate::metrics::CLUSTER_DROPPED).increment(1);
                false
            }
        }
    }

    /// Publishes a stored event of a session owned here, once for every other node.
    pub fn publish_event(&self, key: &SessionKey, seq: u64, staff_only: bool, frame: &str) {
        let note = SessionNote::encode_event(seq, staff_only, frame);
        self.publish(self.keys.events(key), note, None);
    }

    /// Tells the nodes following a session that its owner lives and stored up to `seq`.
    pub fn publish_heartbeat(&self, key: &SessionKey, seq: u64) {
        let note = SessionNote::Heartbeat {
            seq,
            node: self.node.clone(),
        };
        self.publish(self.keys.events(key), note.encode(), None);
    }

    /// Tells the nodes following a session that it is no longer served here.
    pub fn publish_moved(&self, key: &SessionKey) {
        let note = SessionNote::Moved {
            node: self.node.clone(),
        };
        self.publish(self.keys.events(key), note.encode(), None);
    }

    fn send_envelope(&self, node: &str, envelope: &Envelope, corr: Option<u64>) -> bool {
        match serde_json::to_string(envelope) {
            Ok(payload) => self.publish(self.keys.inbox(node), payload, corr),
            Err(e) => {
                tracing::error!(error = %e, "could not encode a message to another node");
                false
            }
        }
    }

    /// Sends a request now (in order with everything else this node publishes) and
    /// returns the wait for its reply.
    fn request(&self, owner: &str, request: Request) -> impl Future<Output = Reply> + Send {
        let corr = self.next_corr.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(corr, tx);
        }
        let envelope = Envelope::Request {
            from: self.node.clone(),
            corr,
            request,
        };
        let sent = self.send_envelope(owner, &envelope, Some(corr));
        if !sent {
            self.answer(corr, Reply::Lost);
        }
        let timeout = self.settings.request_timeout;
        // Whether the wait ends or is dropped, the request stops waiting for a reply.
        let waiting = Waiting {
            pending: Arc::clone(&self.pending),
            corr,
        };
        async move {
            let reply = tokio::time::timeout(timeout, rx).await;
            drop(waiting);
            match reply {
                Ok(Ok(reply)) => reply,
                _ => Reply::Lost,
            }
        }
    }

    fn answer(&self, corr: u64, reply: Reply) {
        let tx = self.pending.lock().ok().and_then(|mut p| p.remove(&corr));
        if let Some(tx) = tx {
            let _ = tx.send(reply);
        }
    }

    async fn publisher(self: Arc<Self>, mut rx: mpsc::Receiver<Outgoing>) {
        let mut batch: Vec<Outgoing> = Vec::with_capacity(PUBLISH_BATCH);
        loop {
            let Some(first) = rx.recv().await else { return };
            batch.push(first);
            while batch.len() < PUBLISH_BATCH {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            let mut pipe = redis::pipe();
            for m in &batch {
                pipe.cmd("PUBLISH").arg(&m.channel).arg(&m.payload);
            }
            let span = tracing::debug_span!("redis.publish", messages = batch.len());
            let result: Result<Vec<i64>, String> = async {
                match self.pool.get().await {
                    Ok(mut conn) => pipe.query_async(&mut conn).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
            .instrument(span)
            .await;
            match result {
                Ok(receivers) => {
                    for (m, n) in batch.iter().zip(receivers) {
                        if let (Some(corr), 0) = (m.corr, n) {
                            self.answer(corr, Reply::Unreachable);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, messages = batch.len(),
                        "could not publish to Redis; followers catch up from the store");
                    metrics::counter!(crate::metrics::CLUSTER_DROPPED)
                        .increment(batch.len() as u64);
                    for m in &batch {
                        if let Some(corr) = m.corr {
                            self.answer(corr, Reply::Lost);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            batch.clear();
        }
    }

    // ---- subscribing ----------------------------------------------------------------

    #[tracing::instrument(name = "redis.subscribe", level = "debug", skip_all)]
    async fn subscribe(&self, channel: String) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.subs.send(Subscription::Add(channel, tx)).is_err() {
            return false;
        }
        tokio::time::timeout(self.settings.request_timeout, rx)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(false)
    }

    fn unsubscribe(&self, channel: String) {
        let _ = self.subs.send(Subscription::Remove(channel));
    }

    async fn subscriber(self: Arc<Self>, mut commands: mpsc::UnboundedReceiver<Subscription>) {
        let inbox = self.keys.inbox(&self.node);
        let mut connected_before = false;
        let mut backoff = Duration::from_millis(50);
        loop {
            let pubsub = match self.client.get_async_pubsub().await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "Redis pub/sub unreachable; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    continue;
                }
            };
            let (mut sink, mut stream) = pubsub.split();
            let mut wanted: Vec<String> = vec![inbox.clone()];
            if let Ok(remotes) = self.remotes.lock() {
                wanted.extend(remotes.keys().cloned());
            }
            if let Err(e) = sink.subscribe(&wanted).await {
                tracing::warn!(error = %e, "could not subscribe; retrying");
                tokio::time::sleep(backoff).await;
                continue;
            }
            backoff = Duration::from_millis(50);
            if connected_before {
                tracing::info!(
                    channels = wanted.len(),
                    "Redis pub/sub back; subscribed again"
                );
                let me = Arc::clone(&self);
                actix::spawn(async move { me.resync_all().await });
            }
            connected_before = true;
            loop {
                tokio::select! {
                    msg = stream.next() => match msg {
                        Some(msg) => self.on_message(msg.get_channel_name(), msg.get_payload_bytes()),
                        None => break,
                    },
                    cmd = commands.recv() => match cmd {
                        Some(Subscription::Add(channel, ack)) => {
                            let ok = sink.subscribe(&channel).await.is_ok();
                            let _ = ack.send(ok);
                        }
                        Some(Subscription::Remove(channel)) => {
                            let _ = sink.unsubscribe(&channel).await;
                        }
                        None => return,
                    },
                }
            }
            if self.stopping.load(Ordering::Relaxed) {
                return;
            }
            tracing::warn!("Redis pub/sub connection lost; reconnecting");
        }
    }

    /// After a resubscription: brings every followed session up to the store's seq.
    async fn resync_all(&self) {
        let keys: Vec<(String, SessionKey)> = self
            .remotes
            .lock()
            .map(|r| r.iter().map(|(c, s)| (c.clone(), s.key.clone())).collect())
            .unwrap_or_default();
        for (channel, key) in keys {
            match self.store.session(&key.tenant, &key.session).await {
                Ok(Some(row)) => {
                    let dropped = self
                        .remotes
                        .lock()
                        .ok()
                        .and_then(|mut r| {
                            r.get_mut(&channel).map(|s| {
                                s.last_heard = Instant::now();
                                s.catch_up(&self.store, row.seq)
                            })
                        })
                        .unwrap_or_default();
                    self.left_remotely(&channel, dropped);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not read a session's seq to catch up"),
            }
        }
    }

    fn on_message(self: &Arc<Self>, channel: &str, payload: &[u8]) {
        let Ok(text) = std::str::from_utf8(payload) else {
            tracing::warn!(channel, "a Redis message is not UTF-8; ignored");
            return;
        };
        if channel.starts_with(&self.keys.events_prefix()) {
            self.on_session_note(channel, text);
            return;
        }
        match serde_json::from_str::<Envelope>(text) {
            Ok(envelope) => self.on_envelope(envelope),
            // The error's kind and place only: its text may quote the message.
            Err(e) => tracing::warn!(channel, kind = ?e.classify(), line = e.line(),
                column = e.column(), "an inbox message does not read; ignored"),
        }
    }

    fn on_session_note(&self, channel: &str, text: &str) {
        let Some(note) = SessionNote::decode(text) else {
            tracing::warn!(
                channel,
                bytes = text.len(),
                "a session note does not read; ignored"
            );
            return;
        };
        let Ok(mut remotes) = self.remotes.lock() else {
            return;
        };
        let Some(session) = remotes.get_mut(channel) else {
            return;
        };
        let dropped = match note {
            SessionNote::Event {
                seq,
                staff_only,
                frame,
            } => {
                if !is_event_frame(&frame, seq) {
                    tracing::warn!(
                        channel,
                        seq,
                        "a session note's frame is not that event; ignored"
                    );
                    return;
                }
                session.deliver(&self.store, seq, staff_only, &frame)
            }
            SessionNote::Heartbeat { seq, node } if node == session.owner => {
                session.last_heard = Instant::now();
                session.catch_up(&self.store, seq)
            }
            SessionNote::Moved { node } if node == session.owner => {
                self.unfollow(&mut remotes, channel);
                return;
            }
            // From a node that owned the session before: stale.
            SessionNote::Heartbeat { .. } | SessionNote::Moved { .. } => Vec::new(),
        };
        drop(remotes);
        self.left_remotely(channel, dropped);
    }

    fn on_envelope(self: &Arc<Self>, envelope: Envelope) {
        match envelope {
            Envelope::Reply { corr, reply } => self.answer(corr, reply),
            Envelope::Request {
                from,
                corr,
                request,
            } => self.serve(from, corr, request),
            Envelope::Leave { from, key, conn } => {
                if let Some(addr) = self.owned(&key) {
                    addr.do_send(RemoteLeave { node: from, conn });
                }
            }
            Envelope::Evicted { key } => self.drop_followers(&key),
        }
    }

    /// The actor of a session this node owns.
    fn owned(&self, key: &SessionKey) -> Option<Addr<LiveSession>> {
        self.directory()?.get(key)
    }

    /// Answers a request of another node, handing it to the actor right away so requests
    /// keep their order.
    fn serve(self: &Arc<Self>, from: String, corr: u64, request: Request) {
        let Some(addr) = (match &request {
            Request::Execute { key, .. } | Request::Join { key, .. } | Request::View { key } => {
                self.owned(key)
            }
        }) else {
            self.reply(&from, corr, Reply::NotOwner);
            return;
        };
        let me = Arc::clone(self);
        match request {
            Request::Execute {
                key,
                caller,
                command_id,
                command,
                trace,
            } => {
                let name = command.name();
                let span = tracing::debug_span!(
                    parent: None,
                    "cluster.execute",
                    otel.name = name,
                    command = name,
                    tenant_id = %key.tenant,
                    session_id = %key.session,
                    participant_id = %caller.participant_id,
                    from = %from,
                    outcome = tracing::field::Empty,
                );
                if let (Some(trace), Some(tc)) = (trace, self.trace.get()) {
                    tc.extract(&trace, &span);
                }
                let (tx, sent) = tokio::sync::oneshot::channel();
                addr.do_send(Submit {
                    exec: Execute {
                        caller,
                        command_id,
                        command,
                        span,
                    },
                    reply: tx,
                });
                actix::spawn(async move {
                    let reply = match sent.await {
                        Ok(reply) => Reply::Command { reply },
                        Err(_) => Reply::NotOwner,
                    };
                    me.reply(&from, corr, reply);
                });
            }
            Request::Join {
                key: _,
                conn,
                caller,
            } => {
                if let Ok(mut nodes) = self.member_nodes.lock() {
                    nodes.insert(from.clone());
                }
                let sent = addr.send(RemoteJoin {
                    node: from.clone(),
                    conn,
                    caller,
                });
                actix::spawn(async move {
                    let reply = match sent.await {
                        Ok(Ok((joined, welcome))) => Reply::Joined {
                            joined,
                            welcome: welcome.to_string(),
                        },
                        Ok(Err(error)) => Reply::JoinFailed { error },
                        Err(_) => Reply::NotOwner,
                    };
                    me.reply(&from, corr, reply);
                });
            }
            Request::View { .. } => {
                let sent = addr.send(GetView);
                actix::spawn(async move {
                    let reply = match sent.await {
                        Ok(Ok(view)) => Reply::View {
                            view: Box::new(view),
                        },
                        _ => Reply::NotOwner,
                    };
                    me.reply(&from, corr, reply);
                });
            }
        }
    }

    fn reply(&self, to: &str, corr: u64, reply: Reply) {
        self.send_envelope(to, &Envelope::Reply { corr, reply }, None);
    }

    /// Tells `node` that its connections to `key` no longer count here.
    pub fn evict(&self, node: &str, key: &SessionKey) {
        self.send_envelope(node, &Envelope::Evicted { key: key.clone() }, None);
    }

    // ---- following sessions owned elsewhere -------------------------------------------

    /// The owner of a session this node follows, if it follows it.
    pub fn followed_owner(&self, key: &SessionKey) -> Option<String> {
        let channel = self.keys.events(key);
        self.remotes
            .lock()
            .ok()?
            .get(&channel)
            .map(|s| s.owner.clone())
    }

    /// Forwards a command to the owner. The request is sent before this returns, so
    /// commands forwarded one after the other arrive in that order.
    pub fn forward(
        &self,
        owner: &str,
        key: &SessionKey,
        exec: Execute,
    ) -> impl Future<Output = Reply> + Send {
        let trace = self.trace.get().and_then(|tc| tc.inject(&exec.span));
        self.request(
            owner,
            Request::Execute {
                key: key.clone(),
                caller: exec.caller,
                command_id: exec.command_id,
                command: exec.command,
                trace,
            },
        )
    }

    /// Reads the live state of a session from its owner.
    // Limitation: an owner that is frozen (not dead) holds the read for the whole
    // `request_timeout` before the stored state is answered, without live presence.
    pub async fn view_remote(&self, owner: &str, key: &SessionKey) -> Option<SessionView> {
        match self
            .request(owner, Request::View { key: key.clone() })
            .await
        {
            Reply::View { view } => Some(*view),
            _ => None,
        }
    }

    /// Seats a local connection with the session's owner and follows the session for it.
    pub async fn join_remote(
        &self,
        owner: &str,
        key: &SessionKey,
        join: Join,
    ) -> Result<Joined, RemoteJoinError> {
        let channel = self.keys.events(key);
        let fresh = {
            let Ok(mut remotes) = self.remotes.lock() else {
                return Err(RemoteJoinError::Failed(JoinError::Unavailable));
            };
            if remotes.get(&channel).is_some_and(|s| s.owner != owner) {
                // A different owner now: the old one's followers start over.
                self.unfollow(&mut remotes, &channel);
            }
            match remotes.get_mut(&channel) {
                Some(s) => {
                    s.joining += 1;
                    false
                }
                None => {
                    let mut s = RemoteSession::new(key.clone(), owner.to_owned());
                    s.joining = 1;
                    remotes.insert(channel.clone(), s);
                    true
                }
            }
        };
        // However this ends (even if the caller gives up waiting), the attempt is counted
        // out, and the session forgotten when nothing here follows it any more.
        let _joining = Joining {
            cluster: self,
            channel: &channel,
        };
        // Subscribed before the owner seats the connection, so no event after the
        // welcome can pass by unseen.
        if fresh && !self.subscribe(channel.clone()).await {
            return Err(RemoteJoinError::Failed(JoinError::Unavailable));
        }
        let reply = self
            .request(
                owner,
                Request::Join {
                    key: key.clone(),
                    conn: join.conn_id,
                    caller: join.caller.clone(),
                },
            )
            .await;
        match reply {
            Reply::Joined { joined, welcome } => {
                if self.seat(&channel, owner, &join, &joined, welcome) {
                    Ok(joined)
                } else {
                    self.send_leave(owner, key, join.conn_id);
                    Err(RemoteJoinError::Failed(JoinError::Unavailable))
                }
            }
            Reply::JoinFailed { error } => Err(RemoteJoinError::Failed(error)),
            Reply::NotOwner => Err(RemoteJoinError::Moved),
            _ => {
                // No answer in time: the owner may still have seated the connection.
                self.send_leave(owner, key, join.conn_id);
                Err(RemoteJoinError::Failed(JoinError::Unavailable))
            }
        }
    }

    /// Queues the welcome and anything since, then lets events flow to the connection;
    /// `false` if the connection could not be seated here after all.
    fn seat(
        &self,
        channel: &str,
        owner: &str,
        join: &Join,
        joined: &Joined,
        welcome: String,
    ) -> bool {
        let Ok(mut remotes) = self.remotes.lock() else {
            return false;
        };
        let Some(s) = remotes.get_mut(channel).filter(|s| s.owner == owner) else {
            return false;
        };
        s.last_heard = Instant::now();
        let staff = joined.role.is_staff();
        let upto = s.last_seq.max(joined.seq);
        let after = join.resume_after.unwrap_or(joined.seq).min(upto);
        let mut offered = join.outbound.offer_text(Arc::from(welcome));
        if offered == Offer::Queued && after < upto {
            offered = join
                .outbound
                .offer(remote::replay(&self.store, &s.key, after, upto, staff));
        }
        if offered != Offer::Queued {
            return false;
        }
        s.add(
            join.conn_id,
            RemoteConn {
                outbound: join.outbound.clone(),
                role: joined.role,
                at: upto,
            },
        );
        true
    }

    /// Ends a join attempt; forgets the session when nothing here follows it any more.
    fn joined_or_not(&self, channel: &str) {
        let Ok(mut remotes) = self.remotes.lock() else {
            return;
        };
        let unused = remotes.get_mut(channel).is_some_and(|s| {
            s.joining = s.joining.saturating_sub(1);
            s.is_unused()
        });
        if unused {
            self.unfollow(&mut remotes, channel);
        }
    }

    /// A local connection to a followed session closed; `false` if it was not one.
    pub fn leave_remote(&self, key: &SessionKey, conn: ConnectionId) -> bool {
        let channel = self.keys.events(key);
        let removed = self
            .remotes
            .lock()
            .ok()
            .and_then(|mut r| r.get_mut(&channel)?.remove(conn))
            .is_some();
        if removed {
            self.left_remotely(&channel, vec![conn]);
        }
        removed
    }

    /// Tells the owner about connections that left a followed session, and stops
    /// following it when none is left.
    fn left_remotely(&self, channel: &str, conns: Vec<ConnectionId>) {
        if conns.is_empty() {
            return;
        }
        let Ok(mut remotes) = self.remotes.lock() else {
            return;
        };
        let Some(s) = remotes.get(channel) else {
            return;
        };
        for conn in conns {
            self.send_leave(&s.owner, &s.key, conn);
        }
        if s.is_unused() {
            self.unfollow(&mut remotes, channel);
        }
    }

    // Limitation: a `Leave` lost on the way (Redis down, the publish queue full, the owner
    // reconnecting its subscriber) leaves the owner counting a connection that is gone
    // until this node is taken for dead; followers do not yet report the connections they
    // hold so the owner could drop the rest.
    fn send_leave(&self, owner: &str, key: &SessionKey, conn: ConnectionId) {
        let leave = Envelope::Leave {
            from: self.node.clone(),
            key: key.clone(),
            conn,
        };
        self.send_envelope(owner, &leave, None);
    }

    /// Stops following a session: its connections here are asked to reconnect (the owner
    /// hears that they left) and the channel is unsubscribed. Called with the lock held, so
    /// an unsubscription can never overtake the subscription of a later follower.
    fn unfollow(&self, remotes: &mut HashMap<String, RemoteSession>, channel: &str) {
        let Some(mut s) = remotes.remove(channel) else {
            return;
        };
        for conn in s.move_off() {
            self.send_leave(&s.owner, &s.key, conn);
        }
        self.unsubscribe(channel.to_owned());
    }

    /// Stops following the sessions whose channels `pick` selects.
    fn unfollow_where(&self, pick: impl Fn(&RemoteSession) -> bool) -> usize {
        let Ok(mut remotes) = self.remotes.lock() else {
            return 0;
        };
        let channels: Vec<String> = remotes
            .iter()
            .filter(|(_, s)| pick(s))
            .map(|(c, _)| c.clone())
            .collect();
        for channel in &channels {
            self.unfollow(&mut remotes, channel);
        }
        channels.len()
    }

    /// Asks the local followers of a session to reconnect (this node now owns it).
    pub fn drop_followers(&self, key: &SessionKey) {
        let channel = self.keys.events(key);
        if let Ok(mut remotes) = self.remotes.lock() {
            self.unfollow(&mut remotes, &channel);
        }
    }

    // ---- keeping alive --------------------------------------------------------------

    /// Renews leases and the announcement, sweeps dead nodes, sends heartbeats and drops
    /// followed sessions whose owner fell silent, every tick.
    async fn keeper(self: Arc<Self>) {
        let tick = self.settings.tick();
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut alive: HashSet<String> = HashSet::new();
        let mut missing: HashMap<String, Instant> = HashMap::new();
        loop {
            interval.tick().await;
            if self.stopping.load(Ordering::Relaxed) {
                return;
            }
            if let Err(e) = self.renew().await {
                tracing::warn!(error = %e.0, "could not renew leases; retrying");
            }
            match self.sweep(&mut alive, &mut missing).await {
                Ok(dead) => {
                    for node in dead {
                        self.node_gone(&node);
                    }
                }
                Err(e) => tracing::warn!(error = %e.0, "could not sweep nodes; retrying"),
            }
            self.silent_owners();
        }
    }

    #[tracing::instrument(name = "redis.renew", level = "debug", skip_all)]
    async fn renew(&self) -> Result<(), Unavailable> {
        let px = self.settings.lease.as_millis() as u64;
        let announce_px = self.settings.announcement().as_millis() as u64;
        let held: Vec<(SessionKey, u64, u64, Addr<LiveSession>)> = self
            .held
            .lock()
            .map(|h| {
                h.iter()
                    .map(|(k, h)| (k.clone(), h.activation, h.epoch, h.addr.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.keys.node(&self.node))
            .arg(serde_json::json!({"node": self.node}).to_string())
            .arg("PX")
            .arg(announce_px)
            .ignore()
            .cmd("SADD")
            .arg(self.keys.nodes())
            .arg(&self.node)
            .ignore();
        for (key, activation, epoch, _) in &held {
            pipe.cmd("EVAL")
                .arg(RENEW)
                .arg(1)
                .arg(self.keys.lease(key))
                .arg(self.lease_value(*activation, *epoch))
                .arg(px)
                .arg(format!("{}|", self.node));
        }
        let mut conn = self.conn().await?;
        let renewed: Vec<i64> = pipe.query_async(&mut conn).await?;
        for ((key, activation, epoch, addr), outcome) in held.into_iter().zip(renewed) {
            match outcome {
                0 => {
                    tracing::warn!(session_id = %key.session, "lost a session's lease; stepping down");
                    self.forget_held(&key, activation);
                    addr.do_send(StepDown);
                }
                // Taken back after it lapsed: meanwhile another node may have owned the
                // session (and released it). Its claim shows in the store's epoch.
                2 if epoch > 0 => {
                    let store = Arc::clone(&self.store);
                    actix::spawn(async move {
                        if let Ok(Some(row)) = store.session(&key.tenant, &key.session).await {
                            if row.owner_epoch != epoch {
                                tracing::warn!(session_id = %key.session,
                                    "the session was owned elsewhere meanwhile; stepping down");
                                addr.do_send(StepDown);
                            }
                        }
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn forget_held(&self, key: &SessionKey, activation: u64) {
        if let Ok(mut held) = self.held.lock() {
            if held.get(key).is_some_and(|h| h.activation == activation) {
                held.remove(key);
            }
        }
    }

    /// Finds the nodes that died since the last sweep among those this node cares about: a
    /// node is dead once its announcement has been missing for half a lease (right after a
    /// Redis restart every announcement is missing until its node renews it, a tick later).
    /// With announcements lasting half a lease, a dead node is found within about a lease.
    #[tracing::instrument(name = "redis.sweep", level = "debug", skip_all)]
    async fn sweep(
        &self,
        alive: &mut HashSet<String>,
        missing: &mut HashMap<String, Instant>,
    ) -> Result<Vec<String>, Unavailable> {
        let mut conn = self.conn().await?;
        let announced: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.keys.nodes())
            .query_async(&mut conn)
            .await?;
        let mut candidates: HashSet<String> = announced.into_iter().collect();
        candidates.extend(alive.iter().cloned());
        if let Ok(nodes) = self.member_nodes.lock() {
            candidates.extend(nodes.iter().cloned());
        }
        if let Ok(remotes) = self.remotes.lock() {
            candidates.extend(remotes.values().map(|s| s.owner.clone()));
        }
        candidates.remove(&self.node);
        let candidates: Vec<String> = candidates.into_iter().collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for node in &candidates {
            pipe.cmd("EXISTS").arg(self.keys.node(node));
        }
        let exists: Vec<i64> = pipe.query_async(&mut conn).await?;
        let mut dead = Vec::new();
        for (node, e) in candidates.into_iter().zip(exists) {
            if e != 0 {
                missing.remove(&node);
                alive.insert(node);
                continue;
            }
            let since = *missing.entry(node.clone()).or_insert_with(Instant::now);
            if since.elapsed() >= self.settings.announcement() {
                missing.remove(&node);
                dead.push(node);
            }
        }
        if !dead.is_empty() {
            let _: () = redis::cmd("SREM")
                .arg(self.keys.nodes())
                .arg(&dead)
                .query_async(&mut conn)
                .await?;
        }
        for node in &dead {
            alive.remove(node);
        }
        Ok(dead)
    }

    fn node_gone(&self, node: &str) {
        tracing::warn!(node, "node gone: its announcement lapsed");
        if let Ok(mut nodes) = self.member_nodes.lock() {
            nodes.remove(node);
        }
        if let Some(directory) = self.directory() {
            for addr in directory.all() {
                addr.do_send(NodeGone {
                    node: node.to_owned(),
                });
            }
        }
        self.unfollow_where(|s| s.owner == node);
    }

    /// Followers of a session whose owner said nothing for a lease period reconnect.
    fn silent_owners(&self) {
        let lease = self.settings.lease;
        let silent = self.unfollow_where(|s| s.joining == 0 && s.last_heard.elapsed() > lease);
        if silent > 0 {
            tracing::warn!(
                sessions = silent,
                "owners fell silent; their followers reconnect"
            );
        }
    }

    /// Leaves the cluster: gives every lease up and removes the announcement, so other
    /// nodes take the sessions at once instead of after a lease period.
    pub async fn leave(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        let held: Vec<(SessionKey, Held)> = self
            .held
            .lock()
            .map(|mut h| h.drain().collect())
            .unwrap_or_default();
        // The actors stop serving first, so nothing is appended or published after the
        // leases go; their stop tells followers to move.
        for (_, h) in &held {
            h.addr.do_send(StepDown);
        }
        let Ok(mut conn) = self.conn().await else {
            tracing::warn!(
                "could not reach Redis to leave the cluster; leases lapse by themselves"
            );
            return;
        };
        let mut pipe = redis::pipe();
        pipe.cmd("DEL")
            .arg(self.keys.node(&self.node))
            .ignore()
            .cmd("SREM")
            .arg(self.keys.nodes())
            .arg(&self.node)
            .ignore();
        for (key, h) in &held {
            self.release_into(&mut pipe, key, h.activation);
        }
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) => {
                tracing::info!(node = %self.node, leases = held.len(), "node left the cluster")
            }
            Err(e) => tracing::warn!(error = %e, "could not leave the cluster cleanly"),
        }
    }
}

/// Whether `frame` is the `event` frame of `seq`, as the owner encodes it (`type`, then
/// `seq`, first), and whole JSON with a `kind`: checked before a note reaches anyone, so
/// a truncated or forged frame is dropped (and the gap it leaves read from the store)
/// instead of handed to clients.
fn is_event_frame(frame: &str, seq: u64) -> bool {
    /// The fields every event frame has; the rest is only checked to be JSON.
    #[derive(serde::Deserialize)]
    struct Head {
        seq: u64,
        #[allow(dead_code)] // present is all that matters
        kind: String,
    }
    let Some(rest) = frame.strip_prefix(r#"{"type":"event","seq":"#) else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse() == Ok(seq)
        && rest[digits..].starts_with(',')
        && serde_json::from_str::<Head>(frame).is_ok_and(|head| head.seq == seq)
}

/// Forgets a request's reply slot when its wait ends, however it ends.
struct Waiting {
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>,
    corr: u64,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&self.corr);
        }
    }
}

/// Counts a join attempt out when it ends, however it ends.
struct Joining<'a> {
    cluster: &'a Cluster,
    channel: &'a str,
}

impl Drop for Joining<'_> {
    fn drop(&mut self) {
        self.cluster.joined_or_not(self.channel);
    }
}

/// Why a connection could not be seated with a remote owner.
#[derive(Debug)]
pub enum RemoteJoinError {
    /// The owner refused it.
    Failed(JoinError),
    /// The node no longer owns the session: look again.
    Moved,
}

/// The failed reply of a forwarded command that got no answer.
pub fn lost_reply() -> CommandReply {
    CommandReply::failed(CommandError::new(
        ErrorCode::Unavailable,
        "the session's node did not answer; try again",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{EventBody, SessionEvent};

    #[test]
    fn only_the_events_own_frame_passes_for_it() {
        let event = SessionEvent {
            seq: 42,
            at: vitrine_persistence::now(),
            by: None,
            body: EventBody::SessionStarted {},
        };
        let frame = crate::wire::event_frame(&event);
        assert!(is_event_frame(&frame, 42));
        assert!(!is_event_frame(&frame, 4));
        assert!(!is_event_frame(&frame, 420));
        for junk in [
            "",
            "{}",
            "not json",
            r#"{"type":"event","seq":42}"#,
            r#"{"type":"reply","seq":42,"#,
            "{\"type\":\"event\",\"seq\":४२,",
            // Cut off, or the right start without a kind: not for clients.
            r#"{"type":"event","seq":42,"#,
            r#"{"type":"event","seq":42,"x":1}"#,
            r#"{"type":"event","seq":42,"kind":"chat.sent","data":{"text":"half"#,
        ] {
            assert!(!is_event_frame(junk, 42), "{junk:?}");
        }
    }
}
