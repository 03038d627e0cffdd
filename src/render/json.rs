//! Reports as JSON: pretty, with a trailing newline, so output is readable and diffable.

use std::io::{self, Write};

use serde::Serialize;

/// Writes `report` as pretty JSON followed by a newline.
pub fn write(out: &mut impl Write, report: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// Below this many items, one thread writes a list faster than several.
const PARALLEL_ITEMS: usize = 2048;

/// Writes `items` exactly as [`write`] writes them as one array, but serialised in parts on up
/// to four threads when there are many: a listing of ten thousand sessions is megabytes of JSON.
///
/// A part serialised as an array is `[\n` + its items, each indented as in the whole array and
/// separated by `,\n`, + `\n]`, so the parts' insides joined by `,\n` are the whole array's.
pub fn write_list<T: Serialize + Sync>(out: &mut impl Write, items: &[T]) -> io::Result<()> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(4);
    if threads == 1 || items.len() < PARALLEL_ITEMS {
        return write(out, &items);
    }
    // Room for a part at once, from the size of its first item, rather than grown by copying.
    let serialise = |part: &[T]| -> io::Result<Vec<u8>> {
        let first = part.first().map(serde_json::to_vec_pretty).transpose()?;
        let item = first.map_or(0, |f| f.len() + f.len() / 4);
        let mut buf = Vec::with_capacity(part.len().saturating_mul(item));
        serde_json::to_writer_pretty(&mut buf, part)?;
        Ok(buf)
    };
    let mut parts = items.chunks(items.len().div_ceil(threads));
    let first = parts.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let rest: Vec<_> = parts
            .map(|part| crate::threads::spawn_scoped(scope, move || serialise(part)))
            .collect();
        // The first part goes straight out while the others are serialised.
        out.write_all(b"[\n")?;
        // Buffered before `Inside`, which would otherwise see every token serde writes.
        let mut inside = io::BufWriter::with_capacity(64 * 1024, Inside::new(&mut *out));
        serde_json::to_writer_pretty(&mut inside, first).map_err(io::Error::from)?;
        inside
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .finish()?;
        for part in rest {
            let part = part
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            let inside = part
                .strip_prefix(b"[\n")
                .and_then(|p| p.strip_suffix(b"\n]"))
                .ok_or_else(not_an_array)?;
            out.write_all(b",\n")?;
            out.write_all(inside)?;
        }
        out.write_all(b"\n]\n")
    })
}

/// Writes what a pretty array is written as, without its `[\n` and `\n]`.
struct Inside<W: Write> {
    inner: W,
    /// Bytes of the opening still to drop.
    skip: usize,
    /// The last bytes written, held back until more follow: the closing, at the end.
    tail: Vec<u8>,
}

impl<W: Write> Inside<W> {
    fn new(inner: W) -> Self {
        Inside {
            inner,
            skip: 2,
            tail: Vec::with_capacity(4),
        }
    }

    /// Checks that what was held back is the closing.
    fn finish(self) -> io::Result<()> {
        if self.skip == 0 && self.tail == b"\n]" {
            Ok(())
        } else {
            Err(not_an_array())
        }
    }
}

fn not_an_array() -> io::Error {
    io::Error::other("a part of a JSON list is not a pretty array")
}

impl<W: Write> Write for Inside<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let dropped = self.skip.min(buf.len());
        self.skip -= dropped;
        let bytes = &buf[dropped..];
        if let Some(keep) = bytes.len().checked_sub(2) {
            // Whatever was held, and all of `bytes` but its last two, can go.
            self.inner.write_all(&self.tail)?;
            self.tail.clear();
            self.inner.write_all(&bytes[..keep])?;
            self.tail.extend_from_slice(&bytes[keep..]);
        } else {
            self.tail.extend_from_slice(bytes);
            if let Some(keep) = self.tail.len().checked_sub(2) {
                self.inner.write_all(&self.tail[..keep])?;
                self.tail.drain(..keep);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Item {
        id: String,
        n: usize,
        nested: Vec<Option<f64>>,
        empty: Vec<u8>,
    }

    fn written(items: &[Item], list: bool) -> String {
        let mut out = Vec::new();
        if list {
            write_list(&mut out, items).unwrap();
        } else {
            write(&mut out, &items).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_long_list_is_written_in_parts_exactly_as_in_one() {
        for len in [
            0,
            1,
            PARALLEL_ITEMS - 1,
            PARALLEL_ITEMS,
            PARALLEL_ITEMS * 3 + 7,
        ] {
            let items: Vec<Item> = (0..len)
                .map(|n| Item {
                    id: format!("s{n}\u{1b}\""),
                    n,
                    nested: vec![Some(n as f64 / 3.0), None],
                    empty: Vec::new(),
                })
                .collect();
            assert_eq!(written(&items, true), written(&items, false), "{len} items");
        }
    }
}
