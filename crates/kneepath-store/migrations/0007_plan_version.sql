-- A counter of changes to a person's plan. Every write that changes what the
-- plan is computed from (an assessment, a check-in, a phase change, a
-- clinician's edit or phase move) adds one to it in its own transaction, and
-- a write decided from a plan read earlier only goes through while the
-- counter is still what it read. This keeps instances that share one
-- database (a clinic network on PostgreSQL) from both acting on the same
-- plan: two check-ins cannot both move the phase.
ALTER TABLE users ADD COLUMN plan_version BIGINT NOT NULL DEFAULT 0;
