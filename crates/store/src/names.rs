//! User and group names as the directory compares them. A name keeps the spelling it was given,
//! but two names are the same principal when their case-folded keys are equal (Unicode lower
//! case, so `Ärzte` and `ärzte` are one group). The store's unique indexes, assignment lookups
//! and the hub's launch and assignment checks all fold through [`PrincipalName::key_of`], so no
//! two code paths can disagree on whether two names are the same person.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A name as spelled, compared, ordered and hashed by its case-folded key.
#[derive(Debug, Clone)]
pub struct PrincipalName {
    spelled: String,
    key: String,
}

impl PrincipalName {
    pub fn new(name: &str) -> Self {
        PrincipalName { spelled: name.to_string(), key: Self::key_of(name) }
    }

    /// The key two names share when they name the same principal.
    pub fn key_of(name: &str) -> String {
        name.to_lowercase()
    }

    /// Whether `a` and `b` name the same principal.
    pub fn same(a: &str, b: &str) -> bool {
        a == b || Self::key_of(a) == Self::key_of(b)
    }

    /// Whether this is the principal `other` names.
    pub fn is(&self, other: &str) -> bool {
        self.spelled == other || self.key == Self::key_of(other)
    }

    /// The name as it was given.
    pub fn as_str(&self) -> &str {
        &self.spelled
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

impl PartialEq for PrincipalName {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for PrincipalName {}

impl Hash for PrincipalName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl PartialOrd for PrincipalName {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PrincipalName {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl fmt::Display for PrincipalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spelled)
    }
}

impl From<&str> for PrincipalName {
    fn from(name: &str) -> Self {
        PrincipalName::new(name)
    }
}

impl Serialize for PrincipalName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.spelled)
    }
}

impl<'de> Deserialize<'de> for PrincipalName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|name| PrincipalName::new(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::PrincipalName;
    use std::collections::BTreeSet;

    #[test]
    fn names_compare_by_their_unicode_folded_key_and_keep_their_spelling() {
        let set: BTreeSet<PrincipalName> = ["Ärzte", "ärzte", "ALICE"].into_iter().map(PrincipalName::from).collect();
        assert_eq!(set.len(), 2);
        assert!(set.contains(&PrincipalName::new("alice")));
        assert!(PrincipalName::new("ÄRZTE").is("ärzte"));
        assert!(PrincipalName::same("Δ-team", "δ-TEAM"));
        assert!(!PrincipalName::same("alice", "alice2"));
        assert_eq!(PrincipalName::new("Alice").to_string(), "Alice");
        assert_eq!(serde_json::to_string(&PrincipalName::new("Bob")).unwrap(), "\"Bob\"");
    }
}
