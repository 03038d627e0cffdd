//! `sql`: a read-only SQL query over every session, through the session index.

mod rows;

use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::Globals;
use super::output::{stdout, usage, warn};
use super::stores::ScopeArgs;
use crate::error::Error;
use crate::exit;
use crate::render::terminal::Painter;
use crate::store::sql::{GatherError, MemoryLimit, QueryError, SqlReader};
use crate::store::{Index, IndexError, Store};

/// Query every session with SQL (read-only). Views: sessions, events, tool_calls, files,
/// llm_responses, models; docs/sql.md describes them and gives example queries
///
/// With --all-projects the query runs over every store's sessions at once, each view with a
/// `project` column first (the project's folder; NULL for the user-level store).
///
/// The query picks its own period, so `sql` takes no --since or --until: each view has its own
/// times (`sessions.started_at`, `events.time`, `tool_calls.time` …, seconds since the epoch),
/// and a flag could not say which of them it filters. `--since 7d` (seven local days) is `WHERE
/// started_at >= unixepoch('now', 'localtime', '-7 days', 'utc')`, `--until 2026-11-25` (that
/// day included, local time) `WHERE started_at < unixepoch('2026-11-26', 'utc')`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace sql \"SELECT tool, count(*) AS calls, sum(failed) AS failed FROM tool_calls GROUP BY tool ORDER BY calls DESC\"\n  agent-strace sql --format csv \"SELECT session_id, start, cost_usd FROM sessions\" > sessions.csv\n  agent-strace sql --all-projects \"SELECT project, sum(cost_usd), count(unpriced_models) AS unpriced FROM sessions GROUP BY project\""
)]
pub(crate) struct SqlArgs {
    /// One statement that only reads (SELECT, WITH … SELECT)
    query: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = SqlFormat::Table)]
    format: SqlFormat,
    #[command(flatten)]
    scope: ScopeArgs,
    /// Stop after this many rows [default: 100000 for the table, which holds its rows to line
    /// them up; csv and json write every row as it comes]
    #[arg(long, value_name = "N", value_parser = crate::cli::args::whole::<u64>)]
    max_rows: Option<u64>,
    /// Memory SQLite may use for the query, in MiB: a sort, DISTINCT or aggregate that needs
    /// more fails the query (it is kept in memory, never in temporary files that could fill the
    /// disk)
    #[arg(long, value_name = "MIB", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_memory: u64,
    /// Seconds SQLite may work on the query before it is stopped (exit code 2); 0 for no limit.
    /// Time spent writing rows out (to a pager, say) is not counted
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = crate::cli::args::whole::<u64>)]
    timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SqlFormat {
    /// Aligned columns, one row a line
    Table,
    /// An array of objects, one a row, keyed by column name
    Json,
    /// Comma-separated values with a header line (RFC 4180)
    Csv,
}

/// How many rows a table shows unless `--max-rows` says otherwise.
const TABLE_ROWS: u64 = 100_000;

pub(crate) fn run(args: &SqlArgs, globals: &Globals) -> Result<u8> {
    let stores = args.scope.stores_unnamed(globals)?;
    let many = args.scope.many();
    // One store's index is opened here and kept for the query; several stores' are opened one
    // at a time as the query gathers them (see `SqlReader::gather`).
    let mut single = match (many, stores.first()) {
        (false, Some(located)) => Some(opened(&located.store, false, true)?),
        _ => None,
    };
    // Of several stores, those whose damaged index could not be set aside: read from an index
    // built in memory.
    let mut in_memory_for = Vec::new();
    let mut out = Written::new(stdout(globals.colour()));
    let max_rows = args
        .max_rows
        .or((args.format == SqlFormat::Table).then_some(TABLE_ROWS));
    let mut retried = false;
    let cut = loop {
        let indexes = Indexes {
            single: single.as_ref(),
            in_memory_for: &in_memory_for,
            warn_problems: !retried,
        };
        match query(args, globals, &stores, &indexes, max_rows, &mut out) {
            Ok(cut) => break cut,
            Err(Failure::Other(err)) => return Err(err),
            // The index is a cache: a damaged one is set aside and built again, and the query
            // run on it once more, unless rows are out already (they would come twice).
            Err(Failure::Damaged(n, reason, held)) => {
                let store = &stores[n].store;
                let Some(index) = held.map(|index| *index).or_else(|| single.take()) else {
                    return Err(damaged(store, &reason, false));
                };
                let gone = index.set_aside();
                if retried || out.written {
                    return Err(damaged(store, &reason, gone));
                }
                retried = true;
                if !gone {
                    warn(format_args!(
                        "the session index of {} is damaged ({reason}); querying one built in \
                         memory instead",
                        store.root().display()
                    ));
                }
                if many {
                    // Built again when the next gathering opens it.
                    if !gone {
                        in_memory_for.push(n);
                    }
                } else {
                    single = Some(if gone {
                        index_of(store, false)?
                    } else {
                        in_memory(store)?
                    });
                }
            }
        }
    };
    out.flush()?;
    if let (true, Some(n), false) = (cut, max_rows, args.format == SqlFormat::Table) {
        warn(format_args!(
            "stopped after {} (--max-rows); the query returned more",
            crate::model::text::count(n, "row")
        ));
    }
    Ok(exit::OK)
}

/// The indexes a run of the query reads: the one store's, opened already; or, for several
/// stores, how to open each in turn.
struct Indexes<'a> {
    single: Option<&'a Index>,
    /// The stores read from an index built in memory (their own is damaged).
    in_memory_for: &'a [usize],
    /// Whether to warn of the sessions each index could not read (said on the first run only).
    warn_problems: bool,
}

/// The store's index as [`index_of`] gives it, having warned (when `warn_problems`) of each
/// session it could not read.
fn opened(store: &Store, many: bool, warn_problems: bool) -> Result<Index> {
    let index = index_of(store, many)?;
    if warn_problems {
        for problem in index.problems() {
            warn(format_args!("skipped a session: {problem}"));
        }
    }
    Ok(index)
}

/// Why a run of the query failed: the index of the `n`th store was found damaged (SQLite's
/// words), so that building it again may help; or anything else, as it is to be reported.
enum Failure {
    /// The index found damaged, when the run held it (one of several stores', which the run
    /// opened and closed).
    Damaged(usize, String, Option<Box<Index>>),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Failure::Other(err)
    }
}

/// Runs the query over `indexes` (one a store) and writes its rows to `out`; whether rows
/// were left out (`max_rows`).
fn query(
    args: &SqlArgs,
    globals: &Globals,
    stores: &[super::stores::Located],
    indexes: &Indexes<'_>,
    max_rows: Option<u64>,
    out: &mut impl Write,
) -> Result<bool, Failure> {
    let limit = MemoryLimit::mib(args.max_memory);
    // The index whose damage a failing query shows: the one store's; with several, the
    // in-memory database they are gathered into has no file to damage.
    let single = (!args.scope.many()).then_some(0);
    let mut reader = if args.scope.many() {
        let sources: Vec<(&Store, Option<String>, Option<String>)> = stores
            .iter()
            .map(|l| (&l.store, l.project_path(), l.workspace.clone()))
            .collect();
        let mut unopened = None;
        let open = |n: usize| {
            let store: &Store = &stores[n].store;
            let index = if indexes.in_memory_for.contains(&n) {
                in_memory(store)
            } else {
                opened(store, true, indexes.warn_problems)
            };
            index.map_err(|err| unopened = Some(err)).ok()
        };
        match SqlReader::gather(&sources, &args.query, limit, open) {
            Ok(reader) => reader,
            Err(GatherError::Query(err)) => return Err(failure(err, None)),
            Err(GatherError::Unopened) => {
                return Err(Failure::Other(unopened.unwrap_or_else(|| {
                    Error::io("a store's session index could not be opened").into()
                })));
            }
            Err(GatherError::Copy { source, index }) => {
                let copied_from = match &source {
                    IndexError::Sqlite { path, .. } => {
                        stores.iter().position(|l| l.store.index_path() == *path)
                    }
                    _ => None,
                };
                return Err(match copied_from {
                    Some(n) if source.is_damage() => {
                        Failure::Damaged(n, sqlite_words(&source), Some(index))
                    }
                    _ => Failure::Other(
                        Error::io(format!("could not read the session indexes: {source}")).into(),
                    ),
                });
            }
            Err(GatherError::Index(err)) => {
                return Err(Failure::Other(
                    Error::io(format!("could not read the session indexes: {err}")).into(),
                ));
            }
        }
    } else {
        let (Some(located), Some(index)) = (stores.first(), indexes.single) else {
            return Err(usage("no store to query").into());
        };
        match SqlReader::open(&located.store, index, limit) {
            Ok(reader) => reader,
            Err(err) if err.is_damage() => {
                return Err(Failure::Damaged(0, sqlite_words(&err), None));
            }
            Err(err) => {
                let err = Error::io(format!("could not open the session index: {err}"));
                return Err(Failure::Other(err.into()));
            }
        }
    };
    reader.time_limit((args.timeout > 0).then(|| Duration::from_secs(args.timeout)));
    let mut query = reader
        .prepare(&args.query)
        .map_err(|e| failure(e, single))?;
    match args.format {
        SqlFormat::Table => rows::table(out, &mut query, max_rows, Painter::new(globals.colour())),
        SqlFormat::Json => rows::json(out, &mut query, max_rows),
        SqlFormat::Csv => rows::csv(out, &mut query, max_rows),
    }
    .map_err(|e| failure(e, single))
}

/// `err` as a failure of the query: damage to the index of store `store`, or `query_error`'s.
fn failure(err: QueryError, store: Option<usize>) -> Failure {
    match (err, store) {
        (QueryError::Sql(err), Some(n)) if crate::store::index::is_damage(&err) => {
            Failure::Damaged(n, err.to_string(), None)
        }
        (err, _) => Failure::Other(query_error(err)),
    }
}

/// What SQLite said of the damage, without the path the error names first.
fn sqlite_words(err: &IndexError) -> String {
    match err {
        IndexError::Sqlite { source, .. } | IndexError::Damaged { source, .. } => {
            source.to_string()
        }
        err => err.to_string(),
    }
}

/// The error of a query that found the index of `store` damaged once rows were out, or again
/// once it was built again: an I/O failure, not bad usage.
fn damaged(store: &Store, reason: &str, gone: bool) -> anyhow::Error {
    let index = store.index_path();
    let error = if gone {
        Error::io(format!(
            "the session index {} is damaged ({reason}); it has been set aside, to be built \
             again on the next run",
            index.display()
        ))
    } else {
        Error::io(format!(
            "the session index {} is damaged ({reason}), and could not be set aside",
            index.display()
        ))
        .with_hint("remove it: the index is a cache, built again by the next read")
    };
    error.into()
}

/// A writer that notes whether anything was written through it: rows out already cannot be
/// taken back.
struct Written<W: Write> {
    inner: W,
    written: bool,
}

impl<W: Write> Written<W> {
    fn new(inner: W) -> Self {
        Written {
            inner,
            written: false,
        }
    }
}

impl<W: Write> Write for Written<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written |= !buf.is_empty();
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The store's index brought up to date; when its file cannot be used (a read-only store, a
/// full disk), one built in memory, with a warning. A link, FIFO or folder in the index's place
/// is refused, being input that is not what the store keeps there, unless `many` stores are
/// read: one store's never stops a query over all of them.
fn index_of(store: &Store, many: bool) -> Result<Index> {
    match store.fresh_index() {
        Ok(index) => Ok(index),
        Err(IndexError::NotRegular(path)) if !many => Err(Error::input(format!(
            "{} is not a regular file, and `sql` reads the session index there",
            path.display()
        ))
        .with_hint("remove it: the index is a cache, built again by the next read")
        .into()),
        Err(IndexError::Store(err)) => Err(err.into()),
        Err(err) => {
            warn(format_args!(
                "the session index of {} cannot be used ({err}); querying one built in memory instead",
                store.root().display()
            ));
            in_memory(store)
        }
    }
}

/// The store's index built in memory, for when its file cannot be used.
fn in_memory(store: &Store) -> Result<Index> {
    Index::in_memory(store).map_err(|err| match err {
        IndexError::Store(err) => anyhow::Error::new(err),
        err => anyhow::Error::new(Error::io(format!(
            "could not build the session index in memory: {err}"
        ))),
    })
}

fn query_error(err: QueryError) -> anyhow::Error {
    match err {
        QueryError::Writes | QueryError::Refused(_) => usage(err.to_string()),
        QueryError::Sql(err) => {
            let text = err.to_string();
            let error = Error::usage(format!("the query failed: {text}"));
            // A name that is not there is the first mistake of someone new to the views.
            let error = if text.contains("no such table") {
                error.with_hint(
                    "the views are sessions, events, tool_calls, files, llm_responses and \
                     models; docs/sql.md describes them",
                )
            } else if text.contains("no such column") {
                error.with_hint(
                    "`SELECT * FROM <view> LIMIT 1` shows a view's columns; docs/sql.md \
                     describes them",
                )
            } else {
                error
            };
            anyhow::Error::new(error)
        }
        QueryError::Memory(limit) => anyhow::Error::new(
            Error::usage(QueryError::Memory(limit).to_string()).with_hint(format!(
                "--max-memory {} allows more; a LIMIT, or a condition that ends a recursive \
                 query, needs less",
                limit.in_mib().saturating_mul(4)
            )),
        ),
        QueryError::Timeout(limit) => anyhow::Error::new(
            Error::usage(QueryError::Timeout(limit).to_string()).with_hint(format!(
                "--timeout {} allows more (0 for no limit); a LIMIT, or a condition that ends a \
                 recursive query, takes less",
                limit.as_secs().saturating_mul(4).max(1)
            )),
        ),
        QueryError::Output(err) => anyhow::Error::new(err),
    }
}
