//! How PowerShell names a command and a parameter: in any case, by a built-in alias (`ri`,
//! `del` and `rm` are `Remove-Item`), and a parameter by any unambiguous start of its name
//! (`-Rec` is `-Recurse`), with its value glued on or not (`-Recurse:$true`). The policy's
//! command patterns are matched on a PowerShell line through these ([`super::check::denies`]);
//! the file rules read a cmdlet's files by the name an alias stands for ([`super::windows`]).

/// PowerShell's built-in aliases, in lower case: `(alias, cmdlet, unix)`, from `Get-Alias` of
/// Windows PowerShell 5.1 and PowerShell 7. `unix`: an alias that PowerShell on Linux and macOS
/// does not have, where the name runs the program (`rm` is `/bin/rm` there), or that only
/// Windows PowerShell has (`curl`, `wget`); the file rules read those as the programs.
pub const ALIASES: &[(&str, &str, bool)] = &[
    ("%", "foreach-object", false),
    ("?", "where-object", false),
    ("ac", "add-content", false),
    ("cat", "get-content", true),
    ("cd", "set-location", false),
    ("chdir", "set-location", false),
    ("clc", "clear-content", false),
    ("clear", "clear-host", true),
    ("cli", "clear-item", false),
    ("clp", "clear-itemproperty", false),
    ("cls", "clear-host", false),
    ("clv", "clear-variable", false),
    ("compare", "compare-object", true),
    ("copy", "copy-item", false),
    ("cp", "copy-item", true),
    ("cpi", "copy-item", false),
    ("cpp", "copy-itemproperty", true),
    ("curl", "invoke-webrequest", true),
    ("cvpa", "convert-path", false),
    ("del", "remove-item", false),
    ("diff", "compare-object", true),
    ("dir", "get-childitem", false),
    ("echo", "write-output", false),
    ("epal", "export-alias", false),
    ("epcsv", "export-csv", false),
    ("erase", "remove-item", false),
    ("etsn", "enter-pssession", false),
    ("fhx", "format-hex", false),
    ("foreach", "foreach-object", false),
    ("gal", "get-alias", false),
    ("gc", "get-content", false),
    ("gcb", "get-clipboard", false),
    ("gci", "get-childitem", false),
    ("gcm", "get-command", false),
    ("gi", "get-item", false),
    ("gl", "get-location", false),
    ("gp", "get-itemproperty", false),
    ("gps", "get-process", false),
    ("gpv", "get-itempropertyvalue", false),
    ("gsv", "get-service", false),
    ("gwmi", "get-wmiobject", false),
    ("icm", "invoke-command", false),
    ("iex", "invoke-expression", false),
    ("ihy", "invoke-history", false),
    ("ii", "invoke-item", false),
    ("ipal", "import-alias", false),
    ("ipcsv", "import-csv", false),
    ("ipmo", "import-module", false),
    ("irm", "invoke-restmethod", false),
    ("iwmi", "invoke-wmimethod", false),
    ("iwr", "invoke-webrequest", false),
    ("kill", "stop-process", true),
    ("ls", "get-childitem", true),
    ("man", "help", true),
    ("mi", "move-item", false),
    ("mount", "new-psdrive", true),
    ("move", "move-item", false),
    ("mp", "move-itemproperty", false),
    ("mv", "move-item", true),
    ("nal", "new-alias", false),
    ("ndr", "new-psdrive", false),
    ("ni", "new-item", false),
    ("nsn", "new-pssession", false),
    ("nv", "new-variable", false),
    ("popd", "pop-location", false),
    ("ps", "get-process", true),
    ("pushd", "push-location", false),
    ("pwd", "get-location", false),
    ("r", "invoke-history", false),
    ("rd", "remove-item", false),
    ("ren", "rename-item", false),
    ("ri", "remove-item", false),
    ("rm", "remove-item", true),
    ("rmdir", "remove-item", true),
    ("rni", "rename-item", false),
    ("rnp", "rename-itemproperty", false),
    ("rp", "remove-itemproperty", false),
    ("rv", "remove-variable", false),
    ("rvpa", "resolve-path", false),
    ("rwmi", "remove-wmiobject", false),
    ("sajb", "start-job", false),
    ("sal", "set-alias", false),
    ("saps", "start-process", false),
    ("sasv", "start-service", false),
    ("sc", "set-content", false),
    ("scb", "set-clipboard", false),
    ("select", "select-object", false),
    ("set", "set-variable", false),
    ("si", "set-item", false),
    ("sl", "set-location", false),
    ("sleep", "start-sleep", true),
    ("sls", "select-string", false),
    ("sort", "sort-object", true),
    ("sp", "set-itemproperty", false),
    ("spps", "stop-process", false),
    ("spsv", "stop-service", false),
    ("start", "start-process", true),
    ("sv", "set-variable", false),
    ("swmi", "set-wmiinstance", false),
    ("tee", "tee-object", true),
    ("type", "get-content", false),
    ("wget", "invoke-webrequest", true),
    ("where", "where-object", false),
    ("write", "write-output", true),
];

/// The command a word of a PowerShell line names, in lower case: a cmdlet however it is spelt
/// or aliased (`RI`, `del`, `Microsoft.PowerShell.Management\Remove-Item` are `remove-item`), a
/// program without its folder and `.exe` (`C:\x\curl.exe` is `curl`, an alias: so
/// `invoke-webrequest`). A deny of either name of a pair is met by the other: on the safe side
/// where PowerShell on Linux runs the program of an alias's name (`rm`, `curl`), which does
/// what the cmdlet does.
pub fn command(word: &str) -> String {
    let name = super::windows::program(word);
    match ALIASES.iter().find(|(alias, _, _)| *alias == name) {
        Some((_, cmdlet, _)) => (*cmdlet).to_owned(),
        None => name,
    }
}

/// Whether a command [`command`] names is a cmdlet, whose words PowerShell reads in any case:
/// a verb and a noun (`remove-item`, also what an alias stands for), not a program (`git`,
/// whose words are its own and tell case apart). A program named so (`docker-compose`) is
/// taken for a cmdlet, on the safe side of a deny.
pub fn is_cmdlet(name: &str) -> bool {
    name.split_once('-').is_some_and(|(verb, noun)| {
        !verb.is_empty()
            && !noun.is_empty()
            && verb.chars().all(char::is_alphabetic)
            && !noun.contains('-')
    })
}

/// The cmdlet an alias stands for where the file rules read it ([`ALIASES`]' `unix` left out:
/// `rm -rf x` on Linux is the program's), else `name` as it is.
pub fn cmdlet_for_files(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _, unix)| *alias == name && !unix)
        .map_or(name, |(_, cmdlet, _)| cmdlet)
}

/// A parameter's name as PowerShell reads the word, in lower case: `-Recurse`, `-recurse` and
/// `-Recurse:$true` are `recurse`; `None` for a word that is no parameter (`x`, `-1`, `--`).
pub fn parameter(word: &str) -> Option<String> {
    let name = word.strip_prefix('-')?;
    let name = name.split(':').next().unwrap_or(name);
    name.starts_with(|c: char| c.is_alphabetic())
        .then(|| name.to_lowercase())
}

/// Whether a parameter given (`given`, as [`parameter`] reads it) may be the one a pattern
/// names (`wanted`): PowerShell takes any start of a parameter's name that is not the start of
/// another of the cmdlet's (`-Rec`, `-r` for `Remove-Item`'s `-Recurse`), so either may be
/// the other's start. An ambiguous start is refused by PowerShell, so taking one for the
/// pattern's is at worst a false deny, on the safe side. Its value is not weighed:
/// `-Recurse:$false` is denied too, as a value the line does not spell (`-Recurse:$x`) may be
/// true.
pub fn parameter_is(given: &str, wanted: &str) -> bool {
    wanted.starts_with(given) || given.starts_with(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cmdlet_is_named_in_any_case_and_by_its_aliases() {
        for word in [
            "Remove-Item",
            "REMOVE-ITEM",
            "ri",
            "del",
            "Erase",
            "rd",
            "rmdir",
            "rm",
        ] {
            assert_eq!(command(word), "remove-item", "{word}");
        }
        assert_eq!(
            command("Microsoft.PowerShell.Management/Remove-Item"),
            "remove-item"
        );
        assert_eq!(command("curl.exe"), "invoke-webrequest");
        assert_eq!(command("git"), "git");
        assert!(is_cmdlet(&command("ri")));
        assert!(!is_cmdlet(&command("GIT.exe")));
    }

    #[test]
    fn a_parameter_is_read_in_any_case_with_its_value_and_by_its_start() {
        assert_eq!(parameter("-Recurse:$true").as_deref(), Some("recurse"));
        assert_eq!(parameter("-1"), None);
        assert_eq!(parameter("--"), None);
        assert!(parameter_is("rec", "recurse"));
        assert!(parameter_is("recurse", "rec"));
        assert!(!parameter_is("force", "recurse"));
    }

    #[test]
    fn the_file_rules_read_an_alias_unix_has_as_the_program() {
        assert_eq!(cmdlet_for_files("gc"), "get-content");
        assert_eq!(cmdlet_for_files("rm"), "rm");
    }
}
