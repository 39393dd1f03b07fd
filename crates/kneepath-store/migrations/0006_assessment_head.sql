-- The newest assessment of a person governs their plan and is read on
-- every check-in and plan page. This index finds it in index order (the
-- old one, on user_id and created_at alone, left the id tie-break to a
-- sort) and holds the level and knowledge-base version, which sit after
-- the long report in the row: on SQLite, reading them walked the report's
-- overflow pages. It replaces the old index, whose columns it starts with.
CREATE INDEX assessments_head ON assessments (user_id, created_at, id, level, kb_version);
DROP INDEX assessments_user;
