-- Indexes for what every check-in and plan page reads, each in the order
-- it is read, so no read sorts: the newest assessment (it governs the
-- plan), the plan's phase changes and the clinicians' plan edits. The old
-- indexes stopped at created_at and left the id tie-break to a sort. Each
-- new one starts with the old one's columns and replaces it.
-- The assessments index also holds the level and knowledge-base version,
-- which sit after the long report in the row: on SQLite, reading them
-- walked the report's overflow pages.
CREATE INDEX assessments_head ON assessments (user_id, created_at, id, level, kb_version);
DROP INDEX assessments_user;
CREATE INDEX phase_changes_in_order ON phase_changes (user_id, created_at, id);
DROP INDEX phase_changes_user;
CREATE INDEX plan_edits_in_order ON plan_edits (patient_id, created_at, id);
DROP INDEX plan_edits_patient;
