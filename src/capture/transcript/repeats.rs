//! Entries and content blocks a transcript holds more than once, so that each is counted once.
//!
//! A resumed or forked conversation copies its history into the file again: the same entries
//! (same `uuid`), or copies of them with new uuids but the same tool-use ids, message ids,
//! texts and timestamps, sometimes with the blocks of one line spread over several. Tokens are
//! already counted once per API response ([`super::responses`]); this is the same rule for
//! what the import makes events of. An entry is a repeat when its uuid was met before; a block
//! when its identity was: a tool call by its id, a tool result by the call it answers, a text
//! by its timestamp and words (a copy keeps both; two different texts never share both).
//! Blocks without an identity (images, kinds we do not know, texts without a timestamp) are
//! never taken for repeats.
//!
//! The identities are kept as stable hashes ([`stable_hash`]), so memory does not grow with their
//! length and an import can keep the set to bring the file up to date later.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use super::wire::Block;

/// A set of hashes: they are hashed already, so the set takes them as they are.
pub type HashedSet = HashSet<u64, BuildHasherDefault<Hashed>>;

/// The hasher of [`HashedSet`]: a key that is a hash already is its own hash.
#[derive(Debug, Default)]
pub struct Hashed(u64);

impl Hasher for Hashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = stable_hash(self.0, bytes);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A hash of `bytes` continued from `seed`, the same on every build and platform (it is kept on
/// disk), eight bytes at a time: an import hashes every text it reads, and the whole last line
/// it read (which can hold megabytes of images).
pub fn stable_hash(seed: u64, bytes: &[u8]) -> u64 {
    let mut hasher = StableHasher::new(seed, bytes.len() as u64);
    hasher.update(bytes);
    hasher.finish()
}

const PRIME: u64 = 0x0100_0000_01b3;

/// [`stable_hash`] of bytes that come in pieces, so that a line of gigabytes is hashed without
/// being held: its length is known first (it is mixed in before any byte), and fed pieces
/// hash as the whole would.
#[derive(Debug, Clone)]
pub struct StableHasher {
    h: u64,
    /// The bytes of a word not complete yet.
    carry: [u8; 8],
    carried: usize,
}

impl StableHasher {
    pub fn new(seed: u64, len: u64) -> Self {
        Self {
            h: seed ^ 0xcbf2_9ce4_8422_2325 ^ len.wrapping_mul(PRIME),
            carry: [0; 8],
            carried: 0,
        }
    }

    pub fn update(&mut self, mut bytes: &[u8]) {
        if self.carried > 0 {
            let taken = bytes.len().min(8 - self.carried);
            self.carry[self.carried..self.carried + taken].copy_from_slice(&bytes[..taken]);
            self.carried += taken;
            bytes = &bytes[taken..];
            if self.carried < 8 {
                return;
            }
            self.h = mix_word(self.h, self.carry);
            self.carried = 0;
        }
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.h = mix_word(self.h, w);
        }
        let rest = words.remainder();
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
    }

    pub fn finish(&self) -> u64 {
        let mut h = self.h;
        for &b in &self.carry[..self.carried] {
            h = (h ^ u64::from(b)).wrapping_mul(PRIME);
        }
        // Mixes the last words into every bit (the finaliser of MurmurHash3).
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

fn mix_word(h: u64, word: [u8; 8]) -> u64 {
    (h ^ u64::from_le_bytes(word))
        .wrapping_mul(PRIME)
        .rotate_left(29)
}

/// What was met so far in one transcript file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Repeats(HashedSet);

impl Repeats {
    /// Notes an entry by its uuid; false when it was met before. An entry without one is new.
    pub fn entry(&mut self, uuid: Option<&str>) -> bool {
        uuid.is_none_or(|uuid| self.0.insert(hash(&[b"entry", uuid.as_bytes()])))
    }

    /// Notes a content block of an entry written at `timestamp`; false when it was met before.
    pub fn block(&mut self, timestamp: Option<&str>, block: &Block<'_>) -> bool {
        let key = match block.kind.as_deref() {
            Some("tool_use") => block
                .id
                .as_deref()
                .map(|id| hash(&[b"call", id.as_bytes()])),
            Some("tool_result") => block
                .tool_use_id
                .as_deref()
                .map(|id| hash(&[b"result", id.as_bytes()])),
            Some("text") => match (timestamp, block.text.as_deref()) {
                (Some(at), Some(text)) => Some(hash(&[b"text", at.as_bytes(), text.as_bytes()])),
                _ => None,
            },
            _ => None,
        };
        key.is_none_or(|key| self.0.insert(key))
    }
}

/// A stable hash of parts.
fn hash(parts: &[&[u8]]) -> u64 {
    // Each part's length goes into its hash, so no two lists of parts hash alike by moving a
    // boundary.
    parts.iter().fold(0, |h, part| stable_hash(h, part))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(json: &str) -> Block<'_> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_hash_is_what_earlier_builds_kept_on_disk_and_pieces_hash_as_the_whole() {
        let text = b"the quick brown fox jumps over the lazy dog\n";
        // Worked out apart from this code: imports kept these before the hash came in pieces.
        assert_eq!(stable_hash(0, b""), 0xefd0_1f60_ba99_2926);
        assert_eq!(stable_hash(0, text), 0x6235_c609_b6ce_ff4e);
        for first in 0..text.len() {
            for second in first..text.len() {
                let mut hasher = StableHasher::new(7, text.len() as u64);
                hasher.update(&text[..first]);
                hasher.update(&text[first..second]);
                hasher.update(&text[second..]);
                assert_eq!(hasher.finish(), stable_hash(7, text), "{first} {second}");
            }
        }
    }

    #[test]
    fn copies_of_calls_results_and_texts_are_repeats_and_the_rest_is_not() {
        let mut seen = Repeats::default();
        assert!(seen.entry(Some("u1")));
        assert!(!seen.entry(Some("u1")));
        assert!(seen.entry(None) && seen.entry(None));

        let call = r#"{"type":"tool_use","id":"toolu_1","name":"Bash"}"#;
        assert!(seen.block(Some("t1"), &block(call)));
        // A copy of a call is a repeat whenever it is written.
        assert!(!seen.block(Some("t9"), &block(call)));
        let result = r#"{"type":"tool_result","tool_use_id":"toolu_1"}"#;
        assert!(seen.block(Some("t2"), &block(result)));
        assert!(!seen.block(Some("t2"), &block(result)));

        let text = r#"{"type":"text","text":"go on"}"#;
        assert!(seen.block(Some("t3"), &block(text)));
        assert!(!seen.block(Some("t3"), &block(text)));
        // The same words typed again later are a new prompt; without a time, always new.
        assert!(seen.block(Some("t4"), &block(text)));
        assert!(seen.block(None, &block(text)) && seen.block(None, &block(text)));
        let image = r#"{"type":"image"}"#;
        assert!(seen.block(Some("t5"), &block(image)) && seen.block(Some("t5"), &block(image)));
    }
}
