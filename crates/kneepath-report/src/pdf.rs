//! PDF from HTML by headless Chromium (`--print-to-pdf`). The report is one
//! HTML page with a print stylesheet; printing it with the browser gives the
//! same layout, charts included, without a typesetting engine in the build.
//! Chromium is a run-time dependency of this one feature: without it the
//! PDF route answers 503 and the HTML report still works.
//!
//! Each print starts a browser of a dozen processes and about 120 MB, so
//! the web app prints through a [`PdfQueue`] (the command line prints one,
//! [`html_to_pdf`]): a few at a time, a few more
//! waiting, each within a time limit; beyond that the answer is 503 with
//! `Retry-After` (six reports at once had started 74 processes and taken
//! 765 MB).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "PDF export needs Chromium (set KNEEPATH_CHROMIUM or install the `chromium` package); the HTML report works without it"
    )]
    NoBrowser,
    #[error("Chromium could not print the report: {0}")]
    Failed(String),
    /// The queue is full, or the wait for a turn ran out.
    #[error(
        "Other PDF reports are being made at the moment. Try again in a minute, or open the HTML report, which works now."
    )]
    Busy,
}

/// How PDFs are made by the web app.
#[derive(Debug, Clone)]
pub struct PdfLimits {
    /// Reports printed at once.
    pub printing: usize,
    /// Reports that may wait for a turn (more are refused at once).
    pub waiting: usize,
    /// How long a report waits for its turn before it is refused.
    pub wait: Duration,
    /// How long one print may take; then the browser is killed.
    pub timeout: Duration,
    /// The browser; `None` finds one ([`browser`]).
    pub browser: Option<PathBuf>,
}

impl Default for PdfLimits {
    fn default() -> Self {
        PdfLimits {
            printing: 2,
            waiting: 4,
            wait: Duration::from_secs(30),
            timeout: Duration::from_secs(45),
            browser: None,
        }
    }
}

/// Seconds a refused client is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 30;

/// A bounded queue of PDF prints (see the module's documentation).
#[derive(Debug)]
pub struct PdfQueue {
    limits: PdfLimits,
    printing: Semaphore,
    admitted: Semaphore,
}

impl PdfQueue {
    pub fn new(limits: PdfLimits) -> PdfQueue {
        let printing = limits.printing.max(1);
        PdfQueue {
            printing: Semaphore::new(printing),
            admitted: Semaphore::new(printing + limits.waiting),
            limits,
        }
    }

    /// Print `html` when a turn comes, or refuse with [`PdfError::Busy`].
    pub async fn print(&self, html: String) -> Result<Vec<u8>, PdfError> {
        let chromium = match &self.limits.browser {
            Some(b) => b.clone(),
            None => browser().ok_or(PdfError::NoBrowser)?,
        };
        let _admitted = self.admitted.try_acquire().map_err(|_| PdfError::Busy)?;
        let _turn = tokio::time::timeout(self.limits.wait, self.printing.acquire())
            .await
            .map_err(|_| PdfError::Busy)?
            .map_err(|_| PdfError::Busy)?;
        print_with(&chromium, html, self.limits.timeout).await
    }
}

/// The browser to use: `KNEEPATH_CHROMIUM`, else the usual Debian paths.
pub fn browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KNEEPATH_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Print `html` (self-contained: inline styles, inline SVG) to PDF bytes,
/// one print outside any queue (the command line's `report`).
pub async fn html_to_pdf(html: String) -> Result<Vec<u8>, PdfError> {
    let chromium = browser().ok_or(PdfError::NoBrowser)?;
    print_with(&chromium, html, PdfLimits::default().timeout).await
}

async fn print_with(chromium: &Path, html: String, limit: Duration) -> Result<Vec<u8>, PdfError> {
    let dir = std::env::temp_dir().join(format!("kneepath-pdf-{}", unique_name()));
    let result = print(chromium, &dir, html, limit).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

/// A name no other print of this machine uses at the same time: the
/// process, the time and a count.
fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos:x}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

async fn print(
    chromium: &Path,
    dir: &Path,
    html: String,
    limit: Duration,
) -> Result<Vec<u8>, PdfError> {
    let fail = |e: std::io::Error| PdfError::Failed(e.to_string());
    tokio::fs::create_dir_all(dir).await.map_err(fail)?;
    let input = dir.join("report.html");
    let output = dir.join("report.pdf");
    tokio::fs::write(&input, html).await.map_err(fail)?;
    let mut cmd = tokio::process::Command::new(chromium);
    cmd.arg("--headless")
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--no-first-run")
        .arg("--disable-background-networking")
        .arg("--disable-component-update")
        .arg("--disable-sync")
        .arg("--disable-extensions")
        .arg("--no-pdf-header-footer")
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--print-to-pdf={}", output.display()))
        .arg(format!("file://{}", input.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let run = cmd.output();
    // On time-out the future is dropped, and with it the browser (killed).
    let out = tokio::time::timeout(limit, run)
        .await
        .map_err(|_| PdfError::Failed(format!("timed out after {} s", limit.as_secs())))?
        .map_err(fail)?;
    match tokio::fs::read(&output).await {
        Ok(pdf) if pdf.starts_with(b"%PDF") => Ok(pdf),
        _ => Err(PdfError::Failed(format!(
            "exit {}; {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ))),
    }
}
