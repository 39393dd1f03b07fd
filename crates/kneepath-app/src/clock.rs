//! Where "today" comes from. The core never reads the clock; the
//! application asks this, for a person in their own time zone.

use kneepath_core::Day;

/// Where "today" comes from. `Fixed` serves tests and demonstrations of a
/// given day (the same day for everyone); `At` is a fixed instant, so tests
/// can see time zones at work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The machine's clock.
    System,
    /// This day, whatever the time zone.
    Fixed(Day),
    /// This instant; people without a time zone are taken to live in UTC.
    At(jiff::Timestamp),
    /// The clock as it was set to `at` when the process read the machine's
    /// monotonic clock at `since`, running on from there (`serve --now`:
    /// a test clock under which timed work, such as reminders, happens);
    /// people without a time zone live in UTC.
    Running {
        at: jiff::Timestamp,
        since: std::time::Instant,
    },
}

impl Clock {
    /// Today in the server's own zone (for work that belongs to no one
    /// person, and for people who have not set a zone).
    pub fn today(self) -> Day {
        self.today_in(None)
    }

    /// A running clock set to `at` now.
    pub fn running_from(at: jiff::Timestamp) -> Clock {
        Clock::Running {
            at,
            since: std::time::Instant::now(),
        }
    }

    /// The current instant (for `Fixed`, the machine's: only its day is
    /// fixed).
    pub fn now(self) -> jiff::Timestamp {
        match self {
            Clock::System | Clock::Fixed(_) => jiff::Timestamp::now(),
            Clock::At(t) => t,
            Clock::Running { at, since } => jiff::SignedDuration::try_from(since.elapsed())
                .ok()
                .and_then(|d| at.checked_add(d).ok())
                .unwrap_or(at),
        }
    }

    /// The zone of people who have set none: the machine's, UTC for `At`.
    fn fallback_zone(self) -> jiff::tz::TimeZone {
        match self {
            Clock::At(_) | Clock::Running { .. } => jiff::tz::TimeZone::UTC,
            Clock::System | Clock::Fixed(_) => jiff::tz::TimeZone::system(),
        }
    }

    /// A person's zone: `zone` (an IANA name) if set and known, else the
    /// server's.
    pub fn zone_of(self, zone: Option<&str>) -> jiff::tz::TimeZone {
        zone.and_then(|z| jiff::tz::db().get(z).ok())
            .unwrap_or_else(|| self.fallback_zone())
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
        if let Clock::Fixed(d) = self {
            return d;
        }
        let date = self.now().to_zoned_datetime(self.zone_of(zone)).date();
        Day::from_ymd(
            i32::from(date.year()),
            date.month() as u32,
            date.day() as u32,
        )
        .unwrap_or(Day(0))
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
