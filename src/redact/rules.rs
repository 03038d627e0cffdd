//! The patterns that find secrets inside text, and for each the part of a match it replaces.
//!
//! Conventions that keep the single pre-check pass fast on large strings:
//! * word boundaries are ASCII (`(?-u:\b)`): the lazy DFA cannot evaluate Unicode word
//!   boundaries on non-ASCII text and would fall back to a much slower engine;
//! * keyword alternations are ASCII-case-insensitive (`(?i-u:...)`) for a smaller automaton;
//! * no look-around or back-references, so every pattern stays inside the linear-time engines.

use std::borrow::Cow;
use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::{Captures, Regex};

use super::REDACTED;
use super::argv::redact_argv_lists;
use super::decode::{MAX_BLOB, decoded_text, may_be_text};
use super::names::{
    Name, is_file_name, is_header_name, is_identifier_like, is_listed, looks_random, name_kind,
    pwd_kind, split_words,
};

/// A look at the text around a trigger: the text's bytes, where the trigger starts and ends.
type Shape = fn(&[u8], usize, usize) -> bool;

/// One kind of secret: a pattern, and a function choosing which part of a match to replace
/// (or `None` to leave the match alone after a closer look).
pub(super) struct Rule {
    /// Literals of which any match holds one (ASCII case ignored): cheap to look for all at
    /// once, so that the pattern is compiled and run only on text that can hold a match. Empty
    /// for the base64 rules, which [`base64_runs`] triggers.
    triggers: &'static [&'static str],
    /// Literals of which the text must hold one too; empty when the triggers suffice.
    also: &'static [&'static str],
    /// A closer look at the text after a trigger (the text's bytes, where the trigger ends)
    /// that a match needs, so that `key` in `monkey` or `the key to` compiles nothing.
    shape: Option<Shape>,
    pub(super) pattern: &'static str,
    pick: fn(&Captures<'_>) -> Option<Range<usize>>,
}

/// A quoted or bare value after a separator; the picks read `dq`, `sq` and `bare`.
/// The space between two words of a SQL statement: spaces, or one line break among them.
macro_rules! sql_gap {
    () => {
        r"(?:[\t\x20]+|[\t\x20]*\r?\n[\t\x20]*)"
    };
}

macro_rules! value {
    () => {
        concat!(
            r#"(?:"(?P<dq>[^"\n]*)"|'(?P<sq>"#,
            shell_quoted!(),
            r#")'|(?P<bare>[^-\s"'`;&|<>)][^\s"'`;&|<>)]*))"#
        )
    };
}

/// A quoted or bare argument, its groups named `<name>_esc` (quoted in JSON text),
/// `<name>_dq`, `<name>_sq` and `<name>_bare`. A bare one ends at a line break escaped in JSON
/// text, once or twice (`\n`, `\\n`), where the next command starts.
macro_rules! arg {
    ($name:literal) => {
        concat!(
            r#"(?:\\"(?P<"#,
            $name,
            r#"_esc>[^"\\\n]*)\\"|"(?P<"#,
            $name,
            r#"_dq>[^"\n]*)"|'(?P<"#,
            $name,
            r#"_sq>"#,
            shell_quoted!(),
            r#")'|(?P<"#,
            $name,
            r#"_bare>(?:[^-\s"'`;&|<>)\\]|\\[^nrt\\\s])(?:[^\s"'`;&|<>)\\]|\\[^nrt\\\s])*))"#
        )
    };
}

/// The inside of a shell's single quotes, which a quote inside them closes and opens again:
/// `'it'"'"'s'` and `'it'\''s'` are `it's` to the shell (also with the `"` and `\` escaped
/// in JSON text), so a password holding a quote is written so.
macro_rules! shell_quoted {
    () => {
        r#"[^'\n]*(?:'(?:\\?"'\\?"|\\{1,2}')'[^'\n]*)*"#
    };
}

/// A PuTTY key's private part: its `Private-Lines:` line, then its base64 lines through its
/// `Private-MAC:` line, or, cut off before that line, as far as its base64 goes.
macro_rules! putty_private {
    () => {
        concat!(
            r"Private-Lines:[\t ]*[0-9]+",
            r"(?:(?s:.*?)Private-MAC:[\t ]*[0-9A-Fa-f]+|[A-Za-z0-9+/=\s\\]*)",
        )
    };
}

/// Whatever else a command line holds before the flag we look for, on the same line: as
/// little as can be (`??`), so that the command's first such flag is taken, not its last; and
/// never past a line break escaped in JSON text (`\n`), which ends a command as one does.
macro_rules! same_command {
    () => {
        concat!(r"(?:[\t\x20]", command_part!(), r"*?)??", command_gap!())
    };
}

/// What [`same_command!`] reads, as much as can be (`*`): so that a command's last such flag
/// is taken.
macro_rules! rest_of_command {
    () => {
        concat!(r"(?:[\t\x20]", command_part!(), r"*)?", command_gap!())
    };
}

/// A piece of a command line: a character that ends no command, an escape, a line break
/// escaped for the shell (`\` then a line break, also in JSON text: `\\\n`, and a Windows
/// line end), which continues the command on the next line, or a quoted argument, whose `;`,
/// `|` and `&` end nothing (`lftp -e "set ssl:verify no; mirror" -u …`; also quoted in JSON
/// text). An em or en dash ends one as a `;` does: no shell gives it a meaning, and prose
/// after a command does (`zip -P … f — then I ran cp -P src dst`).
macro_rules! command_part {
    () => {
        concat!(
            r#"(?:[^\n;&|\\\x{2014}\x{2013}]|"[^"\n]*"|'[^'\n]*'|\\"[^"\\\n]*\\""#,
            r"|\\\\\\(?:r\\)?n|\\\r?\n|\\[^nr])"
        )
    };
}

/// The flags of `vault login` that take a value (`-address https://…`), as an alternation:
/// what follows one after a space is its value, not the token.
macro_rules! vault_valued_flags {
    () => {
        concat!(
            "address|agent-address|ca-cert|ca-path|client-cert|client-key|field|format|header",
            "|log-level|method|mfa|namespace|ns|path|policy-override|tls-server-name|unlock-key",
            "|wrap-ttl"
        )
    };
}

/// [`value!`] without its groups: the value of another flag, passed over.
macro_rules! plain_value {
    () => {
        concat!(
            r#"(?:"[^"\n]*"|'"#,
            shell_quoted!(),
            r#"'|[^-\s"'`;&|<>)][^\s"'`;&|<>)]*)"#
        )
    };
}

/// mysql's password flag, its value attached (`-pSECRET`, `-p'…'`); or RAR's `-hp…` (`hp`),
/// which encrypts the headers too, and is mysql's `-h` and a host starting with `p`.
macro_rules! mysql_flag {
    () => {
        concat!(
            r#"-(?P<hp>h)?p(?:"(?P<dq>[^"\n]*)"|'(?P<sq>"#,
            shell_quoted!(),
            r#")'|(?P<bare>[^\s"'`;&|<>)]+))"#
        )
    };
}

/// The space between two arguments of a command: spaces and tabs, and line breaks escaped for
/// the shell among them (`htpasswd -b f \` then `alice …` on the next line), also in JSON text.
macro_rules! arg_gap {
    () => {
        r"(?:[\t\x20]|\\\r?\n|\\\\\\(?:r\\)?n)+"
    };
}

/// What comes right before a flag: a space, or a line break escaped for the shell.
macro_rules! command_gap {
    () => {
        r"(?:[\t\x20]|\\\r?\n|\\\\\\(?:r\\)?n)"
    };
}

/// The escapes a vendor token or a JWT may be glued to (`\nsk-…` in JSON or code text,
/// `\u003dghp_…`, `\x3dAKIA…`, `%3Dsk-proj-…` and `%22ghp_…` in a URL): each written once, here,
/// as its first bytes (as pattern text, then as bytes) and how many characters of which class
/// end it. [`token_start!`] (the rules' patterns) and [`starts_word`] (their triggers) are both
/// made from this list, so that they cannot disagree.
macro_rules! token_escapes {
    ($then:ident) => {
        $then! {
            [r"\\", b"\\", nrt, 1]
            [r"\\u", b"\\u", hex, 4]
            [r"\\x", b"\\x", hex, 2]
            ["%", b"%", hex, 2]
        }
    };
}

/// A class of [`token_escapes!`], as pattern text (`pattern`) or as a test of a byte (`test`).
macro_rules! escape_class {
    (pattern, nrt) => {
        "[nrt]"
    };
    (pattern, hex) => {
        "[0-9A-Fa-f]"
    };
    (test, nrt) => {
        |b: &u8| matches!(*b, b'n' | b'r' | b't')
    };
    (test, hex) => {
        u8::is_ascii_hexdigit
    };
}

/// [`token_escapes!`] as alternatives of a pattern, each after a `|`.
macro_rules! escape_patterns {
    ($([$pattern:literal, $bytes:literal, $class:ident, $count:literal])*) => {
        concat!($("|", $pattern, escape_class!(pattern, $class), "{", $count, "}"),*)
    };
}

/// [`token_escapes!`] as a table: first bytes, the class of the rest and how many.
macro_rules! escape_table {
    ($([$pattern:literal, $bytes:literal, $class:ident, $count:literal])*) => {
        [$(Escape { lead: $bytes, class: escape_class!(test, $class), count: $count }),*]
    };
}

/// What may come right before a vendor token or a JWT: the start of a word; an escape of
/// [`token_escapes!`]; or `_`, a name joined to the token (`FOO_ghp_…`, `mcp__vault__AKIA…`),
/// captured as `joined`. The start of a word or a `_` is a byte that is no letter or digit,
/// which is how [`starts_word`] reads it (the tokens start with a letter or a digit).
macro_rules! token_start {
    () => {
        concat!(
            r"(?:(?-u:\b)",
            token_escapes!(escape_patterns),
            r"|(?P<joined>_))"
        )
    };
}

/// An escape of [`token_escapes!`]: its first bytes, then `count` bytes of `class`.
struct Escape {
    lead: &'static [u8],
    class: fn(&u8) -> bool,
    count: usize,
}

/// [`token_escapes!`] for [`starts_word`].
static TOKEN_ESCAPES: [Escape; 4] = token_escapes!(escape_table);

/// The words a secret's name is made of, for the rules that look at names.
const KEYWORDS: &[&str] = &[
    "pass", "pw", "secret", "token", "auth", "cred", "cookie", "key", "sig", "salt", "hmac",
];

/// What `header_pair` looks for: [`KEYWORDS`], `login` and `bind` (LDAP's) for a login call's
/// pair, `connect`, `PDO` and `FTP` for a connect call's, `oracle` for cx_Oracle's, `redis`
/// for a Redis client's password, `smtp` and `pop3` for Ruby's `Net::SMTP.start` and
/// `Net::POP3.start`.
const PAIR_KEYWORDS: &[&str] = &[
    "pass", "pw", "secret", "token", "auth", "cred", "cookie", "key", "sig", "salt", "hmac",
    "login", "connect", "pdo", "bind", "redis", "ftp", "smtp", "pop3", "oracle",
];

/// The words of a secret flag's name, for `cli_flag`: [`KEYWORDS`] and `bearer`.
const FLAG_KEYWORDS: &[&str] = &[
    "pass", "pw", "secret", "token", "auth", "cred", "cookie", "key", "sig", "salt", "hmac",
    "bearer",
];

/// The prefixes of [`RULES`]' vendor tokens.
const VENDOR_PREFIXES: &[&str] = &[
    "sk-",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "AKIA",
    "ASIA",
    "xox",
    "xapp-",
    "AIza",
    "ya29.",
    "sk_",
    "rk_",
    "whsec_",
    "hf_",
    "glpat-",
    "npm_",
    "pypi-",
    "SG.",
    ":AA",
    "AGE-SECRET",
    "dop_v1_",
    "shp",
    "gsk_",
    "r8_",
    "lin_api",
    "sntrys_",
    "tvly-",
    "pplx-",
    "xai-",
    "dapi",
    "key-",
    "hvs.",
    "hvb.",
    "hvr.",
    "hooks.slack.com/",
    "discord.com/api/webhooks/",
    "discordapp.com/api/webhooks/",
];

/// The prefixes [`RULES`]' `vendor_token_glued` finds anywhere: no word or name holds them.
/// Every other prefix of [`VENDOR_PREFIXES`] is found only where a word starts, `_` or an
/// escape ends (`sk-` is in `task-…`, `ASIA` in `EASTASIA…`, `hf_` in `shelf_…`).
const GLUED_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "sk-ant-api03-",
    "sk-proj-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxs-",
    "glpat-",
    "AKIA",
    "pypi-AgE",
    "AGE-SECRET-KEY-1",
    "dop_v1_",
];

/// How many rules there are.
const RULE_COUNT: usize = 27;

/// All rules, broadest first (see [`scan`] for why order matters).
pub(super) static RULES: [Rule; RULE_COUNT] = [
    // pem_private_key
    Rule {
        triggers: &["PRIVATE KEY", "PuTTY-User-Key-File-"],
        also: &[],
        shape: None,
        // The whole block, BEGIN through END. A block cut off before its END line (truncated
        // tool output) is redacted up to where its base64 body ends.
        pattern: concat!(
            r"(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
            r"(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,-]*)",
            // A PuTTY key (`.ppk`, versions 2 and 3), from its first line through its private
            // part, as a PEM block: its `Private-Lines:` are the key, which the file holds
            // without a BEGIN or END line. Only a key's first line followed by its
            // `Private-Lines:` is one, so prose naming the format stays.
            r"|PuTTY-User-Key-File-[0-9]+:[\t ]*[A-Za-z0-9@._-]+.*?",
            putty_private!(),
        ),
        pick: whole_match,
    },
    // url_password
    Rule {
        triggers: &["://"],
        also: &[],
        shape: None,
        // `scheme://user:password@host` for any scheme: postgres, mysql, mongodb+srv, redis,
        // amqp, but also https git remotes carrying a token. Only the password is replaced.
        pattern: concat!(
            r#"(?-u:\b)[A-Za-z][A-Za-z0-9+.-]{1,30}://"#, // scheme
            r#"[^:/?#@\s"'<>\\]*:"#,                      // user, possibly empty
            // To the last `@` before the host: a password may hold one unescaped (`P@ss`).
            // The host ends at `?` or `#`, so an `@` of the query (`?email=a@b.c`) is not it.
            r#"(?P<secret>[^\s/"'<>\\@]+(?:@[^\s/?#"'<>\\@]*)*)@"#,
            // The host, and what ends it (nothing at the end of the text): whether a port's
            // query, not a password, came before it ([`pick_url_password`]).
            r#"(?P<host>[A-Za-z0-9.-]*)(?P<after>[^A-Za-z0-9.-]?)"#,
        ),
        pick: pick_url_password,
    },
    // url_user_token
    Rule {
        triggers: &["://"],
        also: &[],
        shape: None,
        // A key as the URL's user, with or without a password after it: a Sentry DSN
        // (`https://<32 hex>@o1.ingest.sentry.io/2`), a token as a git remote's user
        // (`https://<token>@github.com/…`, `https://<token>:x-oauth-basic@…`). Taken when it
        // looks random, so `git@`, `deploy:…@` and `bob.smith@` stay.
        pattern: concat!(
            r#"(?-u:\b)[A-Za-z][A-Za-z0-9+.-]{1,30}://"#, // scheme
            r#"(?P<secret>[A-Za-z0-9._~+-]{16,})"#,       // user
            r#"(?::[^\s/?#@"'<>\\]*)?@"#,                 // password, possibly redacted
        ),
        pick: pick_random_secret,
    },
    // url_encoded
    Rule {
        // `://` encoded once (`%3A%2F%2F`) or more (`%253A%252F%252F`, `%25253A…`).
        triggers: &["%3A%2F%2F", "3A%25"],
        also: &[],
        shape: None,
        // A URL percent-encoded whole, as a redirect parameter, a redirect inside a redirect
        // or an encoded clone URL carries it (`https%3A%2F%2Fuser%3Apassword%40host`,
        // `https%253A%252F%252F…`), from its scheme to the end of the parameter: decoded
        // again and again and looked into by the two rules above ([`redact_encoded_urls`]).
        pattern: concat!(
            r#"[A-Za-z][A-Za-z0-9+.-]{0,30}"#,
            r#"%(?:25){0,7}3[Aa]%(?:25){0,7}2[Ff]%(?:25){0,7}2[Ff]"#,
            r#"[^\s"'`<>\\&]*"#,
        ),
        pick: whole_match,
    },
    // cookie_header
    Rule {
        triggers: &["cookie"],
        also: &[],
        shape: None,
        // A cookie header holds several `name=value` pairs; all of them go, to the end of line.
        pattern: r#"(?-u:\b)(?i-u:(?:set-)?cookie)["']?[\t ]*:[\t ]*(?P<secret>[^\r\n"'\\]+)"#,
        pick: pick_secret,
    },
    // name_value_json
    Rule {
        triggers: &["value"],
        also: &["name", "key"],
        shape: None,
        // `{"name": "OPENAI_API_KEY", "value": "…"}` as JSON text (ECS and Kubernetes env, AWS
        // tags and parameters, HAR headers), with up to three other fields between the two.
        pattern: r#"(?x)
            \\?"(?i-u:name|key|parametername|parameterkey)\\?" [\t\x20]* : [\t\x20]*
            \\?"(?P<name>[^"\\\n]+)\\?"
            (?: (?:[\t\n\r\x20]|\\n)* , (?:[\t\n\r\x20]|\\n)* \\?"[A-Za-z_]+\\?" [\t\x20]* : [\t\x20]*
                (?: \\?"[^"\\\n]*\\?" | [A-Za-z0-9.+-]+ ) ){0,3}
            (?:[\t\n\r\x20]|\\n)* , (?:[\t\n\r\x20]|\\n)* \\?"(?i-u:value|parametervalue)\\?" [\t\x20]* : [\t\x20]*
            (?: \\"(?P<esc>(?:[^"\\\n]|\\\\\\"|\\[^"\n])*)\\" | "(?P<dq>(?:[^"\\\n]|\\.)*)"
              | (?P<bare>[^\s,}\]"\\]+) )"#,
        pick: pick_named_value,
    },
    // name_value_yaml
    Rule {
        triggers: &["value"],
        also: &["name", "key"],
        shape: None,
        // The same in YAML: `- name: STRIPE_SECRET_KEY` then `value: …` on the next line.
        pattern: concat!(
            r#"(?-u:\b)(?i-u:name)[\t\x20]*:[\t\x20]*["']?(?P<name>[A-Za-z_][A-Za-z0-9_./-]*)["']?"#,
            r#"[\t\x20]*(?:\r?\n|\\n)[\t\x20]*(?:-[\t\x20]+)?(?i-u:value)[\t\x20]*:[\t\x20]*"#,
            r#"(?:\\"(?P<esc>[^"\n\\]*)\\"|"(?P<dq>[^"\n\\]*)"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s"'#|>\\][^\s#\\]*))"#,
        ),
        pick: pick_named_value,
    },
    // header_pair
    Rule {
        triggers: PAIR_KEYWORDS,
        also: &[],
        shape: Some(paired),
        // A header as a pair in source text, as HTTP libraries take one: a tuple of a list
        // (`headers=[("X-OAuth", "…")]`: requests, httpx, aiohttp), a pair of a list
        // (`new Headers([["X-Auth", "…"]])`, Node's raw headers), a pair of bytes (an ASGI
        // scope's `[(b"x-api-key", b"…")]`, httpx's raw headers), a tuple in braces (Elixir's
        // and Erlang's `[{"x-api-key", "…"}]`, C++'s `{{"X-Auth", "…"}}`), or a call's two
        // arguments (`headers.append("Authorization", "…")`, `.header("X-Api-Key", "…")`,
        // `setRequestProperty`), also after other arguments (`add_header(req, "X-OAuth", "…")`).
        // Judged as the same pair in a JSON list is ([`header_holds_secret`]). And a login as
        // a pair, a user then its password, given to an `auth` (`auth=("alice", "…")`:
        // requests, httpx), to a class whose name ends in `Auth` (`HTTPBasicAuth("alice",
        // "…")`, aiohttp's `BasicAuth(…)`; a function's `check_auth("alice", "expired")` is
        // none) or to a `login` call (`smtp.login("alice", "…")`: smtplib, ftplib, imaplib;
        // `do_login(…)`, `doLogin(…)`; `relogin` is another word, and `record_login(…)` a call
        // about a login that happened: [`names_a_login_event`]) or to pysmb's
        // `SMBConnection("alice", "…", "client", "server")`: the password goes, the user
        // stays. So does the password of a connect call after its host, as DB-API drivers and
        // PHP take them (`MySQLdb.connect(host, "alice", "…")`, `pymssql.connect`,
        // `mysqli_connect`), JDBC's `DriverManager.getConnection(url, "alice", "…")` and PHP's
        // `new PDO("mysql:host=…", "alice", "…")` (its DSN where a host goes); or after its
        // host and port, as paramiko's `connect(hostname, 22, "alice", "…")` (a port of digits,
        // quoted or not, or a name that is or ends in `port`: any other value there is no
        // port). A host among a login's arguments tells which is the password
        // ([`login_password`]): pexpect's `login("db.example.com", "alice", "…")` takes its
        // third. The user may be a variable (`ftp.login(user, "…")`, `smtp.login(os.environ["U"],
        // "…")`, `connect(host, 22, user, "…")`): the literal after it is the password
        // ([`password_after_a_variable`]). An LDAP bind is a login too: python-ldap's
        // `simple_bind_s("cn=admin,dc=x", "…")`, `bind_s(dn, "…")`, ldapjs's `bind(dn, "…",
        // cb)` (a `bind` given no DN is JavaScript's: [`binds_a_dn`]), and ldap3's
        // `Connection(server, "cn=admin", "…")`, read as a connect call. And redis-py's
        // `Redis(host, port, db, "…")` (`StrictRedis`): its fourth argument is the password.
        pattern: r#"(?x)
            [(\[{,] (?:\s|\\[nrt])*
            [rbuRBU]{0,2} \\?["'] (?P<name>[A-Za-z][A-Za-z0-9-]*) \\?["'] [\t\x20]* , (?:\s|\\[nrt])*
            (?:
                [rbfuRBFU]{0,2}\\"(?P<esc>(?:[^"\\\n]|\\\\\\"|\\[^"\n])*)\\"
              | [rbfuRBFU]{0,2}"(?P<dq>(?:[^"\\\n]|\\.)*)"
              | [rbfuRBFU]{0,2}'(?P<sq>(?:[^'\\\n]|\\.)*)'
            )
          | (?:
                (?: (?-u:\b)auth [\t\x20]* [:=] [\t\x20]* | Auth
                  | (?:(?-u:\b)|(?P<before>[A-Za-z0-9]+)_)(?i-u:login)
                  | (?P<camel>[A-Za-z0-9]*[a-z])Login | (?-u:\b)SMBConnection
                  | (?-u:\b)(?P<bind>(?:simple_)?bind(?:_s)?) | Credentials?
                  | (?-u:\b)(?:cx_Oracle|oracledb)\.connect(?P<oracle>) )
                [\t\x20]* \( (?:\s|\\[nrt])*
              | (?: (?:(?-u:\b)|_)(?i-u:connect)
                  | (?-u:\b)(?:getConnection|PDO|Connection|FTP(?:_TLS)?(?:\.(?:new|open))?) )
                [\t\x20]* \(
                (?P<connect>) (?:\s|\\[nrt])*
                (?P<host> \\?"[^"\\\n]*\\?" | \\?'[^'\\\n]*\\?' | [A-Za-z_$][A-Za-z0-9_.$]* )
                [\t\x20]* , (?:\s|\\[nrt])*
                (?: (?P<port> [0-9]{1,5} | \\?["'][0-9]{1,5}\\?["']
                      | (?:[A-Za-z_$][A-Za-z0-9_.$]*)?(?i-u:port) ) [\t\x20]* ,
                    (?:\s|\\[nrt])* )?
            )
            (?: \\?["'] (?P<first>[^"'\\\n]*) \\?["']
              | (?P<vfirst> [A-Za-z_$][A-Za-z0-9_.$]* (?: \[ [^\]\n]{1,60} \] | \( [^()\n]{0,60} \) ){0,3} ) )
            [\t\x20]* , (?:\s|\\[nrt])*
            (?:
                [rbfuRBFU]{0,2}\\"(?P<lesc>(?:[^"\\\n]|\\\\\\"|\\[^"\n])*)\\"
              | [rbfuRBFU]{0,2}"(?P<ldq>(?:[^"\\\n]|\\.)*)"
              | [rbfuRBFU]{0,2}'(?P<lsq>(?:[^'\\\n]|\\.)*)'
            )
            (?: [\t\x20]* , (?:\s|\\[nrt])*
                (?:
                    [rbfuRBFU]{0,2}\\"(?P<tesc>(?:[^"\\\n]|\\\\\\"|\\[^"\n])*)\\"
                  | [rbfuRBFU]{0,2}"(?P<tdq>(?:[^"\\\n]|\\.)*)"
                  | [rbfuRBFU]{0,2}'(?P<tsq>(?:[^'\\\n]|\\.)*)'
                )
            )?
          | (?-u:\b)
            (?: (?:Strict)?Redis [\t\x20]* \( (?:\s|\\[nrt])*
                (?: (?: \\?"[^"\\\n]*\\?" | \\?'[^'\\\n]*\\?' | [A-Za-z0-9_.$]+ )
                    [\t\x20]* , (?:\s|\\[nrt])* ){3}
              | POP3\.start [\t\x20]* \( (?:\s|\\[nrt])*
                (?: (?: \\?"[^"\\\n]*\\?" | \\?'[^'\\\n]*\\?' | [A-Za-z0-9_.$]+ )
                    [\t\x20]* , (?:\s|\\[nrt])* ){3}
              | SMTP\.start [\t\x20]* \( (?:\s|\\[nrt])*
                (?: (?: \\?"[^"\\\n]*\\?" | \\?'[^'\\\n]*\\?' | [A-Za-z0-9_.$]+ )
                    [\t\x20]* , (?:\s|\\[nrt])* ){4} )
            (?:
                [rbfuRBFU]{0,2}\\"(?P<resc>(?:[^"\\\n]|\\\\\\"|\\[^"\n])*)\\"
              | [rbfuRBFU]{0,2}"(?P<rdq>(?:[^"\\\n]|\\.)*)"
              | [rbfuRBFU]{0,2}'(?P<rsq>(?:[^'\\\n]|\\.)*)'
            )"#,
        pick: pick_header_pair,
    },
    // positional_password
    Rule {
        triggers: &[
            "htpasswd",
            "mosquitto_passwd",
            "vault",
            "net",
            "cf",
            "rclone",
            "rabbitmqctl",
            "openssl",
            "sqlplus",
            "sqlldr",
            "expdp",
            "impdp",
            "rman",
            "dgmgrl",
            "target",
            "auxiliary",
            "catalog",
            "cx_oracle",
            "oracledb",
            "convertto-securestring",
            "mount",
            "cifs",
            "smb3",
        ],
        also: &[],
        shape: Some(positional_command),
        // Commands that take a password as an argument of no flag, known by where it stands:
        // `htpasswd -b file user …` and `htpasswd -nb user …` (`mosquitto_passwd -b`), `vault
        // login <token>` (its first argument of no `=`), Windows' `net use \\host\share …` and
        // `net user name …`, `cf auth user …`, `rclone obscure …` and the `pass` of `rclone
        // config create|update|password`, `rabbitmqctl add_user|change_password user …`,
        // `openssl passwd … <password>`, PowerShell's `ConvertTo-SecureString "…"` (or `"…" |
        // ConvertTo-SecureString`); Oracle's `user/password@db` after sqlplus, sqlldr, expdp,
        // impdp, rman and dgmgrl, and as cx_Oracle's and oracledb's one string; and what
        // follows the `%` of a CIFS mount's `user=alice%…` (or its `pass=…`).
        pattern: concat!(
            r"(?:(?-u:\b)|\\[nrt])(?:",
            r"(?:htpasswd|mosquitto_passwd)(?P<hflags>(?:",
            arg_gap!(),
            r"-[A-Za-z]+(?:",
            arg_gap!(),
            r"[0-9]+)?)+)",
            arg_gap!(),
            r"(?P<hfile>",
            plain_value!(),
            r")",
            arg_gap!(),
            arg!("h2"),
            r"(?:",
            arg_gap!(),
            arg!("h3"),
            r")?",
            r"|vault",
            arg_gap!(),
            r"login(?:",
            arg_gap!(),
            // A flag that takes a value may have it after a space (`-address https://…`).
            r"(?:--?(?:",
            vault_valued_flags!(),
            r")",
            arg_gap!(),
            r"[^-\s;&|][^\s;&|]*|-[A-Za-z][A-Za-z0-9_-]*(?:=[^\s;&|]*)?))*",
            arg_gap!(),
            r#"(?P<vault>[^-\s"'`;&|<>()=\\][^\s"'`;&|<>()=\\]*)(?:[\t\x20;&|)\\"'`]|(?m:$))"#,
            r#"|net"#,
            arg_gap!(),
            r#"use(?:"#,
            arg_gap!(),
            r#"(?:[A-Za-z]:|\*))?"#,
            arg_gap!(),
            r#"\\\\[^\s"']+"#,
            r#"(?:"#,
            arg_gap!(),
            r#"/[^\s"']+)*"#,
            arg_gap!(),
            r#"(?:"(?P<netuse_dq>[^"\n]*)"|(?P<netuse>[^/\s*"'][^\s"']*))"#,
            r#"|net"#,
            arg_gap!(),
            r#"user"#,
            arg_gap!(),
            r#"[^\s/"']+"#,
            arg_gap!(),
            r#"(?:"(?P<netuser_dq>[^"\n]*)"|(?P<netuser>[^/\s*"'][^\s"']*))"#,
            r"|cf",
            arg_gap!(),
            r"auth(?:",
            arg_gap!(),
            r"--[A-Za-z-]+)*",
            arg_gap!(),
            r"(?P<cfuser>",
            plain_value!(),
            r")",
            arg_gap!(),
            arg!("cf"),
            r"|rclone",
            arg_gap!(),
            r"(?:config",
            arg_gap!(),
            r")?obscure",
            arg_gap!(),
            arg!("obscure"),
            r"|rclone",
            arg_gap!(),
            r"config",
            arg_gap!(),
            r"(?:create|update|password)(?:",
            arg_gap!(),
            r"[^\s;&|]+)*?",
            arg_gap!(),
            r"pass(?:word)?(?:",
            arg_gap!(),
            r"|=)",
            arg!("rclone"),
            r"|rabbitmqctl",
            same_command!(),
            r"(?:add_user|change_password|authenticate_user)",
            arg_gap!(),
            r"(?P<rabbituser>",
            plain_value!(),
            r")",
            arg_gap!(),
            arg!("rabbit"),
            r"|openssl",
            arg_gap!(),
            r"passwd(?:",
            arg_gap!(),
            r"-(?:salt|in)",
            arg_gap!(),
            r"[^\s;&|]+|",
            arg_gap!(),
            r"-[A-Za-z0-9]+)*",
            arg_gap!(),
            arg!("passwd"),
            r"|(?i-u:convertto-securestring)(?:",
            arg_gap!(),
            r"-(?i-u:asplaintext|force))*",
            r"(?:",
            arg_gap!(),
            r"-(?i-u:string))?",
            arg_gap!(),
            arg!("secure"),
            r#"|(?:(?:sqlplus|sqlldr|expdp|impdp|rman|dgmgrl)(?:"#,
            arg_gap!(),
            r#"-[A-Za-z]+)*"#,
            // `target=sys/…` and `userid=scott/…` as rman and sqlldr take them too, and a
            // quote escaped for the shell (`expdp \"sys/… as sysdba\"`, also in JSON text).
            r#"(?:"#,
            arg_gap!(),
            r#"(?i-u:target|auxiliary|catalog|userid)(?:[\t\x20]*=[\t\x20]*|"#,
            arg_gap!(),
            r#")|"#,
            arg_gap!(),
            r#")(?:\\{0,3}["'])?"#,
            r#"|(?:cx_Oracle|oracledb)\.connect[\t\x20]*\([\t\x20]*(?:dsn[\t\x20]*=[\t\x20]*)?\\?["'])"#,
            r#"[A-Za-z0-9_$#]+/(?P<oracle>[^\s@/"'\\]+)"#,
            // RMAN's other connections on its command line or in its script (`rman target
            // sys/…@prod auxiliary sys/…@aux`, `CONNECT CATALOG rco/…@catdb`): a keyword,
            // then a user's password and the `@` of its database, which prose never writes.
            r#"|(?i-u:target|auxiliary|catalog)(?:[\t\x20]*=[\t\x20]*|"#,
            arg_gap!(),
            r#")(?:\\{0,3}["'])?[A-Za-z0-9_$#]+/(?P<rman>[^\s@/"'\\]+)@"#,
            r"|(?:mount(?:\.cifs|\.smb3)?|cifs|smb3)",
            same_command!(),
            r"(?:-o[\t\x20]*)?(?:[^\s,%]+,)*",
            r#"(?:user(?:name)?=[^,%\s"']*%|pass(?:word)?=)(?P<cifs>[^,\s"']+)"#,
            r")",
            // `"…" | ConvertTo-SecureString -AsPlainText`.
            r#"|(?:"(?P<piped>[^"\n]*)"|'(?P<piped_sq>[^'\n]*)')"#,
            r#"[\t\x20]*\|[\t\x20]*(?i-u:convertto-securestring)"#,
        ),
        pick: pick_positional,
    },
    // assignment
    Rule {
        triggers: KEYWORDS,
        also: &[],
        shape: Some(assigned),
        // `API_KEY=abc`, `password: hunter2`, `"token": "..."`, `secret => '...'`, including
        // JSON-escaped quotes (JSON text inside a JSON string) and Python string prefixes.
        // The keyword list only pre-selects candidates; `pick_assignment` then checks the full
        // key with `name_kind` and skips values that are code rather than data.
        pattern: concat!(
            r#"(?x)
            (?:%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4})?   # an escaped `&` or `?` before the key
            (?P<key>[A-Za-z0-9_.-]*
                (?: (?i-u:pass|pw|secret|token|auth|cred|cookie
                     |(?:api|access|private|signing|encryption|master|account)[_.-]?key)
                  | [_.-](?i-u:key|sig|signature|salt|hmac)
                  | [a-z0-9](?:Key|Sig|Signature|Salt|Hmac) )
                [A-Za-z0-9_.-]*)
            (?:
                (?P<escaped>%3[AaDd]|\\u003[AaDd])   # `=` or `:` percent- or JSON-escaped
              | \\?["']?\]?                     # end of a quoted key or of a subscript
                [\t\x20]* (?P<sep>:=|=>|[:=]) [\t\x20]*
            )
            (?:
                (?P<word>(?i-u:basic|bearer|token|digest))(?:\\{0,2}[\t\x20])+
                (?P<scheme>[^\s"'`,;\\]+)(?P<then>[\t\x20]+)?
              | \\"(?P<esc>(?:[^"\\\n]|\\\\\\"|\\[^"\n])*)\\"
              | [rbfuRBFU]{0,2}"(?P<dq>(?:[^"\\\n]|\\.)*)"
              | [rbfuRBFU]{0,2}'(?P<sq>"#,
            shell_quoted!(),
            r#")'
              | `(?P<bt>[^`\n]*)`
              | (?P<bare>[^\s"'`,;&|)}\]<>\\]+)
            )"#
        ),
        pick: pick_assignment,
    },
    // cli_flag
    Rule {
        triggers: &[
            "--",
            "-pass",
            "-pw",
            "-secret",
            "-token",
            "-auth",
            "-cred",
            "-bearer",
            "-api",
            "-access",
            "-private",
            "storepass",
            "keypass",
        ],
        also: FLAG_KEYWORDS,
        shape: None,
        // `--password hunter2`, `--api-key abc` (the `--flag=value` form is an assignment);
        // a flag ending in `bearer` takes a token however short (xh's `--bearer`, curl's
        // `--oauth2-bearer`), also after `=`, with or without spaces around it
        // (`--bearer =…`), as no assignment's name ends so. And the same flags written with
        // one dash, where a word starts (`single`), as Go's flags, Java's `keytool -storepass`
        // and PuTTY's `-pw` are.
        pattern: concat!(
            r#"(?x)
            # A search's command then its own flags before the flag: the flag is what it looks
            # for (`grep -rn -password src/`), as no search tool takes a password.
            (?: (?P<search> (?-u:\b) (?: [ef]?grep | zgrep | rg | ag | ack ) )
                (?: [\t\x20]+ -[A-Za-z0-9-]* )*? [\t\x20]*? )?
            (?: -- | (?P<single> (?m:^) | [\t\x20"'(\[,] | \\[nrt] ) -(?-u:\b) )
            (?P<key>[A-Za-z0-9_-]*
                (?i-u:pass|pw|secret|token|auth|cred|cookie|bearer|(?:api|access|private)[_-]?key)
                [A-Za-z0-9_-]*)
            (?P<sep> [\t\x20]* = [\t\x20]* | [\t\x20]+ )
            (?:
                "(?P<dq>(?:[^"\\\n]|\\.)*)"
              | '(?P<sq>"#,
            shell_quoted!(),
            r#")'
              | (?P<bare>[^-\s"'`;&|)<>\\][^\s"'`;&|)<>\\]*)
            )"#
        ),
        pick: pick_cli_flag,
    },
    // password_flag
    Rule {
        triggers: &[
            "sshpass",
            "login",
            "redis-cli",
            "ldap",
            "sqlcmd",
            "mongo",
            "_auth",
            "_password",
            "npmauth",
            "zip",
            "twine",
            "configure",
            "smbclient",
            "rpcclient",
            "smbcacls",
            "lftp",
            "ssh-keygen",
            "mosquitto_",
            "bcp",
            "osql",
            "openssl",
            "winrs",
            "freerdp",
            "ipmitool",
            "snmp",
            "psexec",
            "rdesktop",
            "smbmap",
            "crackmapexec",
            "netexec",
            "nxc",
            "evil-winrm",
        ],
        also: &[],
        shape: Some(zip_p_flag),
        // Commands whose short flag takes a password, attached or not: `sshpass -p`,
        // `docker login -p` (and podman, helm registry …; OpenShift's `oc login`, Cloud
        // Foundry's `cf login`, `az login`), `twine upload -p`, `redis-cli -a`, `ldapsearch -w`,
        // `sqlcmd -P` (`bcp`, `osql`), `mongosh -p`, `zip -P` and `unzip -P`, Samba's
        // `smbclient -U user%…` (`rpcclient`, `smbcacls`: what follows the `%`), lftp's
        // `-u user,…` (what follows the `,`), `ssh-keygen -N` and `-P` (the new and the old
        // passphrase), mosquitto's `-P`, `openssl enc -k` (never attached: `-kfile` names a
        // file), winrs's and FreeRDP's `-p:` and `/p:` (their last only), `ipmitool -P`,
        // Net-SNMP's `-A` and `-X`, PsExec's, rdesktop's, smbmap's, CrackMapExec's (NetExec's)
        // and evil-winrm's `-p`; and a package manager's registry credential set by name
        // then value (`npm config set //registry.npmjs.org/:_authToken …`,
        // `yarn config set npmAuthToken …`), and AWS's secret key or session token so set
        // (`aws configure set aws_secret_access_key …`), however short. The command up to its last such
        // flag, in which [`redact_password_flags`] takes every one's value: each reads them
        // all and uses the last, so any may be the password.
        pattern: concat!(
            // A command starts a word, or follows a line break escaped in JSON text (`\n`).
            r"(?:(?-u:\b)|\\[nrt])(?:",
            r"(?:npm|pnpm|yarn)[\t\x20]+config[\t\x20]+set[\t\x20]+(?:[^\s=]*[/:])?",
            r"(?:_auth|_authToken|_password|npmAuthToken|npmAuthIdent)[\t\x20]+",
            // AWS's: a profile named before `configure` or `set` (`--profile p`) or in the
            // setting's name (`profile.prod.aws_secret_access_key`, as `default.` is).
            r"|aws(?:[\t\x20]+--profile[\t\x20]+[^\s;&|]+)?[\t\x20]+configure[\t\x20]+set[\t\x20]+",
            r"(?:--profile[\t\x20]+[^\s;&|]+[\t\x20]+)?",
            r"(?:[A-Za-z0-9_-]+\.)*(?:aws_secret_access_key|aws_session_token)[\t\x20]+",
            r"|",
            // sshpass's options, up to the command it runs (`ssh -p 2222` is ssh's port).
            r"sshpass(?:(?:",
            command_gap!(),
            r")+(?:-[fdPp][\t\x20]*",
            plain_value!(),
            r"|-[ehvV][A-Za-z0-9_]*))*(?:",
            command_gap!(),
            r")+-p",
            r"|(?:(?:docker|podman|nerdctl|buildah|skopeo|oras|crane|helm[\t\x20]+registry|oc|cf|az)",
            r"[\t\x20]+login|twine[\t\x20]+upload)",
            rest_of_command!(),
            r"-p",
            r"|redis-cli",
            rest_of_command!(),
            r"-a",
            r"|(?:smbclient|rpcclient|smbcacls)",
            rest_of_command!(),
            r"-(?:U|-user=?)",
            r"|ldap(?:search|add|modify|delete|whoami|passwd|compare|modrdn)",
            rest_of_command!(),
            r"-w",
            r"|(?:sqlcmd|bcp|osql|mosquitto_(?:pub|sub|rr))",
            rest_of_command!(),
            r"-P",
            r"|lftp",
            rest_of_command!(),
            r"-u",
            r"|ssh-keygen",
            rest_of_command!(),
            r"-[NP]",
            r"|openssl",
            rest_of_command!(),
            r"-k",
            r"|mongo(?:sh|dump|restore|import|export|stat|top|files)?",
            rest_of_command!(),
            r"-p",
            r"|(?:un)?zip",
            rest_of_command!(),
            r"-P",
            r"|ipmitool",
            rest_of_command!(),
            r"-P",
            // Net-SNMP's v3 passphrases, of authentication and of privacy.
            r"|snmp[a-z]*",
            rest_of_command!(),
            r"-[AX]",
            // Remote shells and desktops of Windows hosts.
            r"|(?:(?i-u:psexec)(?:64)?(?:\.exe|\.py)?|rdesktop|smbmap|crackmapexec|netexec|nxc|evil-winrm)",
            rest_of_command!(),
            r"-p",
            // Windows' `winrs -u:alice -p:…` (`/p:`, `-password:`), FreeRDP's `/p:…`.
            r"|(?:winrs|[a-z]*freerdp3?)",
            rest_of_command!(),
            r"[-/](?i-u:p|password):",
            // `-p=…` as cobra's and Go's flags take it (`oc login -p=…`): the `=` stays.
            r")[\t\x20]*=?",
            value!(),
        ),
        pick: pick_value_only,
    },
    // mysql_password
    Rule {
        triggers: &["mysql", "mariadb", "7z", "rar", "unrar"],
        also: &[],
        shape: Some(attached_p_flag),
        // `mysql -pSECRET`: attached only (`-p db` asks for the password and names the
        // database). The command up to its last `-p`, in which [`redact_mysql`] takes every
        // `-p`'s value: the client reads them all (the last wins), and `mysql -pA -pB -pC`
        // may hold the password in any. 7-Zip's and RAR's `-p` is written so too
        // (`7z x a.7z -pSECRET`, `unrar x -pSECRET a.rar`), and RAR's `-hpSECRET`.
        pattern: concat!(
            r"(?:(?-u:\b)|\\[nrt])(?:mysql[a-z]*|mariadb[a-z-]*|7z[arz]?|(?:un)?rar)",
            rest_of_command!(),
            mysql_flag!(),
        ),
        pick: pick_value_only,
    },
    // openssl_pass
    Rule {
        triggers: &["pass:"],
        also: &[],
        shape: None,
        // `openssl … -passin pass:SECRET` (`env:` and `file:` name where it is).
        pattern: r#"-pass(?:in|out|word)?[\t\x20]+pass:(?P<secret>[^\s"'`;&|<>)]+)"#,
        pick: pick_secret,
    },
    // netrc
    Rule {
        triggers: &["machine"],
        also: &[],
        shape: None,
        // `.netrc`: `machine HOST [login USER] password SECRET`, on one line or several;
        // `machine` may follow a line break escaped in JSON text (`…\nmachine`), which leaves
        // no word boundary before it.
        pattern: concat!(
            r"(?:(?-u:\b)|\\[nrt])machine(?:\s|\\[nrt])+[^\s\\]+",
            r"(?:(?:\s|\\[nrt])+(?:login|account|port)(?:\s|\\[nrt])+[^\s\\]+){0,3}",
            r#"(?:\s|\\[nrt])+password(?:\s|\\[nrt])+(?P<secret>[^\s"'\\]+)"#,
        ),
        pick: pick_secret,
    },
    // user_password_flag
    Rule {
        // `curl` stands for its groups of short flags ending in `u` (`-su`, `-fsSLu`), which
        // hold no `-u` ([`flag_group`]); `http `, `https `, `httpie`, `xh ` and `xhs ` for
        // httpie's and xh's `-a`.
        triggers: &[
            "-u", "--user", "curl", "http ", "https ", "httpie", "xh ", "xhs ",
        ],
        also: &[],
        shape: Some(flag_group),
        // `curl -u user:password`, `--user=user:password`, `--proxy-user`, httpie's
        // `http -a user:password`:
        // keeps the user, unless it is a token itself (`curl -u <token>:x-oauth-basic`,
        // `-u <key>:`), and the colon (`kept`).
        pattern: concat!(
            // `-u` may end a group of short flags (`-su`) or have its value attached
            // (`-ualice:pw`).
            r#"(?:(?:^|[\s"'])(?:-[A-Za-z]*u[\t =]+|-u|--(?:proxy-)?user[\t =]+)"#,
            // httpie's and xh's `-a` (alone or ending a group) and `--auth`, only after their
            // commands, run by name or by path (`/usr/bin/http`, `~/.cargo/bin/xh`):
            // `rsync -a host:path` is no login.
            r#"|(?:^|[\s;&|(]|\\[nrt])(?:[^\s;&|()"'<>\\]*/)?(?:https?|httpie|xhs?)"#,
            same_command!(),
            r#"(?:-[A-Za-z]*a[\t =]*|--auth[\t =]+))"#,
            r#"(?:["'](?P<quser>[^\s:"']*)(?P<qkept>:)(?P<qsecret>[^"'\n]*)"#, // quoted: may hold spaces
            r#"|(?P<user>[A-Za-z0-9._@-]*)(?:(?P<kept>:)(?P<secret>[^\s"']*))?)"#,
        ),
        pick: pick_user_password,
    },
    // curl_proxy_user
    Rule {
        triggers: &["curl"],
        also: &[],
        shape: Some(proxy_flag),
        // curl's `-U user:password` (its proxy's login, as `--proxy-user`), alone or ending a
        // group of short flags (`-sU`), only after curl (`grep -U` is no login): a rule of its
        // own, run on what `user_password_flag` left, so that a `-u` before it is taken too.
        pattern: concat!(
            r#"(?:^|[\s;&|(]|\\[nrt])(?:[^\s;&|()"'<>\\]*/)?curl"#,
            same_command!(),
            r#"-[A-Za-z]*U[\t =]*"#,
            r#"(?:["'](?P<quser>[^\s:"']*)(?P<qkept>:)(?P<qsecret>[^"'\n]*)"#,
            r#"|(?P<user>[A-Za-z0-9._@-]*)(?:(?P<kept>:)(?P<secret>[^\s"']*))?)"#,
        ),
        pick: pick_user_password,
    },
    // bearer
    Rule {
        triggers: &["bearer", "basic", "digest"],
        also: &[],
        // `digest` is a common word (an image's digest): only with `response` after it.
        shape: Some(digest_response),
        // Keeps the word `Bearer`, replaces the token (RFC 6750 token68 alphabet); and
        // `Basic` then the base64 of `user:password` (RFC 7617), whatever names it
        // (`AUTH_HEADER=Basic …`, a header in a log), after a space or a shell's escaped one
        // (`HTTP_AUTH=Basic\ …`, `Basic\\ …` once in JSON text). Of a `Digest` header's
        // parameters (RFC 7616), the `response`, the hash that proves the password; the
        // others (`username`, `realm`, `nonce`, `uri`, `cnonce` …) name who and what, and
        // stay. The response is the hex of a hash (32 digits for MD5, 64 for SHA-256), so
        // prose (`digest response=200`) stays.
        pattern: concat!(
            // httpie's `-a <token> -A bearer` (`--auth … --auth-type=bearer`): a token however
            // short, as after it.
            r#"(?:(?:^|\s|\\[nrt])(?:-a|--auth)[\t =]+["']?"#,
            r#"(?P<ahead>[^-\s"'`;&|<>)][^\s"'`;&|<>)]*)["']?"#,
            same_command!(),
            r#"(?:-A|--auth-type)[\t =]+["']?(?i-u:bearer)(?-u:\b)"#,
            // httpie's `-A bearer -a <token>` (`--auth-type bearer --auth …`).
            r#"|(?-u:\b)(?:(?i-u:bearer)[\t ]+(?:-a|--auth)[\t =]+["']?(?P<flagged>[^\s"'`;&|<>)]+)"#,
            r"|(?P<scheme>(?i-u:bearer|basic))(?:\\{0,2}[\t ])+",
            r"(?P<secret>[A-Za-z0-9._~+/-]+=*)",
            r#"|(?i-u:digest)[\t ][^\n]*?(?-u:\b)(?i-u:response)[\t ]*=[\t ]*\\?"?"#,
            r"(?P<response>[0-9A-Fa-f]{32,})))",
        ),
        pick: pick_bearer,
    },
    // near_name
    Rule {
        triggers: KEYWORDS,
        also: &[],
        shape: Some(beside),
        // A random-looking value beside a secret-looking name with no `=` or `:` between:
        // `STRIPE_KEY      a8Fk…` (a table), `("TWILIO_AUTH_TOKEN", "9f8e…")` (a tuple).
        pattern: r#"(?x)
            (?P<key>[A-Za-z_][A-Za-z0-9_.-]*
                (?i-u:pass|pw|secret|token|auth|cred|key|sig|signature|salt|hmac)
                [A-Za-z0-9_]*)
            \\?["']?
            (?: [\t\x20]+ | [\t\x20]*[,|][\t\x20]* )
            \\?["']?
            (?P<secret>[A-Za-z0-9+/=_.~-]{16,})"#,
        pick: pick_near_name,
    },
    // jwt
    Rule {
        triggers: &["eyJ"],
        also: &[],
        shape: Some(starts_word),
        // header.payload.signature, base64url, the header always being JSON (`{"` -> `eyJ`);
        // up to two more parts cover JWE.
        pattern: concat!(
            token_start!(),
            r"(?P<secret>eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
            r"(?:\.[A-Za-z0-9_-]+){0,2})",
        ),
        pick: pick_secret,
    },
    // vendor_token
    Rule {
        triggers: VENDOR_PREFIXES,
        also: &[],
        shape: Some(starts_word),
        // Credentials whose prefix alone identifies them.
        pattern: concat!(
            token_start!(),
            r"(?P<secret>",
            r"sk-[A-Za-z0-9_-]{20,}", // OpenAI sk-, sk-proj-, sk-svcacct-; Anthropic sk-ant-
            r"|gh[pousr]_[A-Za-z0-9]{30,}", // GitHub classic, OAuth, app, user, refresh
            r"|github_pat_[A-Za-z0-9_]{30,}", // GitHub fine-grained
            // AWS access key id, then the end of a word or a `_` (dropped by `pick_vendor`).
            r"|(?:AKIA|ASIA)[A-Z0-9]{16}(?:(?-u:\b)|_)",
            r"|xox[a-z]-[A-Za-z0-9-]{10,}", // Slack bot, user, app-level, legacy
            r"|xapp-[A-Za-z0-9-]{10,}",     // Slack app-level
            r"|AIza[A-Za-z0-9_-]{35}",      // Google API key
            r"|ya29\.[A-Za-z0-9_-]{20,}",   // Google OAuth access token
            r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}", // Stripe
            r"|whsec_[A-Za-z0-9]{24,}",     // Stripe webhook signing secret
            r"|hf_[A-Za-z0-9]{30,}",        // Hugging Face
            r"|glpat-[A-Za-z0-9_-]{20,}",   // GitLab
            r"|npm_[A-Za-z0-9]{36}",        // npm
            r"|pypi-AgE[A-Za-z0-9_-]{50,}", // PyPI
            r"|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", // SendGrid
            r"|(?:bot)?[0-9]{8,10}:AA[A-Za-z0-9_-]{33}", // Telegram bot
            r"|AGE-SECRET-KEY-1[0-9A-Z]{58}", // age
            r"|dop_v1_[a-f0-9]{64}",        // DigitalOcean
            r"|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", // Shopify
            r"|(?:gsk|r8|lin_api|sntrys|tvly|pplx|xai)[_-][A-Za-z0-9_=+/-]{30,}", // AI and dev APIs
            r"|dapi[a-f0-9]{32}",           // Databricks
            r"|key-[a-f0-9]{32}",           // Mailgun
            r"|hv[sbr]\.[A-Za-z0-9_-]{24,}", // HashiCorp Vault service, batch, recovery
            // Webhook URLs: whoever holds one posts as the app (Slack, Discord).
            r"|hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{20,}",
            r"|discord(?:app)?\.com/api/webhooks/[0-9]{16,21}/[A-Za-z0-9_-]{40,}",
            r")",
        ),
        pick: pick_vendor,
    },
    // vendor_token_glued
    Rule {
        triggers: GLUED_PREFIXES,
        also: &[],
        shape: None,
        // Prefixes no word holds, found even glued to letters or digits (`tokenghp_…`,
        // `keysk-proj-…`, `xAKIA…`). `AKIA` may end a word of capitals (`SLOVAKIA`): glued
        // to a capital or a digit (`upper`), it is taken only as a key id is written (16 of
        // base32's alphabet, then the end of the word). `sk-proj-` may follow `task-`, `disk-`
        // or `ask-` in a name (`task-proj-…`): glued, its body must be written as a key's.
        pattern: concat!(
            r"(?P<upper>[A-Z0-9])?(?P<secret>",
            r"gh[pousr]_[A-Za-z0-9]{36,}",
            r"|github_pat_[A-Za-z0-9_]{82,}",
            r"|sk-ant-api03-[A-Za-z0-9_-]{20,}",
            r"|sk-proj-[A-Za-z0-9_-]{40,}",
            r"|xox[bpas]-[A-Za-z0-9-]{10,}",
            r"|glpat-[A-Za-z0-9_-]{20,}",
            r"|AKIA[A-Z0-9]{16}(?:(?-u:\b)|_)",
            r"|pypi-AgE[A-Za-z0-9_-]{50,}",
            r"|AGE-SECRET-KEY-1[0-9A-Z]{58}",
            r"|dop_v1_[a-f0-9]{64}",
            r")",
        ),
        pick: pick_glued,
    },
    // argv_list
    Rule {
        triggers: &["\"-", "'-"],
        also: &[],
        shape: Some(listed_flag),
        // A command line kept as a list in source code, string literals with commas between
        // (`subprocess.run(["mysql", "-u", "root", "-p…"])`, `exec.Command("psql",
        // "--password", "…")`, `spawn("x", ["--token", "…"])`), over lines too: read as the
        // line it stands for ([`redact_argv_lists`]).
        pattern: concat!(
            r#"(?:\\"[^"\\\n]*\\"|"[^"\\\n]*"|'[^'\\\n]*')"#,
            r#"(?:(?:\s|\\[nrt])*,(?:\s|\\[nrt])*(?:\\"[^"\\\n]*\\"|"[^"\\\n]*"|'[^'\\\n]*'))+"#,
        ),
        pick: whole_match,
    },
    // sql_password
    Rule {
        triggers: &["identified", "password"],
        also: &[],
        shape: Some(sql_literal),
        // A user's password set in SQL: MySQL's and Oracle's `IDENTIFIED BY '…'` (`IDENTIFIED
        // WITH mysql_native_password BY '…'`, `IDENTIFIED BY PASSWORD '…'`) and PostgreSQL's
        // `[ENCRYPTED] PASSWORD '…'` (`CREATE ROLE app LOGIN PASSWORD '…'`, `ALTER USER app
        // WITH PASSWORD '…'`): a quoted literal after the words, with no `=` between (that is
        // an assignment's). A word not quoted after them is prose (`identified by users`).
        // MySQL's `SET PASSWORD [FOR 'a'@'%'] = '…'` (or `= PASSWORD('…')`) has its `=`
        // after a user. A statement written over lines breaks them between its words
        // (`IDENTIFIED BY` then `'…'` on the next).
        pattern: concat!(
            r"(?-u:\b)(?:(?:(?i-u:identified)(?:",
            sql_gap!(),
            r"(?i-u:with)",
            sql_gap!(),
            r"[A-Za-z0-9_]+)?",
            sql_gap!(),
            r"(?i-u:by)(?:",
            sql_gap!(),
            r"(?i-u:password))?|(?i-u:password))",
            sql_gap!(),
            r"|(?i-u:set)",
            sql_gap!(),
            r"(?i-u:password)(?:",
            sql_gap!(),
            r"(?i-u:for)",
            sql_gap!(),
            r"[^=;\n]{1,200}?)?[\t\x20]*=[\t\x20]*(?:(?i-u:password)\([\t\x20]*)?)",
            // A quote inside a literal is written twice (`'it''s'`).
            r#"(?:\\"(?P<esc>[^"\\\n]*)\\"|[Ee]?'(?P<sq>(?:[^'\n]|'')*)'|"(?P<dq>(?:[^"\n]|"")*)")"#,
        ),
        pick: pick_sql_password,
    },
    // pem_private_key_tail: here, not after pem_private_key, so that the indices named below
    // stand
    Rule {
        triggers: &["PRIVATE KEY", "Private-MAC:", "Private-Lines:"],
        also: &[],
        shape: None,
        // A block's last base64 lines and its END line (or a PuTTY key's `Private-MAC:` line),
        // with no BEGIN line before them: the tail of a key file (`tail id_rsa`), or the rest
        // of a key whose BEGIN line a stream or a cut left elsewhere. Lines ending as text ends them or as JSON text escapes them;
        // the last lines may be short (an OpenSSH key's last, a PGP block's `=z+oL` checksum).
        pattern: concat!(
            r"(?:[A-Za-z0-9+/=]{16,}[\t ]*(?:\r?\n|(?:\\\\?r)?\\\\?n)[\t ]*)+",
            r"(?:[A-Za-z0-9+/=]{1,15}[\t ]*(?:\r?\n|(?:\\\\?r)?\\\\?n)[\t ]*){0,2}",
            r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|Private-MAC:[\t ]*[0-9A-Fa-f]+)",
            // A PuTTY key's private part with no first line before it (`tail key.ppk`, the
            // rest of a key whose first line a stream or a cut left elsewhere); above, its
            // last base64 lines and its `Private-MAC:` line.
            "|",
            putty_private!(),
        ),
        pick: whole_match,
    },
    // base64_wrapped
    Rule {
        // Looked for by `base64_runs`: a class run in the set would slow the set's pass.
        triggers: &[],
        also: &[],
        shape: None,
        // Lines of one length, as `base64` wraps them (76) and PEM (64), then a last shorter
        // one: decoded whole (`pick_wrapped`), so a secret across two lines is found.
        pattern: r"(?:[A-Za-z0-9+/]{60,}\r?\n)+[A-Za-z0-9+/]{2,}={0,2}",
        pick: pick_wrapped,
    },
    // base64_line
    Rule {
        triggers: &[],
        also: &[],
        shape: None,
        // A short blob of either alphabet on one line, decoded and looked into
        // (`pick_base64`).
        pattern: r"[A-Za-z0-9+/_-]{20,}={0,2}",
        pick: pick_base64,
    },
];

/// The index of the first rule for base64 blobs, whose triggers are [`base64_runs`].
const BASE64: usize = 25;

/// The indexes of the rules for URLs: in clear (`url_password`, `url_user_token`), then
/// percent-encoded whole (`url_encoded`), whose matches [`redact_encoded_urls`] decodes and
/// hands to the first two.
const URL_PASSWORD: usize = 1;
const URL_USER: usize = 2;
const URL_ENCODED: usize = 3;

/// The index of `password_flag`, whose matches [`redact_password_flags`] looks into.
const PASSWORD_FLAG: usize = 11;

/// The index of `mysql_password`, whose matches [`redact_mysql`] looks into.
const MYSQL: usize = 12;

/// The index of `argv_list`, whose matches [`redact_argv_lists`] reads as command lines.
const ARGV: usize = 22;

/// What an automaton match stands for: a trigger of a rule, or one of its `also` literals.
#[derive(Clone, Copy)]
enum Literal {
    Trigger(usize),
    Also(usize),
}

/// Every rule's literals in one automaton (ASCII case ignored): one pass over a text finds
/// them all. Built in microseconds, where a set of regular expressions takes milliseconds,
/// which a hook (one process a payload) would pay every time.
///
/// Two automata over the same literals, with the same matches: an NFA, built in about a
/// tenth of a millisecond, for a process that scans little (a hook scans one payload of a
/// few KB), and a DFA, about three times faster to search but about half a millisecond of
/// CPU to build (a fifth of a hook's whole cost under `callgrind`), built once this process
/// has scanned [`DFA_AFTER`] bytes (an import, a proxy).
struct Triggers {
    nfa: AhoCorasick,
    dfa: OnceLock<Option<AhoCorasick>>,
    texts: Vec<&'static str>,
    /// Bytes scanned by this process so far.
    scanned: AtomicUsize,
    literals: Vec<Literal>,
}

/// Text scanned before the DFA pays for its building (at about 200 MB/s saved, a megabyte
/// repays half a millisecond).
const DFA_AFTER: usize = 1024 * 1024;

impl Triggers {
    fn build(texts: &[&str], kind: AhoCorasickKind) -> Option<AhoCorasick> {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(kind))
            .build(texts)
            .ok()
    }

    /// The automaton to scan `len` more bytes with.
    fn automaton(&self, len: usize) -> &AhoCorasick {
        // Once built, the DFA is taken without touching the counter, which two threads of an
        // import would otherwise pass back and forth on every string.
        if let Some(dfa) = self.dfa.get() {
            return dfa.as_ref().unwrap_or(&self.nfa);
        }
        let before = self.scanned.fetch_add(len, Ordering::Relaxed);
        if before.saturating_add(len) < DFA_AFTER {
            return &self.nfa;
        }
        self.dfa
            .get_or_init(|| Self::build(&self.texts, AhoCorasickKind::DFA))
            .as_ref()
            .unwrap_or(&self.nfa)
    }
}

static TRIGGERS: LazyLock<Option<Triggers>> = LazyLock::new(Triggers::new);

impl Triggers {
    fn new() -> Option<Triggers> {
        let mut literals = Vec::new();
        let mut texts = Vec::new();
        for (index, rule) in RULES.iter().enumerate() {
            for text in rule.triggers {
                literals.push(Literal::Trigger(index));
                texts.push(*text);
            }
            for text in rule.also {
                literals.push(Literal::Also(index));
                texts.push(*text);
            }
        }
        let nfa = Triggers::build(&texts, AhoCorasickKind::NoncontiguousNFA)?;
        Some(Triggers {
            nfa,
            dfa: OnceLock::new(),
            texts,
            scanned: AtomicUsize::new(0),
            literals,
        })
    }
}

/// The rules whose triggers (and `also` literals, and shape) `s` holds, in rule order.
fn triggered(triggers: &Triggers, s: &str) -> Vec<usize> {
    let bytes = s.as_bytes();
    let (mut hit, mut also) = (0u32, 0u32);
    for m in triggers.automaton(s.len()).find_overlapping_iter(s) {
        match triggers.literals[m.pattern().as_usize()] {
            Literal::Trigger(rule) if hit & (1 << rule) == 0 => {
                let shape = RULES[rule].shape;
                if shape.is_none_or(|looks| looks(bytes, m.start(), m.end())) {
                    hit |= 1 << rule;
                }
            }
            Literal::Also(rule) => also |= 1 << rule,
            Literal::Trigger(_) => {}
        }
    }
    (0..BASE64)
        .filter(|&rule| {
            hit & (1 << rule) != 0 && (RULES[rule].also.is_empty() || also & (1 << rule) != 0)
        })
        .collect()
}

/// A vendor prefix or a JWT where [`token_start!`] lets one begin: not glued to a letter or
/// digit, unless they end an escape of [`token_escapes!`]. Telegram's `:AA` comes after the
/// bot's number and needs no look.
fn starts_word(text: &[u8], start: usize, _end: usize) -> bool {
    let before = &text[..start];
    text[start] == b':'
        || !before.last().is_some_and(u8::is_ascii_alphanumeric)
        || TOKEN_ESCAPES.iter().any(|escape| {
            let len = escape.lead.len() + escape.count;
            before.len() >= len && {
                let (lead, rest) = before[before.len() - len..].split_at(escape.lead.len());
                lead == escape.lead && rest.iter().all(escape.class)
            }
        })
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// After a name's keyword: the rest of the name, a closing quote or bracket, then `=` or `:`,
/// or the name then `=` or `:` escaped (`token%3D…` in a URL, `token\u003d…` in JSON text);
/// what `assignment` needs.
fn assigned(text: &[u8], _start: usize, end: usize) -> bool {
    let mut i = end;
    while i < text.len() && is_name_byte(text[i]) {
        i += 1;
    }
    let escaped = |escape: &[u8]| {
        text.get(i..i + escape.len() + 1).is_some_and(|t| {
            t[..escape.len()].eq_ignore_ascii_case(escape)
                && matches!(t[escape.len()], b'a' | b'A' | b'd' | b'D')
        })
    };
    if escaped(b"%3") || escaped(b"\\u003") {
        return true;
    }
    for closing in [b'\\', b'"', b'\'', b']'] {
        if text.get(i) == Some(&closing) {
            i += 1;
        }
    }
    while matches!(text.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    matches!(text.get(i), Some(b'=' | b':'))
}

/// After a name's keyword: the rest of a header's name, its closing quote, then a comma; or,
/// after a name ending in `auth`, after `login`, after `bind` (`bind_s`), after `connect`
/// (`getConnection`, `Connection`), after `PDO` and after `redis` (`Redis`, `StrictRedis`), the
/// `(` of a login's pair (what `header_pair` needs).
fn paired(text: &[u8], start: usize, end: usize) -> bool {
    let mut i = end;
    let trigger = &text[start..end];
    let connect = trigger.eq_ignore_ascii_case(b"connect");
    if connect || trigger.eq_ignore_ascii_case(b"pdo") || trigger.eq_ignore_ascii_case(b"redis") {
        if connect && text[i..].starts_with(b"ion") {
            i += 3;
        }
        while matches!(text.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        return text.get(i) == Some(&b'(');
    }
    // The rest of a call's name, dotted (`FTP_TLS(`, `Net::FTP.new(`, `Net::SMTP.start(`,
    // `oracledb.connect(`), then its `(`.
    if [b"ftp" as &[u8], b"smtp", b"pop3", b"oracle"]
        .iter()
        .any(|t| trigger.eq_ignore_ascii_case(t))
    {
        while matches!(text.get(i), Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
        {
            i += 1;
        }
        while matches!(text.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        return text.get(i) == Some(&b'(');
    }
    let cred = trigger.eq_ignore_ascii_case(b"cred");
    if cred
        || trigger.eq_ignore_ascii_case(b"auth")
        || trigger.eq_ignore_ascii_case(b"login")
        || trigger.eq_ignore_ascii_case(b"bind")
    {
        if text[i..].starts_with(b"_s") {
            i += 2;
        }
        // `PlainCredentials(`, `NetworkCredential(`.
        if cred && text[i..].starts_with(b"ential") {
            i += b"ential".len();
            if text.get(i) == Some(&b's') {
                i += 1;
            }
        }
        while matches!(text.get(i), Some(b' ' | b'\t' | b'=' | b':')) {
            i += 1;
        }
        if text.get(i) == Some(&b'(') {
            return true;
        }
        i = end;
    }
    while i < text.len() && (text[i].is_ascii_alphanumeric() || text[i] == b'-') {
        i += 1;
    }
    if text.get(i) == Some(&b'\\') {
        i += 1;
    }
    if !matches!(text.get(i), Some(b'"' | b'\'')) {
        return false;
    }
    i += 1;
    while matches!(text.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    text.get(i) == Some(&b',')
}

/// After a name's keyword: the rest of the name, a space, a comma or a bar, then a value of 16
/// token characters (what `near_name` needs).
fn beside(text: &[u8], _start: usize, end: usize) -> bool {
    let mut i = end;
    while i < text.len() && (text[i].is_ascii_alphanumeric() || text[i] == b'_') {
        i += 1;
    }
    let gap = i;
    while matches!(
        text.get(i),
        Some(b' ' | b'\t' | b',' | b'|' | b'\\' | b'"' | b'\'')
    ) {
        i += 1;
    }
    if i == gap {
        return false;
    }
    let value = text[i..]
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"+/=_.~-".contains(&b))
        .count();
    value >= 16
}

/// What `user_password_flag` needs after its trigger: after `curl`, a group of short flags
/// ending in `u` later on its line (`-su`, `-fsSLu`); after httpie's and xh's names, a flag
/// later on its line. `-u` and `--user` need no look.
fn flag_group(text: &[u8], start: usize, end: usize) -> bool {
    let trigger = &text[start..end];
    let line = text[end..]
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    if trigger.eq_ignore_ascii_case(b"curl") {
        return line.windows(2).enumerate().any(|(i, pair)| {
            pair[0].is_ascii_alphabetic()
                && pair[1] == b'u'
                && line[..=i]
                    .iter()
                    .rev()
                    .find(|b| !b.is_ascii_alphabetic())
                    .is_some_and(|&b| b == b'-')
        });
    }
    if trigger.starts_with(b"-") {
        return true;
    }
    // `http `, `https `, `httpie`, `xh `, `xhs `: a command, so not glued to a name before
    // it, unless the name is a line break escaped in JSON text (`\nxh -a …`); a path may come
    // before it (`/usr/bin/http`).
    let before = &text[..start];
    let escaped_break = [b"\\n", b"\\r", b"\\t"]
        .iter()
        .any(|e| before.ends_with(*e));
    (escaped_break || !before.last().is_some_and(|&b| is_name_byte(b))) && line.contains(&b'-')
}

/// What `mysql_password` needs around its trigger: a command's name, so not glued to a name
/// before it (`library`), unless the name is a line break escaped in JSON text (`\nmysql`);
/// then a `-p` (or RAR's `-hp`) later on its line, or on a line a `\` at the end of the last
/// continues it to.
fn attached_p_flag(text: &[u8], start: usize, end: usize) -> bool {
    let before = &text[..start];
    let escaped_break = [b"\\n", b"\\r", b"\\t"]
        .iter()
        .any(|e| before.ends_with(*e));
    let glued = before
        .last()
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_');
    if glued && !escaped_break {
        return false;
    }
    command_holds(text, end, |line| {
        line.windows(2).any(|pair| pair == b"-p") || line.windows(3).any(|w| w == b"-hp")
    })
}

/// What `argv_list` needs before a quoted flag (`"-p`, `'--token`, `\"-p` in JSON text): a
/// comma, or the bracket or parenthesis that opens a list, maybe with spaces and line breaks
/// between, so that it is a list's item.
fn listed_flag(text: &[u8], start: usize, _end: usize) -> bool {
    let mut i = start;
    if i > 0 && text[i - 1] == b'\\' {
        i -= 1;
    }
    loop {
        while i > 0 && text[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        let escaped_break =
            i >= 2 && text[i - 2] == b'\\' && matches!(text[i - 1], b'n' | b'r' | b't');
        if !escaped_break {
            break;
        }
        i -= 2;
    }
    i > 0 && matches!(text[i - 1], b',' | b'[' | b'(' | b'{')
}

/// What `password_flag` needs after `zip` (`unzip`, `gzip`): a `-P` later in its command. Its
/// other triggers need no look.
fn zip_p_flag(text: &[u8], start: usize, end: usize) -> bool {
    if !text[start..end].eq_ignore_ascii_case(b"zip") {
        return true;
    }
    command_holds(text, end, |line| line.windows(2).any(|pair| pair == b"-P"))
}

/// Whether the command after `end` holds what `holds` looks for on one of its lines: its
/// first, and the next while one ends with a `\` that continues it.
fn command_holds(text: &[u8], end: usize, holds: impl Fn(&[u8]) -> bool) -> bool {
    for line in text[end..].split(|&b| b == b'\n') {
        if holds(line) {
            return true;
        }
        if !line.strip_suffix(b"\r").unwrap_or(line).ends_with(b"\\") {
            return false;
        }
    }
    false
}

/// What `positional_password` needs after `net`, `cf` and `vault`: the subcommand that takes
/// a password (`net use`, `net user`, `cf auth`, `vault login`), so that `network` or `cf push`
/// compile nothing; after RMAN's `target`, `auxiliary` and `catalog`, a connection
/// (`user/…@db`) as the next word. Its other triggers need no look.
fn positional_command(text: &[u8], start: usize, end: usize) -> bool {
    let trigger = &text[start..end];
    if [b"target" as &[u8], b"auxiliary", b"catalog"]
        .iter()
        .any(|k| trigger.eq_ignore_ascii_case(k))
    {
        let rest = &text[end..];
        let gap = rest
            .iter()
            .take_while(|&&b| matches!(b, b' ' | b'\t' | b'=' | b'"' | b'\'' | b'\\'))
            .count();
        let word = rest[gap..]
            .split(u8::is_ascii_whitespace)
            .next()
            .unwrap_or_default();
        return word
            .iter()
            .position(|&b| b == b'/')
            .is_some_and(|slash| word[slash..].contains(&b'@'));
    }
    let subcommands: &[&[u8]] = if trigger.eq_ignore_ascii_case(b"net") {
        &[b"use", b"user"]
    } else if trigger.eq_ignore_ascii_case(b"cf") {
        &[b"auth"]
    } else if trigger.eq_ignore_ascii_case(b"vault") {
        &[b"login"]
    } else {
        return true;
    };
    let rest = &text[end..];
    let gap = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    gap > 0
        && subcommands.iter().any(|sub| {
            rest[gap..].starts_with(sub)
                && !rest
                    .get(gap + sub.len())
                    .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

/// What `sql_password` needs after `password`: spaces or a line break, then a quote
/// (`PASSWORD '…'`, `E'…'`, `\"…\"` in JSON text); or `set` before it (`SET PASSWORD FOR …
/// = '…'`). `identified` needs no look.
fn sql_literal(text: &[u8], start: usize, end: usize) -> bool {
    if !text[start..end].eq_ignore_ascii_case(b"password") {
        return true;
    }
    let space = |b: &&u8| matches!(**b, b' ' | b'\t' | b'\r' | b'\n');
    let before = &text[..start];
    let gap_before = before.iter().rev().take_while(space).count();
    let word = &before[..before.len() - gap_before];
    let set = word.len() >= 3 && word[word.len() - 3..].eq_ignore_ascii_case(b"set");
    if gap_before > 0 && set {
        return true;
    }
    let rest = &text[end..];
    let gap = rest.iter().take_while(space).count();
    gap > 0
        && (rest[gap..].starts_with(b"'")
            || rest[gap..].starts_with(b"\"")
            || rest[gap..].starts_with(b"\\\"")
            || rest[gap..].starts_with(b"E'")
            || rest[gap..].starts_with(b"e'"))
}

/// What `curl_proxy_user` needs after `curl`: a group of short flags ending in `U` later on
/// its line (`-U`, `-sU`).
fn proxy_flag(text: &[u8], _start: usize, end: usize) -> bool {
    let line = text[end..]
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    line.windows(2).enumerate().any(|(i, pair)| {
        pair[1] == b'U'
            && (pair[0] == b'-' || pair[0].is_ascii_alphabetic())
            && line[..=i]
                .iter()
                .rev()
                .find(|b| !b.is_ascii_alphabetic())
                .is_some_and(|&b| b == b'-')
    })
}

/// What the `bearer` rule needs after `digest`: `response` later on its line, a parameter of
/// a Digest header. `bearer` and `basic` need no look.
fn digest_response(text: &[u8], start: usize, end: usize) -> bool {
    if !text[start..end].eq_ignore_ascii_case(b"digest") {
        return true;
    }
    let line = text[end..]
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    line.windows(b"response".len())
        .any(|w| w.eq_ignore_ascii_case(b"response"))
}

/// Whether `b` is in either base64 alphabet, the characters of `base64_line`'s runs.
const fn in_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-')
}

static BASE64_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = in_base64(b as u8);
        b += 1;
    }
    table
};

/// Where `base64_line`'s pattern (`[A-Za-z0-9+/_-]{20,}={0,2}`) matches in `text`, as the
/// regex finds it: each run of the alphabet 20 long or longer, with up to two `=` after it.
/// Text is mostly made of such runs (paths, identifiers), so this pass is written by hand.
fn blob_ranges(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        // The run's length is counted without a branch on each byte (text switches between the
        // alphabet and the rest too often for one to be predicted); the one branch is taken
        // when a run reaches 20.
        let mut run = 0;
        while i < bytes.len() {
            run = (run + 1) * usize::from(BASE64_BYTES[usize::from(bytes[i])]);
            i += 1;
            if run == 20 {
                let start = i - 20;
                while i < bytes.len() && BASE64_BYTES[usize::from(bytes[i])] {
                    i += 1;
                }
                let run_end = i;
                while i < bytes.len() && i < run_end + 2 && bytes[i] == b'=' {
                    i += 1;
                }
                return Some(start..i);
            }
        }
        None
    })
}

/// What one pass over a text tells of the base64 rules.
#[derive(Default)]
struct Base64Runs {
    /// A blob of 20 characters or more.
    any: bool,
    /// A blob that may decode to text (the cheap look of [`blob_holds_secret`]).
    may_be_text: bool,
    /// A run of 60 or more ended by a line break (a wrapped blob).
    wrapped: bool,
}

fn base64_runs(s: &str) -> Base64Runs {
    let bytes = s.as_bytes();
    let mut found = Base64Runs::default();
    for range in blob_ranges(s) {
        found.any = true;
        found.may_be_text |=
            blob_candidates(&s[range.clone()]).any(|blob| blob_windows(blob).any(may_be_text));
        found.wrapped |= range.len() >= 60
            && bytes[range.end - 1] != b'='
            && matches!(bytes.get(range.end), Some(b'\n' | b'\r'));
    }
    found
}

/// Each rule's pattern, compiled the first time its trigger is seen: a hook, one process a
/// payload, compiles only what its payload needs.
static PATTERNS: [OnceLock<Option<Regex>>; RULE_COUNT] = [const { OnceLock::new() }; RULE_COUNT];

fn pattern(index: usize) -> Option<&'static Regex> {
    PATTERNS[index]
        .get_or_init(|| Regex::new(RULES[index].pattern).ok())
        .as_ref()
}

/// The second half of a secret broken over two lines, after the first was redacted.
static CONTINUATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?m)\[REDACTED\][\t\x20]*(?:\r?\n|\\n)[\t\x20]*",
        r#"(?P<secret>[A-Za-z0-9+/_-]{16,}={0,2})[\t\x20]*(?:$|\\n|\\r|["'`,;])"#,
    ))
    .ok()
});

/// A password flag of mysql's inside its command, for [`redact_mysql`].
static MYSQL_FLAG: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(concat!(command_gap!(), mysql_flag!())).ok());

/// A password flag of `password_flag`'s commands inside a command, its letter as `flag` (or
/// Samba's `--user`, its `-U`), for [`redact_password_flags`].
static PASSWORD_FLAGS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        command_gap!(),
        r"-(?P<flag>[pawPUukNAX]|-user)[\t\x20]*=?",
        value!()
    ))
    .ok()
});

/// Whether every trigger and pattern compiles (checked by the unit tests).
#[cfg(test)]
pub(super) fn compiled() -> bool {
    TRIGGERS.is_some()
        && CONTINUATION.is_some()
        && MYSQL_FLAG.is_some()
        && PASSWORD_FLAGS.is_some()
        && (0..RULES.len()).all(|i| pattern(i).is_some())
        && RULES[BASE64..].iter().all(|r| r.triggers.is_empty())
        && RULES[..BASE64].iter().all(|r| !r.triggers.is_empty())
}

thread_local! {
    /// How deep inside decoded base64 the scan is: a blob inside a blob is looked into once more,
    /// no further.
    static DEPTH: Cell<u8> = const { Cell::new(0) };
}

/// Redacts secrets inside one string; borrows when nothing matched.
pub(super) fn scan(s: &str) -> Cow<'_, str> {
    // A pattern that failed to compile is a bug the unit tests catch. Fail closed: losing the
    // text is better than writing a credential to disk, and panicking inside a recorder would
    // break the agent it observes.
    let fail_closed = || {
        if s.is_empty() {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(REDACTED.to_owned())
        }
    };
    let Some(triggers) = &*TRIGGERS else {
        return fail_closed();
    };
    // A pass over the text for the rules' literals, and one for base64 runs, tell which rules
    // can fire at all; clean text stops here.
    let mut hits = triggered(triggers, s);
    let blobs = base64_runs(s);
    if blobs.wrapped {
        hits.push(BASE64);
    }
    if blobs.any {
        hits.push(BASE64 + 1);
    }
    if hits.is_empty() {
        return Cow::Borrowed(s);
    }
    let mut out = Cow::Borrowed(s);
    // Rules run in declaration order, each on the output of the previous one, so a broad
    // rule (a whole PEM block, a whole assigned value) wins over a narrower one inside it.
    for index in hits {
        let replaced = if index == BASE64 + 1 {
            // A text an earlier rule changed is looked at again: a blob cut by `[REDACTED]`
            // starts its groups of four elsewhere.
            let changed = matches!(out, Cow::Owned(_));
            (changed || blobs.may_be_text)
                .then(|| redact_blobs(&out))
                .flatten()
        } else {
            let Some(regex) = pattern(index) else {
                return fail_closed();
            };
            run_rule(index, regex, &out)
        };
        if let Some(replaced) = replaced {
            out = Cow::Owned(replaced);
        }
    }
    if let Cow::Owned(text) = &mut out {
        let Some(continuation) = &*CONTINUATION else {
            return fail_closed();
        };
        // A key broken over lines (a terminal's wrap) leaves its second half on a line of its
        // own; each pass takes one more line.
        for _ in 0..8 {
            match apply(pick_continuation, continuation, text) {
                Some(more) => *text = more,
                None => break,
            }
        }
    }
    out
}

/// [`scan`] without triggers: every rule run on every text. What the triggers must never
/// change, checked by the unit tests.
#[cfg(test)]
pub(super) fn scan_every_rule(s: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(s);
    for index in 0..RULES.len() {
        let regex = pattern(index).expect("compiles");
        if let Some(replaced) = run_rule(index, regex, &out) {
            out = Cow::Owned(replaced);
        }
    }
    if let Cow::Owned(text) = &mut out {
        let continuation = CONTINUATION.as_ref().expect("compiles");
        while let Some(more) = apply(pick_continuation, continuation, text) {
            *text = more;
        }
    }
    out
}

/// What rule `index`, whose pattern is `regex`, replaces in `text`; `None` when nothing.
fn run_rule(index: usize, regex: &Regex, text: &str) -> Option<String> {
    match index {
        URL_ENCODED => redact_encoded_urls(regex, text),
        MYSQL => redact_mysql(regex, text),
        ARGV => redact_argv_lists(regex, text),
        PASSWORD_FLAG => redact_password_flags(regex, text),
        _ => apply(RULES[index].pick, regex, text),
    }
}

/// What `password_flag` does with its matches (`regex`: a command up to its last password
/// flag, or a registry credential set by name): the value of every password flag in each goes
/// (`sshpass -p A -p B`, `docker login -p A -p B`: the last is the one used), the flag told by
/// the command (`redis-cli`'s `-a`; its `-p` is a port).
fn redact_password_flags(regex: &Regex, text: &str) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    for caps in regex.captures_iter(text) {
        let Some(command) = caps.get(0) else {
            continue;
        };
        let name = without_escaped_break(command.as_str());
        let starts = |names: &[&str]| names.iter().any(|n| name.starts_with(n));
        // The letters of the command's password flags.
        let flags = if name.starts_with("redis-cli") {
            "a"
        } else if starts(&["smbclient", "rpcclient", "smbcacls"]) {
            "U"
        } else if name.starts_with("ldap") {
            "w"
        } else if starts(&[
            "sqlcmd",
            "bcp",
            "osql",
            "mosquitto_",
            "zip",
            "unzip",
            "ipmitool",
        ]) {
            "P"
        } else if name.starts_with("lftp") {
            "u"
        } else if name.starts_with("ssh-keygen") {
            "NP"
        } else if name.starts_with("openssl") {
            "k"
        } else if name.starts_with("snmp") {
            "AX"
        } else if ["npm", "pnpm", "yarn", "aws", "winrs"]
            .iter()
            .any(|n| name.starts_with(n))
            || name
                .split_whitespace()
                .next()
                .is_some_and(|n| n.contains("freerdp"))
        {
            // A registry credential, AWS's secret key or session token set by name, or winrs's
            // `-p:…`: the value this match ends with.
            if let Some(range) = pick_value_only(&caps).filter(|r| r.start >= copied) {
                out.push_str(&text[copied..range.start]);
                out.push_str(REDACTED);
                copied = range.end;
            }
            continue;
        } else {
            "p"
        };
        let Some(flag_pattern) = &*PASSWORD_FLAGS else {
            // Fail closed, as `scan` does.
            out.push_str(&text[copied..command.start()]);
            out.push_str(REDACTED);
            copied = command.end();
            continue;
        };
        let mut replaced = String::new();
        let mut done = command.start();
        for found in flag_pattern.captures_iter(name) {
            // Samba's `--user` is its `-U`.
            let named = found.name("flag").map(|f| match f.as_str() {
                "-user" => "U",
                short => short,
            });
            if !named.is_some_and(|named| flags.contains(named)) {
                continue;
            }
            let value = match flags {
                "U" => password_after(&found, '%'),
                "u" => password_after(&found, ','),
                _ => pick_value_only(&found),
            };
            // openssl's `-k` takes its value after a space: `-kfile` is another flag.
            let spaced = found
                .name("flag")
                .is_some_and(|f| name[f.end()..].starts_with([' ', '\t']));
            if flags == "k" && !spaced {
                continue;
            }
            let Some(value) = value else {
                continue;
            };
            if found
                .name("bare")
                .is_some_and(|bare| is_prose(bare.as_str()))
            {
                continue;
            }
            let offset = command.end() - name.len();
            let (start, end) = (offset + value.start, offset + value.end);
            replaced.push_str(&text[done..start]);
            replaced.push_str(REDACTED);
            done = end;
        }
        if done != command.start() {
            out.push_str(&text[copied..command.start()]);
            out.push_str(&replaced);
            out.push_str(&text[done..command.end()]);
            copied = command.end();
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// The password of Samba's `-U user%password` (after the `%`) or of lftp's `-u user,password`
/// (after the `,`): the user stays, and a user alone (`-U alice`) asks for it. Judged alone, as
/// `alice%s…` would read as a template.
fn password_after(caps: &Captures<'_>, separator: char) -> Option<Range<usize>> {
    let m = ["dq", "sq", "bare"].iter().find_map(|g| caps.name(g))?;
    let at = m.as_str().find(separator)?;
    let password = &m.as_str()[at + 1..];
    (!password.is_empty() && !is_placeholder(password)).then(|| m.start() + at + 1..m.end())
}

/// Whether a bare value after a password flag is a word of the sentence the flag is
/// mentioned in, not its password (`use zip -P to set a password`, `zip -P is insecure`,
/// `with zip -P, the password shows`).
fn is_prose(value: &str) -> bool {
    // A sentence's punctuation ends a word of it (`run vault login first, then …`).
    let word = value.trim_end_matches([',', '.', ':', ';', '!', '?']);
    value.bytes().all(|b| matches!(b, b',' | b'.' | b':'))
        || is_listed(PROSE_WORDS, &word.to_ascii_lowercase())
}

/// The type a Go program's help (`flag`, `pflag`) writes after a flag that takes a value.
const FLAG_TYPES: &str = "string strings stringArray stringSlice int int64 uint float float64 \
    duration value bytesHex bytesBase64";

/// Words of a sentence that may follow a flag it names, none a password.
const PROSE_WORDS: &str = "\
    to is isn't are was will would can could should must may might does doesn't do the a an \
    and or but nor for with without of on in at as by so if it its this that these those then \
    than when where which while who whose instead also only just flag option argument switch \
    takes sets asks expects gives means reads puts passes shows prints leaks exposes needs \
    first before after again once now";

/// What `mysql_password` does with its matches (`regex`: a mysql command up to its last
/// `-p`): the value of every `-p` in each goes, and of RAR's every `-hp`.
fn redact_mysql(regex: &Regex, text: &str) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    for command in regex.find_iter(text) {
        let name = without_escaped_break(command.as_str());
        let rar = name.starts_with("rar") || name.starts_with("unrar");
        let pick = if rar { pick_value_only } else { pick_p_value };
        let replaced = match &*MYSQL_FLAG {
            Some(flag) => apply(pick, flag, command.as_str()),
            // Fail closed, as `scan` does.
            None => Some(REDACTED.to_owned()),
        };
        if let Some(replaced) = replaced {
            out.push_str(&text[copied..command.start()]);
            out.push_str(&replaced);
            copied = command.end();
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Replaces what `pick` picks in every match of `regex`; `None` when nothing was replaced.
///
/// The next match is looked for from the end of what was picked, not of the match: a match
/// may end with what starts the next secret (an AWS key id ends with the `_` that joins
/// `ASIA…_ASIA…`).
fn apply(
    pick: fn(&Captures<'_>) -> Option<Range<usize>>,
    regex: &Regex,
    text: &str,
) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    let mut changed = false;
    let mut at = 0;
    while at <= text.len() {
        let Some(caps) = regex.captures_at(text, at) else {
            break;
        };
        let Some(whole) = caps.get(0) else {
            break;
        };
        let picked = pick(&caps);
        at = match &picked {
            Some(range) if range.end > whole.start() && range.end < whole.end() => range.end,
            // An empty match moves on by one character.
            _ if whole.is_empty() => {
                whole.end() + text[whole.end()..].chars().next().map_or(1, char::len_utf8)
            }
            _ => whole.end(),
        };
        let Some(range) = picked else {
            continue;
        };
        if text[range.clone()] == *REDACTED || range.start < copied {
            continue;
        }
        out.push_str(&text[copied..range.start]);
        // A separator inside what goes stays, so `user:password` keeps its shape.
        let kept = ["kept", "qkept"]
            .iter()
            .find_map(|g| caps.name(g))
            .filter(|k| range.start < k.start() && k.end() < range.end);
        if let Some(kept) = kept {
            out.push_str(REDACTED);
            out.push_str(kept.as_str());
        }
        out.push_str(REDACTED);
        copied = range.end;
        changed = true;
    }
    if !changed {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

fn whole_match(caps: &Captures<'_>) -> Option<Range<usize>> {
    caps.get(0).map(|m| m.range())
}

fn pick_secret(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = caps.name("secret")?;
    (!is_placeholder(m.as_str())).then(|| m.range())
}

/// A vendor token, without the `_` that may end an AWS key id; Mailgun's `key-` only at a
/// word's start (`cache_key-<md5>` is a hash).
fn pick_vendor(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = caps.name("secret")?;
    let token = m.as_str();
    if caps.name("joined").is_some() && token.starts_with("key-") {
        return None;
    }
    let mut range = pick_secret(caps)?;
    let aws = token.starts_with("AKIA") || token.starts_with("ASIA");
    if aws && token.len() == 21 && token.ends_with('_') {
        range.end -= 1;
    }
    // A webhook URL keeps its host and kind, so that a reader sees where it went.
    if token.starts_with("hooks.") || token.starts_with("discord") {
        let kind = ["/services/", "/workflows/", "/triggers/", "/webhooks/"]
            .iter()
            .find_map(|k| token.find(k).map(|at| at + k.len()));
        if let Some(at) = kind {
            range.start += at;
        }
    }
    Some(range)
}

/// A token glued to what comes before it: `AKIA` after a capital or a digit only as a key id
/// is written, and `sk-proj-` only as a project key is ([`is_openai_project_key_body`]).
fn pick_glued(caps: &Captures<'_>) -> Option<Range<usize>> {
    let token = caps.name("secret")?.as_str();
    let aws = token.starts_with("AKIA");
    if aws && caps.name("upper").is_some() && !is_aws_key_id(token) {
        return None;
    }
    if let Some(body) = token.strip_prefix("sk-proj-")
        && !is_openai_project_key_body(body)
    {
        return None;
    }
    let mut range = pick_secret(caps)?;
    if aws && token.ends_with('_') {
        range.end -= 1;
    }
    Some(range)
}

/// Whether `body`, after a `sk-proj-` glued to a word, is written as OpenAI writes a project
/// key's: holding `T3BlbkFJ` (`OpenAI` in base64, in every key it has made since 2023), or
/// letters of both cases and digits mixed as random characters mix them, a capital or a digit
/// after every one or two small letters. A name in kebab- or camel-case that holds `sk-proj-`
/// (`task-proj-management-JIRA1234-AddLoginFlow`, `disk-proj-Backup2024-01-15T10-00-00Z-Full…`)
/// has its small letters in words, runs of four or five on average.
fn is_openai_project_key_body(body: &str) -> bool {
    if body.contains("T3BlbkFJ") {
        return true;
    }
    let (mut small, mut runs, mut upper, mut digit) = (0, 0, false, false);
    let mut in_run = false;
    for b in body.bytes() {
        upper |= b.is_ascii_uppercase();
        digit |= b.is_ascii_digit();
        let lower = b.is_ascii_lowercase();
        small += usize::from(lower);
        runs += usize::from(lower && !in_run);
        in_run = lower;
    }
    // Random characters of base64's alphabet give runs of under two small letters on average
    // (each next one is small with a chance of 26 in 64); words, of three and more.
    upper && digit && runs > 0 && small < 3 * runs
}

/// Whether `token` (`AKIA` and 16 more, then maybe the `_` after them) is written as AWS
/// writes a key id: its 16 characters are of base32's alphabet (capitals and `2` to `7`).
/// What else holds `AKIA` after a capital (`SLOVAKIA`, `CZECHOSLOVAKIAREPUBLIC2024ABCD`) is
/// rarely followed by exactly 16 of them before its word ends (the pattern's `\b`), and a run
/// holding `0`, `1`, `8` or `9` (a hex or base36 id) never is taken.
fn is_aws_key_id(token: &str) -> bool {
    token.len() >= 20
        && token.as_bytes()[4..20]
            .iter()
            .all(|b| matches!(b, b'A'..=b'Z' | b'2'..=b'7'))
}

/// A secret that looks random.
fn pick_random_secret(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = caps.name("secret")?;
    looks_random(m.as_str()).then(|| m.range())
}

/// A URL's password, unless it is a port and then the query or fragment.
fn pick_url_password(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = caps.name("secret")?;
    let host = caps.name("host").map_or("", |h| h.as_str());
    let after = caps.name("after").map_or("", |a| a.as_str());
    if is_port_then_email(m.as_str(), host, after) {
        return None;
    }
    pick_secret(caps)
}

/// Whether what `url_password` took for a password is a port, then a query or fragment
/// holding an email address: `https://host:8080?email=a@b.c&x=1` has no user and no password,
/// though the `@` of its query reads as the end of one. Such a URL is told from a password of
/// digits then a `?` or `#` (`https://user:12345?x=1@host/`, `…:4242#frag@host`; libpq reads a
/// password up to the `@`) by what an email is written with: a parameter (`email=`) before
/// the `@`, a domain with a dot after it, and then the URL's end or its next parameter (`&`,
/// `#`), never a path, a port or a query (`/`, `:`, `?`) as after a host. Only
/// `scheme://name:1234?k=v@domain.tld` at a URL's end reads both ways, and is kept: a URL
/// parser (WHATWG's, curl's) reads a port there. A URL encoded whole is looked at decoded
/// ([`redact_encoded_urls`]), its `?`, `#` and `&` clear.
fn is_port_then_email(secret: &str, host: &str, after: &str) -> bool {
    let digits = secret.bytes().take_while(u8::is_ascii_digit).count();
    let query = &secret[digits..];
    let domain = host.split('.').filter(|label| !label.is_empty()).count() >= 2
        && !host.starts_with('.')
        && !host.ends_with('.');
    (1..=5).contains(&digits)
        && query.starts_with(['?', '#'])
        && query.contains('=')
        && domain
        && !matches!(after, "/" | ":" | "?" | "@")
}

/// How many times a URL encoded whole is decoded: a redirect inside a redirect inside a
/// redirect is three; eight leaves room and bounds the work.
const URL_DECODINGS: usize = 8;

/// What `url_encoded` does with its matches (`regex`: URLs percent-encoded whole, each to the
/// end of its parameter): each is decoded once, then again, up to [`URL_DECODINGS`] times or
/// until no escape is left, and after each decoding the rules for URLs in clear look into it;
/// what they pick is replaced where it was written, encoded. Every decoding is looked into
/// because a password is found where its own URL comes out clear, and no later: decoded once
/// more, an encoded `/` or space inside it would end it too soon. A reference to a password
/// (`%24DB_PASSWORD`, `%7B%7B…%7D%7D`) is none once decoded, and is kept.
fn redact_encoded_urls(regex: &Regex, text: &str) -> Option<String> {
    let mut secrets: Vec<Range<usize>> = Vec::new();
    for url in regex.find_iter(text) {
        let mut decoded = url.as_str().to_owned();
        // Where each byte of `decoded` was written in `text`.
        let mut spans: Vec<Range<usize>> = (url.start()..url.end()).map(|i| i..i + 1).collect();
        for _ in 0..URL_DECODINGS {
            let Some((next, next_spans)) = decode_ascii_escapes(&decoded, &spans) else {
                break;
            };
            (decoded, spans) = (next, next_spans);
            if !decoded.contains("://") {
                continue;
            }
            for rule in [URL_PASSWORD, URL_USER] {
                let Some(clear) = pattern(rule) else {
                    // Fail closed, as `scan` does.
                    secrets.push(url.range());
                    continue;
                };
                for caps in clear.captures_iter(&decoded) {
                    let Some(picked) = (RULES[rule].pick)(&caps) else {
                        continue;
                    };
                    let secret = fully_decoded(&decoded[picked.clone()]);
                    if picked.is_empty() || is_placeholder(&secret) {
                        continue;
                    }
                    secrets.push(spans[picked.start].start..spans[picked.end - 1].end);
                }
            }
        }
    }
    if secrets.is_empty() {
        return None;
    }
    // Found at several decodings, a secret overlaps itself: overlapping ones are one.
    secrets.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for secret in secrets {
        if secret.start >= copied {
            out.push_str(&text[copied..secret.start]);
            out.push_str(REDACTED);
        }
        copied = copied.max(secret.end);
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// `text` with each `%XX` escape of an ASCII byte decoded once, and where each of its bytes
/// was written (`spans`: where each byte of `text` was); `None` when `text` holds no such
/// escape. Escapes of other bytes (`%C3%A9`) are left as they are, so the text stays UTF-8.
fn decode_ascii_escapes(text: &str, spans: &[Range<usize>]) -> Option<(String, Vec<Range<usize>>)> {
    let bytes = text.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let escape_at = |i: usize| -> Option<u8> {
        if bytes[i] != b'%' {
            return None;
        }
        let high = hex(*bytes.get(i + 1)?)?;
        let low = hex(*bytes.get(i + 2)?)?;
        u8::try_from(high * 16 + low).ok().filter(u8::is_ascii)
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut out_spans = Vec::with_capacity(bytes.len());
    let mut decoded_any = false;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(b) = escape_at(i) {
            out.push(b);
            out_spans.push(spans[i].start..spans[i + 2].end);
            decoded_any = true;
            i += 3;
        } else {
            out.push(bytes[i]);
            out_spans.push(spans[i].clone());
            i += 1;
        }
    }
    let out = String::from_utf8(out).ok()?;
    decoded_any.then_some((out, out_spans))
}

/// `text` decoded as [`redact_encoded_urls`] decodes, as many times.
fn fully_decoded(text: &str) -> String {
    let mut text = text.to_owned();
    let mut spans: Vec<Range<usize>> = (0..text.len()).map(|i| i..i + 1).collect();
    for _ in 0..URL_DECODINGS {
        match decode_ascii_escapes(&text, &spans) {
            Some((next, next_spans)) => (text, spans) = (next, next_spans),
            None => break,
        }
    }
    text
}

/// The password after `-u user:`; and the user too when it is a token (`curl -u <40 hex>:…`,
/// as GitHub's docs write an old token with its `x-oauth-basic` placeholder after it, or a key
/// with no password: `-u <key>:`, `-u <key>`).
fn pick_user_password(caps: &Captures<'_>) -> Option<Range<usize>> {
    let (user, secret) = match (caps.name("quser"), caps.name("qsecret")) {
        (Some(user), Some(secret)) => (user, Some(secret)),
        _ => (caps.name("user")?, caps.name("secret")),
    };
    // `curl -U https://proxy…`: a URL where a login goes, its scheme no user.
    if secret.is_some_and(|s| s.as_str().starts_with("//")) {
        return None;
    }
    // Both go, and [`apply`] keeps the colon between them (`kept`).
    let token_user = looks_random(user.as_str());
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return token_user.then(|| user.range());
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    // `docker run -u 1000:1000` is a uid:gid pair, not a login.
    let uid_gid = all_digits(user.as_str()) && all_digits(secret.as_str());
    match (token_user, uid_gid || is_placeholder(secret.as_str())) {
        (true, true) => Some(user.range()),
        (true, false) => Some(user.start()..secret.end()),
        (false, true) => None,
        (false, false) => Some(secret.range()),
    }
}

fn pick_bearer(caps: &Captures<'_>) -> Option<Range<usize>> {
    if let Some(token) = caps.name("flagged").or_else(|| caps.name("ahead")) {
        return (!is_placeholder(token.as_str())).then(|| token.range());
    }
    if let Some(response) = caps.name("response") {
        return (!is_placeholder(response.as_str())).then(|| response.range());
    }
    let m = caps.name("secret")?;
    let token = m.as_str();
    if caps
        .name("scheme")
        .is_some_and(|s| s.as_str().eq_ignore_ascii_case("basic"))
    {
        // `user:password` in base64; prose (`basic auth`) and paths decode to no such text.
        let credentials = decoded_text(token).is_some_and(|text| {
            text.contains(':') && !text.chars().any(|c| c.is_control() || c.is_whitespace())
        });
        return credentials.then(|| m.range());
    }
    // Prose says "Bearer token" or "Bearer authentication"; real tokens are long or mix in
    // digits.
    let looks_like_token = token.len() >= 20
        || (token.len() >= 8
            && token.bytes().any(|b| b.is_ascii_digit())
            && token.bytes().any(|b| b.is_ascii_alphabetic()));
    // `HTTP_AUTH=bearer /usr/local/bin/serve`: the command after a setting.
    (looks_like_token && !is_path(token)).then(|| m.range())
}

fn pick_assignment(caps: &Captures<'_>) -> Option<Range<usize>> {
    let key = caps.name("key")?.as_str();
    if let Some(escaped) = caps.name("escaped") {
        let after_colon = escaped.as_str().ends_with(['a', 'A']);
        if after_colon && is_file_name(key) {
            return None;
        }
        return escaped_value(caps, name_kind(key));
    }
    let after_colon = caps.name("sep").is_some_and(|s| s.as_str() == ":");
    // `password_reset.rs:142:17` is a place in a file, not a key and its value.
    let line_number = caps
        .name("bare")
        .is_some_and(|v| v.as_str().starts_with(|c: char| c.is_ascii_digit()));
    if after_colon && (is_file_name(key) || (key.contains('.') && line_number)) {
        return None;
    }
    match assigned_kind(key, caps) {
        Name::Plain => None,
        Name::Maybe => random_value(caps),
        kind @ (Name::Secret | Name::SecretOrSetting) => {
            let value = ["scheme", "esc", "dq", "sq", "bt", "bare"]
                .iter()
                .find_map(|g| caps.name(g))?;
            if kind.keeps_setting(value.as_str()) {
                return None;
            }
            // keytool's `-storepass:env NAME` and `-storepass:file path` say where it is.
            let where_it_is =
                after_colon && key.starts_with('-') && is_listed("env file", value.as_str());
            if where_it_is {
                return None;
            }
            // `--auth=alice:…`, as `--auth alice:…` ([`pick_cli_flag`]).
            let auth_flag = key.eq_ignore_ascii_case("--auth")
                && caps.name("sep").is_some_and(|s| s.as_str() == "=");
            let literal = ["dq", "sq", "bare"].iter().find_map(|g| caps.name(g));
            if auth_flag && let Some((range, password)) = literal.and_then(auth_password) {
                return (!password.is_empty() && !is_placeholder(password)).then_some(range);
            }
            pick_value(caps, key, after_colon)
        }
    }
}

/// What an assignment's name says of its value: as [`name_kind`] says, but for `PWD` as
/// [`pwd_kind`] says.
fn assigned_kind(key: &str, caps: &Captures<'_>) -> Name {
    if key != "PWD" {
        return name_kind(key);
    }
    let value = ["esc", "dq", "sq", "bt", "bare"]
        .iter()
        .find_map(|g| caps.name(g))
        .map_or("", |m| m.as_str());
    pwd_kind(value)
}

/// The value after an escaped `=` or `:` (`token%3D…` in a URL, `token\u003d…` in JSON text),
/// up to the escaped `&`, quote or space that ends it, without escaped quotes around it.
fn escaped_value(caps: &Captures<'_>, kind: Name) -> Option<Range<usize>> {
    let m = ["scheme", "esc", "dq", "sq", "bt", "bare"]
        .iter()
        .find_map(|g| caps.name(g))?;
    let value = m.as_str();
    let lower = value.to_ascii_lowercase();
    let start = if lower.starts_with("%22") || lower.starts_with("%27") {
        3
    } else {
        0
    };
    let end = ["%26", "%22", "%27", "%20", "%23", "%2c", "%3b"]
        .iter()
        .filter_map(|ends| lower[start..].find(ends))
        .min()
        .map_or(value.len(), |at| start + at);
    let value = &value[start..end];
    let picked = match kind {
        Name::Plain => false,
        Name::Maybe => looks_random(value),
        Name::Secret | Name::SecretOrSetting => {
            !value.is_empty()
                && !is_placeholder(value)
                && !kind.keeps_setting(value)
                && !lower.starts_with("%24")
                && !lower.starts_with("%7b%7b")
        }
    };
    picked.then(|| m.start() + start..m.start() + end)
}

fn pick_cli_flag(caps: &Captures<'_>) -> Option<Range<usize>> {
    if caps.name("search").is_some() {
        return None;
    }
    let key = caps.name("key")?.as_str();
    let bearer = split_words(key).last().is_some_and(|w| w == "bearer");
    // `--password=…` is an assignment's, judged there.
    if !bearer && caps.name("sep").is_some_and(|s| s.as_str().contains('=')) {
        return None;
    }
    let kind = if bearer { Name::Secret } else { name_kind(key) };
    let value = ["dq", "sq", "bare"].iter().find_map(|g| caps.name(g))?;
    if !matches!(kind, Name::Secret | Name::SecretOrSetting) || kind.keeps_setting(value.as_str()) {
        return None;
    }
    // A flag of one dash is openssl's too (`-password pass:…`, which the `openssl_pass` rule
    // reads; `env:NAME`, `file:path`, `fd:3` and `stdin` say where a password is), or a word of
    // the sentence that names it (`set -password to …`).
    let single = caps.name("single").is_some();
    let names_where = ["pass:", "env:", "file:", "fd:"]
        .iter()
        .any(|p| value.as_str().starts_with(p))
        || value.as_str() == "stdin";
    let prose = caps.name("bare").is_some() && is_prose(value.as_str());
    // X11's `-auth` names a file (`Xvfb :99 -auth /tmp/xauth`, `x11vnc -auth guess`).
    let x_authority = key.eq_ignore_ascii_case("auth")
        && (value.as_str().starts_with(['/', '~', '.']) || value.as_str() == "guess");
    if single && (names_where || prose || x_authority) {
        return None;
    }
    // A flag's type in a program's help (Go's `-token string`, cobra's `--password string`).
    if caps.name("bare").is_some() && is_listed(FLAG_TYPES, value.as_str()) {
        return None;
    }
    if key.eq_ignore_ascii_case("auth")
        && let Some((range, password)) = auth_password(value)
    {
        return (!password.is_empty() && !is_placeholder(password)).then_some(range);
    }
    pick_value(caps, key, false)
}

/// The password of a login given to an `--auth` flag (`http --auth alice:…`, `xh --auth`:
/// httpie's and xh's `curl -u`), and where it is, so that the user stays as `curl -u`'s
/// does; `None` when the value is no `user:password`, or its user is a token itself: then the
/// whole value goes.
fn auth_password(value: regex::Match<'_>) -> Option<(Range<usize>, &str)> {
    let (user, password) = value.as_str().split_once(':')?;
    let login = user
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._@+-".contains(&b));
    (login && !looks_random(user)).then(|| (value.start() + user.len() + 1..value.end(), password))
}

/// The value of a `{"name": …, "value": …}` pair whose name says it is a secret.
fn pick_named_value(caps: &Captures<'_>) -> Option<Range<usize>> {
    match name_kind(caps.name("name")?.as_str()) {
        Name::Plain => None,
        Name::Maybe => random_value(caps),
        kind @ (Name::Secret | Name::SecretOrSetting) => {
            let m = ["esc", "dq", "sq", "bare"]
                .iter()
                .find_map(|g| caps.name(g))?;
            let value = m.as_str();
            let literal = is_listed("null true false none", &value.to_ascii_lowercase());
            let kept = literal || is_placeholder(value) || kind.keeps_setting(value);
            (!value.is_empty() && !kept).then(|| m.range())
        }
    }
}

/// A command's text without the line break escaped in JSON text (`\n`) that may come before
/// its name.
fn without_escaped_break(command: &str) -> &str {
    ["\\n", "\\r", "\\t"]
        .iter()
        .find_map(|escape| command.strip_prefix(escape))
        .unwrap_or(command)
}

/// The value of a `-p`, not of a `-hp`: outside RAR, `-h` and a host that starts with `p`
/// (`mysql -hprod.db`).
fn pick_p_value(caps: &Captures<'_>) -> Option<Range<usize>> {
    caps.name("hp")
        .is_none()
        .then(|| pick_value_only(caps))
        .flatten()
}

/// The value after a command's password flag.
fn pick_value_only(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = ["dq", "sq", "bare"].iter().find_map(|g| caps.name(g))?;
    (!m.as_str().is_empty() && !is_placeholder(m.as_str())).then(|| m.range())
}

/// The arguments of `positional_password` that hold a password (each as [`arg!`] names its
/// groups), but for htpasswd's.
const POSITIONAL_ARGS: &[&str] = &["cf", "obscure", "rclone", "rabbit", "passwd", "secure"];

/// The other groups of `positional_password` that hold a password.
const POSITIONAL_GROUPS: &[&str] = &[
    "vault",
    "netuse_dq",
    "netuse",
    "netuser_dq",
    "netuser",
    "oracle",
    "rman",
    "cifs",
    "piped",
    "piped_sq",
];

/// The password a command takes as an argument of no flag. htpasswd's only in batch mode
/// (`-b`), where it is the third argument, or the second with no file (`-n`).
fn pick_positional(caps: &Captures<'_>) -> Option<Range<usize>> {
    let argument = |name: &str| {
        ["esc", "dq", "sq", "bare"].iter().find_map(|kind| {
            caps.name(&format!("{name}_{kind}"))
                .map(|m| (*kind != "bare", m))
        })
    };
    let (quoted, m) = match caps.name("hflags").map(|f| f.as_str()) {
        Some(flags) if !flags.contains('b') => return None,
        Some(flags) if flags.contains('n') => argument("h2")?,
        Some(_) => argument("h3")?,
        None => POSITIONAL_ARGS
            .iter()
            .find_map(|name| argument(name))
            .or_else(|| {
                POSITIONAL_GROUPS.iter().find_map(|&g| {
                    caps.name(g)
                        .map(|m| (g.ends_with("_dq") || g.starts_with("piped"), m))
                })
            })?,
    };
    let value = m.as_str();
    let before = caps
        .get(0)
        .map_or("", |whole| &whole.as_str()[..m.start() - whole.start()]);
    // `vault login -method userpass`: the value of a flag, and no token after it.
    let flag_value = caps.name("vault").is_some() && {
        let flag = before
            .trim_end()
            .rsplit([' ', '\t'])
            .next()
            .unwrap_or_default();
        let name = flag.trim_start_matches('-');
        flag.starts_with('-') && vault_valued_flags!().split('|').any(|f| f == name)
    };
    // `expdp needs read/write on …`: a pair of words, no user and their password.
    let word_pair = caps.name("oracle").is_some() && {
        let user = before
            .trim_end_matches('/')
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || "_$#".contains(c)))
            .next()
            .unwrap_or_default();
        is_listed(WORD_PAIRS, &format!("{user}/{value}").to_ascii_lowercase())
    };
    // Words of a sentence that names the command (`run cf auth to log in`, `htpasswd -b is
    // not used`).
    let user_is_prose = ["cfuser", "rabbituser", "hfile"]
        .iter()
        .any(|g| caps.name(g).is_some_and(|user| is_prose(user.as_str())));
    let prose = user_is_prose || flag_value || word_pair || (!quoted && is_prose(value));
    (!value.is_empty() && !is_placeholder(value) && !prose).then(|| m.range())
}

/// Pairs of words written with a slash, which read as Oracle's `user/password` after a
/// command's name (`expdp needs read/write on the directory`).
const WORD_PAIRS: &str = "\
    read/write read/only write/read and/or either/or yes/no on/off in/out input/output \
    true/false enable/disable start/stop client/server";

/// The literal a SQL statement sets a user's password to.
fn pick_sql_password(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = ["esc", "sq", "dq"].iter().find_map(|g| caps.name(g))?;
    (!m.as_str().is_empty() && !is_placeholder(m.as_str())).then(|| m.range())
}

/// The value of a header written as a pair in source text. A value of several words is taken
/// only as a scheme and its credential (`("Authorization", "Token …")`): other words after a
/// header's name are prose (`("Password", "is too short")`), and a scheme alone
/// (`"Bearer " + token`) is code building one.
fn pick_header_pair(caps: &Captures<'_>) -> Option<Range<usize>> {
    if let Some(password) = ["resc", "rdq", "rsq"].iter().find_map(|g| caps.name(g)) {
        let value = password.as_str();
        return (!value.is_empty() && !is_placeholder(value)).then(|| password.range());
    }
    if let Some(second) = ["lesc", "ldq", "lsq"].iter().find_map(|g| caps.name(g)) {
        if names_a_login_event(caps) || !binds_a_dn(caps) {
            return None;
        }
        // cx_Oracle's `connect(user, password, dsn)` takes them in this order whatever they
        // look like.
        let password = match caps.name("vfirst") {
            _ if caps.name("oracle").is_some() => second,
            Some(user) => password_after_a_variable(caps, user.as_str(), second)?,
            None => login_password(caps, second)?,
        };
        let value = password.as_str();
        return (!value.is_empty() && !is_placeholder(value)).then(|| password.range());
    }
    let name = caps.name("name")?.as_str();
    let m = ["esc", "dq", "sq"].iter().find_map(|g| caps.name(g))?;
    let value = m.as_str();
    let words: Vec<&str> = value.split_whitespace().collect();
    let scheme = |w: &str| is_listed("basic bearer token", &w.to_ascii_lowercase());
    if value.contains(char::is_whitespace) && !(words.len() == 2 && scheme(words[0])) {
        return None;
    }
    header_holds_secret(name, value).then(|| m.range())
}

/// Whether a login call's name says it is about a login that happened, not one it makes
/// (`record_login("alice", "failed")`, `on_login(…)`, `redirectAfterLogin("alice", "/home")`):
/// its arguments are what happened, never a password.
fn names_a_login_event(caps: &Captures<'_>) -> bool {
    let Some(before) = caps.name("before").or_else(|| caps.name("camel")) else {
        return false;
    };
    split_words(before.as_str())
        .last()
        .is_some_and(|word| is_listed(LOGIN_EVENT_WORDS, word))
}

/// The last words before `login` in the name of a call about a login that happened.
const LOGIN_EVENT_WORDS: &str = "\
    on after before log record track audit notify emit report count last failed failure";

/// Which of a login's arguments is its password, told by where a host is among them: a user
/// then its password (`login("alice", "…")`, `connect(host, "alice", "…")`); a host, a user,
/// then the password (pexpect's `pxssh.login("db.example.com", "alice", "…")`); a connect
/// call's user, its password, then where the database is (cx_Oracle's `connect("scott", "…",
/// "db.example.com/orcl")`); and none in a login call's user then host (`ssh_login("alice",
/// "bastion.example.com")`) or in a host then a user. After a connect call's port, or its
/// first argument spelt as a host, come its user and password, whatever the password looks
/// like (`connect("db.example.com", 22, "alice", "hunter2.com")`).
fn login_password<'t>(caps: &Captures<'t>, second: regex::Match<'t>) -> Option<regex::Match<'t>> {
    let first = caps.name("first")?;
    let third = ["tesc", "tdq", "tsq"].iter().find_map(|g| caps.name(g));
    let after_a_host = caps.name("port").is_some()
        || caps
            .name("host")
            .is_some_and(|h| is_host(h.as_str().trim_matches(['"', '\'', '\\'])));
    // cx_Oracle's `connect("scott", "hunter2.com", "db.example.com/orcl")`: where the database
    // is comes last, after a password spelt as a host.
    let before_a_host = caps.name("connect").is_some() && !after_a_host && is_host(second.as_str());
    if is_host(first.as_str()) && !before_a_host {
        return third;
    }
    if is_host(second.as_str()) && !after_a_host {
        return caps.name("connect").map(|_| first);
    }
    Some(second)
}

/// Whether a `bind` call binds an LDAP entry with its password: `simple_bind_s(who, "…")`
/// always; `bind` and `bind_s` only given a DN (`bind("cn=admin,dc=x", "…")`, `bind_s(dn,
/// "…")`), as JavaScript's `handler.bind(this, "click")` binds something else. True of calls
/// that are no bind.
fn binds_a_dn(caps: &Captures<'_>) -> bool {
    let Some(bind) = caps.name("bind") else {
        return true;
    };
    if bind.as_str().starts_with("simple_") {
        return true;
    }
    match (caps.name("first"), caps.name("vfirst")) {
        (Some(first), _) => first.as_str().contains('='),
        (None, Some(variable)) => split_words(variable.as_str())
            .last()
            .is_some_and(|w| is_listed("dn who", w)),
        (None, None) => false,
    }
}

/// Which of a login's arguments is its password when the first is a variable, not a literal
/// (`ftp.login(user, "…")`, `smtp.login(os.environ["U"], "…")`, `connect(host, 22, user,
/// "…")`): the literal after it, unless that is where to log in (`ssh_login(user,
/// "bastion.example.com")`); the one after that when the variable names a host (pexpect's
/// `login(hostname, "root", "…")`). A connect call's variable must name a user, as other
/// calls take other things there (`mqtt.connect(host, timeout, "a", "b")`); and a method's
/// own object or a web request passed first (`do_login(self, "…")`) is no user.
fn password_after_a_variable<'t>(
    caps: &Captures<'t>,
    variable: &str,
    second: regex::Match<'t>,
) -> Option<regex::Match<'t>> {
    let words = split_words(variable);
    let last = words.last().map_or("", String::as_str);
    let third = ["tesc", "tdq", "tsq"].iter().find_map(|g| caps.name(g));
    if is_listed(HOST_WORDS, last) {
        return third;
    }
    let names_a_user = is_listed(USER_WORDS, last);
    if (caps.name("connect").is_some() && !names_a_user)
        || is_listed(RECEIVER_WORDS, variable)
        || is_host(second.as_str())
    {
        return None;
    }
    Some(second)
}

/// The last word of a variable holding a login's user (`user`, `cfg.db_user`,
/// `os.environ["SMTP_USERNAME"]`).
const USER_WORDS: &str = "user username usr uid login dn who account email principal";

/// The last word of a variable holding where to log in (`hostname`, `cfg.ssh_host`).
const HOST_WORDS: &str = "host hostname server addr address ip";

/// What a call takes first that is neither a user nor a host: a method's own object, a web
/// framework's request.
const RECEIVER_WORDS: &str = "self this cls request req ctx context";

/// The last parts of host names that a login's arguments hold: generic and country domains,
/// and the names of private networks.
const HOST_ENDS: &str = "\
    com net org io dev app ai co cloud edu gov info biz me tech xyz site online us uk de fr eu \
    nl ch se no es it jp cn in ca au br ru local localdomain internal intranet intra lan corp \
    home svc cluster test example";

/// Whether a login's argument is where to log in, never a password: a URL, `localhost`, an
/// IPv4 address, or a host name whose last part is a domain's ([`HOST_ENDS`]), each maybe with
/// a port and a path after it (`db.example.com:1521/orcl`).
fn is_host(value: &str) -> bool {
    if value.contains("://") {
        return true;
    }
    let host = value.split(['/', ':']).next().unwrap_or(value);
    let rest = &value[host.len()..];
    let port_and_path = rest.is_empty()
        || rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'.' | b'_' | b'-'));
    let labels: Vec<&str> = host.split('.').collect();
    let ipv4 = labels.len() == 4 && labels.iter().all(|l| l.parse::<u8>().is_ok());
    let named = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && labels.last().is_some_and(|end| is_listed(HOST_ENDS, end));
    port_and_path && (host == "localhost" || ipv4 || named)
}

/// Whether the value of a header kept as a pair (`["X-Auth", "…"]` in JSON, `("X-OAuth", "…")`
/// in source text) is a secret: judged as a `{"name": …, "value": …}` object's value is,
/// whatever it looks like. Only a header's name counts, and only when the value is no name of
/// the same shape (`["Token", "Expires"]`, `["token", "expires"]`, `["x-api-key",
/// "content-type"]`: a table's head, a list of headers); a word with a digit (`Hunter22`,
/// `hunter22`) is a password, not a name, and so is a word alone after a name of several
/// (`("x-api-key","letmein")`) or after a header that carries a credential
/// (`("authorization", "letmein")`), unless it names a header itself (`["x-api-key",
/// "accept"]`), and a well-known header's name of several words after one of a single word is a list too
/// (`("authorization", "content-type")`).
pub(super) fn header_holds_secret(name: &str, value: &str) -> bool {
    let lowercase = |s: &str| !s.bytes().any(|b| b.is_ascii_uppercase());
    let one_word = |s: &str| !s.contains('-');
    let known = |s: &str| {
        let lower = s.to_ascii_lowercase();
        is_listed(HEADER_WORDS, &lower) || is_listed(HEADER_NAMES, &lower)
    };
    // After a header that carries a credential, a value is no other name for its shape alone
    // (a word, `letmein-now`), only when it names a header (a CORS list: `("authorization",
    // "accept")`, `("x-api-key", "x-tenant-id")`, a custom header's `x-`): such a header is
    // never one of a table's head, whose columns the word could name (`("token", "expires")`).
    let custom = !one_word(value) && value.to_ascii_lowercase().starts_with("x-");
    let same_shape = one_word(value) == one_word(name)
        && (custom || !is_listed(CREDENTIAL_HEADERS, &name.to_ascii_lowercase()));
    let another_name = is_header_name(value)
        && lowercase(value) == lowercase(name)
        && !value.bytes().any(|b| b.is_ascii_digit())
        && (same_shape || known(value));
    if !is_header_name(name) || another_name || value.is_empty() {
        return false;
    }
    let kind = name_kind(name);
    match kind {
        Name::Plain => false,
        Name::Maybe => looks_random(value),
        Name::Secret | Name::SecretOrSetting => {
            !is_placeholder(value) && !kind.keeps_setting(value)
        }
    }
}

fn pick_near_name(caps: &Captures<'_>) -> Option<Range<usize>> {
    let key = caps.name("key")?.as_str();
    let secret = caps.name("secret")?;
    (name_kind(key) != Name::Plain && is_identifier_like(key) && looks_random(secret.as_str()))
        .then(|| secret.range())
}

fn pick_continuation(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = caps.name("secret")?;
    looks_random(m.as_str()).then(|| m.range())
}

/// Wrapped lines of base64 that decode to text holding a secret: lines of one length of 60 to
/// 76 characters, the last no longer. Other runs of lines are left to `pick_base64`, line by
/// line.
fn pick_wrapped(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = caps.get(0)?;
    let lines: Vec<&str> = m
        .as_str()
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let (last, full) = lines.split_last()?;
    let width = full.first()?.len();
    let wrapped =
        (60..=76).contains(&width) && full.iter().all(|l| l.len() == width) && last.len() <= width;
    (wrapped && blob_holds_secret(m.as_str())).then(|| m.range())
}

/// A short blob that decodes to text holding a secret.
fn pick_base64(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = caps.get(0)?;
    blob_candidates(m.as_str())
        .any(blob_holds_secret)
        .then(|| m.range())
}

/// What `base64_line` does, without its regex: every blob of `text` that decodes to text
/// holding a secret replaced; `None` when there was none.
fn redact_blobs(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    for range in blob_ranges(text) {
        if blob_candidates(&text[range.clone()]).any(blob_holds_secret) {
            out.push_str(&text[copied..range.start]);
            out.push_str(REDACTED);
            copied = range.end;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// A blob, the part of it after a word and a dash (`config-<base64>`), and the part after a
/// first `n`, `r` or `t` (the letter of a line break escaped in JSON text, `…\n<base64>`,
/// glued to the blob and shifting its groups of four): what is decoded.
fn blob_candidates(blob: &str) -> impl Iterator<Item = &str> {
    std::iter::once(blob)
        .chain(
            blob.rsplit_once(['-', '_'])
                .map(|(_, tail)| tail)
                .filter(|tail| tail.len() >= 20),
        )
        .chain(
            blob.strip_prefix(['n', 'r', 't'])
                .filter(|tail| tail.len() >= 20),
        )
}

/// Whether a blob decodes to text in which a rule finds a secret.
fn blob_holds_secret(blob: &str) -> bool {
    if DEPTH.get() >= 2 {
        return false;
    }
    if blob.len() <= MAX_BLOB {
        return window_holds_secret(blob);
    }
    // A wrapped blob is looked into as one line, so that its windows start on a group of four.
    let line: Cow<'_, str> = if blob.contains(['\n', '\r']) {
        Cow::Owned(blob.chars().filter(|c| !matches!(c, '\n' | '\r')).collect())
    } else {
        Cow::Borrowed(blob)
    };
    blob_windows(&line).any(window_holds_secret)
}

/// The most of a blob that is looked into: no string longer than an event reaches disk.
const LOOKED_INTO: usize = 1024 * 1024;

/// A blob a window at a time: itself when short; else windows of [`MAX_BLOB`] characters that
/// start on a group of four and overlap by a quarter, so that a line of up to 768 decoded bytes
/// (a `.env` file's `KEY=value`, encoded whole as `base64 -w0` does) is whole in one of them.
fn blob_windows(blob: &str) -> impl Iterator<Item = &str> {
    const STEP: usize = MAX_BLOB / 4 * 3;
    let body = &blob[..blob.len().min(LOOKED_INTO)];
    let starts = if body.len() <= MAX_BLOB {
        0..1
    } else {
        0..(body.len() - MAX_BLOB).div_ceil(STEP) + 1
    };
    starts.map(move |i| {
        let start = i * STEP;
        &body[start..(start + MAX_BLOB).min(body.len())]
    })
}

/// Whether a short blob decodes to text in which a rule finds a secret.
fn window_holds_secret(blob: &str) -> bool {
    // The base64 of text has a telling first character in every group of four; words, paths
    // and hashes made of the same alphabet fail this long before decoding would.
    if !may_be_text(blob) {
        return false;
    }
    let Some(text) = decoded_text(blob) else {
        return false;
    };
    DEPTH.set(DEPTH.get() + 1);
    let found = matches!(scan(&text), Cow::Owned(_));
    DEPTH.set(DEPTH.get() - 1);
    found
}

/// The assigned value, when it looks random (for names that only maybe hold a secret).
fn random_value(caps: &Captures<'_>) -> Option<Range<usize>> {
    let m = ["scheme", "esc", "dq", "sq", "bt", "bare"]
        .iter()
        .find_map(|g| caps.name(g))?;
    looks_random(m.as_str()).then(|| m.range())
}

/// Chooses the assigned value among the pattern's alternatives and decides whether it is data
/// (redact) or code that merely mentions a secret (`token = self.token`, `password: str`).
fn pick_value(caps: &Captures<'_>, key: &str, after_colon: bool) -> Option<Range<usize>> {
    if let Some(m) = caps.name("scheme") {
        // `Digest username="…", …`: a parameter, not a credential; the `bearer` rule takes
        // the `response`.
        let digest = caps
            .name("word")
            .is_some_and(|w| w.as_str().eq_ignore_ascii_case("digest"));
        if digest && m.as_str().contains('=') {
            return None;
        }
        // A word then more on the line, after an unquoted `=`: a shell's command line (a
        // `.env` file's value runs to the end of its line), under a name whose value may be the
        // scheme alone (`HTTP_AUTH`, not `TOKEN` or `Authorization`, which expect a
        // credential after it).
        let shell = caps.name("sep").is_some_and(|s| s.as_str() == "=")
            && caps.name("then").is_some()
            && name_kind(key) == Name::SecretOrSetting;
        let value = m.as_str();
        let kept = value.is_empty() || is_placeholder(value) || follows_scheme(value, shell);
        return (!kept).then(|| m.range());
    }
    for quoted in ["esc", "dq", "sq", "bt"] {
        if let Some(m) = caps.name(quoted) {
            let value = m.as_str();
            return (!value.is_empty() && !is_placeholder(value)).then(|| m.range());
        }
    }
    let m = caps.name("bare")?;
    (!is_code_like(m.as_str(), key, after_colon)).then(|| m.range())
}

/// Whether the word after a scheme (`HTTP_AUTH=basic ./serve`, `Authorization=Bearer && …`)
/// is no credential but what comes next on a command line: a shell operator, a path, or, after
/// an unquoted `=` and followed by more (`shell`: where a shell ends the value at the space), a
/// command's name (`HTTP_AUTH=basic make test`). A credential is written in base64's or a
/// token's alphabet (`Basic dXNlcjpwYXNz`, `Bearer eyJ…`), which holds no shell operator; a `/`
/// may start one (base64's last character), so a path is taken for one only when its parts
/// read as words.
fn follows_scheme(value: &str, shell: bool) -> bool {
    if value.starts_with(['&', '|', '<', '>', '(', ')', '{', '}', '#']) {
        return true;
    }
    if is_path(value) {
        return true;
    }
    // A command's name: a lowercase word, maybe of parts (`docker-compose`). A token of
    // lowercase letters only, and so short, is none a service hands out.
    shell
        && (2..=16).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.ends_with(|c: char| c.is_ascii_lowercase())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || matches!(b, b'-' | b'_'))
}

/// Whether `value` is a file's path (`./serve`, `../bin/x`, `~/bin/x`, `/usr/bin/serve`):
/// written in a path's characters, each of its parts a word, a number or a name, never a mix
/// of capitals and digits as a token is, nor random-looking all together.
fn is_path(value: &str) -> bool {
    let Some(rest) = ["./", "../", "~/", "/"]
        .iter()
        .find_map(|start| value.strip_prefix(start))
    else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let wordy = |part: &&str| {
        let upper = part.bytes().any(|b| b.is_ascii_uppercase());
        let digit = part.bytes().any(|b| b.is_ascii_digit());
        let token_like = upper && digit;
        !token_like && !looks_random(part)
    };
    !parts.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
        && parts.iter().all(wordy)
        && !looks_random(&parts.concat())
}

/// A reference to a secret rather than the secret: `$TOKEN`, `${{ secrets.X }}`, `{{ .pw }}`;
/// or a stand-in for one in documentation and examples: `your_key_here`, `<api-token>`,
/// `xxxxxxxx`, `changeme`.
pub(super) fn is_placeholder(value: &str) -> bool {
    // `ghp_xxxxxxxx`, `gho_****` (as `gh auth status` shows a token), `********`.
    let masked =
        |s: &str| s.len() >= 3 && s.bytes().all(|b| matches!(b, b'x' | b'X' | b'*' | b'.'));
    if value.starts_with('$')
        || value.starts_with("{{")
        || value.starts_with("%(")
        || value == REDACTED
        || (value.starts_with('<') && value.ends_with('>'))
        || masked(value)
        || value.rsplit(['_', '-']).next().is_some_and(masked)
        || is_template(value)
    {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    is_listed(PLACEHOLDER_WORDS, &lower)
        || ((lower.starts_with("your") || lower.starts_with("my"))
            && ["key", "token", "secret", "password", "here"]
                .iter()
                .any(|end| lower.ends_with(end)))
}

/// Whether a value fills in a variable (`f"Bearer {token}"`, `"#{api_key}"`, `"%s"`): code that
/// builds a secret, not the secret.
fn is_template(value: &str) -> bool {
    if value.contains("%s") {
        return true;
    }
    value.match_indices('{').any(|(start, _)| {
        value[start + 1..]
            .split_once('}')
            .is_some_and(|(inside, _)| {
                !inside.is_empty()
                    && inside.bytes().all(|b| {
                        b.is_ascii_alphanumeric()
                            || matches!(b, b'_' | b'.' | b'[' | b']' | b'\'' | b'"')
                    })
            })
    })
}

/// Values that stand in for a secret in examples; GitHub's `x-oauth-basic` is the password
/// its docs write after a token as a URL's user (`https://<token>:x-oauth-basic@github.com`).
const PLACEHOLDER_WORDS: &str = "\
    changeme change_me replace_me replaceme placeholder example dummy redacted secret \
    password token todo tbd x-oauth-basic";

/// The headers whose name is one word (RFC 9110 and friends): a list of headers' names may
/// pair one with a name of several words.
const HEADER_WORDS: &str = "\
    accept age allow authorization connection cookie date dnt etag expect expires forwarded \
    from host link location origin pragma prefer priority range referer refresh server te \
    trailer upgrade vary via warning baggage traceparent tracestate";

/// The headers that carry a credential: a word alone after one is its value, unless the
/// word is a header's name ([`header_holds_secret`]).
const CREDENTIAL_HEADERS: &str =
    "authorization proxy-authorization x-api-key api-key cookie x-auth-token";

/// Headers' names of several words that a list of headers holds beside a name of one word
/// (a CORS list: `("authorization", "content-type")`): another name, never a password.
const HEADER_NAMES: &str = "\
    accept-encoding accept-language accept-ranges access-control-allow-credentials \
    access-control-allow-headers access-control-allow-methods access-control-allow-origin \
    access-control-expose-headers access-control-max-age access-control-request-headers \
    access-control-request-method cache-control content-disposition content-encoding \
    content-language content-length content-range content-security-policy content-type \
    if-match if-modified-since if-none-match if-unmodified-since keep-alive last-modified \
    proxy-authorization referrer-policy retry-after sentry-trace set-cookie \
    strict-transport-security transfer-encoding user-agent www-authenticate x-amz-date \
    x-api-key x-auth-token x-content-type-options x-correlation-id x-csrf-token \
    x-forwarded-for x-forwarded-host x-forwarded-proto x-frame-options x-real-ip x-request-id \
    x-requested-with x-xsrf-token";

/// Words that follow `token =` or `password:` in source code without being a secret.
const CODE_WORDS: &str =
    "true false null none nil undefined self this new match if await impl dyn mut ref";

/// Type names after `name:` in Rust, Python, TypeScript, Go and friends.
const TYPE_WORDS: &str = "\
    str string bytes bytearray int integer float double long number bool boolean any \
    unknown object char byte rune usize isize u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 \
    f32 f64 uint uint8 uint16 uint32 uint64 int8 int16 int32 int64";

/// Whether an unquoted assigned value reads as source code rather than a literal secret.
fn is_code_like(value: &str, key: &str, after_colon: bool) -> bool {
    if value.starts_with(REDACTED) {
        // Left over from an earlier rule redacting the start of this value: finish the job.
        return false;
    }
    if is_placeholder(value)
        || value.starts_with(|c: char| "%{[(<*&@=:!?#~".contains(c))
        || value.contains(['(', '['])
        || value.contains("::")
    {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    if is_listed(CODE_WORDS, &lower) {
        return true;
    }
    // `password=password`, `token = token`, `self.api_key = api_key`.
    let squashed: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    let key_words = split_words(key);
    if key_words.concat() == squashed || key_words.last().is_some_and(|w| *w == squashed) {
        return true;
    }
    // `self.token`, `config.api_key`, `process.env.API_KEY`: member access, not a literal.
    let is_ident = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if value.contains('.') && value.split('.').all(is_ident) && !is_vault_token(value) {
        return true;
    }
    // After a colon, `String`, `SecretKey` or `str` is a type annotation. A capitalised
    // password made of letters only is missed here; one with a digit or symbol is not.
    after_colon
        && (is_listed(TYPE_WORDS, &lower)
            || (value.starts_with(|c: char| c.is_ascii_uppercase())
                && value.chars().all(|c| c.is_ascii_alphabetic())))
}

/// Whether `value` is written as Vault's tokens were before 1.10: `s.` (a service token), `b.`
/// (a batch one) or `r.` (a recovery one), then 24 random characters; member access in code
/// (`s.something`) names no such random field.
fn is_vault_token(value: &str) -> bool {
    value.split_once('.').is_some_and(|(kind, body)| {
        matches!(kind, "s" | "b" | "r")
            && body.len() >= 24
            && body.bytes().all(|b| b.is_ascii_alphanumeric())
            && looks_random(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nfa_and_the_dfa_find_the_same_literals() {
        let triggers = Triggers::new().unwrap();
        let dfa = Triggers::build(&triggers.texts, AhoCorasickKind::DFA).unwrap();
        let mut texts: Vec<String> = triggers
            .texts
            .iter()
            .flat_map(|t| [t.to_uppercase(), format!("x{t}y {t}{t}"), t.to_lowercase()])
            .collect();
        texts.push(include_str!("../../tests/fixtures/secrets/plants.json").to_owned());
        texts.push(texts.concat());
        let found = |a: &AhoCorasick, text: &str| -> Vec<(usize, usize, usize)> {
            a.find_overlapping_iter(text)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect()
        };
        for text in &texts {
            assert_eq!(found(&triggers.nfa, text), found(&dfa, text), "{text}");
        }
    }

    proptest::proptest! {
        /// The hand-written pass finds what `base64_line`'s regex finds, in any text.
        #[test]
        fn blob_ranges_are_the_base64_line_patterns_matches(
            text in "[Aa0+/_=\\-\\n é]{0,120}",
            repeat in 1usize..30,
        ) {
            // Long runs are what the rule is about: stretch some characters into them.
            let text: String = text
                .chars()
                .flat_map(|c| std::iter::repeat_n(c, if c == 'A' { repeat } else { 1 }))
                .collect();
            let regex = pattern(BASE64 + 1).unwrap();
            let by_regex: Vec<_> = regex.find_iter(&text).map(|m| m.range()).collect();
            proptest::prop_assert_eq!(blob_ranges(&text).collect::<Vec<_>>(), by_regex);
        }
    }

    proptest::proptest! {
        /// `starts_word` (the triggers) lets a token begin after what `token_start!` (the
        /// patterns) lets one follow: the escapes are one list, and this checks the rest.
        #[test]
        fn starts_word_reads_token_start(before in "[\\\\%unrtxX0-9a-fA-FgG_ :=\"-]{0,8}") {
            let regex = Regex::new(concat!(token_start!(), r"ghp_\z")).unwrap();
            let text = format!("{before}ghp_");
            proptest::prop_assert_eq!(
                starts_word(text.as_bytes(), before.len(), text.len()),
                regex.is_match(&text),
                "{:?}", text
            );
        }
    }

    #[test]
    fn starts_word_reads_every_escape_as_token_start_does() {
        let regex = Regex::new(concat!(token_start!(), r"ghp_\z")).unwrap();
        for before in [
            r"\n", r"\r", r"\t", r"\b", r"a\n", r"\u003d", r"\u003D", r"\u003g", r"\u03d", r"\x3d",
            r"\x3", r"%3D", r"%2f", r"%2g", r"x%22", "x", "_", "-", "", "1",
        ] {
            let text = format!("{before}ghp_");
            assert_eq!(
                starts_word(text.as_bytes(), before.len(), text.len()),
                regex.is_match(&text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_blob_is_redacted_by_the_hand_written_pass_as_by_the_rule() {
        // `password=hunter2` and `OPENAI_API_KEY=sk-…` in base64, alone, after a word and a
        // dash, padded, and beside clean runs (a path, a hash).
        for text in [
            "cGFzc3dvcmQ9aHVudGVyMg==",
            "config-cGFzc3dvcmQ9aHVudGVyMg== and /usr/local/lib/python3.11/site-packages",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 cGFzc3dvcmQ9aHVudGVyMg",
            "T1BFTkFJX0FQSV9LRVk9c2stcHJvai1hYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3",
        ] {
            assert_eq!(scan(text), scan_every_rule(text), "{text}");
            assert!(matches!(scan(text), Cow::Owned(_)), "{text}");
        }
    }

    #[test]
    fn the_dfa_is_built_once_a_megabyte_was_scanned() {
        let triggers = Triggers::new().unwrap();
        assert!(std::ptr::eq(
            triggers.automaton(4096),
            &raw const triggers.nfa
        ));
        assert!(triggers.dfa.get().is_none());
        assert!(!std::ptr::eq(
            triggers.automaton(DFA_AFTER),
            &raw const triggers.nfa
        ));
        assert!(triggers.dfa.get().is_some_and(Option::is_some));
    }
}
