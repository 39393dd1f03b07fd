-- Clinicians and their patients: care links, invitations, measurements,
-- notes, plan edits and outcome questionnaires. Same portable SQL rules as
-- 0001.

-- A clinician looks after a patient while the link is not revoked. A
-- patient may have several clinicians; either side can end a link, which
-- keeps the row (who looked after whom, and when).
CREATE TABLE care_links (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    clinician_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX care_links_clinician ON care_links (clinician_id, revoked_at);
CREATE INDEX care_links_patient ON care_links (patient_id, revoked_at);

-- Single-use, expiring invitation links; the URL holds a random token, the
-- table its SHA-256.
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    clinician_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_by TEXT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX invites_clinician ON invites (clinician_id, created_at);

-- Test results entered by a clinician: the raw values as JSON, and the
-- assessment the contributing factors were re-run in.
CREATE TABLE measurements (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX measurements_patient ON measurements (patient_id, created_at);

CREATE TABLE notes (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX notes_patient ON notes (patient_id, created_at);

-- A clinician's changes to a plan, append-only. kind: add, remove, swap,
-- dosage. They apply to the plan that was current when they were made.
CREATE TABLE plan_edits (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    exercise TEXT NOT NULL,
    replacement TEXT,
    dosage TEXT,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX plan_edits_patient ON plan_edits (patient_id, created_at);

-- Who moved a phase by hand (NULL: the progression rules did).
ALTER TABLE phase_changes ADD COLUMN author_id TEXT;

-- Outcome questionnaires (KOOS, LEFS, NPRS): item answers and the scores
-- computed from them, both as JSON.
CREATE TABLE outcome_responses (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    instrument TEXT NOT NULL,
    day TEXT NOT NULL,
    answers TEXT NOT NULL,
    scores TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX outcome_responses_patient ON outcome_responses (patient_id, instrument, created_at);
