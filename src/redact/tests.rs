//! Unit tests of redaction: each kind of secret, in text and in JSON, and ordinary content left alone.

use std::borrow::Cow;
use std::time::Duration;

use regex::Regex;
use serde_json::json;

use super::names::is_sensitive_key;
use super::{REDACTED, redact_str, redact_value, rules};

// Fake secrets are assembled at run time so that this file holds no token-shaped literal
// for secret scanners to flag.
fn fake(prefix: &str, body: &str, repeat: usize) -> String {
    format!("{prefix}{}", body.repeat(repeat))
}
fn openai() -> String {
    fake("sk-", "Ab3dEf6hIj9kLm2n", 3)
}
fn openai_project() -> String {
    fake("sk-proj-", "Xy_9-Qw8Er7Ty6Ui", 6)
}
fn anthropic() -> String {
    fake("sk-ant-api03-", "Zx8Cv7Bn6Mq5Wr4_", 6)
}
fn github(prefix: &str) -> String {
    fake(prefix, "a1B2c3D4e5F6", 3)
}
fn github_pat() -> String {
    fake("github_pat_", "11ABCDEFG0a1b2c3d4e5f6_", 3)
}
fn aws_key_id(prefix: &str) -> String {
    fake(prefix, "Z7Q4", 4)
}
fn aws_secret() -> String {
    fake("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCY", 3)[..40].to_owned()
}
fn slack(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}-{}",
        "1234567890",
        "9876543210",
        fake("", "aB3dE", 5)
    )
}
fn jwt() -> String {
    format!(
        "eyJhbGciOiJIUzI1NiJ9.{}.{}",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ",
        fake("", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV", 1)
    )
}
fn pem() -> String {
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n{}\n-----END RSA PRIVATE KEY-----",
        fake("MIIEpAIBAAKCAQEA", "x7Yz9Ab", 7),
        fake("", "Qr5St6Uv", 8)
    )
}

/// Redacts and asserts that `secret` is gone and `kept` pieces survive.
#[track_caller]
fn check(input: &str, secret: &str, kept: &[&str]) -> String {
    let out = redact_str(input).into_owned();
    assert!(!out.contains(secret), "{secret:?} survived in {out:?}");
    assert!(out.contains(REDACTED), "nothing redacted in {out:?}");
    for k in kept {
        assert!(out.contains(k), "{k:?} lost from {out:?}");
    }
    out
}

#[test]
fn all_patterns_compile() {
    assert!(rules::compiled(), "a pattern in RULES failed to compile");
    for (index, rule) in rules::RULES.iter().enumerate() {
        assert!(
            Regex::new(rule.pattern).is_ok(),
            "rule #{index} does not compile"
        );
    }
}

#[test]
fn sensitive_keys_are_recognised() {
    for key in [
        "password",
        "Password",
        "PASSWORD",
        "passwd",
        "pwd",
        "Pwd",
        "db_pwd",
        "secret",
        "client_secret",
        "clientSecret",
        "token",
        "Token",
        "access_token",
        "accessToken",
        "refresh_token",
        "refresh-token",
        "api_key",
        "apiKey",
        "apikey",
        "API_KEY",
        "x-api-key",
        "X-Api-Key",
        "authorization",
        "Authorization",
        "Proxy-Authorization",
        "auth_token",
        "X-Auth-Token",
        "private_key",
        "privateKey",
        "credentials",
        "cookie",
        "Set-Cookie",
        "session_token",
        "sessionToken",
        "GITHUB_TOKEN",
        "db_password",
        "password_hash",
        "mysql_pass",
        "aws_secret_access_key",
        "ADMIN_PW",
        "pw",
        "adminPw",
        "SMTP_CREDS",
        "db_cred",
        "creds",
        "DB_PASSWD",
        "MYSQL_PWD",
        "GOOGLE_CREDENTIALS",
        "ADMIN_PASSCODE",
    ] {
        assert!(is_sensitive_key(key), "{key} should be sensitive");
    }
}

#[test]
fn counter_and_metadata_keys_are_kept() {
    for key in [
        "tokens",
        "input_tokens",
        "output_tokens",
        "max_tokens",
        "maxTokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "token_count",
        "tokenCount",
        "total_tokens",
        "max_token",
        "token_type",
        "password_file",
        "tokenizer",
        "author",
        "session_id",
        "key",
        "pass",
        "passed",
        "bypass",
        "PWD",
        "OLDPWD",
        "PWDEBUG",
        "PW_TEST_HTML_REPORT_OPEN",
        "ADMIN_PW_FILE",
        "CREDS_PATH",
        "incredible",
        "credit",
        "cwd",
        "",
    ] {
        assert!(!is_sensitive_key(key), "{key} should not be sensitive");
    }
}

#[test]
fn values_under_sensitive_keys_are_blanked_whatever_their_type() {
    let mut v = json!({
        "password": "hunter2",
        "pin_password": 1234,
        "credentials": {"user": "bob", "pass": "x"},
        "api_keys": ["a", "b"],
        "Authorization": "Basic Ym9iOmh1bnRlcjI=",
        "token": null,
        "secret": false,
        "client_secret": "",
        "usage": {"input_tokens": 12, "output_tokens": 34, "max_tokens": 1024,
                  "cache_read_input_tokens": 5, "token_count": 7, "total_tokens": 58},
        "tokens": 99,
    });
    assert!(redact_value(&mut v));
    assert_eq!(
        v,
        json!({
            "password": REDACTED,
            "pin_password": REDACTED,
            "credentials": REDACTED,
            "api_keys": REDACTED,
            "Authorization": REDACTED,
            "token": null,
            "secret": false,
            "client_secret": "",
            "usage": {"input_tokens": 12, "output_tokens": 34, "max_tokens": 1024,
                      "cache_read_input_tokens": 5, "token_count": 7, "total_tokens": 58},
            "tokens": 99,
        })
    );
    // Idempotent, and reports no change the second time.
    assert!(!redact_value(&mut v));
}

#[test]
fn name_value_pairs_are_redacted() {
    let mut v = json!({"env": [
        {"name": "OPENAI_API_KEY", "value": "abc123"},
        {"name": "HOME", "value": "/home/bob"},
    ]});
    assert!(redact_value(&mut v));
    assert_eq!(
        v,
        json!({"env": [
            {"name": "OPENAI_API_KEY", "value": REDACTED},
            {"name": "HOME", "value": "/home/bob"},
        ]})
    );
}

#[test]
fn openai_keys() {
    let (a, b) = (openai(), openai_project());
    check(&format!("key is {a}."), &a, &["key is ", "."]);
    check(&format!("OPENAI={b}"), &b, &[]);
}

#[test]
fn anthropic_keys() {
    let k = anthropic();
    check(
        &format!("curl -H 'x-api-key: {k}' https://api"),
        &k,
        &["curl", "https://api"],
    );
    check(&format!("use {k} now"), &k, &["use ", " now"]);
}

#[test]
fn github_tokens() {
    for prefix in ["ghp_", "gho_", "ghs_", "ghu_", "ghr_"] {
        let t = github(prefix);
        check(&format!("git push with {t}"), &t, &["git push with "]);
    }
    let pat = github_pat();
    check(&format!("token {pat}"), &pat, &[]);
}

#[test]
fn aws_access_key_ids() {
    for prefix in ["AKIA", "ASIA"] {
        let id = aws_key_id(prefix);
        check(&format!("id {id} region us-east-1"), &id, &["us-east-1"]);
    }
}

#[test]
fn aws_secret_access_keys() {
    let s = aws_secret();
    assert_eq!(s.len(), 40);
    check(
        &format!("aws_secret_access_key = {s}\nregion = eu"),
        &s,
        &["region = eu"],
    );
    check(
        &format!("export AWS_SECRET_ACCESS_KEY={s}"),
        &s,
        &["AWS_SECRET_ACCESS_KEY="],
    );
    check(&format!("AWS_SECRET_ACCESS_KEY: {s}"), &s, &[]);
    check(
        &format!(r#"{{"SecretAccessKey": "{s}"}}"#),
        &s,
        &["SecretAccessKey"],
    );
}

#[test]
fn slack_tokens() {
    for prefix in ["xoxb", "xoxp", "xoxa", "xoxs", "xapp"] {
        let t = slack(prefix);
        check(&format!("SLACK={t} run"), &t, &[" run"]);
        check(&format!("slack {t}"), &t, &["slack "]);
    }
}

#[test]
fn jwts() {
    let t = jwt();
    check(&format!("session: {t}"), &t, &[]);
    check(&format!("cookie-less jwt {t} end"), &t, &[" end"]);
}

#[test]
fn bearer_tokens_keep_the_scheme() {
    let out = check(
        "Authorization: Bearer abc123def456ghi",
        "abc123def456ghi",
        &["Bearer"],
    );
    assert_eq!(out, "Authorization: Bearer [REDACTED]");
    let out = check(
        "curl -H 'Authorization: bearer tok_9f8e7d6c' x",
        "tok_9f8e7d6c",
        &["bearer", "x"],
    );
    assert!(out.starts_with("curl -H 'Authorization: bearer [REDACTED]'"));
    assert_eq!(
        redact_str("send it as bearer xyz98765abc"),
        "send it as bearer [REDACTED]"
    );
    // The word in prose, and shell variables, are not tokens.
    for clean in [
        "use a Bearer token here",
        "Bearer authentication",
        "-H \"Bearer $TOKEN\"",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

/// A made-up PuTTY key (`.ppk`) of version `version`: its private lines hold `Pv7Kq2Lm`, its
/// public lines `Pub0Lic9`.
fn ppk(version: u8) -> String {
    let derivation = if version == 3 {
        "Key-Derivation: Argon2id\nArgon2-Memory: 8192\nArgon2-Passes: 21\n\
         Argon2-Parallelism: 1\nArgon2-Salt: 0a1b2c3d4e5f60718293a4b5c6d7e8f9\n"
    } else {
        ""
    };
    format!(
        "PuTTY-User-Key-File-{version}: ssh-rsa\nEncryption: none\nComment: rsa-key-20240101\n\
         Public-Lines: 2\n{}\n{}\n{derivation}Private-Lines: 3\n{}\n{}\n{}\n\
         Private-MAC: {}",
        fake("AAAAB3NzaC1yc2EAAAADAQABAAABAQ", "Pub0Lic9", 4),
        fake("", "Pub0Lic9", 3),
        fake("AAABAQCx", "Pv7Kq2Lm", 7),
        fake("", "Pv7Kq2Lm", 8),
        fake("", "Pv7Kq2Lm", 2),
        fake("", "0f1e2d3c", 5)
    )
}

#[test]
fn putty_private_keys() {
    for version in [2, 3] {
        let key = ppk(version);
        assert_eq!(
            redact_str(&format!("before\n{key}\nafter")),
            "before\n[REDACTED]\nafter"
        );
        // As escaped JSON text, cut off before its MAC, and its private part alone.
        check(&key.replace('\n', "\\n"), "Pv7Kq2Lm", &[]);
        let cut = &key[..key.find("Private-MAC").unwrap() - 30];
        check(cut, "Pv7Kq2Lm", &[]);
        let private = &key[key.find("Private-Lines").unwrap()..];
        assert_eq!(
            redact_str(&format!("$ tail key\n{private}")),
            "$ tail key\n[REDACTED]"
        );
        // Its last lines and MAC, the rest of a key whose start a stream left elsewhere.
        let rest = &key[key.find("Private-Lines").unwrap() + 40..];
        check(rest, "Pv7Kq2Lm", &[]);
        // As a list of its lines.
        let mut lines = json!(key.lines().collect::<Vec<_>>());
        assert!(redact_value(&mut lines));
        let text = lines.to_string();
        assert!(
            !text.contains("Pv7Kq2Lm") && !text.contains("0f1e2d3c"),
            "{text}"
        );
        assert!(text.contains("Pub0Lic9"), "{text}");
    }
    // Prose about the format stays.
    for prose in [
        "A .ppk file starts with PuTTY-User-Key-File-3: ssh-ed25519 on its first line.",
        "PuTTY-User-Key-File-2 keys are converted with puttygen; Private-Lines counts lines.",
    ] {
        assert_eq!(redact_str(prose), prose);
    }
}

#[test]
fn pem_private_key_blocks() {
    let key = pem();
    let input = format!("before\n{key}\nafter");
    let out = redact_str(&input);
    assert_eq!(out, "before\n[REDACTED]\nafter");
    for kind in ["EC ", "OPENSSH ", "ENCRYPTED ", ""] {
        let k = key.replace("RSA ", kind);
        assert_eq!(redact_str(&k), REDACTED, "{kind}");
    }
    // As escaped JSON text (cat of a service-account file) and cut off before its END.
    let escaped = format!("\"private_key\": \"{}\\n\"", key.replace('\n', "\\n"));
    check(&escaped, "MIIEpAIBAAKCAQEA", &["\"private_key\": "]);
    let truncated = &key[..key.len() / 2];
    check(truncated, "MIIEpAIBAAKCAQEA", &[]);
    // Its tail with no BEGIN line (`tail id_rsa`, the rest of a key streamed after its
    // start), as text and as escaped JSON text; the END line alone is no secret.
    let tail = &key[key.find('\n').unwrap() + 20..];
    let out = check(
        &format!("$ tail key\n{tail}\nok"),
        "Qr5St6Uv",
        &["$ tail key\n", "\nok"],
    );
    assert_eq!(out, "$ tail key\n[REDACTED]\nok");
    check(&tail.replace('\n', "\\n"), "Qr5St6Uv", &[]);
    let end = "see -----END RSA PRIVATE KEY----- here";
    assert_eq!(redact_str(end), end);
    // With a short last line (an OpenSSH key's), and a PGP block's checksum line.
    let ssh = "AAAEC3Bx8lEGs2bRmN0k4Q7vTf1uWzYj\nQFBgc=\n-----END OPENSSH PRIVATE KEY-----";
    assert_eq!(
        redact_str(&format!("$ tail -n 3 key\n{ssh}")),
        "$ tail -n 3 key\n[REDACTED]"
    );
    let pgp = "lQOYBF8x9uIBCADk3Pn4aQ0b7Zr2c\n=z+oL\n-----END PGP PRIVATE KEY BLOCK-----";
    assert_eq!(redact_str(pgp), REDACTED);
    // Public keys and certificates are not secrets.
    let public = "-----BEGIN PUBLIC KEY-----\n\
                  MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n\
                  -----END PUBLIC KEY-----";
    assert_eq!(redact_str(public), public);
}

#[test]
fn connection_string_passwords() {
    for (input, expected) in [
        (
            "postgres://alice:s3cr3t@db.example.com:5432/app",
            "postgres://alice:[REDACTED]@db.example.com:5432/app",
        ),
        (
            "DATABASE_URL is postgresql://u:p%40ss@localhost/db?sslmode=disable",
            "DATABASE_URL is postgresql://u:[REDACTED]@localhost/db?sslmode=disable",
        ),
        (
            "mysql://root:toor@127.0.0.1:3306/x",
            "mysql://root:[REDACTED]@127.0.0.1:3306/x",
        ),
        (
            "mongodb+srv://admin:Pa55w0rd@cluster0.abcde.mongodb.net/?retryWrites=true",
            "mongodb+srv://admin:[REDACTED]@cluster0.abcde.mongodb.net/?retryWrites=true",
        ),
        ("mongodb://a:b@h1,h2/db", "mongodb://a:[REDACTED]@h1,h2/db"),
        (
            "redis://:hunter2@cache:6379/0",
            "redis://:[REDACTED]@cache:6379/0",
        ),
        (
            "amqp://guest:guest@rabbit:5672/",
            "amqp://guest:[REDACTED]@rabbit:5672/",
        ),
        (
            "jdbc:mysql://app:pw1@db/x",
            "jdbc:mysql://app:[REDACTED]@db/x",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    // No password, or a port that is not followed by '@': nothing to do.
    for clean in [
        "postgres://alice@db/app",
        "http://localhost:8080/path@v2",
        "ssh://git@github.com:22/o/r.git",
        "git@github.com:owner/repo.git",
        "redis://cache:6379/0",
        // A port, then a query or fragment holding an `@`.
        "https://host:8080?email=a@b.c&x=1",
        "https://host:8080#to=a@b.c",
        "next=https%3A%2F%2Fhost%3A8080%3Femail%3Da%40b.c",
        "next=https%253A%252F%252Fhost%253A8080%2523to%253Da%2540b.c",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn assignments_in_free_text() {
    for (input, expected) in [
        (
            "export API_KEY=abc123def && run",
            "export API_KEY=[REDACTED] && run",
        ),
        ("password=hunter2", "password=[REDACTED]"),
        (
            "DB_PASSWORD='correct horse' ./x",
            "DB_PASSWORD='[REDACTED]' ./x",
        ),
        (
            r#"{"api_key": "abc def", "n": 1}"#,
            r#"{"api_key": "[REDACTED]", "n": 1}"#,
        ),
        (r#"{\"token\":\"t0k3n\"}"#, r#"{\"token\":\"[REDACTED]\"}"#),
        (
            "client_secret: s3cr3t-value\nname: x",
            "client_secret: [REDACTED]\nname: x",
        ),
        (
            "https://x.io/cb?access_token=abc123&state=1",
            "https://x.io/cb?access_token=[REDACTED]&state=1",
        ),
        (
            "os.environ['SECRET_KEY'] = 'dev-key-1'",
            "os.environ['SECRET_KEY'] = '[REDACTED]'",
        ),
        (
            "conn = connect(password=b'pw1')",
            "conn = connect(password=b'[REDACTED]')",
        ),
        (
            "Server=db;User Id=sa;Password=P@ss1;",
            "Server=db;User Id=sa;Password=[REDACTED];",
        ),
        ("Cookie: sid=abc; theme=dark", "Cookie: [REDACTED]"),
        (
            "Authorization: Basic Ym9iOmh1bnRlcjI=",
            "Authorization: Basic [REDACTED]",
        ),
        (
            "mysql --password hunter2 db",
            "mysql --password [REDACTED] db",
        ),
        ("gh --token=abc123 x", "gh --token=[REDACTED] x"),
        (
            "curl -u admin:hunter2 https://x",
            "curl -u admin:[REDACTED] https://x",
        ),
        ("curl --user='bob:pw 1' x", "curl --user='bob:[REDACTED]' x"),
        ("pwd: Summer2024", "pwd: [REDACTED]"),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
}

#[test]
fn ordinary_text_is_left_alone() {
    let samples = [
        // Code that mentions secrets without containing any.
        "let token = lexer.next_token();",
        "fn new(token: String, api_key: Option<String>) -> Self { Self { token, api_key } }",
        "def login(password: str) -> bool:\n    self.password = password\n    return True",
        "const password: string;\nconst token = req.headers.authorization;",
        "api_key = os.environ[\"OPENAI_API_KEY\"]\ntoken = os.getenv('GH_TOKEN')",
        "if password == \"\" { return Err(e) }",
        "let api_key = std::env::var(\"API_KEY\")?;",
        "secret = secrets.token_hex(16)",
        "password=None, token=null, secret=true",
        "for tokens in batch: total_tokens += len(tokens)",
        "curl -H \"Authorization: Bearer $GITHUB_TOKEN\" https://api.github.com",
        "docker login --password-stdin ghcr.io",
        "docker run -u 1000:1000 img && git push -u origin main",
        "echo \"$PASSWORD\" | sudo -S true",
        // Usage counters and prose.
        "max_tokens=4096 temperature=0.2",
        r#"{"usage": {"input_tokens": 120, "output_tokens": 7, "cache_read_input_tokens": 0}}"#,
        "token count: 5",
        "Fill in the password field and press the token button.",
        "The secret to good tests is small fixtures.",
        "Token: Provided by the server",
        // Paths, hashes, ids, base64.
        "/home/bob/.ssh/id_ed25519.pub and ~/.aws/credentials and /etc/passwd",
        "PWD=/work/main OLDPWD=/work",
        "commit 3f9c2d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e (HEAD -> main)",
        "session 123e4567-e89b-12d3-a456-426614174000 started",
        "SGVsbG8sIHdvcmxkISBUaGlzIGlzIGJhc2U2NCBlbmNvZGVkIHRleHQu",
        "eyJ0eXBlIjoibWVzc2FnZSJ9",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "https://example.com/docs?page=2#section",
        "task-force-and-skills: sk-learn is a package",
        "AKIA is how AWS key ids start",
        "",
    ];
    for s in samples {
        let out = redact_str(s);
        assert!(matches!(out, Cow::Borrowed(_)), "{s:?} became {out:?}");
    }
}

#[test]
fn redacted_text_is_stable() {
    let input = format!("a {} b password=x c", openai());
    let once = redact_str(&input).into_owned();
    assert_eq!(redact_str(&once), once);
}

#[test]
fn no_planted_secret_survives_a_nested_value() {
    let (gh_classic, gh_oauth, gh_server) = (github("ghp_"), github("gho_"), github("ghs_"));
    let (gh_user, gh_refresh, gh_fine) = (github("ghu_"), github("ghr_"), github_pat());
    let (aws_id, aws_temp_id, aws_key) = (aws_key_id("AKIA"), aws_key_id("ASIA"), aws_secret());
    let slack_tokens = ["xoxb", "xoxp", "xoxa", "xoxs", "xapp"].map(slack);
    let (openai_key, project_key, anthropic_key) = (openai(), openai_project(), anthropic());
    let (jwt_token, pem_block) = (jwt(), pem());
    let bearer_token = "bearer-tok-9f8e7d6c5b4a";
    let url_password = "pg-pass-Q7w8";
    let shell_password = "hunter2-in-shell";
    let json_text_secret = "json-text-secret";
    let header_secret = "under-a-key-1";
    let mut v = json!({
        "session_id": "123e4567-e89b-12d3-a456-426614174000",
        "tool_name": "Bash",
        "tool_input": {
            "command": format!(
                "export OPENAI_API_KEY={openai_key} ANTHROPIC={anthropic_key} \
                 && PASSWORD={shell_password} ./deploy"
            ),
            "env": {
                "GH": gh_classic,
                "list": [gh_oauth, gh_server, {"deep": [gh_user, gh_refresh, gh_fine]}],
            },
            "description":
                format!("aws {aws_id} / {aws_temp_id}\naws_secret_access_key = {aws_key}"),
        },
        "tool_response": {
            "stdout": format!(
                "{project_key}\nslack {}\njwt={jwt_token}\n{pem_block}\n",
                slack_tokens.join(" ")
            ),
            "stderr": format!(
                "Authorization: Bearer {bearer_token}\npostgres://app:{url_password}@db/x"
            ),
            "json_text": format!("{{\"client_secret\": \"{json_text_secret}\"}}"),
        },
        "headers": {"X-Api-Key": header_secret, "Cookie": ["a", "b"]},
        "numbers": {"pin_password": 4242, "max_tokens": 4096},
    });
    let mut secrets = vec![
        openai_key,
        project_key,
        anthropic_key,
        gh_classic,
        gh_oauth,
        gh_server,
        gh_user,
        gh_refresh,
        gh_fine,
        aws_id,
        aws_temp_id,
        aws_key,
        jwt_token,
        pem_block,
    ];
    secrets.extend(slack_tokens);
    secrets.extend(
        [
            bearer_token,
            url_password,
            shell_password,
            json_text_secret,
            header_secret,
            "4242",
        ]
        .map(str::to_owned),
    );
    assert!(redact_value(&mut v));
    let text = serde_json::to_string(&v).unwrap();
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "{s:?} survived in {text}");
    }
    // Context survives around the secrets.
    for kept in [
        "123e4567-e89b-12d3-a456-426614174000",
        "export OPENAI_API_KEY=",
        "./deploy",
        "Bearer [REDACTED]",
        "postgres://app:[REDACTED]@db/x",
        "\"max_tokens\":4096",
    ] {
        assert!(text.contains(kept), "{kept:?} lost from {text}");
    }
}

#[test]
fn large_strings_are_fast() {
    const SIZE: usize = 256 * 1024;
    let fill = |line: &str| line.repeat(SIZE / line.len() + 1);
    // Generous bound: each case takes milliseconds; the point is to catch a path that is
    // quadratic or falls off the DFA, which would take seconds. Processor time, not the wall
    // clock's: a loaded machine (CI, the other tests) made this fail with nothing wrong. How
    // fast redaction is, is measured by the benchmarks (docs/benchmarks.md).
    let timed = |name: &str, text: &str, expect_change: bool| {
        let (out, took) = crate::cpu_time::of(|| redact_str(text));
        assert_eq!(matches!(out, Cow::Owned(_)), expect_change, "{name}");
        assert!(
            took < Duration::from_secs(2),
            "{name} took {took:?} of processor time"
        );
        out.into_owned()
    };
    // Nothing that looks like a secret: the single pre-check pass, borrowed.
    timed(
        "prose",
        &fill("The quick brown fox jumps over the lazy dog. naïve größe ✓ "),
        false,
    );
    // Candidates on every line (`*_tokens = `) that the key check rejects.
    let code = fill("let total_tokens = count(&input); // max_tokens: 4096\n");
    timed("code", &code, false);
    // A real secret on every line: every rule's slow path runs, still linear.
    let dirty = fill(&format!("x = 1; password=hunter2 {}\n", github("ghp_")));
    let out = timed("dirty", &dirty, true);
    assert!(!out.contains("hunter2") && !out.contains("ghp_"));
    // One 256 KiB token-shaped run, and an unterminated PEM header followed by a long body.
    timed(
        "base64 run",
        &fill("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789+/"),
        false,
    );
    // Quoted arguments a command line passes over, a search's flags before a secret flag's
    // name, and command lines kept as lists in code, each read as its line.
    timed("quoted", &fill("lftp -e \"a;b\" 'c|d' "), false);
    timed(
        "search",
        &format!("grep {} --password x", fill("-a ")),
        false,
    );
    let lists = fill(&format!(
        "[\"mysql\", {}\"-pX1y2z3\"], ",
        "\"-v\", ".repeat(60)
    ));
    assert!(!timed("lists", &lists, true).contains("X1y2z3"));
    let pem_body = format!("-----BEGIN PRIVATE KEY-----\n{}", fill("QUJD\n"));
    assert_eq!(timed("open pem", &pem_body, true), REDACTED);
}

// ---------------------------------------------------------------------------------------------
// The detectors issue 9 adds
// ---------------------------------------------------------------------------------------------

/// A random-looking credential of `n` characters (digits and both cases).
fn random(n: usize) -> String {
    fake("", "q7Vx2Lm9Rk4Tz8Wb", n / 16 + 1)[..n].to_owned()
}

#[test]
fn password_flags_of_common_commands() {
    let pw = random(16);
    for (input, kept) in [
        (format!("mysql -h db -u root -p{pw} app"), "-p"),
        (format!("mysqldump -uadmin -p'{pw}' shop > x.sql"), "shop"),
        (format!("mariadb --host=db -p\"{pw}\""), "mariadb"),
        (
            format!("sshpass -p '{pw}' ssh deploy@host uptime"),
            "ssh deploy@host",
        ),
        (format!("sshpass -p{pw} scp a b"), "scp a b"),
        (
            format!("docker login -u bob -p {pw} registry.example.com"),
            "registry.example.com",
        ),
        (format!("podman login registry.io -p {pw}"), "podman login"),
        (
            format!("helm registry login ghcr.io -u x -p {pw}"),
            "ghcr.io",
        ),
        (format!("redis-cli -h cache -p 6379 -a {pw} ping"), "6379"),
        (
            format!("ldapsearch -x -D cn=admin -w {pw} -b dc=x"),
            "-b dc=x",
        ),
        (format!("sqlcmd -S db -U sa -P {pw} -Q 'select 1'"), "-U sa"),
        (
            format!("mongosh -u admin -p {pw} --authenticationDatabase admin"),
            "admin",
        ),
        (
            format!("openssl pkcs12 -export -out b.p12 -passout pass:{pw}"),
            "pass:",
        ),
        (
            format!("openssl rsa -in k.pem -passin pass:{pw} -out x"),
            "-out x",
        ),
    ] {
        check(&input, &pw, &[kept]);
    }
    // No password on the line: nothing to do (`-p` asks, `-p 2222` is a port).
    for clean in [
        "mysql -h db -u root -p app_production < schema.sql",
        "docker login --username ci --password-stdin ghcr.io",
        "ssh -p 2222 deploy@host",
        "redis-cli -p 6379 ping",
        "docker run -p 8080:80 nginx",
        "openssl rsa -in k.pem -passin env:KEY_PASS",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn netrc_passwords() {
    let pw = random(20);
    check(
        &format!("machine api.heroku.com\n  login ops@example.com\n  password {pw}\n"),
        &pw,
        &["machine api.heroku.com", "login ops@example.com"],
    );
    check(
        &format!("machine github.com login bob password {pw}"),
        &pw,
        &["login bob password "],
    );
    check(
        &format!("machine x\\n  password {pw}\\n"),
        &pw,
        &["machine x"],
    );
    // After a line break escaped in JSON text, which leaves no word boundary before it.
    check(
        &format!("netrc:\\nmachine x\\n  login bob\\n  password {pw}\\n"),
        &pw,
        &["netrc:\\nmachine x\\n  login bob"],
    );
    let prose = "Type your login and password on the next screen.";
    assert_eq!(redact_str(prose), prose);
}

#[test]
fn azure_and_vendor_shapes() {
    let account = format!("{}==", random(86));
    check(
        &format!(
            "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={account};EndpointSuffix=core.windows.net"
        ),
        &account,
        &[
            "AccountName=acme;AccountKey=",
            ";EndpointSuffix=core.windows.net",
        ],
    );
    for token in [
        format!("SG.{}.{}", random(22), random(43)),
        format!("bot{}:AA{}", "123456789", random(33)),
        format!("ya29.{}", random(60)),
        format!("whsec_{}", random(32)),
        format!(
            "AGE-SECRET-KEY-1{}",
            "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L".repeat(2)[..58].to_owned()
        ),
        format!("gsk_{}", random(48)),
        format!("dop_v1_{}", "0123456789abcdef".repeat(4)),
    ] {
        check(&format!("used {token} here"), &token, &["used ", " here"]);
    }
}

#[test]
fn name_value_pairs_in_text() {
    let v = random(40);
    // JSON text, pretty or compact, with other fields between name and value.
    check(
        &format!("[{{\"name\": \"OPENAI_API_KEY\", \"value\": \"{v}\"}}]"),
        &v,
        &["OPENAI_API_KEY"],
    );
    check(
        &format!(
            "{{\n  \"Name\": \"/prod/api/STRIPE_SECRET_KEY\",\n  \"Type\": \"SecureString\",\n  \"Version\": 3,\n  \"Value\": \"{v}\"\n}}"
        ),
        &v,
        &["SecureString"],
    );
    check(
        &format!("{{\"Key\": \"DB_PASSWORD\", \"Value\": \"{v}\"}}"),
        &v,
        &["DB_PASSWORD"],
    );
    // YAML, as Kubernetes writes env.
    check(
        &format!(
            "env:\n- name: PORT\n  value: \"8080\"\n- name: STRIPE_SIGNING_KEY\n  value: \"{v}\"\n"
        ),
        &v,
        &["value: \"8080\"", "STRIPE_SIGNING_KEY"],
    );
    check(
        &format!("        - name: DB_PASSWORD\n          value: {v}\n"),
        &v,
        &["DB_PASSWORD"],
    );
    // Names that hold no secret keep their value.
    for clean in [
        r#"[{"name": "PORT", "value": "8080"}, {"name": "LOG_LEVEL", "value": "debug"}]"#,
        "- name: NODE_ENV\n  value: production\n",
        "- name: API_KEY\n  valueFrom:\n    secretKeyRef: {name: api, key: key}",
        r#"{"name": "password", "value": null}"#,
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn env_style_names_and_random_values_beside_names() {
    let hex = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    check(
        &format!("ALGOLIA_APP_ID=K3L9PQ\nALGOLIA_ADMIN_KEY={hex}\nNODE_ENV=production"),
        hex,
        &[
            "ALGOLIA_APP_ID=K3L9PQ",
            "ALGOLIA_ADMIN_KEY=",
            "NODE_ENV=production",
        ],
    );
    check(
        &format!("docker run -e DATADOG_TOKEN={hex} acme/worker"),
        hex,
        &["acme/worker"],
    );
    let v = random(24);
    check(
        &format!("NAME            VALUE\nREGION          us-east-1\nSTRIPE_KEY      {v}\n"),
        &v,
        &["us-east-1", "STRIPE_KEY"],
    );
    check(
        &format!("SETTINGS = [(\"REGION\", \"eu\"), (\"TWILIO_AUTH_TOKEN\", \"{hex}\")]"),
        hex,
        &["(\"REGION\", \"eu\")"],
    );
    check(&format!("| API_TOKEN | {v} |"), &v, &["| API_TOKEN |"]);
    // Maybe-secret names keep values that do not look random.
    for clean in [
        "SORT_KEY=created_at",
        "PUBLIC_KEY_PATH      /etc/keys/signing.pub",
        "CACHE_KEY            node-modules-3f9c2d1e8b7a6f5e4d3c",
        "TOKEN_TTL            3600",
        "partition_key: tenant_id",
        "license_key: trial",
        "the key 3f9c2d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e is a commit",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn a_key_broken_over_lines_loses_both_halves() {
    let key = openai_project();
    let (a, b) = key.split_at(50);
    let out = check(
        &format!("$ echo $OPENAI_API_KEY\n{a}\n{b}\n$ ls"),
        a,
        &["$ ls"],
    );
    assert!(!out.contains(b), "{out}");
    let out = check(&format!("API_KEY={a}\\n  {b}\\n"), a, &["API_KEY="]);
    assert!(!out.contains(b), "{out}");
    // A line after a redaction that is not a continuation stays.
    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let out = redact_str(&format!("password: hunter2\n{hash}  test.txt\nDone")).into_owned();
    assert!(out.contains(hash) && out.contains("Done"), "{out}");
}

fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn secrets_wrapped_in_base64() {
    let inner = format!("OPENAI_API_KEY={}", openai_project());
    let blob = base64(&inner);
    check(
        &format!("echo {blob} | base64 -d > .env"),
        &blob,
        &["echo ", " | base64 -d > .env"],
    );
    let blob = base64(&format!("password={}\nuser=svc\n", random(20)));
    check(
        &format!("data:\n  backup.conf: {blob}\n"),
        &blob,
        &["backup.conf: "],
    );
    // Wrapped at 76 columns, as `base64` prints it: the secret straddles two lines.
    let long = base64(&format!(
        "{}\nAWS_SECRET_ACCESS_KEY={}\n",
        "# settings\n".repeat(4),
        aws_secret()
    ));
    let wrapped: Vec<String> = long
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let out = redact_str(&wrapped.join("\n")).into_owned();
    assert!(
        wrapped.iter().all(|line| !out.contains(line.as_str())),
        "{out}"
    );
    // Base64 of ordinary text, of binary data and of hashes is left alone.
    for clean in [
        base64("{\"type\": \"message\", \"role\": \"user\"}"),
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg".to_owned(),
        "sha512-zZl0VZ1oIq6eD7BYPv1vGXQXQ8Q4ub2jOTWfUOe1SAcuCnKX3EB5A9HbBHsBbaqwFr1NwO3NyKLjCwzl4nMlmA==".to_owned(),
    ] {
        assert_eq!(redact_str(&clean), clean);
    }
}

#[test]
fn keys_that_are_secrets_are_redacted_in_place() {
    let (a, b) = (anthropic(), openai_project());
    let mut v =
        json!({"keys": {a.clone(): {"owner": "ci"}, b.clone(): {"owner": "dev"}, "note": "x"}});
    assert!(redact_value(&mut v));
    let text = v.to_string();
    assert!(!text.contains(&a) && !text.contains(&b), "{text}");
    let keys: Vec<&String> = v["keys"].as_object().unwrap().keys().collect();
    assert_eq!(keys, [REDACTED, &format!("{REDACTED} #2"), "note"]);
    assert_eq!(v["keys"]["note"], "x");
}

#[test]
fn structure_shows_what_text_would_not() {
    let v1 = random(30);
    let mut v = json!({
        // Value before name, other fields between: only the structure says.
        "Parameters": [{"Value": v1, "Type": "SecureString", "Name": "/prod/DB_PASSWORD"}],
        "Tags": [{"Key": "team", "Value": "payments"}],
        "ParameterKey/Value": [{"ParameterKey": "DbPassword", "ParameterValue": "p4ss-w0rd!"}],
        "maybe": {"STRIPE_KEY": v1, "SORT_KEY": "created_at", "WEBHOOK_SIG": "short"},
        "pairs": ["API_TOKEN", v1, "REGION", "eu-west-1"],
        "argv": ["mysql", "-u", "root", "-pS3cr3tPw", "app"],
        "args": ["--api-key", "k-29fj38dk", "--port", "3000"],
        "hint": ["PASSWORD_HINT", "the usual one"],
    });
    assert!(redact_value(&mut v));
    let text = v.to_string();
    for secret in [v1.as_str(), "p4ss-w0rd!", "S3cr3tPw", "k-29fj38dk"] {
        assert!(!text.contains(secret), "{secret} survived in {text}");
    }
    assert_eq!(v["Tags"][0]["Value"], "payments");
    assert_eq!(v["maybe"]["SORT_KEY"], "created_at");
    assert_eq!(v["maybe"]["WEBHOOK_SIG"], "short");
    assert_eq!(v["pairs"][3], "eu-west-1");
    // The flag stays, as in the same line written out (`mysql -u root -p[REDACTED] app`).
    assert_eq!(
        v["argv"],
        json!(["mysql", "-u", "root", "-p[REDACTED]", "app"])
    );
    assert_eq!(v["args"], json!(["--api-key", REDACTED, "--port", "3000"]));
    assert_eq!(v["hint"][1], "the usual one");
}

#[test]
fn placeholders_in_examples_are_not_secrets() {
    for clean in [
        "export ATTIO_API_KEY=your_key_here",
        "OPENAI_API_KEY=<your-api-key>",
        "password: changeme",
        "api_key = \"xxxxxxxxxxxx\"",
        "token=****",
        "{\"password\": \"YOUR_PASSWORD\"}",
        "mysql -u root -pYOUR_PASSWORD db",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
    check("password=yourPassw0rd!", "yourPassw0rd!", &["password="]);
}

#[test]
fn ordinary_content_survives_the_new_detectors() {
    let samples = [
        "/home/dev/work/acme-platform/services/authentication/src/handlers/password_reset_handler.rs:142:17",
        "/Users/dev/Library/Caches/com.apple.dt.Xcode/DerivedData/AcmeApp-gkzbqjxlmdhfwqbcnsvwrzdtxyqo/Build",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.txt",
        "image: ghcr.io/acme/api@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945",
        "request 9b2c7f4e-1a3d-4e5f-8a9b-0c1d2e3f4a5b done in 12ms",
        "   Compiling serde_json v1.0.117\n    Finished `release` profile [optimized] target(s) in 42.17s",
        "INTERNATIONALIZATION and Pneumonoultramicroscopicsilicovolcanoconiosis are long words",
        "git checkout -b feature/JIRA-1234-add-oauth2-token-refresh && git push -u origin HEAD",
        "key: value\nsort_key: created_at\nprimary_key: id\nmax_tokens: 4096",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl dev@laptop",
        "toolu_01A2B3C4D5E6F7G8H9J0K1L2 msg_01XyZ9aBcDeFgHiJkLmNoPqR req_011CSHq7Ea9Qx5pZ",
        "NAME                 VALUE\nTOKEN_TTL            3600\nPUBLIC_KEY_PATH      /etc/keys/signing.pub",
        "Authentication failed: the password or token you entered is wrong.",
    ];
    for s in samples {
        let out = redact_str(s);
        assert!(matches!(out, Cow::Borrowed(_)), "{s:?} became {out:?}");
    }
    let mut v = json!({"environment": [{"name": "PORT", "value": "8080"}],
        "files": ["src/auth/token.rs", "src/auth/password.rs"],
        "argv": ["cargo", "test", "--package", "auth", "--", "token"],
        "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"});
    let before = v.clone();
    assert!(!redact_value(&mut v));
    assert_eq!(v, before);
}

#[test]
fn code_and_masks_found_in_real_transcripts_are_not_secrets() {
    for clean in [
        "headers={\"Authorization\": f\"Bearer {token}\", \"Accept\": \"application/json\"}",
        "auth = \"Bearer #{api_token}\"",
        "(phoenix 1.8.3) lib/phoenix/token.ex:34: Phoenix.Token.sign/4",
        "TIMESTAMP=\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"",
        "export GITHUB_TOKEN=ghp_xxxxxxxxxxxx",
        "  - Token: gho_************************************",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn triggers_never_hide_a_secret_a_rule_would_find() {
    // Every planted text of the integration corpus, and variations in case and escaping.
    let corpus =
        include_str!("../../tests/fixtures/secrets/plants.json").replace("\u{ab}\u{bb}", "");
    let doc: serde_json::Value = serde_json::from_str(&corpus).unwrap();
    let mut texts: Vec<String> = doc["plants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| match &p["text"] {
            serde_json::Value::String(s) => s.clone(),
            _ => serde_json::to_string_pretty(&p["json"]).unwrap(),
        })
        .collect();
    let more: Vec<String> = texts
        .iter()
        .flat_map(|t| {
            [
                t.to_uppercase(),
                t.to_lowercase(),
                serde_json::to_string(t).unwrap(),
            ]
        })
        .collect();
    texts.extend(more);
    for text in &texts {
        assert_eq!(redact_str(text), rules::scan_every_rule(text), "{text}");
    }
}

#[test]
fn vendor_tokens_after_an_underscore_or_an_escape() {
    let key = openai_project();
    let gh = github("ghp_");
    let aws = aws_key_id("AKIA");
    for (input, secret, kept) in [
        (format!("mcp__vault__{aws}"), &aws, "mcp__vault__"),
        (format!("{aws}_accessKeys.csv"), &aws, "_accessKeys.csv"),
        (format!("FOO_{gh}"), &gh, "FOO_"),
        (
            format!("/cb?next=%2Fa%3Ftoken%3D{key}%26x%3D1"),
            &key,
            "%26x%3D1",
        ),
        (
            format!(r#"{{"url":"https://x?token\u003d{gh}"}} sent"#),
            &gh,
            r"\u003d",
        ),
        (format!(r"say \u0022{gh}\u0022"), &gh, r"\u0022"),
        (format!(r"printf '\x3d{gh}'"), &gh, r"\x3d"),
        (format!("q=%7B%22key%22%3A%22{key}%22%7D"), &key, "%22%7D"),
        (format!("/repos%2F{gh}%2Fhooks"), &gh, "%2Fhooks"),
        (format!("cb?id_token%3D{}", jwt()), &jwt(), "id_token%3D"),
        (format!("X_{}", jwt()), &jwt(), "X_"),
    ] {
        check(&input, secret, &[kept]);
    }
}

#[test]
fn webhook_urls_keep_their_host_and_kind() {
    let path = format!("T0{}/B0{}/{}", random(9), random(9), random(24));
    let slack = format!("curl -d x https://hooks.slack.com/services/{path} && echo ok");
    let out = check(
        &slack,
        &path,
        &["https://hooks.slack.com/services/", " && echo ok"],
    );
    assert!(
        out.ends_with(&format!("services/{REDACTED} && echo ok")),
        "{out}"
    );
    let token = random(68);
    let discord = format!("url = \"https://discord.com/api/webhooks/118734567890123456/{token}\"");
    check(&discord, &token, &["https://discord.com/api/webhooks/"]);
    // The pages that say how to make one hold none.
    for text in [
        "https://api.slack.com/messaging/webhooks",
        "https://hooks.slack.com/services/",
        "https://discord.com/developers/docs/resources/webhook",
    ] {
        assert_eq!(redact_str(text), text);
    }
}

#[test]
fn assignments_with_an_escaped_separator() {
    let value = random(24);
    for (input, kept) in [
        (
            format!("POST /login user%3Dops%26password%3D{value}%26remember%3D1"),
            "%26remember%3D1",
        ),
        (format!("?next=%2Fcb%3Faccess_token%3D%22{value}%22"), "%22"),
        (
            format!(r"url=x?password\u003d{value}\u0026a=b"),
            r"\u0026a=b",
        ),
        (format!("session_token%3a{value}"), "session_token%3a"),
    ] {
        check(&input, &value, &[kept]);
    }
    for clean in [
        "?next=%2Fpassword%2Freset%3Fstep%3D2",
        "tokenizer%3Dbert-base-uncased",
        "max_tokens%3D4096%26temperature%3D0.2",
        "auth_mode%3Doauth",
        "password%3D%24DB_PASSWORD",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn a_password_holding_an_at_sign_in_a_url() {
    let tail = random(16);
    let url = format!("mysql://root:P@ss{tail}@localhost:3306/db");
    let out = check(&url, &tail, &["mysql://root:", "@localhost:3306/db"]);
    assert_eq!(out, "mysql://root:[REDACTED]@localhost:3306/db");
    assert_eq!(
        redact_str("https://host:8080/users/bob@corp.io"),
        "https://host:8080/users/bob@corp.io"
    );
}

#[test]
fn json_text_escaped_twice_with_escapes_in_the_value() {
    let tail = random(16);
    let input = format!(r#"loaded {{\"db_password\": \"ab\/{tail}\", \"user\": \"x\"}}"#);
    check(&input, &tail, &[r#"\"user\": \"x\""#]);
    let input = format!(r#"{{\"name\": \"DB_PASSWORD\", \"value\": \"ab\/{tail}\"}}"#);
    check(&input, &tail, &["DB_PASSWORD"]);
}

#[test]
fn a_long_base64_blob_is_looked_into_a_window_at_a_time() {
    let mut env = (0..500)
        .map(|i| format!("FEATURE_{i:03}_ENABLED=true"))
        .collect::<Vec<_>>()
        .join("\n");
    env.insert_str(
        9000,
        &format!("\nSTRIPE_SECRET_KEY={}\n", fake("sk_live_", "Qx7Lm2", 4)),
    );
    let blob = base64(&env).replace('\n', "");
    assert!(blob.len() > 3 * 4096, "{}", blob.len());
    assert_eq!(
        redact_str(&format!("$ base64 -w0 .env\n{blob}\n")),
        "$ base64 -w0 .env\n[REDACTED]\n"
    );
    // In JSON text the letter of an escaped line break is glued to the blob; the blob is
    // decoded without it (it goes with the blob).
    for blob in [
        blob.as_str(),
        &base64("x\nAPI_TOKEN=ghx8Qm2LpR7vT4wZ9kN3\n"),
    ] {
        assert_eq!(
            redact_str(&format!(r"$ base64 -w0 .env\n{blob}\n")),
            r"$ base64 -w0 .env\[REDACTED]\n"
        );
    }
    let wrapped: Vec<&str> = blob
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    let wrapped = wrapped.join("\n");
    assert_eq!(redact_str(&wrapped).trim(), REDACTED);
    // The same file with nothing secret in it is left alone, however long.
    let clean = base64(
        &env.replace("STRIPE_SECRET_KEY", "STRIPE_MODE")
            .replace("sk_live_", "live"),
    )
    .replace('\n', "");
    assert_eq!(redact_str(&clean), clean);
}

#[test]
fn look_alikes_of_glued_tokens_are_kept() {
    for clean in [
        "cache_key-9f86d081884c7d659a2feaa0c55ad015",
        "flask-sqlalchemy-migrations-helper",
        "%2Fhome%2Fdev%2Ftask-project-management-dashboard",
        "tokenghp_is_not_a_token",
        "AP_SOUTHEAST_ASIA_PACIFIC_REGION",
        "EASTASIAPACIFICDATACENTER01",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn distinctive_vendor_tokens_glued_to_letters() {
    let fine_grained = format!("github_pat_{}_{}", random(22), random(59));
    let age = format!(
        "AGE-SECRET-KEY-1{}",
        "QZ7XK3PL9M".repeat(6)[..58].to_owned()
    );
    let tokens = [
        github("ghp_"),
        github("gho_"),
        github("ghs_"),
        fine_grained,
        anthropic(),
        format!("sk-proj-{}", random(48)),
        slack("xoxb"),
        slack("xoxp"),
        fake("glpat-", "x7Yz9Ab3Qr", 2),
        aws_key_id("AKIA"),
        age,
        format!("dop_v1_{}", "9f86d081".repeat(8)),
    ];
    for token in &tokens {
        for glued in ["token", "key", "x", "2", "Bearer", "X", "9"] {
            let input = format!("echo {glued}{token} done");
            let out = check(&input, token, &[" done"]);
            assert!(out.contains(&format!("{glued}{REDACTED}")), "{out}");
        }
    }
    // A project key as OpenAI writes it now, `-` and `_` among its characters and
    // `T3BlbkFJ` in its middle, glued after a word.
    let half = fake("", "aB3_dE5-fG7hJ9kL", 5)[..74].to_owned();
    let project = format!("sk-proj-{half}T3BlbkFJ{half}");
    check(&format!("export K=x{project} done"), &project, &[" done"]);
    // A key glued after a name in code, and two keys glued after a `_`.
    let aws = aws_key_id("AKIA");
    check(&format!(r#"k="awsKey{aws}""#), &aws, &["awsKey"]);
    let out = redact_str(&format!("{aws}_{aws}")).into_owned();
    assert_eq!(out, format!("{REDACTED}_{REDACTED}"));
}

#[test]
fn look_alikes_of_distinctive_prefixes_are_kept() {
    for clean in [
        // `AKIA` ending a word of capitals, then 16 more of them (a `0`, `1`, `8` or `9`
        // among them), fewer or more.
        "CZECHOSLOVAKIAREPUBLIC2024ABCD",
        "VISITSLOVAKIA0123456789ABCDEF",
        "SLOVAKIAN SLOVAKIA2024 CZECHOSLOVAKIAREPUBLICANS",
        "JBSWY3DPAKIAJBSWY3DPEHPK3PXPQRST",
        "keyAKIAforward",
        // `sk-proj-` in a kebab-case name, its words in either case.
        "/home/dev/task-proj-management-dashboard-frontend-v2",
        "disk-proj-backup-cluster-eu-west-1-2024-06-01",
        "git checkout -b task-proj-management-JIRA1234-AddLoginFlowForUsers",
        "s3://b/disk-proj-Backup2024-01-15T10-00-00Z-FullSnapshotOfVolume",
        "ask-proj-Q3Roadmap2025PlanningForEngineeringTeams",
        // Hashes, a base64 image and words around the prefixes.
        "ghp_ is the prefix of a GitHub classic token",
        "laughs_and_coughs_are_fine",
        "commit 3f9c2d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e",
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn url_credentials_percent_encoded_whole() {
    for (input, secret, kept) in [
        (
            "/login?next=https%3A%2F%2Fdeploy%3Apa55word%40git.corp.io%2Facme%2Fapp.git&x=1",
            "pa55word",
            "https%3A%2F%2Fdeploy%3A[REDACTED]%40git.corp.io%2Facme%2Fapp.git&x=1",
        ),
        (
            "redirect_uri=postgres%3a%2f%2fadmin%3aS3cr%40t%2Bx%40db.internal%3A5432%2Fapp",
            "S3cr%40t%2Bx",
            "postgres%3a%2f%2fadmin%3a[REDACTED]%40db.internal%3A5432%2Fapp",
        ),
        (
            "u=https%3A%2F%2F%3Aghx7Qm2pLk9%40host",
            "ghx7Qm2pLk9",
            "https%3A%2F%2F%3A[REDACTED]%40host",
        ),
    ] {
        check(input, secret, &[kept]);
    }
    for clean in [
        "?next=https%3A%2F%2Fgit.corp.io%2Facme%2Fapp.git",
        "?next=https%3A%2F%2Fhost%3A8080%2Fusers%2Fbob%40corp.io",
        "?next=https%3A%2F%2Fbob%40corp.io%3Apage",
        "url=https%3A%2F%2Fuser%3A%24PASSWORD%40host",
        "url=https%3A%2F%2Fuser%3Apassword%40host",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn an_aws_key_id_glued_to_a_capital_or_a_digit() {
    let aws = aws_key_id("AKIA");
    for glued in ["X", "9", "KEY", "ID2"] {
        let out = check(&format!("{glued}{aws} done"), &aws, &[" done"]);
        assert_eq!(out, format!("{glued}{REDACTED} done"));
    }
    // Then `_`, as the word-start rule takes it.
    let out = check(&format!("X{aws}_2"), &aws, &[]);
    assert_eq!(out, format!("X{REDACTED}_2"));
    // Not 17: a key id is exactly 20 characters.
    let longer = format!("X{aws}Q");
    assert_eq!(redact_str(&longer), longer);
}

#[test]
fn aws_key_ids_glued_by_an_underscore_are_each_redacted() {
    for (a, b) in [("ASIA", "ASIA"), ("AKIA", "ASIA"), ("ASIA", "AKIA")] {
        let (a, b) = (aws_key_id(a), aws_key_id(b).replace("Z7", "K2"));
        let out = redact_str(&format!("{a}_{b}")).into_owned();
        assert_eq!(out, format!("{REDACTED}_{REDACTED}"));
        let out = redact_str(&format!("ids: {a}_{b}_{a} end")).into_owned();
        assert_eq!(out, format!("ids: {REDACTED}_{REDACTED}_{REDACTED} end"));
    }
}

#[test]
fn url_credentials_percent_encoded_twice() {
    for (input, secret, kept) in [
        (
            "x=https%253A%252F%252Fuser%253Apa55word%2540host y",
            "pa55word",
            "x=https%253A%252F%252Fuser%253A[REDACTED]%2540host y",
        ),
        (
            "next=https%253a%252f%252fdeploy%253aS3cr%2540t%252Bx%2540git.corp.io%252Facme",
            "S3cr%2540t%252Bx",
            "deploy%253a[REDACTED]%2540git.corp.io%252Facme",
        ),
    ] {
        let out = check(input, secret, &[kept]);
        assert!(out.ends_with(kept), "{out}");
    }
    for clean in [
        "?next=https%253A%252F%252Fgit.corp.io%252Facme%252Fapp.git",
        "?next=https%253A%252F%252Fhost%253A8080%252Fusers%252Fbob%2540corp.io",
        "url=https%253A%252F%252Fuser%253A%2524PASSWORD%2540host",
        "url=https%253A%252F%252Fuser%253A%257B%257Bpw%257D%257D%2540host",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn url_credentials_percent_encoded_any_number_of_times() {
    // Each `%` of the URL encoded once written `%25` one more time for each further encoding;
    // the password holds an encoded `/` of its own.
    let once = "https%3A%2F%2Fdeploy%3ApX4mW9qZ%252Fk%40git.corp.io%3Fe%3Da%40b.c";
    let kept = "https%3A%2F%2Fdeploy%3A[REDACTED]%40git.corp.io%3Fe%3Da%40b.c";
    for times in 1..=8 {
        let encode = |url: &str| url.replace('%', &format!("%{}", "25".repeat(times - 1)));
        assert_eq!(
            redact_str(&format!("next={} y", encode(once))),
            format!("next={} y", encode(kept)),
            "encoded {times} times"
        );
    }
    for (input, expected) in [
        // A redirect inside a redirect, each encoded once more than the one around it.
        (
            "a=1&next=https%3A%2F%2Flogin%3Fnext%3Dhttps%253A%252F%252Fu%253Apw9x%2540h%26y%3D2",
            "a=1&next=https%3A%2F%2Flogin%3Fnext%3Dhttps%253A%252F%252Fu%253A[REDACTED]%2540h%26y%3D2",
        ),
        // A Sentry DSN encoded whole.
        (
            "dsn=https%253A%252F%252F9f8e7d6c5b4a39281706f5e4d3c2b1a0%2540o1.ingest.sentry.io%252F2",
            "dsn=https%253A%252F%252F[REDACTED]%2540o1.ingest.sentry.io%252F2",
        ),
        // A character that is no ASCII stays encoded inside the password.
        (
            "x=https%3A%2F%2Fuser%3Ap%C3%A9ss9%40host",
            "x=https%3A%2F%2Fuser%3A[REDACTED]%40host",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        "u=https%25253A%25252F%25252Fuser%25253A%252524PASSWORD%252540host",
        "u=https%3A%2F%2Fuser%3A%2524PASSWORD%40host",
        "u=https%2525253A%2525252F%2525252Fhost%2525253A8080%2525253Fe%2525253Da%25252540b.c",
        "%25%25%25253A%25252F%25252F%25",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn a_url_password_ends_at_its_host_not_at_an_at_sign_of_the_query() {
    for (input, expected) in [
        (
            "next=https%3A%2F%2Fuser%3Apw92kq%40host%3Femail%3Da%40b.c",
            "next=https%3A%2F%2Fuser%3A[REDACTED]%40host%3Femail%3Da%40b.c",
        ),
        (
            "next=https%3A%2F%2Fuser%3Apw92kq%40host%2Fpath%3Femail%3Da%40b.c",
            "next=https%3A%2F%2Fuser%3A[REDACTED]%40host%2Fpath%3Femail%3Da%40b.c",
        ),
        (
            "next=https%3A%2F%2Fuser%3Apw92kq%40host%23to%3Da%40b.c",
            "next=https%3A%2F%2Fuser%3A[REDACTED]%40host%23to%3Da%40b.c",
        ),
        // A password holding an encoded `@`, or a `#` before it, still goes whole.
        (
            "next=https%3A%2F%2Fuser%3AP%40ss9w%40host%3Femail%3Da%40b.c",
            "next=https%3A%2F%2Fuser%3A[REDACTED]%40host%3Femail%3Da%40b.c",
        ),
        (
            "next=https%3A%2F%2Fuser%3Ap%23ss9w%40host%3Femail%3Da%40b.c",
            "next=https%3A%2F%2Fuser%3A[REDACTED]%40host%3Femail%3Da%40b.c",
        ),
        (
            "x=https%253A%252F%252Fuser%253Apw92kq%2540host%253Fe%253Da%2540b.c",
            "x=https%253A%252F%252Fuser%253A[REDACTED]%2540host%253Fe%253Da%2540b.c",
        ),
        // The same unencoded.
        (
            "https://user:pw92kq@host?email=a@b.c",
            "https://user:[REDACTED]@host?email=a@b.c",
        ),
        (
            "mysql://root:P@ss9w@db:3306/app#a@b",
            "mysql://root:[REDACTED]@db:3306/app#a@b",
        ),
    ] {
        assert_eq!(redact_str(input), expected);
    }
}

#[test]
fn a_key_as_a_urls_user() {
    for (input, expected) in [
        (
            "https://9f8e7d6c5b4a39281706f5e4d3c2b1a0@o4504.ingest.sentry.io/4505",
            "https://[REDACTED]@o4504.ingest.sentry.io/4505",
        ),
        (
            "https://9f8e7d6c5b4a39281706f5e4d3c2b1a0:1a2b3c4d5e6f70819293a4b5c6d7e8f9@sentry.io/1",
            "https://[REDACTED]:[REDACTED]@sentry.io/1",
        ),
        (
            "git remote add origin https://a8Fk29dLq0ZmXv71bNc8Qw3E@github.com/o/r.git",
            "git remote add origin https://[REDACTED]@github.com/o/r.git",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        "ssh://git@github.com/o/r.git",
        "https://firstname.lastname@corp.example.com/x",
        "https://build-agent-production@ci.example.com/",
        "https://a8Fk29dLq0ZmXv71bNc8Qw3E.example.com/x@y",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn a_private_key_kept_as_a_list_of_lines() {
    let key = pem();
    let mut lines: Vec<String> = key.lines().map(|l| format!("{l}\n")).collect();
    let mut value = json!({"outputs": [{"text": lines.clone()}]});
    assert!(redact_value(&mut value));
    let text = &value["outputs"][0]["text"];
    assert_eq!(text[0], REDACTED);
    assert_eq!(text[1], REDACTED);
    assert_eq!(text[2], REDACTED);
    assert_eq!(text[3], "-----END RSA PRIVATE KEY-----\n");
    // As JSON text (`cat` of a notebook), and cut off before its END line.
    lines.truncate(3);
    lines.push("done\n".to_owned());
    let notebook = json!({"cells": [{"outputs": [{"text": lines}]}]}).to_string();
    let mut value = json!({"stdout": notebook});
    assert!(redact_value(&mut value));
    let out = value["stdout"].as_str().unwrap();
    assert!(!out.contains("MIIEpAIBAAKCAQEA"), "{out}");
    assert!(!out.contains("Qr5St6Uv"), "{out}");
    assert!(out.contains(r#""done\n""#), "{out}");
    // A certificate's lines, and lines after a key's that are no part of it, are kept.
    let cert = json!([
        "-----BEGIN CERTIFICATE-----\n",
        "MIIBszCCAVmgAwIBAgIUd1\n",
        "-----END CERTIFICATE-----\n"
    ]);
    let mut value = cert.clone();
    assert!(!redact_value(&mut value));
    assert_eq!(value, cert);
}

#[test]
fn a_key_written_as_base64_under_a_maybe_name() {
    let key = "base64:Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo";
    check(
        &format!("APP_KEY={key}\nAPP_ENV=local"),
        key,
        &["APP_KEY=", "APP_ENV=local"],
    );
    let mut value = json!({"APP_KEY": key});
    assert!(redact_value(&mut value));
    for clean in [
        "APP_KEY=\nAPP_NAME=Laravel",
        "APP_KEY=base64:\nAPP_ENV=local",
        "CACHE_KEY=base64:Zm9vYmFyYmF6cXV4MTIzNDU2",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn a_connect_calls_password_after_its_host_and_port() {
    for (input, expected) in [
        (
            r#"client.connect(hostname, 22, "alice", "hunter2xyz")"#,
            r#"client.connect(hostname, 22, "alice", "[REDACTED]")"#,
        ),
        (
            r#"ssh.connect("10.0.0.5", self.port, 'root', 'hunter2xyz')"#,
            r#"ssh.connect("10.0.0.5", self.port, 'root', '[REDACTED]')"#,
        ),
        (
            r#"c.connect("db.example.com", 22, "alice", "hunter2.com")"#,
            r#"c.connect("db.example.com", 22, "alice", "[REDACTED]")"#,
        ),
        (
            r#"c.connect(host, "22", "alice", "hunter2xyz")"#,
            r#"c.connect(host, "22", "alice", "[REDACTED]")"#,
        ),
        (
            r#"connect(host, "12345", "hunter2xyz")"#,
            r#"connect(host, "12345", "[REDACTED]")"#,
        ),
        (
            r#"client.connect("host", username="u", password="hunter2xyz")"#,
            r#"client.connect("host", username="u", password="[REDACTED]")"#,
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        r#"ws.connect(host, 8080, "chat")"#,
        r#"client.connect(host, 22, "alice", os.environ["PW"])"#,
        r#"mqtt.connect(host, timeout, "a", "b")"#,
        "sock.connect((host, 22)); connect(url); max(a, b)",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn a_pdo_connections_password() {
    for (input, expected) in [
        (
            r#"$db = new PDO("mysql:host=x;dbname=y", "root", "s3cretPass");"#,
            r#"$db = new PDO("mysql:host=x;dbname=y", "root", "[REDACTED]");"#,
        ),
        (
            r"$db = new \PDO($dsn, 'app', 's3cretPass', $options);",
            r"$db = new \PDO($dsn, 'app', '[REDACTED]', $options);",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        "$db = new PDO($dsn, $user, $pass);",
        r#"$lite = new PDO("sqlite:app.db"); updo("a", "b");"#,
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn a_pysmb_connections_password() {
    check(
        r#"conn = SMBConnection("alice", "s3cretPass", "client", "server", use_ntlm_v2=True)"#,
        "s3cretPass",
        &[r#"SMBConnection("alice", "[REDACTED]", "client", "server""#],
    );
    for clean in [
        r#"conn = SMBConnection(user, password, "client", "server")"#,
        r#"conn = MySMBConnection("alice", "bob"); SMBConnectionError("a", "b")"#,
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn zip_and_rar_passwords() {
    for (input, expected) in [
        (
            "zip -P s3cretPass out.zip f && zip -e -Ps3cretPass out.zip f",
            "zip -P [REDACTED] out.zip f && zip -e -P[REDACTED] out.zip f",
        ),
        (
            "zip --password s3cretPass out.zip f; unzip -o -P 's3cretPass' out.zip",
            "zip --password [REDACTED] out.zip f; unzip -o -P '[REDACTED]' out.zip",
        ),
        (
            "zip -r out.zip dir \\\n  -P s3cretPass",
            "zip -r out.zip dir \\\n  -P [REDACTED]",
        ),
        (
            "rar a -hps3cretPass x.rar f && unrar x -ps3cretPass x.rar",
            "rar a -hp[REDACTED] x.rar f && unrar x -p[REDACTED] x.rar",
        ),
        (
            "mysql -hprod.db -pS3cret -u root app",
            "mysql -hprod.db -p[REDACTED] -u root app",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        "zip -r out.zip dir && unzip -l out.zip && gzip -k f",
        "rar a -hp x.rar f && zip -P \"$ZIP_PW\" out.zip f",
        "mysql -hprod.db -u root app; mariadb -hpg.internal app",
        "zip -r out.zip dir && mysql -P 3306 -h db app",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn a_header_pair_of_bytes_or_in_braces() {
    for (input, expected) in [
        (
            r#"scope = {"type": "http", "headers": [(b"x-api-key", b"abcd1234efgh")]}"#,
            r#"scope = {"type": "http", "headers": [(b"x-api-key", b"[REDACTED]")]}"#,
        ),
        (
            r#"HTTPoison.get!(url, [{"X-Auth-Token", "abcd1234efgh"}, {"accept", "*/*"}])"#,
            r#"HTTPoison.get!(url, [{"X-Auth-Token", "[REDACTED]"}, {"accept", "*/*"}])"#,
        ),
        (
            r#"cpr::Header{{"x-api-key", "abcd1234efgh"}}"#,
            r#"cpr::Header{{"x-api-key", "[REDACTED]"}}"#,
        ),
        // As JSON text escapes it.
        (
            r#"{"code": "[(b\"x-api-key\", b\"abcd1234efgh\")]"}"#,
            r#"{"code": "[(b\"x-api-key\", b\"[REDACTED]\")]"}"#,
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        r#"Req.get!(url, headers: [{"accept", "application/json"}])"#,
        r#"allowed = {"authorization", "content-type"}; cols = {{"token", "expires"}}"#,
        r#"headers = [(b"content-type", b"text/plain")]"#,
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn odbcs_pwd_as_a_key() {
    let mut value = json!({
        "conn": {"DRIVER": "ODBC Driver 18", "UID": "alice", "PWD": "s3cretPass"},
        "digits": {"PWD": 12_345_678},
        "text": "{\"UID\": \"alice\", \"PWD\": \"s3cretPass\"}"
    });
    assert!(redact_value(&mut value));
    assert_eq!(
        value,
        json!({
            "conn": {"DRIVER": "ODBC Driver 18", "UID": "alice", "PWD": REDACTED},
            "digits": {"PWD": REDACTED},
            "text": format!("{{\"UID\":\"alice\",\"PWD\":\"{REDACTED}\"}}")
        })
    );
    let folders = json!({
        "PWD": "/home/dev", "OLDPWD": "/tmp", "env": {"PWD": "C:\\Users\\dev"},
        "shell": {"PWD": "$HOME", "HOME": "~"}, "unset": {"PWD": ""}
    });
    let mut value = folders.clone();
    assert!(!redact_value(&mut value));
    assert_eq!(value, folders);
}

#[test]
fn a_login_calls_password_is_told_by_where_its_host_is() {
    for (input, expected) in [
        (
            r#"s.login("db.example.com", "alice", "hunter2xyz", port=2222)"#,
            r#"s.login("db.example.com", "alice", "[REDACTED]", port=2222)"#,
        ),
        (
            r"s.login('10.0.0.5', 'root', 'hunter2xyz')",
            r"s.login('10.0.0.5', 'root', '[REDACTED]')",
        ),
        (
            r#"cx_Oracle.connect("scott", "tiger9x", "localhost/orclpdb")"#,
            r#"cx_Oracle.connect("scott", "[REDACTED]", "localhost/orclpdb")"#,
        ),
        // A password that reads as no host, and a login's usual pair, still go.
        (
            r#"login("alice", "s3cret.pass"); smtp.login("alice", "hunter2xyz")"#,
            r#"login("alice", "[REDACTED]"); smtp.login("alice", "[REDACTED]")"#,
        ),
        (
            r#"MySQLdb.connect("db.internal", "alice", "hunter2xyz", "app")"#,
            r#"MySQLdb.connect("db.internal", "alice", "[REDACTED]", "app")"#,
        ),
        (
            r#"SMBConnection("alice", "hunter2xyz", "client", "fileserver.corp")"#,
            r#"SMBConnection("alice", "[REDACTED]", "client", "fileserver.corp")"#,
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        r#"ssh_login("alice", "bastion.example.com"); do_login("deploy", "10.0.0.5:22")"#,
        r#"login("alice", "https://app.example.com"); s.login("db.example.com", "alice")"#,
        r#"s.login("localhost", "alice", os.environ["PW"])"#,
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn a_call_about_a_login_that_happened_keeps_its_arguments() {
    for clean in [
        r#"audit.record_login("alice", "failed"); log_login("alice", "success")"#,
        r#"on_login("alice", "dashboard"); redirectAfterLogin("alice", "/home/welcome")"#,
        r#"trackLogin("alice", "web"); audit_log_login("bob", "mobile")"#,
    ] {
        assert_eq!(redact_str(clean), clean);
    }
    for (input, expected) in [
        (
            r#"do_login("alice", "hunter2xyz"); tryLogin("bob", "hunter2xyz")"#,
            r#"do_login("alice", "[REDACTED]"); tryLogin("bob", "[REDACTED]")"#,
        ),
        (
            r#"check_login("alice", "hunter2xyz"); ftp.login("alice", "hunter2xyz")"#,
            r#"check_login("alice", "[REDACTED]"); ftp.login("alice", "[REDACTED]")"#,
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
}

#[test]
fn a_login_calls_password_after_a_user_in_a_variable() {
    for (input, expected) in [
        (
            r#"ftp.login(user, "s3cretPass"); smtp.login(os.environ["U"], 's3cretPass')"#,
            r#"ftp.login(user, "[REDACTED]"); smtp.login(os.environ["U"], '[REDACTED]')"#,
        ),
        (
            r#"client.connect(host, 22, user, "s3cretPass")"#,
            r#"client.connect(host, 22, user, "[REDACTED]")"#,
        ),
        (
            r#"pymysql.connect(host, os.getenv("DB_USER"), "s3cretPass", "app")"#,
            r#"pymysql.connect(host, os.getenv("DB_USER"), "[REDACTED]", "app")"#,
        ),
        (
            r#"auth=(cfg.user, "s3cretPass"); HTTPBasicAuth(username, "s3cretPass")"#,
            r#"auth=(cfg.user, "[REDACTED]"); HTTPBasicAuth(username, "[REDACTED]")"#,
        ),
        (
            r#"s.login(hostname, "root", "s3cretPass")"#,
            r#"s.login(hostname, "root", "[REDACTED]")"#,
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        r#"mqtt.connect(host, timeout, "a", "b"); ws.connect(host, 8080, "chat")"#,
        r#"ftp.login(user, os.environ["PW"]); ssh_login(user, "bastion.example.com")"#,
        r#"do_login(self, "dashboard"); on_login(user, "failed"); connect(url); max(a, b)"#,
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn an_ldap_binds_password() {
    for (input, expected) in [
        (
            r#"l.simple_bind_s("cn=admin,dc=x", "s3cretPass"); l.simple_bind(who, "s3cretPass")"#,
            r#"l.simple_bind_s("cn=admin,dc=x", "[REDACTED]"); l.simple_bind(who, "[REDACTED]")"#,
        ),
        (
            r#"conn.bind_s(dn, "s3cretPass", ldap.AUTH_SIMPLE); client.bind("cn=root", "s3cretPass", cb)"#,
            r#"conn.bind_s(dn, "[REDACTED]", ldap.AUTH_SIMPLE); client.bind("cn=root", "[REDACTED]", cb)"#,
        ),
        (
            r#"c = Connection(server, "cn=admin,dc=x", "s3cretPass", auto_bind=True)"#,
            r#"c = Connection(server, "cn=admin,dc=x", "[REDACTED]", auto_bind=True)"#,
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        r#"el.on("x", handler.bind(this, "click")); fn.bind(null, "a"); s.bind(("0.0.0.0", 80))"#,
        r#"l.simple_bind_s("cn=admin", os.environ["PW"]); c = Connection(server); bind("a", "b")"#,
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn a_redis_clients_positional_password() {
    for (input, expected) in [
        (
            r#"r = redis.Redis("cache.internal", 6379, 0, "s3cretPass")"#,
            r#"r = redis.Redis("cache.internal", 6379, 0, "[REDACTED]")"#,
        ),
        (
            r"r = redis.StrictRedis(host, port, db, 's3cretPass', socket_timeout=5)",
            r"r = redis.StrictRedis(host, port, db, '[REDACTED]', socket_timeout=5)",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        r#"r = redis.Redis(); r = redis.Redis("localhost", 6379, 0); Redis(h, p, d, pw)"#,
        r#"r = redis.Redis("localhost", 6379, 0, None); redis.from_url("redis://cache")"#,
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn prose_after_a_password_flag_keeps_its_words() {
    for clean in [
        "use zip -P to set a password",
        "zip -P is insecure; with zip -P, the password shows in ps",
        "The flag zip -P takes the password in clear, as sshpass -p does",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
    for (input, expected) in [
        (
            "zip -P s3cretPass out.zip f — then I ran cp -P src dst",
            "zip -P [REDACTED] out.zip f — then I ran cp -P src dst",
        ),
        (
            "zip -P s3cretPass out.zip f – unzip -P to check",
            "zip -P [REDACTED] out.zip f – unzip -P to check",
        ),
        (
            "zip out.zip f -P s3cretPass && sshpass -p s3cretPass ssh host",
            "zip out.zip f -P [REDACTED] && sshpass -p [REDACTED] ssh host",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
}

#[test]
fn a_password_set_in_sql() {
    for (input, expected) in [
        (
            "CREATE USER 'app'@'%' IDENTIFIED BY 's3cretPass'; ALTER USER app IDENTIFIED WITH mysql_native_password BY 's3cretPass';",
            "CREATE USER 'app'@'%' IDENTIFIED BY '[REDACTED]'; ALTER USER app IDENTIFIED WITH mysql_native_password BY '[REDACTED]';",
        ),
        (
            "CREATE ROLE app LOGIN PASSWORD 's3cretPass'; alter user app with encrypted password 's3cretPass';",
            "CREATE ROLE app LOGIN PASSWORD '[REDACTED]'; alter user app with encrypted password '[REDACTED]';",
        ),
        (
            r#"{"sql": "CREATE USER scott IDENTIFIED BY \"s3cretPass\""}"#,
            r#"{"sql": "CREATE USER scott IDENTIFIED BY \"[REDACTED]\""}"#,
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        "a bug identified by users; the password is weak; ALTER USER app PASSWORD NULL",
        "CREATE USER app IDENTIFIED BY '$APP_PW'; SHOW password_encryption; ALTER ROLE app PASSWORD NULL",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn more_logins_password_flags_and_aws_configure_set() {
    for (input, expected) in [
        (
            "oc login https://api.x:6443 -u dev -p s3cretPass && cf login -a api.x -u dev -p s3cretPass",
            "oc login https://api.x:6443 -u dev -p [REDACTED] && cf login -a api.x -u dev -p [REDACTED]",
        ),
        (
            "az login -u dev@corp.io -p s3cretPass; twine upload -u __token__ -p s3cretPass dist/*",
            "az login -u dev@corp.io -p [REDACTED]; twine upload -u __token__ -p [REDACTED] dist/*",
        ),
        (
            "aws configure set aws_secret_access_key s3cretPass && aws configure set --profile ci default.aws_session_token s3cretPass",
            "aws configure set aws_secret_access_key [REDACTED] && aws configure set --profile ci default.aws_session_token [REDACTED]",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        "aws configure set region us-east-1 && aws configure set output json",
        "oc login https://api.x:6443 -u dev && twine upload dist/* && doc login -p x",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn sambas_user_and_password_flag() {
    for (input, expected) in [
        (
            "smbclient //fs/share -U alice%s3cretPass -c ls && rpcclient -U 'CORP\\alice%s3cretPass' dc1",
            "smbclient //fs/share -U alice%[REDACTED] -c ls && rpcclient -U 'CORP\\alice%[REDACTED]' dc1",
        ),
        (
            "smbcacls //fs/share f.txt -Ualice%s3cretPass",
            "smbcacls //fs/share f.txt -Ualice%[REDACTED]",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        "smbclient //fs/share -U alice -c ls && smbclient -L fs -U alice% -N",
        "sort -U x && smbclient //fs/share -N",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn passwords_of_more_commands_flags_and_login_calls() {
    for (input, expected) in [
        (
            "lftp -u deploy,s3cretPass sftp://h -e 'ls; bye'",
            "lftp -u deploy,[REDACTED] sftp://h -e 'ls; bye'",
        ),
        (
            "htpasswd -bB /etc/nginx/.htpasswd admin s3cretPass && htpasswd -nb ops s3cretPass",
            "htpasswd -bB /etc/nginx/.htpasswd admin [REDACTED] && htpasswd -nb ops [REDACTED]",
        ),
        (
            "openssl enc -aes-256-cbc -in a -k s3cretPass && openssl enc -d -in b -pass pass:s3cretPass",
            "openssl enc -aes-256-cbc -in a -k [REDACTED] && openssl enc -d -in b -pass pass:[REDACTED]",
        ),
        (
            "keytool -genkeypair -keystore a.jks -storepass s3cretPass -keypass s3cretPass -dname CN=a",
            "keytool -genkeypair -keystore a.jks -storepass [REDACTED] -keypass [REDACTED] -dname CN=a",
        ),
        (
            "vault login s3cretPass && vault login -no-print s3cretPass",
            "vault login [REDACTED] && vault login -no-print [REDACTED]",
        ),
        (
            r"net use Z: \\fs\share s3cretPass /user:CORP\alice && net user bob s3cretPass /add",
            r"net use Z: \\fs\share [REDACTED] /user:CORP\alice && net user bob [REDACTED] /add",
        ),
        (
            "rclone obscure s3cretPass; rclone config create r sftp host h pass s3cretPass --obscure",
            "rclone obscure [REDACTED]; rclone config create r sftp host h pass [REDACTED] --obscure",
        ),
        (
            "./migrate -password s3cretPass -dir x && plink -pw s3cretPass host",
            "./migrate -password [REDACTED] -dir x && plink -pw [REDACTED] host",
        ),
        (
            "cf auth ci s3cretPass && rabbitmqctl add_user ci s3cretPass",
            "cf auth ci [REDACTED] && rabbitmqctl add_user ci [REDACTED]",
        ),
        (
            "mount -t cifs //fs/s /mnt -o user=alice%s3cretPass,uid=1000",
            "mount -t cifs //fs/s /mnt -o user=alice%[REDACTED],uid=1000",
        ),
        (
            r#"sshpass -p 'ab'"'"'cd' ssh h; export DB_PASSWORD='ab'\''cd'"#,
            "sshpass -p '[REDACTED]' ssh h; export DB_PASSWORD='[REDACTED]'",
        ),
        (
            "oc login -u dev -p=s3cretPass && ssh-keygen -p -P s3cretPass -N s3cretPass -f k",
            "oc login -u dev -p=[REDACTED] && ssh-keygen -p -P [REDACTED] -N [REDACTED] -f k",
        ),
        (
            r#"ftplib.FTP("ftp.corp.io", "alice", "s3cretPass"); pika.PlainCredentials("guest", "s3cretPass")"#,
            r#"ftplib.FTP("ftp.corp.io", "alice", "[REDACTED]"); pika.PlainCredentials("guest", "[REDACTED]")"#,
        ),
        (
            "Net::FTP.new('h.corp.io', 'alice', 's3cretPass')\nNet::SMTP.start('smtp.corp.io', 587, 'mail.from.domain', 'alice', 's3cretPass', :login)",
            "Net::FTP.new('h.corp.io', 'alice', '[REDACTED]')\nNet::SMTP.start('smtp.corp.io', 587, 'mail.from.domain', 'alice', '[REDACTED]', :login)",
        ),
        (
            r#"cx_Oracle.connect("scott", "s3cretPass", dsn); cx_Oracle.connect("scott/s3cretPass@db:1521/orcl")"#,
            r#"cx_Oracle.connect("scott", "[REDACTED]", dsn); cx_Oracle.connect("scott/[REDACTED]@db:1521/orcl")"#,
        ),
        (
            "sqlplus -s scott/s3cretPass@orcl && openssl passwd -6 -salt x s3cretPass",
            "sqlplus -s scott/[REDACTED]@orcl && openssl passwd -6 -salt x [REDACTED]",
        ),
        (
            r#"$p = ConvertTo-SecureString "s3cretPass" -AsPlainText -Force; $q = "s3cretPass" | ConvertTo-SecureString -AsPlainText"#,
            r#"$p = ConvertTo-SecureString "[REDACTED]" -AsPlainText -Force; $q = "[REDACTED]" | ConvertTo-SecureString -AsPlainText"#,
        ),
        (
            "mosquitto_pub -h m -u s -P s3cretPass -t t && bcp t out f -U sa -P s3cretPass",
            "mosquitto_pub -h m -u s -P [REDACTED] -t t && bcp t out f -U sa -P [REDACTED]",
        ),
        (
            // Lines of JSON text: a bare password ends at an escaped line break.
            r#"vault login s3cretPass\nvault login s3cretPass\nrabbitmqctl add_user ci s3cretPass\nConvertTo-SecureString \"s3cretPass\""#,
            r#"vault login [REDACTED]\nvault login [REDACTED]\nrabbitmqctl add_user ci [REDACTED]\nConvertTo-SecureString \"[REDACTED]\""#,
        ),
        (
            "const url = `https://${user}:s3cretPass@git.corp.io/a.git`;",
            "const url = `https://${user}:[REDACTED]@git.corp.io/a.git`;",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    // A setting named `pw` before the cmdlet (`$pw = …`) loses the password too.
    check(
        "$pw = ConvertTo-SecureString \"s3cretPass\" -AsPlainText -Force",
        "s3cretPass",
        &["-AsPlainText"],
    );
    check(
        r#"vault login s3cretPass\\nvault login -no-print s3cretPass", "id": 1"#,
        "s3cretPass",
        &[r"\\nvault login -no-print"],
    );
    for clean in [
        "SET password_encryption = 'scram-sha-256';",
        "openssl enc -d -in b -pass env:KEY_PASS -kfile key.txt && openssl req -new -key k.pem -keyout x",
        "vault login -method=github && vault login -method=userpass username=alice",
        r"net use Z: \\fs\share /user:alice * && net user bob /delete && network use x",
        "cf push app && htpasswd -c file alice && ssh-keygen -t ed25519 -N '' -f k",
        "keytool -list -keystore a.jks -storepass:env PW && go run . -token $TOKEN",
        "ftp.login(user, pw) && lftp -u deploy sftp://h && mount -t cifs //fs/s /mnt -o user=alice",
        "Set the -password flag to the password, or run cf auth to log in.",
        "sqlplus / as sysdba && rman target / && openssl passwd -stdin < pw.txt",
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}

#[test]
fn passwords_past_quotes_lists_and_value_flags() {
    for (input, expected) in [
        (
            r#"lftp -e "set ssl:verify no; mirror" -u deploy,s3cretPass sftp://h"#,
            r#"lftp -e "set ssl:verify no; mirror" -u deploy,[REDACTED] sftp://h"#,
        ),
        (
            r#"{"command": "redis-cli --eval \"a.lua\" \"x|y\" -a s3cretPass ping"}"#,
            r#"{"command": "redis-cli --eval \"a.lua\" \"x|y\" -a [REDACTED] ping"}"#,
        ),
        (
            "rman target sys/s3cretPass@prod auxiliary sys/s3cretPass@dup catalog=rco/s3cretPass@cat",
            "rman target sys/[REDACTED]@prod auxiliary sys/[REDACTED]@dup catalog=rco/[REDACTED]@cat",
        ),
        (
            r#"subprocess.run(["mysql", "-u", "root", "-ps3cretPass"]); spawn("x", ["--token", "s3cretPass"])"#,
            r#"subprocess.run(["mysql", "-u", "root", "-p[REDACTED]"]); spawn("x", ["--token", "[REDACTED]"])"#,
        ),
        (
            "exec.Command(\"sshpass\",\n\t\"-p\", \"s3cretPass\",\n\t\"ssh\", host)",
            "exec.Command(\"sshpass\",\n\t\"-p\", \"[REDACTED]\",\n\t\"ssh\", host)",
        ),
        (
            "export VAULT_TOKEN=s.Qw8Er5Ty2Ui9Op4As7Df1Gh6",
            "export VAULT_TOKEN=[REDACTED]",
        ),
        (
            "winrs -r:srv01 -u:alice -p:s3cretPass ipconfig",
            "winrs -r:srv01 -u:[REDACTED] -p:[REDACTED] ipconfig",
        ),
        (
            "ALTER USER bob IDENTIFIED BY 'it''s-s3cret'; CREATE ROLE a PASSWORD \"x\"\"s3cret\"",
            "ALTER USER bob IDENTIFIED BY '[REDACTED]'; CREATE ROLE a PASSWORD \"[REDACTED]\"",
        ),
        (
            "vault login -address https://h:8200 -no-print s.tokentokentoken",
            "vault login -address https://h:8200 -no-print [REDACTED]",
        ),
    ] {
        assert_eq!(redact_str(input), expected, "{input}");
    }
    for clean in [
        "for expdp read/write on the directory is needed; grant read/write on directory dp",
        "grep -rn -password src/ && grep -rn -- --token docs/ && rg -i -secret .",
        "vault login -method userpass && rman target / catalog the/docs",
        r#"parser.add_argument("-p", "--password", help="the password"); ["--verbose", "-q"]"#,
        r#"target = self.target; "s.items", "-v"; x = s.tokenizer"#,
    ] {
        assert_eq!(redact_str(clean), clean);
    }
}
