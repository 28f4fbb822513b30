//! Sessions: the projection rows, the event log, snapshots and command records.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::{pg_error, pool_error, to_i64, to_u64, unique_or};
use crate::error::{AppendError, StoreError};
use crate::like_escape;
use crate::model::{
    CommandRecord, Customer, CustomerId, NewSession, ParticipantId, SessionFilter, SessionId,
    SessionRow, SessionSummary, Snapshot, StoredEvent, TenantId, UserId,
};

const SESSION_COLUMNS: &str = "s.tenant_id, s.session_id, s.status, s.shopper_id, s.customer_id, \
     s.customer_participant_id, s.seq, s.owner_epoch, s.created_at, s.started_at, s.ended_at";

fn session_from(r: &Row) -> SessionRow {
    SessionRow {
        tenant_id: TenantId::new(r.get::<_, String>(0)),
        id: SessionId::new(r.get::<_, String>(1)),
        status: r.get(2),
        shopper_id: r.get::<_, Option<String>>(3).map(UserId::new),
        customer_id: CustomerId::new(r.get::<_, String>(4)),
        customer_participant_id: ParticipantId::new(r.get::<_, String>(5)),
        seq: to_u64(r.get(6)),
        owner_epoch: to_u64(r.get(7)),
        created_at: r.get(8),
        started_at: r.get(9),
        ended_at: r.get(10),
    }
}

pub(crate) async fn create_session(pool: Pool, new: NewSession) -> Result<SessionRow, StoreError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await.map_err(pg_error)?;
    let tenant = new.tenant_id.as_str();
    let c = &new.customer;
    tx.execute(
        "INSERT INTO customers (tenant_id, customer_id, name, name_folded, email, phone, locale,
                                created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (tenant_id, customer_id) DO NOTHING",
        &[
            &tenant,
            &c.id.as_str(),
            &c.name,
            &c.name.to_lowercase(),
            &c.email,
            &c.phone,
            &c.locale,
            &new.created_at,
        ],
    )
    .await
    .map_err(pg_error)?;
    if new.events.is_empty() {
        return Err(StoreError::Internal(
            "a new session needs its first event".into(),
        ));
    }
    tx.execute(
        "INSERT INTO sessions (tenant_id, session_id, status, shopper_id, customer_id,
                               customer_participant_id, seq, owner_epoch, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $8, 0, $7)",
        &[
            &tenant,
            &new.id.as_str(),
            &new.status,
            &new.shopper_id.as_ref().map(UserId::as_str),
            &c.id.as_str(),
            &new.customer_participant_id.as_str(),
            &new.created_at,
            &(new.events.len() as i64),
        ],
    )
    .await
    .map_err(|e| unique_or(e, format!("session {}", new.id)))?;
    for (i, e) in new.events.iter().enumerate() {
        tx.execute(
            "INSERT INTO session_events (tenant_id, session_id, seq, kind, at, by_participant,
                                         data)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &tenant,
                &new.id.as_str(),
                &(i as i64 + 1),
                &e.kind,
                &e.at,
                &e.by.as_ref().map(ParticipantId::as_str),
                &e.data,
            ],
        )
        .await
        .map_err(pg_error)?;
    }
    let row = tx
        .query_one(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM sessions s
                 WHERE s.tenant_id = $1 AND s.session_id = $2"
            ),
            &[&tenant, &new.id.as_str()],
        )
        .await
        .map_err(pg_error)?;
    tx.commit().await.map_err(pg_error)?;
    Ok(session_from(&row))
}

pub(crate) async fn session(
    pool: Pool,
    tenant: TenantId,
    id: SessionId,
) -> Result<Option<SessionRow>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let st = client
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.tenant_id = $1 AND s.session_id = $2"
        ))
        .await
        .map_err(pg_error)?;
    let row = client
        .query_opt(&st, &[&tenant.as_str(), &id.as_str()])
        .await
        .map_err(pg_error)?;
    Ok(row.as_ref().map(session_from))
}

pub(crate) async fn list_sessions(
    pool: Pool,
    tenant: TenantId,
    filter: SessionFilter,
) -> Result<Vec<SessionSummary>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let mut sql = format!(
        "SELECT {SESSION_COLUMNS}, c.name FROM sessions s
         JOIN customers c ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id
         WHERE s.tenant_id = $1"
    );
    let mut args: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(tenant.as_str().to_owned())];
    let mut next = |sql: &mut String, clause: &str, arg: Box<dyn ToSql + Sync + Send>| {
        args.push(arg);
        sql.push_str(&clause.replace('?', &format!("${}", args.len())));
    };
    if let Some(status) = filter.status {
        next(&mut sql, " AND s.status = ?", Box::new(status));
    }
    if let Some(shopper) = filter.shopper_id {
        next(
            &mut sql,
            " AND s.shopper_id = ?",
            Box::new(shopper.into_string()),
        );
    }
    if let Some(q) = filter.query.filter(|q| !q.is_empty()) {
        next(&mut sql, " AND (s.session_id = ?", Box::new(q.clone()));
        next(
            &mut sql,
            " OR c.name_folded LIKE ?)",
            Box::new(format!("%{}%", like_escape(&q.to_lowercase()))),
        );
    }
    if let Some(from) = filter.from {
        next(&mut sql, " AND s.created_at >= ?", Box::new(from));
    }
    if let Some(to) = filter.to {
        next(&mut sql, " AND s.created_at < ?", Box::new(to));
    }
    if let Some((at, id)) = filter.before {
        next(
            &mut sql,
            " AND (s.created_at, s.session_id) < (?",
            Box::new(at),
        );
        next(&mut sql, ", ?)", Box::new(id.into_string()));
    }
    sql.push_str(&format!(
        " ORDER BY s.created_at DESC, s.session_id DESC LIMIT {}",
        filter.limit.max(1)
    ));
    let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| &**a as _).collect();
    let rows = client.query(&sql, &params).await.map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| SessionSummary {
            row: session_from(r),
            customer_name: r.get(11),
        })
        .collect())
}

pub(crate) async fn customer(
    pool: Pool,
    tenant: TenantId,
    id: CustomerId,
) -> Result<Option<Customer>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let row = client
        .query_opt(
            "SELECT customer_id, name, email, phone, locale FROM customers
             WHERE tenant_id = $1 AND customer_id = $2",
            &[&tenant.as_str(), &id.as_str()],
        )
        .await
        .map_err(pg_error)?;
    Ok(row.map(|r| Customer {
        id: CustomerId::new(r.get::<_, String>(0)),
        name: r.get(1),
        email: r.get(2),
        phone: r.get(3),
        locale: r.get(4),
    }))
}

pub(crate) async fn claim_session(
    pool: Pool,
    tenant: TenantId,
    id: SessionId,
) -> Result<u64, AppendError> {
    let client = pool.get().await.map_err(pool_error)?;
    let row = client
        .query_opt(
            "UPDATE sessions SET owner_epoch = owner_epoch + 1
             WHERE tenant_id = $1 AND session_id = $2 RETURNING owner_epoch",
            &[&tenant.as_str(), &id.as_str()],
        )
        .await
        .map_err(pg_error)?;
    row.map(|r| to_u64(r.get(0))).ok_or(AppendError::NoSession)
}

pub(crate) async fn events(
    pool: Pool,
    tenant: TenantId,
    session: SessionId,
    after: u64,
    limit: u32,
) -> Result<Vec<StoredEvent>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let st = client
        .prepare_cached(
            "SELECT seq, kind, at, by_participant, data FROM session_events
             WHERE tenant_id = $1 AND session_id = $2 AND seq > $3 ORDER BY seq LIMIT $4",
        )
        .await
        .map_err(pg_error)?;
    let rows = client
        .query(
            &st,
            &[
                &tenant.as_str(),
                &session.as_str(),
                &to_i64(after),
                &i64::from(limit),
            ],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| StoredEvent {
            seq: to_u64(r.get(0)),
            kind: r.get(1),
            at: r.get(2),
            by: r.get::<_, Option<String>>(3).map(ParticipantId::new),
            data: r.get(4),
        })
        .collect())
}

pub(crate) async fn save_snapshot(
    pool: Pool,
    tenant: TenantId,
    session: SessionId,
    snapshot: Snapshot,
) -> Result<(), StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    client
        .execute(
            "INSERT INTO session_snapshots (tenant_id, session_id, seq, state)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id, session_id) DO UPDATE
                 SET seq = excluded.seq, state = excluded.state
                 WHERE excluded.seq > session_snapshots.seq",
            &[
                &tenant.as_str(),
                &session.as_str(),
                &to_i64(snapshot.seq),
                &snapshot.state,
            ],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

pub(crate) async fn latest_snapshot(
    pool: Pool,
    tenant: TenantId,
    session: SessionId,
) -> Result<Option<Snapshot>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let row = client
        .query_opt(
            "SELECT seq, state FROM session_snapshots WHERE tenant_id = $1 AND session_id = $2",
            &[&tenant.as_str(), &session.as_str()],
        )
        .await
        .map_err(pg_error)?;
    Ok(row.map(|r| Snapshot {
        seq: to_u64(r.get(0)),
        state: r.get(1),
    }))
}

pub(crate) async fn recent_commands(
    pool: Pool,
    tenant: TenantId,
    session: SessionId,
    limit: u32,
    since: DateTime<Utc>,
) -> Result<Vec<CommandRecord>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let rows = client
        .query(
            "SELECT participant_id, command_id, reply, at FROM command_results
             WHERE tenant_id = $1 AND session_id = $2 AND at >= $3
             ORDER BY at DESC LIMIT $4",
            &[
                &tenant.as_str(),
                &session.as_str(),
                &since,
                &i64::from(limit),
            ],
        )
        .await
        .map_err(pg_error)?;
    let mut records: Vec<CommandRecord> = rows
        .iter()
        .map(|r| CommandRecord {
            participant_id: ParticipantId::new(r.get::<_, String>(0)),
            command_id: r.get(1),
            reply: r.get(2),
            at: r.get(3),
        })
        .collect();
    records.reverse();
    Ok(records)
}
