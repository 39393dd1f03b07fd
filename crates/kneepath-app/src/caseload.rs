//! A clinician's caseload as the dashboard shows it: each linked patient
//! with their status on the patient's own today, most pressing first.
//!
//! The status is judged from the patient's caseload summary, which the
//! store keeps up to date with every change to their record
//! (`kneepath_store`'s `summary` module); no check-in is read here, so the
//! work per page does not grow with the patients' histories. Recording
//! that the clinician saw the list is the caller's (it knows which rows it
//! showed).

use kneepath_core::Day;
use kneepath_core::clinic::{Need, Status};
use kneepath_store::{CaseloadPatient, UserId};

use crate::{App, AppError};

/// One patient of the caseload.
#[derive(Debug, Clone)]
pub struct CaseloadRow {
    pub patient: CaseloadPatient,
    pub status: Status,
    /// The newest check-in's day.
    pub last_checkin: Option<Day>,
    /// The current phase's id (none: no home plan yet).
    pub phase: Option<String>,
}

impl App {
    /// The clinician's patients with their status, sorted by need (most
    /// pressing first), then by the week's mean pain (most first), then
    /// by name and id.
    pub async fn caseload(&self, clinician: &UserId) -> Result<Vec<CaseloadRow>, AppError> {
        let min_adherence = self.kb.progression.advance_min_adherence_pct;
        let mut rows: Vec<CaseloadRow> = self
            .store
            .caseload(clinician)
            .await?
            .into_iter()
            .map(|e| {
                // The patient's own today: one a day ahead who checked in
                // this morning has checked in "today".
                let today = self.clock.today_in(e.patient.time_zone.as_deref());
                CaseloadRow {
                    status: e.summary.status(today, min_adherence),
                    last_checkin: e.summary.last_checkin,
                    phase: e.summary.phase,
                    patient: e.patient,
                }
            })
            .collect();
        let pain = |r: &CaseloadRow| r.status.pain_avg7.unwrap_or(-1.0);
        rows.sort_by(|a, b| {
            a.status
                .need
                .cmp(&b.status.need)
                .then(pain(b).total_cmp(&pain(a)))
                .then(a.patient.display_name.cmp(&b.patient.display_name))
                .then(a.patient.id.cmp(&b.patient.id))
        });
        Ok(rows)
    }
}

/// How many rows of each need, in [`Need::ALL`]'s order.
pub fn need_counts(rows: &[CaseloadRow]) -> Vec<(Need, usize)> {
    Need::ALL
        .iter()
        .map(|n| (*n, rows.iter().filter(|r| r.status.need == *n).count()))
        .collect()
}
