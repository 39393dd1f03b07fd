//! The caseload dashboard, sorted by need, and invitation links.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use kneepath_app::outcomes::fmt1;
use kneepath_core::clinic::{Need, Trend};
use kneepath_store::NewAudit;
use serde::Deserialize;

use kneepath_store::{AuditAction, AuditEntity, UserId};

use crate::auth::{Clinician, CurrentUser, VerifiedForm};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{Layout, private};

/// How long an invitation link stays valid.
pub const INVITE_HOURS: i64 = 7 * 24;

#[derive(Debug)]
pub struct CaseRow {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub need: Need,
    pub need_class: &'static str,
    pub last_checkin: String,
    pub phase: String,
    pub pain: String,
    /// Arrow and words for the 7-day pain trend.
    pub trend_arrow: &'static str,
    pub trend_text: &'static str,
    pub adherence: String,
}

#[derive(Debug, Template)]
#[template(path = "clinic.html")]
pub struct CaseloadPage {
    pub l: Layout,
    pub rows: Vec<CaseRow>,
    pub total: usize,
    /// (need id, label, count) for the filter.
    pub counts: Vec<(&'static str, &'static str, usize)>,
    pub need: String,
    pub q: String,
    /// A filter is on: the lead says how many of `total` match.
    pub filtered: bool,
    /// A `need` the dashboard does not know (from an edited address),
    /// shown with everyone instead.
    pub unknown_need: Option<String>,
    /// The clinician has just ended a link.
    pub ended: bool,
    pub invite_url: Option<String>,
    pub today: String,
}

#[derive(Debug, Deserialize)]
pub struct CaseloadQuery {
    need: Option<String>,
    q: Option<String>,
    ended: Option<String>,
}

fn need_class(n: Need) -> &'static str {
    match n {
        Need::PolicyChanged | Need::WarningSign => "need-red",
        Need::Worsening | Need::NotImproving => "need-amber",
        Need::NoCheckin | Need::LowAdherence => "need-grey",
        Need::OnTrack => "need-green",
    }
}

async fn caseload_page(
    state: &AppState,
    user: &CurrentUser,
    need_filter: &str,
    search: &str,
    invite_url: Option<String>,
) -> Result<CaseloadPage, WebError> {
    let kb = &state.kb;
    let clinician_today = user.today(state);
    let rows = state.app.caseload(user.id()).await?;
    let total = rows.len();
    let counts = kneepath_app::caseload::need_counts(&rows)
        .into_iter()
        .map(|(n, count)| (n.as_str(), n.label(), count))
        .collect();
    let rows: Vec<CaseRow> = rows
        .into_iter()
        .map(|r| {
            let s = r.status;
            let (trend_arrow, trend_text) = match s.trend {
                Trend::Rising => ("↑", "rising"),
                Trend::Falling => ("↓", "falling"),
                Trend::Steady => ("→", "steady"),
                Trend::Unknown => ("", "no trend yet"),
            };
            let phase = r
                .phase
                .as_deref()
                .and_then(|p| kb.phase_by_id(p))
                .map_or_else(|| "–".to_string(), |p| kb.phases[p].title.clone());
            CaseRow {
                id: r.patient.id,
                name: r.patient.display_name,
                email: r.patient.email,
                need: s.need,
                need_class: need_class(s.need),
                last_checkin: match (r.last_checkin, s.days_since_checkin) {
                    (Some(d), Some(0)) => format!("{d} (today)"),
                    (Some(d), Some(1)) => format!("{d} (yesterday)"),
                    (Some(d), Some(n)) => format!("{d} ({n} days ago)"),
                    _ => "never".to_string(),
                },
                phase,
                pain: fmt1(s.pain_avg7),
                trend_arrow,
                trend_text,
                adherence: s
                    .adherence_pct
                    .map_or_else(|| "–".to_string(), |a| format!("{a:.0}%")),
            }
        })
        .collect();
    let needle = search.trim().to_lowercase();
    let want = Need::parse(need_filter);
    let unknown_need = (want.is_none() && !need_filter.is_empty()).then(|| need_filter.to_string());
    let rows: Vec<CaseRow> = rows
        .into_iter()
        .filter(|r| want.is_none_or(|n| r.need == n))
        .filter(|r| {
            needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || r.email.contains(&needle)
        })
        .collect();
    // One audit row for the view, naming every patient shown (the admin's
    // search by patient finds it); one row per patient would write 200
    // rows per page view.
    if !rows.is_empty() {
        let shown = rows
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .join(",");
        state
            .store
            .audit(&NewAudit {
                actor_id: Some(user.id()),
                subject_id: None,
                action: AuditAction::Read,
                entity: AuditEntity::Caseload,
                entity_id: None,
                ip: user.ip(),
                detail: Some(&format!("{} patients: {shown}", rows.len())),
            })
            .await?;
    }
    Ok(CaseloadPage {
        l: Layout::for_user("Caseload", "clinic", user),
        rows,
        total,
        counts,
        need: want.map_or_else(String::new, |n| n.as_str().to_string()),
        q: search.to_string(),
        filtered: want.is_some() || !needle.is_empty(),
        unknown_need,
        ended: false,
        invite_url,
        today: clinician_today.to_string(),
    })
}

pub async fn dashboard(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Query(q): Query<CaseloadQuery>,
) -> Result<Response, WebError> {
    let mut page = caseload_page(
        &state,
        &user,
        q.need.as_deref().unwrap_or(""),
        q.q.as_deref().unwrap_or(""),
        None,
    )
    .await?;
    page.ended = q.ended.is_some();
    Ok(private(&page))
}

pub async fn invite(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    headers: axum::http::HeaderMap,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    let token = state
        .store
        .create_invite(user.id(), INVITE_HOURS, user.ip())
        .await?;
    let url = format!("{}/invite/{token}", crate::pages::origin(&state, &headers));
    let page = caseload_page(&state, &user, "", "", Some(url)).await?;
    Ok(private(&page))
}
