//! `audit`: every tool call of a session judged against `.agent-scope.json` (or no policy, when
//! only sensitive files are flagged); exit 1 on a violation, for CI gates.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::{FormatArg, SessionArg};
use super::globals::Format;
use super::output::{stdout, warn_bad_lines};
use super::policy::{InForce, PolicyArg, audit_tree};
use crate::analysis::audit::{AuditReport, Finding};
use crate::exit;
use crate::model::RefusedBy;
use crate::model::policy::check::Access;
use crate::render::terminal::Painter;
use crate::store::Store;

/// Check every tool call of a session against a policy: allowed, no policy, or a violation
/// naming the rule that decided; sensitive files (.env, keys, .ssh, CI workflows …) are flagged
/// even with no policy. Exit code 1 when there is a violation
///
/// The session's subagents are audited with it, each after it (`subagents` in JSON): a
/// violation of a subagent's is a violation of the session's.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace audit                      # latest session, policy found in the project\n  agent-strace audit 3f2a --policy .agent-scope.json\n  agent-strace audit --format json || exit 1   # a CI gate"
)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    session: SessionArg,
    #[command(flatten)]
    policy: PolicyArg,
    #[command(flatten)]
    format: FormatArg,
}

pub(crate) fn run(args: &AuditArgs, globals: &Globals) -> Result<u8> {
    let in_force = InForce::load(args.policy.file.as_deref())?;
    let store = Store::new(globals.store_root());
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    let report = audit_tree(&store, &id, &in_force, warn_bad_lines)?;
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &report)?,
        Format::Text => text(&mut out, &report, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(verdict_code(&report))
}

/// 1 when a call of the session or of a subagent violated the policy, else 0.
fn verdict_code(report: &AuditReport) -> u8 {
    if report.violated() {
        exit::FINDINGS
    } else {
        exit::OK
    }
}

/// How many calls of one kind are listed before "… and N more".
const SHOWN: usize = 50;

/// The audit of a session, then of each of its subagents.
pub(crate) fn text(out: &mut impl Write, r: &AuditReport, paint: Painter) -> std::io::Result<()> {
    one_session(out, r, "session", paint)?;
    for sub in &r.subagents {
        one_session(out, sub, "subagent", paint)?;
    }
    Ok(())
}

fn one_session(
    out: &mut impl Write,
    r: &AuditReport,
    what: &str,
    paint: Painter,
) -> std::io::Result<()> {
    let policy = r.policy.as_deref().map_or_else(
        || "no policy: only sensitive files are flagged".to_owned(),
        |p| format!("policy {p}, {} rules", r.rules),
    );
    writeln!(
        out,
        "AUDIT: {what} {} ({}, {}; {policy})",
        paint.cyan(&r.session_id),
        crate::render::terminal::count(r.events as u64, "event"),
        crate::render::terminal::count(r.tool_calls as u64, "tool call")
    )?;
    section(out, &paint.green("Allowed"), &r.allowed, |f| {
        let why = f
            .pattern
            .as_ref()
            .map(|p| format!("{} `{p}`", f.rule.unwrap_or_default()));
        denied_then(f, why)
    })?;
    section(out, &paint.yellow("No policy"), &r.no_policy, |f| {
        let why = match &f.access {
            Some(a) => format!("no rule covers {}", described(a)),
            None => "nothing a policy covers".to_owned(),
        };
        denied_then(f, Some(why))
    })?;
    section(out, &paint.red("Violations"), &r.violations, |f| {
        let mut why = match (&f.rule, &f.pattern, &f.access) {
            (Some(rule), Some(p), Some(a)) => format!("{} ← {rule} `{p}`", described(a)),
            (Some(rule), None, Some(a)) => format!("{} ← not in {rule}", described(a)),
            (Some(rule), Some(p), None) if f.recorded_cut => format!(
                "← {rule} `{p}` (its arguments were recorded cut: as the hook judged it when it \
                 was made)"
            ),
            (rule, _, _) => format!("← {}", rule.unwrap_or("policy")),
        };
        if f.blocked {
            why.push_str(" (blocked before it ran)");
        }
        refused_then(f, Some(why))
    })?;
    if !r.home_unknown.is_empty() {
        let events: Vec<String> = r.home_unknown.iter().map(|e| format!("#{e}")).collect();
        writeln!(
            out,
            "{} the paths from `~/` of {} could not be judged where they lead: the session does \
             not record its home folder, so they were judged as written.",
            paint.yellow("Note:"),
            events.join(", ")
        )?;
    }
    if !r.folder_unknown.is_empty() {
        let events: Vec<String> = r.folder_unknown.iter().map(|e| format!("#{e}")).collect();
        writeln!(
            out,
            "{} the relative paths of {} could not be judged from the folder they ran in: the \
             session does not record it, or recorded it cut or with a secret taken out of it, so \
             they were judged as written.",
            paint.yellow("Note:"),
            events.join(", ")
        )?;
    }
    Ok(())
}

/// `why`, and, for a call the hook or proxy denied when it was made but judged otherwise now,
/// that it was: a store's events are files anyone may have edited (a call's recorded folder, its
/// path) and the policy may have changed since, so the verdict recorded then is never hidden
/// behind a cleaner one.
fn denied_then(f: &Finding, why: Option<String>) -> Option<String> {
    let why = refused_then(f, why);
    if !f.blocked {
        return why;
    }
    let then = "(denied when it was made: blocked before it ran)";
    Some(why.map_or_else(|| then.to_owned(), |why| format!("{why} {then}")))
}

/// `why`, and who refused the call when it was made: auto mode's classifier (with its reason),
/// which asked no one, is not the user.
fn refused_then(f: &Finding, why: Option<String>) -> Option<String> {
    let Some(refused) = &f.refused else {
        return why;
    };
    let then = match (refused.by, &refused.reason) {
        (RefusedBy::AutoMode, Some(reason)) => {
            let reason: String = reason.chars().take(120).collect();
            format!(
                "(refused by auto mode: {}; it never ran)",
                reason.replace('\n', " ")
            )
        }
        (RefusedBy::AutoMode, None) => "(refused by auto mode; it never ran)".to_owned(),
        (RefusedBy::User, _) => "(refused or stopped by the user)".to_owned(),
    };
    Some(why.map_or_else(|| then.clone(), |why| format!("{why} {then}")))
}

/// How many characters of an access's words a line shows.
const ACCESS_CHARS: usize = 160;

/// What an access does, on one line of at most [`ACCESS_CHARS`]: a script of many lines (a
/// Codex `bash -lc` call) printed whole broke the list into lines that named no call.
fn described(access: &Access) -> String {
    crate::model::text::one_line(&access.describe(), ACCESS_CHARS)
}

fn section(
    out: &mut impl Write,
    title: &str,
    findings: &[Finding],
    why: impl Fn(&Finding) -> Option<String>,
) -> std::io::Result<()> {
    writeln!(out, "{title} ({}):", findings.len())?;
    for f in findings.iter().take(SHOWN) {
        let what = f.what.as_deref().unwrap_or_default();
        let what: String = what.chars().take(100).collect();
        let what = what.replace('\n', " ");
        match why(f) {
            Some(why) => writeln!(out, "  #{} {} {what}  {why}", f.event, f.tool)?,
            None => writeln!(out, "  #{} {} {what}", f.event, f.tool)?,
        }
    }
    if findings.len() > SHOWN {
        writeln!(out, "  … and {} more", findings.len() - SHOWN)?;
    }
    Ok(())
}
