//! Removes what has expired from the store: sessions past their idle or absolute limit, logins
//! and logouts started but never finished, console sessions and test sign-in results. Reading
//! already ignores them; this keeps the tables small. [`crate::tasks`] runs it every ten minutes.

use crossfed_store::{ObjectStore, Store, StoreError};

use crate::records::SHORT_LIVED;
use crate::sessions::Sessions;

/// One sweep at `now`; returns how many records went.
pub async fn sweep_once(store: &Store, sessions: &Sessions, now: i64) -> Result<u64, StoreError> {
    let mut removed = sessions.sweep(now).await?;
    for (kind, seconds) in SHORT_LIVED {
        removed += store.delete_stale_objects(kind, now - seconds, now - seconds).await?;
    }
    Ok(removed)
}
