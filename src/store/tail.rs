//! The mark a cache keeps of the bytes of a file it folded just before where it stopped: how it
//! tells that file grown by an append from one rewritten in place, longer, since.

use std::fs::File;
use std::hash::BuildHasher;
use std::os::unix::fs::FileExt;

/// How many bytes before the offset are compared: the last event or two, enough to tell
/// another file from the one folded, read in one call.
const TAIL: u64 = 4096;

/// The hash of the (at most [`TAIL`]) bytes of `file` just before `offset`; `None` when the
/// file does not hold them (it is shorter, or cannot be read), which no cache's mark matches.
/// The hash is foldhash's with a fixed seed: not promised the same across its versions, and a
/// mark that differs only means folding again from the start.
pub(crate) fn tail_mark(file: &File, offset: u64) -> Option<u64> {
    let len = offset.min(TAIL);
    let mut bytes = vec![0; usize::try_from(len).ok()?];
    file.read_exact_at(&mut bytes, offset - len).ok()?;
    Some(foldhash::fast::FixedState::with_seed(0).hash_one(&bytes))
}
