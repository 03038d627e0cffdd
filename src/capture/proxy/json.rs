//! A message's JSON read as the peers of an MCP proxy read it, for the record and the policy:
//! JavaScript's `JSON.parse` (behind a body decoded as UTF-8) and Python's `json` take what
//! `serde_json` refuses, so a message one of them sends or reads must not be taken for
//! malformed here. Only what we make of the bytes changes; what passes never does.
//!
//! - A lone UTF-16 surrogate escape (`"\ud83d"`, the half of an emoji that a JavaScript
//!   `slice()` leaves, or Python's escape of a file name that is not UTF-8) is read as U+FFFD,
//!   as Node turns it into UTF-8.
//! - Bytes that are not UTF-8 are read as U+FFFD, as a body decoded as UTF-8 reads them.
//! - A UTF-8 byte-order mark before the message is skipped, as a body decoded as UTF-8 skips it.
//! - A message nested deeper than serde_json's 128 levels is read as deep as [`deep_json`]
//!   reads, as a server's `JSON.parse` reads it.
//! - A number too large for a double (`1e400`: Node reads `Infinity`, Python `inf`) is read as
//!   `null`, as are the `NaN` and `Infinity` Python writes and reads.

use std::borrow::Cow;

use serde_json::Value;

use crate::model::{deep_json, json_mend};

const BOM: &[u8] = b"\xef\xbb\xbf";

/// Reads one message (or batch); the error is `serde_json`'s on the bytes as they came when
/// even the mended bytes do not read.
pub fn read(body: &[u8]) -> serde_json::Result<Value> {
    let error = match deep_json::from_slice(body) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    match mended(body) {
        Some(mended) => deep_json::from_slice(&mended).map_err(|_| error),
        None => Err(error),
    }
}

/// `body` with what [`read`] forgives made plain JSON, or `None` when it holds none of it. The
/// store's one mender ([`crate::model::json_mend`]) does the surrogates and the numbers.
fn mended(body: &[u8]) -> Option<Vec<u8>> {
    let (body, stripped) = match body.strip_prefix(BOM) {
        Some(rest) => (rest, true),
        None => (body, false),
    };
    let text = String::from_utf8_lossy(body);
    let mut changed = stripped || matches!(text, Cow::Owned(_));
    let mut out = Cow::Borrowed(text.as_bytes());
    if let Some(mended) = json_mend::replace_lone_surrogates(&out) {
        out = Cow::Owned(mended);
        changed = true;
    }
    if let Some(mended) = json_mend::replace_non_json_numbers(&out) {
        out = Cow::Owned(mended);
        changed = true;
    }
    changed.then(|| out.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_javascript_and_python_send_reads() {
        let cases: [(&[u8], Value); 7] = [
            (br#"{"t":"a\ud83d"}"#, json!({"t": "a\u{fffd}"})),
            (br#"{"t":"\udcc3\ud83d\ude00"}"#, json!({"t": "\u{fffd}😀"})),
            (br#"{"t":"\\ud800"}"#, json!({"t": "\\ud800"})),
            (b"{\"t\":\"caf\xe9\"}", json!({"t": "caf\u{fffd}"})),
            (b"\xef\xbb\xbf{\"t\":1}", json!({"t": 1})),
            (br#"{"n":1e400,"m":-1E+999}"#, json!({"n": null, "m": null})),
            (
                br#"{"n":NaN,"t":"1e400 \ud83d"}"#,
                json!({"n": null, "t": "1e400 \u{fffd}"}),
            ),
        ];
        for (bytes, value) in cases {
            assert_eq!(
                read(bytes).unwrap(),
                value,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn what_is_not_json_stays_an_error_about_the_bytes_as_they_came() {
        let e = read(b"{\"t\":\"\\ud800\" oops}").unwrap_err();
        assert!(e.to_string().contains("hex escape"), "{e}");
        assert!(read(b"[1, 2").is_err());
    }
}
