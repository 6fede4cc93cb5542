//! "Did you mean ...?" suggestions for misspelt names.

/// Levenshtein distance between two strings, counted in chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // One row of the classic dynamic-programming table at a time.
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(previous.len());
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous.get(j).map_or(usize::MAX, |d| d + usize::from(ca != *cb));
            let delete = previous.get(j + 1).map_or(usize::MAX, |d| d + 1);
            let insert = current.get(j).map_or(usize::MAX, |d| d + 1);
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

/// The candidate closest to `input`, ignoring case, if it is close enough to
/// be a plausible typo.
pub(crate) fn closest<'a, I>(input: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted = input.to_lowercase();
    let (best, distance) =
        candidates.into_iter().map(|c| (c, edit_distance(&wanted, &c.to_lowercase()))).min_by_key(|(_, d)| *d)?;
    // Accept up to three edits, but never more than a third of the input, so
    // short unrelated words do not produce silly suggestions.
    let limit = (wanted.chars().count() / 3).clamp(1, 3);
    (distance <= limit && best != input).then(|| best.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn suggests_near_misses_only() {
        let names = ["StringEquals", "StringLike", "Bool"];
        assert_eq!(closest("StringEqualz", names).as_deref(), Some("StringEquals"));
        assert_eq!(closest("stringequals", names).as_deref(), Some("StringEquals"));
        assert_eq!(closest("Foo", names), None);
        assert_eq!(closest("StringEquals", names), None);
    }
}
