-- kneepath schema v1. Portable SQL: it runs unchanged on SQLite and
-- PostgreSQL through sqlx's Any driver, so only TEXT, BIGINT/INTEGER,
-- SMALLINT and DOUBLE PRECISION are used (Any cannot decode BOOLEAN, DATE
-- or TIMESTAMP columns). Ids are app-generated TEXT; timestamps are RFC 3339
-- UTC text with milliseconds (fixed width, so they sort); calendar days are
-- YYYY-MM-DD text. Never edit this file once released: add a new migration.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    -- argon2id PHC string
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('patient', 'clinician', 'admin')),
    disabled SMALLINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at TEXT NOT NULL
);

-- Server-side sessions: the cookie holds a random token, the table its
-- SHA-256, so a leaked table cannot be replayed. Shared by every instance.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins per key (an email or an IP address), for rate limiting that
-- every instance sees.
CREATE TABLE login_failures (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);

-- Answers of an assessment in progress, kept while the person moves back
-- and forth in the wizard. Deleted when the assessment is stored.
CREATE TABLE wizard_drafts (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    answers TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Every assessment, with the facts, the full report as shown, and the
-- knowledge-base version it was computed with. Never updated.
CREATE TABLE assessments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    day TEXT NOT NULL,
    -- 'wizard', 'checkin' (re-triage after a warning sign), 'import'
    source TEXT NOT NULL,
    facts TEXT NOT NULL,
    report TEXT NOT NULL,
    level TEXT NOT NULL,
    kb_version TEXT NOT NULL
);
CREATE INDEX assessments_user ON assessments (user_id, created_at);

-- The phase timeline of a plan, append-only: the current phase is the
-- latest row. `day` is the first day whose check-ins count for `to_phase`.
CREATE TABLE phase_changes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assessment_id TEXT NOT NULL REFERENCES assessments (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    from_phase TEXT,
    to_phase TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX phase_changes_user ON phase_changes (user_id, created_at);

-- Daily check-ins: the whole check-in as JSON, plus the numbers dashboards
-- aggregate as columns. One per person per day.
CREATE TABLE checkins (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assessment_id TEXT NOT NULL REFERENCES assessments (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    pain_now SMALLINT NOT NULL,
    exercise_pain SMALLINT,
    morning_pain SMALLINT,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (user_id, day)
);
CREATE INDEX checkins_assessment ON checkins (assessment_id, day);

-- "See a professional" signals: no improvement after three weeks, or a
-- worsening trend.
CREATE TABLE escalations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assessment_id TEXT NOT NULL REFERENCES assessments (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX escalations_user ON escalations (user_id, day);

-- Who read or changed whose data, when and from where. Append-only.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id TEXT,
    subject_id TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    ip TEXT,
    detail TEXT
);
CREATE INDEX audit_subject ON audit_log (subject_id, at);
CREATE INDEX audit_at ON audit_log (at);
