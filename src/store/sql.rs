//! Read-only SQL over the session index, for `agent-strace sql`: one statement, refused
//! before it runs when it would write (the authorizer says what it refused and why); over one
//! store's index, or over the indexes of several stores gathered into one in-memory database
//! ([`SqlReader::gather`]). Rows are handed over one at a time ([`Query::rows`]), never
//! gathered: a query may return more than memory holds, or never stop. What SQLite itself holds
//! for a query (a sort, a `group_concat`, the `DISTINCT` of a recursive query) stays in memory,
//! never in temporary files that could fill the disk other sessions are recorded on, within a
//! limit ([`MemoryLimit`]) past which the query fails; and within a time ([`SqlReader::time_limit`],
//! counted while SQLite works, not while the rows are written out) past which it is interrupted.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::Store;
use super::index::{
    BUSY_TIMEOUT, GATHERED_SHIFT, Index, IndexError, SCHEMA, distrust_schema, register_functions,
    register_gathered_functions,
};

/// How much memory SQLite may use in this process while `sql` runs (the refreshed index's and,
/// with several stores, the tables copied from each included), in MiB. SQLite's limit is for
/// the whole process, and can only be lowered once set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimit(u64);

impl MemoryLimit {
    pub fn mib(mib: u64) -> MemoryLimit {
        MemoryLimit(mib.max(1))
    }

    pub fn in_mib(self) -> u64 {
        self.0
    }

    /// Keeps what the connection's queries hold in memory, and limits it.
    fn apply(self, conn: &Connection) -> rusqlite::Result<()> {
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let bytes = i64::try_from(self.0.saturating_mul(1 << 20)).unwrap_or(i64::MAX);
        conn.query_row(&format!("PRAGMA hard_heap_limit = {bytes}"), [], |_| Ok(()))
    }

    /// The error a failure is, when it is SQLite out of memory.
    fn or(self, e: rusqlite::Error) -> QueryError {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::OutOfMemory) {
            QueryError::Memory(self)
        } else {
            QueryError::Sql(e)
        }
    }
}

/// A read-only connection to the index for `agent-strace sql`.
pub struct SqlReader {
    conn: Connection,
    limit: MemoryLimit,
    /// What the authorizer saw of the statement last prepared.
    auth: Arc<Mutex<Auth>>,
    /// The time the query has taken, read by SQLite's progress handler.
    clock: Arc<Mutex<Clock>>,
}

/// How long SQLite has worked on the query: only while a row is being made, so that a reader
/// of the output that pauses (a pager) does not use up the query's time.
#[derive(Debug, Default)]
struct Clock {
    limit: Option<Duration>,
    spent: Duration,
    since: Option<Instant>,
}

impl Clock {
    fn start(&mut self) {
        self.since = Some(Instant::now());
    }

    fn stop(&mut self) {
        if let Some(since) = self.since.take() {
            self.spent += since.elapsed();
        }
    }

    fn over(&self) -> bool {
        self.limit.is_some_and(|limit| {
            self.spent + self.since.map_or(Duration::ZERO, |s| s.elapsed()) > limit
        })
    }
}

/// How many of SQLite's virtual machine steps pass between looks at the clock: a look costs
/// tens of nanoseconds, these steps a few microseconds.
const STEPS_PER_LOOK: i32 = 1000;

/// What the authorizer saw while a statement was prepared: why it refused it, and whether it
/// is a PRAGMA that only reads.
#[derive(Debug, Default)]
struct Auth {
    refused: Option<String>,
    pragma_read: bool,
}

/// Why a query was not run.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("`sql` runs queries that only read; this statement would change the index")]
    Writes,
    /// Refused before it ran, for the reason given.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Sql(rusqlite::Error),
    /// The query ran longer than the time it was given.
    #[error(
        "the query ran longer than the {} s `sql` gives it (one over many rows, or one that \
         never ends) and was stopped", .0.as_secs_f64()
    )]
    Timeout(Duration),
    /// SQLite needed more memory than the limit allows.
    #[error(
        "the query needs more than the {} MiB of memory `sql` lets it use (a sort or \
         aggregate over too many rows, or one that never ends)", .0.in_mib()
    )]
    Memory(MemoryLimit),
    /// The rows could not be written out.
    #[error(transparent)]
    Output(std::io::Error),
}

/// One value of a row, as SQLite holds it while the row is read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Integer(i64),
    Real(f64),
    /// Text as stored: UTF-8, unless someone stored otherwise.
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl<'a> From<rusqlite::types::ValueRef<'a>> for Value<'a> {
    fn from(value: rusqlite::types::ValueRef<'a>) -> Self {
        use rusqlite::types::ValueRef;
        match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Integer(n),
            ValueRef::Real(x) => Value::Real(x),
            ValueRef::Text(t) => Value::Text(t),
            ValueRef::Blob(b) => Value::Blob(b),
        }
    }
}

/// A statement ready to run: its column names, then its rows one at a time, never all at
/// once (a query may return more rows than memory holds, or never stop).
pub struct Query<'c> {
    stmt: rusqlite::Statement<'c>,
    limit: MemoryLimit,
    columns: Vec<String>,
    clock: Arc<Mutex<Clock>>,
}

impl Query<'_> {
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Runs the statement, handing each row's values to `each` until it says to stop (returns
    /// false) or the rows end.
    pub fn rows(
        &mut self,
        mut each: impl FnMut(&[Value<'_>]) -> std::io::Result<bool>,
    ) -> Result<(), QueryError> {
        let width = self.columns.len();
        let limit = self.limit;
        let clock = Arc::clone(&self.clock);
        let timed = |on: bool| {
            if let Ok(mut clock) = clock.lock() {
                if on { clock.start() } else { clock.stop() }
            }
        };
        let failed = |e: rusqlite::Error| match clock.lock() {
            Ok(clock) if clock.over() => QueryError::Timeout(clock.limit.unwrap_or_default()),
            _ => writes_or(e, limit),
        };
        let mut rows = self.stmt.query([]).map_err(|e| limit.or(e))?;
        loop {
            timed(true);
            let next = rows.next();
            timed(false);
            let Some(row) = next.map_err(failed)? else {
                break;
            };
            let values = (0..width)
                .map(|i| row.get_ref(i).map(Value::from))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(QueryError::Sql)?;
            if !each(&values).map_err(QueryError::Output)? {
                break;
            }
        }
        Ok(())
    }
}

/// Pragmas whose argument names what to read (`PRAGMA table_info(idx_events)`), not a value
/// to set.
const READING_PRAGMAS: &[&str] = &[
    "foreign_key_check",
    "foreign_key_list",
    "index_info",
    "index_list",
    "index_xinfo",
    "integrity_check",
    "quick_check",
    "table_info",
    "table_list",
    "table_xinfo",
];

/// Pragmas that, given no value, only report a setting or a fact (SQLite's pragma list less
/// those that act when named alone: `optimize`, `wal_checkpoint`, `shrink_memory`,
/// `incremental_vacuum`, and any added to SQLite later, which are refused until listed here).
const REPORTING_PRAGMAS: &[&str] = &[
    "analysis_limit",
    "application_id",
    "auto_vacuum",
    "automatic_index",
    "busy_timeout",
    "cache_size",
    "cache_spill",
    "cell_size_check",
    "checkpoint_fullfsync",
    "collation_list",
    "compile_options",
    "count_changes",
    "data_version",
    "database_list",
    "default_cache_size",
    "defer_foreign_keys",
    "empty_result_callbacks",
    "encoding",
    "foreign_keys",
    "freelist_count",
    "full_column_names",
    "fullfsync",
    "function_list",
    "hard_heap_limit",
    "ignore_check_constraints",
    "journal_mode",
    "journal_size_limit",
    "legacy_alter_table",
    "legacy_file_format",
    "locking_mode",
    "max_page_count",
    "mmap_size",
    "module_list",
    "page_count",
    "page_size",
    "pragma_list",
    "query_only",
    "read_uncommitted",
    "recursive_triggers",
    "reverse_unordered_selects",
    "schema_version",
    "secure_delete",
    "short_column_names",
    "soft_heap_limit",
    "stats",
    "synchronous",
    "temp_store",
    "temp_store_directory",
    "threads",
    "trusted_schema",
    "user_version",
    "wal_autocheckpoint",
    "writable_schema",
];

/// Why `sql` refuses an action a statement would take, in words for the user; `None` when it
/// may. Records a PRAGMA that only reads in `auth`.
fn refusal(action: &rusqlite::hooks::AuthAction<'_>, auth: &mut Auth) -> Option<String> {
    use rusqlite::hooks::AuthAction;
    match *action {
        AuthAction::Attach { .. } => Some(
            "ATTACH is refused: `sql` reads the session index alone, and attaching a file \
             could create it"
                .to_owned(),
        ),
        AuthAction::Detach { .. } => {
            Some("DETACH is refused: `sql` attaches nothing to detach".to_owned())
        }
        AuthAction::Function { function_name }
            if function_name.eq_ignore_ascii_case("load_extension") =>
        {
            Some("load_extension() is refused: `sql` never loads code into SQLite".to_owned())
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value: Some(value),
        } if !READING_PRAGMAS.contains(&pragma_name.to_ascii_lowercase().as_str()) => {
            Some(format!(
                "PRAGMA {pragma_name} = {value} is refused: `sql` runs queries that only read, \
                 and this would set something"
            ))
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value: None,
        } if !READING_PRAGMAS.contains(&pragma_name.to_ascii_lowercase().as_str())
            && !REPORTING_PRAGMAS.contains(&pragma_name.to_ascii_lowercase().as_str()) =>
        {
            Some(format!(
                "PRAGMA {pragma_name} is refused: `sql` runs queries that only read, and this \
                 one acts on the index or the connection"
            ))
        }
        AuthAction::Pragma { .. } => {
            auth.pragma_read = true;
            None
        }
        // Harmless on a connection that cannot write, but a statement that reads nothing: a
        // script fed to `sql` should learn at once that it is not run as a transaction.
        AuthAction::Transaction { operation } => Some(format!(
            "{} is refused: `sql` runs one statement that only reads, with no transaction to \
             begin or end",
            transaction_word(operation)
        )),
        AuthAction::Savepoint { operation, .. } => Some(format!(
            "{} is refused: `sql` runs one statement that only reads, with no transaction to \
             save or roll back",
            savepoint_word(operation)
        )),
        _ => None,
    }
}

fn transaction_word(operation: rusqlite::hooks::TransactionOperation) -> &'static str {
    use rusqlite::hooks::TransactionOperation;
    match operation {
        TransactionOperation::Begin => "BEGIN",
        TransactionOperation::Rollback => "ROLLBACK",
        // rusqlite names SQLite's "COMMIT" (END too) no operation of its own.
        _ => "COMMIT",
    }
}

fn savepoint_word(operation: rusqlite::hooks::TransactionOperation) -> &'static str {
    use rusqlite::hooks::TransactionOperation;
    match operation {
        TransactionOperation::Begin => "SAVEPOINT",
        TransactionOperation::Release => "RELEASE",
        TransactionOperation::Rollback => "ROLLBACK TO",
        _ => "A savepoint",
    }
}

impl SqlReader {
    /// Opens the store's index read-only (refreshed by `index`, which stays open meanwhile).
    pub fn open(store: &Store, index: &Index, limit: MemoryLimit) -> Result<SqlReader, IndexError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let sql = |source| IndexError::Sqlite {
            path: index.path().to_path_buf(),
            source,
        };
        let conn = match index.reopen_uri() {
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
        limit.apply(&conn).map_err(sql)?;
        register_functions(&conn, store.root()).map_err(sql)?;
        let mut reader = SqlReader {
            conn,
            limit,
            auth: Arc::default(),
            clock: Arc::default(),
        };
        reader.seal().map_err(sql)?;
        Ok(reader)
    }

    /// The indexes of several stores gathered into one in-memory database for `query`: the
    /// same views, each with a `project` column first (the folder given with its store) and a
    /// `workspace` column after it (the workspace given with a workspace's store). Only
    /// the tables `query` reads are copied, each store's index attached read-only in turn.
    /// `open(n)` gives the `n`th store's index (refreshed), which is closed before the next is
    /// opened: a thousand stores' indexes held open at once ran out of file descriptors and
    /// memory. `None` from it stops the gathering ([`GatherError::Unopened`]; the caller keeps
    /// why). A store of no project has a NULL project, one of no workspace a NULL workspace.
    pub fn gather(
        sources: &[(&Store, Option<String>, Option<String>)],
        query: &str,
        limit: MemoryLimit,
        mut open: impl FnMut(usize) -> Option<Index>,
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
        limit.apply(&conn).map_err(sql)?;
        conn.execute_batch(&gathered_schema()).map_err(sql)?;
        register_gathered_functions(
            &conn,
            sources
                .iter()
                .map(|(s, _, _)| s.root().to_path_buf())
                .collect(),
        )
        .map_err(sql)?;
        let tables = tables_read(&mut conn, query, limit)?;
        for (n, (store, project, workspace)) in sources.iter().enumerate() {
            let index = open(n).ok_or(GatherError::Unopened)?;
            let number = i64::try_from(n).unwrap_or(i64::MAX);
            conn.execute(
                "INSERT INTO idx_projects (store_number, project, workspace, store) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![number, project, workspace, store.root().to_string_lossy()],
            )
            .map_err(sql)?;
            if let Err(source) = copy_tables(&conn, &index, number << GATHERED_SHIFT, &tables) {
                return Err(match limit.or(source) {
                    QueryError::Sql(source) => GatherError::Copy {
                        source: IndexError::Sqlite {
                            path: index.path().to_path_buf(),
                            source,
                        },
                        index: Box::new(index),
                    },
                    memory => GatherError::Query(memory),
                });
            }
        }
        conn.pragma_update(None, "query_only", true).map_err(sql)?;
        let mut reader = SqlReader {
            conn,
            limit,
            auth: Arc::default(),
            clock: Arc::default(),
        };
        reader.seal().map_err(sql)?;
        Ok(reader)
    }

    /// Stops a query once SQLite has worked on it for `limit` (`None`: no limit).
    pub fn time_limit(&mut self, limit: Option<Duration>) {
        if let Ok(mut clock) = self.clock.lock() {
            clock.limit = limit;
        }
    }

    /// What a reading query needs no more: another file attached (attaching could create
    /// one), an extension loaded, a PRAGMA that sets something, a transaction; and the clock
    /// that interrupts a query past its time.
    fn seal(&mut self) -> rusqlite::Result<()> {
        let clock = Arc::clone(&self.clock);
        self.conn.progress_handler(
            STEPS_PER_LOOK,
            Some(move || clock.lock().map_or(true, |clock| clock.over())),
        )?;
        let auth = Arc::clone(&self.auth);
        self.conn
            .authorizer(Some(move |ctx: rusqlite::hooks::AuthContext<'_>| {
                use rusqlite::hooks::Authorization;
                let Ok(mut auth) = auth.lock() else {
                    return Authorization::Deny;
                };
                match refusal(&ctx.action, &mut auth) {
                    Some(why) => {
                        auth.refused.get_or_insert(why);
                        Authorization::Deny
                    }
                    None => Authorization::Allow,
                }
            }))
    }

    /// Prepares one statement that only reads.
    pub fn prepare(&self, sql: &str) -> Result<Query<'_>, QueryError> {
        if let Ok(mut auth) = self.auth.lock() {
            *auth = Auth::default();
        }
        let prepared = self.conn.prepare(sql);
        let (refused, pragma_read) = self
            .auth
            .lock()
            .map(|mut a| (a.refused.take(), a.pragma_read))
            .unwrap_or_default();
        if let Some(why) = refused {
            return Err(QueryError::Refused(why));
        }
        let stmt = prepared.map_err(|e| not_prepared(e, self.limit))?;
        // SQLite calls a PRAGMA that reads (`PRAGMA main.journal_mode`) a write: it might be
        // one, but those that set something were refused above.
        if !stmt.readonly() && !pragma_read {
            return Err(QueryError::Writes);
        }
        let columns = stmt.column_names().map(str::to_owned).collect();
        Ok(Query {
            stmt,
            limit: self.limit,
            columns,
            clock: Arc::clone(&self.clock),
        })
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
    /// A store's index could not be copied: SQLite's error, and the index, to set aside when
    /// the error shows it damaged.
    #[error("{source}")]
    Copy {
        source: IndexError,
        index: Box<Index>,
    },
    /// The caller's `open` gave no index.
    #[error("a store's index could not be opened")]
    Unopened,
}

/// The index's tables, and its views each with `project` first: the store a row came from,
/// found by its `sid` (see [`GATHERED_SHIFT`]); `event_json` takes the `sid` too, to read the
/// right store's files.
fn gathered_schema() -> String {
    let project = format!(
        "(SELECT project FROM idx_projects WHERE store_number = sid >> {GATHERED_SHIFT}) AS project, \
         (SELECT workspace FROM idx_projects WHERE store_number = sid >> {GATHERED_SHIFT}) AS workspace,"
    );
    // A session may be in two stores (a folder copied, a transcript imported in two projects):
    // each copy is a row of its own, so its id is unique only within its store.
    let mut schema = SCHEMA
        .replace(
            "session_id TEXT NOT NULL UNIQUE,",
            "session_id TEXT NOT NULL,",
        )
        .replace(
            "session_id TEXT PRIMARY KEY,\n    sid INTEGER NOT NULL,",
            "session_id TEXT NOT NULL,\n    sid INTEGER PRIMARY KEY,",
        )
        .replace("event_json(", "event_json(sid, ")
        .replace(" AS SELECT", &format!(" AS SELECT {project}"));
    schema.push_str(
        "CREATE TABLE idx_projects (store_number INTEGER PRIMARY KEY, project TEXT, workspace TEXT, store TEXT);",
    );
    schema
}

/// The `idx_` tables `query` reads (through the views), found by preparing it on the empty
/// gathered schema; a query that would write is refused here, before anything is copied.
fn tables_read(
    conn: &mut Connection,
    query: &str,
    limit: MemoryLimit,
) -> Result<BTreeSet<String>, GatherError> {
    let read = Arc::new(Mutex::new((BTreeSet::new(), Auth::default())));
    let seen = Arc::clone(&read);
    let auth = |e| GatherError::Query(QueryError::Sql(e));
    conn.authorizer(Some(move |ctx: rusqlite::hooks::AuthContext<'_>| {
        use rusqlite::hooks::{AuthAction, Authorization};
        let Ok(mut seen) = seen.lock() else {
            return Authorization::Deny;
        };
        let (tables, auth) = &mut *seen;
        if let Some(why) = refusal(&ctx.action, auth) {
            auth.refused.get_or_insert(why);
            return Authorization::Deny;
        }
        if let AuthAction::Read { table_name, .. } = ctx.action
            && table_name.starts_with("idx_")
            && table_name != "idx_projects"
        {
            tables.insert(table_name.to_owned());
        }
        Authorization::Allow
    }))
    .map_err(auth)?;
    let prepared = conn.prepare(query).map(|stmt| stmt.readonly());
    conn.authorizer(None::<fn(rusqlite::hooks::AuthContext<'_>) -> rusqlite::hooks::Authorization>)
        .map_err(auth)?;
    let (refused, pragma_read) = read
        .lock()
        .map(|mut r| (r.1.refused.take(), r.1.pragma_read))
        .unwrap_or_default();
    match (refused, prepared) {
        (Some(why), _) => return Err(GatherError::Query(QueryError::Refused(why))),
        (None, Ok(true)) => {}
        (None, Ok(false)) if pragma_read => {}
        (None, Ok(false)) => return Err(GatherError::Query(QueryError::Writes)),
        (None, Err(e)) => return Err(GatherError::Query(not_prepared(e, limit))),
    }
    let tables = read.lock().map(|t| t.0.clone()).unwrap_or_default();
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
    if let Some(uri) = index.reopen_uri() {
        return uri.to_owned();
    }
    let mut uri = super::index::file_uri(index.path());
    uri.push_str("?mode=ro");
    uri
}

/// Why a statement could not be prepared: more than one statement is refused as such (a write
/// may hide after a first one that reads).
fn not_prepared(e: rusqlite::Error, limit: MemoryLimit) -> QueryError {
    match e {
        rusqlite::Error::MultipleStatement => QueryError::Refused(
            "more than one statement is refused: `sql` runs one, and nothing may follow its `;`"
                .to_owned(),
        ),
        // A write to a view fails as it is prepared, before the authorizer or `readonly` can
        // tell it is a write: refused as every write is, not shown as SQLite's own failure.
        e if writes_to_a_view(&e) => QueryError::Writes,
        e => limit.or(e),
    }
}

/// SQLite's failure to prepare an INSERT, UPDATE or DELETE on a view ("cannot modify sessions
/// because it is a view").
fn writes_to_a_view(e: &rusqlite::Error) -> bool {
    let message = match e {
        rusqlite::Error::SqlInputError { msg, .. }
        | rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.as_str(),
        _ => return false,
    };
    message.starts_with("cannot modify ") && message.ends_with(" because it is a view")
}

/// A statement that tried to write is refused whichever way SQLite caught it.
fn writes_or(e: rusqlite::Error, limit: MemoryLimit) -> QueryError {
    match e.sqlite_error_code() {
        Some(
            rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::AuthorizationForStatementDenied,
        ) => QueryError::Writes,
        _ => limit.or(e),
    }
}
