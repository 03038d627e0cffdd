//! The git settings a line gives that make a subcommand force as one of its options would:
//! `git -c remote.origin.mirror=true push` force-updates and deletes as `--mirror` does, a `+`
//! refspec in `remote.<name>.push` forces as `+main` does, and `clean.requireForce=false` lets
//! `git clean` remove files without `-f`. Given by git's own options (`-c`, `--config-env`) or
//! its environment (`GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`, `GIT_CONFIG_PARAMETERS`).

use std::collections::HashMap;

use super::options;

/// A setting's value as the line gives it.
enum Value {
    /// Spelt out on the line.
    Spelt(String),
    /// No `=` at all (`-c remote.origin.mirror`): git takes it for `true`.
    Named,
    /// A value the line does not spell: from a variable, a substitution, `--config-env`'s
    /// variable, or a `GIT_CONFIG_PARAMETERS` that cannot be read.
    Unknown,
}

/// One setting the line gives git, in the order git reads them.
struct Setting {
    /// Its name; `None` when the line does not spell it (`remote.$R.mirror`).
    key: Option<String>,
    value: Value,
    /// git surely reads it. A `GIT_CONFIG_KEY_<n>` pair is read only below a
    /// `GIT_CONFIG_COUNT` the line may not give: such a setting may add to what the others do,
    /// but never undoes them (a `remote.origin.mirror=false` git may not read keeps a `true`).
    certain: bool,
}

/// The letters of `sub`'s options (`options::letters_given`'s) that the settings given by
/// `own` (git's own words before its subcommand) and `env` (the `NAME=value` words setting its
/// environment) amount to: `fd` for `push` with `remote.<name>.mirror`, as `--mirror`; `f` for
/// `push` with a `+` refspec in `remote.<name>.push`, `d` with a `:name` one; `f` for `clean`
/// with `clean.requireForce` false, unless `sub_words` (the words after the subcommand) make it
/// a dry run, which removes nothing. A setting given more than once counts by its last value,
/// as git takes it (`remote.<name>.push` adds a refspec each time). A setting whose name or
/// value the line does not spell is taken for the one that forces most, so that no value a
/// variable holds gets past a deny.
pub(super) fn letters(sub: &str, own: &[String], env: &[String], sub_words: &[String]) -> String {
    if removes_nothing(sub, sub_words) {
        return String::new();
    }
    let mut out = String::new();
    // Each single-valued setting's letters, by its name as git compares names.
    let mut last: HashMap<String, String> = HashMap::new();
    for setting in settings(own, env) {
        let letters = letters_of(sub, setting.key.as_deref(), &setting.value);
        match setting.key.as_deref().map(canonical) {
            Some(key) if !is_multi_valued(&key) => {
                let kept = last.entry(key).or_default();
                if setting.certain {
                    kept.clear();
                }
                kept.push_str(letters);
            }
            _ => out.push_str(letters),
        }
    }
    out.extend(last.into_values());
    out
}

/// Whether the settings given by `own` and `env` (as for [`letters`]) may set
/// `help.autocorrect` to a value that makes git run the subcommand it guesses for one it does
/// not know (`git -c help.autocorrect=immediate psuh` runs `push`): `immediate`, `prompt`
/// (git asks through `GIT_ASKPASS` when it has no terminal), or a number but 0 (a delay, or
/// at once when below 0). `never` and 0 only show the guess. A name or value the line does
/// not spell may be any of them.
pub(super) fn autocorrects(own: &[String], env: &[String]) -> bool {
    let mut on = false;
    for setting in settings(own, env) {
        let Some(key) = setting.key.as_deref() else {
            on = true;
            continue;
        };
        if canonical(key) != "help.autocorrect" {
            continue;
        }
        let runs = match &setting.value {
            Value::Spelt(v) => {
                !(v.eq_ignore_ascii_case("never") || git_int_is_zero(v) == Some(true))
            }
            Value::Named | Value::Unknown => true,
        };
        on = runs || (on && !setting.certain);
    }
    on
}

/// Whether `sub` with its words (after the subcommand) is a `git clean` dry run, which removes
/// nothing however it is forced (`git clean -fn` lists what `-f` would remove): its `-f`, and
/// a setting that does as `-f` does, meet no deny of `git clean -f`.
pub(super) fn removes_nothing(sub: &str, sub_words: &[String]) -> bool {
    sub == "clean" && is_dry_run(sub_words)
}

/// Whether `git clean`'s words (after the subcommand) make it a dry run, which lists what it
/// would remove and removes nothing: `-n` or `--dry-run` (or a start of it), last over
/// `--no-dry-run`, before `--`; the value of `-e`/`--exclude` (`-e -n`) is no option.
fn is_dry_run(words: &[String]) -> bool {
    let mut dry = false;
    let mut words = words.iter();
    while let Some(w) = words.next() {
        if w == "--" {
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or(long);
            if !name.is_empty() && "dry-run".starts_with(name) {
                dry = true;
            } else if name.len() > 3 && "no-dry-run".starts_with(name) {
                dry = false;
            } else if name.len() > 1 && "exclude".starts_with(name) && !long.contains('=') {
                words.next();
            }
        } else if let Some(cluster) = w.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (at, letter) in cluster.char_indices() {
                match letter {
                    'n' => dry = true,
                    'e' => {
                        if at + 1 == cluster.len() {
                            words.next();
                        }
                        break;
                    }
                    _ => {}
                }
            }
        }
    }
    dry
}

/// The settings `own` and `env` give git, in the order it reads them: the
/// `GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>` pairs by `n`, then `GIT_CONFIG_PARAMETERS`, then
/// git's own `-c` and `--config-env` options, which git adds after it.
fn settings(own: &[String], env: &[String]) -> Vec<Setting> {
    let set = assignments(env);
    // Each name's last value, indexed once by its name in upper case (Windows takes a
    // variable's name in any case): a line of thousands of `GIT_CONFIG_KEY_<n>` words would
    // otherwise be scanned once per key.
    let last: HashMap<String, &str> = set
        .iter()
        .map(|(n, v)| (n.to_ascii_uppercase(), *v))
        .collect();
    let value_of = |name: &str| last.get(&name.to_ascii_uppercase()).copied();
    let mut out = Vec::new();
    // `GIT_CONFIG_COUNT` says how many pairs git takes; every pair given is read, as the count
    // may come from outside the line, but only those below a count the line spells are sure.
    let count: Option<u64> = value_of("GIT_CONFIG_COUNT").and_then(|c| c.parse().ok());
    let mut pairs: Vec<(Option<u64>, Setting)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (name, key) in &set {
        let Some(n) = upper_strip(name, "GIT_CONFIG_KEY_") else {
            continue;
        };
        // A pair set twice on the line is one pair, of its last values.
        if !seen.insert(n.to_ascii_uppercase()) {
            continue;
        }
        let key = value_of(&format!("GIT_CONFIG_KEY_{n}")).unwrap_or(key);
        // git names the pairs it reads `GIT_CONFIG_KEY_0`, `_1` …, and no others.
        let index = n.parse::<u64>().ok().filter(|i| i.to_string() == n);
        let value =
            value_of(&format!("GIT_CONFIG_VALUE_{n}")).map_or(Value::Unknown, spelt_or_unknown);
        let certain = index.zip(count).is_some_and(|(i, count)| i < count);
        let key = spelt_key(key).map(str::to_owned);
        pairs.push((
            index,
            Setting {
                key,
                value,
                certain,
            },
        ));
    }
    pairs.sort_by_key(|(index, _)| *index);
    out.extend(pairs.into_iter().map(|(_, setting)| setting));
    if let Some(params) = value_of("GIT_CONFIG_PARAMETERS") {
        match parameters(params).filter(|_| !params.contains('$')) {
            Some(given) => out.extend(given.into_iter().map(|(key, value)| Setting {
                key: spelt_key(&key).map(str::to_owned),
                value: value.map_or(Value::Named, |v| spelt_or_unknown(&v)),
                certain: true,
            })),
            // One git cannot read stops it; one the line does not spell may be anything.
            None => out.push(Setting {
                key: None,
                value: Value::Unknown,
                certain: false,
            }),
        }
    }
    let mut words = own.iter();
    while let Some(w) = words.next() {
        let config_env = if w == "--config-env" {
            words.next().map(String::as_str)
        } else {
            w.strip_prefix("--config-env=")
        };
        let setting = if let Some(kv) = config_env {
            // The variable is named after the last `=`: its value is the setting's.
            match kv.rsplit_once('=') {
                Some((key, var)) => Setting {
                    key: spelt_key(key).map(str::to_owned),
                    value: value_of(var).map_or(Value::Unknown, spelt_or_unknown),
                    certain: true,
                },
                None => Setting {
                    key: None,
                    value: Value::Unknown,
                    certain: false,
                },
            }
        } else if w == "-c" {
            let Some(kv) = words.next() else { break };
            let (key, value) = match kv.split_once('=') {
                Some((key, value)) => (key, spelt_or_unknown(value)),
                None => (kv.as_str(), Value::Named),
            };
            Setting {
                key: spelt_key(key).map(str::to_owned),
                value,
                certain: true,
            }
        } else {
            if super::git::GIT_VALUED.contains(&w.as_str()) {
                words.next();
            }
            continue;
        };
        out.push(setting);
    }
    out
}

/// The settings of a `GIT_CONFIG_PARAMETERS` value, read as git reads it: words quoted in
/// single quotes (a `'\''` or `'\!'` between two quoted parts is a `'` or `!`), apart by
/// blanks, each `'key'='value'`, `'key'=` or `'key'` (`true`) or, as older git wrote them,
/// `'key=value'`, split at its first `=`. A key may hold `=` (`'remote.a=b.mirror'='true'`).
/// `None` when git cannot read it (it then stops, running nothing).
pub(super) fn parameters(text: &str) -> Option<Vec<(String, Option<String>)>> {
    let blank = |c: char| matches!(c, ' ' | '\t' | '\n');
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (word, after) = sq_word(rest)?;
        rest = after;
        if rest.is_empty() || rest.starts_with(blank) {
            // The older `'key=value'`: the key is trimmed, a value after the first `=`.
            match word.split_once('=') {
                Some((key, value)) => out.push((key.trim().to_owned(), Some(value.to_owned()))),
                None => out.push((word.trim().to_owned(), None)),
            }
        } else {
            rest = rest.strip_prefix('=')?;
            if rest.starts_with('\'') {
                let (value, after) = sq_word(rest)?;
                if !(after.is_empty() || after.starts_with(blank)) {
                    return None;
                }
                rest = after;
                out.push((word, Some(value)));
            } else if rest.is_empty() || rest.starts_with(blank) {
                out.push((word, None));
            } else {
                return None;
            }
        }
        rest = rest.trim_start_matches(blank);
    }
    Some(out)
}

/// The word single-quoted at the start of `text` (git's `sq_dequote_step`) and the text after
/// it; `None` when `text` does not start with a quote or never closes it.
fn sq_word(text: &str) -> Option<(String, &str)> {
    let mut rest = text.strip_prefix('\'')?;
    let mut word = String::new();
    loop {
        let end = rest.find('\'')?;
        word.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        // `'\''` and `'\!'` go on with the word.
        let bytes = rest.as_bytes();
        if bytes.len() >= 3
            && bytes[0] == b'\\'
            && matches!(bytes[1], b'\'' | b'!')
            && bytes[2] == b'\''
        {
            word.push(char::from(bytes[1]));
            rest = &rest[3..];
        } else {
            return Some((word, rest));
        }
    }
}

/// The `NAME=value` words of `env`, as name and value.
fn assignments(env: &[String]) -> Vec<(&str, &str)> {
    env.iter().filter_map(|w| w.split_once('=')).collect()
}

/// `name` past `prefix` in upper case (Windows takes a variable's name in any case).
fn upper_strip<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &name[prefix.len()..])
}

/// A setting's name, unless it holds a value the line does not spell (`remote.$R.mirror`).
fn spelt_key(key: &str) -> Option<&str> {
    (!key.contains('$')).then_some(key)
}

/// A value, unless it holds one the line does not spell (`$V`, `$(…)`).
fn spelt_or_unknown(value: &str) -> Value {
    if value.contains('$') {
        Value::Unknown
    } else {
        Value::Spelt(value.to_owned())
    }
}

/// A setting's name as git compares names: its section and its variable's name in lower case,
/// the subsection between them (a remote's name, which may hold dots) as it is.
fn canonical(key: &str) -> String {
    let (section, rest) = key.split_once('.').unwrap_or((key, ""));
    match rest.rsplit_once('.') {
        Some((subsection, name)) => format!(
            "{}.{subsection}.{}",
            section.to_ascii_lowercase(),
            name.to_ascii_lowercase()
        ),
        None => key.to_ascii_lowercase(),
    }
}

/// Whether git adds each value of a setting (a remote's push refspecs) rather than keeping the
/// last (`key` [`canonical`]).
fn is_multi_valued(key: &str) -> bool {
    key.strip_prefix("remote.")
        .and_then(|rest| rest.rsplit_once('.'))
        .is_some_and(|(remote, name)| !remote.is_empty() && name == "push")
}

/// The letters one setting gives `sub`; `key` `None`: a setting of any name.
fn letters_of(sub: &str, key: Option<&str>, value: &Value) -> &'static str {
    let Some(key) = key else {
        return match sub {
            "push" => "fd",
            "clean" => "f",
            _ => "",
        };
    };
    let key = canonical(key);
    let (section, rest) = key.split_once('.').unwrap_or((key.as_str(), ""));
    let (subsection, name) = rest.rsplit_once('.').unwrap_or(("", rest));
    match (sub, section, name) {
        ("push", "remote", "mirror") if !subsection.is_empty() => match value {
            Value::Spelt(v) if git_bool(v) == Some(false) => "",
            _ => "fd",
        },
        ("push", "remote", "push") if !subsection.is_empty() => match value {
            Value::Spelt(v) => options::letters_of_operand("git push", v.trim()),
            Value::Named => "",
            Value::Unknown => "fd",
        },
        ("clean", "clean", "requireforce") if subsection.is_empty() => match value {
            Value::Spelt(v) if git_bool(v) == Some(false) => "f",
            Value::Unknown => "f",
            _ => "",
        },
        _ => "",
    }
}

/// A boolean setting's value as git reads it (`git_config_bool`): `true`, `yes`, `on` and
/// `false`, `no`, `off` in any case, an empty value false, else an integer (decimal, `0x` hex
/// or `0` octal, with a `k`, `m` or `g` after it) that is true but for 0 (`0x0`, `-0`, `0k`).
/// `None`: a value git refuses, stopping.
fn git_bool(value: &str) -> Option<bool> {
    let lower = value.to_ascii_lowercase();
    match lower.as_str() {
        "" | "false" | "no" | "off" => Some(false),
        "true" | "yes" | "on" => Some(true),
        _ => git_int_is_zero(value).map(|zero| !zero),
    }
}

/// Whether an integer setting's value is 0, read as git reads it (`strtoimax` with base 0,
/// then a unit): blanks before it, a sign, `0x` hex or `0` octal digits, and `k`, `m` or `g`
/// in any case after them. `None`: no integer git takes.
fn git_int_is_zero(value: &str) -> Option<bool> {
    let text = value.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let text = text.strip_prefix(['+', '-']).unwrap_or(text);
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .filter(|h| h.starts_with(|c: char| c.is_ascii_hexdigit()));
    let (digits, radix) = match hex {
        Some(hex) => (hex, 16),
        None if text.starts_with('0') => (text, 8),
        None => (text, 10),
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let unit = &digits[end..];
    (end > 0 && matches!(unit, "" | "k" | "K" | "m" | "M" | "g" | "G"))
        .then(|| digits[..end].bytes().all(|b| b == b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_setting_that_forces_gives_the_letter_of_its_option() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            letters("push", &w(&["-c", "remote.origin.mirror=true"]), &none, &[]),
            "fd"
        );
        assert_eq!(
            letters("push", &w(&["-c", "remote.origin.mirror"]), &none, &[]),
            "fd"
        );
        assert_eq!(
            letters("push", &w(&["-c", "Remote.origin.Mirror=off"]), &none, &[]),
            ""
        );
        assert_eq!(
            letters(
                "push",
                &w(&["-c", "remote.a.b.push=+HEAD:main"]),
                &none,
                &[]
            ),
            "f"
        );
        assert_eq!(
            letters(
                "push",
                &w(&["-c", "remote.origin.push=HEAD:main"]),
                &none,
                &[]
            ),
            ""
        );
        assert_eq!(
            letters("push", &w(&["-c", "push.default=current"]), &none, &[]),
            ""
        );
        assert_eq!(
            letters("push", &w(&["--config-env=remote.o.push=V"]), &none, &[]),
            "fd"
        );
        assert_eq!(
            letters(
                "push",
                &w(&["--config-env", "remote.o.push=V"]),
                &w(&["V=main"]),
                &[]
            ),
            ""
        );
        assert_eq!(
            letters("clean", &w(&["-c", "clean.requireForce=0"]), &none, &[]),
            "f"
        );
        assert_eq!(
            letters("clean", &w(&["-c", "clean.requireForce=true"]), &none, &[]),
            ""
        );
        assert_eq!(letters("clean", &w(&["-c", "$K=$V"]), &none, &[]), "f");
        assert_eq!(letters("status", &w(&["-c", "$K=$V"]), &none, &[]), "");
    }

    #[test]
    fn settings_from_the_environment_are_read_as_git_reads_them() {
        let env = w(&[
            "GIT_CONFIG_COUNT=1",
            "GIT_CONFIG_KEY_0=remote.origin.mirror",
            "GIT_CONFIG_VALUE_0=1",
        ]);
        assert_eq!(letters("push", &[], &env, &[]), "fd");
        let env = w(&["GIT_CONFIG_KEY_0=remote.origin.mirror"]);
        assert_eq!(letters("push", &[], &env, &[]), "fd");
        let env = w(&["GIT_CONFIG_PARAMETERS='remote.origin.mirror'='true'"]);
        assert_eq!(letters("push", &[], &env, &[]), "fd");
        let env = w(&["GIT_CONFIG_PARAMETERS='clean.requireForce=false'"]);
        assert_eq!(letters("clean", &[], &env, &[]), "f");
        let env = w(&["GIT_CONFIG_PARAMETERS='push.default'='current'"]);
        assert_eq!(letters("push", &[], &env, &[]), "");
        let env = w(&["GIT_CONFIG_PARAMETERS=$P"]);
        assert_eq!(letters("push", &[], &env, &[]), "fd");
    }
    #[test]
    fn a_value_is_read_as_git_reads_it() {
        let p = |t: &str| parameters(t);
        let kv = |k: &str, v: Option<&str>| (k.to_owned(), v.map(str::to_owned));
        assert_eq!(
            p("'remote.a=b.mirror'='true'"),
            Some(vec![kv("remote.a=b.mirror", Some("true"))])
        );
        assert_eq!(
            p("'a.b=c=d' 'x.y'= 'z.w'"),
            Some(vec![
                kv("a.b", Some("c=d")),
                kv("x.y", None),
                kv("z.w", None)
            ])
        );
        assert_eq!(p("'a.b'='it'\\''s'"), Some(vec![kv("a.b", Some("it's"))]));
        assert_eq!(p("a.b=c"), None);
        assert_eq!(p("'a.b'x"), None);
        for false_ in ["", "off", "NO", "0", "0x0", "-0", "+00", "0k", " 0"] {
            assert_eq!(git_bool(false_), Some(false), "{false_}");
        }
        for true_ in ["on", "True", "1", "010", "0x10", "2g", "-1"] {
            assert_eq!(git_bool(true_), Some(true), "{true_}");
        }
        for refused in ["zz", "1 ", "08", "0x", "1t"] {
            assert_eq!(git_bool(refused), None, "{refused}");
        }
    }

    #[test]
    fn autocorrect_is_on_for_a_value_that_runs_the_guess() {
        let none: Vec<String> = Vec::new();
        let on = |v: &str| autocorrects(&w(&["-c", &format!("help.autocorrect={v}")]), &none);
        assert!(on("immediate") && on("prompt") && on("1") && on("-1") && on("$A"));
        assert!(!on("never") && !on("0") && !on("Never"));
        assert!(!autocorrects(&w(&["-c", "user.name=x"]), &none));
    }
}
