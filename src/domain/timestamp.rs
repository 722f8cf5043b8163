//! Timestamps: stored as integer microseconds since the Unix epoch, shown as RFC 3339 UTC.

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

/// A UTC instant with microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Microseconds since the Unix epoch (UTC).
    pub micros: i64,
}

impl Timestamp {
    /// The instant `micros` microseconds after the epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self { micros }
    }

    /// The current time, from the system clock.
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self::from_micros(i64::try_from(nanos / 1_000).expect("µs since 1970 fit an i64 until the year 294247"))
    }

    /// An RFC 3339 instant with any offset (`2027-01-31T00:00:00+02:00`), as a client may send
    /// it; `None` when it is not one or lies outside what the store keeps.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let at = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
        i64::try_from(at.unix_timestamp_nanos() / 1_000).ok().map(Self::from_micros)
    }

    /// `2026-11-24T19:05:11.123456Z`: always six fractional digits, always `Z`.
    pub fn to_rfc3339(self) -> String {
        let seconds = self.micros.div_euclid(1_000_000);
        let micros = self.micros.rem_euclid(1_000_000);
        match OffsetDateTime::from_unix_timestamp(seconds) {
            Ok(at) => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second(),
                micros
            ),
            // Only reachable for values no code path stores (beyond year 9999).
            Err(_) => "9999-12-31T23:59:59.999999Z".to_owned(),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn formats_as_rfc3339_with_microseconds() {
        assert_eq!(Timestamp::from_micros(0).to_rfc3339(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(Timestamp::from_micros(1_795_547_111_123_456).to_rfc3339(), "2026-11-24T19:05:11.123456Z");
    }
}
