//! The engine's entry points for the gateway: create sessions, reach their actors, read
//! their state.

use std::sync::Arc;

use actix::{Addr, MailboxError};
use chrono::{DateTime, Utc};
use vitrine_persistence::model::{
    Customer, CustomerId, NewSession, ParticipantId, SessionId, SessionRow, TenantId, UserId,
};
use vitrine_persistence::{Store, StoreError};

use crate::cluster::{self, Cluster, Placement, RemoteJoinError};
use crate::commerce::{Commerce, CommerceError};
use crate::directory::{LocalDirectory, SessionKey};
use crate::events::{EventBody, ParticipantInfo, SessionEvent};
use crate::identity::Role;
use crate::session::{
    load_state, CommandError, CommandReply, ErrorCode, Execute, GetView, Join, JoinError, Joined,
    Leave, LiveSession, LoadError, SessionDeps, SessionSettings, SessionView, Submit,
};

/// Why an engine call failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No such session in the tenant.
    #[error("not found")]
    NotFound,
    /// Input that can never succeed.
    #[error("{0}")]
    Invalid(String),
    /// A dependency is down; retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A fault of ours.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            Self::Unavailable(e.to_string())
        } else {
            Self::Internal(e.to_string())
        }
    }
}

impl From<CommerceError> for EngineError {
    fn from(e: CommerceError) -> Self {
        match e {
            CommerceError::Unavailable(m) => Self::Unavailable(m),
            CommerceError::NotFound(m) | CommerceError::Invalid(m) => Self::Invalid(m),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<LoadError> for EngineError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::NotFound => Self::NotFound,
            LoadError::Store(s) => s.into(),
            LoadError::Corrupt(m) => Self::Internal(m),
            LoadError::Moved => Self::Unavailable("the session moved to another node".into()),
        }
    }
}

/// Contact details of the customer a session is for.
#[derive(Clone, Default)]
pub struct CustomerDetails {
    /// Display name.
    pub name: String,
    /// Email, if given.
    pub email: Option<String>,
    /// Phone, if given.
    pub phone: Option<String>,
    /// Preferred locale (BCP 47), if given.
    pub locale: Option<String>,
}

impl std::fmt::Debug for CustomerDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerDetails { .. }")
    }
}

/// A session to create.
#[derive(Clone, Debug, Default)]
pub struct SessionRequest {
    /// The customer.
    pub customer: CustomerDetails,
    /// Where the request came from (product page, collection); a small JSON object.
    pub context: serde_json::Value,
    /// The shopper, when a shopper creates the session for their customer.
    pub shopper: Option<UserId>,
    /// A booked start time.
    pub scheduled_for: Option<DateTime<Utc>>,
}

/// A created session.
#[derive(Clone, Debug)]
pub struct CreatedSession {
    /// Its projection row.
    pub row: SessionRow,
    /// The customer's participant.
    pub customer: ParticipantInfo,
}

/// Largest session context, in bytes of JSON.
const MAX_CONTEXT_BYTES: usize = 4096;
/// How far ahead a call may be booked.
const MAX_BOOKING_AHEAD_DAYS: i64 = 366;
/// How far in the past a booking time may be (clocks differ) and still mean "now".
const BOOKING_CLOCK_SLACK_SECONDS: i64 = 300;

fn check_request(req: &SessionRequest) -> Result<(), EngineError> {
    let c = &req.customer;
    crate::text::display_name("customer.name", &c.name).map_err(EngineError::Invalid)?;
    if let Some(email) = &c.email {
        crate::text::email("customer.email", email).map_err(EngineError::Invalid)?;
    }
    if let Some(at) = req.scheduled_for {
        let now = chrono::Utc::now();
        if at < now - chrono::Duration::seconds(BOOKING_CLOCK_SLACK_SECONDS) {
            return Err(EngineError::Invalid("scheduled_for is in the past".into()));
        }
        if at > now + chrono::Duration::days(MAX_BOOKING_AHEAD_DAYS) {
            return Err(EngineError::Invalid(
                "scheduled_for is more than a year ahead".into(),
            ));
        }
    }
    if let Some(phone) = &c.phone {
        let ok = phone.len() <= 32
            && phone
                .chars()
                .all(|ch| ch.is_ascii_digit() || " +-().".contains(ch));
        if !ok {
            return Err(EngineError::Invalid(
                "customer.phone is not a phone number".into(),
            ));
        }
    }
    if let Some(locale) = &c.locale {
        let ok = (2..=35).contains(&locale.len())
            && locale
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
        if !ok {
            return Err(EngineError::Invalid(
                "customer.locale is not a language tag".into(),
            ));
        }
    }
    if !(req.context.is_null() || req.context.is_object()) {
        return Err(EngineError::Invalid("context must be an object".into()));
    }
    if vitrine_persistence::json_holds_nul(&req.context) {
        return Err(EngineError::Invalid(
            "context may not hold NUL characters".into(),
        ));
    }
    if req.context.to_string().len() > MAX_CONTEXT_BYTES {
        return Err(EngineError::Invalid("context is larger than 4 KiB".into()));
    }
    Ok(())
}

/// The session engine of one process. Cloning is cheap: clones share everything.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    commerce: Arc<dyn Commerce>,
    directory: Arc<LocalDirectory>,
    cluster: Option<Arc<Cluster>>,
}

/// How a session is reached from this node.
enum Route {
    /// Its actor runs here.
    Local(Addr<LiveSession>),
    /// Another node owns it.
    Remote(String),
}

/// Tries at finding a session's owner before a join or command gives up.
const ROUTE_TRIES: usize = 3;

impl Engine {
    /// An engine running session actors on `threads` arbiters, alone on its store. Must
    /// be called inside a running actix system.
    pub fn new(
        store: Arc<dyn Store>,
        commerce: Arc<dyn Commerce>,
        settings: SessionSettings,
        threads: usize,
    ) -> Self {
        Self::with_cluster(store, commerce, settings, threads, None, None)
    }

    /// Like [`Engine::new`], sharing the store with other nodes through `cluster` when
    /// given (the node joins the cluster at once), and carrying sessions' audio and video
    /// on `media` when given.
    pub fn with_cluster(
        store: Arc<dyn Store>,
        commerce: Arc<dyn Commerce>,
        settings: SessionSettings,
        threads: usize,
        cluster: Option<Arc<Cluster>>,
        media: Option<vitrine_media::MediaPool>,
    ) -> Self {
        let deps = Arc::new(SessionDeps {
            store: Arc::clone(&store),
            commerce: Arc::clone(&commerce),
            settings,
            cluster: cluster.clone(),
            media,
        });
        let directory = LocalDirectory::new(deps, threads);
        if let Some(cluster) = &cluster {
            cluster.run(&directory);
        }
        Self {
            store,
            commerce,
            directory,
            cluster,
        }
    }

    /// The Redis directory, when the node shares its store with others.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.as_ref()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The commerce port.
    pub fn commerce(&self) -> &Arc<dyn Commerce> {
        &self.commerce
    }

    /// The directory of active sessions.
    pub fn directory(&self) -> &Arc<LocalDirectory> {
        &self.directory
    }

    /// Creates a session for a customer, with the customer's cart.
    pub async fn create_session(
        &self,
        tenant: &TenantId,
        req: SessionRequest,
    ) -> Result<CreatedSession, EngineError> {
        check_request(&req)?;
        let customer = Customer {
            id: CustomerId::generate(),
            name: req.customer.name.trim().to_owned(),
            email: req.customer.email.as_deref().map(|e| e.trim().to_owned()),
            phone: req.customer.phone.clone(),
            locale: req.customer.locale.clone(),
        };
        let cart = self.commerce.open_cart(tenant, &customer.id).await?;
        let info = ParticipantInfo {
            participant_id: ParticipantId::generate(),
            role: Role::Customer,
            name: customer.name.clone(),
            user_id: None,
        };
        let id = SessionId::generate();
        let now = vitrine_persistence::now();
        let first = SessionEvent {
            seq: 1,
            at: now,
            by: Some(info.participant_id.clone()),
            body: EventBody::SessionRequested {
                customer: info.clone(),
                cart,
                context: if req.context.is_null() {
                    serde_json::json!({})
                } else {
                    req.context.clone()
                },
            },
        };
        // A shopper's own session, or a booked one, says so in the events after the first,
        // stored with it in one transaction.
        let mut bodies = vec![first.body];
        if let Some(shopper) = &req.shopper {
            bodies.push(EventBody::SessionMatched {
                shopper_id: shopper.clone(),
            });
        }
        if let Some(at) = req.scheduled_for {
            bodies.push(EventBody::SessionScheduled { scheduled_for: at });
        }
        let status = match (&req.scheduled_for, &req.shopper) {
            (Some(_), _) => "scheduled",
            (None, Some(_)) => "matched",
            (None, None) => "requested",
        };
        let events: Vec<_> = bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| {
                SessionEvent {
                    seq: 1 + i as u64,
                    at: now,
                    by: (i == 0).then(|| info.participant_id.clone()),
                    body,
                }
                .to_new_event()
            })
            .collect();
        let row = self
            .store
            .create_session(&NewSession {
                tenant_id: tenant.clone(),
                id: id.clone(),
                status: status.into(),
                shopper_id: req.shopper.clone(),
                customer,
                customer_participant_id: info.participant_id.clone(),
                created_at: now,
                events,
            })
            .await?;
        tracing::info!(tenant_id = %tenant, session_id = %id, "session requested");
        Ok(CreatedSession {
            row,
            customer: info,
        })
    }

    /// The actor of a session on this node, started if needed; `NotFound` if the tenant
    /// has no such session.
    pub async fn open(&self, key: &SessionKey) -> Result<Addr<LiveSession>, EngineError> {
        match self.route(key).await? {
            Route::Local(addr) => Ok(addr),
            Route::Remote(_) => Err(EngineError::Unavailable(
                "the session runs on another node".into(),
            )),
        }
    }

    /// How to reach a session: its actor here (started if this node may own it), or the
    /// node that owns it.
    async fn route(&self, key: &SessionKey) -> Result<Route, EngineError> {
        if let Some(addr) = self.directory.get(key) {
            return Ok(Route::Local(addr));
        }
        self.store
            .session(&key.tenant, &key.session)
            .await?
            .ok_or(EngineError::NotFound)?;
        let Some(cluster) = &self.cluster else {
            return Ok(Route::Local(self.directory.get_or_start(key)));
        };
        match cluster
            .place(key)
            .await
            .map_err(|e| EngineError::Unavailable(e.to_string()))?
        {
            Placement::Here => {
                // Connections that followed another owner start over with this one.
                cluster.drop_followers(key);
                Ok(Route::Local(self.directory.get_or_start(key)))
            }
            Placement::Elsewhere(node) => Ok(Route::Remote(node)),
        }
    }

    /// Attaches a connection to a session, on this node or through the session's owner.
    pub async fn join(&self, key: &SessionKey, join: Join) -> Result<Joined, JoinError> {
        for _ in 0..ROUTE_TRIES {
            let route = match self.route(key).await {
                Ok(route) => route,
                Err(EngineError::NotFound) => return Err(JoinError::NotFound),
                Err(_) => return Err(JoinError::Unavailable),
            };
            match route {
                Route::Local(addr) => match addr.send(join.clone()).await {
                    Ok(result) => return result,
                    Err(MailboxError::Closed) => continue,
                    Err(MailboxError::Timeout) => return Err(JoinError::Unavailable),
                },
                Route::Remote(owner) => {
                    let Some(cluster) = &self.cluster else {
                        return Err(JoinError::Unavailable);
                    };
                    match cluster.join_remote(&owner, key, join.clone()).await {
                        Ok(joined) => return Ok(joined),
                        Err(RemoteJoinError::Failed(e)) => return Err(e),
                        Err(RemoteJoinError::Moved) => continue,
                    }
                }
            }
        }
        Err(JoinError::Unavailable)
    }

    /// Runs a command in a session, here or on the node that owns it.
    pub async fn execute(&self, key: &SessionKey, exec: Execute) -> CommandReply {
        // A connection's commands find their way without waiting, so they reach the
        // session in the order they were sent.
        if let Some(addr) = self.directory.get(key) {
            if let Ok(reply) = submit(&addr, exec.clone()).await {
                return reply;
            }
        } else if let Some((cluster, owner)) = self
            .cluster
            .as_ref()
            .and_then(|c| c.followed_owner(key).map(|o| (c, o)))
        {
            return remote_reply(cluster.forward(&owner, key, exec).await);
        }
        for _ in 0..ROUTE_TRIES {
            let route = match self.route(key).await {
                Ok(route) => route,
                Err(EngineError::NotFound) => {
                    return CommandReply::failed(CommandError::new(
                        ErrorCode::NotFound,
                        "no such session",
                    ))
                }
                Err(_) => break,
            };
            match route {
                Route::Local(addr) => match submit(&addr, exec.clone()).await {
                    Ok(reply) => return reply,
                    Err(_) => continue,
                },
                Route::Remote(owner) => {
                    let Some(cluster) = &self.cluster else { break };
                    match cluster.forward(&owner, key, exec.clone()).await {
                        cluster::messages::Reply::NotOwner => continue,
                        reply => return remote_reply(reply),
                    }
                }
            }
        }
        CommandReply::failed(CommandError::new(
            ErrorCode::Unavailable,
            "the session is unavailable; try again",
        ))
    }

    /// Hands a command to its session now, when the way there is known without waiting
    /// (its actor runs here, or its owner is followed): commands handed over one after
    /// another then reach the session in that order. The reply comes from the returned
    /// future; a session that stopped before answering is looked up again, and the command
    /// retried under its id, so it takes effect at most once. Gives the command back when
    /// the way must first be looked up: `execute` does that.
    pub fn hand_off(
        &self,
        key: &SessionKey,
        exec: Execute,
    ) -> Result<futures_util::future::BoxFuture<'static, CommandReply>, Box<Execute>> {
        use futures_util::FutureExt;
        if let Some(addr) = self.directory.get(key) {
            let rx = submit(&addr, exec.clone());
            let (engine, key) = (self.clone(), key.clone());
            return Ok(async move {
                match rx.await {
                    Ok(reply) => reply,
                    Err(_) => engine.execute(&key, exec).await,
                }
            }
            .boxed());
        }
        let Some((cluster, owner)) = self
            .cluster
            .as_ref()
            .and_then(|c| c.followed_owner(key).map(|o| (c, o)))
        else {
            return Err(Box::new(exec));
        };
        let forwarded = cluster.forward(&owner, key, exec.clone());
        let (engine, key) = (self.clone(), key.clone());
        Ok(async move {
            match forwarded.await {
                cluster::messages::Reply::NotOwner => engine.execute(&key, exec).await,
                reply => remote_reply(reply),
            }
        }
        .boxed())
    }

    /// Detaches a connection.
    pub fn leave(&self, key: &SessionKey, conn_id: crate::session::ConnectionId) {
        if let Some(addr) = self.directory.get(key) {
            addr.do_send(Leave { conn_id });
        }
        if let Some(cluster) = &self.cluster {
            cluster.leave_remote(key, conn_id);
        }
    }

    /// The current state of a session: from its actor when it is active (on this node or
    /// another), else rebuilt from the store.
    pub async fn view(&self, key: &SessionKey) -> Result<SessionView, EngineError> {
        if let Some(addr) = self.directory.get(key) {
            if let Ok(Ok(view)) = addr.send(GetView).await {
                return Ok(view);
            }
        } else if let Some(cluster) = &self.cluster {
            if let Some(owner) = cluster.owner_of(key).await {
                if let Some(view) = cluster.view_remote(&owner, key).await {
                    return Ok(view);
                }
            }
        }
        let state = load_state(&self.store, &key.tenant, &key.session).await?;
        Ok(state.view(&|_| false))
    }

    /// Leaves the cluster, if the node is in one: its sessions go to other nodes at once.
    pub async fn leave_cluster(&self) {
        if let Some(cluster) = &self.cluster {
            cluster.leave().await;
        }
    }

    /// Waits until every active session has settled the work it accepted (appends stored
    /// and answered), or until `bound` passes; returns whether all settled in time.
    pub async fn drain(&self, bound: std::time::Duration) -> bool {
        let waits: Vec<_> = self
            .directory
            .all()
            .into_iter()
            .map(|addr| addr.send(crate::session::Drain))
            .collect();
        tokio::time::timeout(bound, futures_util::future::join_all(waits))
            .await
            .is_ok()
    }
}

/// A forwarded command's reply as the client gets it.
/// Puts a command in a session's mailbox now (see [`Submit`]); the receiver fails if the
/// session stops before answering.
fn submit(addr: &Addr<LiveSession>, exec: Execute) -> tokio::sync::oneshot::Receiver<CommandReply> {
    let (reply, rx) = tokio::sync::oneshot::channel();
    addr.do_send(Submit { exec, reply });
    rx
}

fn remote_reply(reply: cluster::messages::Reply) -> CommandReply {
    match reply {
        cluster::messages::Reply::Command { reply } => reply,
        _ => cluster::lost_reply(),
    }
}
