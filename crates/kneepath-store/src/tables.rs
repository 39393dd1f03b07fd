//! The one list of the database's tables, read by backup and restore, the
//! account export, the account deletion and the test that a deleted
//! account leaves nothing behind. A table added by a migration is added
//! here, or backup, export and deletion would silently skip it (tests in
//! this module and in `tests/it` read the migrations to make sure).

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Int,
    /// Bytes (only in a table that is rebuilt, never backed up).
    Bytes,
}

use Kind::{Bytes, Int, Text};

/// What deleting an account does to a table's rows about the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Erase {
    /// Delete the rows whose column is the person's id.
    Rows(&'static str),
    /// Clear the column where it names the person (as author, inviter...).
    Null(&'static str),
    /// Delete the wrong-password counts kept under the person's email.
    LoginKey,
    /// Keep the rows, with the person's id replaced by a pseudonym (the
    /// access log outlives the data).
    Pseudonymise,
}

use Erase::{LoginKey, Null, Pseudonymise, Rows};

/// Whether the account export holds the person's rows of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Export {
    /// Under this key of the export.
    As(&'static str),
    /// Not exported, and why.
    Not(&'static str),
}

#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    /// Every column backed up, with how it is stored.
    pub columns: &'static [(&'static str, Kind)],
    /// The order that makes a backup deterministic.
    pub order_by: &'static str,
    pub erase: &'static [Erase],
    pub export: Export,
    /// Derived from the other tables: left out of backups and of the
    /// checksums that compare databases, and rebuilt after a restore.
    pub rebuilt: bool,
}

impl Table {
    /// The text columns (searched for a deleted person's traces, by
    /// [`crate::testing`]).
    #[cfg(feature = "testing")]
    pub fn text_columns(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns
            .iter()
            .filter(|(_, k)| *k == Text)
            .map(|(n, _)| *n)
    }
}

/// Every table, parents first (backup and restore go in this order,
/// deletion in the reverse). `users.plan_version` is left out on purpose:
/// it orders concurrent writers of a plan and is not data, so a restored
/// database starts it at 0 and the backup format did not change with it
/// (migration 0007).
pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[
            ("id", Text),
            ("email", Text),
            ("display_name", Text),
            ("password_hash", Text),
            ("role", Text),
            ("disabled", Int),
            ("created_at", Text),
            ("time_zone", Text),
            ("reminder_time", Text),
            ("guest_until", Text),
        ],
        order_by: "id",
        erase: &[Rows("id")],
        export: Export::As("user"),
        rebuilt: false,
    },
    Table {
        name: "sessions",
        columns: &[
            ("token_hash", Text),
            ("user_id", Text),
            ("csrf_token", Text),
            ("created_at", Text),
            ("expires_at", Text),
        ],
        order_by: "token_hash",
        erase: &[Rows("user_id")],
        export: Export::Not("secrets: hashes of login tokens"),
        rebuilt: false,
    },
    Table {
        name: "login_failures",
        columns: &[("id", Text), ("key", Text), ("at", Text)],
        order_by: "id",
        erase: &[LoginKey],
        export: Export::Not("counters of wrong passwords, keyed by email or address"),
        rebuilt: false,
    },
    Table {
        name: "calendar_tokens",
        columns: &[
            ("token_hash", Text),
            ("user_id", Text),
            ("created_at", Text),
        ],
        order_by: "token_hash",
        erase: &[Rows("user_id")],
        export: Export::Not("secrets: hashes of calendar links"),
        rebuilt: false,
    },
    Table {
        name: "wizard_drafts",
        columns: &[("user_id", Text), ("answers", Text), ("updated_at", Text)],
        order_by: "user_id",
        erase: &[Rows("user_id")],
        export: Export::As("draft"),
        rebuilt: false,
    },
    Table {
        name: "assessments",
        columns: &[
            ("id", Text),
            ("user_id", Text),
            ("created_at", Text),
            ("day", Text),
            ("source", Text),
            ("facts", Text),
            ("report", Text),
            ("level", Text),
            ("kb_version", Text),
        ],
        order_by: "id",
        erase: &[Rows("user_id")],
        export: Export::As("assessments"),
        rebuilt: false,
    },
    Table {
        name: "phase_changes",
        columns: &[
            ("id", Text),
            ("user_id", Text),
            ("assessment_id", Text),
            ("day", Text),
            ("from_phase", Text),
            ("to_phase", Text),
            ("reason", Text),
            ("created_at", Text),
            ("author_id", Text),
        ],
        order_by: "id",
        erase: &[Rows("user_id"), Null("author_id")],
        export: Export::As("phase_changes"),
        rebuilt: false,
    },
    Table {
        name: "checkins",
        columns: &[
            ("id", Text),
            ("user_id", Text),
            ("assessment_id", Text),
            ("day", Text),
            ("pain_now", Int),
            ("exercise_pain", Int),
            ("morning_pain", Int),
            ("data", Text),
            ("created_at", Text),
        ],
        order_by: "id",
        erase: &[Rows("user_id")],
        export: Export::As("checkins"),
        rebuilt: false,
    },
    Table {
        name: "checkin_revisions",
        columns: &[
            ("id", Text),
            ("checkin_id", Text),
            ("user_id", Text),
            ("day", Text),
            ("data", Text),
            ("replaced_at", Text),
        ],
        order_by: "id",
        erase: &[Rows("user_id")],
        export: Export::As("checkin_revisions"),
        rebuilt: false,
    },
    Table {
        name: "escalations",
        columns: &[
            ("id", Text),
            ("user_id", Text),
            ("assessment_id", Text),
            ("day", Text),
            ("kind", Text),
            ("created_at", Text),
        ],
        order_by: "id",
        erase: &[Rows("user_id")],
        export: Export::As("escalations"),
        rebuilt: false,
    },
    Table {
        name: "care_links",
        columns: &[
            ("id", Text),
            ("patient_id", Text),
            ("clinician_id", Text),
            ("created_at", Text),
            ("revoked_at", Text),
        ],
        order_by: "id",
        erase: &[Rows("patient_id"), Rows("clinician_id")],
        export: Export::As("care_links"),
        rebuilt: false,
    },
    Table {
        name: "invites",
        columns: &[
            ("token_hash", Text),
            ("clinician_id", Text),
            ("created_at", Text),
            ("expires_at", Text),
            ("used_at", Text),
            ("used_by", Text),
        ],
        order_by: "token_hash",
        erase: &[Rows("clinician_id"), Null("used_by")],
        export: Export::Not("a clinician's invitation codes (hashes)"),
        rebuilt: false,
    },
    Table {
        name: "measurements",
        columns: &[
            ("id", Text),
            ("patient_id", Text),
            ("author_id", Text),
            ("assessment_id", Text),
            ("day", Text),
            ("data", Text),
            ("created_at", Text),
        ],
        order_by: "id",
        erase: &[Rows("patient_id"), Null("author_id")],
        export: Export::As("measurements"),
        rebuilt: false,
    },
    Table {
        name: "notes",
        columns: &[
            ("id", Text),
            ("patient_id", Text),
            ("author_id", Text),
            ("body", Text),
            ("created_at", Text),
        ],
        order_by: "id",
        erase: &[Rows("patient_id"), Null("author_id")],
        export: Export::As("notes"),
        rebuilt: false,
    },
    Table {
        name: "plan_edits",
        columns: &[
            ("id", Text),
            ("patient_id", Text),
            ("author_id", Text),
            ("kind", Text),
            ("exercise", Text),
            ("replacement", Text),
            ("dosage", Text),
            ("reason", Text),
            ("created_at", Text),
        ],
        order_by: "id",
        erase: &[Rows("patient_id"), Null("author_id")],
        export: Export::As("plan_edits"),
        rebuilt: false,
    },
    Table {
        name: "outcome_responses",
        columns: &[
            ("id", Text),
            ("patient_id", Text),
            ("instrument", Text),
            ("day", Text),
            ("answers", Text),
            ("scores", Text),
            ("created_at", Text),
        ],
        order_by: "id",
        erase: &[Rows("patient_id")],
        export: Export::As("outcomes"),
        rebuilt: false,
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("id", Text),
            ("user_id", Text),
            ("name", Text),
            ("token_hash", Text),
            ("scope", Text),
            ("created_at", Text),
            ("last_used_at", Text),
            ("revoked_at", Text),
        ],
        order_by: "id",
        erase: &[Rows("user_id")],
        export: Export::Not("secrets: hashes of API tokens"),
        rebuilt: false,
    },
    Table {
        name: "password_resets",
        columns: &[
            ("token_hash", Text),
            ("user_id", Text),
            ("created_by", Text),
            ("created_at", Text),
            ("expires_at", Text),
            ("used_at", Text),
        ],
        order_by: "token_hash",
        erase: &[Rows("user_id"), Null("created_by")],
        export: Export::Not("secrets: hashes of reset links"),
        rebuilt: false,
    },
    Table {
        name: "caseload_rows",
        columns: &[
            ("clinician_id", Text),
            ("patient_id", Text),
            ("display_name", Text),
            ("email", Text),
            ("time_zone", Text),
            ("data", Bytes),
            ("updated_at", Text),
        ],
        order_by: "clinician_id, patient_id",
        erase: &[Rows("patient_id"), Rows("clinician_id")],
        export: Export::Not(
            "derived from the account, links, check-ins, escalations, assessments and phases exported",
        ),
        rebuilt: true,
    },
    Table {
        name: "audit_log",
        columns: &[
            ("id", Text),
            ("at", Text),
            ("actor_id", Text),
            ("subject_id", Text),
            ("action", Text),
            ("entity", Text),
            ("entity_id", Text),
            ("ip", Text),
            ("detail", Text),
        ],
        order_by: "id",
        erase: &[Pseudonymise],
        export: Export::As("audit_log"),
        rebuilt: false,
    },
];

#[cfg(test)]
mod tests {
    use super::{Export, TABLES};

    /// Every table the migrations leave (created and not dropped by a
    /// later one) is in the list, and nothing else.
    #[test]
    fn the_list_has_every_table_of_the_migrations() {
        let named = |prefix: &'static str| {
            crate::db::MIGRATIONS
                .iter()
                .flat_map(|(_, _, sql)| sql.lines())
                .filter_map(move |l| l.trim().strip_prefix(prefix))
                .filter_map(|rest| rest.split_whitespace().next())
                .map(|n| n.trim_matches(|c| c == '(' || c == ';').to_string())
        };
        let dropped: Vec<String> = named("DROP TABLE ").collect();
        let mut created: Vec<String> = named("CREATE TABLE ")
            .filter(|n| !dropped.contains(n))
            .collect();
        created.sort();
        let mut listed: Vec<String> = TABLES.iter().map(|t| t.name.to_string()).collect();
        listed.sort();
        assert_eq!(created, listed);
    }

    #[test]
    fn every_table_says_what_deletion_and_export_do() {
        for t in TABLES {
            assert!(!t.erase.is_empty(), "{}: what does deletion do?", t.name);
            if let Export::Not(why) = t.export {
                assert!(!why.is_empty(), "{}", t.name);
            }
        }
    }
}
