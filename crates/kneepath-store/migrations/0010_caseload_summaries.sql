-- Each person's caseload summary: what the clinician's dashboard judges
-- them by (kneepath_core::caseload::CaseSummary, as JSON), written in the
-- same transaction as every change to what it follows. Derived from the
-- other tables: left out of backups and rebuilt on restore and on start.
CREATE TABLE caseload_summaries (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
