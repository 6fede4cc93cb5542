//! Short-lived records the hub keeps in the store's object table as JSON — sessions, pending
//! logins and logouts, console sessions, test sign-ins — and the random tokens that name them.

use crossfed_store::{ObjectKey, ObjectStore, Store, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The kinds of short-lived records, and how long each may live: reading ignores older ones and
/// the janitor removes them. (Sessions have limits of their own: [`crate::sessions`].)
pub mod kinds {
    /// An application's AuthnRequest waiting for the person to sign in.
    pub const PENDING_SSO: &str = "hub-pending-sso";
    /// A login sent to the upstream IdP.
    pub const PENDING_LOGIN: &str = "hub-pending-login";
    /// A LogoutRequest sent to the upstream IdP.
    pub const PENDING_LOGOUT: &str = "hub-pending-logout";
    /// A session of the admin console.
    pub const CONSOLE_SESSION: &str = "console-session";
    /// What a console test sign-in received.
    pub const TEST_LOGIN: &str = "idp-test-login";
}

/// How long a login may take at the IdP or the login page.
pub const PENDING_SECONDS: i64 = 600;
/// Console sessions last a working day at most.
pub const CONSOLE_SECONDS: i64 = 8 * 3600;
/// How long a test sign-in's result can be looked at.
pub const TEST_SECONDS: i64 = 3600;

/// Every short-lived kind with its lifetime in seconds.
pub const SHORT_LIVED: [(&str, i64); 5] = [
    (kinds::PENDING_SSO, PENDING_SECONDS),
    (kinds::PENDING_LOGIN, PENDING_SECONDS),
    (kinds::PENDING_LOGOUT, PENDING_SECONDS),
    (kinds::CONSOLE_SESSION, CONSOLE_SECONDS),
    (kinds::TEST_LOGIN, TEST_SECONDS),
];

/// The scope short-lived records are kept under.
pub const SCOPE: &str = "hub";

/// A random, unguessable identifier (256 bits, hex).
pub fn new_token() -> String {
    crossfed_random::hex::<32>()
}

/// Stores `value` as JSON under `key`: a value that cannot be serialized is an error like a
/// store failure, never an empty record.
pub async fn insert_json<T: Serialize>(
    store: &Store,
    key: ObjectKey<'_>,
    value: &T,
    now: i64,
) -> Result<(), StoreError> {
    let body = serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("encoding the record: {e}")))?;
    store.insert_object(key, &body, now).await
}

/// The record `id` of `kind`, if it is there and reads as `T`.
pub async fn read_json<T: DeserializeOwned>(store: &Store, kind: &str, id: &str) -> Result<Option<T>, StoreError> {
    match store.get_object(kind, id).await? {
        Some(stored) => Ok(serde_json::from_str(&stored.body).ok()),
        None => Ok(None),
    }
}

/// Takes the record `id` of `kind` once: whoever deletes it gets it; a second taker, or a record
/// that is gone or unreadable, gets `None`.
pub async fn take_json<T: DeserializeOwned>(store: &Store, kind: &str, id: &str) -> Option<T> {
    let record = read_json(store, kind, id).await.ok().flatten();
    let taken = store.delete_object(kind, id).await.is_ok();
    record.filter(|_| taken)
}
