//! Statements as data, so one SQL text and one row decoder serve both
//! ways of reaching the database: sqlx (`Any`: PostgreSQL, and SQLite for
//! everything off the hot path) and the native SQLite path (`lite`).
//!
//! A [`Stmt`] is portable SQL with `$1..$n` placeholders and its arguments;
//! a row is read through [`Cells`], which both drivers' rows implement.

use std::borrow::Cow;

use kneepath_core::Day;
use rusqlite::types::{ToSqlOutput, Value};
use sqlx::Row;
use sqlx::any::{AnyArguments, AnyRow};

use crate::{Result, StoreError};

/// One argument of a statement. A NULL keeps its type: PostgreSQL checks
/// a parameter's type against its column even when it is NULL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    Bytes(Vec<u8>),
    NullText,
    NullInt,
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}

impl From<&crate::UserId> for Arg {
    fn from(id: &crate::UserId) -> Arg {
        Arg::Text(id.as_str().to_string())
    }
}

impl From<Option<&crate::UserId>> for Arg {
    fn from(v: Option<&crate::UserId>) -> Arg {
        v.map_or(Arg::NullText, Into::into)
    }
}

impl From<Vec<u8>> for Arg {
    fn from(b: Vec<u8>) -> Arg {
        Arg::Bytes(b)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Int(n)
    }
}

impl From<Day> for Arg {
    fn from(d: Day) -> Arg {
        Arg::Text(d.to_string())
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Arg {
        v.map_or(Arg::NullText, Into::into)
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        v.map_or(Arg::NullText, Into::into)
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        v.map_or(Arg::NullInt, Into::into)
    }
}

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Text(s) => ToSqlOutput::from(s.as_str()),
            Arg::Int(n) => ToSqlOutput::from(*n),
            Arg::Bytes(b) => ToSqlOutput::from(b.as_slice()),
            Arg::NullText | Arg::NullInt => ToSqlOutput::Owned(Value::Null),
        })
    }
}

/// The names of the first placeholders, so binding them allocates nothing
/// (the native path binds every argument of every statement it runs).
const PLACEHOLDERS: [&str; 12] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12",
];

/// What a statement must do for the write it is part of to go on; when it
/// changes no row, the write is refused as a whole (nothing of it stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Nothing in particular.
    Any,
    /// A guard (the plan's version): refused with
    /// [`StoreError::PlanChanged`].
    Guard,
    /// The row it changes must be there: refused with
    /// [`StoreError::NotFound`].
    Found,
}

/// A statement with its arguments (`$1` is `args[0]`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stmt {
    pub sql: Cow<'static, str>,
    pub args: Vec<Arg>,
    pub expect: Expect,
    /// The person whose caseload summary this statement changes, and how
    /// (see [`crate::summary`]).
    pub touch: Option<Box<(crate::UserId, crate::summary::Touch)>>,
}

impl Stmt {
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Stmt {
        Stmt {
            sql: sql.into(),
            args: Vec::new(),
            expect: Expect::Any,
            touch: None,
        }
    }

    /// A statement that runs no SQL and only marks `user`'s caseload
    /// summary for the write to bring up to date.
    pub fn touch_only(user: &crate::UserId, touch: crate::summary::Touch) -> Stmt {
        Stmt::new("").touching(user, touch)
    }

    /// Mark this statement as changing `user`'s caseload summary.
    pub fn touching(mut self, user: &crate::UserId, touch: crate::summary::Touch) -> Stmt {
        self.touch = Some(Box::new((user.clone(), touch)));
        self
    }

    /// Make this statement a guard ([`Expect::Guard`]).
    pub fn guarding(mut self) -> Stmt {
        self.expect = Expect::Guard;
        self
    }

    /// Refuse the write when this statement finds no row to change
    /// ([`Expect::Found`]).
    pub fn found(mut self) -> Stmt {
        self.expect = Expect::Found;
        self
    }

    /// What `rows` changed rows mean for this statement: one that had to
    /// change a row and changed none refuses the write it is part of.
    pub fn check(&self, rows: u64) -> Result<()> {
        match self.expect {
            _ if rows > 0 => Ok(()),
            Expect::Any => Ok(()),
            Expect::Guard => Err(StoreError::PlanChanged),
            Expect::Found => Err(StoreError::NotFound),
        }
    }

    pub fn arg(mut self, a: impl Into<Arg>) -> Stmt {
        self.args.push(a.into());
        self
    }

    /// As an sqlx query on the `Any` driver.
    pub fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, AnyArguments> {
        debug_assert!(!self.sql.is_empty(), "a mark-only statement sent to sqlx");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(&*self.sql));
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::Int(n) => q.bind(*n),
                Arg::Bytes(b) => q.bind(b.as_slice()),
                Arg::NullText => q.bind(None::<String>),
                Arg::NullInt => q.bind(None::<i64>),
            };
        }
        q
    }

    /// Prepare (cached) and bind on a native SQLite connection.
    pub fn prepare<'c>(
        &self,
        conn: &'c rusqlite::Connection,
    ) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
        debug_assert!(!self.sql.is_empty(), "a mark-only statement sent to SQLite");
        let mut st = conn.prepare_cached(&self.sql)?;
        for (i, a) in self.args.iter().enumerate() {
            // `$n` is a named parameter to SQLite; a statement may leave one
            // out or use it twice.
            let name = match PLACEHOLDERS.get(i) {
                Some(n) => Cow::Borrowed(*n),
                None => Cow::Owned(format!("${}", i + 1)),
            };
            if let Some(at) = st.parameter_index(&name)? {
                st.raw_bind_parameter(at, a)?;
            }
        }
        Ok(st)
    }

    /// Run on a native SQLite connection, returning the rows decoded.
    pub fn rows<T>(
        &self,
        conn: &rusqlite::Connection,
        decode: impl Fn(&NativeRow<'_, '_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut st = self.prepare(conn)?;
        let names: Vec<String> = st.column_names().into_iter().map(String::from).collect();
        let mut rows = st.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(decode(&NativeRow { row, names: &names })?);
        }
        Ok(out)
    }

    /// Execute on a native SQLite connection.
    pub fn execute(&self, conn: &rusqlite::Connection) -> Result<usize> {
        Ok(self.prepare(conn)?.raw_execute()?)
    }

    /// Execute as part of a write, refusing it when a guard changed nothing.
    pub fn run(&self, conn: &rusqlite::Connection) -> Result<()> {
        if self.sql.is_empty() {
            return Ok(());
        }
        let n = self.execute(conn)?;
        self.check(n as u64)
    }
}

/// Run one statement in an sqlx transaction, refusing the write when it
/// is a guard that changed nothing.
pub(crate) async fn exec_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>, stmt: &Stmt) -> Result<()> {
    if stmt.sql.is_empty() {
        return Ok(());
    }
    let done = stmt.query().execute(&mut **tx).await?;
    stmt.check(done.rows_affected())
}

/// A calendar day column.
pub(crate) fn day_of<R: Cells + ?Sized>(r: &R, col: &str) -> Result<Day> {
    r.day(col)
}

/// Reading a row's columns by name, whichever driver read it.
pub(crate) trait Cells {
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>>;

    fn day(&self, col: &str) -> Result<Day> {
        let s = self.text(col)?;
        s.parse()
            .map_err(|e| StoreError::Corrupt(format!("{col} \"{s}\": {e}")))
    }
}

impl Cells for AnyRow {
    fn text(&self, col: &str) -> Result<String> {
        Ok(self.try_get(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get(col)?)
    }
    fn int(&self, col: &str) -> Result<i64> {
        Ok(self.try_get(col)?)
    }
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.try_get(col)?)
    }
}

/// A native SQLite row with its statement's column names, read once per
/// statement. rusqlite finds a column by name by asking SQLite for each
/// column's name in turn, which a dashboard page (200 rows of ten columns,
/// each read by name) spent a tenth of its time on.
pub(crate) struct NativeRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    names: &'r [String],
}

impl NativeRow<'_, '_> {
    /// The column's index, matched as SQLite matches names: ASCII case
    /// does not count.
    fn at(&self, col: &str) -> Result<usize> {
        Ok(self
            .names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(col))
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(col.to_string()))?)
    }

    fn get<T: rusqlite::types::FromSql>(&self, col: &str) -> Result<T> {
        Ok(self.row.get(self.at(col)?)?)
    }
}

impl Cells for NativeRow<'_, '_> {
    fn text(&self, col: &str) -> Result<String> {
        self.get(col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        self.get(col)
    }
    fn int(&self, col: &str) -> Result<i64> {
        self.get(col)
    }
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>> {
        // A blob, or the bytes of a text (SQLite lets a column hold either).
        use rusqlite::types::ValueRef;
        let at = self.at(col)?;
        Ok(match self.row.get_ref(at)? {
            ValueRef::Blob(b) | ValueRef::Text(b) => Some(b.to_vec()),
            ValueRef::Null => None,
            ValueRef::Integer(_) | ValueRef::Real(_) => {
                return Err(StoreError::Corrupt(format!("{col}: a number, not bytes")));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_bind_by_number_even_when_repeated_or_reordered() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        let st = Stmt::new("SELECT $2 || '-' || $1 || '-' || $2 AS v, $3 AS n")
            .arg("a")
            .arg("b")
            .arg(None::<&str>);
        let got = st
            .rows(&conn, |r| Ok((r.text("v")?, r.opt_text("n")?)))
            .expect("rows");
        assert_eq!(got, vec![("b-a-b".to_string(), None)]);
    }

    #[test]
    fn columns_are_found_by_name_in_any_ascii_case_and_a_missing_one_is_named() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        let st = Stmt::new("SELECT 'x' AS Data, 2 AS n, NULL AS gone");
        let got = st
            .rows(&conn, |r| {
                Ok((r.text("data")?, r.int("N")?, r.opt_text("gone")?))
            })
            .expect("rows");
        assert_eq!(got, vec![("x".to_string(), 2, None)]);
        let err = st
            .rows(&conn, |r| r.text("nope"))
            .expect_err("no such column");
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
