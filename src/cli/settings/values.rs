//! Lists of strings in settings files that say what their strings are when a file holds
//! something else ("expected a list of globs").

use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Defines a list of strings that says what its strings are when the file holds something
/// else ("expected a list of globs").
/// With `blank_refused`, a blank string in it (`""`, `"   "`) is an error: a policy's pattern
/// that names nothing would be dropped, and a deny the user wrote would deny nothing unsaid.
/// `refused_by` says why a string is refused, if it is (a command rule no command can meet).
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
                            if let Some(why) = refused_by(&item) {
                                return Err(serde::de::Error::custom(why));
                            }
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
