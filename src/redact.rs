//! Secret redaction: scrubs keys, tokens and passwords out of tool calls before they reach disk.
//!
//! Two layers work together:
//!
//! * [`redact_value`] walks a JSON document and blanks every value stored under a key whose
//!   *name* says it holds a secret (`password`, `api_key`, `Authorization`, ...), while leaving
//!   usage counters such as `max_tokens` or `input_tokens` alone.
//! * [`redact_str`] finds secrets *inside* free text (shell commands, file contents, tool
//!   output): vendor tokens with a recognisable shape, JWTs, `Bearer` tokens, PEM private keys,
//!   passwords in connection URLs and `KEY=value` assignments whose key is a sensitive name.
//!
//! The text scan is built for the common case where nothing matches: every pattern is part of
//! one [`RegexSet`], so a clean string costs a single linear pass and is returned borrowed.
//! Only when that pass reports a hit are the individual patterns run to locate and replace it.
//!
//! Everything here errs on the side of redacting: a false positive costs a little readability
//! in a trace, a false negative leaks a credential to disk.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::{Captures, Regex, RegexSet};
use serde_json::Value;

/// What every detected secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Redacts secrets inside one string; borrows when nothing matched.
///
/// Only the secret itself is replaced, so context survives: `Bearer <token>` keeps the word
/// `Bearer`, `postgres://user:pass@host` keeps scheme, user and host, and `API_KEY=abc` keeps
/// the key name.
#[must_use]
pub fn redact_str(s: &str) -> Cow<'_, str> {
    let Some(scanner) = &*SCANNER else {
        // A pattern failed to compile (a bug caught by the unit tests). Fail closed: losing
        // the text is better than writing a credential to disk, and panicking inside a
        // recorder would break the agent it observes.
        return if s.is_empty() {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(REDACTED.to_owned())
        };
    };
    // One pass over the text tells which rules can fire at all; clean text stops here.
    let hits = scanner.set.matches(s);
    if !hits.matched_any() {
        return Cow::Borrowed(s);
    }
    let mut out = Cow::Borrowed(s);
    // Rules run in declaration order, each on the output of the previous one, so a broad
    // rule (a whole PEM block, a whole assigned value) wins over a narrower one inside it.
    for index in &hits {
        let (rule, regex) = (&RULES[index], &scanner.regexes[index]);
        if let Some(replaced) = apply_rule(rule, regex, &out) {
            out = Cow::Owned(replaced);
        }
    }
    out
}

/// Redacts a JSON value in place, recursively; returns true when anything changed.
///
/// Values under sensitive keys become `"[REDACTED]"` whatever their type (string, number,
/// array, object), except `null`, booleans and empty strings, which cannot carry a secret and
/// whose presence is useful when reading a trace. Every other string goes through
/// [`redact_str`]. Object keys themselves are kept as they are.
pub fn redact_value(v: &mut Value) -> bool {
    match v {
        Value::String(s) => {
            let replaced = match redact_str(s) {
                Cow::Borrowed(_) => return false,
                Cow::Owned(replaced) => replaced,
            };
            *s = replaced;
            true
        }
        Value::Array(items) => {
            let mut changed = false;
            for item in items {
                changed |= redact_value(item);
            }
            changed
        }
        Value::Object(map) => {
            // `{"name": "API_KEY", "value": "..."}` (Kubernetes env, HAR headers, AWS tags)
            // keeps the secret's name in a sibling field rather than in the key.
            let named_secret = map.iter().any(|(key, value)| {
                (key.eq_ignore_ascii_case("name") || key.eq_ignore_ascii_case("key"))
                    && value.as_str().is_some_and(is_sensitive_key)
            });
            let mut changed = false;
            for (key, value) in map.iter_mut() {
                if is_sensitive_key(key) || (named_secret && key.eq_ignore_ascii_case("value")) {
                    changed |= blank(value);
                } else {
                    changed |= redact_value(value);
                }
            }
            changed
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Replaces a value found under a sensitive key.
fn blank(v: &mut Value) -> bool {
    match v {
        // Nothing secret to hide, and "was it set?" is worth keeping.
        Value::Null | Value::Bool(_) => false,
        Value::String(s) if s.is_empty() || s == REDACTED => false,
        _ => {
            *v = Value::String(REDACTED.to_owned());
            true
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sensitive key names
// ---------------------------------------------------------------------------------------------

/// Fragments that mark a key as secret wherever they appear in its squashed form (lowercased,
/// separators removed), so `client_secret`, `x-api-key`, `apiKey`, `DB_PASSWORD` and
/// `Set-Cookie` all match.
const SENSITIVE_FRAGMENTS: &str = "\
    password passwd passphrase secret credential cookie authorization apikey \
    accesskey privatekey signingkey encryptionkey masterkey authkey";

/// Last words that turn a secret-sounding key into metadata *about* the secret: its size, its
/// type, where it is stored, when it expires. `token_count` and `password_file` hold no secret.
const METADATA_SUFFIXES: &str = "\
    count counts total limit limits max min len length size usage used remaining budget \
    estimate type types expiry expires expiration ttl file path dir url uri endpoint env \
    var name helper stdin";

/// First words that make a key a counter (`max_token`, `num_token`).
const COUNTER_PREFIXES: &str = "max min num total";

/// Whether values stored under `key` must be redacted.
///
/// Matching is by words, so casing and separator style do not matter (`access_token`,
/// `accessToken`, `ACCESS-TOKEN`). A word ending in `token` is a secret, but a word ending in
/// `tokens` is an LLM usage counter (`max_tokens`, `cache_read_input_tokens`) and is kept.
fn is_sensitive_key(key: &str) -> bool {
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
    SENSITIVE_FRAGMENTS.split_ascii_whitespace().any(|f| squashed.contains(f))
        || squashed == "auth"
        // Singular only: a word ending in `tokens` is a usage counter, never a credential.
        || words.iter().any(|w| w.ends_with("token") || w.ends_with("pwd"))
        // `db_pass`, `MYSQL_PASS`; a bare `pass` is usually a test-result counter.
        || (words.len() > 1 && last == "pass")
}

/// Whether `word` is one of the space-separated words of `list`.
fn is_listed(list: &str, word: &str) -> bool {
    list.split_ascii_whitespace().any(|listed| listed == word)
}

/// Splits an identifier into lowercase words at separators and camelCase boundaries:
/// `xApiKey` and `X-API-Key` both give `["x", "api", "key"]`.
fn split_words(key: &str) -> Vec<String> {
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

// ---------------------------------------------------------------------------------------------
// Patterns for secrets inside text
// ---------------------------------------------------------------------------------------------
//
// Conventions that keep the single pre-check pass fast on large strings:
// * word boundaries are ASCII (`(?-u:\b)`): the lazy DFA cannot evaluate Unicode word
//   boundaries on non-ASCII text and would fall back to a much slower engine;
// * keyword alternations are ASCII-case-insensitive (`(?i-u:...)`) for a smaller automaton;
// * no look-around or back-references, so every pattern stays inside the linear-time engines.

/// One kind of secret: a pattern, and a function choosing which part of a match to replace
/// (or `None` to leave the match alone after a closer look).
struct Rule {
    pattern: &'static str,
    pick: fn(&Captures<'_>) -> Option<Range<usize>>,
}

/// All rules, broadest first (see [`redact_str`] for why order matters).
static RULES: [Rule; 9] = [
    // pem_private_key
    Rule {
        // The whole block, BEGIN through END. A block cut off before its END line (truncated
        // tool output) is redacted up to where its base64 body ends.
        pattern: concat!(
            r"(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
            r"(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,-]*)",
        ),
        pick: whole_match,
    },
    // url_password
    Rule {
        // `scheme://user:password@host` for any scheme: postgres, mysql, mongodb+srv, redis,
        // amqp, but also https git remotes carrying a token. Only the password is replaced.
        pattern: concat!(
            r#"(?-u:\b)[A-Za-z][A-Za-z0-9+.-]{1,30}://"#, // scheme
            r#"[^:/?#@\s"'<>\\]*:"#,                      // user, possibly empty
            r#"(?P<secret>[^@\s/"'<>\\]+)@"#,
        ),
        pick: pick_secret,
    },
    // cookie_header
    Rule {
        // A cookie header holds several `name=value` pairs; all of them go, to the end of line.
        pattern: r#"(?-u:\b)(?i-u:(?:set-)?cookie)["']?[\t ]*:[\t ]*(?P<secret>[^\r\n"'\\]+)"#,
        pick: pick_secret,
    },
    // assignment
    Rule {
        // `API_KEY=abc`, `password: hunter2`, `"token": "..."`, `secret => '...'`, including
        // JSON-escaped quotes (JSON text inside a JSON string) and Python string prefixes.
        // The keyword list only pre-selects candidates; `pick_assignment` then checks the full
        // key with `is_sensitive_key` and skips values that are code rather than data.
        pattern: r#"(?x)
            (?P<key>[A-Za-z0-9_.-]*
                (?i-u:pass|pwd|secret|token|auth|credential|cookie
                     |(?:api|access|private|signing|encryption|master)[_.-]?key)
                [A-Za-z0-9_.-]*)
            \\?["']?\]?                         # end of a quoted key or of a subscript
            [\t\x20]* (?P<sep>:=|=>|[:=]) [\t\x20]*
            (?:
                (?i-u:basic|bearer|token|digest)[\t\x20]+(?P<scheme>[^\s"'`,;\\]+)
              | \\"(?P<esc>[^"\\\n]*)\\"
              | [rbfuRBFU]{0,2}"(?P<dq>(?:[^"\\\n]|\\.)*)"
              | [rbfuRBFU]{0,2}'(?P<sq>[^'\n]*)'
              | `(?P<bt>[^`\n]*)`
              | (?P<bare>[^\s"'`,;&|)}\]<>\\]+)
            )"#,
        pick: pick_assignment,
    },
    // cli_flag
    Rule {
        // `--password hunter2`, `--api-key abc` (the `--flag=value` form is an assignment).
        pattern: r#"(?x)
            --(?P<key>[A-Za-z0-9_-]*
                (?i-u:pass|pwd|secret|token|auth|credential|cookie|(?:api|access|private)[_-]?key)
                [A-Za-z0-9_-]*)
            [\t\x20]+
            (?:
                "(?P<dq>(?:[^"\\\n]|\\.)*)"
              | '(?P<sq>[^'\n]*)'
              | (?P<bare>[^-\s"'`;&|)<>\\][^\s"'`;&|)<>\\]*)
            )"#,
        pick: pick_cli_flag,
    },
    // user_password_flag
    Rule {
        // `curl -u user:password`, `--user=user:password`: keeps the user.
        pattern: concat!(
            r#"(?:^|[\s"'])(?:-u|--user)[\t =]+"#,
            r#"(?:["'](?P<quser>[^\s:"']+):(?P<qsecret>[^"'\n]+)"#, // quoted: may hold spaces
            r#"|(?P<user>[^\s:"']+):(?P<secret>[^\s"']+))"#,
        ),
        pick: pick_user_password,
    },
    // bearer
    Rule {
        // Keeps the word `Bearer`, replaces the token (RFC 6750 token68 alphabet).
        pattern: r"(?-u:\b)(?i-u:bearer)[\t ]+(?P<secret>[A-Za-z0-9._~+/-]+=*)",
        pick: pick_bearer,
    },
    // jwt
    Rule {
        // header.payload.signature, base64url, the header always being JSON (`{"` -> `eyJ`);
        // up to two more parts cover JWE.
        pattern: concat!(
            r"(?-u:\b)eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
            r"(?:\.[A-Za-z0-9_-]+){0,2}",
        ),
        pick: whole_match,
    },
    // vendor_token
    Rule {
        // Credentials whose prefix alone identifies them.
        pattern: concat!(
            r"(?-u:\b)(?:",
            r"sk-[A-Za-z0-9_-]{20,}", // OpenAI sk-, sk-proj-, sk-svcacct-; Anthropic sk-ant-
            r"|gh[pousr]_[A-Za-z0-9]{30,}", // GitHub classic, OAuth, app, user, refresh
            r"|github_pat_[A-Za-z0-9_]{30,}", // GitHub fine-grained
            r"|(?:AKIA|ASIA)[A-Z0-9]{16}(?-u:\b)", // AWS access key id
            r"|xox[a-z]-[A-Za-z0-9-]{10,}", // Slack bot, user, app-level, legacy
            r"|xapp-[A-Za-z0-9-]{10,}", // Slack app-level
            r"|AIza[A-Za-z0-9_-]{35}", // Google API key
            r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}", // Stripe
            r"|hf_[A-Za-z0-9]{30,}",  // Hugging Face
            r"|glpat-[A-Za-z0-9_-]{20,}", // GitLab
            r"|npm_[A-Za-z0-9]{36}",  // npm
            r")",
        ),
        pick: whole_match,
    },
];

/// The compiled rules: the set for the single pre-check pass, and one regex per rule to
/// locate matches once the set has fired. `None` if any pattern failed to compile.
struct Scanner {
    set: RegexSet,
    regexes: Vec<Regex>,
}

static SCANNER: LazyLock<Option<Scanner>> = LazyLock::new(|| {
    let patterns = RULES.iter().map(|rule| rule.pattern);
    let set = RegexSet::new(patterns.clone()).ok()?;
    let regexes = patterns
        .map(Regex::new)
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some(Scanner { set, regexes })
});

/// Replaces what `rule` picks in every match of `regex`; `None` when nothing was replaced.
fn apply_rule(rule: &Rule, regex: &Regex, text: &str) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    let mut changed = false;
    for caps in regex.captures_iter(text) {
        let Some(range) = (rule.pick)(&caps) else {
            continue;
        };
        if text[range.clone()] == *REDACTED {
            continue;
        }
        out.push_str(&text[copied..range.start]);
        out.push_str(REDACTED);
        copied = range.end;
        changed = true;
    }
    if !changed {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

fn whole_match(caps: &Captures<'_>) -> Option<Range<usize>> {
    caps.get(0).map(|m| m.range())
}

fn pick_secret(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = caps.name("secret")?;
    (!is_placeholder(m.as_str())).then(|| m.range())
}

fn pick_user_password(caps: &Captures<'_>) -> Option<Range<usize>> {
    let (user, secret) = match (caps.name("quser"), caps.name("qsecret")) {
        (Some(user), Some(secret)) => (user, secret),
        _ => (caps.name("user")?, caps.name("secret")?),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    // `docker run -u 1000:1000` is a uid:gid pair, not a login.
    let uid_gid = all_digits(user.as_str()) && all_digits(secret.as_str());
    (!uid_gid && !is_placeholder(secret.as_str())).then(|| secret.range())
}

fn pick_bearer(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = caps.name("secret")?;
    let token = m.as_str();
    // Prose says "Bearer token" or "Bearer authentication"; real tokens are long or mix in
    // digits.
    let looks_like_token = token.len() >= 20
        || (token.len() >= 8
            && token.bytes().any(|b| b.is_ascii_digit())
            && token.bytes().any(|b| b.is_ascii_alphabetic()));
    looks_like_token.then(|| m.range())
}

fn pick_assignment(caps: &Captures<'_>) -> Option<Range<usize>> {
    let key = caps.name("key")?.as_str();
    if !is_sensitive_key(key) {
        return None;
    }
    let after_colon = caps.name("sep").is_some_and(|s| s.as_str() == ":");
    pick_value(caps, key, after_colon)
}

fn pick_cli_flag(caps: &Captures<'_>) -> Option<Range<usize>> {
    let key = caps.name("key")?.as_str();
    if !is_sensitive_key(key) {
        return None;
    }
    pick_value(caps, key, false)
}

/// Chooses the assigned value among the pattern's alternatives and decides whether it is data
/// (redact) or code that merely mentions a secret (`token = self.token`, `password: str`).
fn pick_value(caps: &Captures<'_>, key: &str, after_colon: bool) -> Option<Range<usize>> {
    for quoted in ["scheme", "esc", "dq", "sq", "bt"] {
        if let Some(m) = caps.name(quoted) {
            let value = m.as_str();
            return (!value.is_empty() && !is_placeholder(value)).then(|| m.range());
        }
    }
    let m = caps.name("bare")?;
    (!is_code_like(m.as_str(), key, after_colon)).then(|| m.range())
}

/// A reference to a secret rather than the secret: `$TOKEN`, `${{ secrets.X }}`, `{{ .pw }}`.
fn is_placeholder(value: &str) -> bool {
    value.starts_with('$')
        || value.starts_with("{{")
        || value.starts_with("%(")
        || value == REDACTED
}

/// Words that follow `token =` or `password:` in source code without being a secret.
const CODE_WORDS: &str =
    "true false null none nil undefined self this new match if await impl dyn mut ref";

/// Type names after `name:` in Rust, Python, TypeScript, Go and friends.
const TYPE_WORDS: &str = "\
    str string bytes bytearray int integer float double long number bool boolean any \
    unknown object char byte rune usize isize u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 \
    f32 f64 uint uint8 uint16 uint32 uint64 int8 int16 int32 int64";

/// Whether an unquoted assigned value reads as source code rather than a literal secret.
fn is_code_like(value: &str, key: &str, after_colon: bool) -> bool {
    if value.starts_with(REDACTED) {
        // Left over from an earlier rule redacting the start of this value: finish the job.
        return false;
    }
    if is_placeholder(value)
        || value.starts_with(|c: char| "%{[(<*&@=:!?#~".contains(c))
        || value.contains(['(', '['])
        || value.contains("::")
    {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    if is_listed(CODE_WORDS, &lower) {
        return true;
    }
    // `password=password`, `token = token`, `self.api_key = api_key`.
    let squashed: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    let key_words = split_words(key);
    if key_words.concat() == squashed || key_words.last().is_some_and(|w| *w == squashed) {
        return true;
    }
    // `self.token`, `config.api_key`, `process.env.API_KEY`: member access, not a literal.
    let is_ident = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if value.contains('.') && value.split('.').all(is_ident) {
        return true;
    }
    // After a colon, `String`, `SecretKey` or `str` is a type annotation. A capitalised
    // password made of letters only is missed here; one with a digit or symbol is not.
    after_colon
        && (is_listed(TYPE_WORDS, &lower)
            || (value.starts_with(|c: char| c.is_ascii_uppercase())
                && value.chars().all(|c| c.is_ascii_alphabetic())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, Instant};

    // Fake secrets are assembled at run time so that this file holds no token-shaped literal
    // for secret scanners to flag.
    fn fake(prefix: &str, body: &str, repeat: usize) -> String {
        format!("{prefix}{}", body.repeat(repeat))
    }
    fn openai() -> String {
        fake("sk-", "Ab3dEf6hIj9kLm2n", 3)
    }
    fn openai_project() -> String {
        fake("sk-proj-", "Xy_9-Qw8Er7Ty6Ui", 6)
    }
    fn anthropic() -> String {
        fake("sk-ant-api03-", "Zx8Cv7Bn6Mq5Wr4_", 6)
    }
    fn github(prefix: &str) -> String {
        fake(prefix, "a1B2c3D4e5F6", 3)
    }
    fn github_pat() -> String {
        fake("github_pat_", "11ABCDEFG0a1b2c3d4e5f6_", 3)
    }
    fn aws_key_id(prefix: &str) -> String {
        fake(prefix, "Z7Q4", 4)
    }
    fn aws_secret() -> String {
        fake("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCY", 3)[..40].to_owned()
    }
    fn slack(prefix: &str) -> String {
        format!(
            "{prefix}-{}-{}-{}",
            "1234567890",
            "9876543210",
            fake("", "aB3dE", 5)
        )
    }
    fn jwt() -> String {
        format!(
            "eyJhbGciOiJIUzI1NiJ9.{}.{}",
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ",
            fake("", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV", 1)
        )
    }
    fn pem() -> String {
        format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{}\n{}\n-----END RSA PRIVATE KEY-----",
            fake("MIIEpAIBAAKCAQEA", "x7Yz9Ab", 7),
            fake("", "Qr5St6Uv", 8)
        )
    }

    /// Redacts and asserts that `secret` is gone and `kept` pieces survive.
    #[track_caller]
    fn check(input: &str, secret: &str, kept: &[&str]) -> String {
        let out = redact_str(input).into_owned();
        assert!(!out.contains(secret), "{secret:?} survived in {out:?}");
        assert!(out.contains(REDACTED), "nothing redacted in {out:?}");
        for k in kept {
            assert!(out.contains(k), "{k:?} lost from {out:?}");
        }
        out
    }

    #[test]
    fn all_patterns_compile() {
        let scanner = SCANNER.as_ref();
        assert!(scanner.is_some(), "a pattern in RULES failed to compile");
        for (index, rule) in RULES.iter().enumerate() {
            assert!(
                Regex::new(rule.pattern).is_ok(),
                "rule #{index} does not compile"
            );
        }
    }

    #[test]
    fn sensitive_keys_are_recognised() {
        for key in [
            "password",
            "Password",
            "PASSWORD",
            "passwd",
            "pwd",
            "Pwd",
            "db_pwd",
            "secret",
            "client_secret",
            "clientSecret",
            "token",
            "Token",
            "access_token",
            "accessToken",
            "refresh_token",
            "refresh-token",
            "api_key",
            "apiKey",
            "apikey",
            "API_KEY",
            "x-api-key",
            "X-Api-Key",
            "authorization",
            "Authorization",
            "Proxy-Authorization",
            "auth",
            "auth_token",
            "X-Auth-Token",
            "private_key",
            "privateKey",
            "credentials",
            "cookie",
            "Set-Cookie",
            "session_token",
            "sessionToken",
            "GITHUB_TOKEN",
            "db_password",
            "password_hash",
            "mysql_pass",
            "aws_secret_access_key",
        ] {
            assert!(is_sensitive_key(key), "{key} should be sensitive");
        }
    }

    #[test]
    fn counter_and_metadata_keys_are_kept() {
        for key in [
            "tokens",
            "input_tokens",
            "output_tokens",
            "max_tokens",
            "maxTokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "token_count",
            "tokenCount",
            "total_tokens",
            "max_token",
            "token_type",
            "password_file",
            "tokenizer",
            "author",
            "session_id",
            "key",
            "pass",
            "passed",
            "bypass",
            "PWD",
            "OLDPWD",
            "cwd",
            "",
        ] {
            assert!(!is_sensitive_key(key), "{key} should not be sensitive");
        }
    }

    #[test]
    fn values_under_sensitive_keys_are_blanked_whatever_their_type() {
        let mut v = json!({
            "password": "hunter2",
            "pin_password": 1234,
            "credentials": {"user": "bob", "pass": "x"},
            "api_keys": ["a", "b"],
            "Authorization": "Basic Ym9iOmh1bnRlcjI=",
            "token": null,
            "secret": false,
            "client_secret": "",
            "usage": {"input_tokens": 12, "output_tokens": 34, "max_tokens": 1024,
                      "cache_read_input_tokens": 5, "token_count": 7, "total_tokens": 58},
            "tokens": 99,
        });
        assert!(redact_value(&mut v));
        assert_eq!(
            v,
            json!({
                "password": REDACTED,
                "pin_password": REDACTED,
                "credentials": REDACTED,
                "api_keys": REDACTED,
                "Authorization": REDACTED,
                "token": null,
                "secret": false,
                "client_secret": "",
                "usage": {"input_tokens": 12, "output_tokens": 34, "max_tokens": 1024,
                          "cache_read_input_tokens": 5, "token_count": 7, "total_tokens": 58},
                "tokens": 99,
            })
        );
        // Idempotent, and reports no change the second time.
        assert!(!redact_value(&mut v));
    }

    #[test]
    fn name_value_pairs_are_redacted() {
        let mut v = json!({"env": [
            {"name": "OPENAI_API_KEY", "value": "abc123"},
            {"name": "HOME", "value": "/home/bob"},
        ]});
        assert!(redact_value(&mut v));
        assert_eq!(
            v,
            json!({"env": [
                {"name": "OPENAI_API_KEY", "value": REDACTED},
                {"name": "HOME", "value": "/home/bob"},
            ]})
        );
    }

    #[test]
    fn openai_keys() {
        let (a, b) = (openai(), openai_project());
        check(&format!("key is {a}."), &a, &["key is ", "."]);
        check(&format!("OPENAI={b}"), &b, &[]);
    }

    #[test]
    fn anthropic_keys() {
        let k = anthropic();
        check(
            &format!("curl -H 'x-api-key: {k}' https://api"),
            &k,
            &["curl", "https://api"],
        );
        check(&format!("use {k} now"), &k, &["use ", " now"]);
    }

    #[test]
    fn github_tokens() {
        for prefix in ["ghp_", "gho_", "ghs_", "ghu_", "ghr_"] {
            let t = github(prefix);
            check(&format!("git push with {t}"), &t, &["git push with "]);
        }
        let pat = github_pat();
        check(&format!("token {pat}"), &pat, &[]);
    }

    #[test]
    fn aws_access_key_ids() {
        for prefix in ["AKIA", "ASIA"] {
            let id = aws_key_id(prefix);
            check(&format!("id {id} region us-east-1"), &id, &["us-east-1"]);
        }
    }

    #[test]
    fn aws_secret_access_keys() {
        let s = aws_secret();
        assert_eq!(s.len(), 40);
        check(
            &format!("aws_secret_access_key = {s}\nregion = eu"),
            &s,
            &["region = eu"],
        );
        check(
            &format!("export AWS_SECRET_ACCESS_KEY={s}"),
            &s,
            &["AWS_SECRET_ACCESS_KEY="],
        );
        check(&format!("AWS_SECRET_ACCESS_KEY: {s}"), &s, &[]);
        check(
            &format!(r#"{{"SecretAccessKey": "{s}"}}"#),
            &s,
            &["SecretAccessKey"],
        );
    }

    #[test]
    fn slack_tokens() {
        for prefix in ["xoxb", "xoxp", "xoxa", "xoxs", "xapp"] {
            let t = slack(prefix);
            check(&format!("SLACK={t} run"), &t, &[" run"]);
            check(&format!("slack {t}"), &t, &["slack "]);
        }
    }

    #[test]
    fn jwts() {
        let t = jwt();
        check(&format!("session: {t}"), &t, &[]);
        check(&format!("cookie-less jwt {t} end"), &t, &[" end"]);
    }

    #[test]
    fn bearer_tokens_keep_the_scheme() {
        let out = check(
            "Authorization: Bearer abc123def456ghi",
            "abc123def456ghi",
            &["Bearer"],
        );
        assert_eq!(out, "Authorization: Bearer [REDACTED]");
        let out = check(
            "curl -H 'Authorization: bearer tok_9f8e7d6c' x",
            "tok_9f8e7d6c",
            &["bearer", "x"],
        );
        assert!(out.starts_with("curl -H 'Authorization: bearer [REDACTED]'"));
        assert_eq!(
            redact_str("send it as bearer xyz98765abc"),
            "send it as bearer [REDACTED]"
        );
        // The word in prose, and shell variables, are not tokens.
        for clean in [
            "use a Bearer token here",
            "Bearer authentication",
            "-H \"Bearer $TOKEN\"",
        ] {
            assert_eq!(redact_str(clean), clean);
        }
    }

    #[test]
    fn pem_private_key_blocks() {
        let key = pem();
        let input = format!("before\n{key}\nafter");
        let out = redact_str(&input);
        assert_eq!(out, "before\n[REDACTED]\nafter");
        for kind in ["EC ", "OPENSSH ", "ENCRYPTED ", ""] {
            let k = key.replace("RSA ", kind);
            assert_eq!(redact_str(&k), REDACTED, "{kind}");
        }
        // As escaped JSON text (cat of a service-account file) and cut off before its END.
        let escaped = format!("\"private_key\": \"{}\\n\"", key.replace('\n', "\\n"));
        check(&escaped, "MIIEpAIBAAKCAQEA", &["\"private_key\": "]);
        let truncated = &key[..key.len() / 2];
        check(truncated, "MIIEpAIBAAKCAQEA", &[]);
        // Public keys and certificates are not secrets.
        let public = "-----BEGIN PUBLIC KEY-----\n\
                      MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n\
                      -----END PUBLIC KEY-----";
        assert_eq!(redact_str(public), public);
    }

    #[test]
    fn connection_string_passwords() {
        for (input, expected) in [
            (
                "postgres://alice:s3cr3t@db.example.com:5432/app",
                "postgres://alice:[REDACTED]@db.example.com:5432/app",
            ),
            (
                "DATABASE_URL is postgresql://u:p%40ss@localhost/db?sslmode=disable",
                "DATABASE_URL is postgresql://u:[REDACTED]@localhost/db?sslmode=disable",
            ),
            (
                "mysql://root:toor@127.0.0.1:3306/x",
                "mysql://root:[REDACTED]@127.0.0.1:3306/x",
            ),
            (
                "mongodb+srv://admin:Pa55w0rd@cluster0.abcde.mongodb.net/?retryWrites=true",
                "mongodb+srv://admin:[REDACTED]@cluster0.abcde.mongodb.net/?retryWrites=true",
            ),
            ("mongodb://a:b@h1,h2/db", "mongodb://a:[REDACTED]@h1,h2/db"),
            (
                "redis://:hunter2@cache:6379/0",
                "redis://:[REDACTED]@cache:6379/0",
            ),
            (
                "amqp://guest:guest@rabbit:5672/",
                "amqp://guest:[REDACTED]@rabbit:5672/",
            ),
            (
                "jdbc:mysql://app:pw1@db/x",
                "jdbc:mysql://app:[REDACTED]@db/x",
            ),
        ] {
            assert_eq!(redact_str(input), expected, "{input}");
        }
        // No password, or a port that is not followed by '@': nothing to do.
        for clean in [
            "postgres://alice@db/app",
            "http://localhost:8080/path@v2",
            "ssh://git@github.com:22/o/r.git",
            "git@github.com:owner/repo.git",
            "redis://cache:6379/0",
        ] {
            assert_eq!(redact_str(clean), clean);
        }
    }

    #[test]
    fn assignments_in_free_text() {
        for (input, expected) in [
            (
                "export API_KEY=abc123def && run",
                "export API_KEY=[REDACTED] && run",
            ),
            ("password=hunter2", "password=[REDACTED]"),
            (
                "DB_PASSWORD='correct horse' ./x",
                "DB_PASSWORD='[REDACTED]' ./x",
            ),
            (
                r#"{"api_key": "abc def", "n": 1}"#,
                r#"{"api_key": "[REDACTED]", "n": 1}"#,
            ),
            (r#"{\"token\":\"t0k3n\"}"#, r#"{\"token\":\"[REDACTED]\"}"#),
            (
                "client_secret: s3cr3t-value\nname: x",
                "client_secret: [REDACTED]\nname: x",
            ),
            (
                "https://x.io/cb?access_token=abc123&state=1",
                "https://x.io/cb?access_token=[REDACTED]&state=1",
            ),
            (
                "os.environ['SECRET_KEY'] = 'dev-key-1'",
                "os.environ['SECRET_KEY'] = '[REDACTED]'",
            ),
            (
                "conn = connect(password=b'pw1')",
                "conn = connect(password=b'[REDACTED]')",
            ),
            (
                "Server=db;User Id=sa;Password=P@ss1;",
                "Server=db;User Id=sa;Password=[REDACTED];",
            ),
            ("Cookie: sid=abc; theme=dark", "Cookie: [REDACTED]"),
            (
                "Authorization: Basic Ym9iOmh1bnRlcjI=",
                "Authorization: Basic [REDACTED]",
            ),
            (
                "mysql --password hunter2 db",
                "mysql --password [REDACTED] db",
            ),
            ("gh --token=abc123 x", "gh --token=[REDACTED] x"),
            (
                "curl -u admin:hunter2 https://x",
                "curl -u admin:[REDACTED] https://x",
            ),
            ("curl --user='bob:pw 1' x", "curl --user='bob:[REDACTED]' x"),
            ("pwd: Summer2024", "pwd: [REDACTED]"),
        ] {
            assert_eq!(redact_str(input), expected, "{input}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let samples = [
            // Code that mentions secrets without containing any.
            "let token = lexer.next_token();",
            "fn new(token: String, api_key: Option<String>) -> Self { Self { token, api_key } }",
            "def login(password: str) -> bool:\n    self.password = password\n    return True",
            "const password: string;\nconst token = req.headers.authorization;",
            "api_key = os.environ[\"OPENAI_API_KEY\"]\ntoken = os.getenv('GH_TOKEN')",
            "if password == \"\" { return Err(e) }",
            "let api_key = std::env::var(\"API_KEY\")?;",
            "secret = secrets.token_hex(16)",
            "password=None, token=null, secret=true",
            "for tokens in batch: total_tokens += len(tokens)",
            "curl -H \"Authorization: Bearer $GITHUB_TOKEN\" https://api.github.com",
            "docker login --password-stdin ghcr.io",
            "docker run -u 1000:1000 img && git push -u origin main",
            "echo \"$PASSWORD\" | sudo -S true",
            // Usage counters and prose.
            "max_tokens=4096 temperature=0.2",
            r#"{"usage": {"input_tokens": 120, "output_tokens": 7, "cache_read_input_tokens": 0}}"#,
            "token count: 5",
            "Fill in the password field and press the token button.",
            "The secret to good tests is small fixtures.",
            "Token: Provided by the server",
            // Paths, hashes, ids, base64.
            "/home/bob/.ssh/id_ed25519.pub and ~/.aws/credentials and /etc/passwd",
            "PWD=/work/main OLDPWD=/work",
            "commit 3f9c2d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e (HEAD -> main)",
            "session 123e4567-e89b-12d3-a456-426614174000 started",
            "SGVsbG8sIHdvcmxkISBUaGlzIGlzIGJhc2U2NCBlbmNvZGVkIHRleHQu",
            "eyJ0eXBlIjoibWVzc2FnZSJ9",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "https://example.com/docs?page=2#section",
            "task-force-and-skills: sk-learn is a package",
            "AKIA is how AWS key ids start",
            "",
        ];
        for s in samples {
            let out = redact_str(s);
            assert!(matches!(out, Cow::Borrowed(_)), "{s:?} became {out:?}");
        }
    }

    #[test]
    fn redacted_text_is_stable() {
        let input = format!("a {} b password=x c", openai());
        let once = redact_str(&input).into_owned();
        assert_eq!(redact_str(&once), once);
    }

    #[test]
    fn no_planted_secret_survives_a_nested_value() {
        let (gh_classic, gh_oauth, gh_server) = (github("ghp_"), github("gho_"), github("ghs_"));
        let (gh_user, gh_refresh, gh_fine) = (github("ghu_"), github("ghr_"), github_pat());
        let (aws_id, aws_temp_id, aws_key) = (aws_key_id("AKIA"), aws_key_id("ASIA"), aws_secret());
        let slack_tokens = ["xoxb", "xoxp", "xoxa", "xoxs", "xapp"].map(slack);
        let (openai_key, project_key, anthropic_key) = (openai(), openai_project(), anthropic());
        let (jwt_token, pem_block) = (jwt(), pem());
        let bearer_token = "bearer-tok-9f8e7d6c5b4a";
        let url_password = "pg-pass-Q7w8";
        let shell_password = "hunter2-in-shell";
        let json_text_secret = "json-text-secret";
        let header_secret = "under-a-key-1";
        let mut v = json!({
            "session_id": "123e4567-e89b-12d3-a456-426614174000",
            "tool_name": "Bash",
            "tool_input": {
                "command": format!(
                    "export OPENAI_API_KEY={openai_key} ANTHROPIC={anthropic_key} \
                     && PASSWORD={shell_password} ./deploy"
                ),
                "env": {
                    "GH": gh_classic,
                    "list": [gh_oauth, gh_server, {"deep": [gh_user, gh_refresh, gh_fine]}],
                },
                "description":
                    format!("aws {aws_id} / {aws_temp_id}\naws_secret_access_key = {aws_key}"),
            },
            "tool_response": {
                "stdout": format!(
                    "{project_key}\nslack {}\njwt={jwt_token}\n{pem_block}\n",
                    slack_tokens.join(" ")
                ),
                "stderr": format!(
                    "Authorization: Bearer {bearer_token}\npostgres://app:{url_password}@db/x"
                ),
                "json_text": format!("{{\"client_secret\": \"{json_text_secret}\"}}"),
            },
            "headers": {"X-Api-Key": header_secret, "Cookie": ["a", "b"]},
            "numbers": {"pin_password": 4242, "max_tokens": 4096},
        });
        let mut secrets = vec![
            openai_key,
            project_key,
            anthropic_key,
            gh_classic,
            gh_oauth,
            gh_server,
            gh_user,
            gh_refresh,
            gh_fine,
            aws_id,
            aws_temp_id,
            aws_key,
            jwt_token,
            pem_block,
        ];
        secrets.extend(slack_tokens);
        secrets.extend(
            [
                bearer_token,
                url_password,
                shell_password,
                json_text_secret,
                header_secret,
                "4242",
            ]
            .map(str::to_owned),
        );
        assert!(redact_value(&mut v));
        let text = serde_json::to_string(&v).unwrap();
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{s:?} survived in {text}");
        }
        // Context survives around the secrets.
        for kept in [
            "123e4567-e89b-12d3-a456-426614174000",
            "export OPENAI_API_KEY=",
            "./deploy",
            "Bearer [REDACTED]",
            "postgres://app:[REDACTED]@db/x",
            "\"max_tokens\":4096",
        ] {
            assert!(text.contains(kept), "{kept:?} lost from {text}");
        }
    }

    #[test]
    fn large_strings_are_fast() {
        const SIZE: usize = 256 * 1024;
        let fill = |line: &str| line.repeat(SIZE / line.len() + 1);
        // Generous bound: each case takes milliseconds; the point is to catch a path that is
        // quadratic or falls off the DFA, which would take seconds.
        let timed = |name: &str, text: &str, expect_change: bool| {
            let started = Instant::now();
            let out = redact_str(text);
            let elapsed = started.elapsed();
            assert_eq!(matches!(out, Cow::Owned(_)), expect_change, "{name}");
            assert!(elapsed < Duration::from_secs(2), "{name} took {elapsed:?}");
            out.into_owned()
        };
        // Nothing that looks like a secret: the single pre-check pass, borrowed.
        timed(
            "prose",
            &fill("The quick brown fox jumps over the lazy dog. naïve größe ✓ "),
            false,
        );
        // Candidates on every line (`*_tokens = `) that the key check rejects.
        let code = fill("let total_tokens = count(&input); // max_tokens: 4096\n");
        timed("code", &code, false);
        // A real secret on every line: every rule's slow path runs, still linear.
        let dirty = fill(&format!("x = 1; password=hunter2 {}\n", github("ghp_")));
        let out = timed("dirty", &dirty, true);
        assert!(!out.contains("hunter2") && !out.contains("ghp_"));
        // One 256 KiB token-shaped run, and an unterminated PEM header followed by a long body.
        timed(
            "base64 run",
            &fill("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789+/"),
            false,
        );
        let pem_body = format!("-----BEGIN PRIVATE KEY-----\n{}", fill("QUJD\n"));
        assert_eq!(timed("open pem", &pem_body, true), REDACTED);
    }
}
