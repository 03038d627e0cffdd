//! Read-only SQL over the session index, for `agent-strace sql`: one statement, refused
//! before it runs when it would write.

use rusqlite::{Connection, OpenFlags};

use super::Store;
use super::index::{BUSY_TIMEOUT, Index, IndexError, register_functions};

/// A read-only connection to the index for `agent-strace sql`.
pub struct SqlReader {
    conn: Connection,
}

/// Why a query was not run.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("`sql` runs queries that only read; this statement would change the index")]
    Writes,
    #[error("{0}")]
    Sql(rusqlite::Error),
}

/// A query's result: column names and rows of values.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// One value of a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl SqlReader {
    /// Opens the store's index read-only (refreshed by `index`, which stays open meanwhile).
    pub fn open(store: &Store, index: &Index) -> Result<SqlReader, IndexError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let sql = |source| IndexError::Sqlite {
            path: index.path().to_path_buf(),
            source,
        };
        let mut conn = Connection::open_with_flags(index.path(), flags).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        conn.pragma_update(None, "query_only", true).map_err(sql)?;
        register_functions(&conn, store.root()).map_err(sql)?;
        // Attaching another file could create it; nothing a reading query needs.
        conn.authorizer(Some(|ctx: rusqlite::hooks::AuthContext<'_>| {
            use rusqlite::hooks::{AuthAction, Authorization};
            match ctx.action {
                AuthAction::Attach { .. } | AuthAction::Detach { .. } => Authorization::Deny,
                _ => Authorization::Allow,
            }
        }))
        .map_err(sql)?;
        Ok(SqlReader { conn })
    }

    /// Runs one statement that only reads.
    pub fn query(&self, sql: &str) -> Result<QueryResult, QueryError> {
        let mut stmt = self.conn.prepare(sql).map_err(QueryError::Sql)?;
        if !stmt.readonly() {
            return Err(QueryError::Writes);
        }
        let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let width = columns.len();
        let mut rows = Vec::new();
        let mut result = stmt.query([]).map_err(QueryError::Sql)?;
        while let Some(row) = result.next().map_err(writes_or)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                use rusqlite::types::ValueRef;
                values.push(match row.get_ref(i).map_err(QueryError::Sql)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Integer(n),
                    ValueRef::Real(x) => Value::Real(x),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            rows.push(values);
        }
        Ok(QueryResult { columns, rows })
    }
}

/// A statement that tried to write is refused whichever way SQLite caught it.
fn writes_or(e: rusqlite::Error) -> QueryError {
    match e.sqlite_error_code() {
        Some(
            rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::AuthorizationForStatementDenied,
        ) => QueryError::Writes,
        _ => QueryError::Sql(e),
    }
}
