//! Rebuilding a session's state from the store: the newest snapshot, then every event
//! after it.

use std::sync::Arc;

use vitrine_persistence::model::{SessionId, Snapshot, TenantId};
use vitrine_persistence::{Store, StoreError};

use super::state::SessionState;
use crate::commerce::{CartState, Commerce, CommerceError};
use crate::events::{EventBody, SessionEvent};

/// Events read per store call while rebuilding.
const PAGE: u32 = 1000;

/// Why a session could not be rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No such session in the tenant.
    #[error("no such session")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log does not make a valid session.
    #[error("corrupt session log: {0}")]
    Corrupt(String),
    /// Another node owns the session now.
    #[error("the session is owned by another node")]
    Moved,
}

/// Rebuilds the state of a session.
pub async fn load_state(
    store: &Arc<dyn Store>,
    tenant: &TenantId,
    session: &SessionId,
) -> Result<SessionState, LoadError> {
    let row = store
        .session(tenant, session)
        .await?
        .ok_or(LoadError::NotFound)?;

    let mut state = match store.latest_snapshot(tenant, session).await? {
        Some(Snapshot { seq, state }) => match serde_json::from_value::<SessionState>(state) {
            Ok(s) if s.seq == seq => Some(s),
            // A snapshot from an older layout is only a shortcut: replay from the start.
            _ => None,
        },
        None => None,
    };

    loop {
        let after = state.as_ref().map_or(0, |s| s.seq);
        let page = store.events(tenant, session, after, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for stored in &page {
            let event = SessionEvent::from_stored(stored)
                .map_err(|e| LoadError::Corrupt(format!("event {}: {e}", stored.seq)))?;
            match &mut state {
                None => {
                    state = Some(
                        SessionState::from_first(
                            tenant.clone(),
                            session.clone(),
                            row.customer_id.clone(),
                            &event,
                        )
                        .ok_or_else(|| {
                            LoadError::Corrupt("the first event is not session.requested".into())
                        })?,
                    );
                }
                Some(s) => s
                    .apply(&event)
                    .map_err(|e| LoadError::Corrupt(e.to_string()))?,
            }
        }
        if page.len() < PAGE as usize {
            break;
        }
    }

    let state = state.ok_or_else(|| LoadError::Corrupt("the session has no events".into()))?;
    // The row is read first, so the log may have grown since; it may never be shorter.
    if state.seq < row.seq {
        return Err(LoadError::Corrupt(format!(
            "log ends at seq {} but the session row says {}",
            state.seq, row.seq
        )));
    }
    Ok(state)
}

/// Events that bring the session's cart mirror back in line with the commerce platform:
/// changes the platform committed that the session never stored (a crash between the two,
/// or a change made outside the call). Empty when they agree.
pub async fn reconcile(
    commerce: &Arc<dyn Commerce>,
    state: &SessionState,
) -> Result<Vec<EventBody>, CommerceError> {
    if state.status.is_over() {
        return Ok(Vec::new());
    }
    let fixes = match commerce
        .cart_state(&state.tenant_id, &state.cart.cart_id)
        .await?
    {
        CartState::Open(cart) if cart != state.cart => vec![EventBody::CartUpdated {
            cart,
            variant_id: None,
        }],
        CartState::Open(_) => Vec::new(),
        CartState::Ordered { order, next } => {
            if state.orders.iter().any(|o| o.order_id == order.order_id) {
                Vec::new()
            } else {
                vec![EventBody::OrderCreated { order, cart: next }]
            }
        }
    };
    Ok(fixes)
}
