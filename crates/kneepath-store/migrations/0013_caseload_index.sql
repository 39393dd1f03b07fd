-- The dashboard's query finds a clinician's active links and reads each
-- one's patient and start from this index alone, without a lookup of the
-- link's row. Its first two columns are those of the index it replaces,
-- which served the same searches.
CREATE INDEX care_links_by_clinician ON care_links (clinician_id, revoked_at, patient_id, created_at);
DROP INDEX care_links_clinician;
