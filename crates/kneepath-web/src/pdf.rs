//! PDF from HTML by headless Chromium (`--print-to-pdf`). The report is one
//! HTML page with a print stylesheet; printing it with the browser gives the
//! same layout, charts included, without a typesetting engine in the build.
//! Chromium is a run-time dependency of this one feature: without it the
//! PDF route answers 503 and the HTML report still works.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "PDF export needs Chromium (set KNEEPATH_CHROMIUM or install the `chromium` package); the HTML report works without it"
    )]
    NoBrowser,
    #[error("Chromium could not print the report: {0}")]
    Failed(String),
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

/// Print `html` (self-contained: inline styles, inline SVG) to PDF bytes.
pub async fn html_to_pdf(html: String) -> Result<Vec<u8>, PdfError> {
    let chromium = browser().ok_or(PdfError::NoBrowser)?;
    let dir = std::env::temp_dir().join(format!("kneepath-pdf-{}", kneepath_store::new_id()));
    let result = print(&chromium, &dir, html).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

async fn print(chromium: &PathBuf, dir: &PathBuf, html: String) -> Result<Vec<u8>, PdfError> {
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
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .map_err(|_| PdfError::Failed("timed out after 60 s".into()))?
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
