//! The self-contained HTML page of `replay --format html` and `share`: one file with its
//! style, its script and the page model (`analysis::page`) embedded as JSON, and nothing that
//! loads from anywhere else.
//!
//! # Safety
//! The page's Content-Security-Policy allows no source at all (`default-src 'none'`) but the
//! page's own script, named by its SHA-256 hash, inline styles and `data:` images: a script a
//! session managed to put in the page would not run, and nothing is fetched. The model is
//! JSON inside `<script type="application/json">`, with `<`, `>`, `&`, U+2028 and U+2029
//! written as `\u` escapes (and the characters a terminal acts on, as every output writes
//! them), so no text a session recorded can end the block (`</script>`) or open a comment;
//! the script reads the block as text and puts what a session recorded into the page as text
//! (`textContent`), never as markup.
//!
//! # Parts
//! `page.html` (the frame, with `{{…}}` slots), `page.css` and `page.js`, included at build
//! time; [`script_json`] escapes the model on its way into the page; the script is named by
//! its hash ([`sha256`]) as written.

use std::io::{self, Write};

use crate::analysis::page::Page;
use crate::model::sha256::sha256;
use script_json::ScriptJson;

mod script_json;

const TEMPLATE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Writes the page of `page` to `out`, its model serialized straight into it: the page of a
/// session of hundreds of megabytes is never held as text, only as its model.
pub fn write(out: &mut (impl Write + ?Sized), page: &Page) -> io::Result<()> {
    let hash = base64(&sha256(SCRIPT.as_bytes()));
    let mut rest = TEMPLATE;
    while let Some(start) = rest.find("{{") {
        out.write_all(&rest.as_bytes()[..start])?;
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.write_all(&rest.as_bytes()[start..])?;
            return Ok(());
        };
        match &after[..end] {
            "SCRIPT_HASH" => out.write_all(hash.as_bytes())?,
            "VERSION" => out.write_all(env!("CARGO_PKG_VERSION").as_bytes())?,
            "STYLE" => out.write_all(STYLE.as_bytes())?,
            "SCRIPT" => out.write_all(SCRIPT.as_bytes())?,
            "DATA" => write_data(out, page)?,
            other => out.write_all(format!("{{{{{other}}}}}").as_bytes())?,
        }
        rest = &after[end + 2..];
    }
    out.write_all(rest.as_bytes())
}

/// The page's model as JSON made safe inside a `<script>` element (see [`script_json`]).
/// serde writes many small pieces: they are gathered before they are escaped.
fn write_data(out: &mut (impl Write + ?Sized), page: &Page) -> io::Result<()> {
    let mut json = io::BufWriter::with_capacity(64 * 1024, ScriptJson::new(out));
    serde_json::to_writer(&mut json, page)?;
    json.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .finish()?;
    Ok(())
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_and_base64_match_the_standard_vectors() {
        // FIPS 180-4's "abc" and the empty message, as a CSP hash (base64) writes them.
        assert_eq!(
            base64(&sha256(b"abc")),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(
            base64(&sha256(b"")),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        let long = vec![b'a'; 1000];
        assert_eq!(
            base64(&sha256(&long)),
            "Qe3s5C1j6Nm/UVqbppMuHCDLyfWl0TRkWttdsblzfqM="
        );
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"a"), "YQ==");
    }

    #[test]
    fn json_in_a_script_cannot_close_it() {
        let value =
            serde_json::json!({"p": "</script><img src=x onerror=alert(1)>&\u{2028}\u{2029}<!--"});
        let mut out = ScriptJson::new(Vec::new());
        serde_json::to_writer(&mut out, &value).unwrap();
        let text = String::from_utf8(out.finish().unwrap()).unwrap();
        for bad in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!text.contains(bad), "{bad} in {text}");
        }
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
