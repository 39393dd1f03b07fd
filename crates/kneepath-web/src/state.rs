//! Application state, handed to every handler. No global configuration.

use std::sync::Arc;

use kneepath_core::{Day, KnowledgeBase};
use kneepath_store::Store;

/// Where "today" comes from. The core never reads the clock; the web layer
/// asks this. `Fixed` serves tests and demonstrations of a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The machine's local calendar date.
    System,
    Fixed(Day),
}

impl Clock {
    pub fn today(self) -> Day {
        match self {
            Clock::Fixed(d) => d,
            Clock::System => {
                let date = jiff::ZonedDateTime::now().date();
                Day::from_ymd(
                    i32::from(date.year()),
                    date.month() as u32,
                    date.day() as u32,
                )
                .unwrap_or(Day(0))
            }
        }
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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: false,
            session_hours: 12,
            max_failures_per_email: 5,
            max_failures_per_ip: 30,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub kb: Arc<KnowledgeBase>,
    pub clock: Clock,
    pub settings: Arc<Settings>,
}
