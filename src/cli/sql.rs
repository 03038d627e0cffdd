//! `sql`: a read-only SQL query over every session, through the session index.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::{Map, Value as Json};

use super::Globals;
use super::output::{stdout, usage, warn};
use super::stores::ScopeArgs;
use crate::error::Error;
use crate::exit;
use crate::render::terminal::{self, Painter};
use crate::store::sql::{GatherError, QueryError, QueryResult, SqlReader, Value};
use crate::store::{Index, IndexError, Store};

/// Query every session with SQL (read-only). Views: sessions, events, tool_calls, files,
/// llm_responses, models; docs/sql.md describes them and gives example queries
///
/// With --all-projects the query runs over every store's sessions at once, each view with a
/// `project` column first (the project's folder; NULL for the user-level store).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace sql \"SELECT tool, count(*) AS calls, sum(failed) AS failed FROM tool_calls GROUP BY tool ORDER BY calls DESC\"\n  agent-strace sql --format csv \"SELECT session_id, start, cost_usd FROM sessions\" > sessions.csv\n  agent-strace sql --all-projects \"SELECT project, sum(cost_usd) FROM sessions GROUP BY project\""
)]
pub(crate) struct SqlArgs {
    /// One statement that only reads (SELECT, WITH … SELECT)
    query: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = SqlFormat::Table)]
    format: SqlFormat,
    #[command(flatten)]
    scope: ScopeArgs,
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

/// How many characters of a text value a table shows.
const CELL_CHARS: usize = 60;

pub(crate) fn run(args: &SqlArgs, globals: &Globals) -> Result<u8> {
    let stores = args.scope.stores(globals)?;
    let mut indexes = Vec::new();
    for located in &stores {
        let index = index_of(&located.store)?;
        for problem in index.problems() {
            warn(format_args!("skipped a session: {problem}"));
        }
        indexes.push(index);
    }
    let reader = if args.scope.many() {
        let sources: Vec<(&Store, &Index, Option<String>)> = stores
            .iter()
            .zip(&indexes)
            .map(|(l, index)| (&l.store, index, l.path()))
            .collect();
        match SqlReader::gather(&sources, &args.query) {
            Ok(reader) => reader,
            Err(GatherError::Query(err)) => return Err(query_error(err)),
            Err(GatherError::Index(err)) => {
                return Err(Error::io(format!("could not read the session indexes: {err}")).into());
            }
        }
    } else {
        let (Some(located), Some(index)) = (stores.first(), indexes.first()) else {
            return Err(usage("no store to query"));
        };
        SqlReader::open(&located.store, index)
            .map_err(|err| Error::io(format!("could not open the session index: {err}")))?
    };
    let result = reader.query(&args.query).map_err(query_error)?;
    let mut out = stdout(globals.colour());
    match args.format {
        SqlFormat::Table => table(&mut out, &result, Painter::new(globals.colour()))?,
        SqlFormat::Json => crate::render::json::write(&mut out, &json(&result))?,
        SqlFormat::Csv => csv(&mut out, &result)?,
    }
    out.flush()?;
    Ok(exit::OK)
}

/// The store's index brought up to date; when its file cannot be used (a read-only store, a
/// full disk), one built in memory, with a warning. A link, FIFO or folder in the index's place
/// is refused: it is input that is not what the store keeps there.
fn index_of(store: &Store) -> Result<Index> {
    match store.fresh_index() {
        Ok(index) => Ok(index),
        Err(IndexError::NotRegular(path)) => Err(Error::input(format!(
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
            Index::in_memory(store).map_err(|err| match err {
                IndexError::Store(err) => anyhow::Error::new(err),
                err => anyhow::Error::new(Error::io(format!(
                    "could not build the session index in memory: {err}"
                ))),
            })
        }
    }
}

fn query_error(err: QueryError) -> anyhow::Error {
    match err {
        QueryError::Writes => usage(err.to_string()),
        QueryError::Sql(err) => usage(format!("the query failed: {err}")),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Real(x) => x.to_string(),
        Value::Text(t) => t.clone(),
        Value::Blob(b) => b.iter().fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        }),
    }
}

fn table(out: &mut impl Write, r: &QueryResult, paint: Painter) -> std::io::Result<()> {
    let cells: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| terminal::one_line(&text(v), CELL_CHARS))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = r
        .columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            cells
                .iter()
                .map(|row| terminal::columns(&row[i]))
                .chain([terminal::columns(&terminal::one_line(name, CELL_CHARS))])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let header: Vec<String> = r
        .columns
        .iter()
        .zip(&widths)
        .map(|(name, w)| terminal::cell(name, *w))
        .collect();
    writeln!(out, "{}", paint.bold(header.join("  ").trim_end()))?;
    for (row, values) in cells.iter().zip(&r.rows) {
        let line: Vec<String> = row
            .iter()
            .zip(values)
            .zip(&widths)
            .map(|((cell, value), w)| match value {
                Value::Integer(_) | Value::Real(_) => format!("{cell:>w$}"),
                _ => terminal::pad(cell, *w),
            })
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    let n = r.rows.len();
    writeln!(
        out,
        "{}",
        paint.dim(&format!("({n} row{})", if n == 1 { "" } else { "s" }))
    )
}

fn json(r: &QueryResult) -> Vec<Map<String, Json>> {
    r.rows
        .iter()
        .map(|row| {
            r.columns
                .iter()
                .zip(row)
                .map(|(name, v)| {
                    let value = match v {
                        Value::Null => Json::Null,
                        Value::Integer(n) => Json::from(*n),
                        Value::Real(x) => {
                            serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number)
                        }
                        Value::Text(t) => Json::from(t.as_str()),
                        Value::Blob(_) => Json::from(text(v)),
                    };
                    (name.clone(), value)
                })
                .collect()
        })
        .collect()
}

fn csv(out: &mut impl Write, r: &QueryResult) -> std::io::Result<()> {
    use crate::export::csv::field;
    let header: Vec<_> = r.columns.iter().map(|c| field(c)).collect();
    write!(out, "{}\r\n", header.join(","))?;
    for row in &r.rows {
        let line: Vec<String> = row.iter().map(|v| field(&text(v)).into_owned()).collect();
        write!(out, "{}\r\n", line.join(","))?;
    }
    Ok(())
}
