//! Base64 decoding of short blobs, so that a secret wrapped in base64 (`echo … | base64 -d`, a
//! Kubernetes Secret's data, a Docker `auth`) is found by the same rules as in clear text.

/// The longest blob (base64 characters) that is decoded and looked into at once; a longer run
/// (a file encoded whole, an image) is looked into a window of this size at a time, and only
/// where it may be text (`may_be_text`), so an image costs a few characters a window.
pub(super) const MAX_BLOB: usize = 4096;

/// The text a base64 blob (standard or URL-safe alphabet, padding optional, line breaks
/// ignored) decodes to, when it decodes to text; `None` for anything else (binary data, a hash,
/// a word that merely uses the alphabet).
pub(super) fn decoded_text(blob: &str) -> Option<String> {
    let bytes = decode(blob)?;
    // A window of a longer blob may end inside a character: the part before it is kept.
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) if e.utf8_error().error_len().is_none() => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).ok()?
        }
        Err(_) => return None,
    };
    // Text is printable: a blob that decodes to control bytes was not base64 of text.
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    (printable * 20 >= text.chars().count() * 19 && !text.is_empty()).then_some(text)
}

/// Whether `blob` may be the base64 of ASCII text, told without decoding it: every byte of
/// text is printable (0x20 to 0x7E) or a tab or line break (0x09 to 0x0D), so the first
/// character of each group of four (the top six bits of a byte) is one of `I`–`Z`, `a`–`f`
/// (values 8 to 31), `C` or `D` (2, 3). Line breaks in the blob are skipped.
pub(super) fn may_be_text(blob: &str) -> bool {
    blob.bytes()
        .filter(|b| !matches!(b, b'\n' | b'\r'))
        .step_by(4)
        .take_while(|&b| b != b'=')
        .all(|b| matches!(b, b'C' | b'D' | b'I'..=b'Z' | b'a'..=b'f'))
}

/// Decodes base64 in either alphabet; `None` when `blob` is not base64.
fn decode(blob: &str) -> Option<Vec<u8>> {
    let body = blob.trim_end_matches('=');
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let (mut standard, mut url_safe) = (false, false);
    let mut len = 0usize;
    for b in body.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'/' => {
                standard = true;
                if b == b'+' { 62 } else { 63 }
            }
            b'-' | b'_' => {
                url_safe = true;
                if b == b'-' { 62 } else { 63 }
            }
            b'\n' | b'\r' => continue,
            _ => return None,
        };
        len += 1;
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    // One alphabet only, and a length base64 can have (a lone leftover character cannot be).
    if (standard && url_safe) || len % 4 == 1 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_either_alphabet_with_or_without_padding() {
        assert_eq!(
            decoded_text("cGFzc3dvcmQ9aHVudGVyMg==").as_deref(),
            Some("password=hunter2")
        );
        assert_eq!(
            decoded_text("cGFzc3dvcmQ9aHVudGVyMg").as_deref(),
            Some("password=hunter2")
        );
        assert_eq!(decoded_text("Pz8_Pz8_Pz4").as_deref(), Some("???????>"));
        assert_eq!(
            decoded_text("b25lIHR3byB0aHJlZSBmb3VyIGZpdmUg\nc2l4").as_deref(),
            Some("one two three four five six")
        );
    }

    #[test]
    fn text_is_told_before_decoding() {
        for text in ["cGFzc3dvcmQ9aHVudGVyMg==", "T1BFTkFJX0FQSV9LRVk9c2st"] {
            assert!(may_be_text(text), "{text}");
        }
        for other in [
            "9f86d081884c7d659a2feaa0c55ad015",
            "home/dev/work/acme-platform",
            "internationalization",
        ] {
            assert!(!may_be_text(other), "{other}");
        }
    }

    #[test]
    fn hashes_words_and_binary_are_not_text() {
        for blob in [
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "internationalization",
            "home/dev/work/acme-platform",
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg",
            "abcde",
        ] {
            assert_eq!(decoded_text(blob), None, "{blob}");
        }
    }
}
