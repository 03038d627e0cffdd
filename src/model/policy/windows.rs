//! How a line run on Windows is read: cmd's and PowerShell's commands that run a line of their
//! own (`cmd /c …`, `powershell -Command …`, `pwsh -c …`, `-EncodedCommand`) are read into, as
//! [`super::shell`] reads `bash -c '…'`. Only for a session whose folder is a Windows one
//! ([`super::cwd::is_windows_folder`]): on Unix no program is named so, and the words a policy
//! reads there must not change.
//!
//! A line arrives here in a Unix shape already ([`super::cwd::unix_shaped`]: `\` is `/`), but
//! for [`decoded`], which reads the line as it was written.

use std::borrow::Cow;

use super::shell::{self, SimpleCommand};

/// How deep `cmd /c` and `powershell -Command` may nest before the rest is taken as it is.
const MAX_DEPTH: usize = 8;

/// Splits a line run on Windows into its simple commands, those of the lines that `cmd /c` and
/// `powershell -Command` run included (each in the folder its command runs in).
pub fn split(line: &str) -> Vec<SimpleCommand> {
    let mut out = Vec::new();
    split_into(line, &[], 0, &mut out);
    out
}

fn split_into(line: &str, cwd: &[String], depth: usize, out: &mut Vec<SimpleCommand>) {
    for simple in shell::split_in(line, cwd) {
        let nested = if depth < MAX_DEPTH {
            nested_line(&simple.words)
        } else {
            None
        };
        let cwd = simple.cwd.clone();
        out.push(simple);
        if let Some(inner) = nested {
            split_into(&inner, &cwd, depth + 1, out);
        }
    }
}

/// A program's name as Windows finds it: in any case, with or without `.exe`, from any folder
/// (`C:/Windows/System32/cmd.exe` is `cmd`).
pub fn program(word: &str) -> String {
    let name = shell::basename(word).to_lowercase();
    match name.strip_suffix(".exe") {
        Some(stem) => stem.to_owned(),
        None => name,
    }
}

/// The line a command runs in turn: cmd's after `/c` or `/k`, PowerShell's after `-Command` (or
/// `-c`), and Windows PowerShell's first operand, which it runs as a command. `None` for a
/// script file (`-File`, pwsh's first operand), a line read from stdin (`-Command -`), and an
/// `-EncodedCommand` that [`decoded`] could not read: what it runs is not on the line, as with
/// `eval "$X"`.
fn nested_line(words: &[String]) -> Option<String> {
    let (first, rest) = words.split_first()?;
    match program(first).as_str() {
        "cmd" => cmd_line(rest),
        name @ ("powershell" | "pwsh") => powershell_line(rest, name == "powershell"),
        _ => None,
    }
}

/// cmd's line: the words after `/c` or `/k`, past its other switches (`/s`, `/q`, `/d`).
fn cmd_line(args: &[String]) -> Option<String> {
    for (i, word) in args.iter().enumerate() {
        let switch = word.strip_prefix('/')?.to_lowercase();
        if switch == "c" || switch == "k" {
            return line_of(&args[i + 1..]);
        }
    }
    None
}

/// PowerShell's parameters that take a value (and their short names), which is no command.
const POWERSHELL_VALUED: &[&str] = &[
    "executionpolicy",
    "ep",
    "ex",
    "windowstyle",
    "w",
    "inputformat",
    "if",
    "outputformat",
    "of",
    "o",
    "version",
    "v",
    "psconsolefile",
    "configurationname",
    "config",
    "workingdirectory",
    "wd",
    "settingsfile",
    "custompipename",
    "encodedarguments",
    "ea",
];

/// PowerShell's line: the words after `-Command` (`-c`, `-com`…), past its other parameters;
/// Windows PowerShell (`legacy`) runs its first operand as a command too, pwsh as a script.
fn powershell_line(args: &[String], legacy: bool) -> Option<String> {
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let Some(name) = word.strip_prefix('-').map(str::to_lowercase) else {
            return if legacy { line_of(&args[i..]) } else { None };
        };
        if name == "c" || (name.len() >= 3 && "command".starts_with(&name)) {
            let rest = &args[i + 1..];
            return if rest.first().is_some_and(|w| w == "-") {
                None
            } else {
                line_of(rest)
            };
        }
        if name == "f" || (name.len() >= 2 && "file".starts_with(&name)) || is_encoded(&name) {
            return None;
        }
        i += if POWERSHELL_VALUED.contains(&name.as_str()) {
            2
        } else {
            1
        };
    }
    None
}

/// The line some words make: one word is the line itself (`cmd /c "type a && type b"`), more
/// are joined as they were split.
fn line_of(words: &[String]) -> Option<String> {
    match words {
        [] => None,
        [line] => Some(line.clone()),
        words => Some(shell::join(words)),
    }
}

/// Whether a PowerShell parameter's name (lower case, no `-`) is `-EncodedCommand`'s: `e`,
/// `ec`, or a start of its name from `en`.
fn is_encoded(name: &str) -> bool {
    name == "e" || name == "ec" || (name.len() >= 2 && "encodedcommand".starts_with(name))
}

/// A line as written on Windows, each PowerShell `-EncodedCommand` in it (base64 of the command
/// in UTF-16LE) written out as the `-Command` it runs, single-quoted, so that it is read as one.
/// A text that does not decode to a command is left as it is.
pub fn decoded(line: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0;
    let mut in_powershell = false;
    let mut tokens = tokens(line).peekable();
    while let Some((start, token)) = tokens.next() {
        if token.contains([';', '|', '&']) {
            in_powershell = false;
        }
        let bare = token.trim_matches(['"', '\'']);
        let name = program(&bare.replace('\\', "/"));
        if name == "powershell" || name == "pwsh" {
            in_powershell = true;
            continue;
        }
        let encoded = in_powershell
            && bare
                .strip_prefix('-')
                .is_some_and(|n| is_encoded(&n.to_lowercase()));
        if !encoded {
            continue;
        }
        let Some(&(blob_start, blob)) = tokens.peek() else {
            break;
        };
        let Some(command) = base64_utf16(blob.trim_matches(['"', '\''])) else {
            continue;
        };
        tokens.next();
        out.push_str(&line[done..start]);
        out.push_str("-Command '");
        out.push_str(&command.replace('\'', r#"'"'"'"#));
        out.push('\'');
        done = blob_start + blob.len();
    }
    if done == 0 {
        return Cow::Borrowed(line);
    }
    out.push_str(&line[done..]);
    Cow::Owned(out)
}

/// The words of a line split at white space, each with where it starts.
fn tokens(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split_whitespace()
        .map(move |t| (t.as_ptr() as usize - line.as_ptr() as usize, t))
}

/// The text a base64 blob of UTF-16LE decodes to, when it is text (PowerShell's
/// `-EncodedCommand`); `None` for anything else.
fn base64_utf16(blob: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(blob.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for b in blob.trim_end_matches('=').bytes() {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = ((acc << 6) | u32::from(value)) & 0xff_ffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
        }
    }
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    let text: String = char::decode_utf16(units).collect::<Result<_, _>>().ok()?;
    let printable = text.chars().all(|c| !c.is_control() || c.is_whitespace());
    printable.then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(line: &str) -> Vec<String> {
        split(line).iter().map(|c| shell::join(&c.words)).collect()
    }

    #[test]
    fn cmd_and_powershell_lines_are_read_into() {
        assert_eq!(
            lines("cmd.exe /s /C \"cd secrets && type k\""),
            [
                "cmd.exe /s /C 'cd secrets && type k'",
                "cd secrets",
                "type k"
            ]
        );
        assert_eq!(split("cmd /c \"cd secrets && type k\"")[2].cwd, ["secrets"]);
        assert_eq!(
            lines("powershell -NoProfile -ep Bypass -Command Get-Content secrets/k"),
            [
                "powershell -NoProfile -ep Bypass -Command Get-Content secrets/k",
                "Get-Content secrets/k"
            ]
        );
        assert_eq!(lines("powershell \"gc k\"")[1], "gc k");
        // pwsh runs its first operand as a script; `-Command -` reads stdin.
        assert_eq!(lines("pwsh k.ps1").len(), 1);
        assert_eq!(lines("pwsh -c - x").len(), 1);
        assert_eq!(lines("cmd /k type k")[1], "type k");
    }

    #[test]
    fn an_encoded_command_is_written_out() {
        // "type 'k'" in UTF-16LE.
        let blob = "dAB5AHAAZQAgACcAawAnAA==";
        assert_eq!(
            decoded(&format!(r"C:\x\pwsh.exe -NoP -enc {blob} ; echo")),
            r#"C:\x\pwsh.exe -NoP -Command 'type '"'"'k'"'"'' ; echo"#
        );
        assert_eq!(
            lines(&decoded(&format!("powershell -e {blob}")))[1],
            "type k"
        );
        // Not base64 of UTF-16LE text, not after PowerShell: left as written.
        assert_eq!(decoded("powershell -e abc!"), "powershell -e abc!");
        assert_eq!(decoded("powershell -e aGVsbG8="), "powershell -e aGVsbG8=");
        assert_eq!(
            decoded(&format!("grep -e {blob}")),
            format!("grep -e {blob}")
        );
    }
}
