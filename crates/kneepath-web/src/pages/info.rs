//! The pages anyone can read, logged in or not: what kneepath is (its
//! policy, sources and the deployment's contact) and what it keeps about a
//! person (what, where, for how long, and how to take it away or delete
//! it). What they say is read from the knowledge base and the deployment's
//! settings, so it cannot drift from what this server does.

use axum::extract::State;
use axum::response::Response;

use crate::auth::MaybeUser;
use crate::state::AppState;
use crate::views::{AboutPage, Layout, PrivacyPage, render};

fn layout(title: &str, nav: &'static str, user: &Option<crate::auth::CurrentUser>) -> Layout {
    match user {
        Some(u) => Layout::for_user(title, nav, u),
        None => Layout {
            nav,
            ..Layout::anon(title)
        },
    }
}

pub async fn about(State(state): State<AppState>, MaybeUser(user): MaybeUser) -> Response {
    let kb = &state.kb;
    render(&AboutPage {
        l: layout("About kneepath", "about", &user),
        disclaimer: kb.meta.disclaimer.clone(),
        policy: kb.meta.policy.clone(),
        policy_version: kb.meta.policy_version.clone(),
        policy_date: kb.meta.policy_date.clone(),
        kb_version: kb
            .version
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect(),
        sources: kb
            .citations
            .iter()
            .map(|c| {
                let link = c
                    .doi
                    .as_ref()
                    .map(|d| format!("https://doi.org/{d}"))
                    .or_else(|| c.url.clone());
                (c.text.clone(), link)
            })
            .collect(),
        contact: state.settings.contact.clone(),
        emergency_number: state.settings.emergency_number.clone(),
    })
}

pub async fn privacy(State(state): State<AppState>, MaybeUser(user): MaybeUser) -> Response {
    render(&PrivacyPage {
        l: layout("Privacy", "privacy", &user),
        database: match state.store.backend() {
            kneepath_store::Backend::Sqlite => "a SQLite database file on this service's server",
            kneepath_store::Backend::Postgres => "this service's PostgreSQL database",
        },
        session_hours: state.settings.session_hours,
        guest_hours: kneepath_app::GUEST_HOURS,
        contact: state.settings.contact.clone(),
        mails: state.mails().is_some(),
    })
}
