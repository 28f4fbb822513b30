//! Errors of the store. Callers branch on a few cases (unavailable, conflict, fenced);
//! anything else is opaque and reported as an internal failure.

use thiserror::Error;

use crate::model::{Cart, VariantId};

/// A failure common to every store operation.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database cannot be reached or is overloaded; the same call may work later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A row with the same key already exists.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The row to change does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Stored data could not be read back, or the database refused the statement.
    #[error("store failure: {0}")]
    Internal(String),
}

impl StoreError {
    /// Whether retrying the same call later may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Why events could not be appended.
#[derive(Debug, Error)]
pub enum AppendError {
    /// The session's last stored seq is not the one the writer expected: another writer
    /// appended first.
    #[error("seq conflict: expected last seq {expected}, stored {stored}")]
    SeqConflict {
        /// Seq the writer expected to follow.
        expected: u64,
        /// Seq actually stored.
        stored: u64,
    },
    /// A newer owner holds the session; this writer must stop.
    #[error("fenced: stored epoch {stored} is newer than {attempted}")]
    Fenced {
        /// Epoch stored on the session row.
        stored: u64,
        /// Epoch the writer presented.
        attempted: u64,
    },
    /// The session does not exist.
    #[error("no such session")]
    NoSession,
    /// A failure of the store itself.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a cart line could not be changed.
#[derive(Debug, Error)]
pub enum CartWriteError {
    /// The cart changed since it was read; the current cart is attached.
    #[error("cart changed concurrently (now at version {})", .0.version)]
    VersionConflict(Box<Cart>),
    /// The cart was already checked out.
    #[error("cart is closed")]
    Closed,
    /// No such cart or variant.
    #[error("not found: {0}")]
    NotFound(String),
    /// A failure of the store itself.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an order could not be placed.
#[derive(Debug, Error)]
pub enum PlaceOrderError {
    /// A line asks for more units than are on hand; nothing was changed.
    #[error("out of stock: {0}")]
    OutOfStock(VariantId),
    /// The cart changed since it was priced.
    #[error("cart changed concurrently")]
    VersionConflict,
    /// No such cart.
    #[error("no such cart")]
    NotFound,
    /// A failure of the store itself.
    #[error(transparent)]
    Store(#[from] StoreError),
}
