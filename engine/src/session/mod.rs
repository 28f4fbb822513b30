//! The live session actor: the single writer of one session.
//!
//! Every change goes through [`LiveSession`], so a session has one total order and needs
//! no locks. A command becomes events; the actor applies them, appends them to the store
//! and only once they are stored fans them out and replies. Work is processed strictly in
//! arrival order: while an append or a commerce call is in flight the actor keeps taking
//! messages but queues the work. Consecutive commands that need nothing but the state
//! (chat, consent, lifecycle) are appended together.
//!
//! If an append fails, the events already applied in memory are not in the store: the
//! actor marks its state stale and rebuilds it from the store before the next piece of
//! work. A participant therefore never sees an event that a crash could take back.
//!
//! Layout: `commands.rs` (what a command does), `state.rs` (applying events),
//! `outbound.rs` (per-connection queues), `replay.rs` (catch-up), `load.rs` (rebuild),
//! `messages.rs` (the actor's messages), `idempotency.rs` (remembered replies).

mod commands;
mod idempotency;
mod load;
mod media;
mod messages;
mod outbound;
mod replay;
mod state;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::DateTime;
use serde::Deserialize;
use tokio::sync::oneshot;
use tracing::Instrument;
use vitrine_persistence::model::{
    AppendBatch, CommandRecord, ParticipantId, SessionPatch, Snapshot,
};
use vitrine_persistence::{AppendError, Store, StoreError};

use crate::cluster::Cluster;
use crate::commerce::Commerce;
use crate::directory::{LocalDirectory, SessionKey};
use crate::events::{EventBody, ParticipantInfo, SessionEvent};
use crate::identity::Role;
use crate::metrics as m;
use crate::wire::{event_frame, stored_and_frame, welcome_frame};

pub use commands::{Caller, Command, CommandError, CommandReply, ErrorCode};
pub use load::{load_state, LoadError};
pub use media::MediaCommand;
pub use messages::{
    ConnectionId, Drain, Execute, GetView, Join, JoinError, Joined, Leave, NodeGone, RemoteJoin,
    RemoteLeave, StepDown, Submit,
};
pub use outbound::{close_code, outbound, Next, Offer, OutFrame, Outbound, OutboundReceiver};
pub use replay::ReplayRequest;
pub use state::{ChatLine, SessionState, SessionStatus, SessionView, SharedCard};

use commands::Plan;
use idempotency::ReplyCache;

/// Tunables of session actors.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// How long a session with nobody connected stays in memory.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A snapshot is saved after this many events.
    pub snapshot_every: u64,
    /// Replies remembered per session for idempotent retries (at least 1024).
    pub remembered_replies: usize,
    /// How long replies are remembered.
    #[serde(with = "humantime_serde")]
    pub remember_for: Duration,
    /// Most pieces of work waiting in one session before new ones are refused.
    pub max_queue: usize,
    /// Most commands appended together.
    pub max_batch: usize,
    /// Most connections one participant may have open to a session at once.
    pub max_connections_per_participant: usize,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(60),
            snapshot_every: 200,
            remembered_replies: 1024,
            remember_for: Duration::from_secs(24 * 3600),
            max_queue: 4096,
            max_batch: 256,
            max_connections_per_participant: 5,
        }
    }
}

/// What every session actor shares.
pub struct SessionDeps {
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// The commerce port.
    pub commerce: Arc<dyn Commerce>,
    /// Tunables.
    pub settings: SessionSettings,
    /// The Redis directory, when several nodes share the store.
    pub cluster: Option<Arc<Cluster>>,
    /// The media worker pool; `None` runs sessions without audio and video.
    pub media: Option<vitrine_media::MediaPool>,
}

/// One connection attached to the session.
struct Connection {
    caller: Caller,
    outbound: Outbound,
}

/// A connection to seat, here or on another node.
struct Seating {
    conn_id: ConnectionId,
    caller: Caller,
    seat: Seat,
}

enum Seat {
    /// A connection of this node, fed through its outbound queue.
    Local {
        outbound: Outbound,
        resume_after: Option<u64>,
    },
    /// A connection of another node, fed by that node from the session's channel.
    Remote { node: String },
}

/// Where the answer to a join goes.
enum JoinTx {
    Local(oneshot::Sender<Result<Joined, JoinError>>),
    Remote(oneshot::Sender<Result<(Joined, Arc<str>), JoinError>>),
}

impl JoinTx {
    fn fail(self, error: JoinError) {
        match self {
            Self::Local(tx) => {
                let _ = tx.send(Err(error));
            }
            Self::Remote(tx) => {
                let _ = tx.send(Err(error));
            }
        }
    }
}

/// A piece of work, processed in arrival order.
enum Work {
    Execute(Execute, oneshot::Sender<CommandReply>),
    Join(Seating, JoinTx),
    Leave(ConnectionId),
    RemoteLeave(String, ConnectionId),
    NodeGone(String),
    ParticipantGone(ParticipantId),
    View(oneshot::Sender<Result<SessionView, JoinError>>),
}

/// What to do once a group of events is stored.
enum Completion {
    Reply {
        key: Option<(ParticipantId, String)>,
        reply: CommandReply,
        tx: oneshot::Sender<CommandReply>,
        span: tracing::Span,
    },
    Join(Seating, JoinTx),
    Nothing,
}

/// Events applied in memory and waiting to be stored, with what to do after.
struct Pending {
    events: Vec<SessionEvent>,
    command: Option<CommandRecord>,
    completion: Completion,
    /// The span of the command (or of the session, for the actor's own events).
    span: tracing::Span,
    /// When the events were created.
    staged: Instant,
}

/// The actor owning one live session.
pub struct LiveSession {
    key: SessionKey,
    activation: u64,
    deps: Arc<SessionDeps>,
    directory: Arc<LocalDirectory>,
    state: Option<SessionState>,
    stale: bool,
    epoch: u64,
    /// The last seq known to be stored.
    stored_seq: u64,
    conns: HashMap<ConnectionId, Connection>,
    /// Connections of other nodes, by node and that node's connection number.
    remote: HashMap<(String, ConnectionId), Caller>,
    queue: VecDeque<Work>,
    busy: bool,
    replies: ReplyCache,
    waiting: HashMap<(ParticipantId, String), Vec<oneshot::Sender<CommandReply>>>,
    idle_since: Instant,
    unsnapshotted: u64,
    drained: Vec<oneshot::Sender<()>>,
    span: tracing::Span,
    /// The `tenant` metric label, made once.
    tenant_label: metrics::SharedString,
    /// The session's media router and tracks, opened on the first media command.
    media: media::MediaSlot,
}

impl LiveSession {
    /// A session actor that loads its state when it starts.
    pub fn new(
        key: SessionKey,
        activation: u64,
        deps: Arc<SessionDeps>,
        directory: Arc<LocalDirectory>,
    ) -> Self {
        let span = tracing::info_span!(
            "session",
            tenant_id = %key.tenant,
            session_id = %key.session,
        );
        let replies = ReplyCache::new(
            deps.settings.remembered_replies.max(1024),
            deps.settings.remember_for,
        );
        let key_tenant = key.tenant.clone();
        let media = media::MediaSlot::new(deps.media.clone(), key.session.to_string());
        Self {
            key,
            activation,
            deps,
            directory,
            state: None,
            stale: true,
            epoch: 0,
            stored_seq: 0,
            conns: HashMap::new(),
            remote: HashMap::new(),
            queue: VecDeque::new(),
            busy: false,
            replies,
            waiting: HashMap::new(),
            idle_since: Instant::now(),
            unsnapshotted: 0,
            drained: Vec::new(),
            span,
            tenant_label: metrics::SharedString::from(Arc::<str>::from(key_tenant.as_str())),
            media,
        }
    }

    fn enqueue(&mut self, work: Work, ctx: &mut Context<Self>) {
        if self.queue.len() >= self.deps.settings.max_queue {
            tracing::warn!(parent: &self.span, queued = self.queue.len(), "session queue full");
            refuse_overloaded(work);
            return;
        }
        self.queue.push_back(work);
        self.pump(ctx);
    }

    /// Processes queued work until something has to wait.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        while !self.busy {
            let Some(work) = self.queue.pop_front() else {
                // Everything accepted so far is settled: tell whoever waits for that.
                for waiter in self.drained.drain(..) {
                    let _ = waiter.send(());
                }
                return;
            };
            if self.stale {
                self.queue.push_front(work);
                self.reload(ctx);
                return;
            }
            match work {
                Work::View(tx) => {
                    let _ = tx.send(Ok(self.view()));
                }
                Work::Leave(conn_id) => self.detach(conn_id),
                Work::RemoteLeave(node, conn) => self.detach_remote(&node, conn),
                Work::NodeGone(node) => self.node_gone(&node),
                Work::ParticipantGone(participant) => self.participant_gone(participant, ctx),
                Work::Join(join, tx) => self.join(join, tx, ctx),
                Work::Execute(exec, tx) => self.execute(exec, tx, ctx),
            }
        }
    }

    fn state(&self) -> &SessionState {
        // unwrap: work runs only while the state is loaded (`stale` is false).
        self.state.as_ref().expect("session state is loaded")
    }

    fn view(&self) -> SessionView {
        self.state().view(&|p| self.is_connected(p))
    }

    /// Rebuilds the state from the store, then carries on with the queue.
    fn reload(&mut self, ctx: &mut Context<Self>) {
        self.busy = true;
        let store = Arc::clone(&self.deps.store);
        let commerce = Arc::clone(&self.deps.commerce);
        let key = self.key.clone();
        let remember = self.deps.settings.remembered_replies.max(1024) as u32;
        let since = chrono::Utc::now()
            - chrono::Duration::from_std(self.deps.settings.remember_for)
                .unwrap_or(chrono::Duration::hours(24));
        // A reload (after a failed append) claims again only while this node still holds
        // the lease: otherwise it would fence out the session's rightful owner.
        let recheck = self.deps.cluster.clone().filter(|_| self.epoch > 0);
        let fut = async move {
            if let Some(cluster) = recheck {
                match cluster.holds(&key).await {
                    Ok(true) => {}
                    Ok(false) => return Err(LoadError::Moved),
                    Err(e) => return Err(LoadError::Store(StoreError::Unavailable(e.0))),
                }
            }
            let state = load_state(&store, &key.tenant, &key.session).await?;
            // Limitation: an activation that takes over from one that died does not store
            // `participant.left` for those who were connected to the dead one; they show
            // as not connected, but the log does not say when they left.
            // Every activation claims the session. Nodes sharing a database find each
            // session's one activation through the Redis directory; without it, two nodes
            // on one database would take a session from each other at every join (fencing
            // keeps the log whole, but clients keep reconnecting).
            let epoch = store
                .claim_session(&key.tenant, &key.session)
                .await
                .map_err(|e| match e {
                    AppendError::Store(s) => LoadError::Store(s),
                    AppendError::NoSession => LoadError::NotFound,
                    other => LoadError::Corrupt(other.to_string()),
                })?;
            // The newest `remember` whatever their age, or every one of the last day if
            // that is more.
            let mut records = store
                .recent_commands(&key.tenant, &key.session, remember, DateTime::UNIX_EPOCH)
                .await?;
            let recent = store
                .recent_commands(
                    &key.tenant,
                    &key.session,
                    remember * idempotency::HARD_CAP_FACTOR as u32,
                    since,
                )
                .await?;
            if recent.len() > records.len() {
                records = recent;
            }
            let mut state = state;
            let fixed = catch_up_with_commerce(&store, &commerce, &mut state, epoch).await;
            Ok::<_, LoadError>((state, epoch, records, fixed))
        }
        .instrument(self.span.clone());

        fut.into_actor(self)
            .map(|result, act, ctx| {
                act.busy = false;
                match result {
                    Ok((state, epoch, records, fixed)) => {
                        tracing::info!(parent: &act.span, seq = state.seq, epoch, "session loaded");
                        if let Some(cluster) = &act.deps.cluster {
                            cluster.set_epoch(&act.key, act.activation, epoch);
                        }
                        act.stored_seq = state.seq;
                        act.state = Some(state);
                        act.epoch = epoch;
                        act.stale = false;
                        act.replies.restore(records);
                        let now = Instant::now();
                        for event in &fixed {
                            act.fan_out(event, now);
                        }
                    }
                    Err(LoadError::Moved) => {
                        tracing::warn!(parent: &act.span, "lease lost before reloading; stopping");
                        for work in act.queue.drain(..) {
                            refuse_unavailable(work);
                        }
                        ctx.stop();
                        return;
                    }
                    Err(LoadError::NotFound) => {
                        tracing::warn!(parent: &act.span, "session vanished from the store");
                        for work in act.queue.drain(..) {
                            refuse_not_found(work);
                        }
                        ctx.stop();
                        return;
                    }
                    Err(e) => {
                        if let LoadError::Store(s) = &e {
                            m::store_error("load", s);
                        }
                        tracing::error!(parent: &act.span, error = %e, "could not load session");
                        // Fail the work that was waiting; the next piece tries again.
                        if let Some(work) = act.queue.pop_front() {
                            refuse_unavailable(work);
                        }
                    }
                }
                act.pump(ctx);
            })
            .spawn(ctx);
    }

    fn execute(
        &mut self,
        exec: Execute,
        tx: oneshot::Sender<CommandReply>,
        ctx: &mut Context<Self>,
    ) {
        let key = (exec.caller.participant_id.clone(), exec.command_id.clone());
        if let Some(reply) = self.replies.get(&key) {
            let _ = tx.send(reply);
            return;
        }
        if let Some(waiters) = self.waiting.get_mut(&key) {
            waiters.push(tx);
            return;
        }
        tracing::debug!(
            parent: &self.span,
            command = exec.command.name(),
            participant_id = %exec.caller.participant_id,
            "command"
        );

        let idempotency_key = format!(
            "{}:{}:{}",
            self.key.session, exec.caller.participant_id, exec.command_id
        );
        let plan = match exec.command {
            Command::Media(_) if self.state().status.is_over() => {
                Plan::Reply(CommandReply::failed(CommandError::new(
                    ErrorCode::SessionEnded,
                    "the session is over",
                )))
            }
            Command::Media(command) => media::plan(&self.media, &exec.caller, *command),
            command => self.fenced(
                ctx.address(),
                commands::plan(
                    self.state(),
                    &exec.caller,
                    command,
                    &self.deps.commerce,
                    idempotency_key,
                ),
            ),
        };
        let span = exec.span;
        match plan {
            Plan::Reply(reply) => {
                record_outcome(&span, &reply);
                self.remember(key, &reply);
                let _ = tx.send(reply);
            }
            Plan::Events(bodies, data) => {
                let first = self.stage(&exec.caller.participant_id, key, bodies, data, tx, span);
                let mut group = vec![first];
                self.gather(&mut group);
                self.commit(group, ctx);
            }
            Plan::Async(fut) => {
                self.busy = true;
                self.waiting.insert(key.clone(), Vec::new());
                let participant = exec.caller.participant_id.clone();
                fut.instrument(span.clone())
                    .into_actor(self)
                    .map(move |result, act, ctx| match result {
                        Ok((bodies, data)) => {
                            act.waiting.remove(&key);
                            let pending = act.stage(&participant, key, bodies, data, tx, span);
                            // Busy again only while an append runs; a plan with no events
                            // (most media commands) completes at once.
                            act.busy = false;
                            act.commit(vec![pending], ctx);
                            if !act.busy {
                                act.pump(ctx);
                            }
                        }
                        Err(error) => {
                            let reply = CommandReply::failed(error);
                            record_outcome(&span, &reply);
                            act.settle(&key, &reply);
                            act.remember(key, &reply);
                            let _ = tx.send(reply);
                            act.busy = false;
                            act.pump(ctx);
                        }
                    })
                    .spawn(ctx);
            }
        }
    }

    /// Commerce writes (cart lines, orders) happen before the events that record them
    /// are appended, and only the append is fenced by the store. With several nodes, an
    /// actor whose session another node has claimed must not write to commerce either:
    /// its cart change would reach the real cart while no event records it. So each
    /// asynchronous plan first checks that the store still names this activation's
    /// epoch.
    // Limitation: the check and the commerce write are not atomic: a claim landing
    // between them still lets one write through (a window of one store round trip,
    // instead of until the next lease renewal).
    fn fenced(&self, actor: Addr<Self>, plan: Plan) -> Plan {
        let Plan::Async(work) = plan else {
            return plan;
        };
        if self.deps.cluster.is_none() {
            return Plan::Async(work);
        }
        let store = Arc::clone(&self.deps.store);
        let (tenant, session, epoch) = (
            self.key.tenant.clone(),
            self.key.session.clone(),
            self.epoch,
        );
        Plan::Async(Box::pin(async move {
            let moved = || {
                CommandError::new(
                    ErrorCode::Unavailable,
                    "the session moved to another node; try again",
                )
            };
            match store.session(&tenant, &session).await {
                Ok(Some(row)) if row.owner_epoch == epoch => work.await,
                Ok(_) => {
                    tracing::warn!(
                        epoch,
                        "the session was claimed elsewhere; commerce not called"
                    );
                    // As when the store refuses an append: this actor stops serving.
                    actor.do_send(StepDown);
                    Err(moved())
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not check the session's owner");
                    Err(CommandError::new(ErrorCode::Unavailable, "try again"))
                }
            }
        }))
    }

    /// Applies a command's events in memory and readies them for the store.
    fn stage(
        &mut self,
        by: &ParticipantId,
        key: (ParticipantId, String),
        bodies: Vec<EventBody>,
        data: serde_json::Value,
        tx: oneshot::Sender<CommandReply>,
        span: tracing::Span,
    ) -> Pending {
        let events = self.apply_new(Some(by.clone()), bodies);
        let reply = CommandReply::ok(events.last().map(|e| e.seq), data);
        let command = CommandRecord {
            participant_id: key.0.clone(),
            command_id: key.1.clone(),
            reply: serde_json::to_value(&reply).unwrap_or_default(),
            at: vitrine_persistence::now(),
        };
        self.waiting.entry(key.clone()).or_default();
        Pending {
            events,
            command: Some(command),
            completion: Completion::Reply {
                key: Some(key),
                reply,
                tx,
                span: span.clone(),
            },
            span,
            staged: Instant::now(),
        }
    }

    /// Gives `bodies` the next seqs and applies them to the state.
    fn apply_new(
        &mut self,
        by: Option<ParticipantId>,
        bodies: Vec<EventBody>,
    ) -> Vec<SessionEvent> {
        let at = vitrine_persistence::now();
        let mut events = Vec::with_capacity(bodies.len());
        // unwrap: staging happens only while the state is loaded.
        let state = self.state.as_mut().expect("session state is loaded");
        for body in bodies {
            let event = SessionEvent {
                seq: state.seq + 1,
                at,
                by: by.clone(),
                body,
            };
            // unwrap: the seq was just derived from the state, so it always follows.
            state
                .apply(&event)
                .expect("a fresh event follows its state");
            events.push(event);
        }
        // A call that is over carries no more audio or video.
        if state.status.is_over() {
            self.media.close();
        }
        events
    }

    /// Pulls the commands queued right behind into the same append while they need
    /// nothing but the state.
    fn gather(&mut self, group: &mut Vec<Pending>) {
        while group.len() < self.deps.settings.max_batch {
            let Some(Work::Execute(next, _)) = self.queue.front() else {
                break;
            };
            let key = (next.caller.participant_id.clone(), next.command_id.clone());
            if !is_state_only(&next.command) || self.waiting.contains_key(&key) {
                break;
            }
            let Some(Work::Execute(exec, tx)) = self.queue.pop_front() else {
                break;
            };
            if let Some(reply) = self.replies.get(&key) {
                let _ = tx.send(reply);
                continue;
            }
            let idempotency_key = format!(
                "{}:{}:{}",
                self.key.session, exec.caller.participant_id, exec.command_id
            );
            match commands::plan(
                self.state(),
                &exec.caller,
                exec.command,
                &self.deps.commerce,
                idempotency_key,
            ) {
                Plan::Events(bodies, data) => {
                    let pending = self.stage(
                        &exec.caller.participant_id,
                        key,
                        bodies,
                        data,
                        tx,
                        exec.span,
                    );
                    group.push(pending);
                }
                Plan::Reply(reply) => {
                    // Delivered after the events before it are stored, to keep order.
                    self.waiting.entry(key.clone()).or_default();
                    group.push(Pending {
                        events: Vec::new(),
                        command: None,
                        completion: Completion::Reply {
                            key: Some(key),
                            reply,
                            tx,
                            span: exec.span.clone(),
                        },
                        span: exec.span,
                        staged: Instant::now(),
                    });
                }
                Plan::Async(_) => {
                    // Not reached: state-only commands never ask commerce.
                    let _ = tx.send(CommandReply::failed(CommandError::new(
                        ErrorCode::Internal,
                        "internal error",
                    )));
                }
            }
        }
    }

    /// Stores the events of `group` in one append and, once stored, fans them out and
    /// completes each piece in order.
    fn commit(&mut self, group: Vec<Pending>, ctx: &mut Context<Self>) {
        let events: Vec<&SessionEvent> = group.iter().flat_map(|p| p.events.iter()).collect();
        let Some(first) = events.first() else {
            // Nothing to store (only refusals): complete in order right away.
            for pending in group {
                self.complete(pending.completion, ctx);
            }
            return;
        };
        self.busy = true;
        // Each event's data is encoded once, for the store and for its frame; the frames
        // wait here until the append succeeds.
        let (stored, frames): (Vec<_>, Vec<_>) = events.iter().map(|e| stored_and_frame(e)).unzip();
        let batch = AppendBatch {
            tenant_id: self.key.tenant.clone(),
            session_id: self.key.session.clone(),
            expected_seq: first.seq - 1,
            epoch: self.epoch,
            events: stored,
            patch: patch_for(events.iter().copied()),
            commands: group.iter().filter_map(|p| p.command.clone()).collect(),
        };
        // The append is traced under the first command of the group and linked to the
        // others.
        let append_span = tracing::debug_span!(
            parent: &group[0].span,
            "session.append",
            events = batch.events.len(),
            commands = group.len()
        );
        for pending in &group[1..] {
            append_span.follows_from(&pending.span);
        }
        let store = Arc::clone(&self.deps.store);
        async move { store.append(batch).await }
            .instrument(append_span)
            .into_actor(self)
            .map(move |result, act, ctx| {
                act.busy = false;
                act.finish(group, frames, result, ctx);
                act.pump(ctx);
            })
            .spawn(ctx);
    }

    /// Settles a group once its append ended; `frames` are the events' frames, in order.
    fn finish(
        &mut self,
        group: Vec<Pending>,
        frames: Vec<Arc<str>>,
        result: Result<(), AppendError>,
        ctx: &mut Context<Self>,
    ) {
        let error = match result {
            Ok(()) => {
                metrics::counter!(m::EVENTS_APPENDED, "tenant" => self.tenant_label.clone())
                    .increment(frames.len() as u64);
                if let Some(last) = group.iter().rev().find_map(|p| p.events.last()) {
                    self.stored_seq = last.seq;
                }
                let mut frames = frames.into_iter();
                for pending in group {
                    self.unsnapshotted += pending.events.len() as u64;
                    for (event, frame) in pending.events.iter().zip(frames.by_ref()) {
                        self.fan_out_frame(event.seq, event.body.kind(), frame, pending.staged);
                    }
                    self.complete(pending.completion, ctx);
                }
                if self.unsnapshotted >= self.deps.settings.snapshot_every {
                    self.save_snapshot();
                }
                return;
            }
            Err(e) => e,
        };

        // The state holds events the store does not: rebuild before going on.
        self.stale = true;
        if let AppendError::Store(e) = &error {
            m::store_error("append", e);
        }
        for pending in group {
            self.fail(pending.completion, &error);
        }
        match error {
            AppendError::Fenced { stored, attempted } => {
                tracing::error!(parent: &self.span, stored, attempted,
                    "another owner took the session; stopping");
                for work in self.queue.drain(..) {
                    refuse_unavailable(work);
                }
                ctx.stop();
            }
            other => tracing::error!(parent: &self.span, error = %other, "append failed"),
        }
    }

    fn complete(&mut self, completion: Completion, ctx: &mut Context<Self>) {
        match completion {
            Completion::Reply {
                key,
                reply,
                tx,
                span,
            } => {
                record_outcome(&span, &reply);
                if let Some(key) = key {
                    self.settle(&key, &reply);
                    self.remember(key, &reply);
                }
                let _ = tx.send(reply);
            }
            Completion::Join(join, tx) => self.attach(join, tx, ctx),
            Completion::Nothing => {}
        }
    }

    fn fail(&mut self, completion: Completion, error: &AppendError) {
        let code = match error {
            AppendError::Store(s) if s.is_unavailable() => ErrorCode::Unavailable,
            AppendError::Fenced { .. } | AppendError::SeqConflict { .. } => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        };
        let reply = CommandReply::failed(CommandError::new(
            code,
            if code == ErrorCode::Unavailable {
                "the session could not be saved; try again"
            } else {
                "internal error"
            },
        ));
        match completion {
            Completion::Reply { key, tx, span, .. } => {
                record_outcome(&span, &reply);
                if let Some(key) = key {
                    // Not remembered: the command did not take effect, so a retry may.
                    self.settle(&key, &reply);
                }
                let _ = tx.send(reply);
            }
            Completion::Join(_, tx) => tx.fail(JoinError::Unavailable),
            Completion::Nothing => {}
        }
    }

    /// Remembers a reply for retries of the same command, unless the command failed for a
    /// passing reason (a dependency down, a fault of ours): then a retry runs it again.
    fn remember(&mut self, key: (ParticipantId, String), reply: &CommandReply) {
        // A ping changes nothing: there is nothing to repeat, and remembering pings would
        // push real commands out of the cache.
        if reply.data.as_ref().is_some_and(|d| d.get("pong").is_some()) {
            return;
        }
        // Limitation: refusals (no event) are remembered in memory only, so a repeat after
        // the session is reloaded runs again; storing them would cost a write per refusal.
        let transient = reply
            .error
            .as_ref()
            .is_some_and(|e| matches!(e.code, ErrorCode::Unavailable | ErrorCode::Internal));
        if !transient {
            self.replies.insert(key, reply);
        }
    }

    /// Answers retries that arrived while the original was in flight.
    fn settle(&mut self, key: &(ParticipantId, String), reply: &CommandReply) {
        if let Some(waiters) = self.waiting.remove(key) {
            for w in waiters {
                let _ = w.send(reply.clone());
            }
        }
    }

    /// Sends a stored event to every connection allowed to see it.
    fn fan_out(&mut self, event: &SessionEvent, staged: Instant) {
        self.fan_out_frame(event.seq, event.body.kind(), event_frame(event), staged);
    }

    /// Sends the frame of a stored event of `kind` to every connection allowed to see it;
    /// every recipient shares the one encoded frame. Other nodes with connections get it
    /// once, on the session's channel.
    fn fan_out_frame(&mut self, seq: u64, kind: &str, frame: Arc<str>, staged: Instant) {
        let staff_only = EventBody::is_staff_only_kind(kind);
        if !self.remote.is_empty() {
            if let Some(cluster) = &self.deps.cluster {
                cluster.publish_event(&self.key, seq, staff_only, &frame);
            }
        }
        let mut dropped = Vec::new();
        for (id, conn) in &self.conns {
            if staff_only && !conn.caller.role.is_staff() {
                continue;
            }
            match conn
                .outbound
                .offer(OutFrame::Event(Arc::clone(&frame), staged))
            {
                Offer::Queued => {}
                Offer::Overflowed => {
                    tracing::warn!(parent: &self.span, participant_id = %conn.caller.participant_id,
                        "slow consumer disconnected");
                    dropped.push(*id);
                }
                Offer::Closed => dropped.push(*id),
            }
        }
        for id in dropped {
            self.detach(id);
        }
    }

    /// Removes a connection; the participant leaves when it was their last.
    fn detach(&mut self, conn_id: ConnectionId) {
        let Some(conn) = self.conns.remove(&conn_id) else {
            return;
        };
        metrics::gauge!(m::CONNECTED_PARTICIPANTS, "role" => conn.caller.role.as_str())
            .decrement(1.0);
        if self.conns.is_empty() && self.remote.is_empty() {
            self.idle_since = Instant::now();
        }
        let participant = conn.caller.participant_id;
        if !self.is_connected(&participant) {
            self.queue.push_back(Work::ParticipantGone(participant));
        }
    }

    /// Removes a connection of another node.
    fn detach_remote(&mut self, node: &str, conn: ConnectionId) {
        let Some(caller) = self.remote.remove(&(node.to_owned(), conn)) else {
            return;
        };
        if self.conns.is_empty() && self.remote.is_empty() {
            self.idle_since = Instant::now();
        }
        if !self.is_connected(&caller.participant_id) {
            self.queue
                .push_back(Work::ParticipantGone(caller.participant_id));
        }
    }

    /// Forgets every connection of a dead node; it is told, in case it only paused.
    fn node_gone(&mut self, node: &str) {
        let conns: Vec<ConnectionId> = self
            .remote
            .keys()
            .filter(|(n, _)| n == node)
            .map(|(_, c)| *c)
            .collect();
        if conns.is_empty() {
            return;
        }
        tracing::warn!(parent: &self.span, node, connections = conns.len(),
            "a node with participants died");
        if let Some(cluster) = &self.deps.cluster {
            cluster.evict(node, &self.key);
        }
        for conn in conns {
            self.detach_remote(node, conn);
        }
    }

    fn is_connected(&self, participant: &ParticipantId) -> bool {
        self.connections_of(participant) > 0
    }

    fn connections_of(&self, participant: &ParticipantId) -> usize {
        self.conns
            .values()
            .filter(|c| &c.caller.participant_id == participant)
            .count()
            + self
                .remote
                .values()
                .filter(|c| &c.participant_id == participant)
                .count()
    }

    fn participant_gone(&mut self, participant: ParticipantId, ctx: &mut Context<Self>) {
        if self.is_connected(&participant) || self.state().status.is_over() {
            return;
        }
        tracing::info!(parent: &self.span, participant_id = %participant, "participant left");
        // Their tracks stop with them, before they are said to have left.
        let mut bodies = self.media.leave(&participant);
        bodies.push(EventBody::ParticipantLeft {
            participant_id: participant.clone(),
        });
        let events = self.apply_new(Some(participant), bodies);
        self.commit(
            vec![Pending {
                events,
                command: None,
                completion: Completion::Nothing,
                span: self.span.clone(),
                staged: Instant::now(),
            }],
            ctx,
        );
    }

    fn join(&mut self, mut join: Seating, tx: JoinTx, ctx: &mut Context<Self>) {
        let open = self.connections_of(&join.caller.participant_id);
        if open >= self.deps.settings.max_connections_per_participant {
            tx.fail(JoinError::TooManyConnections);
            return;
        }
        // A session has one shopper: the one it is matched to, or the first to join it.
        // Other staff watch it as observers.
        let state = self.state();
        if join.caller.role == Role::Shopper
            && state
                .shopper_id
                .as_ref()
                .is_some_and(|assigned| join.caller.user_id.as_ref() != Some(assigned))
        {
            join.caller.role = Role::Observer;
        }
        let caller = &join.caller;
        let mut bodies = Vec::new();
        if !state.status.is_over() {
            if caller.role == Role::Shopper && state.shopper_id.is_none() {
                if let Some(user) = &caller.user_id {
                    bodies.push(EventBody::SessionMatched {
                        shopper_id: user.clone(),
                    });
                }
            }
            let known = state.participant(&caller.participant_id);
            let info = ParticipantInfo {
                participant_id: caller.participant_id.clone(),
                role: caller.role,
                name: caller.name.clone(),
                user_id: caller.user_id.clone(),
            };
            if !self.is_connected(&caller.participant_id) || known != Some(&info) {
                bodies.push(EventBody::ParticipantJoined { participant: info });
            }
        }
        if bodies.is_empty() {
            self.attach(join, tx, ctx);
            return;
        }
        tracing::info!(parent: &self.span, participant_id = %caller.participant_id,
            role = caller.role.as_str(), "participant joined");
        let by = Some(caller.participant_id.clone());
        let events = self.apply_new(by, bodies);
        self.commit(
            vec![Pending {
                events,
                command: None,
                completion: Completion::Join(join, tx),
                span: self.span.clone(),
                staged: Instant::now(),
            }],
            ctx,
        );
    }

    /// Queues welcome (and the catch-up) for a connection, then adds it to the fan-out.
    /// A connection of another node gets the welcome back instead; its node catches it up.
    fn attach(&mut self, join: Seating, tx: JoinTx, _ctx: &mut Context<Self>) {
        let participant_id = join.caller.participant_id.clone();
        let role = join.caller.role;
        let (outbound, resume_after) = match join.seat {
            Seat::Local {
                outbound,
                resume_after,
            } => (outbound, resume_after),
            Seat::Remote { node } => {
                self.remote.insert((node, join.conn_id), join.caller);
                let view = self.view();
                let joined = Joined {
                    participant_id: participant_id.clone(),
                    role,
                    seq: view.seq,
                };
                let welcome = welcome_frame(&participant_id, role, &view);
                if let JoinTx::Remote(tx) = tx {
                    let _ = tx.send(Ok((joined, welcome)));
                }
                return;
            }
        };
        // The new connection counts as connected in its own welcome.
        metrics::gauge!(m::CONNECTED_PARTICIPANTS, "role" => role.as_str()).increment(1.0);
        self.conns.insert(
            join.conn_id,
            Connection {
                caller: join.caller,
                outbound: outbound.clone(),
            },
        );
        let view = self.view();
        let seq = view.seq;
        let mut offered = outbound.offer_text(welcome_frame(&participant_id, role, &view));
        if let Some(after) = resume_after.filter(|after| *after < seq) {
            if offered == Offer::Queued {
                offered = outbound.offer(OutFrame::Replay(Box::new(ReplayRequest::new(
                    Arc::clone(&self.deps.store),
                    self.key.tenant.clone(),
                    self.key.session.clone(),
                    after,
                    seq,
                    role.is_staff(),
                ))));
            }
        }
        if offered != Offer::Queued {
            self.detach(join.conn_id);
        }
        if let JoinTx::Local(tx) = tx {
            let _ = tx.send(Ok(Joined {
                participant_id,
                role,
                seq,
            }));
        }
    }

    fn save_snapshot(&mut self) {
        let Some(state) = &self.state else { return };
        if self.stale {
            return;
        }
        let snapshot = match serde_json::to_value(state) {
            Ok(value) => Snapshot {
                seq: state.seq,
                state: value,
            },
            Err(e) => {
                tracing::error!(parent: &self.span, error = %e, "could not encode snapshot");
                return;
            }
        };
        self.unsnapshotted = 0;
        let store = Arc::clone(&self.deps.store);
        let key = self.key.clone();
        actix::spawn(
            async move {
                if let Err(e) = store
                    .save_snapshot(&key.tenant, &key.session, &snapshot)
                    .await
                {
                    // Only a shortcut for rebuilding: the log still has everything.
                    tracing::warn!(error = %e, "could not save snapshot");
                }
            }
            .instrument(self.span.clone()),
        );
    }

    fn check_idle(&mut self, ctx: &mut Context<Self>) {
        let idle = self.conns.is_empty()
            && self.remote.is_empty()
            && self.queue.is_empty()
            && !self.busy
            && self.idle_since.elapsed() >= self.deps.settings.idle_timeout;
        if idle {
            if self.unsnapshotted > 0 {
                self.save_snapshot();
            }
            self.directory.remove(&self.key, self.activation);
            ctx.stop();
        }
    }
}

/// Stores and applies the events that bring the cart mirror in line with commerce (see
/// [`load::reconcile`]); returns them. Failing here only postpones the catch-up to the
/// next load.
async fn catch_up_with_commerce(
    store: &Arc<dyn Store>,
    commerce: &Arc<dyn Commerce>,
    state: &mut SessionState,
    epoch: u64,
) -> Vec<SessionEvent> {
    let bodies = match load::reconcile(commerce, state).await {
        Ok(bodies) if !bodies.is_empty() => bodies,
        Ok(_) => return Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, "could not compare the cart with commerce");
            return Vec::new();
        }
    };
    let at = vitrine_persistence::now();
    let events: Vec<SessionEvent> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| SessionEvent {
            seq: state.seq + 1 + i as u64,
            at,
            by: None,
            body,
        })
        .collect();
    let batch = AppendBatch {
        tenant_id: state.tenant_id.clone(),
        session_id: state.session_id.clone(),
        expected_seq: state.seq,
        epoch,
        events: events.iter().map(SessionEvent::to_new_event).collect(),
        patch: patch_for(&events),
        commands: Vec::new(),
    };
    if let Err(e) = store.append(batch).await {
        tracing::warn!(error = %e, "could not store the cart catch-up");
        return Vec::new();
    }
    for event in &events {
        if let Err(e) = state.apply(event) {
            tracing::error!(error = %e, "a stored catch-up event does not apply");
        }
    }
    tracing::info!(events = events.len(), "cart mirror caught up with commerce");
    events
}

/// Records how a command ended on its span: `ok` or the error code.
fn record_outcome(span: &tracing::Span, reply: &CommandReply) {
    span.record("outcome", reply.outcome());
}

/// Commands whose events follow from the state alone (no commerce call).
fn is_state_only(command: &Command) -> bool {
    matches!(
        command,
        Command::SendChat { .. }
            | Command::GiveConsent { .. }
            | Command::StartSession
            | Command::EndSession { .. }
            | Command::SubmitSurvey { .. }
            | Command::Ping
    )
}

/// The projection changes implied by `events`.
fn patch_for<'a>(events: impl IntoIterator<Item = &'a SessionEvent>) -> SessionPatch {
    let mut patch = SessionPatch::default();
    for e in events {
        match &e.body {
            EventBody::SessionMatched { shopper_id } => {
                patch.shopper_id = Some(shopper_id.clone());
                patch.status.get_or_insert_with(|| "matched".into());
            }
            EventBody::SessionScheduled { .. } => patch.status = Some("scheduled".into()),
            EventBody::SessionStarted {} => {
                patch.status = Some("live".into());
                patch.started_at = Some(e.at);
            }
            EventBody::SessionEnded { .. } => {
                patch.status = Some("ended".into());
                patch.ended_at = Some(e.at);
            }
            EventBody::SessionCancelled { .. } => {
                patch.status = Some("cancelled".into());
                patch.ended_at = Some(e.at);
            }
            _ => {}
        }
    }
    patch
}

fn refuse_with(work: Work, code: ErrorCode, message: &str, join: JoinError) {
    match work {
        Work::Execute(_, tx) => {
            let _ = tx.send(CommandReply::failed(CommandError::new(code, message)));
        }
        Work::Join(_, tx) => tx.fail(join),
        Work::View(tx) => {
            let _ = tx.send(Err(join));
        }
        Work::Leave(_) | Work::RemoteLeave(..) | Work::NodeGone(_) | Work::ParticipantGone(_) => {}
    }
}

fn refuse_unavailable(work: Work) {
    refuse_with(
        work,
        ErrorCode::Unavailable,
        "the session is unavailable; try again",
        JoinError::Unavailable,
    );
}

fn refuse_overloaded(work: Work) {
    refuse_with(
        work,
        ErrorCode::Unavailable,
        "the session is overloaded; try again",
        JoinError::Overloaded,
    );
}

fn refuse_not_found(work: Work) {
    refuse_with(
        work,
        ErrorCode::NotFound,
        "no such session",
        JoinError::NotFound,
    );
}

/// How often an idle session checks whether to stop.
const IDLE_CHECK: Duration = Duration::from_secs(1);

impl Actor for LiveSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.deps.settings.max_queue.max(16));
        ctx.run_interval(IDLE_CHECK, |act, ctx| act.check_idle(ctx));
        if let Some(cluster) = &self.deps.cluster {
            cluster.hold(&self.key, self.activation, ctx.address());
            // Nodes following the session hear that the owner lives, and up to which seq
            // it stored, so a dropped event is noticed even when no other follows it.
            ctx.run_interval(cluster.settings().tick(), |act, _| {
                if act.remote.is_empty() || act.stale {
                    return;
                }
                if let Some(cluster) = &act.deps.cluster {
                    cluster.publish_heartbeat(&act.key, act.stored_seq);
                }
            });
        }
        // Load right away, so the first participant does not wait for it.
        self.reload(ctx);
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.directory.remove(&self.key, self.activation);
        if let Some(cluster) = &self.deps.cluster {
            if !self.remote.is_empty() {
                cluster.publish_moved(&self.key);
            }
            cluster.release(&self.key, self.activation);
        }
        // Connections still attached (the actor was fenced, or lost its session) must not
        // stay open to a session that no longer answers: they reconnect and resume.
        for (_, conn) in std::mem::take(&mut self.conns) {
            conn.outbound.offer(OutFrame::Close {
                code: close_code::TRY_AGAIN,
                reason: "the session moved; reconnect",
            });
            metrics::gauge!(m::CONNECTED_PARTICIPANTS, "role" => conn.caller.role.as_str())
                .decrement(1.0);
        }
        tracing::info!(parent: &self.span, "session stopped");
    }
}

impl Handler<Execute> for LiveSession {
    type Result = ResponseFuture<CommandReply>;

    fn handle(&mut self, msg: Execute, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.enqueue(Work::Execute(msg, tx), ctx);
        Box::pin(async move {
            rx.await.unwrap_or_else(|_| {
                CommandReply::failed(CommandError::new(
                    ErrorCode::Unavailable,
                    "the session stopped; try again",
                ))
            })
        })
    }
}

impl Handler<Submit> for LiveSession {
    type Result = ();

    fn handle(&mut self, msg: Submit, ctx: &mut Self::Context) {
        self.enqueue(Work::Execute(msg.exec, msg.reply), ctx);
    }
}

impl Handler<Join> for LiveSession {
    type Result = ResponseFuture<Result<Joined, JoinError>>;

    fn handle(&mut self, msg: Join, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let seating = Seating {
            conn_id: msg.conn_id,
            caller: msg.caller,
            seat: Seat::Local {
                outbound: msg.outbound,
                resume_after: msg.resume_after,
            },
        };
        self.enqueue(Work::Join(seating, JoinTx::Local(tx)), ctx);
        Box::pin(async move { rx.await.unwrap_or(Err(JoinError::Unavailable)) })
    }
}

impl Handler<RemoteJoin> for LiveSession {
    type Result = ResponseFuture<Result<(Joined, Arc<str>), JoinError>>;

    fn handle(&mut self, msg: RemoteJoin, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let seating = Seating {
            conn_id: msg.conn,
            caller: msg.caller,
            seat: Seat::Remote { node: msg.node },
        };
        self.enqueue(Work::Join(seating, JoinTx::Remote(tx)), ctx);
        Box::pin(async move { rx.await.unwrap_or(Err(JoinError::Unavailable)) })
    }
}

impl Handler<RemoteLeave> for LiveSession {
    type Result = ();

    fn handle(&mut self, msg: RemoteLeave, ctx: &mut Self::Context) {
        self.enqueue(Work::RemoteLeave(msg.node, msg.conn), ctx);
    }
}

impl Handler<NodeGone> for LiveSession {
    type Result = ();

    fn handle(&mut self, msg: NodeGone, ctx: &mut Self::Context) {
        self.enqueue(Work::NodeGone(msg.node), ctx);
    }
}

impl Handler<StepDown> for LiveSession {
    type Result = ();

    fn handle(&mut self, _msg: StepDown, ctx: &mut Self::Context) {
        tracing::warn!(parent: &self.span, "lease lost; stopping");
        for work in self.queue.drain(..) {
            refuse_unavailable(work);
        }
        ctx.stop();
    }
}

impl Handler<Leave> for LiveSession {
    type Result = ();

    fn handle(&mut self, msg: Leave, ctx: &mut Self::Context) {
        self.enqueue(Work::Leave(msg.conn_id), ctx);
    }
}

impl Handler<Drain> for LiveSession {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _msg: Drain, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.drained.push(tx);
        self.pump(ctx);
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

impl Handler<GetView> for LiveSession {
    type Result = ResponseFuture<Result<SessionView, JoinError>>;

    fn handle(&mut self, _msg: GetView, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.enqueue(Work::View(tx), ctx);
        Box::pin(async move { rx.await.unwrap_or(Err(JoinError::Unavailable)) })
    }
}
