//! Read-only SQL over the session index, for `agent-strace sql`: one statement, refused
//! before it runs when it would write; over one store's index, or over the indexes of several
//! stores gathered into one in-memory database ([`SqlReader::gather`]).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

use super::Store;
use super::index::{
    BUSY_TIMEOUT, GATHERED_SHIFT, Index, IndexError, SCHEMA, distrust_schema, register_functions,
    register_gathered_functions,
};

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
        let conn = match index.memory_uri() {
            Some(uri) => Connection::open_with_flags(
                uri,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
            None => Connection::open_with_flags(index.path(), flags),
        }
        .map_err(sql)?;
        distrust_schema(&conn).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        conn.pragma_update(None, "query_only", true).map_err(sql)?;
        register_functions(&conn, store.root()).map_err(sql)?;
        let mut reader = SqlReader { conn };
        reader.seal().map_err(sql)?;
        Ok(reader)
    }

    /// The indexes of several stores (each refreshed by its `Index`, open meanwhile), gathered
    /// into one in-memory database for `query`: the same views, each with a `project` column
    /// first (the folder given with its store). Only the tables `query` reads are copied, each
    /// store's index attached read-only in turn. A store of no project has a NULL project.
    pub fn gather(
        sources: &[(&Store, &Index, Option<String>)],
        query: &str,
    ) -> Result<SqlReader, GatherError> {
        let memory = PathBuf::from(":memory:");
        let sql = |source| {
            GatherError::Index(IndexError::Sqlite {
                path: memory.clone(),
                source,
            })
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_in_memory_with_flags(flags).map_err(sql)?;
        distrust_schema(&conn).map_err(sql)?;
        conn.execute_batch(&gathered_schema()).map_err(sql)?;
        register_gathered_functions(
            &conn,
            sources
                .iter()
                .map(|(s, _, _)| s.root().to_path_buf())
                .collect(),
        )
        .map_err(sql)?;
        let tables = tables_read(&mut conn, query)?;
        for (n, (store, index, project)) in sources.iter().enumerate() {
            let number = i64::try_from(n).unwrap_or(i64::MAX);
            conn.execute(
                "INSERT INTO idx_projects (store_number, project, store) VALUES (?1, ?2, ?3)",
                rusqlite::params![number, project, store.root().to_string_lossy()],
            )
            .map_err(sql)?;
            copy_tables(&conn, index, number << GATHERED_SHIFT, &tables).map_err(|source| {
                GatherError::Index(IndexError::Sqlite {
                    path: index.path().to_path_buf(),
                    source,
                })
            })?;
        }
        conn.pragma_update(None, "query_only", true).map_err(sql)?;
        let mut reader = SqlReader { conn };
        reader.seal().map_err(sql)?;
        Ok(reader)
    }

    /// No other file may be attached: nothing a reading query needs, and attaching could
    /// create one.
    fn seal(&mut self) -> rusqlite::Result<()> {
        self.conn
            .authorizer(Some(|ctx: rusqlite::hooks::AuthContext<'_>| {
                use rusqlite::hooks::{AuthAction, Authorization};
                match ctx.action {
                    AuthAction::Attach { .. } | AuthAction::Detach { .. } => Authorization::Deny,
                    _ => Authorization::Allow,
                }
            }))
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

/// Why several stores' indexes could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    /// The query itself is refused or fails to prepare.
    #[error(transparent)]
    Query(QueryError),
    #[error(transparent)]
    Index(IndexError),
}

/// The index's tables, and its views each with `project` first: the store a row came from,
/// found by its `sid` (see [`GATHERED_SHIFT`]); `event_json` takes the `sid` too, to read the
/// right store's files.
fn gathered_schema() -> String {
    let project = format!(
        "(SELECT project FROM idx_projects WHERE store_number = sid >> {GATHERED_SHIFT}) AS project,"
    );
    let mut schema = SCHEMA
        .replace("event_json(", "event_json(sid, ")
        .replace(" AS SELECT", &format!(" AS SELECT {project}"));
    schema.push_str(
        "CREATE TABLE idx_projects (store_number INTEGER PRIMARY KEY, project TEXT, store TEXT);",
    );
    schema
}

/// The `idx_` tables `query` reads (through the views), found by preparing it on the empty
/// gathered schema; a query that would write is refused here, before anything is copied.
fn tables_read(conn: &mut Connection, query: &str) -> Result<BTreeSet<String>, GatherError> {
    let read = Arc::new(Mutex::new(BTreeSet::new()));
    let seen = Arc::clone(&read);
    let auth = |e| GatherError::Query(QueryError::Sql(e));
    conn.authorizer(Some(move |ctx: rusqlite::hooks::AuthContext<'_>| {
        use rusqlite::hooks::{AuthAction, Authorization};
        if let AuthAction::Read { table_name, .. } = ctx.action
            && table_name.starts_with("idx_")
            && table_name != "idx_projects"
            && let Ok(mut seen) = seen.lock()
        {
            seen.insert(table_name.to_owned());
        }
        Authorization::Allow
    }))
    .map_err(auth)?;
    let prepared = conn.prepare(query).map(|stmt| stmt.readonly());
    conn.authorizer(None::<fn(rusqlite::hooks::AuthContext<'_>) -> rusqlite::hooks::Authorization>)
        .map_err(auth)?;
    match prepared {
        Ok(true) => {}
        Ok(false) => return Err(GatherError::Query(QueryError::Writes)),
        Err(e) => return Err(GatherError::Query(QueryError::Sql(e))),
    }
    let tables = read.lock().map(|t| t.clone()).unwrap_or_default();
    Ok(tables)
}

/// Copies `tables` of `index` into the gathered database, every `sid` moved up by `offset`.
fn copy_tables(
    conn: &Connection,
    index: &Index,
    offset: i64,
    tables: &BTreeSet<String>,
) -> rusqlite::Result<()> {
    conn.execute("ATTACH DATABASE ?1 AS src", [attach_uri(index)])?;
    let copied = (|| {
        for table in tables {
            let columns: Vec<String> = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let select: Vec<String> = columns
                .iter()
                .map(|c| {
                    if c == "sid" {
                        format!("sid + {offset}")
                    } else {
                        format!("\"{c}\"")
                    }
                })
                .collect();
            let names: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
            conn.execute_batch(&format!(
                "INSERT INTO main.{table} ({}) SELECT {} FROM src.{table}",
                names.join(", "),
                select.join(", ")
            ))?;
        }
        Ok(())
    })();
    let detached = conn.execute_batch("DETACH DATABASE src");
    copied.and(detached)
}

/// The URI `index` is attached by: its file, read-only whatever the attaching connection may
/// do, or the shared memory it was built in.
fn attach_uri(index: &Index) -> String {
    if let Some(memory) = index.memory_uri() {
        return memory.to_owned();
    }
    let mut uri = String::from("file:");
    for c in index.path().to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3F"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?mode=ro");
    uri
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
