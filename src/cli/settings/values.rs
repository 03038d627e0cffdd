//! Lists of strings in settings files that say what their strings are when a file holds
//! something else ("expected a list of globs").

use std::cell::RefCell;
use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Defines a list of strings that says what its strings are when the file holds something
/// else ("expected a list of globs").
/// With `blank_refused`, a blank string in it (`""`, `"   "`) is an error: a policy's pattern
/// that names nothing would be dropped, and a deny the user wrote would deny nothing unsaid.
/// `refused_by` says why a string is refused, if it is (a command rule no command can meet);
/// inside [`keeping_refused`] such a string is kept, and said, rather than failing the file.
macro_rules! string_list {
    ($(#[$doc:meta])* $name:ident, $what:literal, blank_refused: $refused:literal) => {
        string_list!($(#[$doc])* $name, $what, blank_refused: $refused, refused_by: |_| None);
    };
    (
        $(#[$doc:meta])* $name:ident, $what:literal, blank_refused: $refused:literal,
        refused_by: $refused_by:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name(pub Vec<String>);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ListVisitor;
                impl<'de> Visitor<'de> for ListVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$name, A::Error> {
                        let mut items = Vec::new();
                        while let Some(item) = seq.next_element::<String>()? {
                            if $refused && item.trim().is_empty() {
                                return Err(serde::de::Error::custom(format!(
                                    "expected {}, found the blank entry {item:?}, which names \
                                     nothing (write one, or take it out)",
                                    $what
                                )));
                            }
                            let refused_by: fn(&str) -> Option<String> = $refused_by;
                            let item = match refused_by(&item) {
                                None => item,
                                Some(why) => $crate::cli::settings::values::kept_refused(
                                    &item,
                                    why.clone(),
                                )
                                .ok_or_else(|| serde::de::Error::custom(why))?,
                            };
                            items.push(item);
                        }
                        Ok($name(items))
                    }
                }
                // `any`, not `seq`: a YAML reader asked for a list reports a scalar in its own
                // words; asked for anything, it hands the scalar to the visitor, which says
                // what was expected.
                deserializer.deserialize_any(ListVisitor)
            }
        }
    };
}

string_list!(
    /// Path globs; `**` crosses folders.
    Globs,
    "a list of globs",
    blank_refused: false
);
string_list!(
    /// A policy's path or tool globs; none blank.
    RuleGlobs,
    "a list of globs",
    blank_refused: true
);
string_list!(
    /// Commands, each matching a command line that starts with it; none blank, none that no
    /// command can meet (`curl * | sh`).
    Commands,
    "a list of commands",
    blank_refused: true,
    refused_by: crate::model::policy::wildcard::refusal
);
string_list!(
    /// Host names; none blank.
    Hosts,
    "a list of hosts",
    blank_refused: true
);

/// A string a list's `refused_by` refuses, kept by [`keeping_refused`]: the string and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRefused {
    pub item: String,
    pub why: String,
}

thread_local! {
    /// While [`keeping_refused`] runs on this thread: the refused strings kept so far.
    static KEPT_REFUSED: RefCell<Option<Vec<KeptRefused>>> = const { RefCell::new(None) };
}

/// Runs `parse` with the strings a list refuses kept in it, as a rule that meets no command
/// ([`MEETS_NO_COMMAND`]), rather than failing the file, and gives them back with its result:
/// the file's other rules hold.
/// The hook reads a policy so: a rule the user must mend is no reason to judge no call.
pub fn keeping_refused<R>(parse: impl FnOnce() -> R) -> (R, Vec<KeptRefused>) {
    let outer = KEPT_REFUSED.with(|kept| kept.borrow_mut().replace(Vec::new()));
    let result = parse();
    let kept = KEPT_REFUSED.with(|kept| std::mem::replace(&mut *kept.borrow_mut(), outer));
    (result, kept.unwrap_or_default())
}

/// What a refused rule is kept as: a word no command holds (the system passes no NUL byte in
/// a program's arguments), so that it meets none. Kept as written, a rule such as `*curl*|*sh*`
/// or `*>*` met lines whose quoted text held its `|` or `>`, and a deny of it denied them.
const MEETS_NO_COMMAND: &str = "\u{0}";

/// Inside [`keeping_refused`], says the refused `item` and gives what it is kept as, a rule
/// that meets no command (an allow of it allows nothing, a deny denies nothing, and a list of
/// allowed commands stays one); else `None`, and the file fails.
pub(crate) fn kept_refused(item: &str, why: String) -> Option<String> {
    KEPT_REFUSED.with(|kept| {
        kept.borrow_mut().as_mut().map(|kept| {
            kept.push(KeptRefused {
                item: item.to_owned(),
                why,
            });
            MEETS_NO_COMMAND.to_owned()
        })
    })
}
