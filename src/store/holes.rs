//! Reading past the holes of a sparse events file: one `truncate` to a terabyte more makes a
//! hole of zeros that takes hours to read, and `list`, `watch` and `replay --follow` read it
//! before they showed anything.
//!
//! A hole holds no newline: it is part of one line, too long to be an event, whatever its
//! length past [`LINE_LIMIT`]. So of a longer hole only its last `LINE_LIMIT + 1` bytes are
//! read (milliseconds), and every reader reports that line as it did: too long, skipped.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};

use super::files::LINE_LIMIT;

/// How much of a hole is read: enough that its line is still too long to be an event.
const HOLE_KEPT: u64 = LINE_LIMIT as u64 + 1;

/// A file read past its holes, keeping [`HOLE_KEPT`] bytes of each.
pub(crate) struct SkipHoles {
    file: File,
    /// The last read ended in a zero byte: a hole may follow.
    in_zeros: bool,
    /// The bytes passed over since [`SkipHoles::take_skipped`].
    skipped: u64,
}

impl SkipHoles {
    pub(crate) fn new(file: File) -> SkipHoles {
        SkipHoles {
            file,
            in_zeros: false,
            skipped: 0,
        }
    }

    /// `file` read past its holes from where it stands, through a buffer of at most `most`
    /// bytes, and no larger than what is left of the file (4 KiB at least). A buffer over a
    /// reader other than a plain `File` is zeroed whole before its first read: 256 KiB for a
    /// session of 15 KB was a tenth of the work of building the index from nothing.
    pub(crate) fn buffered(mut file: File, most: usize) -> BufReader<SkipHoles> {
        let left = match (file.metadata(), file.stream_position()) {
            (Ok(meta), Ok(at)) => meta.len().saturating_sub(at),
            _ => most as u64,
        };
        // One byte more than is left, so that the read that finds the end needs no refill.
        let size = usize::try_from(left.saturating_add(1))
            .unwrap_or(most)
            .clamp(4096, most.max(4096));
        BufReader::with_capacity(size, SkipHoles::new(file))
    }

    /// The bytes passed over since the last call: a reader counting offsets adds them to the
    /// line being read (a hole is inside one line).
    pub(crate) fn take_skipped(&mut self) -> u64 {
        std::mem::take(&mut self.skipped)
    }

    /// The file read.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }
}

/// Moves `file` on to [`HOLE_KEPT`] bytes before the next data (or its end), when that is
/// ahead, and returns how many bytes it passed over. The end is taken before the look for data:
/// what is appended meanwhile is never passed over. A file system that cannot tell holes is
/// read as it is.
pub(crate) fn skip_hole(file: &mut File) -> std::io::Result<u64> {
    let at = file.stream_position()?;
    let len = file.metadata()?.len();
    let Some(data) = next_data(file, at, len) else {
        file.seek(SeekFrom::Start(at))?;
        return Ok(0);
    };
    let to = data.saturating_sub(HOLE_KEPT).max(at);
    file.seek(SeekFrom::Start(to))?;
    Ok(to - at)
}

/// Where the data after `at` begins (`len`, the end, when none does), if the system says.
#[cfg(target_os = "linux")]
fn next_data(file: &File, at: u64, len: u64) -> Option<u64> {
    match rustix::fs::seek(file, rustix::fs::SeekFrom::Data(at)) {
        Ok(data) => Some(data),
        Err(rustix::io::Errno::NXIO) => Some(len),
        Err(_) => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn next_data(_file: &File, _at: u64, _len: u64) -> Option<u64> {
    None
}

impl Read for SkipHoles {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.in_zeros {
            self.skipped += skip_hole(&mut self.file)?;
        }
        let n = self.file.read(buf)?;
        self.in_zeros = n > 0 && buf[n - 1] == 0;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, Seek, SeekFrom, Write};

    use super::SkipHoles;

    /// The buffer is as large as what is left of the file, within 4 KiB and the most asked for,
    /// and the file reads whole through it.
    #[test]
    fn a_buffer_is_as_large_as_what_is_left_to_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let line = format!("{{\"pad\": \"{}\"}}\n", "x".repeat(98));
        let mut file = std::fs::File::create(&path).unwrap();
        for _ in 0..200 {
            file.write_all(line.as_bytes()).unwrap();
        }
        let capacity = |from: u64, most: usize| {
            let mut file = std::fs::File::open(&path).unwrap();
            file.seek(SeekFrom::Start(from)).unwrap();
            let reader = SkipHoles::buffered(file, most);
            let capacity = reader.capacity();
            let lines = reader.lines().count();
            (capacity, lines)
        };
        let size = 200 * line.len();
        assert_eq!(capacity(0, 256 * 1024), (size + 1, 200));
        assert_eq!(capacity(0, 8192), (8192, 200));
        assert_eq!(
            capacity(150 * line.len() as u64, 256 * 1024),
            (50 * line.len() + 1, 50)
        );
        assert_eq!(capacity(size as u64 - 10, 256 * 1024), (4096, 1));
    }
}
