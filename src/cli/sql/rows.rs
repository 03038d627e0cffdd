//! `sql`'s rows written out: as a table (held, to line its columns up, up to `--max-rows`),
//! as JSON or as CSV (each row as SQLite returns it).

use std::fmt::Write as _;
use std::io::Write;

use serde_json::{Map, Value as Json};

use crate::model::text;
use crate::render::terminal::{self, Painter};
use crate::store::sql::{Query, QueryError, Value};

/// How many characters of a text value a table shows.
const CELL_CHARS: usize = 60;

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
        Value::Real(x) => text::real(x),
        Value::Text(t) => String::from_utf8_lossy(t).into_owned(),
        Value::Blob(b) => hex(b),
    }
}

/// A value as a table cell: numbers whole, text cut to [`CELL_CHARS`] (only its start is
/// looked at), a blob by its size in words (`<blob 1,024 bytes>`).
fn cell(value: Value<'_>) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Real(x) => text::real(x),
        Value::Text(t) => {
            // Enough bytes for more than CELL_CHARS characters, whatever their length.
            let start = &t[..t.len().min(CELL_CHARS * 4 + 4)];
            terminal::one_line(&String::from_utf8_lossy(start), CELL_CHARS)
        }
        Value::Blob(b) => format!("<blob {} bytes>", text::thousands(b.len() as u64)),
    }
}

/// Writes the table; whether rows were left out. Column widths need every row first, so a
/// table holds its rows (cells of at most [`CELL_CHARS`]), at most `max_rows` of them.
pub(super) fn table(
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
    let rows = terminal::count(cells.len() as u64, "row");
    let footer = if cut {
        format!(
            "(the first {rows}; the query returned more: --max-rows shows more, \
             --format csv or json write every row as it comes)"
        )
    } else {
        format!("({rows})")
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
pub(super) fn json(
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

/// Writes the rows as CSV as they come. The header goes out with the first row (or at the
/// end, when there is none), so that a query that fails before its first row has written
/// nothing, and can be run again (see `sql::run`).
pub(super) fn csv(
    out: &mut impl Write,
    query: &mut Query<'_>,
    max_rows: Option<u64>,
) -> Result<bool, QueryError> {
    use crate::export::csv::field;
    let header: Vec<_> = query.columns().iter().map(|c| field(c)).collect();
    let header = format!("{}\r\n", header.join(","));
    let mut headed = false;
    let cut = rows(query, max_rows, |values| {
        if !headed {
            headed = true;
            out.write_all(header.as_bytes())?;
        }
        let line: Vec<String> = values
            .iter()
            .map(|v| field(&text(*v)).into_owned())
            .collect();
        write!(out, "{}\r\n", line.join(","))
    })?;
    if !headed {
        out.write_all(header.as_bytes())
            .map_err(QueryError::Output)?;
    }
    Ok(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_name_takes_the_first_suffix_no_column_has() {
        let names =
            |c: &[&str]| unique_names(&c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(names(&["a", "b"]), ["a", "b"]);
        assert_eq!(names(&["a", "a", "a"]), ["a", "a_2", "a_3"]);
        assert_eq!(names(&["a", "a", "a_2"]), ["a", "a_3", "a_2"]);
    }
}
