//! Secret redaction: scrubs keys, tokens and passwords out of what is recorded before it
//! reaches disk.
//!
//! # Architecture
//! - [`redact_value`] walks a JSON value *before* anything turns it into text or cuts it, so
//!   what only its structure shows is seen: values under a key whose name says it holds a
//!   secret (`password`, `api_key`, `Authorization` …, whatever their type), or may hold one
//!   (`STRIPE_KEY`: when the value looks random); the `value` of a
//!   `{"name": "OPENAI_API_KEY", "value": …}` pair, of a `["API_TOKEN", "…"]` pair and of a
//!   header kept as a pair (`["X-Auth", "…"]`); object
//!   keys that are themselves secrets; a command line kept as a list
//!   (`["mysql", "-pSECRET"]`, `["--token", "…"]`; of `["http", "--auth=…"]` only the value
//!   goes, as in the same text); the body of a private key kept as a list
//!   of its lines (a notebook's output). Every other string goes through
//!   [`redact_str`].
//! - [`redact_str`] ([`rules`]) finds secrets inside free text: vendor tokens with a
//!   recognisable shape (those whose prefix no word holds even glued to letters), JWTs,
//!   `Bearer` tokens, PEM and PuTTY private keys, passwords in connection URLs (percent-encoded too),
//!   `KEY=value` assignments and name/value pairs whose name is sensitive, password flags of
//!   common commands (`mysql -p`, `sshpass -p`, `docker login -p` …), `.netrc` passwords,
//!   passwords set in SQL (`IDENTIFIED BY '…'`, `WITH PASSWORD '…'`),
//!   random-looking values beside secret-looking names, the second half of a key broken over
//!   two lines, and base64 blobs whose decoded text holds any of these ([`decode`]; a long one
//!   a window at a time).
//! - [`names`]: what a name says about its value, and what looks random.
//!
//! The text scan is built for the common case where nothing matches: every pattern is part of
//! one `RegexSet`, so a clean string costs a single linear pass and is returned borrowed.
//! Only when that pass reports a hit are the individual patterns run to locate and replace it.
//!
//! Everything here errs on the side of redacting: a false positive costs a little readability
//! in a trace, a false negative leaks a credential to disk. What stays out of reach (a
//! password with no name, flag or shape beside it) is listed in docs/security.md.

mod argv;
mod decode;
mod names;
mod rules;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use serde_json::{Map, Value};

use names::{Name, is_identifier_like, looks_random, name_kind, pwd_kind};

/// What every detected secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Redacts secrets inside one string; borrows when nothing matched.
///
/// Only the secret itself is replaced, so context survives: `Bearer <token>` keeps the word
/// `Bearer`, `postgres://user:pass@host` keeps scheme, user and host, and `API_KEY=abc` keeps
/// the key name.
#[must_use]
pub fn redact_str(s: &str) -> Cow<'_, str> {
    rules::scan(s)
}

/// Redacts the fields of a record kept beside what is modelled (an event's or a session
/// meta's `extra`): each value as [`redact_value`] does, and each name that is itself a secret
/// as an object's key is (`{"sk-…": "x"}`), for whoever sends the record (a collector's client)
/// names its fields. Returns true when anything changed.
pub fn redact_fields(fields: &mut Map<String, Value>) -> bool {
    let values = fields
        .values_mut()
        .fold(false, |changed, value| redact_value(value) | changed);
    redact_keys(fields) | values
}

/// Redacts a JSON value in place, recursively; returns true when anything changed.
///
/// Values under sensitive keys become `"[REDACTED]"` whatever their type (string, number,
/// array, object), except `null`, booleans and empty strings, which cannot carry a secret and
/// whose presence is useful when reading a trace. Every other string goes through
/// [`redact_str`], object keys included.
pub fn redact_value(v: &mut Value) -> bool {
    match v {
        Value::String(s) => {
            match redact_json_text(s) {
                JsonText::Clean => return false,
                JsonText::Redacted(text) => {
                    *s = text;
                    return true;
                }
                JsonText::NotJson => {}
            }
            let replaced = match redact_str(s) {
                Cow::Borrowed(_) => return false,
                Cow::Owned(replaced) => replaced,
            };
            *s = replaced;
            true
        }
        Value::Array(items) => {
            let mut changed =
                redact_pairs(items) | redact_split_pem(items) | redact_split_putty(items);
            for item in items {
                changed |= redact_value(item);
            }
            changed
        }
        Value::Object(map) => {
            let named = named_secret(map);
            let mut changed = false;
            for (key, value) in map.iter_mut() {
                let kind = if is_value_key(key) {
                    named.max_by(name_kind(key))
                } else {
                    key_kind(key, value)
                };
                changed |= match kind {
                    Name::SecretOrSetting if holds_setting(kind, value) => redact_value(value),
                    Name::Secret | Name::SecretOrSetting => blank(value),
                    Name::Maybe if value.as_str().is_some_and(looks_random) => blank(value),
                    _ => redact_value(value),
                };
            }
            changed | redact_keys(map)
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// What an object's key says of its value: as [`name_kind`] says, but for `PWD` as
/// [`pwd_kind`] says of a string, and a number under it is a password of digits.
fn key_kind(key: &str, value: &Value) -> Name {
    if key != "PWD" {
        return name_kind(key);
    }
    match value {
        Value::String(s) => pwd_kind(s),
        Value::Number(_) => Name::Secret,
        _ => Name::Plain,
    }
}

impl Name {
    fn max_by(self, other: Name) -> Name {
        let rank = |n: Name| match n {
            Name::Plain => 0,
            Name::Maybe => 1,
            Name::SecretOrSetting => 2,
            Name::Secret => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// What a string holding JSON text became.
enum JsonText {
    NotJson,
    /// JSON text holding no secret.
    Clean,
    /// The redacted JSON text.
    Redacted(String),
}

/// JSON text held in a string (an MCP tool's text content, a file that was read) is redacted
/// as the structure it is, as if it had come as one: its strings free of escapes, its names
/// beside their values. Redacted text is written compact or indented as the original was.
fn redact_json_text(text: &str) -> JsonText {
    let body = text.trim();
    let bracketed = (body.starts_with('{') && body.ends_with('}'))
        || (body.starts_with('[') && body.ends_with(']'));
    if !bracketed || body.len() < 2 {
        return JsonText::NotJson;
    }
    let Ok(mut value) = crate::model::deep_json::from_str::<Value>(body) else {
        return JsonText::NotJson;
    };
    if !redact_value(&mut value) {
        return JsonText::Clean;
    }
    let written = if body.contains('\n') {
        serde_json::to_string_pretty(&value)
    } else {
        serde_json::to_string(&value)
    };
    JsonText::Redacted(written.unwrap_or_else(|_| REDACTED.to_owned()))
}

/// The keys of an object that name its sibling value (`{"name": "API_KEY", "value": …}`:
/// Kubernetes and ECS env, HAR headers, AWS tags, CloudFormation parameters).
fn is_name_key(key: &str) -> bool {
    ["name", "key", "parametername", "parameterkey"]
        .iter()
        .any(|k| key.eq_ignore_ascii_case(k))
}

fn is_value_key(key: &str) -> bool {
    ["value", "parametervalue"]
        .iter()
        .any(|k| key.eq_ignore_ascii_case(k))
}

/// Whether a JSON value under a name of `kind` is a setting word (`"skipAuth": 1`,
/// `"httpAuth": "basic"`), kept as other values are.
fn holds_setting(kind: Name, value: &Value) -> bool {
    match value {
        Value::String(s) => kind.keeps_setting(s),
        Value::Number(n) => kind.keeps_setting(&n.to_string()),
        _ => false,
    }
}

/// What the object's name field says about its value field.
fn named_secret(map: &Map<String, Value>) -> Name {
    map.iter()
        .filter(|(key, _)| is_name_key(key))
        .filter_map(|(_, value)| value.as_str())
        .map(name_kind)
        .fold(Name::Plain, Name::max_by)
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

/// Keys shorter than this hold no secret a rule can recognise (the shortest vendor token is
/// longer), and are most keys: they skip the scan.
const SHORTEST_SECRET_KEY: usize = 16;

/// Redacts object keys that are secrets themselves (`{"sk-…": {"owner": "ci"}}`), keeping the
/// order of the keys; two keys that redact alike are told apart by a number.
fn redact_keys(map: &mut Map<String, Value>) -> bool {
    let dirty =
        |key: &str| key.len() >= SHORTEST_SECRET_KEY && matches!(redact_str(key), Cow::Owned(_));
    if !map.keys().any(|k| dirty(k)) {
        return false;
    }
    let old = std::mem::take(map);
    for (key, value) in old {
        let key = redact_str(&key).into_owned();
        crate::model::event::insert_told_apart(map, key, value);
    }
    true
}

/// Redacts the body of a PEM private key kept as a list of its lines (a notebook's output,
/// `readlines()`, a log's lines as JSON): each line alone is no secret a rule can see, so the
/// lines after a `BEGIN … PRIVATE KEY` line are blanked while they read as a key's body
/// (base64 lines of one width, the last shorter, and an encrypted key's headers), up to its
/// `END` line. The `BEGIN` line itself is left to [`redact_str`].
fn redact_split_pem(items: &mut [Value]) -> bool {
    let mut changed = false;
    // Inside a key: the width of its base64 lines once seen, and whether a shorter (last) one
    // was.
    let mut key: Option<(Option<usize>, bool)> = None;
    for item in items {
        let Value::String(line) = item else {
            key = None;
            continue;
        };
        if let Some((width, ended)) = &mut key {
            let body = line.trim();
            if let Some(at) = line.find("-----END") {
                key = None;
                // The END line is kept, unless a piece of the key comes before it.
                if line[..at].trim().is_empty() {
                    continue;
                }
            } else if *ended || !body.bytes().all(is_pem_body_byte) {
                key = None;
                continue;
            } else if !body.contains(':') && !body.is_empty() {
                match *width {
                    None => *width = Some(body.len()),
                    Some(w) if body.len() < w => *ended = true,
                    Some(_) => {}
                }
            }
            changed |= blank(item);
            continue;
        }
        let begins = line.rfind("-----BEGIN").is_some_and(|at| {
            line[at..].contains("PRIVATE KEY") && !line[at..].contains("-----END")
        });
        if begins {
            key = Some((None, false));
        }
    }
    changed
}

/// Redacts the private part of a PuTTY key (`.ppk`) kept as a list of its lines, as
/// [`redact_split_pem`] does a PEM key's body: the `Private-Lines: N` line says how many lines
/// after it are the key, which are blanked while they read as base64, and so is the
/// `Private-MAC:` line after them.
fn redact_split_putty(items: &mut [Value]) -> bool {
    let mut changed = false;
    let mut at = 0;
    while at < items.len() {
        let count = items[at]
            .as_str()
            .and_then(|line| line.trim().strip_prefix("Private-Lines:"))
            .and_then(|n| n.trim().parse::<usize>().ok());
        at += 1;
        let Some(count) = count else {
            continue;
        };
        let mut left = count;
        while left > 0 && at < items.len() {
            let base64 = items[at].as_str().is_some_and(|line| {
                let line = line.trim();
                !line.is_empty()
                    && line
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
            });
            if !base64 {
                break;
            }
            changed |= blank(&mut items[at]);
            left -= 1;
            at += 1;
        }
        let mac = items
            .get(at)
            .and_then(Value::as_str)
            .is_some_and(|line| line.trim_start().starts_with("Private-MAC:"));
        if mac {
            changed |= blank(&mut items[at]);
            at += 1;
        }
    }
    changed
}

/// A byte of a PEM body line: base64, the headers of an encrypted key (`Proc-Type: 4,ENCRYPTED`,
/// `DEK-Info: AES-128-CBC,…`), spaces and line ends.
fn is_pem_body_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'+' | b'/' | b'=' | b':' | b',' | b'-' | b' ' | b'\t' | b'\r' | b'\n'
        )
}

/// Redacts what a list shows only by its order: the value after a name
/// (`["API_TOKEN", "9f8e…"]`) and a command line's secrets kept as separate arguments
/// (`["mysql", "-u", "root", "-pSECRET"]`, `["--api-key", "…"]`). The items themselves are
/// looked at afterwards, one by one.
fn redact_pairs(items: &mut [Value]) -> bool {
    let strings: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
    let Some(strings) = strings else {
        return false;
    };
    if strings.len() < 2
        || strings.len() > argv::ARGV_ITEMS
        || strings.iter().map(|s| s.len() + 1).sum::<usize>() > argv::ARGV_BYTES
        || strings.iter().any(|s| s.contains('\n'))
    {
        return false;
    }
    let mut secret = vec![false; strings.len()];
    // A header as a pair (`["X-Auth", "…"]`, `("Authorization", "Token …")`: how requests,
    // aiohttp, httpx and Node's raw headers list them).
    if let [name, value] = strings[..] {
        secret[1] = rules::header_holds_secret(name, value);
    }
    // `["NAME", "value"]` pairs.
    for i in 1..strings.len() {
        let (name, value) = (strings[i - 1], strings[i]);
        let another_name = is_identifier_like(value) && !looks_random(value);
        if !is_identifier_like(name)
            || another_name
            || value
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .nth(3)
                .is_none()
        {
            continue;
        }
        secret[i] |= match name_kind(name) {
            Name::Plain => false,
            Name::Maybe => looks_random(value),
            kind @ (Name::Secret | Name::SecretOrSetting) => {
                !value.contains(char::is_whitespace)
                    && !rules::is_placeholder(value)
                    && !kind.keeps_setting(value)
            }
        };
    }
    // A command line (a program, then arguments with a flag among them): an argument is a
    // secret when the words before it make it one.
    let mut kept = vec![None; strings.len()];
    for (i, redacted) in argv::redacted_args(&strings).into_iter().enumerate() {
        if let Some(at) = redacted {
            secret[i] = true;
            kept[i] = (at > 0).then_some(at);
        }
    }
    let mut changed = false;
    for ((item, secret), kept) in items.iter_mut().zip(secret).zip(kept) {
        match (item, kept) {
            (Value::String(s), Some(at)) if secret => {
                s.truncate(at);
                s.push_str(REDACTED);
                changed = true;
            }
            (item, _) if secret => changed |= blank(item),
            _ => {}
        }
    }
    changed
}
