//! Signing in to the built-in directory: password (argon2id, checked on a blocking thread), an
//! optional TOTP code, and throttling kept in the store so that it holds across hub instances.
//! People get one message for an unknown user and a wrong password; the log gets the reason.

use crossfed_store::{CredentialStore, StoreError, ThrottlePolicy, User, UserStore};
use thiserror::Error;

use crate::directory::password::{decoy_hash, verify_password};
use crate::directory::totp;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoginError {
    #[error("too many failed sign-ins for this user; try again in {minutes} minutes")]
    Locked { minutes: i64 },
    #[error("wrong user name or password")]
    Invalid { reason: &'static str },
    #[error("enter the 6-digit code from your authenticator app")]
    TotpRequired,
    #[error("the code is wrong or was already used; wait for the next one")]
    TotpInvalid,
    #[error("this account is disabled; contact your administrator")]
    Disabled,
    #[error("the directory is unavailable: {0}")]
    Store(#[from] StoreError),
}

fn throttle_subject(user_name: &str) -> String {
    format!("user:{}", crossfed_store::PrincipalName::key_of(user_name))
}

async fn password_matches(hash: Option<String>, password: &str) -> bool {
    let password = password.to_string();
    // The hash is slow on purpose; keep it off the async workers. An unknown user is checked
    // against a decoy, so both refusals take as long.
    crate::cpu_pool::hashing()
        .run(move || {
            let stored = hash.as_deref().unwrap_or_else(|| decoy_hash());
            verify_password(stored, &password) && hash.is_some()
        })
        .await
        .unwrap_or(false)
}

/// Checks a sign-in attempt at `now`; `totp_code` is the second factor when the user has one.
pub async fn authenticate<S: UserStore + CredentialStore + Sync>(
    store: &S,
    user_name: &str,
    password: &str,
    totp_code: Option<&str>,
    policy: &ThrottlePolicy,
    now: i64,
) -> Result<User, LoginError> {
    let subject = throttle_subject(user_name);
    let locked = store.locked_until(&subject, now).await?;
    if locked > 0 {
        return Err(LoginError::Locked { minutes: (locked - now + 59) / 60 });
    }
    let fail = |reason: &'static str| async move {
        let locked = store.record_failure(&throttle_subject(user_name), policy, now).await?;
        Err(if locked > 0 {
            LoginError::Locked { minutes: (locked - now + 59) / 60 }
        } else {
            LoginError::Invalid { reason }
        })
    };
    let user = store.find_user_by_name(user_name).await?;
    let credentials = match &user {
        Some(u) => store.credentials(&u.id).await?,
        None => Default::default(),
    };
    if !password_matches(credentials.password_hash.clone(), password).await {
        return fail(if user.is_none() { "unknown user" } else { "wrong password" }).await;
    }
    let Some(user) = user else {
        return fail("unknown user").await;
    };
    if let Some(secret) = credentials.totp_secret.as_deref().and_then(totp::decode_base32) {
        let Some(code) = totp_code.filter(|c| !c.trim().is_empty()) else {
            return Err(LoginError::TotpRequired);
        };
        // A wrong or reused code counts towards the lock like a wrong password.
        let fresh = match totp::matching_step(&secret, code, now) {
            Some(step) => store.use_totp_step(&user.id, step).await?,
            None => false,
        };
        if !fresh {
            let locked = store.record_failure(&subject, policy, now).await?;
            return Err(if locked > 0 {
                LoginError::Locked { minutes: (locked - now + 59) / 60 }
            } else {
                LoginError::TotpInvalid
            });
        }
    }
    if !user.active {
        return Err(LoginError::Disabled);
    }
    store.clear_failures(&throttle_subject(user_name)).await?;
    Ok(user)
}
