//! User and group names, and e-mail addresses, as the directory compares them. A name keeps the
//! spelling it was given, but two names are the same principal when their keys are equal; two
//! users may not share an e-mail address under the same key. The key folds what people cannot
//! tell apart on a screen, nor many downstream systems in a comparison:
//!
//! - case (Unicode lower case, so `Ärzte` and `ärzte` are one group), without the final-sigma
//!   rule: `ς` and `σ` are one letter, whatever follows them;
//! - Unicode normalization, compatibility form (NFKC): a composed `é` and `e` followed by a
//!   combining acute accent are one letter, and so are full-width and ligature forms (`ｆｉ`, `ﬁ`)
//!   and their plain letters. NFC alone would keep those apart although they read the same; a
//!   key that folds more only refuses a look-alike of an existing name, never admits one.
//!
//! The store's unique indexes, assignment lookups, the e-mail index and the hub's launch and
//! assignment checks all fold through [`PrincipalName::key_of`], so no two code paths can
//! disagree on whether two names are the same person. Keys stored by an older version of this
//! function are brought up to date when a store opens.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

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

    /// The key two names share when they name the same principal: NFKC, lower case (letter
    /// by letter, `ς` as `σ`), NFKC again (lower-casing can leave a string unnormalized).
    pub fn key_of(name: &str) -> String {
        if name.is_ascii() {
            return name.to_ascii_lowercase();
        }
        let lowered: String = name.nfkc().flat_map(char::to_lowercase).map(without_final_sigma).collect();
        lowered.nfkc().collect()
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

/// Lower-casing letter by letter gives `σ` for `Σ`; a name typed with the final form means the
/// same letter.
fn without_final_sigma(c: char) -> char {
    if c == 'ς' { 'σ' } else { c }
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

    #[test]
    fn keys_fold_unicode_normalization_and_the_final_sigma() {
        let composed = "Jos\u{e9}@example.com";
        let decomposed = "JOSE\u{301}@Example.com";
        assert_ne!(composed, decomposed);
        assert_eq!(PrincipalName::key_of(composed), PrincipalName::key_of(decomposed));
        assert_eq!(PrincipalName::key_of(composed), "jos\u{e9}@example.com");
        assert!(PrincipalName::same("\u{ff41}lice", "ALICE"), "full-width letters");
        assert!(PrincipalName::same("\u{fb01}nance", "Finance"), "the fi ligature");
        assert!(PrincipalName::same(
            "\u{39f}\u{394}\u{3a5}\u{3a3}\u{3a3}\u{395}\u{3a5}\u{3a3}",
            "\u{3bf}\u{3b4}\u{3c5}\u{3c3}\u{3c3}\u{3b5}\u{3c5}\u{3c2}"
        ));
        // The key of a letter does not depend on what follows it: text after a name cannot
        // make two keys of the name equal or different.
        let key = |s: &str| PrincipalName::key_of(s);
        assert_eq!(key("x\u{3a3}"), key("x\u{3c2}"));
        assert_eq!(key("x\u{3a3}-y"), key("x\u{3c2}-y"));
        assert!(!PrincipalName::same("jos\u{e9}", "jose"));
    }
}
