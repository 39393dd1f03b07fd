//! Ids, tokens and timestamps made by the application (the database makes
//! none, so one schema fits SQLite and PostgreSQL).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// Current time as fixed-width RFC 3339 UTC with milliseconds:
/// `2026-11-24T05:48:46.123Z`. Sorts as text.
pub fn now_rfc3339() -> String {
    let ms = jiff::Timestamp::now().as_millisecond();
    format_ms(ms)
}

pub(crate) fn format_ms(ms: i64) -> String {
    let day = kneepath_core::Day(ms.div_euclid(86_400_000) as i32);
    let rem = ms.rem_euclid(86_400_000);
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{day}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// A new id: 12 hex digits of milliseconds (so ids sort by creation) and
/// 16 random hex digits.
pub fn new_id() -> String {
    let ms = jiff::Timestamp::now().as_millisecond();
    format!(
        "{:012x}{:016x}",
        ms as u64 & 0xffff_ffff_ffff,
        OsRng.next_u64()
    )
}

/// 256 random bits as 64 hex digits.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_fixed_width() {
        assert_eq!(super::format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::format_ms(1_795_000_000_123),
            "2026-11-18T11:06:40.123Z"
        );
        assert_eq!(super::new_id().len(), 28);
        assert_eq!(super::random_token().len(), 64);
    }
}
