//! Ids, tokens and timestamps made by the application (the database makes
//! none, so one schema fits SQLite and PostgreSQL). Ids are text and
//! increase strictly within a process, so rows made in one millisecond
//! keep their order; timestamps are fixed-width RFC 3339 text, which sorts
//! as time.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Mutex;

/// The id of an account (`users.id`): what the store takes wherever it
/// means a person, so a person's id cannot be passed where another id (an
/// assessment's, a token's) is meant, nor the other way round. Made by the
/// store ([`crate::Store::create_user`]) or, for an id that comes from
/// outside (a URL, a form), with [`UserId::new`]; an id that names no
/// account is found by the store to be none. Reads as its text (`Deref`,
/// `Display`) and is stored and serialized as it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// The id as given (a URL's or a form's): checked by the store's
    /// lookups, never trusted to exist.
    pub fn new(id: impl Into<String>) -> UserId {
        UserId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for UserId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for UserId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for UserId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for UserId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<&UserId> for UserId {
    fn eq(&self, other: &&UserId) -> bool {
        self == *other
    }
}

impl PartialEq<String> for UserId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

// Bound and read as text by sqlx's `Any` driver, like a `String`.
impl sqlx::Type<sqlx::Any> for UserId {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <String as sqlx::Type<sqlx::Any>>::type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Any> for UserId {
    fn encode(
        self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'_, sqlx::Any>>::encode(self.0, buf)
    }

    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'_, sqlx::Any>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for UserId {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <String as sqlx::Decode<'r, sqlx::Any>>::decode(value).map(UserId)
    }
}

impl From<UserId> for String {
    fn from(id: UserId) -> String {
        id.0
    }
}

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
