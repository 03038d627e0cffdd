//! Reports as JSON: pretty, with a trailing newline, so output is readable and diffable.

use std::io::{self, Write};

use serde::Serialize;

/// Writes `report` as pretty JSON followed by a newline.
pub fn write(out: &mut impl Write, report: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
