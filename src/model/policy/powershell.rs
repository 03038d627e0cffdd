//! PowerShell's own syntax, where it hides a command from the shell reader ([`super::shell`]
//! reads a line as a Unix shell would): a script block's braces (`& { gc k }`), a .NET
//! method's parentheses (`[IO.File]::ReadAllText('k')`) and an assignment before a command
//! (`$x = gc k`), and its backtick escapes (`` g`it `` is `git`). [`super::windows`] reads a
//! line run on Windows through these first.

/// The line's characters with PowerShell's typographic marks read as the plain ones it takes
/// them for (its parser's `SpecialChars`): `‘ ’ ‚ ‛` are `'`, `“ ” „` are `"`, and `– — ―` at
/// the start of a word are the `-` of a parameter (`Remove-Item –Recurse`). A dash inside
/// quoted text is changed too, which can only add a parameter a deny meets, never hide one.
fn plain_marks(line: &str) -> Vec<char> {
    let mut chars: Vec<char> = Vec::with_capacity(line.len());
    for c in line.chars() {
        let after_space = chars.last().is_none_or(|p| p.is_whitespace());
        chars.push(match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' => '"',
            '\u{2013}' | '\u{2014}' | '\u{2015}' if after_space => '-',
            c => c,
        });
    }
    chars
}

/// A line PowerShell runs, in a shape the shell reader splits as PowerShell does: a script
/// block's braces (`& { gc k }`, `Invoke-Command {gc k}`, `% { … }`, `1|%{gc k}`,
/// `if($x){gc k}`, `try{gc k}`) end the commands around them as `;` does, so that the
/// commands inside are read; a .NET method's parentheses are taken away and its arguments made
/// the words of one command (`[IO.File]::ReadAllText('k')` is `[IO.File]::ReadAllText 'k'`),
/// which [`dotnet_words`] reads. Quoted text and braces that are part of a word are left as they
/// are, whole: a variable's (`${env:x}`), a hashtable's or git's (`@{a=1}`, `stash@{0}`,
/// `@{u}`), an option's value (`--format={x}`) and a Bash brace expansion or `find`'s `{}`
/// (`{a,secrets/k}`, `a/{b,c}`), which Git Bash runs on Windows and the shell reader expands.
/// A backtick escapes the character after it, outside quotes and in double quotes, as
/// [`escaped`] writes it; in single quotes it is text.
pub fn shaped(line: &str) -> String {
    let chars = plain_marks(line);
    let mut out = String::with_capacity(line.len() + 8);
    // The parentheses open, each said whether it is a method call's.
    let mut parens: Vec<bool> = Vec::new();
    // How many script blocks are open.
    let mut blocks = 0usize;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '\'' | '"' => {
                if assigned_at(&chars, i - 1) {
                    // A string assigned (`$env:X = "a b"`) is a value, which runs nothing:
                    // marked so for [`past_assignment`], which sees the words unquoted.
                    out.push('@');
                }
                out.push(c);
                while let Some(&q) = chars.get(i) {
                    i += 1;
                    if c == '"' && q == '`' {
                        i = escaped(&chars, i, true, &mut out);
                        continue;
                    }
                    if c == '"'
                        && let Some(end) = folded_subexpression(&chars, i - 1, &mut out)
                    {
                        i = end;
                        continue;
                    }
                    if q == c && chars.get(i) == Some(&c) {
                        // A doubled quote is one quote in the text (`'it''s'` is `it's`), not
                        // two strings joined.
                        i += 1;
                        out.push_str(if c == '\'' { "'\\''" } else { "\\\"" });
                        continue;
                    }
                    out.push(q);
                    if q == c {
                        break;
                    }
                }
            }
            '`' => i = escaped(&chars, i, false, &mut out),
            '&' if let Some((start, end)) = called_value(&chars, i - 1) => {
                // `& $x log`: the call operator runs a program whose name is a value the line
                // does not spell, as Bash's `$(…) log` does; read as it is, `$x log` would be
                // an expression after a background `&`, which runs nothing.
                out.push_str("& $(");
                // `& "$env:ProgramFiles\Git\cmd\git.exe" push -f` runs the program its file
                // name spells, in a folder the line does not: the folder is the value
                // (`$("$env:ProgramFiles\Git\cmd")"\git.exe"`), as in Bash's `"$X/git"`.
                if let Some(at) = spelt_file_at(&chars[start..end]) {
                    out.extend(&chars[start..start + at]);
                    out.push_str("\")\"");
                    out.extend(&chars[start + at..end]);
                } else {
                    out.extend(&chars[start..end]);
                    out.push(')');
                }
                i = end;
            }
            '@' if let Some((quote, body, end)) = here_string(&chars, i - 1) => {
                if assigned_at(&chars, i - 1) {
                    out.push('@');
                }
                here_string_word(&chars, quote, body, &mut out);
                i = end;
            }
            '{' if opens_block(&chars, i - 1) => {
                blocks += 1;
                out.push_str(" ; ");
            }
            '{' => {
                // Text: copied to its `}` whole, so that the `}` closes no block around it.
                let end = word_braces_end(&chars, i - 1).unwrap_or(i);
                out.extend(&chars[i - 1..end]);
                i = end;
            }
            '}' if blocks > 0 => {
                blocks -= 1;
                out.push_str(" ; ");
            }
            '(' => {
                let method = is_method_name_before(&chars[..i - 1]);
                // `[IO.File]::ReadAllText((Resolve-Path k))`: a method's argument.
                let in_method = parens.last() == Some(&true)
                    && trim_end(&chars[..i - 1])
                        .last()
                        .is_some_and(|c| matches!(c, '(' | ','));
                let argument = in_method || is_argument_at(&chars, i - 1);
                let array =
                    chars.get(i.wrapping_sub(2)) == Some(&'@') && is_argument_at(&chars, i - 2);
                // `git push ('-f')`, `& git @('push', '-f')`: quoted text the line spells,
                // each value a word of the command.
                // `& ('git') push -f`: the call operator runs the program the quoted text names.
                let called = last_word(trim_end(&chars[..i - 1])) == ['&'];
                // `git push $('-f')`: a subexpression whose value the line spells.
                let subexpression =
                    chars.get(i.wrapping_sub(2)) == Some(&'$') && is_argument_at(&chars, i - 2);
                if !method
                    && (argument || array || called || subexpression)
                    && let Some((values, end)) = literal_values(&chars, i)
                {
                    if !argument {
                        out.pop();
                    }
                    out.push_str(&quoted_words(&values));
                    i = end;
                    continue;
                }
                if called
                    && !method
                    && let Some((name, end)) = partly_literal(&chars, i)
                {
                    // `& ('g'+$x) push -f`: the literal parts of the name kept, as Bash's
                    // `g$(echo it) push -f` keeps them.
                    out.push_str(&name);
                    i = end;
                    continue;
                }
                parens.push(method);
                if method {
                    out.push(' ');
                } else if in_method || is_argument_at(&chars, i - 1) {
                    // `gc (Resolve-Path k)`: the value of a command, as bash's `$(…)` is.
                    out.push_str("$(");
                } else if chars.get(i.wrapping_sub(2)) == Some(&'@')
                    && is_argument_at(&chars, i - 2)
                {
                    // `gc @(Resolve-Path k)`: an array of the command's values.
                    out.pop();
                    out.push_str("$(");
                } else if called {
                    // `& ('g' + $x) push -f`: the call operator runs a program whose name is
                    // a value the line does not spell, as Bash's `$(…) push -f` does.
                    out.push_str("$(");
                } else if i >= 3 && chars[i - 3..i - 1] == ['$', '('] {
                    // `$((Resolve-Path k))` holds a command in parentheses, not Bash's
                    // arithmetic.
                    out.push_str(" (");
                } else {
                    out.push('(');
                }
            }
            ')' => match parens.pop() {
                Some(true) => out.push_str(" ; "),
                _ => out.push(')'),
            },
            ',' if parens.last() == Some(&true) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Where the file name starts (at its `\` or `/`) in double-quoted text `quoted` whose folder
/// holds a value the line does not spell and whose file name is spelt (`"$x\git.exe"`).
fn spelt_file_at(quoted: &[char]) -> Option<usize> {
    let inner = quoted.strip_prefix(&['"'])?.strip_suffix(&['"'])?;
    let at = inner.iter().rposition(|c| matches!(c, '\\' | '/'))?;
    let file = &inner[at + 1..];
    (!file.is_empty() && !file.iter().any(|c| matches!(c, '$' | '`'))).then_some(at + 1)
}

/// The value the call operator `&` at `at` runs, when the line does not spell it: a variable
/// (`& $x`, `&$x`, `& $env:X`, `& ${x}`, `& $x.y`, `& $h['k']`) or double-quoted text that holds
/// one (`& "$x"`); its start and end. `None` for anything else, a `&&` or a name the line
/// spells (`& git`, `& 'git'`), and for `& $(…)` and `& (…)`, read where they are.
fn called_value(chars: &[char], at: usize) -> Option<(usize, usize)> {
    if (at > 0 && chars[at - 1] == '&') || chars.get(at + 1) == Some(&'&') {
        return None;
    }
    let mut start = at + 1;
    while chars.get(start).is_some_and(|c| matches!(c, ' ' | '\t')) {
        start += 1;
    }
    let end = match *chars.get(start)? {
        '"' => {
            let mut i = start + 1;
            let mut variable = false;
            loop {
                match *chars.get(i)? {
                    '`' => i += 1,
                    '$' => variable = true,
                    '"' => break,
                    _ => {}
                }
                i += 1;
            }
            if !variable {
                return None;
            }
            i + 1
        }
        '$' => {
            let mut i = start + 1;
            match *chars.get(i)? {
                '(' => return None,
                '{' => i += 1 + chars.get(i..)?.iter().position(|c| *c == '}')?,
                _ => {
                    let name = chars[i..]
                        .iter()
                        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '?'))
                        .count();
                    if name == 0 {
                        return None;
                    }
                    i += name;
                }
            }
            // Its members and elements (`$x.y`, `$h['k']`).
            loop {
                match chars.get(i) {
                    Some('.') => {
                        i += 1;
                        i += chars[i..]
                            .iter()
                            .take_while(|c| c.is_alphanumeric() || **c == '_')
                            .count();
                    }
                    Some('[') => i += 1 + chars[i..].iter().position(|c| *c == ']')?,
                    _ => break,
                }
            }
            i
        }
        _ => return None,
    };
    Some((start, end))
}

/// PowerShell's escape by a backtick, whose next character is at `at`, written for the shell
/// reader; returns where the line goes on. A backtick before an ordinary character is taken
/// away (`` g`it `` is `git`, `` `-f `` is `-f`), one before a character the reader would read
/// as syntax escapes it (`` `; ``, `` `$ ``, `` `" ``), and one before a new line joins the lines.
/// `` `0 ``, `` `a ``, `` `b ``, `` `f ``, `` `n ``, `` `r ``, `` `t `` and `` `v `` are
/// control characters, which [`unknown_where_escaped`] reads in a command's name or a
/// parameter's; `` `u{67} `` is the character so numbered, `g` (PowerShell 7's). `` `e `` is
/// `e`, as Windows PowerShell 5.1 reads it (`` secr`ets `` names `secrets` there): PowerShell
/// 7's escape character names no file or program a line means.
fn escaped(chars: &[char], at: usize, in_double_quotes: bool, out: &mut String) -> usize {
    let Some(&next) = chars.get(at) else {
        return at;
    };
    let (c, end) = match next {
        '\n' | '\r' if !in_double_quotes => {
            let end = at + 1 + usize::from(next == '\r' && chars.get(at + 1) == Some(&'\n'));
            out.push(' ');
            return end;
        }
        '0' => ('\0', at + 1),
        'a' => ('\x07', at + 1),
        'b' => ('\x08', at + 1),
        'f' => ('\x0c', at + 1),
        'n' => ('\n', at + 1),
        'r' => ('\r', at + 1),
        't' => ('\t', at + 1),
        'v' => ('\x0b', at + 1),
        'u' => unicode_escape(chars, at + 1).unwrap_or(('u', at + 1)),
        c => (c, at + 1),
    };
    if in_double_quotes {
        if matches!(c, '"' | '$' | '`' | '\\') {
            out.push('\\');
        }
        out.push(c);
    } else if c == '\n' {
        // Quoted: the reader's `\` before a new line joins lines.
        out.push_str("'\n'");
    } else if c.is_alphanumeric() {
        out.push(c);
    } else {
        out.push('\\');
        out.push(c);
    }
    end
}

/// The character `{hex}` at `at` numbers (`` `u{1F600} ``, one to six digits) and where its `}`
/// ends; `None` when none is there.
fn unicode_escape(chars: &[char], at: usize) -> Option<(char, usize)> {
    if chars.get(at) != Some(&'{') {
        return None;
    }
    let digits: String = chars
        .get(at + 1..)?
        .iter()
        .take(7)
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    let close = at + 1 + digits.len();
    if digits.is_empty() || digits.len() > 6 || chars.get(close) != Some(&'}') {
        return None;
    }
    let c = char::from_u32(u32::from_str_radix(&digits, 16).ok()?)?;
    Some((c, close + 1))
}

/// A command's name and its parameters' words (`-f`) holding a control character, which a
/// special escape makes (`` g`0it ``, `` -`tf ``): each run of them is taken for a value the
/// line does not spell, `$(…)`, as a substitution glued in a word is (`g$(…)it`), which a deny
/// takes for what the rest of the word allows. Another word's control character is text
/// (`Write-Host "a`tb"`).
pub fn unknown_where_escaped(words: &mut [String]) {
    for (i, word) in words.iter_mut().enumerate() {
        if (i == 0 || word.starts_with('-')) && word.contains(char::is_control) {
            let mut unknown = String::with_capacity(word.len() + 8);
            for c in word.chars() {
                if !c.is_control() {
                    unknown.push(c);
                } else if !unknown.ends_with("$(…)") {
                    unknown.push_str("$(…)");
                }
            }
            *word = unknown;
        }
    }
}

/// The values of parentheses that hold quoted text alone, from `at` (past the `(`), each a
/// word's text (`('push', "-f")` is `push` and `-f`), strings joined by `+` folded into the one
/// they make (`('g'+'it')` is `git`), and where the line goes on past the `)`; `None` when they
/// hold anything else (a command, a variable, a number, text [`plain_quoted`] does not read,
/// `-join`, `[char]`, `,` and `+` together), whose value the line does not spell.
fn literal_values(chars: &[char], at: usize) -> Option<(Vec<String>, usize)> {
    let mut values: Vec<String> = Vec::new();
    let mut i = at;
    // Whether a value was read last, and whether a `+` joins the next string to it.
    let mut after_value = false;
    let mut joined = false;
    // PowerShell's `,` binds before `+` (`'a','b'+'c'` is three values, `'a'+'b','c'` one
    // string of an array's): the two together are left unread.
    let (mut commas, mut pluses) = (false, false);
    loop {
        while chars.get(i).is_some_and(|c| matches!(c, ' ' | '\t')) {
            i += 1;
        }
        match *chars.get(i)? {
            ')' if after_value => return Some((values, i + 1)),
            ',' if after_value && !pluses => {
                after_value = false;
                commas = true;
            }
            '+' if after_value && !commas => {
                after_value = false;
                joined = true;
                pluses = true;
            }
            '\'' | '"' if !after_value => {
                let (text, end) = plain_quoted(chars, i)?;
                match values.last_mut() {
                    Some(last) if joined => last.push_str(&text),
                    _ => values.push(text),
                }
                after_value = true;
                joined = false;
                i = end - 1;
            }
            _ => return None,
        }
        i += 1;
    }
}

/// A name made by strings and variables joined with `+` in parentheses, from `at` (past the
/// `(`: `('g'+$x)`), written for the shell reader as its literal parts around a value it does
/// not know (`'g'$($x)`), and where the line goes on past the `)`. `None` unless every part is
/// quoted text ([`plain_quoted`]) or a plain variable (`$x`, `$env:X`, `${x}`), and one at
/// least is each.
fn partly_literal(chars: &[char], at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let (mut literal, mut variable) = (false, false);
    let mut i = at;
    loop {
        while chars.get(i).is_some_and(|c| matches!(c, ' ' | '\t')) {
            i += 1;
        }
        match *chars.get(i)? {
            '\'' | '"' => {
                let (text, end) = plain_quoted(chars, i)?;
                name.push_str(&single_quoted(&text));
                literal = true;
                i = end;
            }
            '$' => {
                let end = if chars.get(i + 1) == Some(&'{') {
                    i + 2 + chars.get(i + 2..)?.iter().position(|c| *c == '}')? + 1
                } else {
                    i + 1
                        + chars[i + 1..]
                            .iter()
                            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | ':'))
                            .count()
                };
                if end == i + 1 {
                    return None;
                }
                name.push_str("$(");
                name.extend(&chars[i..end]);
                name.push(')');
                variable = true;
                i = end;
            }
            _ => return None,
        }
        while chars.get(i).is_some_and(|c| matches!(c, ' ' | '\t')) {
            i += 1;
        }
        match *chars.get(i)? {
            ')' if literal && variable => return Some((name, i + 1)),
            '+' => i += 1,
            _ => return None,
        }
    }
}

/// A subexpression in double quotes whose value the line spells (`"$('-f')"`, `$` at `at`),
/// written as the text PowerShell puts there (an array's values joined by spaces), escaped for
/// the shell reader's double quotes; returns where the line goes on past its `)`. `None` when
/// none is there, or its value is not spelt (`"$(gc k)"`), which the shell reader takes for a
/// value it does not know.
fn folded_subexpression(chars: &[char], at: usize, out: &mut String) -> Option<usize> {
    if chars.get(at) != Some(&'$') || chars.get(at + 1) != Some(&'(') {
        return None;
    }
    let (values, end) = literal_values(chars, at + 2)?;
    for c in values.join(" ").chars() {
        if matches!(c, '"' | '$' | '`' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    Some(end)
}

/// A here-string at `at` (`@'`, `@"`): its quote, where its text starts and ends, and where
/// the line goes on past its closing `'@` or `"@`. PowerShell's here-string opens with the
/// quote at the end of a line and closes with the quote and `@` at the start of one; the new
/// lines after the opening and before the closing are not its text. `None` when none is there.
fn here_string(chars: &[char], at: usize) -> Option<(char, (usize, usize), usize)> {
    let quote = *chars.get(at + 1).filter(|c| matches!(c, '\'' | '"'))?;
    let mut start = at + 2;
    while chars.get(start).is_some_and(|c| matches!(c, ' ' | '\t')) {
        start += 1;
    }
    start += usize::from(chars.get(start) == Some(&'\r'));
    if chars.get(start) != Some(&'\n') {
        return None;
    }
    start += 1;
    let close = (start..chars.len().saturating_sub(1)).find(|&p| {
        (p == start || chars[p - 1] == '\n') && chars[p] == quote && chars[p + 1] == '@'
    })?;
    let mut end = close;
    if end > start {
        end -= 1;
        end -= usize::from(end > start && chars[end - 1] == '\r');
    }
    Some((quote, (start, end), close + 2))
}

/// A here-string's text as one word of the shell reader: a single-quoted one's as it is, a
/// double-quoted one's with its backtick escapes and the subexpressions the line spells read,
/// its variables left for the shell reader, which takes them for values it does not know.
fn here_string_word(chars: &[char], quote: char, (start, end): (usize, usize), out: &mut String) {
    if quote == '\'' {
        out.push('\'');
        for &c in &chars[start..end] {
            if c == '\'' {
                out.push_str("'\\''");
            } else {
                out.push(c);
            }
        }
        out.push('\'');
        return;
    }
    out.push('"');
    let mut i = start;
    while i < end {
        let c = chars[i];
        i += 1;
        if c == '`' {
            i = escaped(&chars[..end], i, true, out);
        } else if let Some(past) = folded_subexpression(&chars[..end], i - 1, out) {
            i = past;
        } else {
            if matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
}

/// Quoted text whose value the line spells, from its quote at `at` (`'` or `"`): the text,
/// with a doubled quote read as the one it stands for (`'it''s'` is `it's`, `"a""b"` is
/// `a"b`), and where the line goes on past the closing quote. `None` when it is not closed, or
/// holds `$` or a backtick in double quotes, which PowerShell reads there; in single quotes
/// they are text.
fn plain_quoted(chars: &[char], at: usize) -> Option<(String, usize)> {
    let quote = *chars.get(at)?;
    let mut text = String::new();
    let mut i = at + 1;
    loop {
        let c = *chars.get(i)?;
        i += 1;
        if c == quote {
            if chars.get(i) != Some(&quote) {
                return Some((text, i));
            }
            i += 1;
        } else if quote == '"' && matches!(c, '$' | '`') {
            return None;
        }
        text.push(c);
    }
}

/// Text as one single-quoted word of the shell reader's, a quote in it written `'\''`.
fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Texts as the shell reader's words, each single-quoted.
fn quoted_words(texts: &[String]) -> String {
    let quoted: Vec<String> = texts.iter().map(|t| single_quoted(t)).collect();
    quoted.join(" ")
}

/// Whether the `{` at `at` opens a script block: at the start of a word (after a space, `&`,
/// `(`, `;`, `|`, `,`), after `%` or `?` (`ForEach-Object`'s and `Where-Object`'s aliases), a
/// condition's `)`, a keyword (`try{`, `else{`) or an assignment's `=` (`$x={…}`), unless its
/// braces are a word's ([`is_brace_word`]: `{a,b}`, `{}`). After `@` it is a hashtable's, or
/// git's `@{u}`; inside any other word (`--format={x}`, `a/{b,c}`) it is text.
fn opens_block(chars: &[char], at: usize) -> bool {
    let before = &chars[..at];
    let starts = match before.last() {
        None => true,
        Some(c) if " \t\n&(;|,%?)".contains(*c) => true,
        Some('=') => {
            word_start(before).is_some_and(|w| w.first().is_some_and(|c| matches!(c, '$' | '[')))
        }
        Some(_) => word_start(before).is_some_and(|w| {
            let w: String = w.iter().collect::<String>().to_lowercase();
            KEYWORDS.contains(&w.as_str())
        }),
    };
    starts && !is_brace_word(chars, at)
}

/// Whether the quote at `at` starts what an assignment assigns: after `=` (or `+=` …) that
/// follows a variable (`$x = 'a'`, `$env:X="a"`), not an option's (`--format="%H"`).
fn assigned_at(chars: &[char], at: usize) -> bool {
    let before = trim_end(&chars[..at]);
    let Some(rest) = before.strip_suffix(&['=']) else {
        return false;
    };
    let mut rest = rest;
    while let Some((last, init)) = rest.split_last()
        && "+-*/%?".contains(*last)
    {
        rest = init;
    }
    let target = last_word(trim_end(rest));
    let target = match target.iter().rposition(|c| ";|&({".contains(*c)) {
        Some(p) => &target[p + 1..],
        None => target,
    };
    target.first() == Some(&'$')
        || (target.first() == Some(&'[') && target.windows(2).any(|w| w == [']', '$']))
}

/// `chars` without the whitespace that ends it.
fn trim_end(chars: &[char]) -> &[char] {
    let end = chars
        .iter()
        .rposition(|c| !c.is_whitespace())
        .map_or(0, |p| p + 1);
    &chars[..end]
}

/// At most this many characters of a word are looked back over: a line of one long word full
/// of quotes or parentheses must not take the hook a time that grows as its square.
const MAX_WORD_BACK: usize = 256;

/// The last word of `chars`, which ends in no whitespace: what follows its last whitespace;
/// none when it is longer than [`MAX_WORD_BACK`], which no variable's or keyword's is.
fn last_word(chars: &[char]) -> &[char] {
    let window = &chars[chars.len().saturating_sub(MAX_WORD_BACK + 1)..];
    match window.iter().rposition(|c| c.is_whitespace()) {
        Some(p) => &window[p + 1..],
        None if window.len() == chars.len() => chars,
        None => &[],
    }
}

/// Whether the `(` at `at` opens an argument of a command (`gc (Join-Path a k)`, `gc -Path
/// (Join-Path a k)`, `gc -Path:(…)`): after a space that follows a command's word or a
/// parameter's name, or straight after a parameter's `:`; not at a statement's start, after a
/// keyword (`if (`, `foreach (`), an operator (`-eq (`, `= (`) or another parenthesis.
fn is_argument_at(chars: &[char], at: usize) -> bool {
    let before = &chars[..at];
    if before.last() == Some(&':') {
        let word = last_word(before);
        return word.first() == Some(&'-') && word.len() > 2;
    }
    if !before.last().is_some_and(|c| c.is_whitespace()) {
        return false;
    }
    let word = last_word(trim_end(before));
    let Some(last) = word.last() else {
        return false;
    };
    let word: String = word.iter().collect::<String>().to_lowercase();
    !(";|&({}=,!".contains(*last)
        || word.strip_prefix('-').is_some_and(is_operator)
        || CONDITION_KEYWORDS.contains(&word.as_str()))
}

/// Whether `-name` is one of PowerShell's operators (`-eq`, `-cmatch`, `-join`), not a
/// parameter's name (`-Path`, `-Raw`), whose value a `(` after it is.
fn is_operator(name: &str) -> bool {
    const OPERATORS: &[&str] = &[
        "eq",
        "ne",
        "gt",
        "ge",
        "lt",
        "le",
        "like",
        "notlike",
        "match",
        "notmatch",
        "replace",
        "contains",
        "notcontains",
        "in",
        "notin",
        "is",
        "isnot",
        "as",
        "and",
        "or",
        "xor",
        "not",
        "band",
        "bor",
        "bxor",
        "bnot",
        "shl",
        "shr",
        "split",
        "join",
        "f",
    ];
    let plain = name
        .strip_prefix(['c', 'i'])
        .filter(|rest| OPERATORS.contains(rest));
    OPERATORS.contains(&name) || plain.is_some() || name.is_empty()
}

/// PowerShell's keywords whose parentheses hold a condition or a loop, not an argument.
const CONDITION_KEYWORDS: &[&str] = &[
    "if", "elseif", "while", "until", "foreach", "for", "switch", "return", "throw", "param",
];

/// Whether a command of a PowerShell line runs nothing: an expression (`$x -eq 1`, `$true`, a
/// condition's or a loop's `$f in $files`), a keyword that opens a block (`foreach`, `while`)
/// or an empty block (`if ($x) {}`).
pub fn runs_nothing(words: &[String]) -> bool {
    let Some(first) = words.first() else {
        return false;
    };
    let keyword = words.len() == 1
        && matches!(
            first.to_lowercase().as_str(),
            "foreach" | "for" | "while" | "switch" | "elseif" | "else" | "do" | "until" | "{}"
        );
    keyword
        || (first.starts_with('$')
            // A name a value starts (`& ($x+'it')`, read as `$(…)it`) runs a program.
            && !first.starts_with("$(…)")
            && !first
                .to_lowercase()
                .starts_with("$executioncontext.invokecommand."))
}

/// PowerShell's keywords a script block may follow with no space (`try{`, `else{`).
const KEYWORDS: &[&str] = &[
    "try", "catch", "finally", "else", "do", "begin", "process", "end", "clean",
];

/// The word that `before` ends in: what follows its last space or separator.
fn word_start(before: &[char]) -> Option<&[char]> {
    let at = before
        .iter()
        .rposition(|c| c.is_whitespace() || ";|&(){}".contains(*c))
        .map_or(0, |p| p + 1);
    (at < before.len()).then(|| &before[at..])
}

/// Where the braces opened at `at` close (past the `}`) when no space, quote or separator
/// comes before it: braces inside one word. `None` when they are not.
fn word_braces_end(chars: &[char], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in chars.iter().enumerate().skip(at) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            c if c.is_whitespace() || "'\";|&()`".contains(*c) => return None,
            _ => {}
        }
    }
    None
}

/// Whether the braces opened at `at` are a word's that no shell runs as a block: a Bash brace
/// expansion (`{a,secrets/k}`, `{1..3}`) or empty (`find -exec cat {} \;`).
fn is_brace_word(chars: &[char], at: usize) -> bool {
    let Some(end) = word_braces_end(chars, at) else {
        return false;
    };
    let inside: String = chars[at + 1..end - 1].iter().collect();
    inside.is_empty() || inside.contains(',') || inside.contains("..")
}

/// Whether the text before a `(` ends in a member's name (`::ReadAllText`, `.Open`): the
/// parentheses are a method call's, not a subexpression's.
fn is_method_name_before(before: &[char]) -> bool {
    let name = before
        .iter()
        .rev()
        .take_while(|c| c.is_alphanumeric() || **c == '_')
        .count();
    let rest = &before[..before.len() - name];
    name > 0 && (rest.ends_with(&['.']) || rest.ends_with(&[':', ':']))
}

/// A command's words past the PowerShell assignments before it (`$x = gc k`, `$x=gc k`,
/// `[string]$x += gc k`, `$env:X = …`, `$a = $b = gc k`, `$x.y = …`, `$h['k'] = …`,
/// `${x} = …`): the command is what follows the last operator; none when that is a value
/// (`$env:X = $y`, `$n = 1`, `$h = @{a=1}`), which runs nothing. `None` when the words start
/// with no assignment.
pub fn past_assignment(words: &[String]) -> Option<Vec<String>> {
    // Where the words after the last assignment start: a word and the offset in it.
    let (mut word, mut at) = (0usize, 0usize);
    while let Some((next_word, next_at)) = assignment_end(words, word, at) {
        (word, at) = (next_word, next_at);
    }
    if (word, at) == (0, 0) {
        return None;
    }
    let value = words
        .get(word)
        .map(|w| w[at..].to_owned())
        .filter(|v| !v.is_empty());
    let rest = words.get(word + 1..).unwrap_or_default();
    let first = value.as_deref().or(rest.first().map(String::as_str));
    if first
        .is_some_and(|w| w.starts_with(['$', '@']) || w.starts_with(|c: char| c.is_ascii_digit()))
    {
        return Some(Vec::new());
    }
    Some(value.into_iter().chain(rest.iter().cloned()).collect())
}

/// Where what an assignment at `words[word][at..]` assigns starts (a word and the offset in
/// it), or `None` when no assignment starts there.
fn assignment_end(words: &[String], word: usize, at: usize) -> Option<(usize, usize)> {
    const OPERATORS: &[&str] = &["??=", "+=", "-=", "*=", "/=", "%=", "="];
    let mut target = words.get(word)?.get(at..)?;
    while let Some(rest) = target.strip_prefix('[') {
        target = &rest[rest.find(']')? + 1..];
    }
    let name = target.strip_prefix('$')?;
    let mut after_name = match name.strip_prefix('{') {
        Some(braced) => &braced[braced.find('}')? + 1..],
        None => name.trim_start_matches(|c: char| c.is_alphanumeric() || "_:?".contains(c)),
    };
    if after_name.len() == name.len() {
        return None;
    }
    // More targets (`$x,$y = …`).
    while let Some(next) = after_name.strip_prefix(",$") {
        after_name = next.trim_start_matches(|c: char| c.is_alphanumeric() || "_:?".contains(c));
    }
    if after_name == "," {
        return assignment_end(words, word + 1, 0);
    }
    // A member's or an element's (`$x.y`, `$h['k']`).
    loop {
        if let Some(member) = after_name.strip_prefix('.') {
            after_name = member.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
        } else if let Some(index) = after_name.strip_prefix('[') {
            after_name = &index[index.find(']')? + 1..];
        } else {
            break;
        }
    }
    let (assigned, word) = if after_name.is_empty() {
        (words.get(word + 1)?.as_str(), word + 1)
    } else {
        (after_name, word)
    };
    let value = OPERATORS.iter().find_map(|op| assigned.strip_prefix(op))?;
    let offset = words[word].len() - value.len();
    Some(if value.is_empty() {
        (word + 1, 0)
    } else {
        (word, offset)
    })
}

/// The Unix command that does to files what a .NET call does, from its name in lower case
/// (`[system.io.file]::readalltext`, or `new-object`'s type and `new`) and its arguments:
/// `[IO.File]::ReadAllText('k')` reads `k` as `cat k` does, `WriteAllText` writes it,
/// `Copy` copies, `[IO.StreamReader]::new('k')` reads. `None` for any other call.
pub fn dotnet_words(name: &str, args: &[String]) -> Option<Vec<String>> {
    let (class, method) = name.strip_prefix('[')?.split_once("]::")?;
    let class = class.strip_prefix("system.").unwrap_or(class);
    let tool = match (class, method) {
        (
            "io.file",
            "readalltext" | "readalllines" | "readallbytes" | "readlines" | "openread" | "opentext"
            | "open" | "readalltextasync" | "readalllinesasync" | "readallbytesasync"
            | "readlinesasync",
        )
        | ("io.streamreader" | "io.filestream" | "io.fileinfo", "new") => "cat",
        (
            "io.file",
            "writealltext"
            | "writealllines"
            | "writeallbytes"
            | "appendalltext"
            | "appendalllines"
            | "create"
            | "createtext"
            | "appendtext"
            | "openwrite"
            | "writealltextasync"
            | "writealllinesasync"
            | "writeallbytesasync"
            | "appendalltextasync"
            | "appendalllinesasync",
        )
        | ("io.streamwriter", "new") => "touch",
        ("io.file", "copy") => "cp",
        ("io.file" | "io.directory", "move") => "mv",
        ("io.file", "delete") => "rm",
        ("io.directory", "delete") => "rm -r",
        _ => return None,
    };
    let takes = match tool {
        "cp" | "mv" => 2,
        _ => 1,
    };
    let mut words: Vec<String> = tool.split(' ').map(str::to_owned).collect();
    words.push("--".to_owned());
    words.extend(args.iter().take(takes).cloned());
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_methods_take_a_shell_shape() {
        assert_eq!(shaped("& {gc k}"), "&  ; gc k ; ");
        assert_eq!(
            shaped("[IO.File]::ReadAllText('a', 'b').Trim()"),
            "[IO.File]::ReadAllText 'a'  'b' ; .Trim  ; "
        );
        // Quoted text, a variable's braces, a Unix brace expansion and a subexpression stay.
        assert_eq!(shaped("echo '{x}' ${env:a}"), "echo '{x}' ${env:a}");
        assert_eq!(shaped("cat a/{b,c} $(gc k)"), "cat a/{b,c} $(gc k)");
        // Braces of a word are text, whole, inside a block too; a block may follow `%`, `)`
        // or a keyword.
        for text in [
            "{a,b}",
            "{}",
            "@{a=1}",
            "stash@{0}",
            "--format={x}",
            "{1..3}",
        ] {
            assert_eq!(shaped(text), text);
        }
        assert_eq!(shaped("& { cat {a,k} ${x} }"), "&  ;  cat {a,k} ${x}  ; ");
        assert_eq!(shaped("1|%{gc k}"), "1|% ; gc k ; ");
        assert_eq!(shaped("if($x){gc k}"), "if($x) ; gc k ; ");
        assert_eq!(shaped("try{gc k}"), "try ; gc k ; ");
        assert_eq!(shaped("$x={gc k}"), "$x= ; gc k ; ");
    }

    #[test]
    fn a_backtick_escape_is_read_as_powershell_reads_it() {
        let words = |line: &str| -> Vec<Vec<String>> {
            crate::model::policy::shell::split(&shaped(line))
                .into_iter()
                .map(|c| c.words)
                .collect()
        };
        let one = |said: &[&str]| vec![said.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>()];
        assert_eq!(words("g`it pu`sh `-f"), one(&["git", "push", "-f"]));
        assert_eq!(
            words("Remove-`Item -Re`curse x"),
            one(&["Remove-Item", "-Recurse", "x"])
        );
        // Syntax escaped is text; a new line after a backtick joins the lines.
        assert_eq!(
            words("echo a`;b `$x `\"c`'"),
            one(&["echo", "a;b", "$x", "\"c'"])
        );
        assert_eq!(words("echo a` b `{x`}"), one(&["echo", "a b", "{x}"]));
        assert_eq!(words("git `\n push `\r\n -f"), one(&["git", "push", "-f"]));
        // In double quotes too; in single quotes a backtick is text.
        assert_eq!(words(r#"echo "a`"b`$c`u{67}""#), one(&["echo", "a\"b$cg"]));
        assert_eq!(words("echo 'a`tb'"), one(&["echo", "a`tb"]));
        // A special escape is a control character, and `u{…}` the character it numbers.
        assert_eq!(words(r#"echo "a`tb" c`nd"#), one(&["echo", "a\tb", "c\nd"]));
        assert_eq!(words("`u{67}it push"), one(&["git", "push"]));
        // `` `e `` as Windows PowerShell reads it.
        assert_eq!(words("gc secr`ets"), one(&["gc", "secrets"]));
        assert_eq!(
            words("echo `u{zz} `u{110000}"),
            one(&["echo", "u{zz}", "u{110000}"])
        );
        assert_eq!(words("echo a`"), one(&["echo", "a"]));
    }

    #[test]
    fn a_control_character_in_a_name_or_a_parameter_is_unknown() {
        let mut words: Vec<String> = ["g\0it", "push", "-\t\tf", "a\tb", "\n"]
            .iter()
            .map(|w| (*w).to_owned())
            .collect();
        unknown_where_escaped(&mut words);
        assert_eq!(words, ["g$(…)it", "push", "-$(…)f", "a\tb", "\n"]);
    }

    #[test]
    fn values_and_arguments_take_a_shell_shape() {
        // A quoted value assigned is marked a value; an option's is not.
        assert_eq!(shaped(r#"$env:X = "a b""#), r#"$env:X = @"a b""#);
        assert_eq!(shaped("$x='a'"), "$x=@'a'");
        assert_eq!(shaped("git log --format='%H'"), "git log --format='%H'");
        // A command's argument in parentheses is its value, as `$(…)` is; a condition is not.
        assert_eq!(shaped("gc (Join-Path a k)"), "gc $(Join-Path a k)");
        assert_eq!(shaped("if (gc k) {}"), "if (gc k) {}");
        assert_eq!(shaped("$a -eq (gc k)"), "$a -eq (gc k)");
        assert_eq!(shaped("$a -cNotMatch (gc k)"), "$a -cNotMatch (gc k)");
        // A parameter's value in parentheses is one too, and an array of a command's values.
        assert_eq!(shaped("gc -Path (rvpa k)"), "gc -Path $(rvpa k)");
        assert_eq!(shaped("gc -Path:(rvpa k)"), "gc -Path:$(rvpa k)");
        assert_eq!(shaped("gc -Raw @(rvpa k)"), "gc -Raw $(rvpa k)");
        assert_eq!(shaped("$x = @(1)"), "$x = @(1)");
        assert_eq!(shaped("gc $((rvpa k))"), "gc $( (rvpa k))");
        // Quoted text alone in them is the words it spells.
        assert_eq!(shaped("git push ('-f')"), "git push '-f'");
        assert_eq!(shaped(r#"git @( 'push' ,"-f" )"#), "git 'push' '-f'");
        assert_eq!(shaped("gc -Path:('k')"), "gc -Path:'k'");
        // Strings joined by `+` are the one they make; after `&`, a name of another value is
        // a value the line does not spell.
        assert_eq!(shaped("& ( 'g' + \"it\" ) push"), "&'git' push");
        assert_eq!(shaped("gc ('a','b')"), "gc 'a' 'b'");
        assert_eq!(shaped("& ('g'+$x) push"), "& 'g'$($x) push");
        assert_eq!(shaped("& ('g' + ${x} + 'it')"), "& 'g'$(${x})'it'");
        // A part of another kind (a command run for its value) leaves the name wholly unknown.
        assert_eq!(shaped("& ('g'+(gc k))"), "& $('g'+(gc k))");
        // A variable the call operator runs is a value the line does not spell too.
        assert_eq!(shaped("& $x log"), "& $($x) log");
        assert_eq!(shaped("&${x}.y['k'] log"), "& $(${x}.y['k']) log");
        assert_eq!(shaped("& \"$x\" log && & git"), "& $(\"$x\") log && & git");
        // A path in a folder the line does not spell keeps its file name.
        assert_eq!(
            shaped(r#"& "$env:ProgramFiles\Git\cmd\git.exe" push"#),
            r#"& $("$env:ProgramFiles\Git\cmd")"\git.exe" push"#
        );
        assert_eq!(shaped(r#"& "$d\$f" log"#), r#"& $("$d\$f") log"#);
        // A subexpression of quoted text is that text, in double quotes too.
        assert_eq!(shaped("git push $( '-f' )"), "git push '-f'");
        assert_eq!(
            shaped("echo \"a $('b','c') $(gc k)\""),
            "echo \"a b c $(gc k)\""
        );
        assert_eq!(shaped("gc $(rvpa k)"), "gc $(rvpa k)");
        // A here-string is the text between its lines; `'@` closes it only at a line's start.
        assert_eq!(
            shaped("iex @'\r\na 'b'\n c'@\n'@ x"),
            "iex 'a '\\''b'\\''\n c'\\''@' x"
        );
        assert_eq!(
            shaped("iex @\"\n`$a \"$x\" $('b')\n\"@"),
            "iex \"\\$a \\\"$x\\\" b\""
        );
        assert_eq!(shaped("$t = @'\n\n'@"), "$t = @''");
        // A doubled quote is one quote in the text, in every reading of quoted text.
        assert_eq!(shaped("gc 'it''s' ''''"), r"gc 'it'\''s' ''\'''");
        assert_eq!(shaped(r#"gc "a""b" """#), r#"gc "a\"b" """#);
        assert_eq!(shaped("gc ('it''s', '$x')"), r"gc 'it'\''s' '$x'");
        assert_eq!(shaped(r#"gc ("a""b")"#), r#"gc 'a"b'"#);
        assert_eq!(shaped("& ('g'+'it''s') x"), r"&'git'\''s' x");
        assert_eq!(shaped("& ('it''s'+$x)"), r"& 'it'\''s'$($x)");
        assert_eq!(shaped("echo @'x'@"), "echo @'x'@");
        for text in [
            "('a' 'b')",
            "('a',)",
            "()",
            r#"("$x")"#,
            "(1)",
            "('a'+)",
            "('a'+$x)",
            "('a','b'+'c')",
            "('a'+'b','c')",
        ] {
            assert!(shaped(&format!("gc {text}")).starts_with("gc $("), "{text}");
        }
        assert_eq!(
            shaped("[IO.File]::Copy((rvpa a), (rvpa b))"),
            "[IO.File]::Copy $(rvpa a)  $(rvpa b) ; "
        );
    }

    #[test]
    fn expressions_and_keywords_run_nothing() {
        let words = |line: &str| line.split(' ').map(str::to_owned).collect::<Vec<_>>();
        for line in ["$true", "$x -eq 1", "$f in $files", "foreach", "{}"] {
            assert!(runs_nothing(&words(line)), "{line}");
        }
        for line in ["gc k", "foreach-object x", "$(…)"] {
            assert!(!runs_nothing(&words(line)), "{line}");
        }
    }

    #[test]
    fn a_long_word_is_looked_back_over_only_so_far() {
        assert_eq!(last_word(&['a', ' ', '$', 'x']), ['$', 'x']);
        assert_eq!(last_word(&['$', 'x']), ['$', 'x']);
        let long = vec!['a'; MAX_WORD_BACK + 2];
        assert!(last_word(&long).is_empty());
        // Quotes assigned in one word a megabyte long are read in one pass.
        let line = "a=\"x\"".repeat(150_000);
        // Processor time: the wall clock of a loaded machine says nothing of this code.
        let (shape, took) = crate::cpu_time::of(|| shaped(&line));
        assert_eq!(shape.len(), line.len());
        assert!(took < std::time::Duration::from_secs(20));
    }

    #[test]
    fn an_assignment_before_a_command_is_passed() {
        let words = |line: &str| line.split(' ').map(str::to_owned).collect::<Vec<_>>();
        for line in ["$x = gc k", "$x=gc k", "[string]$x += gc k", "$env:X =gc k"] {
            assert_eq!(past_assignment(&words(line)), Some(words("gc k")), "{line}");
        }
        for line in [
            "$a = $b = gc k",
            "$a=$b=gc k",
            "$x.y = gc k",
            "$h['k']=gc k",
            "${x} = gc k",
            "$x,$y = gc k",
            "$x, $y = gc k",
        ] {
            assert_eq!(past_assignment(&words(line)), Some(words("gc k")), "{line}");
        }
        // A value runs nothing.
        for line in ["$x = $y", "$n = 1", "$h = @{a=1}", "$a = $b = 2"] {
            assert_eq!(past_assignment(&words(line)), Some(Vec::new()), "{line}");
        }
        assert_eq!(past_assignment(&words("gc k")), None);
        assert_eq!(past_assignment(&words("$x -eq 1")), None);
    }
}
