//! The git settings a line gives that make a subcommand force as one of its options would:
//! `git -c remote.origin.mirror=true push` force-updates and deletes as `--mirror` does, a `+`
//! refspec in `remote.<name>.push` forces as `+main` does, and `clean.requireForce=false` lets
//! `git clean` remove files without `-f`. Given by git's own options (`-c`, `--config-env`) or
//! its environment (`GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`, `GIT_CONFIG_PARAMETERS`).

use std::collections::HashMap;

use super::options;

/// A setting's value as the line gives it.
enum Value<'a> {
    /// Spelt out on the line.
    Spelt(&'a str),
    /// No `=` at all (`-c remote.origin.mirror`): git takes it for `true`.
    Named,
    /// A value the line does not spell: from a variable, a substitution, `--config-env`'s
    /// variable, or a `GIT_CONFIG_PARAMETERS` that cannot be read.
    Unknown,
}

/// The letters of `sub`'s options (`options::letters_given`'s) that the settings given by
/// `own` (git's own words before its subcommand) and `env` (the `NAME=value` words setting its
/// environment) amount to: `fd` for `push` with `remote.<name>.mirror`, as `--mirror`; `f` for
/// `push` with a `+` refspec in `remote.<name>.push`, `d` with a `:name` one; `f` for `clean`
/// with `clean.requireForce` false. A setting whose name or value the line does not spell is
/// taken for the one that forces most, so that no value a variable holds gets past a deny.
pub(super) fn letters(sub: &str, own: &[String], env: &[String]) -> String {
    let set = assignments(env);
    // Each name's last value, indexed once by its name in upper case (Windows takes a
    // variable's name in any case): a line of thousands of `GIT_CONFIG_KEY_<n>` words would
    // otherwise be scanned once per key.
    let last: HashMap<String, &str> = set
        .iter()
        .map(|(n, v)| (n.to_ascii_uppercase(), *v))
        .collect();
    let value_of = |name: &str| last.get(&name.to_ascii_uppercase()).copied();
    let mut out = String::new();
    let mut add = |key: Option<&str>, value: Value<'_>| out.push_str(letters_of(sub, key, &value));
    let mut words = own.iter();
    while let Some(w) = words.next() {
        let config_env = if w == "--config-env" {
            words.next().map(String::as_str)
        } else {
            w.strip_prefix("--config-env=")
        };
        if let Some(kv) = config_env {
            // The variable is named after the last `=`: its value is the setting's.
            match kv.rsplit_once('=') {
                Some((key, var)) => {
                    let value = value_of(var).map_or(Value::Unknown, spelt_or_unknown);
                    add(spelt_key(key), value);
                }
                None => add(None, Value::Unknown),
            }
        } else if w == "-c" {
            if let Some(kv) = words.next() {
                let (key, value) = key_value(kv);
                add(key, value);
            }
        } else if super::git::GIT_VALUED.contains(&w.as_str()) {
            words.next();
        }
    }
    // `GIT_CONFIG_COUNT` says how many pairs git takes; every pair given is read, as the count
    // may come from outside the line.
    for (name, key) in &set {
        let Some(n) = upper_strip(name, "GIT_CONFIG_KEY_") else {
            continue;
        };
        let value =
            value_of(&format!("GIT_CONFIG_VALUE_{n}")).map_or(Value::Unknown, spelt_or_unknown);
        add(spelt_key(key), value);
    }
    // Quoted as a shell quotes words, each `key=value` (`'key'='value'`, or `'key=value'` as
    // older git wrote it).
    if let Some(params) = value_of("GIT_CONFIG_PARAMETERS") {
        if params.contains('$') {
            add(None, Value::Unknown);
        } else {
            for cmd in super::shell::split(params) {
                for kv in cmd.env.iter().chain(&cmd.words) {
                    let (key, value) = key_value(kv);
                    add(key, value);
                }
            }
        }
    }
    out
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

/// A `key=value` word of `-c` or `GIT_CONFIG_PARAMETERS`: its name (`None` when the line does
/// not spell it) and its value.
fn key_value(kv: &str) -> (Option<&str>, Value<'_>) {
    match kv.split_once('=') {
        Some((key, value)) => (spelt_key(key), spelt_or_unknown(value)),
        None => (spelt_key(kv), Value::Named),
    }
}

/// A setting's name, unless it holds a value the line does not spell (`remote.$R.mirror`).
fn spelt_key(key: &str) -> Option<&str> {
    (!key.contains('$')).then_some(key)
}

/// A value, unless it holds one the line does not spell (`$V`, `$(…)`).
fn spelt_or_unknown(value: &str) -> Value<'_> {
    if value.contains('$') {
        Value::Unknown
    } else {
        Value::Spelt(value)
    }
}

/// The letters one setting gives `sub`; `key` `None`: a setting of any name.
fn letters_of(sub: &str, key: Option<&str>, value: &Value<'_>) -> &'static str {
    let Some(key) = key else {
        return match sub {
            "push" => "fd",
            "clean" => "f",
            _ => "",
        };
    };
    // A section and a variable's name are taken in any case, the subsection between them
    // (a remote's name, which may hold dots) as it is.
    let key = key.to_ascii_lowercase();
    let (section, rest) = key.split_once('.').unwrap_or((key.as_str(), ""));
    let (subsection, name) = rest.rsplit_once('.').unwrap_or(("", rest));
    match (sub, section, name) {
        ("push", "remote", "mirror") if !subsection.is_empty() => match value {
            Value::Spelt(v) if is_false(v) => "",
            _ => "fd",
        },
        ("push", "remote", "push") if !subsection.is_empty() => match value {
            Value::Spelt(v) => options::letters_of_operand("git push", v.trim()),
            Value::Named => "",
            Value::Unknown => "fd",
        },
        ("clean", "clean", "requireforce") if subsection.is_empty() => match value {
            Value::Spelt(v) if is_false(v) => "f",
            Value::Unknown => "f",
            _ => "",
        },
        _ => "",
    }
}

/// Whether git reads a boolean setting's value as false: `false`, `no`, `off` in any case, an
/// empty value, or a number that is 0.
fn is_false(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    matches!(value.as_str(), "false" | "no" | "off" | "")
        || value.parse::<i64>().is_ok_and(|n| n == 0)
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
            letters("push", &w(&["-c", "remote.origin.mirror=true"]), &none),
            "fd"
        );
        assert_eq!(
            letters("push", &w(&["-c", "remote.origin.mirror"]), &none),
            "fd"
        );
        assert_eq!(
            letters("push", &w(&["-c", "Remote.origin.Mirror=off"]), &none),
            ""
        );
        assert_eq!(
            letters("push", &w(&["-c", "remote.a.b.push=+HEAD:main"]), &none),
            "f"
        );
        assert_eq!(
            letters("push", &w(&["-c", "remote.origin.push=HEAD:main"]), &none),
            ""
        );
        assert_eq!(
            letters("push", &w(&["-c", "push.default=current"]), &none),
            ""
        );
        assert_eq!(
            letters("push", &w(&["--config-env=remote.o.push=V"]), &none),
            "fd"
        );
        assert_eq!(
            letters(
                "push",
                &w(&["--config-env", "remote.o.push=V"]),
                &w(&["V=main"])
            ),
            ""
        );
        assert_eq!(
            letters("clean", &w(&["-c", "clean.requireForce=0"]), &none),
            "f"
        );
        assert_eq!(
            letters("clean", &w(&["-c", "clean.requireForce=true"]), &none),
            ""
        );
        assert_eq!(letters("clean", &w(&["-c", "$K=$V"]), &none), "f");
        assert_eq!(letters("status", &w(&["-c", "$K=$V"]), &none), "");
    }

    #[test]
    fn settings_from_the_environment_are_read_as_git_reads_them() {
        let env = w(&[
            "GIT_CONFIG_COUNT=1",
            "GIT_CONFIG_KEY_0=remote.origin.mirror",
            "GIT_CONFIG_VALUE_0=1",
        ]);
        assert_eq!(letters("push", &[], &env), "fd");
        let env = w(&["GIT_CONFIG_KEY_0=remote.origin.mirror"]);
        assert_eq!(letters("push", &[], &env), "fd");
        let env = w(&["GIT_CONFIG_PARAMETERS='remote.origin.mirror'='true'"]);
        assert_eq!(letters("push", &[], &env), "fd");
        let env = w(&["GIT_CONFIG_PARAMETERS='clean.requireForce=false'"]);
        assert_eq!(letters("clean", &[], &env), "f");
        let env = w(&["GIT_CONFIG_PARAMETERS='push.default'='current'"]);
        assert_eq!(letters("push", &[], &env), "");
        let env = w(&["GIT_CONFIG_PARAMETERS=$P"]);
        assert_eq!(letters("push", &[], &env), "fd");
    }
}
