//! Ids, tokens and timestamps made by the application (the database makes
//! none, so one schema fits SQLite and PostgreSQL).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use std::sync::Mutex;

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

/// A new id: 12 hex digits of milliseconds and 16 random hex digits. Ids
/// made by one process increase strictly (within a millisecond the random
/// part counts up, as in a monotonic ULID), so rows created in the same
/// millisecond still sort in the order they were made.
pub fn new_id() -> String {
    static LAST: Mutex<(u64, u64)> = Mutex::new((0, 0));
    let now = jiff::Timestamp::now().as_millisecond() as u64 & 0xffff_ffff_ffff;
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (ms, tail) = match last.1.checked_add(1) {
        Some(next) if now <= last.0 => (last.0, next),
        // A new millisecond (or the counter ran out): a fresh random tail,
        // kept below 2^63 so that counting up cannot overflow in practice.
        _ => (now.max(last.0 + 1), OsRng.next_u64() >> 1),
    };
    *last = (ms, tail);
    format!("{ms:012x}{tail:016x}")
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

    #[test]
    fn ids_made_in_one_millisecond_still_sort_in_order() {
        let ids: Vec<String> = (0..10_000).map(|_| super::new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
