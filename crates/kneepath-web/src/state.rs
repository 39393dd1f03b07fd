//! Application state, handed to every handler. No global configuration.
//! It holds the [`App`] (store, knowledge base, clock, plan locks; what
//! every user action does) and what only the web serving needs: its
//! [`Settings`] and the PDF queue.

use std::sync::Arc;

use kneepath_app::{App, Clock};
use kneepath_core::KnowledgeBase;
use kneepath_store::Store;

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
    /// Who runs this deployment and how to reach them (the about and
    /// privacy pages), when set.
    pub contact: Option<String>,
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
    /// The address people reach the app at (`https://knee.clinic.example`),
    /// for links in email, never taken from a request's Host header, which
    /// anyone can set; and, when given, for the links pages hand out (an
    /// invitation, a calendar feed). Required with SMTP.
    pub public_url: Option<String>,
}

/// 112 reaches the emergency services from a mobile phone across Europe,
/// the UK included, and in many other countries.
pub const DEFAULT_EMERGENCY_NUMBER: &str = "112";

/// Whether `text` can be the deployment's contact line: 1 to 300
/// characters, none of them control or direction-changing characters.
pub fn valid_contact(text: &str) -> bool {
    let n = text.chars().count();
    (1..=300).contains(&n)
        && !text.chars().any(|c| {
            c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
}

/// Whether `url` can be the public URL: `http://` or `https://`, a host,
/// no query, fragment or trailing slash, at most 200 characters.
pub fn valid_public_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    url.len() <= 200
        && rest.is_some_and(|r| {
            !r.is_empty()
                && !r.ends_with('/')
                && !r.contains(['?', '#', ' ', '@'])
                && !r.chars().any(char::is_control)
        })
}

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
            contact: None,
            header_timeout: std::time::Duration::from_secs(10),
            body_timeout: std::time::Duration::from_secs(20),
            max_connections: 1024,
            pdf: crate::pdf::PdfLimits::default(),
            public_url: None,
        }
    }
}

/// What every handler is given. Cloned for every request and middleware,
/// so it is one shared pointer: a clone is one reference count, not one per
/// field. It derefs to [`Shared`], which derefs to the [`App`], so a
/// handler reads `state.store`, `state.kb` and `state.clock` directly.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub struct Shared {
    /// The application: one method per user action.
    pub app: App,
    pub settings: Settings,
    /// PDF reports, a few at a time.
    pub pdf: crate::pdf::PdfQueue,
}

impl AppState {
    pub fn new(store: Store, kb: KnowledgeBase, clock: Clock, settings: Settings) -> AppState {
        AppState::of(App::new(store, kb, clock), settings)
    }

    /// The state around an application built by the caller (with a
    /// mailer, say).
    pub fn of(app: App, settings: Settings) -> AppState {
        AppState(Arc::new(Shared {
            app,
            pdf: crate::pdf::PdfQueue::new(settings.pdf.clone()),
            settings,
        }))
    }

    /// Email can be sent, with links to where the app is reached.
    pub fn mails(&self) -> Option<&str> {
        self.app
            .mailer
            .as_ref()
            .and(self.settings.public_url.as_deref())
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::ops::Deref for Shared {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}
