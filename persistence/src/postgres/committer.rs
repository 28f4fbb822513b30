//! Group commit for Postgres: appends queued by many session actors are written in one
//! transaction with one statement per table, whatever the number of sessions in it.
//!
//! The whole group is one call of the `vitrine_append` function (see its migration), so
//! it costs one round trip and one commit: the function locks the session rows, checks each
//! append against its row (seq and fencing epoch) and writes only the appends that pass, so
//! a rejected append never costs the others their commit. The actor acks only after the
//! call returns, that is after the commit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_postgres::types::ToSql;
use tracing::Instrument;

use super::{pg_error, pool_error, to_i64, to_u64};
use crate::error::{AppendError, StoreError};
use crate::group_commit::{BatchObserver, GroupCommitOptions};
use crate::model::AppendBatch;

/// Appends that may wait for the committer before callers are told the store is busy.
pub(crate) const QUEUE_BOUND: usize = 65_536;

/// How the committer groups appends and how long an append may take.
pub(crate) struct Limits {
    /// The grouping window and bound.
    pub(crate) group: GroupCommitOptions,
    /// Groups in flight at once.
    pub(crate) parallel: usize,
    /// Longest wait in the queue; an append still queued after it is answered
    /// `unavailable` without being written.
    pub(crate) queue_wait: Duration,
    /// Longest time for writing a group (a connection, then the statement). Past it, its
    /// callers are told the store is unavailable: a database that stopped answering (a
    /// hung server, a lost network) never enforces its own `statement_timeout`.
    pub(crate) write_timeout: Duration,
}

impl Limits {
    /// The limits for `options`: an append hears its outcome within
    /// `2 × pool_wait + statement_timeout` and half a second.
    pub(crate) fn of(options: &super::PgOptions) -> Self {
        Self {
            group: options.group_commit,
            parallel: options.committers.max(1),
            queue_wait: options.pool_wait,
            write_timeout: options.pool_wait
                + options.statement_timeout
                + Duration::from_millis(500),
        }
    }
}

/// One append and where its outcome goes.
pub(crate) struct AppendJob {
    pub(crate) batch: AppendBatch,
    pub(crate) reply: oneshot::Sender<Result<(), AppendError>>,
    /// The caller's span, which the group commit's span links to.
    pub(crate) span: tracing::Span,
    /// When it was queued; its deadline runs from here.
    pub(crate) queued: Instant,
}

/// Takes appends off the queue and commits them in groups, up to `parallel` at once.
pub(crate) async fn run(
    pool: Pool,
    mut rx: mpsc::Receiver<AppendJob>,
    limits: Limits,
    observer: Arc<dyn BatchObserver>,
) {
    let options = limits.group;
    let slots = Arc::new(Semaphore::new(limits.parallel));
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
        // Text Postgres cannot store fails its own append, not the group's.
        let (group, unstorable): (Vec<_>, Vec<_>) =
            group.into_iter().partition(|job| storable(&job.batch));
        for job in unstorable {
            tracing::warn!(session_id = %job.batch.session_id, "append refused: text holds NUL");
            let _ = job.reply.send(Err(AppendError::Store(StoreError::Internal(
                "text with a NUL character cannot be stored".into(),
            ))));
        }
        // Appends that waited out their deadline in the queue are not written.
        let (group, expired): (Vec<_>, Vec<_>) = group
            .into_iter()
            .partition(|job| job.queued.elapsed() < limits.queue_wait);
        if !expired.is_empty() {
            tracing::warn!(
                appends = expired.len(),
                "appends expired before the database took them"
            );
            for job in expired {
                let _ = job.reply.send(Err(too_slow()));
            }
        }
        if group.is_empty() {
            continue;
        }
        let (pool, observer) = (pool.clone(), Arc::clone(&observer));
        let span = tracing::debug_span!("postgres.group_commit", appends = group.len());
        for job in &group {
            span.follows_from(&job.span);
        }
        let write_timeout = limits.write_timeout;
        tokio::spawn(async move {
            let started = Instant::now();
            let size = group.len();
            commit_group(&pool, group, write_timeout)
                .instrument(span)
                .await;
            observer.committed(size, started.elapsed());
            drop(permit);
        });
    }
    tracing::debug!("postgres committer stopped");
}

/// Whether Postgres can store every text of `batch` (none holds a NUL character).
fn storable(batch: &AppendBatch) -> bool {
    let nul = |s: &str| s.contains('\0');
    let patch = &batch.patch;
    !(batch.events.iter().any(|e| {
        nul(&e.kind)
            || e.by.as_ref().is_some_and(|p| nul(p.as_str()))
            || crate::json_holds_nul(&e.data)
    }) || batch.commands.iter().any(|c| {
        nul(&c.command_id) || nul(c.participant_id.as_str()) || crate::json_holds_nul(&c.reply)
    }) || patch.status.as_deref().is_some_and(nul)
        || patch.shopper_id.as_ref().is_some_and(|s| nul(s.as_str())))
}

/// The outcome of an append the database did not settle in time.
fn too_slow() -> AppendError {
    AppendError::Store(StoreError::Unavailable(
        "the database did not answer in time".into(),
    ))
}

async fn commit_group(pool: &Pool, group: Vec<AppendJob>, write_timeout: Duration) {
    let written = match tokio::time::timeout(write_timeout, write_group(pool, &group)).await {
        Ok(written) => written,
        Err(_) => {
            // Limitation: the statement may still commit after its callers were told
            // `unavailable`; a retry with the same command id then finds the stored reply,
            // and the session's next append sees the new seq, so nothing is applied twice.
            tracing::warn!(
                appends = group.len(),
                "group commit timed out; answering unavailable"
            );
            for job in group {
                let _ = job.reply.send(Err(too_slow()));
            }
            return;
        }
    };
    match written {
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

/// The group as the columns `vitrine_append` takes (see its migration).
#[derive(Default)]
struct Columns {
    tenant: Vec<String>,
    session: Vec<String>,
    expected: Vec<i64>,
    epoch: Vec<i64>,
    count: Vec<i32>,
    status: Vec<Option<String>>,
    shopper: Vec<Option<String>>,
    started: Vec<Option<DateTime<Utc>>>,
    ended: Vec<Option<DateTime<Utc>>>,
    event_batch: Vec<i32>,
    event_position: Vec<i32>,
    event_kind: Vec<String>,
    event_at: Vec<DateTime<Utc>>,
    event_by: Vec<Option<String>>,
    event_data: Vec<Value>,
    command_batch: Vec<i32>,
    command_participant: Vec<String>,
    command_id: Vec<String>,
    command_reply: Vec<Value>,
    command_at: Vec<DateTime<Utc>>,
}

fn small(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Columns {
    fn of(group: &[AppendJob]) -> Self {
        let mut c = Columns::default();
        for (i, job) in group.iter().enumerate() {
            let b = &job.batch;
            let batch = small(i + 1);
            c.tenant.push(b.tenant_id.as_str().to_owned());
            c.session.push(b.session_id.as_str().to_owned());
            c.expected.push(to_i64(b.expected_seq));
            c.epoch.push(to_i64(b.epoch));
            c.count.push(small(b.events.len()));
            c.status.push(b.patch.status.clone());
            c.shopper
                .push(b.patch.shopper_id.as_ref().map(|s| s.as_str().to_owned()));
            c.started.push(b.patch.started_at);
            c.ended.push(b.patch.ended_at);
            for (p, e) in b.events.iter().enumerate() {
                c.event_batch.push(batch);
                c.event_position.push(small(p + 1));
                c.event_kind.push(e.kind.clone());
                c.event_at.push(e.at);
                c.event_by
                    .push(e.by.as_ref().map(|p| p.as_str().to_owned()));
                c.event_data.push(e.data.clone());
            }
            for r in &b.commands {
                c.command_batch.push(batch);
                c.command_participant
                    .push(r.participant_id.as_str().to_owned());
                c.command_id.push(r.command_id.clone());
                c.command_reply.push(r.reply.clone());
                c.command_at.push(r.at);
            }
        }
        c
    }
}

/// Writes the group in one statement (and so one commit); returns each append's outcome.
async fn write_group(
    pool: &Pool,
    group: &[AppendJob],
) -> Result<Vec<Result<(), AppendError>>, StoreError> {
    let c = Columns::of(group);
    let client = pool.get().await.map_err(pool_error)?;
    let statement = client
        .prepare_cached(
            "SELECT outcome, stored_seq, stored_epoch FROM vitrine_append(
                 $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20)",
        )
        .await
        .map_err(pg_error)?;
    let params: [&(dyn ToSql + Sync); 20] = [
        &c.tenant,
        &c.session,
        &c.expected,
        &c.epoch,
        &c.count,
        &c.status,
        &c.shopper,
        &c.started,
        &c.ended,
        &c.event_batch,
        &c.event_position,
        &c.event_kind,
        &c.event_at,
        &c.event_by,
        &c.event_data,
        &c.command_batch,
        &c.command_participant,
        &c.command_id,
        &c.command_reply,
        &c.command_at,
    ];
    let rows = client.query(&statement, &params).await.map_err(pg_error)?;
    if rows.len() != group.len() {
        return Err(StoreError::Internal(format!(
            "vitrine_append answered {} outcomes for {} appends",
            rows.len(),
            group.len()
        )));
    }
    Ok(group
        .iter()
        .zip(rows)
        .map(|(job, row)| {
            let (outcome, seq, epoch): (i16, i64, i64) = (row.get(0), row.get(1), row.get(2));
            match outcome {
                0 => Ok(()),
                1 => Err(AppendError::SeqConflict {
                    expected: job.batch.expected_seq,
                    stored: to_u64(seq),
                }),
                2 => Err(AppendError::Fenced {
                    stored: to_u64(epoch),
                    attempted: job.batch.epoch,
                }),
                _ => Err(AppendError::NoSession),
            }
        })
        .collect())
}
