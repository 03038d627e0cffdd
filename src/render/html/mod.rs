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
//! time; [`script_json`] escapes the model on its way into the page. [`sha256`] is here
//! because the hash is of the script as written, and a dependency for thirty lines of a
//! well-known function is not worth its weight.

use std::io::{self, Write};

use crate::analysis::page::Page;
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

/// SHA-256 (FIPS 180-4) of `data`.
#[expect(
    clippy::many_single_char_names,
    reason = "the standard's names for its working variables"
)]
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a_2f98,
        0x7137_4491,
        0xb5c0_fbcf,
        0xe9b5_dba5,
        0x3956_c25b,
        0x59f1_11f1,
        0x923f_82a4,
        0xab1c_5ed5,
        0xd807_aa98,
        0x1283_5b01,
        0x2431_85be,
        0x550c_7dc3,
        0x72be_5d74,
        0x80de_b1fe,
        0x9bdc_06a7,
        0xc19b_f174,
        0xe49b_69c1,
        0xefbe_4786,
        0x0fc1_9dc6,
        0x240c_a1cc,
        0x2de9_2c6f,
        0x4a74_84aa,
        0x5cb0_a9dc,
        0x76f9_88da,
        0x983e_5152,
        0xa831_c66d,
        0xb003_27c8,
        0xbf59_7fc7,
        0xc6e0_0bf3,
        0xd5a7_9147,
        0x06ca_6351,
        0x1429_2967,
        0x27b7_0a85,
        0x2e1b_2138,
        0x4d2c_6dfc,
        0x5338_0d13,
        0x650a_7354,
        0x766a_0abb,
        0x81c2_c92e,
        0x9272_2c85,
        0xa2bf_e8a1,
        0xa81a_664b,
        0xc24b_8b70,
        0xc76c_51a3,
        0xd192_e819,
        0xd699_0624,
        0xf40e_3585,
        0x106a_a070,
        0x19a4_c116,
        0x1e37_6c08,
        0x2748_774c,
        0x34b0_bcb5,
        0x391c_0cb3,
        0x4ed8_aa4a,
        0x5b9c_ca4f,
        0x682e_6ff3,
        0x748f_82ee,
        0x78a5_636f,
        0x84c8_7814,
        0x8cc7_0208,
        0x90be_fffa,
        0xa450_6ceb,
        0xbef9_a3f7,
        0xc671_78f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    let mut message = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bits.to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (t, word) in block.chunks_exact(4).enumerate() {
            w[t] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16]
                .wrapping_add(s0)
                .wrapping_add(w[t - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for t in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[t])
                .wrapping_add(w[t]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, value) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(value);
        }
    }
    let mut digest = [0u8; 32];
    for (chunk, word) in digest.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    digest
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
