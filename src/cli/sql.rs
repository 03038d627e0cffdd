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
use crate::store::sql::{GatherError, Query, QueryError, SqlReader, Value};
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
    /// Stop after this many rows [default: 100000 for the table, which holds its rows to line
    /// them up; csv and json write every row as it comes]
    #[arg(long, value_name = "N")]
    max_rows: Option<u64>,
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

/// How many rows a table shows unless `--max-rows` says otherwise.
const TABLE_ROWS: u64 = 100_000;

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
    let mut query = reader.prepare(&args.query).map_err(query_error)?;
    let max_rows = args
        .max_rows
        .or((args.format == SqlFormat::Table).then_some(TABLE_ROWS));
    let mut out = stdout(globals.colour());
    let cut = match args.format {
        SqlFormat::Table => table(
            &mut out,
            &mut query,
            max_rows,
            Painter::new(globals.colour()),
        ),
        SqlFormat::Json => json(&mut out, &mut query, max_rows),
        SqlFormat::Csv => csv(&mut out, &mut query, max_rows),
    }
    .map_err(query_error)?;
    out.flush()?;
    if let (true, Some(n), false) = (cut, max_rows, args.format == SqlFormat::Table) {
        warn(format_args!(
            "stopped after {n} rows (--max-rows); the query returned more"
        ));
    }
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
        QueryError::Writes | QueryError::Refused(_) => usage(err.to_string()),
        QueryError::Sql(err) => usage(format!("the query failed: {err}")),
        QueryError::Output(err) => anyhow::Error::new(err),
    }
}

/// Runs `query`, handing each row to `each` until `max_rows` are handed; whether more were
/// left.
fn rows(
    query: &mut Query<'_>,
    max_rows: Option<u64>,
    mut each: impl FnMut(&[Value<'_>]) -> std::io::Result<()>,
) -> Result<bool, QueryError> {
    let mut n = 0;
    let mut cut = false;
    query.rows(|values| {
        if max_rows.is_some_and(|max| n >= max) {
            cut = true;
            return Ok(false);
        }
        n += 1;
        each(values)?;
        Ok(true)
    })?;
    Ok(cut)
}

/// A real as Rust writes it, the shortest text that reads back the same; in exponent form
/// when that is long (`1e-300`, never three hundred zeros).
fn real(x: f64) -> String {
    let plain = x.to_string();
    if plain.len() > 20 {
        format!("{x:e}")
    } else {
        plain
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// A value as CSV and JSON write it: text whole, a blob as lowercase hex.
fn text(value: Value<'_>) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Real(x) => real(x),
        Value::Text(t) => String::from_utf8_lossy(t).into_owned(),
        Value::Blob(b) => hex(b),
    }
}

/// A value as a table cell: numbers whole, text cut to [`CELL_CHARS`] (only its start is
/// looked at), a blob by its size.
fn cell(value: Value<'_>) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Real(x) => real(x),
        Value::Text(t) => {
            // Enough bytes for more than CELL_CHARS characters, whatever their length.
            let start = &t[..t.len().min(CELL_CHARS * 4 + 4)];
            terminal::one_line(&String::from_utf8_lossy(start), CELL_CHARS)
        }
        Value::Blob(b) => format!("<blob {} bytes>", b.len()),
    }
}

/// Writes the table; whether rows were left out. Column widths need every row first, so a
/// table holds its rows (cells of at most [`CELL_CHARS`]), at most `max_rows` of them.
fn table(
    out: &mut impl Write,
    query: &mut Query<'_>,
    max_rows: Option<u64>,
    paint: Painter,
) -> Result<bool, QueryError> {
    let mut cells: Vec<Vec<(String, bool)>> = Vec::new();
    let cut = rows(query, max_rows, |values| {
        let row = values
            .iter()
            .map(|v| (cell(*v), matches!(v, Value::Integer(_) | Value::Real(_))))
            .collect();
        cells.push(row);
        Ok(())
    })?;
    let widths: Vec<usize> = query
        .columns()
        .iter()
        .enumerate()
        .map(|(i, name)| {
            cells
                .iter()
                .map(|row| terminal::columns(&row[i].0))
                .chain([terminal::columns(&terminal::one_line(name, CELL_CHARS))])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let header: Vec<String> = query
        .columns()
        .iter()
        .zip(&widths)
        .map(|(name, w)| terminal::cell(name, *w))
        .collect();
    let io = QueryError::Output;
    writeln!(out, "{}", paint.bold(header.join("  ").trim_end())).map_err(io)?;
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|((cell, number), w)| {
                if *number {
                    format!("{cell:>w$}")
                } else {
                    terminal::pad(cell, *w)
                }
            })
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end()).map_err(io)?;
    }
    let n = cells.len();
    let footer = if cut {
        format!(
            "(the first {n} rows; the query returned more: --max-rows shows more, \
             --format csv or json write every row as it comes)"
        )
    } else {
        format!("({n} row{})", if n == 1 { "" } else { "s" })
    };
    writeln!(out, "{}", paint.dim(&footer)).map_err(io)?;
    Ok(cut)
}

/// Column names made unique for JSON keys: a name seen before gets `_2`, `_3`, … (the first
/// such name no column has), so that `SELECT 1 AS a, 2 AS a` keeps both.
fn unique_names(columns: &[String]) -> Vec<String> {
    let mut taken: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let all: std::collections::HashSet<&str> = columns.iter().map(String::as_str).collect();
    let mut names = Vec::with_capacity(columns.len());
    for name in columns {
        if taken.insert(name) {
            names.push(name.clone());
            continue;
        }
        let mut n = 2;
        let unique = loop {
            let candidate = format!("{name}_{n}");
            if !all.contains(candidate.as_str()) && !names.contains(&candidate) {
                break candidate;
            }
            n += 1;
        };
        names.push(unique);
    }
    names
}

/// Writes the rows as a pretty JSON array as they come, each as `render::json` writes one.
fn json(
    out: &mut impl Write,
    query: &mut Query<'_>,
    max_rows: Option<u64>,
) -> Result<bool, QueryError> {
    let names = unique_names(query.columns());
    let mut first = true;
    let cut = rows(query, max_rows, |values| {
        let object: Map<String, Json> = names
            .iter()
            .zip(values)
            .map(|(name, v)| {
                let value = match *v {
                    Value::Null => Json::Null,
                    Value::Integer(n) => Json::from(n),
                    // JSON has no infinities: they are null.
                    Value::Real(x) => {
                        serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
                    }
                    Value::Text(_) | Value::Blob(_) => Json::from(text(*v)),
                };
                (name.clone(), value)
            })
            .collect();
        let pretty = serde_json::to_string_pretty(&object)?;
        // Strings hold no raw newline, so each line of the object is indented as in an array.
        out.write_all(if first { b"[\n  " } else { b",\n  " })?;
        first = false;
        out.write_all(pretty.replace('\n', "\n  ").as_bytes())
    })?;
    let end: &[u8] = if first { b"[]\n" } else { b"\n]\n" };
    out.write_all(end).map_err(QueryError::Output)?;
    Ok(cut)
}

/// Writes the rows as CSV as they come.
fn csv(
    out: &mut impl Write,
    query: &mut Query<'_>,
    max_rows: Option<u64>,
) -> Result<bool, QueryError> {
    use crate::export::csv::field;
    let header: Vec<_> = query.columns().iter().map(|c| field(c)).collect();
    write!(out, "{}\r\n", header.join(",")).map_err(QueryError::Output)?;
    rows(query, max_rows, |values| {
        let line: Vec<String> = values
            .iter()
            .map(|v| field(&text(*v)).into_owned())
            .collect();
        write!(out, "{}\r\n", line.join(","))
    })
}
