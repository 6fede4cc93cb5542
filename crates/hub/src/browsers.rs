//! Which browser a pending sign-in belongs to. A browser gets a random key in a cookie when it
//! starts a sign-in; the pending request keeps only the key's digest, and the answer is taken
//! only from a browser presenting that key. An attacker who starts a sign-in and obtains an
//! answer for their own account therefore cannot finish it in somebody else's browser (login
//! CSRF).

use crate::records::new_token;

/// How long a browser keeps its key after its last sign-in started.
pub const KEY_SECONDS: i64 = 24 * 3600;

/// A browser's key, as its cookie carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserKey(String);

impl BrowserKey {
    /// A fresh key for a browser that has none.
    pub fn generate() -> Self {
        BrowserKey(new_token())
    }

    /// The key a cookie presented; `None` for a value no key could have.
    pub fn from_cookie(value: &str) -> Option<Self> {
        let plausible = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
        plausible.then(|| BrowserKey(value.to_string()))
    }

    /// What the cookie carries.
    pub fn value(&self) -> &str {
        &self.0
    }

    /// What a pending request keeps: the key itself never reaches the store.
    pub fn digest(&self) -> String {
        crate::tokens::digest(&self.0)
    }
}

/// Whether `presented` is the browser whose key's digest is `bound`.
pub fn is_bound_to(bound: &str, presented: Option<&BrowserKey>) -> bool {
    presented.is_some_and(|key| !bound.is_empty() && key.digest() == bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_key_whose_digest_was_kept_matches() {
        let key = BrowserKey::generate();
        let other = BrowserKey::generate();
        let bound = key.digest();
        assert!(is_bound_to(&bound, Some(&key)));
        assert!(!is_bound_to(&bound, Some(&other)));
        assert!(!is_bound_to(&bound, None));
        assert!(!is_bound_to("", Some(&key)), "a record bound to nothing matches no browser");
        assert_eq!(BrowserKey::from_cookie(key.value()), Some(key));
        assert_eq!(BrowserKey::from_cookie("not-a-key"), None);
    }
}
