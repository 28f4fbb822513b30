//! Session resources.

pub mod get;
pub mod log;
pub mod post;
pub mod state;

use vitrine_engine::directory::SessionKey;
use vitrine_persistence::model::SessionId;

use crate::auth::Staff;
use crate::error::ApiError;

/// The session `id` of the caller's tenant; ids that cannot exist are simply not found.
pub fn session_key(staff: &Staff, id: &str) -> Result<SessionKey, ApiError> {
    if id.is_empty() || id.len() > 128 {
        return Err(ApiError::not_found());
    }
    Ok(SessionKey {
        tenant: staff.0.tenant_id.clone(),
        session: SessionId::new(id),
    })
}
