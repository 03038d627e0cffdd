//! `export`: a session (with its subagents) as JSON, CSV, NDJSON or an OTLP trace, printed,
//! written to a file, or sent to an OTLP/HTTP endpoint.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::Globals;
use super::args::SessionArg;
use super::http::{HttpClient, Retry, check_url, is_retryable};
use super::output::{stdout, warn, warn_bad_lines};
use crate::analysis::tree::nest;
use crate::error::Error;
use crate::exit;
use crate::export::Exported;
use crate::export::otlp_answer::{Signal, partial_success};
use crate::model::meta::placed_time;
use crate::model::{Event, EventType};
use crate::store::Store;
use hyper::Uri;

/// Export a session and its subagents: as JSON, CSV or NDJSON, or as an OpenTelemetry trace
/// (OTLP) to print or to send to an observability backend
///
/// Without --endpoint the export is written to standard output, or to --output. The OTLP
/// formats print the OTLP/JSON form there (the proto3 JSON mapping); with --endpoint they are
/// sent as OTLP/HTTP protobuf (JSON with --otlp-json), gzip-compressed, to <URL>/v1/traces
/// when the URL has no path of its own. --anonymize rewrites names, homes and addresses out of
/// any of them; --metrics exports per-session gauges instead, and --backend langfuse sends
/// traces and eval scores to Langfuse. docs/export.md has the mapping.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace export --format json > session.json\n  agent-strace export 3f2a --format csv --output events.csv\n  agent-strace export --format otlp-genai --endpoint http://127.0.0.1:6006\n  agent-strace export --format otlp --endpoint https://otel.example.com --header \"Authorization: Bearer $TOKEN\"\n  agent-strace export --format json --anonymize --dry-run\n  agent-strace export --metrics --backend otlp --since 30d --endpoint http://127.0.0.1:4318\n  agent-strace export --backend langfuse --scores --since 7d"
)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is an independent flag users give"
)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    pub(crate) session: SessionArg,
    /// What to export as
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub(crate) format: ExportFormat,
    /// Write to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "endpoint")]
    pub(crate) output: Option<PathBuf>,
    /// Send the trace to this OTLP/HTTP endpoint (…/v1/traces is added to a URL without a
    /// path); for --format otlp and otlp-genai
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint: Option<String>,
    /// A header to send with the trace, as "Name: value" (repeatable)
    #[arg(long = "header", value_name = "K: V", requires = "endpoint")]
    pub(crate) headers: Vec<String>,
    /// The service.name of the exported trace's resource [default: agent-strace]
    #[arg(long, value_name = "NAME")]
    pub(crate) service_name: Option<String>,
    /// Encode OTLP as JSON (the proto3 JSON mapping) rather than protobuf when sending
    #[arg(long)]
    pub(crate) otlp_json: bool,
    /// Put prompts, answers, tool arguments and results into the trace (left out by default)
    #[arg(long)]
    pub(crate) content: bool,
    /// Rewrite what is exported (never the store): secrets redacted, home folders to ~, host
    /// and user names, email addresses, and the replacements of .agent-strace/anonymize.yaml
    #[arg(long)]
    pub(crate) anonymize: bool,
    /// With --anonymize: list what would be replaced (counts per kind, examples) and export
    /// nothing
    #[arg(long, requires = "anonymize")]
    pub(crate) dry_run: bool,
    /// Export per-session metrics (cost, error and retry rates, blast radius, duration, eval
    /// scores) as OTLP gauges instead of a session
    #[arg(long, conflicts_with = "format")]
    pub(crate) metrics: bool,
    /// Where sessions go: an OTLP backend (--endpoint), or Langfuse (traces, and eval scores
    /// with --scores)
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub(crate) backend: Option<Backend>,
    #[arg(long, value_name = "WHEN", help = concat!(
        "With --metrics or --backend langfuse: every session started since WHEN: ",
        super::args::when_forms!(), " [default: --metrics 30d; langfuse the one session]"
    ))]
    pub(crate) since: Option<String>,
    /// With --backend langfuse: send each session's eval scores (.agent-evals.yaml) too
    #[arg(long)]
    pub(crate) scores: bool,
    /// With --backend langfuse: the Langfuse server [default: https://cloud.langfuse.com, or
    /// LANGFUSE_HOST]
    #[arg(long, value_name = "URL")]
    pub(crate) langfuse_host: Option<String>,
}

/// Where `--backend` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Backend {
    /// An OTLP/HTTP endpoint (--endpoint), or standard output without one
    Otlp,
    /// Langfuse: traces through its OpenTelemetry endpoint, scores through its API, with
    /// LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY
    Langfuse,
}

/// The formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// The session's metadata and events as one JSON document, subagents nested
    Json,
    /// One row per event, the same columns for every agent
    Csv,
    /// The events one JSON object a line, exactly as the store holds them
    Ndjson,
    /// An OpenTelemetry trace: a span per tool call, events on the session's span
    Otlp,
    /// An OpenTelemetry trace following the GenAI semantic conventions
    #[value(name = "otlp-genai")]
    OtlpGenai,
}

impl ExportFormat {
    fn is_otlp(self) -> bool {
        matches!(self, ExportFormat::Otlp | ExportFormat::OtlpGenai)
    }
}

pub(crate) fn run(args: &ExportArgs, globals: &Globals) -> Result<u8> {
    if args.metrics {
        return super::export_metrics::run(args, globals);
    }
    match args.backend {
        Some(Backend::Langfuse) => return super::export_langfuse::run(args, globals),
        Some(Backend::Otlp) if !args.format.is_otlp() => {
            return Err(Error::usage(
                "--backend otlp sends OTLP: use it with --metrics, or --format otlp or otlp-genai",
            )
            .into());
        }
        _ => {}
    }
    if args.scores || args.langfuse_host.is_some() {
        return Err(Error::usage("--scores and --langfuse-host go with --backend langfuse").into());
    }
    super::output::output_folder(args.output.as_deref(), &globals.store_root())?;
    if args.since.is_some() {
        return Err(Error::usage(
            "--since goes with --metrics or --backend langfuse: export takes one session",
        )
        .into());
    }
    if args.endpoint.is_some() && !args.format.is_otlp() {
        return Err(Error::usage(
            "--endpoint sends OTLP traces: use it with --format otlp or otlp-genai",
        )
        .into());
    }
    let store = Store::new(globals.store_root());
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    // Nothing rewrites the lines: they are copied as they are, a session at a time.
    if args.format == ExportFormat::Ndjson && !args.anonymize {
        let session = load_with(&store, &id, false)?;
        let lines = |out: &mut dyn Write| super::export_lines::write(&store, &session, out);
        if let Some(path) = &args.output {
            super::output::replace_file_with(path, 0o600, lines)?;
        } else {
            let mut out = stdout(globals.colour());
            lines(&mut out)?;
            out.flush()?;
        }
        return Ok(exit::OK);
    }
    let mut session = load(&store, &id)?;
    if args.format.is_otlp() {
        with_logged_usage(&store, &mut session);
        warn_untimed(&session);
    }
    if args.anonymize {
        let anonymizer = super::export_anon::anonymizer()?;
        let mut report = crate::export::anonymize::Report::default();
        // Secrets first, so that none is among what --dry-run shows it found.
        session.redact_secrets();
        let parent = super::export_anon::inherited(&store, &anonymizer, &session.meta);
        anonymizer.exported(&mut session, parent.as_ref(), &mut report);
        if args.dry_run {
            return super::export_anon::print_dry_run(&report, globals);
        }
    }
    if let Some(endpoint) = &args.endpoint {
        let url = traces_url(endpoint)?;
        let headers = parse_headers(&args.headers)?;
        let request = crate::export::otlp::request(&session, &otlp_options(args));
        let spans = request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum::<usize>();
        let body = if args.otlp_json {
            crate::export::otlp::to_json(&request)
        } else {
            crate::export::otlp::to_protobuf(&request)
        };
        let answer = send(&url, &headers, &body, args.otlp_json)?;
        taken(
            &url,
            &answer,
            Signal::Traces,
            args.otlp_json,
            spans,
            &format!(" of session {id}"),
        )?;
        let url = super::http::shown_url(&url.to_string());
        super::output::to_stderr(format_args!(
            "Sent {} of session {id} to {url}\n",
            crate::model::text::count(spans as u64, "span")
        ));
        return Ok(exit::OK);
    }
    if let Some(path) = &args.output {
        super::output::replace_file_with(path, 0o600, |out| render(args, &session, out))?;
    } else {
        let mut out = stdout(globals.colour());
        render(args, &session, &mut out)?;
        out.flush()?;
    }
    Ok(exit::OK)
}

/// Warns once for each session of `session` whose recorded start or end no session can have,
/// which its trace leaves to its events ([`crate::export::otlp::untimed`]).
pub(crate) fn warn_untimed(session: &Exported) {
    for (id, doubts) in crate::export::otlp::untimed(session) {
        if let Some(warning) = doubts.warning(id, crate::export::otlp::UNTIMED) {
            warn(warning);
        }
    }
}

/// Writes the export of `session` in the format asked for to `out` as it is made, not held
/// whole first.
fn render(args: &ExportArgs, session: &Exported, out: &mut dyn Write) -> Result<()> {
    match args.format {
        ExportFormat::Json => crate::export::session::write_json(out, session)?,
        ExportFormat::Ndjson => crate::export::session::write_ndjson(out, session)?,
        ExportFormat::Csv => crate::export::csv::write(out, session)?,
        ExportFormat::Otlp | ExportFormat::OtlpGenai => {
            let request = crate::export::otlp::request(session, &otlp_options(args));
            crate::export::otlp::write_json(out, &request)?;
        }
    }
    Ok(())
}

/// How the OTLP trace is built, from the flags.
pub(crate) fn otlp_options(args: &ExportArgs) -> crate::export::otlp::Options {
    crate::export::otlp::Options {
        mode: if args.format == ExportFormat::OtlpGenai {
            crate::export::otlp::Mode::GenAi
        } else {
            crate::export::otlp::Mode::Plain
        },
        service_name: args
            .service_name
            .clone()
            .unwrap_or_else(|| "agent-strace".to_owned()),
        content: args.content,
    }
}

/// The URL traces are posted to: `--endpoint` as given when it has a path, else with
/// `/v1/traces` added, as OpenTelemetry's exporters treat OTEL_EXPORTER_OTLP_ENDPOINT.
fn traces_url(endpoint: &str) -> Result<Uri> {
    otlp_url(endpoint, "traces")
}

/// The URL an OTLP `signal` (traces, metrics) is posted to: `--endpoint` as given when it has
/// a path, else with `/v1/<signal>` added before its query (a gateway's key), as the hooks'
/// `/hooks` is ([`super::http::url_under`]): `http://host/?key=K` posted to `/`.
pub(crate) fn otlp_url(endpoint: &str, signal: &str) -> Result<Uri> {
    let uri = check_url("--endpoint", endpoint).map_err(Error::usage)?;
    if matches!(uri.path(), "" | "/") {
        let path = format!("/v1/{signal}");
        return Ok(super::http::url_under("--endpoint", endpoint, &path).map_err(Error::usage)?);
    }
    Ok(uri)
}

/// `--header "Name: value"` flags as pairs; a flag without a colon or with a name or value HTTP
/// does not allow is a usage error, which names the header and never quotes its value (a
/// token), on one line.
pub(crate) fn parse_headers(flags: &[String]) -> Result<Vec<(String, String)>> {
    flags
        .iter()
        .map(|flag| {
            let Some((name, value)) = flag.split_once(':') else {
                return Err(Error::usage(format!(
                    "--header `{}` is not of the form \"Name: value\"",
                    shown_header(flag)
                ))
                .into());
            };
            let name = name.trim();
            let value = value.trim();
            if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(Error::usage(format!(
                    "--header `{}`: not a valid HTTP header name",
                    shown_header(flag)
                ))
                .into());
            }
            if hyper::header::HeaderValue::from_str(value).is_err() {
                return Err(Error::usage(format!(
                    "--header `{}`: its value is not a valid HTTP header value (a line break or \
                     another control character in it)",
                    shown_header(flag)
                ))
                .into());
            }
            Ok((name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// A `--header` flag as errors show it: its name, on one line, and `***` for its value (a
/// token, `Authorization: Bearer …`), as [`super::http::shown_url`] hides a URL's secrets. The
/// name ends at the colon, or, in a flag without one, at an `=` or a space (`Name=value`); a
/// flag with none of them is hidden whole.
fn shown_header(flag: &str) -> String {
    match flag.split_once(':').or_else(|| flag.split_once(['=', ' '])) {
        Some((name, _)) => format!(
            "{}: ***",
            crate::model::text::one_line(name.trim(), HEADER_NAME_SHOWN)
        ),
        None => "***".to_owned(),
    }
}

/// The most of a header's name an error shows, in characters.
const HEADER_NAME_SHOWN: usize = 60;

/// How long one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts in all, with waits of 0.5, 1, 2 and 4 s between them (or what Retry-After asks
/// when longer, up to 8 s).
const RETRY: Retry = Retry {
    attempts: 5,
    first_delay: Duration::from_millis(500),
    max_delay: Duration::from_secs(8),
};

/// Posts `body` gzip-compressed to `url`; an endpoint that cannot be reached or refuses the
/// trace is an error of its own (exit code 4: writing failed).
fn send(
    url: &Uri,
    headers: &[(String, String)],
    body: &[u8],
    json: bool,
) -> Result<super::http::Answer> {
    let content_type = if json {
        "application/json"
    } else {
        "application/x-protobuf"
    };
    send_as(url, headers, body, content_type, "the trace")
}

/// Posts `body` gzip-compressed as `content_type` to `url`, retrying as [`send`] does; the
/// answer when it is a success (2xx), else an error naming `what` was refused.
pub(crate) fn send_as(
    url: &Uri,
    headers: &[(String, String)],
    body: &[u8],
    content_type: &str,
    what: &str,
) -> Result<super::http::Answer> {
    match post_as(url, headers, body, content_type, what)? {
        answer if (200..300).contains(&answer.status) => Ok(answer),
        answer => Err(refused(url, &answer, what)),
    }
}

/// Posts `body` gzip-compressed with retries: whatever the server answered last, or an error
/// saying `what` could not be sent when it could not be reached.
pub(crate) fn post_as(
    url: &Uri,
    headers: &[(String, String)],
    body: &[u8],
    content_type: &str,
    what: &str,
) -> Result<super::http::Answer> {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(body)?;
    let body = gzip.finish()?;
    let mut all: Vec<(&str, &str)> =
        vec![("content-type", content_type), ("content-encoding", "gzip")];
    all.extend(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let client = HttpClient::for_url(url).map_err(Error::io)?;
    client
        .post_retrying(url, &all, &body, TIMEOUT, RETRY, &|line| {
            super::output::to_stderr(format_args!("{line}\n"));
        })
        .map_err(|why| {
            let url = super::http::shown_url(&url.to_string());
            Error::io(format!(
                "cannot send {what} to {url} ({} attempts): {why}",
                RETRY.attempts
            ))
            .into()
        })
}

/// Checks what the 2xx `answer` to a send of `items` items of `signal` (as JSON with `json`)
/// says of them (OTLP's partial success): some rejected is an error saying how many and what
/// the backend said (exit code 4: part of what was written was not); none rejected but
/// something said is a warning. `of` follows the count ("8 spans` of session X`").
pub(crate) fn taken(
    url: &Uri,
    answer: &super::http::Answer,
    signal: Signal,
    json: bool,
    items: usize,
    of: &str,
) -> Result<()> {
    let Some(partial) = partial_success(&answer.body, signal, json) else {
        return Ok(());
    };
    let url = super::http::shown_url(&url.to_string());
    let said = first_line(&partial.message);
    if partial.rejected > 0 {
        return Err(Error::io(format!(
            "{url} rejected {} of {}{of}{}",
            partial.rejected,
            crate::model::text::count(items as u64, signal.item()),
            if said.is_empty() {
                String::new()
            } else {
                format!(": {said}")
            }
        ))
        .into());
    }
    warn(format_args!(
        "{url} took {}{of} and said: {said}",
        crate::model::text::count(items as u64, signal.item())
    ));
    Ok(())
}

/// The first line of what an endpoint said, on one line and cut, as errors quote it.
pub(crate) fn first_line(said: &str) -> String {
    let said = said.lines().next().unwrap_or_default().trim();
    crate::render::terminal::one_line(said, 200)
}

/// The error of an endpoint that refused `what`: its status and the first line it said.
pub(crate) fn refused(url: &Uri, answer: &super::http::Answer, what: &str) -> anyhow::Error {
    let said = first_line(&String::from_utf8_lossy(&answer.body));
    let tries = if is_retryable(answer.status) {
        format!(" after {} attempts", RETRY.attempts)
    } else {
        String::new()
    };
    let url = super::http::shown_url(&url.to_string());
    Error::io(format!(
        "{url} refused {what}{tries}: HTTP {}{}",
        answer.status,
        if said.is_empty() {
            String::new()
        } else {
            format!(" ({said})")
        }
    ))
    .into()
}

/// Gives each session of the tree that recorded no usage of its own (hooks never see it) the
/// model responses its agent's log holds, as `explain` and `cost` read them, so that a trace
/// has its model calls: each an `llm_response` event at the response's time, marked
/// `"source": "transcript"`. Only for traces: the JSON and NDJSON exports stay the store's
/// events as they are.
pub(crate) fn with_logged_usage(store: &Store, session: &mut Exported) {
    let mut todo = vec![session];
    while let Some(session) = todo.pop() {
        with_own_logged_usage(store, session);
        todo.extend(session.subagents.iter_mut());
    }
}

/// [`with_logged_usage`] for one session of the tree.
fn with_own_logged_usage(store: &Store, session: &mut Exported) {
    let has_responses = session
        .events
        .iter()
        .any(|e| e.event_type == EventType::LlmResponse);
    let logged = if has_responses {
        Vec::new()
    } else {
        super::explain::logged_responses(store, &session.meta)
    };
    if !logged.is_empty() {
        let sid = session.meta.session_id.clone();
        let added: Vec<Event> = logged
            .into_iter()
            .enumerate()
            .map(|(n, r)| {
                let mut event = Event::new(
                    EventType::LlmResponse,
                    r.timestamp,
                    format!("logged-response-{n}"),
                    sid.clone(),
                );
                event.data = serde_json::json!({
                    "model": r.model,
                    "usage": r.usage.to_usage(),
                    "source": "transcript",
                });
                event
            })
            .collect();
        // A recorded event at an unknown time (`1e308`, no `timestamp`) is where it stands in
        // the file, at the time of the event before it: sorted by its own, it went last.
        let mut before = None;
        let mut events: Vec<(f64, Event)> = std::mem::take(&mut session.events)
            .into_iter()
            .map(|e| {
                let at = placed_time(e.timestamp, &mut before);
                (at.unwrap_or(f64::NEG_INFINITY), e)
            })
            .collect();
        events.extend(added.into_iter().map(|e| (e.timestamp, e)));
        // Stable: a response logged at the same time as a recorded event comes after it.
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        session.events = events.into_iter().map(|(_, e)| e).collect();
    }
}

/// Reads session `id` and its subagent sessions (found through their parent links), each
/// with its metadata and events. Parents are read before their children and nested from the
/// deepest up ([`nest`]): no walk recurses, so a chain of thousands of subagents is read
/// without overflowing the stack.
pub(crate) fn load(store: &Store, id: &str) -> Result<Exported> {
    load_with(store, id, true)
}

/// [`load`], with the sessions' events or (not `events`) their metadata alone.
fn load_with(store: &Store, id: &str, events: bool) -> Result<Exported> {
    let forest = super::listing::family(store, &[id])?.forest;
    let root = load_one(store, id, events)?;
    let mut below = Vec::new();
    // A subagent that cannot be read leaves a gap, said on stderr, never a failed export.
    forest.walk_below(id, |child, parent| match load_one(store, child, events) {
        Ok(sub) => {
            below.push((sub, parent));
            true
        }
        Err(e) => {
            warn_left_out_subagent(child, &e);
            false
        }
    });
    Ok(nest(root, below, |s| &mut s.subagents))
}

/// Says on stderr that subagent session `id` is left out of the export, and why: a subagent
/// that cannot be read leaves a gap, never a failed export.
pub(super) fn warn_left_out_subagent(id: &str, e: &anyhow::Error) {
    warn(format_args!(
        "left out subagent session {id}: {}",
        crate::error::chain_text(e)
    ));
}

/// Session `id`'s metadata and (with `events`) its events, without its subagents.
fn load_one(store: &Store, id: &str, events: bool) -> Result<Exported> {
    let meta = super::output::whole_summary(store, id)?.meta;
    if !events {
        return Ok(Exported {
            meta,
            events: Vec::new(),
            subagents: Vec::new(),
        });
    }
    let mut reader = store.events(id)?;
    let events: Vec<_> = reader.by_ref().collect();
    warn_bad_lines(reader.bad_lines(), reader.bad_count());
    Ok(Exported {
        meta,
        events,
        subagents: Vec::new(),
    })
}
