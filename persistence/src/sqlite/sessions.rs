//! Sessions: the projection rows, the event log, snapshots and command records.

use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::error::{AppendError, StoreError};
use crate::model::{
    AppendBatch, CommandRecord, Customer, CustomerId, NewSession, ParticipantId, SessionFilter,
    SessionId, SessionRow, SessionSummary, Snapshot, StoredEvent, TenantId, UserId,
};

use super::rows::{json_at, json_text, opt_time_at, time_at, time_text, to_i64, u64_at};
use super::{sql_error, unique_or};

const SESSION_COLUMNS: &str = "s.tenant_id, s.session_id, s.status, s.shopper_id, s.customer_id, \
     s.customer_participant_id, s.seq, s.owner_epoch, s.created_at, s.started_at, s.ended_at";

fn session_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok(SessionRow {
        tenant_id: TenantId::new(row.get::<_, String>(0)?),
        id: SessionId::new(row.get::<_, String>(1)?),
        status: row.get(2)?,
        shopper_id: row.get::<_, Option<String>>(3)?.map(UserId::new),
        customer_id: CustomerId::new(row.get::<_, String>(4)?),
        customer_participant_id: ParticipantId::new(row.get::<_, String>(5)?),
        seq: u64_at(row, 6)?,
        owner_epoch: u64_at(row, 7)?,
        created_at: time_at(row, 8)?,
        started_at: opt_time_at(row, 9)?,
        ended_at: opt_time_at(row, 10)?,
    })
}

pub(crate) fn create_session(
    conn: &mut Connection,
    new: &NewSession,
) -> Result<SessionRow, StoreError> {
    let tx = conn.transaction().map_err(sql_error)?;
    let tenant = new.tenant_id.as_str();
    let created = time_text(&new.created_at);
    let c = &new.customer;
    tx.execute(
        "INSERT INTO customers (tenant_id, customer_id, name, name_folded, email, phone, locale,
                                created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (tenant_id, customer_id) DO NOTHING",
        params![
            tenant,
            c.id.as_str(),
            c.name,
            c.name.to_lowercase(),
            c.email,
            c.phone,
            c.locale,
            created
        ],
    )
    .map_err(sql_error)?;
    if new.events.is_empty() {
        return Err(StoreError::Internal(
            "a new session needs its first event".into(),
        ));
    }
    tx.execute(
        "INSERT INTO sessions (tenant_id, session_id, status, shopper_id, customer_id,
                               customer_participant_id, seq, owner_epoch, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, 0, ?7)",
        params![
            tenant,
            new.id.as_str(),
            new.status,
            new.shopper_id.as_ref().map(UserId::as_str),
            c.id.as_str(),
            new.customer_participant_id.as_str(),
            created,
            new.events.len() as i64
        ],
    )
    .map_err(|e| unique_or(e, format!("session {}", new.id)))?;
    for (i, event) in new.events.iter().enumerate() {
        insert_event(&tx, tenant, new.id.as_str(), i as u64 + 1, event)?;
    }
    let row = tx
        .query_row(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM sessions s
                 WHERE s.tenant_id = ?1 AND s.session_id = ?2"
            ),
            [tenant, new.id.as_str()],
            session_from,
        )
        .map_err(sql_error)?;
    tx.commit().map_err(sql_error)?;
    Ok(row)
}

fn insert_event(
    conn: &Connection,
    tenant: &str,
    session: &str,
    seq: u64,
    event: &crate::model::NewEvent,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO session_events (tenant_id, session_id, seq, kind, at, by_participant, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut st| {
        st.execute(params![
            tenant,
            session,
            to_i64(seq),
            event.kind,
            time_text(&event.at),
            event.by.as_ref().map(ParticipantId::as_str),
            json_text(&event.data)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?
        ])
    })
    .map_err(sql_error)?;
    Ok(())
}

pub(crate) fn session(
    conn: &Connection,
    tenant: &TenantId,
    id: &SessionId,
) -> Result<Option<SessionRow>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.tenant_id = ?1 AND s.session_id = ?2"
    ))
    .and_then(|mut st| {
        st.query_row([tenant.as_str(), id.as_str()], session_from)
            .optional()
    })
    .map_err(sql_error)
}

pub(crate) fn list_sessions(
    conn: &Connection,
    tenant: &TenantId,
    filter: &SessionFilter,
) -> Result<Vec<SessionSummary>, StoreError> {
    let mut sql = format!(
        "SELECT {SESSION_COLUMNS}, c.name FROM sessions s
         JOIN customers c ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id
         WHERE s.tenant_id = ?"
    );
    let mut args: Vec<String> = vec![tenant.as_str().to_owned()];
    if let Some(status) = &filter.status {
        sql.push_str(" AND s.status = ?");
        args.push(status.clone());
    }
    if let Some(shopper) = &filter.shopper_id {
        sql.push_str(" AND s.shopper_id = ?");
        args.push(shopper.as_str().to_owned());
    }
    if let Some(q) = filter.query.as_deref().filter(|q| !q.is_empty()) {
        sql.push_str(" AND (s.session_id = ? OR instr(c.name_folded, ?) > 0)");
        args.push(q.to_owned());
        args.push(q.to_lowercase());
    }
    if let Some(from) = &filter.from {
        sql.push_str(" AND s.created_at >= ?");
        args.push(time_text(from));
    }
    if let Some(to) = &filter.to {
        sql.push_str(" AND s.created_at < ?");
        args.push(time_text(to));
    }
    if let Some((at, id)) = &filter.before {
        sql.push_str(" AND (s.created_at < ? OR (s.created_at = ? AND s.session_id < ?))");
        args.push(time_text(at));
        args.push(time_text(at));
        args.push(id.as_str().to_owned());
    }
    sql.push_str(&format!(
        " ORDER BY s.created_at DESC, s.session_id DESC LIMIT {}",
        filter.limit.max(1)
    ));
    conn.prepare(&sql)
        .and_then(|mut st| {
            st.query_map(params_from_iter(args.iter()), |row| {
                Ok(SessionSummary {
                    row: session_from(row)?,
                    customer_name: row.get(11)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(sql_error)
}

pub(crate) fn customer(
    conn: &Connection,
    tenant: &TenantId,
    id: &CustomerId,
) -> Result<Option<Customer>, StoreError> {
    conn.prepare_cached(
        "SELECT customer_id, name, email, phone, locale FROM customers
         WHERE tenant_id = ?1 AND customer_id = ?2",
    )
    .and_then(|mut st| {
        st.query_row([tenant.as_str(), id.as_str()], |row| {
            Ok(Customer {
                id: CustomerId::new(row.get::<_, String>(0)?),
                name: row.get(1)?,
                email: row.get(2)?,
                phone: row.get(3)?,
                locale: row.get(4)?,
            })
        })
        .optional()
    })
    .map_err(sql_error)
}

pub(crate) fn claim_session(
    conn: &mut Connection,
    tenant: &TenantId,
    id: &SessionId,
) -> Result<u64, AppendError> {
    let epoch: Option<i64> = conn
        .query_row(
            "UPDATE sessions SET owner_epoch = owner_epoch + 1
             WHERE tenant_id = ?1 AND session_id = ?2 RETURNING owner_epoch",
            [tenant.as_str(), id.as_str()],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    epoch
        .map(|e| u64::try_from(e).unwrap_or(0))
        .ok_or(AppendError::NoSession)
}

/// Appends one session's events inside the caller's transaction.
pub(crate) fn append(conn: &Connection, batch: &AppendBatch) -> Result<(), AppendError> {
    let tenant = batch.tenant_id.as_str();
    let session = batch.session_id.as_str();
    let (stored_seq, stored_epoch): (i64, i64) = conn
        .prepare_cached(
            "SELECT seq, owner_epoch FROM sessions WHERE tenant_id = ?1 AND session_id = ?2",
        )
        .and_then(|mut st| st.query_row([tenant, session], |r| Ok((r.get(0)?, r.get(1)?))))
        .optional()
        .map_err(sql_error)?
        .ok_or(AppendError::NoSession)?;
    let (stored_seq, stored_epoch) = (stored_seq as u64, stored_epoch as u64);

    if batch.epoch < stored_epoch {
        return Err(AppendError::Fenced {
            stored: stored_epoch,
            attempted: batch.epoch,
        });
    }
    if stored_seq != batch.expected_seq {
        return Err(AppendError::SeqConflict {
            expected: batch.expected_seq,
            stored: stored_seq,
        });
    }

    let mut seq = batch.expected_seq;
    for event in &batch.events {
        seq += 1;
        insert_event(conn, tenant, session, seq, event)?;
    }

    let p = &batch.patch;
    conn.prepare_cached(
        "UPDATE sessions SET seq = ?3, owner_epoch = max(owner_epoch, ?4),
             status = coalesce(?5, status), shopper_id = coalesce(?6, shopper_id),
             started_at = coalesce(?7, started_at), ended_at = coalesce(?8, ended_at)
         WHERE tenant_id = ?1 AND session_id = ?2",
    )
    .and_then(|mut st| {
        st.execute(params![
            tenant,
            session,
            to_i64(seq),
            to_i64(batch.epoch),
            p.status,
            p.shopper_id.as_ref().map(UserId::as_str),
            p.started_at.as_ref().map(time_text),
            p.ended_at.as_ref().map(time_text)
        ])
    })
    .map_err(sql_error)?;

    for cmd in &batch.commands {
        conn.prepare_cached(
            "INSERT INTO command_results (tenant_id, session_id, participant_id, command_id,
                                          reply, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT DO NOTHING",
        )
        .and_then(|mut st| {
            st.execute(params![
                tenant,
                session,
                cmd.participant_id.as_str(),
                cmd.command_id,
                serde_json::to_string(&cmd.reply)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?,
                time_text(&cmd.at)
            ])
        })
        .map_err(sql_error)?;
    }
    Ok(())
}

pub(crate) fn events(
    conn: &Connection,
    tenant: &TenantId,
    session: &SessionId,
    after: u64,
    limit: u32,
) -> Result<Vec<StoredEvent>, StoreError> {
    conn.prepare_cached(
        "SELECT seq, kind, at, by_participant, data FROM session_events
         WHERE tenant_id = ?1 AND session_id = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
    )
    .and_then(|mut st| {
        st.query_map(
            params![tenant.as_str(), session.as_str(), to_i64(after), limit],
            |row| {
                Ok(StoredEvent {
                    seq: u64_at(row, 0)?,
                    kind: row.get(1)?,
                    at: time_at(row, 2)?,
                    by: row.get::<_, Option<String>>(3)?.map(ParticipantId::new),
                    data: json_at(row, 4)?,
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()
    })
    .map_err(sql_error)
}

pub(crate) fn save_snapshot(
    conn: &mut Connection,
    tenant: &TenantId,
    session: &SessionId,
    snapshot: &Snapshot,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO session_snapshots (tenant_id, session_id, seq, state) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant_id, session_id) DO UPDATE SET seq = excluded.seq,
             state = excluded.state
         WHERE excluded.seq > session_snapshots.seq",
        params![
            tenant.as_str(),
            session.as_str(),
            to_i64(snapshot.seq),
            json_text(&snapshot.state)?
        ],
    )
    .map_err(sql_error)?;
    Ok(())
}

pub(crate) fn latest_snapshot(
    conn: &Connection,
    tenant: &TenantId,
    session: &SessionId,
) -> Result<Option<Snapshot>, StoreError> {
    conn.prepare_cached(
        "SELECT seq, state FROM session_snapshots WHERE tenant_id = ?1 AND session_id = ?2",
    )
    .and_then(|mut st| {
        st.query_row([tenant.as_str(), session.as_str()], |row| {
            Ok(Snapshot {
                seq: u64_at(row, 0)?,
                state: json_at(row, 1)?,
            })
        })
        .optional()
    })
    .map_err(sql_error)
}

pub(crate) fn recent_commands(
    conn: &Connection,
    tenant: &TenantId,
    session: &SessionId,
    limit: u32,
    since: DateTime<Utc>,
) -> Result<Vec<CommandRecord>, StoreError> {
    let mut records = conn
        .prepare_cached(
            "SELECT participant_id, command_id, reply, at FROM command_results
             WHERE tenant_id = ?1 AND session_id = ?2 AND at >= ?3
             ORDER BY at DESC LIMIT ?4",
        )
        .and_then(|mut st| {
            st.query_map(
                params![tenant.as_str(), session.as_str(), time_text(&since), limit],
                |row| {
                    Ok(CommandRecord {
                        participant_id: ParticipantId::new(row.get::<_, String>(0)?),
                        command_id: row.get(1)?,
                        reply: json_at(row, 2)?,
                        at: time_at(row, 3)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(sql_error)?;
    records.reverse();
    Ok(records)
}
