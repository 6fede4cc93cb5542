//! Glob matching with `*` (any run of characters, including none) and `?`
//! (exactly one character).
//!
//! A [`Pattern`] is a sequence of elements rather than a string, so text can
//! be appended either as a glob (where `*` and `?` are wildcards) or as a
//! literal (where they are plain characters). Policy variables rely on this:
//! the value substituted for `${aws:userid}`, or the `*` produced by `${*}`,
//! is appended literally and can never widen a match.

use std::fmt;

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    /// A character that must appear as is.
    Char(char),
    /// `?`: exactly one character.
    AnyOne,
    /// `*`: any run of characters, possibly empty.
    AnyMany,
}

/// A compiled glob pattern.
///
/// ```
/// use crossfed_iam::Pattern;
///
/// let mut p = Pattern::glob("arn:aws:s3:::home/");
/// p.push_literal("a*b"); // substituted text: the * is literal
/// p.push_glob("/*");
/// assert!(p.matches("arn:aws:s3:::home/a*b/file"));
/// assert!(!p.matches("arn:aws:s3:::home/axxb/file"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pattern {
    elems: Vec<Elem>,
}

impl Pattern {
    /// An empty pattern, which matches only the empty string.
    pub fn new() -> Self {
        Self::default()
    }

    /// A pattern where `*` and `?` in `text` are wildcards.
    pub fn glob(text: &str) -> Self {
        let mut p = Self::new();
        p.push_glob(text);
        p
    }

    /// A pattern that matches exactly `text`, with no wildcards.
    pub fn literal(text: &str) -> Self {
        let mut p = Self::new();
        p.push_literal(text);
        p
    }

    /// Appends `text`, treating `*` and `?` as wildcards.
    pub fn push_glob(&mut self, text: &str) {
        self.elems.extend(text.chars().map(|c| match c {
            '*' => Elem::AnyMany,
            '?' => Elem::AnyOne,
            other => Elem::Char(other),
        }));
    }

    /// Appends `text` verbatim: `*` and `?` only match themselves.
    pub fn push_literal(&mut self, text: &str) {
        self.elems.extend(text.chars().map(Elem::Char));
    }

    /// Whether the whole of `value` matches (case-sensitive).
    pub fn matches(&self, value: &str) -> bool {
        // ARNs are ASCII: their bytes are their characters, so nothing is copied.
        if value.is_ascii() {
            return glob_match(&self.elems, value.as_bytes(), |expected, b| expected == char::from(*b));
        }
        let value: Vec<char> = value.chars().collect();
        glob_match(&self.elems, &value, |expected, c| expected == *c)
    }

    /// Whether the whole of `value` matches, ignoring case.
    pub fn matches_ignore_case(&self, value: &str) -> bool {
        // Actions are ASCII on both sides: ASCII case folding, nothing copied.
        let ascii_pattern = self.elems.iter().all(|e| !matches!(e, Elem::Char(c) if !c.is_ascii()));
        if ascii_pattern && value.is_ascii() {
            return glob_match(&self.elems, value.as_bytes(), |expected, b| {
                expected.eq_ignore_ascii_case(&char::from(*b))
            });
        }
        // Otherwise lower-case both sides the same way; a character whose lower-case
        // form is several characters expands identically on both sides.
        let elems: Vec<Elem> = self
            .elems
            .iter()
            .flat_map(|e| -> Vec<Elem> {
                match e {
                    Elem::Char(c) => c.to_lowercase().map(Elem::Char).collect(),
                    other => vec![*other],
                }
            })
            .collect();
        let value: Vec<char> = value.to_lowercase().chars().collect();
        glob_match(&elems, &value, |expected, c| expected == *c)
    }

    /// Whether the pattern matches every string (it is one or more `*`).
    pub fn matches_everything(&self) -> bool {
        !self.elems.is_empty() && self.elems.iter().all(|e| *e == Elem::AnyMany)
    }

    /// Whether the pattern contains any wildcard.
    pub fn has_wildcards(&self) -> bool {
        self.elems.iter().any(|e| !matches!(e, Elem::Char(_)))
    }
}

/// Prints the pattern in policy syntax: literal `*`, `?` and `$` are written
/// as the escapes `${*}`, `${?}` and `${$}` so the text round-trips.
impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.elems {
            match e {
                Elem::AnyMany => f.write_str("*")?,
                Elem::AnyOne => f.write_str("?")?,
                Elem::Char('*') => f.write_str("${*}")?,
                Elem::Char('?') => f.write_str("${?}")?,
                Elem::Char('$') => f.write_str("${$}")?,
                Elem::Char(c) => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

/// Iterative glob matching with single-point backtracking.
///
/// On a mismatch we retry from the most recent `*`, letting it swallow one
/// more character. Only the latest `*` ever needs revisiting, so this runs in
/// O(pattern × value) time with no recursion: hostile patterns such as
/// `*a*a*a*a*b` cannot blow up.
fn glob_match<V>(pattern: &[Elem], value: &[V], same: impl Fn(char, &V) -> bool) -> bool {
    let (mut p, mut v) = (0usize, 0usize);
    // (index of the last `*`, value position it currently resumes from)
    let mut resume: Option<(usize, usize)> = None;
    while v < value.len() {
        let advanced = match (pattern.get(p), value.get(v)) {
            (Some(Elem::AnyMany), _) => {
                resume = Some((p, v));
                p += 1;
                continue;
            }
            (Some(Elem::AnyOne), Some(_)) => true,
            (Some(Elem::Char(expected)), Some(actual)) => same(*expected, actual),
            _ => false,
        };
        if advanced {
            p += 1;
            v += 1;
        } else if let Some((star, from)) = resume {
            p = star + 1;
            v = from + 1;
            resume = Some((star, from + 1));
        } else {
            return false;
        }
    }
    // The value is used up; only trailing `*`s may remain.
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|e| *e == Elem::AnyMany))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question_mark() {
        assert!(Pattern::glob("s3:Get*").matches("s3:GetObject"));
        assert!(Pattern::glob("s3:Get*").matches("s3:Get"));
        assert!(!Pattern::glob("s3:Get*").matches("s3:PutObject"));
        assert!(Pattern::glob("a?c").matches("abc"));
        assert!(!Pattern::glob("a?c").matches("ac"));
        assert!(Pattern::glob("*").matches(""));
        assert!(Pattern::glob("*").matches("anything at all"));
        assert!(Pattern::glob("*a*b").matches("xaxxab"));
        assert!(!Pattern::glob("*a*b").matches("xaxxa"));
        assert!(Pattern::glob("a**b").matches("ab"));
    }

    #[test]
    fn empty_pattern_matches_only_empty() {
        assert!(Pattern::new().matches(""));
        assert!(!Pattern::new().matches("x"));
    }

    #[test]
    fn whole_string_is_required() {
        assert!(!Pattern::glob("abc").matches("abcd"));
        assert!(!Pattern::glob("bcd").matches("abcd"));
    }

    #[test]
    fn case_sensitivity() {
        assert!(!Pattern::glob("S3:get*").matches("s3:GetObject"));
        assert!(Pattern::glob("S3:get*").matches_ignore_case("s3:GetObject"));
        assert!(Pattern::glob("ÄB?").matches_ignore_case("äbc"));
        // The Kelvin sign lower-cases to an ASCII k: a pattern holding it still folds fully.
        assert!(Pattern::glob("\u{212A}ey").matches_ignore_case("KEY"));
        assert!(Pattern::glob("connect:get*").matches_ignore_case("Connect:GetFederationToken"));
        assert!(!Pattern::glob("connect:get*").matches_ignore_case("connect:ListUsers"));
        assert!(Pattern::glob("arn:*:é").matches("arn:x:é"));
    }

    #[test]
    fn literal_text_never_acts_as_wildcard() {
        let p = Pattern::literal("a*b?");
        assert!(p.matches("a*b?"));
        assert!(!p.matches("axxbz"));
        assert!(!p.matches_ignore_case("AXXBZ"));
        let mut mixed = Pattern::glob("user/");
        mixed.push_literal("*");
        assert!(!mixed.matches("user/alice"));
        assert!(mixed.matches("user/*"));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pattern = Pattern::glob(&"*a".repeat(50));
        let value = "a".repeat(49) + "b";
        assert!(!pattern.matches(&value));
    }

    #[test]
    fn classification_and_display() {
        assert!(Pattern::glob("**").matches_everything());
        assert!(!Pattern::literal("*").matches_everything());
        assert!(!Pattern::new().matches_everything());
        assert!(Pattern::glob("a?").has_wildcards());
        assert!(Pattern::glob("a*").has_wildcards());
        assert!(!Pattern::literal("a*").has_wildcards());
        let mut p = Pattern::glob("x/*");
        p.push_literal("*?$");
        assert_eq!(p.to_string(), "x/*${*}${?}${$}");
    }
}
