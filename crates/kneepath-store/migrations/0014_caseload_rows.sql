-- The caseload as the dashboard reads it: one row for each clinician and
-- patient they look after (an active care link), with the patient's
-- caseload summary (kneepath_core::caseload::CaseSummary, in the store's
-- binary form: see its summary.rs; BYTEA holds bytes on PostgreSQL and on
-- SQLite, where the name gives no conversion to a blob) and the
-- fields of the patient the dashboard shows. A clinician's page is then
-- one range of the primary key, with no lookup of the patient's rows.
-- Derived from care_links, users and the patient's records, and written
-- in the same transaction as every change to them: left out of backups,
-- rebuilt on restore and on start. It replaces caseload_summaries (one
-- row per patient, JSON): the first start after it rebuilds every row.
CREATE TABLE caseload_rows (
    clinician_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    patient_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL,
    time_zone TEXT,
    data BYTEA NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (clinician_id, patient_id)
);
CREATE INDEX caseload_rows_by_patient ON caseload_rows (patient_id);
DROP TABLE caseload_summaries;
