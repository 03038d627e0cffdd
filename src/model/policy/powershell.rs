//! PowerShell's own syntax, where it hides a command from the shell reader ([`super::shell`]
//! reads a line as a Unix shell would): a script block's braces (`& { gc k }`), a .NET
//! method's parentheses (`[IO.File]::ReadAllText('k')`) and an assignment before a command
//! (`$x = gc k`). [`super::windows`] reads a line run on Windows through these first.

/// A line PowerShell runs, in a shape the shell reader splits as PowerShell does: a script
/// block's braces (`& { gc k }`, `Invoke-Command {gc k}`, `% { … }`) end the commands around
/// them as `;` does, so that the commands inside are read; a .NET method's parentheses are
/// taken away and its arguments made the words of one command (`[IO.File]::ReadAllText('k')`
/// is `[IO.File]::ReadAllText 'k'`), which [`dotnet_words`] reads. Quoted text, a variable's
/// braces (`${env:x}`) and braces inside a word (a Unix shell's `a/{b,c}`) are left as they are.
pub fn shaped(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
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
                out.push(c);
                while let Some(&q) = chars.get(i) {
                    i += 1;
                    out.push(q);
                    if q == c {
                        break;
                    }
                }
            }
            '{' if i == 1 || " \t\n&(=;|,@".contains(chars[i - 2]) => {
                blocks += 1;
                out.push_str(" ; ");
            }
            '}' if blocks > 0 => {
                blocks -= 1;
                out.push_str(" ; ");
            }
            '(' => {
                let method = is_method_name_before(&chars[..i - 1]);
                parens.push(method);
                out.push(if method { ' ' } else { '(' });
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

/// A command's words past a PowerShell assignment before it (`$x = gc k`, `$x=gc k`,
/// `[string]$x += gc k`, `$env:X = …`): the command is what follows the operator. `None`
/// when the words start with no assignment.
pub fn past_assignment(words: &[String]) -> Option<Vec<String>> {
    const OPERATORS: &[&str] = &["??=", "+=", "-=", "*=", "/=", "%=", "="];
    let first = words.first()?;
    let mut target = first.as_str();
    while let Some(rest) = target.strip_prefix('[') {
        target = &rest[rest.find(']')? + 1..];
    }
    let name = target.strip_prefix('$')?;
    let after_name = name.trim_start_matches(|c: char| c.is_alphanumeric() || "_:?".contains(c));
    let (assigned, rest) = if after_name.is_empty() {
        (words.get(1)?.as_str(), &words[2..])
    } else {
        (after_name, &words[1..])
    };
    let value = OPERATORS.iter().find_map(|op| assigned.strip_prefix(op))?;
    Some(
        (!value.is_empty())
            .then(|| value.to_owned())
            .into_iter()
            .chain(rest.iter().cloned())
            .collect(),
    )
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
    }

    #[test]
    fn an_assignment_before_a_command_is_passed() {
        let words = |line: &str| line.split(' ').map(str::to_owned).collect::<Vec<_>>();
        for line in ["$x = gc k", "$x=gc k", "[string]$x += gc k", "$env:X =gc k"] {
            assert_eq!(past_assignment(&words(line)), Some(words("gc k")), "{line}");
        }
        assert_eq!(past_assignment(&words("gc k")), None);
        assert_eq!(past_assignment(&words("$x -eq 1")), None);
    }
}
