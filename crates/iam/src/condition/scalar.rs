//! Reading numbers, dates, booleans and base64 from policy and request text.

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime};

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// A finite decimal number (`10`, `-2.5`, `1e3`).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// `true` / `false`, ignoring case, as IAM compares Bool values.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A point in time as nanoseconds since the Unix epoch.
///
/// Accepts epoch seconds (all digits, as `aws:EpochTime` carries) and the W3C
/// profile of ISO 8601 that IAM documents: `2020-01-01`, `2020-01`,
/// `2020-01-01T12:00Z`, `2020-01-01T12:00:00.5+01:00`, and the basic format
/// `20200101T120000Z`. A date or time without an offset is taken as UTC.
pub(crate) fn parse_instant(text: &str) -> Option<i128> {
    let text = text.trim();
    if let Some(seconds) = parse_epoch_seconds(text) {
        return Some(seconds);
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t.unix_timestamp_nanos());
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(t.unix_timestamp_nanos());
    }
    if let Ok(t) = PrimitiveDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(t.assume_utc().unix_timestamp_nanos());
    }
    if let Ok(d) = Date::parse(text, &Iso8601::DEFAULT) {
        return Some(d.midnight().assume_utc().unix_timestamp_nanos());
    }
    parse_year_month(text)
}

/// Epoch seconds from a number in the request context.
pub(crate) fn instant_from_seconds(seconds: f64) -> Option<i128> {
    // Beyond ±2^63 seconds no date is meaningful; reject rather than wrap.
    const LIMIT: f64 = 9.2e18;
    if !seconds.is_finite() || seconds.abs() > LIMIT {
        return None;
    }
    let whole = seconds.trunc() as i64;
    let fraction = ((seconds - seconds.trunc()) * 1e9).round() as i128;
    Some(i128::from(whole) * NANOS_PER_SECOND + fraction)
}

fn parse_epoch_seconds(text: &str) -> Option<i128> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: i64 = text.parse().ok()?;
    Some(i128::from(seconds) * NANOS_PER_SECOND)
}

/// `YYYY-MM`, the month-precision W3C form `time` does not parse itself.
fn parse_year_month(text: &str) -> Option<i128> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    if !year.bytes().chain(month.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let date = Date::from_calendar_date(year.parse().ok()?, month, 1).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp_nanos())
}

/// Decodes standard base64 (RFC 4648 alphabet, `=` padding optional).
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let body = text.trim_end_matches('=');
    let padding = text.len() - body.len();
    if padding > 2 || (padding > 0 && !text.len().is_multiple_of(4)) || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for byte in body.bytes() {
        buffer = (buffer << 6) | u32::from(sextet(byte)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xFF) as u8);
            // Keep only the bits not yet emitted so the buffer cannot overflow.
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i128 = NANOS_PER_SECOND;

    #[test]
    fn numbers_and_bools() {
        assert_eq!(parse_number(" 10 "), Some(10.0));
        assert_eq!(parse_number("2.5"), Some(2.5));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("ten"), None);
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn dates_in_every_documented_shape() {
        let new_year = 1_577_836_800 * SECOND; // 2020-01-01T00:00:00Z
        assert_eq!(parse_instant("1577836800"), Some(new_year));
        assert_eq!(parse_instant("2020-01-01T00:00:00Z"), Some(new_year));
        assert_eq!(parse_instant("2020-01-01"), Some(new_year));
        assert_eq!(parse_instant("2020-01"), Some(new_year));
        assert_eq!(parse_instant("2020-01-01T00:00Z"), Some(new_year));
        assert_eq!(parse_instant("2020-01-01T00:00:00"), Some(new_year));
        assert_eq!(parse_instant("20200101T000000Z"), Some(new_year));
        assert_eq!(parse_instant("2020-01-01T01:00:00+01:00"), Some(new_year));
        assert_eq!(parse_instant("2020-01-01T00:00:00.5Z"), Some(new_year + SECOND / 2));
        assert_eq!(parse_instant("-1"), Some(-SECOND));
    }

    #[test]
    fn rejects_non_dates() {
        for bad in ["", "yesterday", "2020-13-01", "2020-01-01Tnope", "2020-1", "99999999999999999999"] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }

    #[test]
    fn seconds_from_numbers() {
        assert_eq!(instant_from_seconds(1.5), Some(SECOND + SECOND / 2));
        assert_eq!(instant_from_seconds(f64::NAN), None);
        assert_eq!(instant_from_seconds(1e30), None);
    }

    #[test]
    fn base64() {
        assert_eq!(decode_base64("QmluYXJ5VmFsdWVJbkJhc2U2NA==").as_deref(), Some(&b"BinaryValueInBase64"[..]));
        assert_eq!(decode_base64("TWE=").as_deref(), Some(&b"Ma"[..]));
        assert_eq!(decode_base64("TWE").as_deref(), Some(&b"Ma"[..]));
        assert_eq!(decode_base64("").as_deref(), Some(&b""[..]));
        assert_eq!(decode_base64("T"), None);
        assert_eq!(decode_base64("TW=E"), None);
        assert_eq!(decode_base64("TWE==="), None);
        assert_eq!(decode_base64("T!E="), None);
    }
}
