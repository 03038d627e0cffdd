//! PII masking (`--mask`): email addresses, phone numbers, card numbers (Luhn-checked), US
//! social security numbers and AWS ARNs become placeholders before anything reaches disk, plus
//! any patterns the user adds.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;

/// An email address, as masking and `export --anonymize` recognise one.
pub const EMAIL_PATTERN: &str =
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}";

/// An email address with its `@` percent-encoded, as a URL's query carries one
/// (`?email=jane.doe%40corp.example`). Its name holds no `%`; `pre`, an escape right before
/// it (`mailto%3Ajane%40…`), is no part of the address.
pub const ENCODED_EMAIL_PATTERN: &str =
    r"(?P<pre>%[0-9A-Fa-f]{2})?[A-Za-z0-9._+-]+%40[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}";

struct Rule {
    pattern: Regex,
    placeholder: &'static str,
    /// A further check a match must pass (Luhn for card numbers).
    check: fn(&str) -> bool,
}

fn always(_: &str) -> bool {
    true
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |pattern: &str, placeholder, check| {
        Regex::new(pattern).ok().map(|pattern| Rule {
            pattern,
            placeholder,
            check,
        })
    };
    [
        rule(
            r"arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[^\s\x22',]+",
            "[ARN]",
            always,
        ),
        rule(EMAIL_PATTERN, "[EMAIL]", always),
        rule(ENCODED_EMAIL_PATTERN, "[EMAIL]", always),
        rule(r"\b(?:\d[ -]?){12,18}\d\b", "[CARD]", luhn),
        rule(r"\b\d{3}-\d{2}-\d{4}\b", "[SSN]", plausible_ssn),
        rule(
            r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)\s?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b",
            "[PHONE]",
            always,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// Masks PII in one string, and redacts whatever the user's `extra` patterns match (as
/// `[REDACTED]`, like the built-in secret patterns).
pub fn mask_str<'a>(text: &'a str, extra: &[Regex]) -> Cow<'a, str> {
    mask_str_with(text, true, extra)
}

/// Masks one string: PII when `pii`, and whatever the user's `extra` patterns match.
pub fn mask_str_with<'a>(text: &'a str, pii: bool, extra: &[Regex]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for rule in RULES.iter().filter(|_| pii) {
        if rule.pattern.is_match(&out) {
            let replaced = rule
                .pattern
                .replace_all(&out, |c: &Captures<'_>| {
                    if (rule.check)(&c[0]) {
                        // What stands before the datum and is no part of it stays.
                        let pre = c.name("pre").map_or("", |m| m.as_str());
                        format!("{pre}{}", rule.placeholder)
                    } else {
                        c[0].to_owned()
                    }
                })
                .into_owned();
            out = Cow::Owned(replaced);
        }
    }
    for pattern in extra {
        if let Some(replaced) = replace_outside_placeholders(pattern, &out) {
            out = Cow::Owned(replaced);
        }
    }
    out
}

/// What stands in for what was scrubbed: the secret's and each personal datum's.
const PLACEHOLDERS: [&str; 6] = [
    crate::redact::REDACTED,
    "[EMAIL]",
    "[PHONE]",
    "[CARD]",
    "[SSN]",
    "[ARN]",
];

/// Whether `text` holds what stands in for something scrubbed out of it (`[REDACTED]`,
/// `[EMAIL]` …): it no longer says what was written.
pub fn holds_placeholder(text: &str) -> bool {
    PLACEHOLDERS.iter().any(|p| text.contains(p))
}

/// `text` with what a user's `pattern` matches redacted, except a match made only of
/// placeholders (`[REDACTED]`, part of one, or several side by side): scrubbing scrubbed text
/// again changes nothing, so a pattern such as `[A-Z]{8,}` never nests the placeholder its
/// match became (`[[REDACTED]]`). `None` when nothing was replaced.
fn replace_outside_placeholders(pattern: &Regex, text: &str) -> Option<String> {
    // Where the placeholders are, looked for once a match needs it.
    let mut covered: Option<Vec<Range<usize>>> = None;
    let mut only_placeholders = |m: Range<usize>| {
        let covered = covered.get_or_insert_with(|| {
            let mut at: Vec<Range<usize>> = PLACEHOLDERS
                .iter()
                .flat_map(|p| text.match_indices(p).map(|(at, p)| at..at + p.len()))
                .collect();
            at.sort_by_key(|r| r.start);
            at
        });
        let mut at = m.start;
        for r in covered
            .iter()
            .filter(|r| r.end > m.start && r.start < m.end)
        {
            if r.start > at {
                return false;
            }
            at = at.max(r.end);
        }
        at >= m.end
    };
    let mut out = String::new();
    let mut copied = 0;
    let mut changed = false;
    for m in pattern.find_iter(text) {
        if m.is_empty() || only_placeholders(m.range()) {
            continue;
        }
        out.push_str(&text[copied..m.start()]);
        out.push_str(crate::redact::REDACTED);
        copied = m.end();
        changed = true;
    }
    if !changed {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Masks every string in a JSON value, in place; returns whether anything changed. With `pii`
/// false only the `extra` patterns apply.
pub fn mask_value(value: &mut Value, pii: bool, extra: &[Regex]) -> bool {
    match value {
        Value::String(s) => {
            if let Cow::Owned(masked) = mask_str_with(s, pii, extra)
                && masked != *s
            {
                *s = masked;
                return true;
            }
            false
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, v| mask_value(v, pii, extra) | changed),
        Value::Object(map) => {
            let changed = map
                .values_mut()
                .fold(false, |changed, v| mask_value(v, pii, extra) | changed);
            mask_keys(map, pii) | changed
        }
        _ => false,
    }
}

/// Masks the fields of a record kept beside what is modelled (an event's or a session meta's
/// `extra`): each value as [`mask_value`] does and each name as an object's key is (personal
/// data only; see [`mask_keys`]).
pub fn mask_fields(
    fields: &mut serde_json::Map<String, Value>,
    pii: bool,
    extra: &[Regex],
) -> bool {
    let values = fields
        .values_mut()
        .fold(false, |changed, v| mask_value(v, pii, extra) | changed);
    mask_keys(fields, pii) | values
}

/// Masks personal data in object keys (`{"ada@example.com": {...}}`), keeping their order; two
/// keys that mask alike are told apart by a number. The user's patterns are not run over keys:
/// a key names a field, and one a pattern matched (`file_path`, `command`) would no longer say
/// what its value is, or would become the same key as another. A key that is itself a secret
/// is the built-in rules' (`redact::redact_value`).
fn mask_keys(map: &mut serde_json::Map<String, Value>, pii: bool) -> bool {
    if !pii {
        return false;
    }
    let masked = |key: &str| match mask_str_with(key, true, &[]) {
        Cow::Owned(m) if m != key => Some(m),
        _ => None,
    };
    if !map.keys().any(|k| masked(k).is_some()) {
        return false;
    }
    let old = std::mem::take(map);
    for (key, value) in old {
        let key = masked(&key).unwrap_or(key);
        crate::model::event::insert_told_apart(map, key, value);
    }
    true
}

/// The Luhn checksum every payment card number passes.
fn luhn(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// SSNs never start with 000, 666 or 9, and no part is all zeros.
fn plausible_ssn(candidate: &str) -> bool {
    let parts: Vec<&str> = candidate.split('-').collect();
    let [area, group, serial] = parts.as_slice() else {
        return false;
    };
    *area != "000"
        && *area != "666"
        && !area.starts_with('9')
        && *group != "00"
        && *serial != "0000"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_masked() {
        let text = "mail ada@example.co.uk or call +1 415-555-0132 / (212) 555-0199; card 4111 1111 1111 1111; \
                    ssn 123-45-6789; role arn:aws:iam::123456789012:role/deploy.";
        let masked = mask_str(text, &[]);
        assert_eq!(
            masked,
            "mail [EMAIL] or call [PHONE] / [PHONE]; card [CARD]; ssn [SSN]; role [ARN]"
        );
    }

    /// An address in a URL's query has its `@` percent-encoded, and was kept whole.
    #[test]
    fn an_address_percent_encoded_is_masked() {
        assert_eq!(
            mask_str("GET /users?email=jane.doe%40corp.example&x=1", &[]),
            "GET /users?email=[EMAIL]&x=1"
        );
        assert_eq!(
            mask_str("href=mailto%3Ajane%40corp.example", &[]),
            "href=mailto%3A[EMAIL]"
        );
        assert_eq!(mask_str("50%40 off", &[]), "50%40 off");
    }

    #[test]
    fn look_alikes_are_left_alone() {
        for text in [
            "order 4111 1111 1111 1112 failed",
            "build 2026-11-25 at 10:42",
            "version 1.2.3, commit 3f2a1c9e, port 8080",
            "id 000-12-3456 and 999-12-3456",
            "uuid 3f2a1c9e-1b2c-4d5e-8f90-123456789abc",
        ] {
            assert_eq!(mask_str(text, &[]), text, "{text}");
        }
    }

    #[test]
    fn extra_patterns_and_json() {
        let extra = [Regex::new(r"ACME-\d+").unwrap()];
        let mut v = serde_json::json!({"a": ["ticket ACME-42 from bob@corp.io"], "n": 5});
        assert!(mask_value(&mut v, true, &extra));
        assert_eq!(v["a"][0], "ticket [REDACTED] from [EMAIL]");
        assert_eq!(v["n"], 5);
        // Keys too: a map by email address.
        let mut v = serde_json::json!({"owners": {"ada@corp.io": 1, "bob@corp.io": 2, "team": 3}});
        assert!(mask_value(&mut v, true, &[]));
        assert_eq!(
            v,
            serde_json::json!({"owners": {"[EMAIL]": 1, "[EMAIL] #2": 2, "team": 3}})
        );
        // A user's pattern scrubs values, never the names of fields.
        let extra = [Regex::new(r"file_path|command").unwrap()];
        let mut v = serde_json::json!({"file_path": "/a/file_path", "command": "ls"});
        assert!(mask_value(&mut v, false, &extra));
        assert_eq!(
            v,
            serde_json::json!({"file_path": "/a/[REDACTED]", "command": "ls"})
        );
    }

    #[test]
    fn a_pattern_that_matches_the_placeholder_never_nests_it() {
        let extra = [Regex::new(r"[A-Z]{8,}|\[\w+\]|\S*EMAIL\S*").unwrap()];
        let once = mask_str("code ABCDEFGHIJ, [REDACTED] [REDACTED][EMAIL] x", &extra);
        assert_eq!(once, "code [REDACTED], [REDACTED] [REDACTED][EMAIL] x");
        assert_eq!(mask_str(&once, &extra), once);
        // A match reaching past a placeholder is redacted whole, once.
        let extra = [Regex::new(r"key \S+ \w+").unwrap()];
        let once = mask_str("key [REDACTED] tail end", &extra);
        assert_eq!(once, "[REDACTED] end");
        assert_eq!(mask_str(&once, &extra), once);
    }
}
