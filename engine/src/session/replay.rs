//! Catching a resuming connection up: the events it missed, read from the log in pages by
//! the connection's own writer, so a long catch-up never holds up the session.

use std::sync::Arc;

use vitrine_persistence::model::{SessionId, TenantId};
use vitrine_persistence::{Store, StoreError};

use crate::events::EventBody;
use crate::wire::stored_event_frame;

/// Events `after < seq <= upto` of one session, for one recipient.
pub struct ReplayRequest {
    store: Arc<dyn Store>,
    tenant: TenantId,
    session: SessionId,
    after: u64,
    upto: u64,
    staff: bool,
}

impl std::fmt::Debug for ReplayRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayRequest")
            .field("session", &self.session)
            .field("after", &self.after)
            .field("upto", &self.upto)
            .finish_non_exhaustive()
    }
}

/// Events read per store call.
const PAGE: u32 = 256;

impl ReplayRequest {
    /// Replays `(after, upto]`; `staff` recipients also get staff-only events.
    pub fn new(
        store: Arc<dyn Store>,
        tenant: TenantId,
        session: SessionId,
        after: u64,
        upto: u64,
        staff: bool,
    ) -> Self {
        Self {
            store,
            tenant,
            session,
            after,
            upto,
            staff,
        }
    }

    /// The next page of frames, or `None` when caught up.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Arc<str>>>, StoreError> {
        if self.after >= self.upto {
            return Ok(None);
        }
        let want = u32::try_from(self.upto - self.after)
            .unwrap_or(PAGE)
            .min(PAGE);
        let events = self
            .store
            .events(&self.tenant, &self.session, self.after, want)
            .await?;
        let Some(last) = events.last() else {
            // The log ends before `upto`: nothing more can come.
            self.after = self.upto;
            return Ok(None);
        };
        self.after = last.seq;
        Ok(Some(
            events
                .iter()
                .filter(|e| e.seq <= self.upto)
                .filter(|e| self.staff || !EventBody::is_staff_only_kind(&e.kind))
                .map(stored_event_frame)
                .collect(),
        ))
    }
}
