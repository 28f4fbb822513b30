//! Group commit for Postgres: appends queued by many session actors are written in one
//! transaction with one statement per table, whatever the number of sessions in it.
//!
//! The session rows are locked first (`FOR UPDATE`), each append is checked against its
//! row (seq and fencing epoch) in memory, and only the appends that pass are written, so
//! a rejected append never costs the others their commit. The actor acks only after the
//! commit returns.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_postgres::types::ToSql;

use super::{pg_error, pool_error, to_i64, to_u64};
use crate::error::{AppendError, StoreError};
use crate::group_commit::{BatchObserver, GroupCommitOptions};
use crate::model::AppendBatch;

/// Appends that may wait for the committer before callers are told the store is busy.
pub(crate) const QUEUE_BOUND: usize = 65_536;

/// One append and where its outcome goes.
pub(crate) struct AppendJob {
    pub(crate) batch: AppendBatch,
    pub(crate) reply: oneshot::Sender<Result<(), AppendError>>,
}

/// Takes appends off the queue and commits them in groups, up to `parallel` at once.
pub(crate) async fn run(
    pool: Pool,
    mut rx: mpsc::Receiver<AppendJob>,
    options: GroupCommitOptions,
    parallel: usize,
    observer: Arc<dyn BatchObserver>,
) {
    let slots = Arc::new(Semaphore::new(parallel));
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        let deadline = tokio::time::Instant::now() + options.window;
        while group.len() < options.max_batch {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if options.window.is_zero() {
                        break;
                    }
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(job)) => group.push(job),
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        }

        // unwrap: the semaphore is never closed.
        let permit = Arc::clone(&slots)
            .acquire_owned()
            .await
            .expect("open semaphore");
        let (pool, observer) = (pool.clone(), Arc::clone(&observer));
        tokio::spawn(async move {
            let started = Instant::now();
            let size = group.len();
            commit_group(&pool, group).await;
            observer.committed(size, started.elapsed());
            drop(permit);
        });
    }
    tracing::debug!("postgres committer stopped");
}

/// What one session row looked like when locked.
struct Row {
    seq: u64,
    epoch: u64,
}

async fn commit_group(pool: &Pool, group: Vec<AppendJob>) {
    match write_group(pool, &group).await {
        Ok(results) => {
            for (job, result) in group.into_iter().zip(results) {
                let _ = job.reply.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, appends = group.len(), "group commit failed");
            for job in group {
                let _ = job.reply.send(Err(AppendError::Store(clone_error(&e))));
            }
        }
    }
}

fn clone_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Internal(other.to_string()),
    }
}

/// Writes the appends that pass their checks; returns each append's outcome.
async fn write_group(
    pool: &Pool,
    group: &[AppendJob],
) -> Result<Vec<Result<(), AppendError>>, StoreError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await.map_err(pg_error)?;

    // Lock every session row of the group and read its seq and epoch.
    let mut keys_tenant = Vec::new();
    let mut keys_session = Vec::new();
    for job in group {
        keys_tenant.push(job.batch.tenant_id.as_str().to_owned());
        keys_session.push(job.batch.session_id.as_str().to_owned());
    }
    let lock = tx
        .prepare_cached(
            "SELECT s.tenant_id, s.session_id, s.seq, s.owner_epoch
             FROM sessions s
             JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, session_id)
               ON s.tenant_id = k.tenant_id AND s.session_id = k.session_id
             ORDER BY s.tenant_id, s.session_id
             FOR UPDATE OF s",
        )
        .await
        .map_err(pg_error)?;
    let mut rows: HashMap<(String, String), Row> = HashMap::new();
    for r in tx
        .query(&lock, &[&keys_tenant, &keys_session])
        .await
        .map_err(pg_error)?
    {
        rows.insert(
            (r.get(0), r.get(1)),
            Row {
                seq: to_u64(r.get(2)),
                epoch: to_u64(r.get(3)),
            },
        );
    }

    // Check each append in order; appends of one session later in the group follow the
    // earlier ones.
    let mut results = Vec::with_capacity(group.len());
    let mut events = EventColumns::default();
    let mut updates = UpdateColumns::default();
    let mut commands = CommandColumns::default();
    for job in group {
        let b = &job.batch;
        let key = (
            b.tenant_id.as_str().to_owned(),
            b.session_id.as_str().to_owned(),
        );
        let Some(row) = rows.get_mut(&key) else {
            results.push(Err(AppendError::NoSession));
            continue;
        };
        if b.epoch < row.epoch {
            results.push(Err(AppendError::Fenced {
                stored: row.epoch,
                attempted: b.epoch,
            }));
            continue;
        }
        if b.expected_seq != row.seq {
            results.push(Err(AppendError::SeqConflict {
                expected: b.expected_seq,
                stored: row.seq,
            }));
            continue;
        }
        let mut seq = b.expected_seq;
        for e in &b.events {
            seq += 1;
            events.push(&key, seq, e);
        }
        row.seq = seq;
        row.epoch = row.epoch.max(b.epoch);
        updates.push(&key, row, b);
        for c in &b.commands {
            commands.tenant.push(key.0.clone());
            commands.session.push(key.1.clone());
            commands
                .participant
                .push(c.participant_id.as_str().to_owned());
            commands.command.push(c.command_id.clone());
            commands.reply.push(c.reply.clone());
            commands.at.push(c.at);
        }
        results.push(Ok(()));
    }

    // The writes go out together, pipelined on the connection: one round trip for all.
    let insert_events = tx
        .prepare_cached(
            "INSERT INTO session_events (tenant_id, session_id, seq, kind, at, by_participant,
                                         data)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[],
                                  $5::timestamptz[], $6::text[], $7::jsonb[])",
        )
        .await
        .map_err(pg_error)?;
    let update_sessions = tx
        .prepare_cached(
            "UPDATE sessions s SET seq = u.seq, owner_epoch = greatest(s.owner_epoch, u.epoch),
                 status = coalesce(u.status, s.status),
                 shopper_id = coalesce(u.shopper_id, s.shopper_id),
                 started_at = coalesce(u.started_at, s.started_at),
                 ended_at = coalesce(u.ended_at, s.ended_at)
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[],
                         $6::text[], $7::timestamptz[], $8::timestamptz[])
                  AS u(tenant_id, session_id, seq, epoch, status, shopper_id, started_at,
                       ended_at)
             WHERE s.tenant_id = u.tenant_id AND s.session_id = u.session_id",
        )
        .await
        .map_err(pg_error)?;
    let insert_commands = tx
        .prepare_cached(
            "INSERT INTO command_results (tenant_id, session_id, participant_id, command_id,
                                          reply, at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                                  $5::jsonb[], $6::timestamptz[])
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(pg_error)?;
    updates.dedupe();

    let event_params: [&(dyn ToSql + Sync); 7] = [
        &events.tenant,
        &events.session,
        &events.seq,
        &events.kind,
        &events.at,
        &events.by,
        &events.data,
    ];
    let update_params: [&(dyn ToSql + Sync); 8] = [
        &updates.tenant,
        &updates.session,
        &updates.seq,
        &updates.epoch,
        &updates.status,
        &updates.shopper,
        &updates.started,
        &updates.ended,
    ];
    let command_params: [&(dyn ToSql + Sync); 6] = [
        &commands.tenant,
        &commands.session,
        &commands.participant,
        &commands.command,
        &commands.reply,
        &commands.at,
    ];
    let mut writes = Vec::with_capacity(3);
    if !events.tenant.is_empty() {
        writes.push(tx.execute(&insert_events, &event_params));
    }
    if !updates.tenant.is_empty() {
        writes.push(tx.execute(&update_sessions, &update_params));
    }
    if !commands.tenant.is_empty() {
        writes.push(tx.execute(&insert_commands, &command_params));
    }
    futures_util::future::try_join_all(writes)
        .await
        .map_err(pg_error)?;
    tx.commit().await.map_err(pg_error)?;
    Ok(results)
}

#[derive(Default)]
struct EventColumns {
    tenant: Vec<String>,
    session: Vec<String>,
    seq: Vec<i64>,
    kind: Vec<String>,
    at: Vec<DateTime<Utc>>,
    by: Vec<Option<String>>,
    data: Vec<Value>,
}

impl EventColumns {
    fn push(&mut self, key: &(String, String), seq: u64, e: &crate::model::NewEvent) {
        self.tenant.push(key.0.clone());
        self.session.push(key.1.clone());
        self.seq.push(to_i64(seq));
        self.kind.push(e.kind.clone());
        self.at.push(e.at);
        self.by.push(e.by.as_ref().map(|p| p.as_str().to_owned()));
        self.data.push(e.data.clone());
    }
}

#[derive(Default)]
struct UpdateColumns {
    tenant: Vec<String>,
    session: Vec<String>,
    seq: Vec<i64>,
    epoch: Vec<i64>,
    status: Vec<Option<String>>,
    shopper: Vec<Option<String>>,
    started: Vec<Option<DateTime<Utc>>>,
    ended: Vec<Option<DateTime<Utc>>>,
}

impl UpdateColumns {
    fn push(&mut self, key: &(String, String), row: &Row, b: &AppendBatch) {
        self.tenant.push(key.0.clone());
        self.session.push(key.1.clone());
        self.seq.push(to_i64(row.seq));
        self.epoch.push(to_i64(row.epoch));
        self.status.push(b.patch.status.clone());
        self.shopper
            .push(b.patch.shopper_id.as_ref().map(|s| s.as_str().to_owned()));
        self.started.push(b.patch.started_at);
        self.ended.push(b.patch.ended_at);
    }

    /// One row per session: an `UPDATE … FROM` changes each target row once, so later
    /// appends of a session fold into its last entry.
    fn dedupe(&mut self) {
        let mut last: HashMap<(String, String), usize> = HashMap::new();
        for i in 0..self.tenant.len() {
            let key = (self.tenant[i].clone(), self.session[i].clone());
            if let Some(&prev) = last.get(&key) {
                // Keep the newest values, but never lose a change an earlier append made.
                self.status[i] = self.status[i].take().or(self.status[prev].take());
                self.shopper[i] = self.shopper[i].take().or(self.shopper[prev].take());
                self.started[i] = self.started[i].or(self.started[prev]);
                self.ended[i] = self.ended[i].or(self.ended[prev]);
            }
            last.insert(key, i);
        }
        let keep: Vec<bool> = (0..self.tenant.len())
            .map(|i| last.get(&(self.tenant[i].clone(), self.session[i].clone())) == Some(&i))
            .collect();
        retain(&mut self.tenant, &keep);
        retain(&mut self.session, &keep);
        retain(&mut self.seq, &keep);
        retain(&mut self.epoch, &keep);
        retain(&mut self.status, &keep);
        retain(&mut self.shopper, &keep);
        retain(&mut self.started, &keep);
        retain(&mut self.ended, &keep);
    }
}

fn retain<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut i = 0;
    v.retain(|_| {
        let k = keep[i];
        i += 1;
        k
    });
}

#[derive(Default)]
struct CommandColumns {
    tenant: Vec<String>,
    session: Vec<String>,
    participant: Vec<String>,
    command: Vec<String>,
    reply: Vec<Value>,
    at: Vec<DateTime<Utc>>,
}
