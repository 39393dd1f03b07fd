//! A clinician's report of one patient, shared by the web app
//! (`/clinic/patients/{id}/report` and `.pdf`) and the command line
//! (`kneepath report`): [`render`] turns [`kneepath_app::ReportData`] into
//! one HTML page (askama, `templates/report.html`), [`pdf`] prints it with
//! headless Chromium.
//!
//! - [`charts`]: SVG drawn on the server (no chart library, no script);
//!   [`progress`]: the charts of a plan's check-ins, also drawn on the
//!   person's progress page and the clinician's page of a patient.
//! - [`STYLE`]: the one stylesheet (`static/style.css`), served by the web
//!   app and inlined into a report printed from a file; its print rules fit
//!   a typical report on one A4 page.

pub mod charts;
pub mod pdf;
pub mod progress;

use askama::Template;
use kneepath_app::ReportData;

use crate::progress::{ProgressCharts, ProgressInput, progress_charts};

/// The stylesheet of every page and of the report.
pub const STYLE: &str = include_str!("../static/style.css");

/// A report that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report template: {0}")]
    Template(#[from] askama::Error),
}

#[derive(Debug, Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    title: String,
    /// The stylesheet inlined (for the PDF, printed from a file).
    inline_css: Option<&'static str>,
    d: &'a ReportData,
    charts: Option<ProgressCharts>,
}

/// The report as one HTML page. `inline_css` embeds the stylesheet (for
/// printing from a file); else it links `/static/style.css`.
pub fn render(data: &ReportData, inline_css: bool) -> Result<String, ReportError> {
    let page = ReportPage {
        title: format!("kneepath report: {}", data.name),
        inline_css: inline_css.then_some(STYLE),
        d: data,
        charts: data
            .progress
            .as_ref()
            .and_then(|p| progress_charts(&ProgressInput::of(p))),
    };
    Ok(page.render()?)
}
