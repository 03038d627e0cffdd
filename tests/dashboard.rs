//! `dashboard` (issue 15): totals, buckets and top tools that equal what `list`, `stats` and
//! `eval` say of the same store; `--last` and `--since`; sparklines a column a day; dated notes
//! written by `dashboard annotate` and read back on the trend; the HTML page self-contained
//! with every session text escaped. (The pages in a real browser: tests/browser/dashboard.mjs.)

use std::collections::BTreeMap;

use agent_strace::model::Tokens;
use serde_json::{Value, json};

use crate::common::{Run, SessionBuilder, TestEnv};

const DAY: f64 = 86_400.0;

/// Noon (UTC) `days` days before today, or now when today's noon is still to come (a start
/// later than the clock is not believed): every test runs with `TZ=UTC`, so days are UTC days.
fn days_ago(days: u32) -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    ((now / DAY).floor() * DAY - f64::from(days) * DAY + 12.0 * 3600.0).min(now.floor())
}

fn run(env: &TestEnv, args: &[&str]) -> Run {
    Run::of(env.command(args).env("TZ", "UTC").output().unwrap())
}

fn id(i: u32) -> String {
    format!("0000{i:04x}-0000-4000-8000-000000000000")
}

/// A session `days` days ago: `calls` Bash calls of which `failed` failed, one Read, one model
/// response of `tokens` output tokens; its `meta.json` counters say the same.
fn session(i: u32, days: u32, calls: u32, failed: u32, tokens: u64) -> SessionBuilder {
    let mut s = SessionBuilder::new(&id(i))
        .started(days_ago(days))
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt(&format!("task {i}"))
        .at(1.0)
        .tool_call("Read", json!({"file_path": "/p/src/lib.rs"}))
        .result(json!("fn main() {}"));
    for n in 0..calls {
        s = s
            .at(2.0 + f64::from(n))
            .tool_call("Bash", json!({"command": format!("cargo test {n}")}));
        s = if n < failed {
            s.error("1 test failed")
        } else {
            s.result(json!("ok"))
        };
    }
    s.at(60.0)
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: 1000,
                output: tokens,
                ..Tokens::default()
            },
        )
        .ended(90.0)
        .meta(|m| {
            m.tool_calls = u64::from(calls) + 1;
            m.errors = u64::from(failed);
            m.total_tokens = 1000 + tokens;
            m.llm_requests = 1;
        })
}

/// Six sessions over nine days, one with a subagent.
fn store(env: &TestEnv) {
    session(1, 9, 2, 0, 100).write(env);
    session(2, 5, 4, 1, 200).write(env);
    session(3, 5, 1, 0, 300).write(env);
    session(4, 2, 6, 3, 400).write(env);
    session(5, 0, 3, 0, 500).write(env);
    session(6, 0, 1, 1, 600).write(env);
    session(7, 0, 2, 1, 700)
        .meta(|m| m.parent_session_id = Some(id(6)))
        .write(env);
}

fn count(list: &Value, key: &str) -> u64 {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s[key].as_u64().unwrap())
        .sum()
}

fn sum(list: &Value, key: &str) -> f64 {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s[key].as_f64().unwrap_or(0.0))
        .sum()
}

#[test]
fn the_totals_are_what_list_and_stats_say() {
    let env = TestEnv::new();
    store(&env);
    let board = run(&env, &["dashboard", "--format", "json"]);
    board.success();
    let d = board.json();
    let listed = run(&env, &["list", "--format", "json"]).json();
    let all = run(&env, &["list", "--all", "--format", "json"]).json();
    let t = &d["totals"];
    assert_eq!(t["sessions"], listed.as_array().unwrap().len());
    assert_eq!(t["subagent_sessions"], 1);
    assert_eq!(t["tool_calls"], count(&all, "tool_calls"));
    assert_eq!(t["errors"], count(&all, "errors"));
    assert_eq!(t["tokens"], count(&all, "total_tokens"));
    let cost = t["cost_usd"].as_f64().unwrap();
    assert!(cost > 0.0);
    assert!(
        (cost - sum(&listed, "cost_usd")).abs() < 1e-9,
        "{cost} {listed}"
    );
    // And what `cost` says of each session, its subagents counted in.
    let costed: f64 = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            run(
                &env,
                &[
                    "cost",
                    s["session_id"].as_str().unwrap(),
                    "--format",
                    "json",
                ],
            )
            .json()["cost_usd"]
                .as_f64()
                .unwrap()
        })
        .sum();
    assert!((cost - costed).abs() < 1e-6, "{cost} {costed}");
    // The top tools: every session's `stats`, summed.
    let mut tools: BTreeMap<String, u64> = BTreeMap::new();
    for s in all.as_array().unwrap() {
        let stats = run(
            &env,
            &[
                "stats",
                s["session_id"].as_str().unwrap(),
                "--format",
                "json",
            ],
        )
        .json();
        for tool in stats["tools"].as_array().unwrap() {
            *tools
                .entry(tool["tool"].as_str().unwrap().into())
                .or_default() += tool["calls"].as_u64().unwrap();
        }
    }
    let top: BTreeMap<String, u64> = d["top_tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tool"].as_str().unwrap().into(),
                t["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(top, tools);
    assert_eq!(d["top_tools"][0]["tool"], "Bash");
    // One bucket a day from the oldest session to today; the subagent on its parent's day.
    let buckets = d["buckets"].as_array().unwrap();
    assert_eq!(d["bucket_days"], 1);
    assert_eq!(buckets.len(), 10);
    let sessions: Vec<u64> = buckets
        .iter()
        .map(|b| b["sessions"].as_u64().unwrap())
        .collect();
    assert_eq!(sessions, [1, 0, 0, 0, 2, 0, 0, 1, 0, 2]);
    assert_eq!(buckets[9]["tool_calls"], 4 + 2 + 3);
    assert_eq!(buckets[9]["errors"], 1 + 1);
    assert_eq!(buckets[7]["errors"], 3);
}

#[test]
fn the_terminal_view_draws_a_column_a_day() {
    let env = TestEnv::new();
    store(&env);
    let text = run(&env, &["dashboard"]);
    text.success();
    assert!(!text.stdout.contains('\x1b'), "no colour off a terminal");
    let line = |name: &str| {
        text.stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line: {}", text.stdout))
            .to_owned()
    };
    // Sessions 1,0,0,0,2,0,0,1,0,2 scaled to 2: ▄ for 1, █ for 2, · for none.
    assert!(
        line("Sessions").contains("▄···█··▄·█"),
        "{}",
        line("Sessions")
    );
    // Errors 0,0,0,0,1,0,0,3,0,2 scaled to 3.
    assert!(line("Errors").contains("····▃··█·▆"), "{}", line("Errors"));
    assert!(text.stdout.contains("TOOL"), "{}", text.stdout);
    let coloured = run(&env, &["--color", "always", "dashboard"]);
    assert!(coloured.stdout.contains("\x1b[36m"), "{}", coloured.stdout);
    // On a terminal (util-linux `script` gives it one): colour, unless NO_COLOR says no.
    let on_a_terminal = |no_color: bool| {
        let line = format!("{} dashboard", crate::common::bin().display());
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"])
            .current_dir(env.path());
        for (key, value) in env.command(&[]).get_envs() {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        cmd.env("TZ", "UTC").env("TERM", "xterm");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().ok().filter(|o| o.status.success())?;
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    if let Some(tty) = on_a_terminal(false) {
        assert!(tty.contains("\x1b[36m"), "{tty}");
        let plain = on_a_terminal(true).unwrap();
        assert!(
            plain.contains("Sessions") && !plain.contains('\x1b'),
            "{plain}"
        );
    }
}

#[test]
fn last_and_since_pick_the_sessions() {
    let env = TestEnv::new();
    store(&env);
    let last = run(&env, &["dashboard", "--last", "2", "--format", "json"]).json();
    assert_eq!(last["totals"]["sessions"], 2);
    let recent: Vec<&str> = last["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(recent.len(), 2);
    assert!(recent.contains(&id(5).as_str()) && recent.contains(&id(6).as_str()));
    let since = run(&env, &["dashboard", "--since", "6d", "--format", "json"]).json();
    assert_eq!(since["totals"]["sessions"], 5);
    assert_eq!(since["buckets"].as_array().unwrap().len(), 7);
    let listed = run(&env, &["list", "--since", "6d", "--format", "json"]).json();
    assert_eq!(
        since["totals"]["sessions"],
        listed.as_array().unwrap().len()
    );
    let bad = run(&env, &["dashboard", "--since", "soon"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert_eq!(bad.stderr.lines().count(), 1, "{}", bad.stderr);
    let zero = run(&env, &["dashboard", "--last", "0"]);
    assert_eq!(zero.code, 2, "{zero:?}");
}

/// `list` with a period that held no session said "No sessions recorded yet.", as if the
/// store were empty; it says where the sessions are instead, as `budget-report` does.
#[test]
fn list_says_where_the_sessions_are_when_its_period_holds_none() {
    let env = TestEnv::new();
    store(&env);
    let day = |days: u32| {
        chrono::DateTime::from_timestamp(days_ago(days) as i64, 0)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string()
    };
    // Today's sessions start at noon, or now before noon.
    let today_at = chrono::DateTime::from_timestamp(days_ago(0) as i64, 0)
        .unwrap()
        .format("%H:%M")
        .to_string();
    let says = |args: &[&str], line: String| {
        let listed = run(&env, args);
        assert_eq!(listed.code, 0, "{listed:?}");
        assert_eq!(listed.stdout.trim_end(), line, "{args:?}");
    };
    says(
        &["list", "--until", &day(20)],
        format!(
            "No session started in that period; the oldest started {} 12:00 (try --until {}).",
            day(9),
            day(9)
        ),
    );
    let tomorrow = chrono::DateTime::from_timestamp(days_ago(0) as i64 + 86_400, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    says(
        &["list", "--since", &tomorrow],
        format!(
            "No session started in that period; the newest started {} {today_at} (try --since {}).",
            day(0),
            day(0)
        ),
    );
    says(
        &["list", "--since", &day(4), "--until", &day(3)],
        format!(
            "No session started in that period; the sessions recorded started from {} 12:00 to {} {today_at}.",
            day(9),
            day(0)
        ),
    );
    let json = run(&env, &["list", "--since", &tomorrow, "--format", "json"]);
    assert_eq!(json.json(), serde_json::json!([]));
}

#[test]
fn notes_are_written_and_marked_on_the_trend() {
    let env = TestEnv::new();
    store(&env);
    let day = chrono::DateTime::from_timestamp(days_ago(3) as i64, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let noted = run(
        &env,
        &[
            "dashboard",
            "annotate",
            "--date",
            &day,
            "--note",
            "moved to </script> sonnet",
        ],
    );
    noted.success();
    assert!(noted.stdout.contains(&day), "{}", noted.stdout);
    let trend = run(
        &env,
        &["dashboard", "--trend", "--since", "9d", "--format", "json"],
    );
    trend.success();
    let t = trend.json();
    let markers = t["trend"]["markers"].as_array().unwrap();
    assert_eq!(markers.len(), 1, "{t}");
    assert_eq!(markers[0]["date"], day.as_str());
    assert_eq!(markers[0]["note"], "moved to </script> sonnet");
    assert_eq!(markers[0]["bucket"], 6);
    // On the terminal: the note under the charts, `^` in its column.
    let text = run(&env, &["dashboard", "--trend", "--since", "9d"]);
    text.success();
    assert!(
        text.stdout.contains("moved to </script> sonnet"),
        "{}",
        text.stdout
    );
    let marks = text
        .stdout
        .lines()
        .find(|l| l.starts_with("Notes"))
        .unwrap();
    let sparkline_start = text
        .stdout
        .lines()
        .find(|l| l.starts_with("Error rate"))
        .unwrap()
        .char_indices()
        .count()
        - 10;
    assert_eq!(marks.chars().count(), sparkline_start + 7, "{marks:?}");
    for bad in ["2026-13-01", "25/11/2026", "yesterday", ""] {
        let r = run(
            &env,
            &["dashboard", "annotate", "--date", bad, "--note", "x"],
        );
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        assert_eq!(
            r.stderr.trim_end().lines().count(),
            1,
            "{bad}: {}",
            r.stderr
        );
    }
    let empty = run(
        &env,
        &["dashboard", "annotate", "--date", &day, "--note", " "],
    );
    assert_eq!(empty.code, 2, "{empty:?}");
    // Only the good note was kept, and it is marked only in a period that holds its day.
    let again = run(&env, &["dashboard", "--trend", "--format", "json"]).json();
    assert_eq!(again["trend"]["markers"].as_array().unwrap().len(), 1);
    let later = run(
        &env,
        &["dashboard", "--trend", "--since", "2d", "--format", "json"],
    )
    .json();
    assert_eq!(later["trend"]["markers"], json!([]));
}

#[test]
fn pass_rates_are_what_eval_says() {
    let env = TestEnv::new();
    store(&env);
    std::fs::write(
        env.path().join(".agent-evals.yaml"),
        "scorers:\n  - type: no_errors\n  - type: tool_calls_under\n    max_calls: 4\n",
    )
    .unwrap();
    let t = run(
        &env,
        &["dashboard", "--trend", "--since", "30d", "--format", "json"],
    );
    t.success();
    let t = t.json();
    let listed = run(&env, &["list", "--format", "json"]).json();
    let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for s in listed.as_array().unwrap() {
        let e = run(
            &env,
            &[
                "eval",
                s["session_id"].as_str().unwrap(),
                "--format",
                "json",
            ],
        )
        .json();
        let overall = expected.entry("overall".into()).or_default();
        overall.0 += 1;
        overall.1 += u64::from(e["passed"].as_bool().unwrap());
        for r in e["results"].as_array().unwrap() {
            let entry = expected
                .entry(r["scorer"].as_str().unwrap().into())
                .or_default();
            entry.0 += 1;
            entry.1 += u64::from(r["passed"].as_bool().unwrap());
        }
    }
    let got: BTreeMap<String, (u64, u64)> = t["trend"]["judges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["judge"].as_str().unwrap().into(),
                (j["judged"].as_u64().unwrap(), j["passed"].as_u64().unwrap()),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got["no_errors"], (6, 3));
    // Per day: today's two sessions, one of them failed.
    let overall = &t["trend"]["judges"][0];
    assert_eq!(overall["judge"], "overall");
    let rates = overall["pass_rate"].as_array().unwrap();
    assert_eq!(rates.last().unwrap().as_f64(), Some(0.5));
    assert_eq!(rates[rates.len() - 2], Value::Null);
}

#[test]
fn the_page_is_self_contained_and_escapes_what_sessions_say() {
    let env = TestEnv::new();
    let hostile = "</script><img src=x onerror=alert(1)> javascript:alert(2)";
    SessionBuilder::new("evil\"><svg onload=alert(3)>")
        .started(days_ago(1))
        .prompt(hostile)
        .tool_call("<b>Bash</b>", json!({"command": hostile}))
        .result(json!("ok"))
        .write(&env);
    let page = env.path().join("out/index.html");
    let r = run(&env, &["dashboard", "--html", page.to_str().unwrap()]);
    r.success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Content-Security-Policy"));
    assert!(!html.contains("<script"), "no script at all");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<svg onload"), "{html}");
    assert!(html.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("href=\"replay-evil%22%3E%3Csvg%20onload%3Dalert%283%29%3E.html\""));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no request out"
    );
    let trend = env.path().join("out/trend.html");
    run(
        &env,
        &["dashboard", "--trend", "--html", trend.to_str().unwrap()],
    )
    .success();
    let html = std::fs::read_to_string(&trend).unwrap();
    assert!(html.contains("data-metric=\"pass_rate\""));
    assert!(!html.contains("<img"));
}

/// The dashboard's page showed a character that reorders text as `\u{202e}`, where every other
/// view (the terminal, share's and replay's pages) shows `\u202e`; and a tool's name whole,
/// 100 KB of it in the table of top tools. One escape everywhere, names cut to 80 characters.
#[test]
fn the_page_escapes_as_every_view_does_and_cuts_long_names() {
    let env = TestEnv::new();
    let long = "T".repeat(100_000);
    SessionBuilder::new("dash-names")
        .started(days_ago(1))
        .prompt("go")
        .tool_call("report\u{202e}fdp.exe", json!({}))
        .result(json!("ok"))
        .tool_call(&long, json!({}))
        .result(json!("ok"))
        .write(&env);
    let page = env.path().join("out/index.html");
    run(&env, &["dashboard", "--html", page.to_str().unwrap()]).success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("report\\u202efdp.exe"), "{}", &html[..2000]);
    assert!(!html.contains('\u{202e}') && !html.contains("\\u{202e}"));
    assert!(
        !html.contains(&"T".repeat(100)),
        "a name cut to 80 characters"
    );
    assert!(html.contains(&format!("{}…", "T".repeat(79))));
}

/// The dashboard's page put the tag characters that hide a text ("ASCII smuggling"), the word
/// joiner and the line separator into the page as they were, drawn as nothing; they show as
/// escapes now, as in every other view, and a flag drawn with tags stays whole.
#[test]
fn the_page_shows_characters_that_draw_nothing_as_escapes() {
    let env = TestEnv::new();
    let flag = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0077}\u{E006C}\u{E0073}\u{E007F}";
    let hidden = format!("tool\u{2060}\u{2028}\u{E0001}\u{E0068}\u{E0069}{flag}");
    SessionBuilder::new("dash-unseen")
        .started(days_ago(1))
        .prompt(&hidden)
        .tool_call(&hidden, json!({}))
        .result(json!("ok"))
        .write(&env);
    let page = env.path().join("out/index.html");
    run(&env, &["dashboard", "--html", page.to_str().unwrap()]).success();
    let html = std::fs::read_to_string(&page).unwrap();
    // (A name is shown on one line: the line separator is a space there.)
    let shown = format!("tool\\u2060 \\udb40\\udc01\\udb40\\udc68\\udb40\\udc69{flag}");
    let at = html.find("tool").unwrap_or(0);
    assert!(
        html.contains(&shown),
        "{}",
        &html[at..html.len().min(at + 300)]
    );
    let raw: Vec<char> = html
        .replace(flag, "")
        .chars()
        .filter(|&c| matches!(c, '\u{2060}' | '\u{2028}' | '\u{E0000}'..='\u{E0FFF}'))
        .collect();
    assert!(raw.is_empty(), "{raw:?}");
}

/// The tools past the top ten are counted in one line, singular for one, on the terminal and
/// on the page.
#[test]
fn the_tools_past_the_top_ten_are_counted_in_words() {
    for (tools, more) in [(11, "and 1 other tool"), (12, "and 2 other tools")] {
        let env = TestEnv::new();
        let mut s = SessionBuilder::new(&id(1))
            .started(days_ago(1))
            .prompt("many tools");
        for t in 0..tools {
            s = s
                .at(1.0 + f64::from(t))
                .tool_call(&format!("Tool{t:02}"), json!({}))
                .result(json!("ok"));
        }
        s.write(&env);
        let text = run(&env, &["dashboard", "--color", "never"]);
        text.success();
        assert!(
            text.stdout.lines().any(|l| l.trim() == more),
            "{}",
            text.stdout
        );
        let page = env.path().join("out/index.html");
        run(&env, &["dashboard", "--html", page.to_str().unwrap()]).success();
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(html.contains(&format!(">{more}</p>")), "{html}");
    }
}

/// The recent-sessions table lists the newest 20 and said nothing of the rest: 23 sessions
/// read as 20.
#[test]
fn the_recent_sessions_say_how_many_they_leave_out() {
    let env = TestEnv::new();
    for i in 1..=23 {
        session(i, 1, 1, 0, 100).write(&env);
    }
    let text = run(&env, &["dashboard", "--trend", "--color", "never"]);
    text.success();
    let note = "The newest 20 of 23 sessions; `agent-strace list` lists them all.";
    assert!(text.stdout.contains(note), "{}", text.stdout);
    let page = env.path().join("out/index.html");
    run(&env, &["dashboard", "--html", page.to_str().unwrap()]).success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("The newest 20 of 23 sessions;"), "{html}");
    // All of them shown: no such line.
    let env = TestEnv::new();
    store(&env);
    let text = run(&env, &["dashboard", "--trend", "--color", "never"]);
    text.success();
    assert!(text.stdout.contains("FIRST PROMPT"), "{}", text.stdout);
    assert!(!text.stdout.contains("The newest"), "{}", text.stdout);
}

#[test]
fn an_empty_store_shows_nothing_and_succeeds() {
    let env = TestEnv::new();
    std::fs::create_dir(env.store()).unwrap();
    let r = run(&env, &["dashboard", "--format", "json"]);
    r.success();
    assert_eq!(r.json()["totals"]["sessions"], 0);
    let text = run(&env, &["dashboard"]);
    text.success();
    assert!(text.stdout.contains("no sessions"), "{}", text.stdout);
}

/// What a hostile session plants in its prompt, tool names, arguments, file names, id, agent
/// and command, and what a note says.
const HOSTILE: [&str; 4] = [
    "</script><img src=x onerror=\"window.__pwned=1;alert(1)\">",
    "<svg onload=\"window.__pwned=2\"></svg>",
    "javascript:alert(3)",
    "\"><script>window.__pwned=4</script>",
];

/// A month of sessions with figures that vary from day to day, a hostile one, a subagent,
/// scorers and two notes: what the README's screenshots show.
fn month(env: &TestEnv) -> (String, String) {
    for i in 0..60u32 {
        let day = 29 - (i * 7 % 30);
        let calls = 3 + (i * 5) % 11;
        let failed = if i % 4 == 0 { (i / 4) % 3 + 1 } else { 0 };
        let s = session(
            100 + i,
            day,
            calls,
            failed.min(calls),
            400 + u64::from(i) * 97,
        );
        // Durations that vary, and now and then a failed build tried again (a retry).
        let s = s.ended(60.0 + f64::from(i * 37 % 600));
        let s = if i % 5 == 0 {
            s.at(40.0)
                .tool_call("Bash", json!({"command": "cargo build"}))
                .error("error[E0308]: mismatched types")
                .tool_call("Bash", json!({"command": "cargo build"}))
                .result(json!("ok"))
                .meta(|m| {
                    m.tool_calls += 2;
                    m.errors += 1;
                })
        } else {
            s
        };
        let s = if i % 3 == 0 {
            s.at(30.0)
                .tool_call("Edit", json!({"file_path": format!("/p/src/m{i}.rs")}))
                .result(json!("ok"))
                .tool_call("Grep", json!({"pattern": "fn main"}))
                .result(json!("src/main.rs"))
                .meta(|m| m.tool_calls += 2)
        } else {
            s
        };
        s.write(env);
    }
    session(300, 1, 2, 0, 50)
        .meta(|m| m.parent_session_id = Some(id(100)))
        .write(env);
    let [img, svg, js, quote] = HOSTILE;
    // A session id may hold anything but a slash (it names a folder).
    SessionBuilder::new("bad\"><img src=x onerror=\"window.__pwned=5\">")
        .started(days_ago(0))
        .meta(|m| {
            m.agent_name = svg.into();
            m.command = js.into();
            m.tool_calls = 1;
        })
        .prompt(&format!("{img} {js}"))
        .at(1.0)
        .tool_call(img, json!({"command": svg, "file_path": js}))
        .file_write(&format!("/tmp/{img}.rs"))
        .result(json!(quote))
        .ended(5.0)
        .write(env);
    std::fs::write(
        env.path().join(".agent-evals.yaml"),
        "scorers:\n  - type: no_errors\n  - type: tool_calls_under\n    max_calls: 10\n  - type: duration_under\n    max_seconds: 120\n",
    )
    .unwrap();
    let date = |days: u32| {
        chrono::DateTime::from_timestamp(days_ago(days) as i64, 0)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string()
    };
    run(
        env,
        &[
            "dashboard",
            "annotate",
            "--date",
            &date(20),
            "--note",
            "moved to claude-sonnet-4-5",
        ],
    )
    .success();
    run(
        env,
        &["dashboard", "annotate", "--date", &date(8), "--note", img],
    )
    .success();
    let out = env.path().join("out");
    let board = out.join("index.html");
    let trend = out.join("trend.html");
    run(env, &["dashboard", "--html", board.to_str().unwrap()]).success();
    run(
        env,
        &[
            "dashboard",
            "--trend",
            "--since",
            "30d",
            "--html",
            trend.to_str().unwrap(),
        ],
    )
    .success();
    (
        board.to_string_lossy().into_owned(),
        trend.to_string_lossy().into_owned(),
    )
}

/// Where a screenshot goes: docs/images when `AGENT_STRACE_SCREENSHOTS` asks for it (the
/// README shows them), else the test's own folder.
fn screenshot(env: &TestEnv, name: &str) -> String {
    let path = if std::env::var_os("AGENT_STRACE_SCREENSHOTS").is_some() {
        crate::common::browser::docs_images().join(name)
    } else {
        env.path().join(name)
    };
    path.to_string_lossy().into_owned()
}

#[test]
fn the_pages_in_a_browser_show_their_charts_and_run_no_session_script() {
    let env = TestEnv::new();
    let (board, trend) = month(&env);
    let d = run(&env, &["dashboard", "--format", "json"]).json();
    let t = run(
        &env,
        &["dashboard", "--trend", "--since", "30d", "--format", "json"],
    )
    .json();
    // Both pages hold no script, and everything the sessions said is text.
    for path in [&board, &trend] {
        let html = std::fs::read_to_string(path).unwrap();
        assert!(
            !html.contains("<script") && !html.contains("<img") && !html.contains("<svg onload")
        );
    }
    // Every replay page the tables link to is there.
    for s in d["recent"].as_array().unwrap() {
        let name = format!("replay-{}.html", s["session_id"].as_str().unwrap());
        assert!(env.path().join("out").join(&name).is_file(), "{name}");
    }
    let Some(browser) = crate::common::browser::Browser::from_env(
        "the_pages_in_a_browser_show_their_charts_and_run_no_session_script",
    ) else {
        return;
    };
    let seen = browser.run(
        "dashboard.mjs",
        &json!({"pages": [
            {"path": board, "screenshot": screenshot(&env, "dashboard.png")},
            {"path": trend, "screenshot": screenshot(&env, "trend.png")},
        ]}),
    );
    for page in seen.as_array().unwrap() {
        assert_eq!(page["pwned"], Value::Null, "{page}");
        assert_eq!(page["scripts"], 0, "{page}");
        assert_eq!(page["foreignElements"], json!([]), "{page}");
        assert_eq!(page["handlerAttributes"], json!([]), "{page}");
        assert_eq!(page["unchartedSvgs"], 0, "{page}");
        // Links go to replay pages beside the page, never anywhere else.
        for link in page["links"].as_array().unwrap() {
            let link = link.as_str().unwrap();
            assert!(link.starts_with("file:///"), "{link}");
            assert!(
                link.contains("/out/replay-") && link.rsplit('.').next() == Some("html"),
                "{link}"
            );
        }
        let opened = &page["replayOpened"];
        assert!(opened["lines"].as_u64().unwrap() > 0, "{page}");
        assert_eq!(opened["pwned"], Value::Null);
        // The hostile session's prompt is in the table as text.
        let recent = page["recent"].as_array().unwrap();
        assert_eq!(recent.len(), d["recent"].as_array().unwrap().len());
        assert!(
            recent
                .iter()
                .any(|r| r[7].as_str().unwrap().contains(HOSTILE[0])),
            "{page}"
        );
    }
    // The dashboard: a chart per figure, a bar per bucket, the bars' values the JSON's.
    let dash = &seen[0];
    let buckets = d["buckets"].as_array().unwrap();
    for metric in ["sessions", "tool_calls", "errors", "tokens", "cost_usd"] {
        let chart = &dash["charts"][metric];
        assert_eq!(chart["visible"], true, "{metric}");
        assert_eq!(
            chart["bars"].as_u64().unwrap() as usize,
            buckets.len(),
            "{metric}"
        );
        let values: Vec<f64> = chart["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let expected: Vec<f64> = buckets
            .iter()
            .map(|b| b[metric].as_f64().unwrap())
            .collect();
        for (got, want) in values.iter().zip(&expected) {
            assert!(
                (got - want).abs() < 1e-9,
                "{metric}: {values:?} {expected:?}"
            );
        }
        let nonzero = expected.iter().filter(|v| **v > 0.0).count();
        assert_eq!(
            chart["tallBars"].as_u64().unwrap() as usize,
            nonzero,
            "{metric}"
        );
    }
    assert_eq!(
        dash["topTools"].as_array().unwrap().len(),
        d["top_tools"].as_array().unwrap().len()
    );
    assert!(
        dash["topTools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r[0] == HOSTILE[0])
    );
    // The trend: a line per judge, both notes marked on every bar chart.
    let trend_page = &seen[1];
    let judges: Vec<&str> = t["trend"]["judges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["judge"].as_str().unwrap())
        .collect();
    assert_eq!(
        judges,
        ["overall", "no_errors", "tool_calls_under", "duration_under"]
    );
    let lines: Vec<&str> = trend_page["charts"]["pass_rate"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(lines, judges);
    for metric in ["error_rate", "retry_rate", "cost_usd", "duration_s"] {
        let markers = trend_page["charts"][metric]["markers"].as_array().unwrap();
        assert_eq!(markers.len(), 2, "{metric}: {trend_page}");
        assert!(
            markers[0]
                .as_str()
                .unwrap()
                .contains("moved to claude-sonnet-4-5")
        );
        assert!(markers[1].as_str().unwrap().contains(HOSTILE[0]));
    }
    assert_eq!(trend_page["notes"].as_array().unwrap().len(), 2);
}

/// The HTML dashboard marked its Cost card, but not the cost of a session in its table nor a
/// bucket's bar; the trend page marked neither its card nor its table, and had no note.
#[test]
fn the_html_pages_mark_every_cost_that_counts_an_unpriced_model() {
    use crate::common::{UNPRICED_NOTE, import_unpriced_and_priced};

    let env = TestEnv::new();
    import_unpriced_and_priced(&env);
    let board = env
        .run(&["dashboard", "--since", "2025-09-01", "--format", "json"])
        .success()
        .json();
    let buckets: Vec<&Value> = board["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["sessions"] != 0)
        .collect();
    assert_eq!(buckets[0]["cost_unpriced_models"], json!(["aide-gpt-5"]));
    assert_eq!(buckets[1]["cost_unpriced_models"], json!([]));

    for args in [&[][..], &["--trend"][..]] {
        let path = env.path().join("board.html");
        let line = [
            &["dashboard", "--since", "2025-09-01"][..],
            args,
            &["--html", path.to_str().unwrap()][..],
        ]
        .concat();
        env.run(&line).success();
        let html = std::fs::read_to_string(&path).unwrap();
        assert!(html.contains("<td class=\"n\">$0.0000?</td>"), "{args:?}");
        assert!(html.contains("<td class=\"n\">$0.1444</td>"), "{args:?}");
        assert!(
            html.contains("<div class=\"value\">$0.1444?</div>"),
            "{args:?}"
        );
        assert!(
            html.contains(&format!("id=\"unpriced\">{UNPRICED_NOTE}<")),
            "{args:?}"
        );
        let marked_bars = html.matches(": $0.0000?</title>").count();
        assert_eq!(marked_bars, 1, "{args:?}");
    }
}

/// The HTML dashboard and trend pages gave the cost of a session one of whose responses holds
/// a usage no response can have as a bare `$0.0053`, in their Cost card and their table, with
/// no note, where `list` marks it `$0.0053?` and the text dashboard says what it leaves out.
/// They mark it and say why, as `list` does.
#[test]
fn the_html_pages_mark_a_cost_that_leaves_out_usage_no_response_can_have() {
    use crate::common::write_unbelieved_usage_session;

    let env = TestEnv::new();
    write_unbelieved_usage_session(&env, "bad1");
    let board = env
        .run(&["dashboard", "--since", "2026-01-01", "--format", "json"])
        .success()
        .json();
    assert_eq!(board["totals"]["cost_unbelieved_usage"], 1, "{board}");
    for args in [&[][..], &["--trend"][..]] {
        let path = env.path().join("board.html");
        let line = [
            &["dashboard", "--since", "2026-01-01"][..],
            args,
            &["--html", path.to_str().unwrap()][..],
        ]
        .concat();
        env.run(&line).success();
        let html = std::fs::read_to_string(&path).unwrap();
        assert!(html.contains("<td class=\"n\">$0.0053?</td>"), "{args:?}");
        assert!(
            html.contains("<div class=\"value\">$0.0053?</div>"),
            "{args:?}"
        );
        assert!(
            html.contains(
                "id=\"unbelieved-usage\">? 1 LLM response of unknown usage (a token count that \
                 is negative, fractional or not a number, or counts that add up to over ten \
                 billion) counted at $0<"
            ),
            "{args:?}"
        );
    }
}

/// The text dashboard gave the cost of a session one of whose responses holds a usage no
/// response can have as a bare `$0.0053`, in its Cost total, `--trend`'s Cost row and its
/// table of sessions, where `list` and the HTML pages mark it `$0.0053?`. It marks it and says
/// why under it, as they do.
#[test]
fn the_text_dashboard_marks_a_cost_that_leaves_out_usage_no_response_can_have() {
    use crate::common::write_unbelieved_usage_session;

    let env = TestEnv::new();
    write_unbelieved_usage_session(&env, "bad1");
    for (args, marked) in [(&[][..], 1), (&["--trend"][..], 2)] {
        let line = [&["dashboard", "--since", "2026-01-01"][..], args].concat();
        let text = run(&env, &line).success().stdout.clone();
        assert_eq!(text.matches("$0.0053?").count(), marked, "{args:?}: {text}");
        assert!(
            text.contains(
                "? 1 LLM response of unknown usage (a token count that is negative, fractional \
                 or not a number, or counts that add up to over ten billion) counted at $0"
            ),
            "{args:?}: {text}"
        );
    }
}

/// The dashboard counted the API errors that ended turns (StopFailure) as failed calls: in its
/// error rate, an overloaded API looked like tools failing. The rate is the calls' own; the
/// errors say how many were the turns', in text, in the page and in JSON (`tool_errors`,
/// `turn_errors` beside `errors`), read from the index or without it.
#[test]
fn the_turns_errors_are_no_failed_calls_in_the_error_rate() {
    let env = TestEnv::new();
    for (i, failed) in [(1, true), (2, false)] {
        let mut s = SessionBuilder::new(&id(i))
            .started(days_ago(0))
            .prompt("go")
            .tool_call("Bash", json!({"command": "make"}));
        s = if failed {
            s.error("exit 2")
        } else {
            s.result(json!("ok"))
        };
        s.tool_call("Bash", json!({"command": "ls"}))
            .result(json!("ok"))
            .turn_error("API Error: 529 Overloaded")
            .write(&env);
    }
    let mut boards = Vec::new();
    for pass in ["indexed", "scanned"] {
        if pass == "scanned" {
            env.unusable_index();
        }
        let d = run(&env, &["dashboard", "--format", "json"]).json();
        let t = &d["totals"];
        assert_eq!(
            (&t["errors"], &t["tool_errors"], &t["turn_errors"]),
            (&json!(3), &json!(1), &json!(2)),
            "{pass}: {t}"
        );
        let today = d["buckets"].as_array().unwrap().last().unwrap();
        assert_eq!(today["error_rate"], 0.25, "{pass}: {today}");
        assert_eq!(today["turn_errors"], 2, "{pass}: {today}");
        boards.push(d);
    }
    assert_eq!(boards[0]["totals"], boards[1]["totals"]);
    let text = run(&env, &["dashboard"]);
    let line = |name: &str| {
        text.stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line: {}", text.stdout))
            .to_owned()
    };
    assert!(
        line("Errors").ends_with("  (2 of the turn)"),
        "{}",
        text.stdout
    );
    let trend = run(&env, &["dashboard", "--trend"]);
    let rate = trend
        .stdout
        .lines()
        .find(|l| l.starts_with("Error rate"))
        .unwrap_or_else(|| panic!("no Error rate line: {}", trend.stdout));
    assert!(rate.contains(" 25% "), "{}", trend.stdout);
    assert!(
        trend.stdout.contains("ERRORS  TURN ERRORS"),
        "{}",
        trend.stdout
    );
    let page = env.path().join("out/index.html");
    run(&env, &["dashboard", "--html", page.to_str().unwrap()]).success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains(">3 (2 of the turn)<"), "{html}");
    assert!(html.contains(">1 (1 of the turn)<"), "{html}");
}

/// `dashboard --html` wrote its page and the replay pages beside it (each a session whole, as
/// recorded: prompts, commands, what the tools read) readable by every local user (0644 under
/// umask 022), where `share`, `export` and `replay -o` make a new file 0600 since it holds the
/// session. Every page it makes is its owner's alone; one it replaces keeps its mode.
#[test]
fn the_html_pages_are_made_readable_by_their_owner_alone() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let id = SessionBuilder::new("5a4e0000-0000-4000-8000-00000000da5b")
        .started(days_ago(1))
        .prompt("the secret plan")
        .tool_call("Bash", json!({"command": "cat plan.txt"}))
        .result(json!("the plan itself"))
        .write(&env);
    let dir = env.path().join("board");
    let page = dir.join("index.html");
    let kept = dir.join("trend.html");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(&kept, "old").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
    for (args, path) in [
        (vec!["dashboard", "--html", page.to_str().unwrap()], &page),
        (
            vec!["dashboard", "--trend", "--html", kept.to_str().unwrap()],
            &kept,
        ),
    ] {
        let r = Run::of(
            crate::common::under_umask_022(&env.command(&args))
                .output()
                .unwrap(),
        );
        r.success();
        assert!(path.exists(), "{r:?}");
    }
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let replay = dir.join(format!("replay-{id}.html"));
    assert!(
        std::fs::read_to_string(&replay)
            .unwrap()
            .contains("the plan itself")
    );
    assert_eq!(mode(&page), 0o600);
    assert_eq!(mode(&replay), 0o600);
    assert_eq!(mode(&kept), 0o640, "a page replaced keeps its mode");
}

/// `dashboard --html` on a store of no session said it wrote "the replay pages of its 0
/// sessions"; it says there is no session to replay.
#[test]
fn an_html_dashboard_of_no_session_says_there_is_none_to_replay() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.store()).unwrap();
    let page = env.path().join("out.html");
    let run = env.run(&["dashboard", "--html", page.to_str().unwrap()]);
    run.success();
    assert!(page.exists());
    assert!(
        run.stdout.contains("(no session to replay)") && !run.stdout.contains("0 sessions"),
        "{}",
        run.stdout
    );
}

/// An index whose folds were forged (the index is a cache anyone who can write the store can
/// write) with retries, usage left unpriced and a tool's calls each near `i64::MAX`, the most
/// SQLite's JSON holds: three of them summed past `u64::MAX`, which panicked a debug build.
/// The sums stop at the most a count can be.
#[test]
fn forged_folds_whose_counts_sum_past_the_largest_count_saturate() {
    let env = TestEnv::new();
    for i in 1..=3 {
        session(i, 0, 1, 0, 100).write(&env);
    }
    // The index is built, then its folds forged; settled sessions are not folded again.
    env.settle_sessions();
    run(&env, &["list"]).success();
    let conn = rusqlite::Connection::open(env.store().join(".index.sqlite")).unwrap();
    let forged = conn
        .execute(
            "UPDATE idx_folds SET fold = json_set(fold, \
             '$.retries', 9223372036854775807, \
             '$.unbelieved_usage', 9223372036854775807, \
             '$.tools.Bash', 9223372036854775807)",
            [],
        )
        .unwrap();
    assert_eq!(forged, 3);
    let run = run(&env, &["dashboard", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let d = run.json();
    let t = &d["totals"];
    assert_eq!(t["retries"], u64::MAX, "{t}");
    assert_eq!(t["cost_unbelieved_usage"], u64::MAX, "{t}");
    let today = d["buckets"].as_array().unwrap().last().unwrap();
    assert_eq!(today["retries"], u64::MAX, "{today}");
    let bash = d["top_tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tool"] == "Bash")
        .unwrap_or_else(|| panic!("no Bash in {}", d["top_tools"]));
    assert_eq!(bash["calls"], u64::MAX, "{bash}");
    // The views that print those sums print them.
    let text = env.run(&["dashboard"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stdout.contains("Bash"), "{}", text.stdout);
    let trend = env.run(&["dashboard", "--trend"]);
    assert_eq!(trend.code, 0, "{trend:?}");
    assert!(trend.stdout.contains("Retry rate"), "{}", trend.stdout);
    let page = env.path().join("out/index.html");
    env.run(&["dashboard", "--html", page.to_str().unwrap()])
        .success();
}

/// A day's note was written to the store as typed while redaction was on (the default), so a
/// key pasted into it reached the disk; `annotate`'s notes are scrubbed, and so are these now,
/// by the same options.
#[test]
fn a_secret_in_a_days_note_is_redacted_unless_redaction_is_off() {
    let env = TestEnv::new();
    store(&env);
    let key = format!("{}{}", "ghp_", "wg7drHilZO0fkXYo2amlEDLJIyflJEL8qIe8");
    let notes = env.store().join(".dashboard-notes.jsonl");
    let note = format!("rotated {key}");
    run(
        &env,
        &[
            "dashboard",
            "annotate",
            "--date",
            "2026-11-25",
            "--note",
            &note,
        ],
    )
    .success();
    let written = std::fs::read_to_string(&notes).unwrap();
    assert!(!written.contains(&key), "{written}");
    assert!(written.contains("rotated [REDACTED]"), "{written}");
    run(
        &env,
        &[
            "dashboard",
            "annotate",
            "--date",
            "2026-11-26",
            "--note",
            &note,
            "--no-redact",
        ],
    )
    .success();
    let written = std::fs::read_to_string(&notes).unwrap();
    assert!(
        written.contains(&key),
        "kept as typed with --no-redact: {written}"
    );
}

/// The dashboard's totals and the calls its tool table counts, from `dashboard --format json`.
fn totals_and_table(env: &TestEnv) -> (Value, u64) {
    let d = run(env, &["dashboard", "--format", "json"])
        .success()
        .json();
    let table = d["top_tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["calls"].as_u64().unwrap())
        .sum();
    (d["totals"].clone(), table)
}

/// A `meta.json` saying 1 call and 999,999,999 errors of a session of two calls and one error
/// gave totals of `Tool calls 5` over `Bash 6` in the table beneath, and 1,000,000,000 errors;
/// one saying `-3` calls left them out of the total without a word (`list` shows `?`). The
/// totals count the events, as the table does, whatever `meta.json` says.
#[test]
fn totals_count_the_events_as_the_tool_table_does_whatever_meta_json_says() {
    let env = TestEnv::new();
    session(1, 0, 3, 0, 10).write(&env);
    let forged = session(2, 0, 1, 1, 10).write(&env);
    let (honest, table) = totals_and_table(&env);
    assert_eq!(honest["tool_calls"], table, "{honest}");
    let meta_path = env.store().join(&forged).join("meta.json");
    let meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    for lie in [
        json!({"tool_calls": 1, "errors": 999_999_999}),
        json!({"tool_calls": -3}),
    ] {
        let mut lied = meta.clone();
        for (key, value) in lie.as_object().unwrap() {
            lied[key] = value.clone();
        }
        std::fs::write(&meta_path, lied.to_string()).unwrap();
        // `list` believes meta.json's counters (or shows `?`): they are what was forged.
        let listed = run(&env, &["list", "--format", "json"]).success().json();
        let row = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == forged.as_str())
            .unwrap();
        assert_ne!(row["tool_calls"], 2, "{lie}: {row}");
        let (totals, forged_table) = totals_and_table(&env);
        assert_eq!(totals, honest, "{lie}");
        assert_eq!(forged_table, table, "{lie}");
        let text = run(&env, &["dashboard"]).success().stdout.clone();
        let calls = text.lines().find(|l| l.starts_with("Tool calls")).unwrap();
        assert_eq!(
            calls.split_whitespace().nth(2),
            Some(table.to_string().as_str()),
            "{lie}: {text}"
        );
    }
}

/// The index is a cache anyone who can write the store can forge: a fold counting more calls
/// than any session makes is not believed, and the total that leaves it out says so (`?` and
/// a note; `unbelieved_counts` in JSON), as `list` marks a count it does not believe.
#[test]
fn a_total_that_leaves_out_a_forged_count_says_so() {
    let env = TestEnv::new();
    let kept = session(1, 0, 3, 0, 10).write(&env);
    session(2, 0, 1, 1, 10).write(&env);
    env.settle_sessions();
    run(&env, &["list"]).success();
    let (_, table) = totals_and_table(&env);
    let conn = rusqlite::Connection::open(env.store().join(".index.sqlite")).unwrap();
    let forged = conn
        .execute(
            "UPDATE idx_folds SET fold = json_set(fold, '$.counters.tool_calls', \
             9223372036854775807) WHERE json_extract(fold, '$.first_prompt') = 'task 2'",
            [],
        )
        .unwrap();
    assert_eq!(forged, 1);
    let d = run(&env, &["dashboard", "--format", "json"])
        .success()
        .json();
    let t = &d["totals"];
    assert_eq!(t["unbelieved_counts"], json!(["tool_calls"]), "{t}");
    assert_eq!(t["unbelieved_sessions"], 1, "{t}");
    let kept_calls = d["recent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == kept.as_str())
        .unwrap()["tool_calls"]
        .clone();
    assert_eq!(t["tool_calls"], kept_calls, "{t}");
    assert!(t["tool_calls"].as_u64().unwrap() < table, "{t}");
    let text = run(&env, &["dashboard"]);
    let out = &text.success().stdout;
    let calls = out.lines().find(|l| l.starts_with("Tool calls")).unwrap();
    assert!(calls.contains(&format!("{kept_calls}?")), "{out}");
    assert!(out.contains("left out of the totals marked ?"), "{out}");
    assert!(
        text.stderr.contains("tool_calls 9223372036854775807"),
        "{}",
        text.stderr
    );
}

/// A line of `.dashboard-notes.jsonl` that is no note was warned of as `skipped 1 line of is
/// that /…/.dashboard-notes.jsonl no dashboard notes`, and a note whose date is no day
/// (`2026-12-0`) was dropped without a word. Each warning names the file, and the second the
/// date.
#[test]
fn notes_that_cannot_be_read_are_warned_of_in_a_sentence() {
    let env = TestEnv::new();
    store(&env);
    let day = chrono::DateTime::from_timestamp(days_ago(3) as i64, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    run(
        &env,
        &["dashboard", "annotate", "--date", &day, "--note", "kept"],
    )
    .success();
    let file = env.store().join(".dashboard-notes.jsonl");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&json!({"date": day, "note": "no created_at"}).to_string());
    text.push('\n');
    text.push_str("{\"date\":\"2026-12-0\",\"note\":\"no day\",\"created_at\":1.0}\n");
    std::fs::write(&file, text).unwrap();
    let trend = run(&env, &["dashboard", "--trend", "--format", "json"]);
    let markers = trend.success().json()["trend"]["markers"].clone();
    assert_eq!(markers.as_array().unwrap().len(), 1, "{markers}");
    let shown = file.display().to_string();
    let warnings: Vec<&str> = trend.stderr.lines().collect();
    assert_eq!(
        warnings,
        [
            format!("warning: skipped 1 line of {shown} that is no dashboard note"),
            format!(
                "warning: skipped 1 note of {shown} dated `2026-12-0`, which is no day: a date is written like 2026-11-25"
            ),
        ],
        "{}",
        trend.stderr
    );
}

/// A session stamped in 2099 (a clock far ahead, a hand-edited `meta.json`) stretched the
/// window to its day: `--since 7d` drew 2026-11-30 to 2099-01-01, a column every 439 days. A
/// start later than the clock allows stretches no window: the last column is today's.
#[test]
fn a_session_stamped_in_the_future_stretches_no_window() {
    let env = TestEnv::new();
    SessionBuilder::new("real")
        .started(days_ago(2))
        .prompt("go")
        .write(&env);
    let board =
        |env: &TestEnv| run(env, &["dashboard", "--since", "7d", "--format", "json"]).json();
    let before = board(&env);
    SessionBuilder::new("ahead")
        .started(4_070_908_800.0)
        .prompt("go")
        .write(&env);
    let after = board(&env);
    for key in ["from", "to", "bucket_days"] {
        assert_eq!(after[key], before[key], "{key}: {after}");
    }
    assert_eq!(after["buckets"].as_array().unwrap().len(), 8, "{after}");
}

/// A session dated after now (a clock that was ahead, a log imported from a machine ahead) was
/// in "the last 7 days": `list --since 7d` listed one dated next year, and `dashboard --since
/// 7d` counted it in its totals and last column, while `budget-report` counted one dated later
/// today and not one dated next year. A period with no `--until` ends now: each leaves both out
/// and says so in one line; an `--until` past them counts them.
#[test]
fn a_period_that_ends_now_leaves_out_sessions_dated_after_it_and_says_so() {
    let env = TestEnv::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for (id, at) in [
        ("real", days_ago(2)),
        ("soon", now + 3600.0),
        ("next-year", now + 200.0 * DAY),
    ] {
        SessionBuilder::new(id)
            .started(at)
            .prompt("go")
            .at(1.0)
            .llm_response(
                "claude-sonnet-4-5",
                Tokens {
                    input: 1000,
                    output: 1000,
                    ..Tokens::default()
                },
            )
            .write(&env);
    }
    let said = "2 sessions start later than this machine's clock";
    let list = run(&env, &["list", "--since", "7d", "--format", "json"]);
    assert_eq!(list.success().session_ids(), ["real"], "{}", list.stdout);
    assert!(list.stderr.contains(said), "{}", list.stderr);
    let mut all = run(
        &env,
        &[
            "list",
            "--since",
            "7d",
            "--until",
            "2100-01-01",
            "--format",
            "json",
        ],
    )
    .success()
    .session_ids();
    all.sort();
    assert_eq!(all, ["next-year", "real", "soon"]);
    let report = run(
        &env,
        &["budget-report", "--since", "7d", "--format", "json"],
    );
    assert_eq!(report.success().json()["sessions"], 1, "{}", report.stdout);
    assert!(report.stderr.contains(said), "{}", report.stderr);
    let board = run(&env, &["dashboard", "--since", "7d", "--format", "json"]);
    let json = board.success().json();
    assert_eq!(json["totals"]["sessions"], 1, "{json:#}");
    let in_columns: u64 = json["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["sessions"].as_u64().unwrap())
        .sum();
    assert_eq!(in_columns, 1, "{json:#}");
    assert!(board.stderr.contains(said), "{}", board.stderr);
}

/// `dashboard` and `sample` counted a retry as the very same command again, so on this session
/// (one commit its hook's checks blocked, tried again with another message) they said 0 where
/// `explain` said 3: every command counts attempts at one goal, as `explain` does.
#[test]
fn retries_are_what_explain_counts() {
    let env = TestEnv::new();
    let id = "4d5611e5-241a-462a-8d15-5122611a9569";
    let file =
        crate::common::shared().join(format!("corpus/claude-code/marot__spotter/{id}.jsonl"));
    run(&env, &["import", file.to_str().unwrap()]).success();
    let explain = run(&env, &["explain", id, "--format", "json"]).json();
    let retries = explain["retries"].as_u64().unwrap();
    assert!(retries > 0, "{explain}");
    let sample = run(&env, &["sample", "--n", "1"]);
    let line: Value = serde_json::from_str(sample.stdout.lines().next().unwrap()).unwrap();
    let score = &line["score"];
    assert_eq!(line["session_id"], id, "{line}");
    let calls = score["tool_calls"].as_f64().unwrap();
    let sampled = (score["retry_rate"].as_f64().unwrap() * calls).round() as u64;
    assert_eq!(sampled, retries, "{score}");
    for pass in ["indexed", "scanned"] {
        if pass == "scanned" {
            env.unusable_index();
        }
        // The subagents it ran retried nothing.
        let totals = &run(&env, &["dashboard", "--format", "json"]).json()["totals"];
        assert_eq!(totals["retries"], retries, "{pass}: {totals}");
    }
}
