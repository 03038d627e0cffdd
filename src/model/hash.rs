//! The 64-bit FNV-1a hash: the one hash kept on disk (a summary's call chain, a pending call's
//! key, a collected event's id), so stable across builds and platforms, which std's hasher is
//! not.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// The FNV-1a hash of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(OFFSET, bytes)
}

/// The FNV-1a hash of `bytes` continued from `hash`, the hash of the bytes before them.
pub fn fnv1a_from(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}

/// The id that stands in for an id that held a secret: `redacted-` and 16 hex digits made from
/// it, the same each time, so that what names it (a child's parent, an event sent again) still
/// does.
pub fn stand_in_id(id: &str) -> String {
    format!("redacted-{:016x}", fnv1a(id.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_test_vectors_and_continues_a_hash() {
        // From the FNV reference's test suite.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(fnv1a_from(fnv1a(b"foo"), b"bar"), fnv1a(b"foobar"));
    }
}
