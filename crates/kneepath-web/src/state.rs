//! Application state, handed to every handler. No global configuration.

use std::sync::Arc;

use kneepath_core::{Day, KnowledgeBase};
use kneepath_store::Store;

use crate::plan_lock::PlanLocks;

/// Where "today" comes from. The core never reads the clock; the web layer
/// asks this, for a person in their own time zone. `Fixed` serves tests and
/// demonstrations of a given day (the same day for everyone); `At` is a
/// fixed instant, so tests can see time zones at work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The machine's clock.
    System,
    /// This day, whatever the time zone.
    Fixed(Day),
    /// This instant; people without a time zone are taken to live in UTC.
    At(jiff::Timestamp),
}

impl Clock {
    /// Today in the server's own zone (for work that belongs to no one
    /// person, and for people who have not set a zone).
    pub fn today(self) -> Day {
        self.today_in(None)
    }

    /// The zone of people who have set none: the machine's, UTC for `At`.
    fn fallback_zone(self) -> jiff::tz::TimeZone {
        match self {
            Clock::At(_) => jiff::tz::TimeZone::UTC,
            Clock::System | Clock::Fixed(_) => jiff::tz::TimeZone::system(),
        }
    }

    /// The name of the zone used for people who have set none.
    pub fn default_zone(self) -> String {
        self.fallback_zone()
            .iana_name()
            .unwrap_or("UTC")
            .to_string()
    }

    /// Today where a person lives: in `zone` (an IANA name) if it is set
    /// and known, else in the server's zone.
    pub fn today_in(self, zone: Option<&str>) -> Day {
        let now = match self {
            Clock::Fixed(d) => return d,
            Clock::System => jiff::Timestamp::now(),
            Clock::At(t) => t,
        };
        let tz = zone
            .and_then(|z| jiff::tz::db().get(z).ok())
            .unwrap_or_else(|| self.fallback_zone());
        let date = now.to_zoned_datetime(tz).date();
        Day::from_ymd(
            i32::from(date.year()),
            date.month() as u32,
            date.day() as u32,
        )
        .unwrap_or(Day(0))
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Session lifetime.
    pub session_hours: i64,
    /// Failed logins per email in 15 minutes before refusing.
    pub max_failures_per_email: i64,
    /// Failed logins per address in 15 minutes before refusing.
    pub max_failures_per_ip: i64,
    /// Sign-ups from one address in an hour before refusing.
    pub max_signups_per_ip: i64,
    /// The emergency number of the deployment's country, shown as a
    /// `tel:` link wherever a page says to call it.
    pub emergency_number: String,
    /// A request's headers must arrive within this (from the accept, or on
    /// a kept-alive connection from the last response): slow headers and
    /// idle connections are closed after it.
    pub header_timeout: std::time::Duration,
    /// A request's body must arrive in full within this.
    pub body_timeout: std::time::Duration,
    /// Connections open at once; kept below the descriptor limit
    /// ([`crate::server::connection_cap`]).
    pub max_connections: usize,
    /// How PDF reports are queued and bounded.
    pub pdf: crate::pdf::PdfLimits,
}

/// 112 reaches the emergency services from a mobile phone across Europe,
/// the UK included, and in many other countries.
pub const DEFAULT_EMERGENCY_NUMBER: &str = "112";

/// Whether `n` can be an emergency number in a `tel:` link: 2 to 15 digits,
/// optionally after a `+`.
pub fn valid_emergency_number(n: &str) -> bool {
    let digits = n.strip_prefix('+').unwrap_or(n);
    (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: false,
            session_hours: 12,
            max_failures_per_email: 5,
            max_failures_per_ip: 30,
            max_signups_per_ip: 20,
            emergency_number: DEFAULT_EMERGENCY_NUMBER.to_string(),
            header_timeout: std::time::Duration::from_secs(10),
            body_timeout: std::time::Duration::from_secs(20),
            max_connections: 1024,
            pdf: crate::pdf::PdfLimits::default(),
        }
    }
}

/// What every handler is given. Cloned for every request and middleware,
/// so it is one shared pointer: a clone is one reference count, not one per
/// field.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub kb: Arc<KnowledgeBase>,
    pub clock: Clock,
    pub settings: Settings,
    /// One person's plan changes one at a time (see `plan_lock.rs`).
    pub plan_locks: PlanLocks,
    /// PDF reports, a few at a time.
    pub pdf: crate::pdf::PdfQueue,
}

impl AppState {
    pub fn new(store: Store, kb: KnowledgeBase, clock: Clock, settings: Settings) -> AppState {
        AppState(Arc::new(Shared {
            store,
            kb: Arc::new(kb),
            clock,
            pdf: crate::pdf::PdfQueue::new(settings.pdf.clone()),
            settings,
            plan_locks: PlanLocks::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;
    use kneepath_core::Day;

    fn day(s: &str) -> Day {
        s.parse().expect("day")
    }

    #[test]
    fn today_follows_the_persons_time_zone() {
        // 20:00 in London on 24 November is the next morning in Auckland
        // and still the afternoon of the 24th in Los Angeles.
        let at = Clock::At("2026-11-24T20:00:00Z".parse().expect("instant"));
        assert_eq!(at.today_in(Some("Pacific/Auckland")), day("2026-11-25"));
        assert_eq!(at.today_in(Some("America/Los_Angeles")), day("2026-11-24"));
        assert_eq!(at.today_in(None), day("2026-11-24"));
        // An unknown zone counts as none.
        assert_eq!(at.today_in(Some("Nowhere/Atlantis")), day("2026-11-24"));
        // A fixed day is the same for everyone.
        let fixed = Clock::Fixed(day("2026-01-01"));
        assert_eq!(
            fixed.today_in(Some("Pacific/Kiritimati")),
            day("2026-01-01")
        );
    }

    #[test]
    fn the_system_clock_reads_each_zone() {
        // UTC+14 and UTC-11 are 25 hours apart: always one or two days.
        let ahead = Clock::System.today_in(Some("Pacific/Kiritimati"));
        let behind = Clock::System.today_in(Some("Pacific/Pago_Pago"));
        let gap = ahead.days_since(behind);
        assert!((1..=2).contains(&gap), "{ahead} vs {behind}");
    }
}
