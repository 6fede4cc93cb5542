//! SAML times: `xs:dateTime` in UTC. The current time is always passed in by the caller (from
//! its `crossfed_clock::Clock`), so protocol code is deterministic under test.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time as SAML writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn from_unix(seconds: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(seconds).ok().map(Timestamp)
    }

    pub fn unix(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Parses `xs:dateTime` as SAML uses it (RFC 3339 with a zone; SAML requires UTC, but an
    /// explicit offset is converted rather than refused).
    pub fn parse(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text.trim(), &Rfc3339).ok().map(|t| Timestamp(t.to_offset(time::UtcOffset::UTC)))
    }

    /// `YYYY-MM-DDThh:mm:ssZ`, whole seconds, UTC.
    pub fn to_xml(self) -> String {
        let t = self.0.replace_nanosecond(0).unwrap_or(self.0);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Timestamp(self.0.saturating_add(time::Duration::seconds(seconds)))
    }

    pub fn minus_seconds(self, seconds: i64) -> Self {
        Timestamp(self.0.saturating_sub(time::Duration::seconds(seconds)))
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(at: OffsetDateTime) -> Self {
        Timestamp(at.to_offset(time::UtcOffset::UTC))
    }
}

impl From<Timestamp> for OffsetDateTime {
    fn from(at: Timestamp) -> Self {
        at.0
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_xml())
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn parses_and_formats_utc() {
        let t = Timestamp::parse("2026-11-25T10:20:30.123Z").unwrap();
        assert_eq!(t.to_xml(), "2026-11-25T10:20:30Z");
        assert_eq!(Timestamp::parse("2026-11-25T12:20:30+02:00").unwrap().to_xml(), "2026-11-25T10:20:30Z");
        assert!(Timestamp::parse("yesterday").is_none());
        assert_eq!(Timestamp::from_unix(0).unwrap().to_xml(), "1970-01-01T00:00:00Z");
    }
}
