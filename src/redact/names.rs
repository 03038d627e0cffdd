//! What a name says about the value beside it: a secret (`password`, `api_key`), a secret
//! unless the value is a setting word (`BASIC_AUTH`, not `SKIP_AUTH=1`), maybe one
//! (`STRIPE_KEY`, `signing_salt`: only when the value looks random), or nothing; and whether a
//! value looks random enough to be a credential.

/// How sure a name is to hold a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Name {
    /// Says nothing about its value.
    Plain,
    /// Often holds a secret, often not (`SORT_KEY` does not): its value is redacted when it
    /// looks random.
    Maybe,
    /// Holds a secret, unless its value is a word of [`SETTING_WORDS`]: a name whose last word
    /// is `auth` or `oauth` holds a credential (`BASIC_AUTH=alice:…`, `GITHUB_OAUTH=…`) as
    /// often as a switch or a scheme (`SKIP_AUTH=1`, `HTTP_AUTH=basic`, `ENABLE_OAUTH=1`).
    SecretOrSetting,
    /// Holds a secret whatever its value looks like.
    Secret,
}

impl Name {
    /// Whether a value stored under a name of this kind is kept for being a setting word.
    pub(super) fn keeps_setting(self, value: &str) -> bool {
        self == Name::SecretOrSetting && is_listed(SETTING_WORDS, &value.to_ascii_lowercase())
    }
}

/// Values that say whether or how a name ending in `auth` or `oauth` authenticates, never
/// with what.
const SETTING_WORDS: &str = "\
    0 1 true false yes no on off none null enabled disabled required optional basic bearer \
    digest oauth oauth2 token kerberos ntlm";

/// Word pieces without which no name says anything of its value: most keys have none, and
/// are told so without splitting them into words.
const NAME_PIECES: [&[u8]; 13] = [
    b"pass", b"pw", b"secret", b"cred", b"cookie", b"auth", b"key", b"token", b"sig", b"salt",
    b"hmac", b"otp", b"priv",
];

/// What `key` says about the value stored under it. A path names its last part
/// (`/prod/api/DB_PASSWORD`), and a file name (`review_token_store.ex`) names nothing.
pub(super) fn name_kind(key: &str) -> Name {
    let key = key.rsplit(['/', '\\']).next().unwrap_or(key);
    if !has_name_piece(key.as_bytes()) || is_file_name(key) {
        return Name::Plain;
    }
    // The keys that get this far are few and come back in every event (`input_tokens`,
    // `cache_read_input_tokens` …): their words are split once a thread.
    if key.len() > KNOWN_KEY_LEN {
        return kind_by_words(key);
    }
    KNOWN_KINDS.with_borrow_mut(|known| {
        if let Some(&kind) = known.get(key) {
            return kind;
        }
        let kind = kind_by_words(key);
        if known.len() < KNOWN_KEYS {
            known.insert(key.into(), kind);
        }
        kind
    })
}

/// What `PWD` says of its value: an ODBC connection's password (`UID=alice;PWD=…`,
/// `{"UID": "alice", "PWD": …}`) where the value is no folder, as the shell's `PWD` always is
/// (`/home/dev`, `C:\Users\dev`, `$HOME`).
pub(super) fn pwd_kind(value: &str) -> Name {
    let drive = value.as_bytes().get(1) == Some(&b':');
    let folder = value.is_empty() || drive || value.starts_with(['/', '~', '$', '\\', '.']);
    if folder { Name::Plain } else { Name::Secret }
}

/// The longest key, and the most keys, [`name_kind`] remembers a thread.
const KNOWN_KEY_LEN: usize = 64;
const KNOWN_KEYS: usize = 4096;

thread_local! {
    static KNOWN_KINDS: std::cell::RefCell<
        std::collections::HashMap<Box<str>, Name, foldhash::fast::RandomState>,
    > = std::cell::RefCell::default();
}

/// The bytes a piece of [`NAME_PIECES`] starts with, in either case.
static PIECE_STARTS: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < NAME_PIECES.len() {
        let first = NAME_PIECES[i][0];
        table[first as usize] = true;
        table[first.to_ascii_uppercase() as usize] = true;
        i += 1;
    }
    table
};

/// Whether `key` holds one of [`NAME_PIECES`] (ASCII case ignored), in one pass.
fn has_name_piece(key: &[u8]) -> bool {
    (0..key.len()).any(|i| {
        PIECE_STARTS[usize::from(key[i])]
            && NAME_PIECES.iter().any(|piece| {
                key.get(i..i + piece.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(piece))
            })
    })
}

fn kind_by_words(key: &str) -> Name {
    if is_sensitive_key(key) {
        Name::Secret
    } else if is_auth_key(key) {
        Name::SecretOrSetting
    } else if is_maybe_secret_key(key) {
        Name::Maybe
    } else {
        Name::Plain
    }
}

/// Fragments that mark a key as secret wherever they appear in its squashed form (lowercased,
/// separators removed), so `client_secret`, `x-api-key`, `apiKey`, `DB_PASSWORD` and
/// `Set-Cookie` all match.
const SENSITIVE_FRAGMENTS: &str = "\
    password passwd passphrase passcode secret credential cookie authorization apikey \
    accesskey accountkey privatekey signingkey encryptionkey masterkey authkey storepass \
    keypass";

/// Last words that turn a secret-sounding key into metadata *about* the secret: its size, its
/// type, where it is stored, when it expires, how it is hashed. `token_count`, `password_file`
/// and PostgreSQL's `password_encryption` (`scram-sha-256`) hold no secret.
const METADATA_SUFFIXES: &str = "\
    count counts total limit limits max min len length size usage used remaining budget \
    estimate type types expiry expires expiration ttl file path dir url uri endpoint env \
    var name helper stdin hint encryption";

/// First words that make a key a counter (`max_token`, `num_token`).
const COUNTER_PREFIXES: &str = "max min num total";

/// Whether values stored under `key` must be redacted.
///
/// Matching is by words, so casing and separator style do not matter (`access_token`,
/// `accessToken`, `ACCESS-TOKEN`). A word ending in `token` is a secret, but a word ending in
/// `tokens` is an LLM usage counter (`max_tokens`, `cache_read_input_tokens`) and is kept.
pub(super) fn is_sensitive_key(key: &str) -> bool {
    // The shell's working-directory variables share their name with "pwd" for password but
    // only ever hold a path, and they appear in every environment dump.
    if key == "PWD" || key.eq_ignore_ascii_case("oldpwd") {
        return false;
    }
    let words = split_words(key);
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return false;
    };
    if words.len() > 1 && (is_listed(METADATA_SUFFIXES, last) || is_listed(COUNTER_PREFIXES, first))
    {
        return false;
    }
    let squashed = words.concat();
    SENSITIVE_FRAGMENTS
        .split_ascii_whitespace()
        .any(|f| squashed.contains(f))
        // Singular only: a word ending in `tokens` is a usage counter, never a credential.
        || words.iter().any(|w| w.ends_with("token") || w.ends_with("pwd"))
        // `SMTP_CREDS`, `db_cred`; `incredible` and `credit` are other words.
        || words.iter().any(|w| w == "cred" || w == "creds")
        // `db_pass`, `MYSQL_PASS`; a bare `pass` is usually a test-result counter.
        || (words.len() > 1 && last == "pass")
        // `ADMIN_PW`, `pw`; only last, as Playwright's `PW_TEST_…` settings start with it.
        || last == "pw"
}

/// Whether `key`'s last word is `auth` or `oauth` (`BASIC_AUTH`, `npmAuth`, `proxy-auth`,
/// `auth`, `GITHUB_OAUTH`, `githubOAuth`, `--oauth`): a secret name, unless its value is a
/// setting word ([`Name::SecretOrSetting`]). `AUTH_TYPE` and `oauth_mode` say something else,
/// and a counter (`max_auth`) holds a number.
fn is_auth_key(key: &str) -> bool {
    let words = split_words(key);
    // `OAuth` is split as `o`, `auth`; `OAuth2` as `o`, `auth2`.
    words.last().is_some_and(|w| is_listed(AUTH_LAST_WORDS, w))
        && !(words.len() > 1 && is_listed(COUNTER_PREFIXES, &words[0]))
}

/// The last words of names that hold a credential or a setting ([`is_auth_key`]).
const AUTH_LAST_WORDS: &str = "auth oauth auth2 oauth2";

/// Last words of names that hold a secret as often as not: `STRIPE_KEY`, `webhook_sig`,
/// `PASSWORD_SALT`.
const MAYBE_LAST: &str = "key sig signature salt hmac otp";

/// Words that make a `…_key` name a database or cache key, a public key or an index.
const NOT_SECRET_WORDS: &str = "\
    cache sort partition primary foreign public pub row range hash lookup idempotency dedup \
    dedupe object bucket group routing shard composite unique index event message item entity \
    record cursor page map dict hot host ssh gpg pgp kms";

/// Whether `key` names a value that is a secret when it looks random.
fn is_maybe_secret_key(key: &str) -> bool {
    let words = split_words(key);
    words.len() > 1
        && words.last().is_some_and(|w| is_listed(MAYBE_LAST, w))
        && !words.iter().any(|w| is_listed(NOT_SECRET_WORDS, w))
}

/// Whether `name` is written like a variable (`STRIPE_KEY`, `apiToken`, `TOKEN`), as opposed to
/// a word of prose (`token`, `Key`) or a sentence.
pub(super) fn is_identifier_like(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && (split_words(name).len() > 1
            || (name.len() >= 4 && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')))
}

/// Whether `name` is written as an HTTP header's name: capitalised words joined by `-`
/// (`Authorization`, `X-OAuth`, `X-Api-Key`, `X-AUTH-TOKEN`), or lowercase ones, as HTTP/2
/// and Node's raw headers write every name (`authorization`, `x-api-key`).
pub(super) fn is_header_name(name: &str) -> bool {
    let capitalised = |word: &str| word.starts_with(|c: char| c.is_ascii_uppercase());
    let lowercase = !name.bytes().any(|b| b.is_ascii_uppercase());
    !name.is_empty()
        && name.split('-').all(|word| {
            word.starts_with(|c: char| c.is_ascii_alphabetic())
                && word.bytes().all(|b| b.is_ascii_alphanumeric())
                && (lowercase || capitalised(word))
        })
}

/// Extensions that make a `name.ext` a file name (a key of a map by file, a compiler's or
/// grep's `file:line:`).
const FILE_EXTENSIONS: &str = "\
    rs py js mjs cjs ts tsx jsx go rb java kt kts c h cc cpp hpp cs php swift scala sh bash zsh \
    fish ps1 json yaml yml toml ini cfg conf md txt html css scss xml sql lock log tf hcl ex exs \
    erl hrl hs ml elm dart lua r jl vue svelte astro pl pm clj cljs zig nim";

pub(super) fn is_file_name(key: &str) -> bool {
    key.rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && is_listed(FILE_EXTENSIONS, ext))
}

/// Whether `word` is one of the space-separated words of `list`.
pub(super) fn is_listed(list: &str, word: &str) -> bool {
    list.split_ascii_whitespace().any(|listed| listed == word)
}

/// Splits an identifier into lowercase words at separators and camelCase boundaries:
/// `xApiKey` and `X-API-Key` both give `["x", "api", "key"]`.
pub(super) fn split_words(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // `apiKey` -> api|Key; `APIKey` -> API|Key (the last capital starts a new word).
            if prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_is_lower) {
                words.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether a value looks like a generated credential rather than a word, a path, a number or
/// a sentence: 16 to 1,024 characters of the alphabets tokens are written in (base64,
/// base64url, hex), letters mixed with digits or both cases, no long run of lowercase letters
/// (a word; a run of hex letters is none), and at least 3 bits of entropy a character; a
/// `base64:` before it is not counted.
pub(super) fn looks_random(value: &str) -> bool {
    let s = value.trim_matches(|c| c == '"' || c == '\'');
    // Laravel's `APP_KEY=base64:…` (and what else writes a key so) says how the key is written.
    let s = s.strip_prefix("base64:").unwrap_or(s);
    let len = s.len();
    if !(16..=1024).contains(&len) || s == super::REDACTED {
        return false;
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=_-.~".contains(&b))
        || s.starts_with(['/', '.', '~'])
        || is_assignment(s)
    {
        return false;
    }
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let upper = s.bytes().filter(u8::is_ascii_uppercase).count();
    let lower = s.bytes().filter(u8::is_ascii_lowercase).count();
    let classes = usize::from(digits > 0) + usize::from(upper > 0) + usize::from(lower > 0);
    if classes < 2 || (digits == 0 && len < 20) {
        return false;
    }
    // A run of 8 lowercase letters is a word, unless they are all hex digits (`…deadbeef…`
    // in a hex key, as one random key of a hundred holds).
    let (mut run, mut word) = (0, false);
    for b in s.bytes() {
        (run, word) = if b.is_ascii_lowercase() {
            (run + 1, word || b > b'f')
        } else {
            (0, false)
        };
        if run >= 8 && word {
            return false;
        }
    }
    entropy(s) >= 3.0
}

/// Whether `s` is a name, then `=` and a value (`CREDS_PATH=/etc/creds`, the next assignment
/// of a command line): base64 has `=` only as padding at its end, and a name is written in one
/// case, where a run of base64 before a `=` mixes both.
fn is_assignment(s: &str) -> bool {
    let Some((name, value)) = s.split_once('=') else {
        return false;
    };
    let one_case = !(name.bytes().any(|b| b.is_ascii_uppercase())
        && name.bytes().any(|b| b.is_ascii_lowercase()));
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && one_case
        && value.bytes().any(|b| b != b'=')
}

/// Shannon entropy of the bytes of `s`, in bits a byte.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let len = f64::from(u32::try_from(s.len()).unwrap_or(u32::MAX));
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maybe_names_need_a_random_value() {
        for key in [
            "STRIPE_KEY",
            "algolia_admin_key",
            "webhookSig",
            "PASSWORD_SALT",
            "license_key",
            "/prod/payments/DB_PASSWORD",
        ] {
            assert_ne!(name_kind(key), Name::Plain, "{key}");
        }
        for key in [
            "key",
            "sort_key",
            "partition_key",
            "CACHE_KEY",
            "public_key",
            "primaryKey",
            "idempotency_key",
            "PUBLIC_KEY_PATH",
            "ssh_key",
            "monkey",
            "TOKEN_TTL",
            "PASSWORD_HINT",
            "lib/spotter/services/review_token_store.ex",
            "password_reset.rs",
        ] {
            assert_eq!(name_kind(key), Name::Plain, "{key}");
        }
    }

    #[test]
    fn a_name_ending_in_auth_holds_a_secret_unless_a_setting() {
        for key in [
            "auth",
            "_auth",
            "BASIC_AUTH",
            "npmAuth",
            "proxy-auth",
            "X-Auth",
            "OAUTH",
            "GITHUB_OAUTH",
            "githubOAuth",
            "google-oauth2",
            "slackOAuth2",
        ] {
            assert_eq!(name_kind(key), Name::SecretOrSetting, "{key}");
        }
        for key in [
            "AUTH_TYPE",
            "auth_mode",
            "authMethod",
            "max_auth",
            "OAUTH_PROVIDER",
            "oauth_callback",
            "author",
        ] {
            assert_eq!(name_kind(key), Name::Plain, "{key}");
        }
        for key in ["Authorization", "auth_token", "AUTH_KEY", "authSecret"] {
            assert_eq!(name_kind(key), Name::Secret, "{key}");
        }
        let kind = Name::SecretOrSetting;
        for value in [
            "1", "TRUE", "off", "Basic", "oauth2", "Token", "NTLM", "required",
        ] {
            assert!(kind.keeps_setting(value), "{value}");
        }
        for value in ["alice:s3cr3t", "basic alice:s3cr3t", "tru", "2", ""] {
            assert!(!kind.keeps_setting(value), "{value}");
        }
        assert!(!Name::Secret.keeps_setting("true"));
    }

    #[test]
    fn random_values_are_told_from_words_paths_and_numbers() {
        for random in [
            "a8Fk29dLq0ZmXv71bNc8Qw3E",
            "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "5f2b9a1c-8e4d-4b7a-9c3e-1d2f3a4b5c6d",
            "kXq7Zp2mL9vN4wR8tY3uB6cD1eF5gH0j==",
            "HmVbQpRtYwXzLkJnGfDsAeCuIo",
            "3f9a0c7e1b2d4f6a8c0eadbfcedf5b17",
            "BAh7BkkiD3Nlc3Npb25faWQ==--8f9e7d6c5b4a3",
        ] {
            assert!(looks_random(random), "{random}");
        }
        for plain in [
            "production-database-01",
            "/etc/keys/signing.pub",
            "1234567890123456",
            "internationalization",
            "SecureString",
            "us-east-1",
            "aaaaaaaaaaaaaaaaaaaa1",
            "v1.2.3-beta.4",
            "https://example.com/a1",
            "[REDACTED]",
            "CREDS_PATH=/etc/creds",
            "db_url=postgres9Host",
        ] {
            assert!(!looks_random(plain), "{plain}");
        }
    }
}
