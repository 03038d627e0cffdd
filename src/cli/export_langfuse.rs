//! `export --backend langfuse`: sessions as Langfuse traces through its OpenTelemetry
//! endpoint, and with `--scores` their eval scores through its ingestion API (or, where that
//! is gone, its scores API), with the project's keys from the environment.

use anyhow::Result;
use hyper::Uri;

use super::Globals;
use super::args::instant;
use super::export::{ExportArgs, load, post_as, send_as, taken};
use super::http::check_url;
use super::output::{start_in_period, to_stderr, warn, warn_ahead};
use crate::error::Error;
use crate::exit;
use crate::export::anonymize::Report;
use crate::export::langfuse::{
    self, DEFAULT_HOST, Failure, INGESTION_PATH, IngestionResponse, OTEL_TRACES_PATH, SCORES_PATH,
    Score,
};
use crate::export::otlp::{self, Mode, Options};
use crate::export::otlp_answer::Signal;
use crate::model::SessionMeta;
use crate::model::period::PeriodStarts;
use crate::model::pricing::PriceTable;
use crate::store::Store;

pub(crate) fn run(args: &ExportArgs, globals: &Globals) -> Result<u8> {
    if args.endpoint.is_some() || args.output.is_some() {
        return Err(Error::usage(
            "--backend langfuse sends to --langfuse-host: leave out --endpoint and --output",
        )
        .into());
    }
    let store = Store::new(globals.store_root());
    let ids = sessions(args, &store)?;
    let anonymizer = if args.anonymize {
        Some(super::export_anon::anonymizer()?)
    } else {
        None
    };
    let mut report = Report::default();
    let mut loaded = Vec::new();
    for id in &ids {
        let mut session = load(&store, id)?;
        super::export::with_logged_usage(&store, &mut session);
        super::export::warn_untimed(&session);
        if let Some(anonymizer) = &anonymizer {
            session.redact_secrets();
            let parent = super::export_anon::inherited(&store, anonymizer, &session.meta);
            anonymizer.exported(&mut session, parent.as_ref(), &mut report);
        }
        loaded.push(session);
    }
    let metas: Vec<&SessionMeta> = loaded.iter().map(|s| &s.meta).collect();
    let mut scores: Vec<Score> = Vec::new();
    if args.scores {
        let judges = super::export_metrics::eval_judges(&store, &metas)?;
        for session in &loaded {
            let id = &session.meta.session_id;
            let Some(judges) = judges.get(id) else {
                continue;
            };
            let mut judges = judges.clone();
            // A scorer's reason can name files: anonymised as the session is.
            if let Some(anonymizer) = &anonymizer {
                let scrubber = anonymizer.scrubber(&session.meta, &session.events);
                for judge in &mut judges {
                    judge.reason = scrubber.text(&judge.reason, &mut report).into_owned();
                }
            }
            scores.extend(langfuse::scores(id, &judges));
        }
    }
    if args.dry_run {
        return super::export_anon::print_dry_run(&report, globals);
    }
    let public = key("LANGFUSE_PUBLIC_KEY")?;
    let secret = key("LANGFUSE_SECRET_KEY")?;
    let host = host(args)?;
    let auth = vec![(
        "authorization".to_owned(),
        langfuse::basic_auth(&public, &secret),
    )];
    let traces_url = url(&host, OTEL_TRACES_PATH)?;
    let options = Options {
        mode: Mode::GenAi,
        service_name: args
            .service_name
            .clone()
            .unwrap_or_else(|| "agent-strace".to_owned()),
        content: args.content,
    };
    let prices = PriceTable::builtin();
    let mut spans = 0;
    for session in &loaded {
        let mut request = otlp::request(session, &options);
        langfuse::decorate(&mut request, session, prices);
        let sent = request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum::<usize>();
        let body = otlp::to_protobuf(&request);
        let id = &session.meta.session_id;
        let answer = send_as(
            &traces_url,
            &auth,
            &body,
            "application/x-protobuf",
            &format!("the trace of session {id}"),
        )?;
        taken(
            &traces_url,
            &answer,
            Signal::Traces,
            false,
            sent,
            &format!(" of session {id}"),
        )?;
        spans += sent;
    }
    let failures = if scores.is_empty() {
        Vec::new()
    } else {
        send_scores(&host, &auth, &scores)?
    };
    to_stderr(format_args!(
        "Sent {} ({}) and {} of {} to {host}\n",
        crate::render::terminal::count(loaded.len() as u64, "trace"),
        crate::render::terminal::count(spans as u64, "span"),
        scores.len() - failures.len(),
        crate::render::terminal::count(scores.len() as u64, "score")
    ));
    if failures.is_empty() {
        return Ok(exit::OK);
    }
    for f in &failures {
        warn(format_args!(
            "Langfuse did not take {} (HTTP {}): {}",
            f.id, f.status, f.why
        ));
    }
    Err(Error::io(format!(
        "Langfuse did not take {} of {} (listed above)",
        failures.len(),
        crate::render::terminal::count(scores.len() as u64, "score")
    ))
    .into())
}

/// The sessions to send: the one named (or the latest), or with `--since` every top-level
/// session started since then (subagents go with their parents).
fn sessions(args: &ExportArgs, store: &Store) -> Result<Vec<String>> {
    let Some(since) = &args.since else {
        return Ok(vec![crate::cli::stores::select_in(
            store,
            &args.session.selector(),
        )?]);
    };
    if !matches!(args.session.selector(), crate::store::Selector::Latest) {
        return Err(
            Error::usage("--since exports every session since then: name no session").into(),
        );
    }
    let now = crate::capture::sink::system_time();
    let since = instant(since, "--since", now, false)?;
    let listing = super::listing::sessions(store)?;
    // The sessions heading a tree, as `list` heads them: a subagent whose parent is not in the
    // store, or whose parents go round a loop, goes with no other session; one below a
    // session that could not be read goes with the tree above it (exported with it).
    let heads = crate::analysis::tree::heads(&listing.sessions, &listing.left_out);
    // --since is a period that ends now: a session dated after it is in none.
    let mut starts = PeriodStarts::ending_now(now);
    let mut ids: Vec<(f64, String)> = listing
        .sessions
        .into_iter()
        .zip(heads)
        .filter(|(_, head)| *head)
        .map(|(s, _)| s.summary.meta)
        .filter_map(|m| Some((start_in_period(&mut starts, &m)?, m.session_id)))
        .filter(|(start, _)| *start >= since)
        .collect();
    warn_ahead(&starts);
    ids.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    Ok(ids.into_iter().map(|(_, id)| id).collect())
}

/// A key from the environment, or a usage error naming it.
fn key(name: &str) -> Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => Err(Error::usage(format!(
            "{name} is not set: Langfuse's project keys (Settings → API keys) go in LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY"
        ))
        .into()),
    }
}

/// The Langfuse server: `--langfuse-host`, else LANGFUSE_HOST, else Langfuse Cloud.
fn host(args: &ExportArgs) -> Result<String> {
    let host = args
        .langfuse_host
        .clone()
        .or_else(|| {
            std::env::var("LANGFUSE_HOST")
                .ok()
                .filter(|h| !h.trim().is_empty())
        })
        .unwrap_or_else(|| DEFAULT_HOST.to_owned());
    check_url("--langfuse-host", &host).map_err(Error::usage)?;
    Ok(host.trim_end_matches('/').to_owned())
}

fn url(host: &str, path: &str) -> Result<Uri> {
    Ok(check_url("--langfuse-host", &format!("{host}{path}")).map_err(Error::usage)?)
}

/// Sends `scores` in ingestion batches and returns the items Langfuse did not take; where the
/// ingestion endpoint is gone (404, 405), posts each score to the scores endpoint instead.
fn send_scores(host: &str, auth: &[(String, String)], scores: &[Score]) -> Result<Vec<Failure>> {
    let ingestion = url(host, INGESTION_PATH)?;
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut failures = Vec::new();
    for batch in langfuse::ingestion_batches(scores, &timestamp) {
        let body = serde_json::to_vec(&batch)?;
        let answer = post_as(&ingestion, auth, &body, "application/json", "the scores")?;
        match answer.status {
            200..=299 => {
                let response = IngestionResponse::parse(&answer.body).map_err(|e| {
                    Error::io(format!(
                        "{ingestion} answered HTTP {} with a body that is not Langfuse's ingestion response: {e}",
                        answer.status
                    ))
                })?;
                failures.extend(response.failures());
            }
            404 | 405 => return one_by_one(host, auth, scores),
            _ => return Err(super::export::refused(&ingestion, &answer, "the scores")),
        }
    }
    Ok(failures)
}

/// Posts each score to `/api/public/scores`; a score refused is a failure with what the
/// server said, an unreachable server an error.
fn one_by_one(host: &str, auth: &[(String, String)], scores: &[Score]) -> Result<Vec<Failure>> {
    let endpoint = url(host, SCORES_PATH)?;
    let mut failures = Vec::new();
    for score in scores {
        let body = serde_json::to_vec(&langfuse::create_score_body(score))?;
        let answer = post_as(&endpoint, auth, &body, "application/json", "the scores")?;
        if !(200..300).contains(&answer.status) {
            let said = String::from_utf8_lossy(&answer.body);
            failures.push(Failure {
                id: score.id.clone(),
                status: answer.status,
                why: crate::render::terminal::one_line(said.trim(), 200),
            });
        }
    }
    Ok(failures)
}
