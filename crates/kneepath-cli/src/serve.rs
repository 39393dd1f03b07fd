//! `kneepath serve`: the web app on SQLite (default) or PostgreSQL.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::Args;
use kneepath_app::synthetic::demo;
use kneepath_core::KnowledgeBase;
use kneepath_web::{AppState, Settings};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "KNEEPATH_ADDR")]
    addr: SocketAddr,
    /// Database: sqlite://FILE (created if missing) or postgres://...
    #[arg(
        long,
        default_value = "sqlite://kneepath.db",
        env = "KNEEPATH_DATABASE_URL"
    )]
    database: String,
    /// Create a demo patient with eight weeks of check-ins and print its login.
    #[arg(long)]
    demo: bool,
    /// Treat this day (YYYY-MM-DD) as today, for demonstrations and tests.
    #[arg(long, value_name = "DATE", conflicts_with = "now")]
    today: Option<String>,
    /// Set the clock to this instant (2026-11-02T17:59:55Z) and let it run
    /// on from there: a test clock under which timed work (reminders)
    /// happens.
    #[arg(long, value_name = "INSTANT")]
    now: Option<String>,
    /// Mark cookies Secure (serve behind HTTPS).
    #[arg(long, env = "KNEEPATH_SECURE_COOKIES")]
    secure_cookies: bool,
    /// The emergency number pages link to (tel:), e.g. 999, 911 or 112.
    #[arg(long, env = "KNEEPATH_EMERGENCY_NUMBER", default_value = kneepath_web::state::DEFAULT_EMERGENCY_NUMBER)]
    emergency_number: String,
    /// Who runs this deployment and how to reach them, shown on the about
    /// and privacy pages (e.g. "Knee Clinic, 01234 567890, knee@clinic.example").
    #[arg(long, env = "KNEEPATH_CONTACT", value_name = "TEXT")]
    contact: Option<String>,
    /// SMTP server for email (password reset links, reminders):
    /// smtp://host:port (a local relay), smtp://host?tls=required
    /// (STARTTLS) or smtps://user:password@host:465. Without it nothing is
    /// mailed, and "Forgot your password?" says to ask the clinic.
    #[arg(
        long,
        env = "KNEEPATH_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    smtp_url: Option<String>,
    /// The sender of kneepath's email.
    #[arg(
        long,
        env = "KNEEPATH_MAIL_FROM",
        default_value = "kneepath <no-reply@localhost>"
    )]
    mail_from: String,
    /// Where people reach this app (https://knee.clinic.example), for the
    /// links in email. Required with --smtp-url.
    #[arg(long, env = "KNEEPATH_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Connections open at once (kept below the descriptor limit); more
    /// wait in the listen queue.
    #[arg(long, env = "KNEEPATH_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
}

/// How often due check-in reminders are looked for: one comes at most this
/// long after its minute.
const REMINDER_EVERY: std::time::Duration = std::time::Duration::from_secs(15);
/// How often guests whose time is over are deleted (answers given without
/// an account outlive their 24 hours by at most this), and old counted
/// attempts forgotten.
const GUEST_PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

pub fn run(kb: KnowledgeBase, args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let clock = match &args.now {
        Some(t) => kneepath_app::Clock::running_from(t.parse().map_err(|e| {
            anyhow::anyhow!("--now {t:?} is not an instant like 2026-11-02T17:59:55Z: {e}")
        })?),
        None => crate::common::clock(args.today.as_deref())?,
    };
    if !kneepath_web::state::valid_emergency_number(&args.emergency_number) {
        anyhow::bail!(
            "--emergency-number {:?} is not a phone number: use 2 to 15 digits, optionally after +",
            args.emergency_number
        );
    }
    if let Some(c) = &args.contact
        && !kneepath_web::state::valid_contact(c)
    {
        anyhow::bail!(
            "--contact must be 1 to 300 characters of text, without control or direction characters"
        );
    }
    if let Some(u) = &args.public_url
        && !kneepath_web::state::valid_public_url(u)
    {
        anyhow::bail!(
            "--public-url {u:?} is not an address like https://knee.clinic.example (http or https, a host, no trailing slash)"
        );
    }
    let mailer = match &args.smtp_url {
        None => None,
        Some(_) if args.public_url.is_none() => anyhow::bail!(
            "--smtp-url needs --public-url: the links in email must point where people reach the app"
        ),
        Some(url) => Some(
            kneepath_app::mail::Mailer::new(url, &args.mail_from)
                .map_err(|e| anyhow::anyhow!("--smtp-url / --mail-from: {e}"))?,
        ),
    };
    let rt = crate::common::runtime()?;
    rt.block_on(async move {
        let store = crate::common::open(&args.database).await?;
        let settings = Settings {
            public_url: args.public_url.clone(),
            secure_cookies: args.secure_cookies,
            emergency_number: args.emergency_number.clone(),
            contact: args.contact.clone(),
            max_connections: args.max_connections.max(1),
            ..Settings::default()
        };
        let mut app = kneepath_app::App::new(store, kb, clock);
        if let Some(m) = mailer {
            app = app.with_mailer(m);
        }
        let state = AppState::of(app, settings);
        // People assessed under another knowledge base (a policy change)
        // are re-run before the first request.
        let re = state
            .app
            .reassess_all(state.clock.today())
            .await
            .map_err(|e| anyhow::anyhow!("re-running assessments under the knowledge base: {e}"))?;
        if re.checked > 0 {
            say!(
                "Knowledge base {}: {} latest assessment{} re-run, {} with a more urgent level or other plan rules (stored and escalated).",
                state.kb.version,
                re.checked,
                if re.checked == 1 { "" } else { "s" },
                re.changed
            );
        }
        if args.demo {
            let created = demo::ensure_demo(&state.app, 8)
                .await
                .map_err(|e| anyhow::anyhow!("creating the demo patient: {e}"))?;
            say!(
                "Demo {}. Log in as\n  patient    {} / {}\n  clinician  {} / {}\n  admin      {} / {}",
                if created { "created" } else { "ready" },
                demo::DEMO_EMAIL,
                demo::DEMO_PASSWORD,
                demo::DEMO_CLINICIAN_EMAIL,
                demo::DEMO_CLINICIAN_PASSWORD,
                demo::DEMO_ADMIN_EMAIL,
                demo::DEMO_ADMIN_PASSWORD
            );
        }
        // Guests whose time is over, and attempts counted long ago: deleted
        // now and every GUEST_PURGE_EVERY.
        {
            let state = state.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(GUEST_PURGE_EVERY);
                loop {
                    tick.tick().await;
                    match state.app.purge_guests().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(deleted = n, "expired guests' answers deleted"),
                        Err(e) => tracing::error!(error = %e, "deleting expired guests"),
                    }
                    if let Err(e) = state.app.prune_attempts().await {
                        tracing::error!(error = %e, "forgetting old counted attempts");
                    }
                }
            });
        }
        // Check-in reminders: every REMINDER_EVERY, whoever's time has
        // come gets theirs (once a day).
        if let Some(base) = state.mails().map(str::to_string) {
            let state = state.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(REMINDER_EVERY);
                loop {
                    tick.tick().await;
                    match state.app.send_due_reminders(&base).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(sent = n, "check-in reminders emailed"),
                        Err(e) => tracing::error!(error = %e, "check-in reminders"),
                    }
                }
            });
        }
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        say!("kneepath is running on http://{}/", listener.local_addr()?);
        tracing::info!(
            max_connections = kneepath_web::server::connection_cap(state.settings.max_connections),
            "connection cap"
        );
        let shutdown = async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(t) => t,
                        Err(_) => {
                            let _ = ctrl_c.await;
                            return;
                        }
                    };
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            #[cfg(not(unix))]
            {
                let _ = ctrl_c.await;
            }
            tracing::info!("shutting down");
        };
        kneepath_web::serve(listener, state, shutdown).await?;
        Ok(())
    })
}
