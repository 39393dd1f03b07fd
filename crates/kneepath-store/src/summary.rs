//! Caseload rows: for each clinician and each person they look after, one
//! row (`caseload_rows`) with the person's [`CaseSummary`], which the
//! clinician's dashboard judges them by, and the person's fields the
//! dashboard shows (name, email, time zone). A dashboard page is then one
//! range of the table's primary key. Every write that changes what the
//! summary follows keeps the rows up to date in its own transaction.
//!
//! A statement that changes a check-in, an escalation, an assessment or a
//! phase carries the [`CaseEvent`] it makes ([`Stmt::touching`]). After a
//! write's statements ran, still in its transaction, the summary of each
//! person it touched is read (from any of their rows: all of them hold the
//! same), the events are folded in by the pure core, and every row of the
//! person is written back. A person nobody looks after has no row: only
//! the dashboard reads them, so their writes pay for two index lookups
//! that find nothing, not for a summary.
//!
//! Making or ending a link marks the person for a rebuild
//! ([`rebuild_stmt`]): their summary is rebuilt from their rows (the
//! newest check-ins and escalations it keeps, the newest assessment's
//! level and phase), a row is written for each clinician with an active
//! link and the rows of ended links are deleted ([`sync_stmts`]). A change
//! of the person's name, email or time zone copies them to their rows in
//! its own transaction ([`profile_stmt`]). Deleting an account deletes the
//! rows it is a side of.
//!
//! On PostgreSQL a write that touches summaries begins by locking the
//! `users` rows of the people it touches, in the order of their ids
//! ([`lock_in`]; the row the plan's version lives in, which a check-in
//! updates anyway), so the writers of one person, links among them, take
//! turns. (An account deletion takes the person's own row first; see
//! [`crate::Store::delete_user`].)
//!
//! The summary is stored in a compact binary form ([`encode`]): a format
//! byte, then the summary in `postcard`'s encoding, a third of its JSON's
//! size and read four times as fast (200 are read for every dashboard
//! page). A row in a format this program does not read is rebuilt.
//!
//! Derived data: backups leave the table out and a restore rebuilds it
//! ([`crate::Store::rebuild_summaries`]), as every start does. A property
//! test in `kneepath_core::caseload` shows that the folded summary judges
//! as the whole record does; the journeys test checks the stored summary
//! against a rebuild after every step, and the store's tests check each
//! clinician's rows and the copied fields.

use kneepath_core::TriageLevel;
use kneepath_core::caseload::{CaseEvent, CaseSummary, KEPT_DAYS};
use kneepath_core::checkin::CheckIn;
use kneepath_core::clinic::DaySignal;
use kneepath_core::progress::Escalation;

use crate::sql::{Cells, Stmt, day_of};
use crate::{Backend, Result, UserId, corrupt, now_rfc3339};

/// The stored form's first byte. Bump it when the encoding of
/// [`CaseSummary`] changes (a test pins it): rows of another format are
/// rebuilt at the next start, and until then read from the records.
const FORMAT: u8 = 1;

/// A summary in its stored form.
pub(crate) fn encode(summary: &CaseSummary) -> Result<Vec<u8>> {
    let mut out = vec![FORMAT];
    out.extend(postcard::to_allocvec(summary).map_err(corrupt)?);
    Ok(out)
}

/// A stored summary; `None` when it is not one this program reads (another
/// format, or damaged): derived data is rebuilt rather than refused.
pub(crate) fn decode(stored: &[u8]) -> Option<CaseSummary> {
    match stored.split_first() {
        Some((&FORMAT, rest)) => match postcard::take_from_bytes::<CaseSummary>(rest) {
            Ok((summary, [])) => Some(summary),
            _ => None,
        },
        _ => None,
    }
}

/// What a statement does to a person's summary.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Touch {
    /// A change the summary folds in.
    Event(CaseEvent),
    /// Rebuild it from the person's rows.
    Rebuild,
}

/// The people a write's statements touch, each with their touches in
/// statement order.
pub(crate) fn touched(stmts: &[Stmt]) -> Vec<(&UserId, Vec<&Touch>)> {
    let mut out: Vec<(&UserId, Vec<&Touch>)> = Vec::new();
    for (user, touch) in stmts.iter().filter_map(|s| s.touch.as_deref()) {
        match out.iter_mut().find(|(u, _)| *u == user) {
            Some((_, ts)) => ts.push(touch),
            None => out.push((user, vec![touch])),
        }
    }
    out
}

/// A statement that runs no SQL and has the write rebuild the person's
/// rows: one for each clinician who looks after them, with their summary
/// rebuilt from their records (none when nobody does).
pub(crate) fn rebuild_stmt(user: &UserId) -> Stmt {
    Stmt::touch_only(user, Touch::Rebuild)
}

/// The person's stored summary (every row of theirs holds the same).
pub(crate) fn current_stmt(user: &UserId) -> Stmt {
    Stmt::new("SELECT data FROM caseload_rows WHERE patient_id = $1 LIMIT 1").arg(user)
}

/// Deletes the rows whose link has ended (a condition may follow).
const DELETE_ENDED: &str = "DELETE FROM caseload_rows WHERE NOT EXISTS (\
     SELECT 1 FROM care_links l WHERE l.patient_id = caseload_rows.patient_id \
     AND l.clinician_id = caseload_rows.clinician_id AND l.revoked_at IS NULL)";

/// Copies the patients' name, email and time zone to their rows (a
/// condition may follow).
const COPY_PROFILE: &str = "UPDATE caseload_rows SET display_name = u.display_name, \
     email = u.email, time_zone = u.time_zone FROM users u WHERE u.id = caseload_rows.patient_id";

/// Copy the person's name, email and time zone to their rows (in the
/// transaction that changes them).
pub(crate) fn profile_stmt(user: &UserId) -> Stmt {
    Stmt::new(format!("{COPY_PROFILE} AND caseload_rows.patient_id = $1")).arg(user)
}

/// What every start does to the rows before it rebuilds missing ones:
/// delete those of ended links, and copy the patients' fields where they
/// differ.
pub(crate) fn at_rest_stmts() -> [Stmt; 2] {
    [
        Stmt::new(DELETE_ENDED),
        Stmt::new(format!(
            "{COPY_PROFILE} AND (caseload_rows.display_name <> u.display_name \
             OR caseload_rows.email <> u.email OR caseload_rows.time_zone IS DISTINCT FROM u.time_zone)"
        )),
    ]
}

/// Lock the person's `users` row for the rest of the transaction (on
/// PostgreSQL; see the module's documentation).
fn lock_stmt(user: &UserId) -> Stmt {
    Stmt::new("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE").arg(user)
}

/// On PostgreSQL, lock the `users` rows of `people` in the order of their
/// ids, before the transaction writes anything else: writers that touch
/// the same people then take turns without waiting on each other in a
/// circle. (SQLite writes one at a time and needs none: nothing is done.)
pub(crate) async fn lock_in<'u>(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    people: impl IntoIterator<Item = &'u UserId>,
) -> Result<()> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    let mut people: Vec<&UserId> = people.into_iter().collect();
    people.sort_unstable();
    people.dedup();
    for user in people {
        lock_stmt(user).query().execute(&mut **tx).await?;
    }
    Ok(())
}

/// [`lock_in`] for the people `stmts` touch.
pub(crate) async fn lock_touched_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    stmts: &[Stmt],
) -> Result<()> {
    lock_in(
        tx,
        backend,
        touched(stmts).into_iter().map(|(user, _)| user),
    )
    .await
}

/// A row when a clinician looks after the person.
fn linked_stmt(user: &UserId) -> Stmt {
    Stmt::new(
        "SELECT patient_id FROM care_links WHERE patient_id = $1 AND revoked_at IS NULL LIMIT 1",
    )
    .arg(user)
}

fn delete_stmt(user: &UserId) -> Stmt {
    Stmt::new("DELETE FROM caseload_rows WHERE patient_id = $1").arg(user)
}

/// The summary after `touches`, from the stored one; `None` when it must
/// be rebuilt from the rows instead (none stored, or one this program
/// cannot read: derived data is rebuilt rather than refused).
pub(crate) fn folded(current: Option<Vec<u8>>, touches: &[&Touch]) -> Result<Option<CaseSummary>> {
    let Some(mut summary) = current.as_deref().and_then(decode) else {
        return Ok(None);
    };
    for t in touches {
        match t {
            Touch::Event(e) => summary.apply(e),
            Touch::Rebuild => return Ok(None),
        }
    }
    Ok(Some(summary))
}

/// The reads a rebuild needs, each one index range: the newest check-ins
/// (one a day, so the kept days hold at most `KEPT_DAYS + 1`), the newest
/// distinct escalations (at most one of each kind a day), the newest
/// assessment's level and the newest phase.
pub(crate) fn window_stmts(user: &UserId) -> [Stmt; 4] {
    let days = KEPT_DAYS + 1;
    let kinds = Escalation::ALL.len() as i32;
    [
        Stmt::new(format!(
            "SELECT day, data FROM checkins WHERE user_id = $1 ORDER BY day DESC LIMIT {days}"
        ))
        .arg(user),
        Stmt::new(format!(
            "SELECT DISTINCT day, kind FROM escalations WHERE user_id = $1 ORDER BY day DESC LIMIT {}",
            days * kinds
        ))
        .arg(user),
        Stmt::new(
            "SELECT level FROM assessments WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .arg(user),
        Stmt::new(
            "SELECT to_phase FROM phase_changes WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .arg(user),
    ]
}

pub(crate) fn checkin_event<R: Cells + ?Sized>(r: &R) -> Result<CaseEvent> {
    let c: CheckIn = serde_json::from_str(&r.text("data")?).map_err(corrupt)?;
    Ok(CaseEvent::CheckedIn(DaySignal::of(&c)))
}

pub(crate) fn escalation_event<R: Cells + ?Sized>(r: &R) -> Result<CaseEvent> {
    Ok(CaseEvent::Escalated(
        day_of(r, "day")?,
        crate::checkins::escalation_of(r)?,
    ))
}

pub(crate) fn level_event<R: Cells + ?Sized>(r: &R) -> Result<CaseEvent> {
    let level = r.text("level")?;
    TriageLevel::parse(&level)
        .map(CaseEvent::Assessed)
        .ok_or_else(|| corrupt(format!("assessment level {level}")))
}

pub(crate) fn phase_event<R: Cells + ?Sized>(r: &R) -> Result<CaseEvent> {
    Ok(CaseEvent::InPhase(r.text("to_phase")?))
}

/// Write the person's summary into each of their rows.
fn update_stmt(user: &UserId, summary: &CaseSummary) -> Result<Stmt> {
    Ok(
        Stmt::new("UPDATE caseload_rows SET data = $2, updated_at = $3 WHERE patient_id = $1")
            .arg(user)
            .arg(encode(summary)?)
            .arg(now_rfc3339()),
    )
}

/// Make the person's rows those of their active links, each holding
/// `summary` and their fields as they are now: the rows of ended links
/// deleted, a row written for every clinician who looks after them (two
/// active links to one clinician make one row).
pub(crate) fn sync_stmts(user: &UserId, summary: &CaseSummary) -> Result<[Stmt; 2]> {
    Ok([
        Stmt::new(format!("{DELETE_ENDED} AND patient_id = $1")).arg(user),
        Stmt::new(
            "INSERT INTO caseload_rows (clinician_id, patient_id, display_name, email, time_zone, data, updated_at) \
             SELECT DISTINCT l.clinician_id, l.patient_id, u.display_name, u.email, u.time_zone, $2, $3 \
             FROM care_links l JOIN users u ON u.id = l.patient_id \
             WHERE l.patient_id = $1 AND l.revoked_at IS NULL \
             ON CONFLICT (clinician_id, patient_id) DO UPDATE SET display_name = excluded.display_name, \
             email = excluded.email, time_zone = excluded.time_zone, data = excluded.data, \
             updated_at = excluded.updated_at",
        )
        .arg(user)
        .arg(encode(summary)?)
        .arg(now_rfc3339()),
    ])
}

/// What to do with a person's rows after a write touched them.
enum Outcome {
    /// Write the folded summary into the rows there are.
    Update(CaseSummary),
    /// Rebuilt: make the rows those of the active links ([`sync_stmts`]).
    Sync(CaseSummary),
    /// Delete the rows: nobody looks after the person any more.
    Delete,
    /// No row, and none needed.
    Nothing,
}

impl Outcome {
    fn stmts(&self, user: &UserId) -> Result<Vec<Stmt>> {
        Ok(match self {
            Outcome::Update(summary) => vec![update_stmt(user, summary)?],
            Outcome::Sync(summary) => sync_stmts(user, summary)?.into(),
            Outcome::Delete => vec![delete_stmt(user)],
            Outcome::Nothing => Vec::new(),
        })
    }
}

/// Bring the rows of the people a write touched up to date, on the
/// native SQLite connection, inside the write's transaction.
pub(crate) fn refresh_native(conn: &rusqlite::Connection, stmts: &[Stmt]) -> Result<()> {
    for (user, touches) in touched(stmts) {
        let current = current_stmt(user)
            .rows(conn, |r| r.opt_bytes("data"))?
            .pop()
            .flatten();
        let stored = current.is_some();
        let outcome = match folded(current, &touches)? {
            Some(summary) => Outcome::Update(summary),
            None => {
                let linked = !linked_stmt(user).rows(conn, |_| Ok(()))?.is_empty();
                match (linked, stored) {
                    (true, _) => {
                        let [c, e, a, p] = window_stmts(user);
                        let mut events = c.rows(conn, |r| checkin_event(r))?;
                        events.extend(e.rows(conn, |r| escalation_event(r))?);
                        events.extend(a.rows(conn, |r| level_event(r))?);
                        events.extend(p.rows(conn, |r| phase_event(r))?);
                        Outcome::Sync(CaseSummary::of(&events))
                    }
                    (false, true) => Outcome::Delete,
                    (false, false) => Outcome::Nothing,
                }
            }
        };
        for st in outcome.stmts(user)? {
            st.run(conn)?;
        }
    }
    Ok(())
}

/// [`refresh_native`] in an sqlx transaction. On PostgreSQL the caller
/// has locked the people `stmts` touch ([`lock_in`]) when it began.
pub(crate) async fn refresh_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    stmts: &[Stmt],
) -> Result<()> {
    for (user, touches) in touched(stmts) {
        let current = match current_stmt(user).query().fetch_optional(&mut **tx).await? {
            Some(r) => r.opt_bytes("data")?,
            None => None,
        };
        let stored = current.is_some();
        let outcome = match folded(current, &touches)? {
            Some(summary) => Outcome::Update(summary),
            None => {
                let linked = linked_stmt(user)
                    .query()
                    .fetch_optional(&mut **tx)
                    .await?
                    .is_some();
                match (linked, stored) {
                    (true, _) => Outcome::Sync(rebuild_in(tx, user).await?),
                    (false, true) => Outcome::Delete,
                    (false, false) => Outcome::Nothing,
                }
            }
        };
        for st in outcome.stmts(user)? {
            crate::sql::exec_in(tx, &st).await?;
        }
    }
    Ok(())
}

/// A person's summary rebuilt from their rows, in an sqlx transaction.
pub(crate) async fn rebuild_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &UserId,
) -> Result<CaseSummary> {
    let [c, e, a, p] = window_stmts(user);
    let mut events = Vec::new();
    for r in c.query().fetch_all(&mut **tx).await? {
        events.push(checkin_event(&r)?);
    }
    for r in e.query().fetch_all(&mut **tx).await? {
        events.push(escalation_event(&r)?);
    }
    for r in a.query().fetch_all(&mut **tx).await? {
        events.push(level_event(&r)?);
    }
    for r in p.query().fetch_all(&mut **tx).await? {
        events.push(phase_event(&r)?);
    }
    Ok(CaseSummary::of(&events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kneepath_core::Day;
    use kneepath_core::caseload::EscalationKind;

    fn sample(level: TriageLevel) -> CaseSummary {
        let signal = |day, pain, planned, done, warning| DaySignal {
            day: Day(day),
            pain,
            planned,
            done,
            warning,
        };
        CaseSummary {
            last_checkin: Some(Day(20_001)),
            days: vec![
                signal(20_000, 4, 3, 2, false),
                signal(20_001, 7, 300, 0, true),
            ],
            escalations: Escalation::ALL
                .iter()
                .map(|e| (Day(20_001), EscalationKind(*e)))
                .collect(),
            level: Some(level),
            phase: Some("return".to_string()),
        }
    }

    // The format byte, the newest check-in's day, two days, three
    // escalations and the level's tag (then the level itself: its place).
    const PINNED_HEAD: &str = "01010a323032342d31302d303502c0b80204030200c2b80207ac020001030a323032342d31302d30350e6e6f5f696d70726f76656d656e740a323032342d31302d303509776f7273656e696e670a323032342d31302d30350e706f6c6963795f6368616e67656401";
    // The phase.
    const PINNED_TAIL: &str = "010672657475726e";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn every_summary_reads_back_as_written() {
        let mut all: Vec<CaseSummary> = TriageLevel::ALL.iter().map(|l| sample(*l)).collect();
        all.push(CaseSummary::default());
        for s in all {
            assert_eq!(decode(&encode(&s).expect("encode")), Some(s));
        }
    }

    /// The stored bytes are pinned, a level by its place in
    /// `TriageLevel`: a change to how a summary is encoded fails here
    /// first. Bump [`FORMAT`] then, so stored rows are rebuilt rather
    /// than misread, and write the new bytes here.
    #[test]
    fn the_stored_form_is_pinned() {
        let levels = ["ambulance", "emergency", "urgent", "routine", "self_care"];
        for (at, name) in levels.iter().enumerate() {
            let level = TriageLevel::parse(name).expect("a level");
            assert_eq!(
                hex(&encode(&sample(level)).expect("encode")),
                format!("{PINNED_HEAD}{at:02x}{PINNED_TAIL}"),
                "{name}"
            );
        }
    }

    #[test]
    fn other_formats_and_damage_read_as_nothing() {
        let good = encode(&sample(TriageLevel::Routine)).expect("encode");
        let mut other = good.clone();
        other[0] = FORMAT + 1;
        let mut longer = good.clone();
        longer.push(0);
        for bad in [
            &[][..],
            &other[..],
            &longer[..],
            &good[..good.len() - 1],
            br#"{"last_checkin":null,"days":[],"escalations":[],"level":null,"phase":null}"#,
        ] {
            assert_eq!(decode(bad), None, "{}", hex(bad));
        }
    }
}
