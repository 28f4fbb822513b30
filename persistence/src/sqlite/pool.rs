//! Threads and connections of the SQLite store.
//!
//! SQLite allows one writer at a time, so one thread owns the write connection and takes
//! jobs from a channel. Appends that queue up while a transaction commits are committed
//! together in the next one (group commit): a burst of appends from many sessions costs
//! one fsync instead of one each. Reads run on a small pool of read-only connections,
//! which WAL mode lets proceed while the writer commits.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::error::{AppendError, StoreError};
use crate::group_commit::{BatchObserver, GroupCommitOptions};
use crate::model::AppendBatch;

use super::sessions;
use super::sql_error;

/// How many jobs may wait for the writer before callers are told the store is busy.
const WRITER_QUEUE_BOUND: usize = 65_536;

type WriteFn = Box<dyn FnOnce(&mut Connection) + Send>;
type AppendReply = oneshot::Sender<Result<(), AppendError>>;

enum Job {
    Append(Box<AppendBatch>, AppendReply, tracing::Span),
    Write(WriteFn),
}

/// Handle to the writer thread.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: SyncSender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn start(
        conn: Connection,
        options: GroupCommitOptions,
        observer: Arc<dyn BatchObserver>,
    ) -> Self {
        let (jobs, rx) = mpsc::sync_channel(WRITER_QUEUE_BOUND);
        std::thread::Builder::new()
            .name("vitrine-sqlite-writer".into())
            .spawn(move || run_writer(conn, rx, options, observer))
            // unwrap: failing to spawn a thread at start-up leaves nothing to recover.
            .expect("spawn the sqlite writer thread");
        Self { jobs }
    }

    /// Queues an append for the next group commit.
    pub(crate) async fn append(&self, batch: AppendBatch) -> Result<(), AppendError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Job::Append(Box::new(batch), tx, tracing::Span::current()))?;
        rx.await.map_err(|_| writer_gone())?
    }

    /// Runs `f` on the write connection, in its own transaction if it opens one.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.submit(Job::Write(Box::new(move |conn| {
            let _ = tx.send(f(conn));
        })))?;
        rx.await.map_err(|_| writer_gone())
    }

    fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => StoreError::Unavailable("writer queue is full".into()),
            mpsc::TrySendError::Disconnected(_) => writer_gone(),
        })
    }
}

fn writer_gone() -> StoreError {
    StoreError::Unavailable("the sqlite writer has stopped".into())
}

fn run_writer(
    mut conn: Connection,
    rx: Receiver<Job>,
    options: GroupCommitOptions,
    observer: Arc<dyn BatchObserver>,
) {
    while let Ok(job) = rx.recv() {
        let (first, first_reply, first_span) = match job {
            Job::Write(f) => {
                f(&mut conn);
                continue;
            }
            Job::Append(batch, reply, span) => (batch, reply, span),
        };

        // Gather whatever else is queued (and, with a window, what arrives within it).
        let mut group = vec![(first, first_reply)];
        let mut spans = vec![first_span];
        let mut deferred = None;
        let deadline = Instant::now() + options.window;
        while group.len() < options.max_batch {
            let next = match rx.try_recv() {
                Ok(job) => job,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    match rx.recv_timeout(left) {
                        Ok(job) => job,
                        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            match next {
                Job::Append(batch, reply, span) => {
                    group.push((batch, reply));
                    spans.push(span);
                }
                Job::Write(f) => {
                    deferred = Some(f);
                    break;
                }
            }
        }

        let started = Instant::now();
        let size = group.len();
        let span = tracing::debug_span!("sqlite.group_commit", appends = size);
        for s in &spans {
            span.follows_from(s);
        }
        span.in_scope(|| commit_group(&mut conn, group));
        observer.committed(size, started.elapsed());

        if let Some(f) = deferred {
            f(&mut conn);
        }
    }
    tracing::debug!("sqlite writer stopped");
}

/// Commits every append of `group` in one transaction. Each append runs in its own
/// savepoint, so one rejected append (a seq conflict, a fenced writer) leaves the others in.
fn commit_group(conn: &mut Connection, group: Vec<(Box<AppendBatch>, AppendReply)>) {
    let mut results: Vec<Result<(), AppendError>> = Vec::with_capacity(group.len());
    let outcome = (|| -> Result<(), StoreError> {
        let mut tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_error)?;
        for (batch, _) in &group {
            let sp = tx.savepoint().map_err(sql_error)?;
            match sessions::append(&sp, batch) {
                Ok(()) => {
                    sp.commit().map_err(sql_error)?;
                    results.push(Ok(()));
                }
                Err(e) => {
                    // Dropping the savepoint rolls this append back.
                    drop(sp);
                    results.push(Err(e));
                }
            }
        }
        tx.commit().map_err(sql_error)
    })();

    match outcome {
        Ok(()) => {
            for ((_, reply), result) in group.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, appends = group.len(), "group commit failed");
            for (_, reply) in group {
                let _ = reply.send(Err(AppendError::Store(StoreError::Unavailable(
                    e.to_string(),
                ))));
            }
        }
    }
}

/// A few read-only connections shared by blocking reads.
pub(crate) struct Readers {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
}

impl Readers {
    /// Opens `count` read-only connections to `path`.
    pub(crate) fn open(path: &Path, count: usize) -> Result<Arc<Self>, StoreError> {
        let mut idle = Vec::with_capacity(count);
        for _ in 0..count.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(sql_error)?;
            conn.busy_timeout(Duration::from_secs(5))
                .map_err(sql_error)?;
            idle.push(conn);
        }
        Ok(Arc::new(Self {
            idle: Mutex::new(idle),
            returned: Condvar::new(),
        }))
    }

    /// Runs `f` on a free read connection, on the blocking thread pool.
    pub(crate) async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let conn = readers.take();
            let result = f(&conn);
            readers.put(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
    }

    fn take(&self) -> Connection {
        // unwrap: the lock is only held for a push or pop, which cannot panic.
        let mut idle = self.idle.lock().unwrap();
        loop {
            if let Some(conn) = idle.pop() {
                return conn;
            }
            idle = self.returned.wait(idle).unwrap();
        }
    }

    fn put(&self, conn: Connection) {
        self.idle.lock().unwrap().push(conn);
        self.returned.notify_one();
    }
}
