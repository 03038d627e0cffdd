//! `export --metrics`: every session's figures and eval scores since a date as OTLP gauges,
//! printed as OTLP/JSON or sent to an OTLP/HTTP endpoint; and the eval judges of many
//! sessions, cached in the index (shared with `--backend langfuse`).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;

use anyhow::Result;

use super::Globals;
use super::args::instant;
use super::export::{Backend, ExportArgs};
use super::output::{start_in_period, stdout, warn, warn_ahead};
use crate::analysis::eval::EvalConfig;
use crate::analysis::tree::Forest;
use crate::error::Error;
use crate::exit;
use crate::export::metrics::{self, JudgeScore, SessionMetrics};
use crate::export::otlp_answer::Signal;
use crate::model::SessionMeta;
use crate::model::period::PeriodStarts;
use crate::model::pricing::PriceTable;
use crate::store::{Index, Store};

/// How far back `--metrics` looks without `--since`.
const DEFAULT_SINCE: &str = "30d";
/// The name of the eval judges cached in the index.
const EVAL_JUDGES: &str = "export-eval-judges";

pub(crate) fn run(args: &ExportArgs, globals: &Globals) -> Result<u8> {
    if args.backend == Some(Backend::Langfuse) {
        return Err(Error::usage(
            "--metrics goes to an OTLP backend: use --backend otlp (and --endpoint), or leave out --metrics to send traces to Langfuse",
        )
        .into());
    }
    if !matches!(args.session.selector(), crate::store::Selector::Latest) || args.dry_run {
        return Err(Error::usage(
            "--metrics exports every session since --since: name no session, and --dry-run is for sessions' contents",
        )
        .into());
    }
    // The file is checked before any session is read, as the trace export checks it.
    super::output::output_folder(args.output.as_deref(), &globals.store_root())?;
    let now = crate::capture::sink::system_time();
    let since = instant(
        args.since.as_deref().unwrap_or(DEFAULT_SINCE),
        "--since",
        now,
        false,
    )?;
    let store = Store::new(globals.store_root());
    // The window's sessions only are kept, each as its summary is read.
    let mut sessions = Vec::new();
    // The window ends now: a session dated after it is in none.
    let mut starts = PeriodStarts::ending_now(now);
    super::listing::each_summary(&store, |meta, summary| {
        if start_in_period(&mut starts, meta).is_some_and(|start| start >= since) {
            sessions.push((meta.clone(), summary));
        }
    })?;
    warn_ahead(&starts);
    for (meta, _) in &sessions {
        let doubts = meta.unbelievable().only(&["ended_at"]);
        if let Some(warning) = doubts.warning(&meta.session_id, metrics::UNTIMED) {
            warn(warning);
        }
    }
    let metas: Vec<&SessionMeta> = sessions.iter().map(|(m, _)| m).collect();
    let judges = eval_judges(&store, &metas)?;
    let anonymizer = if args.anonymize {
        Some(super::export_anon::anonymizer()?)
    } else {
        None
    };
    let prices = PriceTable::builtin();
    let mut exported: Vec<SessionMetrics> = sessions
        .iter()
        .map(|(meta, summary)| {
            let mut m = SessionMetrics::of(meta, summary, prices)
                .with_eval(judges.get(&meta.session_id).cloned().unwrap_or_default());
            if let Some(anonymizer) = &anonymizer {
                let mut report = crate::export::anonymize::Report::default();
                let scrubber = anonymizer.scrubber(meta, &[]);
                m.agent = scrubber.text(&m.agent, &mut report).into_owned();
                m.model = m.model.map(|s| scrubber.text(&s, &mut report).into_owned());
            }
            m
        })
        .collect();
    // Oldest first, as a backend stores points.
    exported.sort_by_key(|m| (m.ended_unix_nano, m.session_id.clone()));
    let service = args.service_name.as_deref().unwrap_or("agent-strace");
    let request = metrics::request(&exported, service, env!("CARGO_PKG_VERSION"));
    let points: usize = request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Gauge(g)) => {
                g.data_points.len()
            }
            _ => 0,
        })
        .sum();
    if let Some(endpoint) = &args.endpoint {
        let url = super::export::otlp_url(endpoint, "metrics")?;
        let headers = super::export::parse_headers(&args.headers)?;
        let (body, content_type) = if args.otlp_json {
            (serde_json::to_vec(&request)?, "application/json")
        } else {
            (
                prost::Message::encode_to_vec(&request),
                "application/x-protobuf",
            )
        };
        let answer = super::export::send_as(&url, &headers, &body, content_type, "the metrics")?;
        super::export::taken(
            &url,
            &answer,
            Signal::Metrics,
            args.otlp_json,
            points,
            &format!(
                " of {}",
                crate::render::terminal::count(exported.len() as u64, "session")
            ),
        )?;
        super::output::to_stderr(format_args!(
            "Sent {} of {} to {url}\n",
            crate::render::terminal::count(points as u64, "metric point"),
            crate::render::terminal::count(exported.len() as u64, "session")
        ));
        return Ok(exit::OK);
    }
    let write = |out: &mut dyn Write| -> Result<()> {
        serde_json::to_writer(&mut *out, &request)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    // --output as for a session's export (it was refused, `--metrics` taking none).
    if let Some(path) = &args.output {
        super::output::replace_file_with(path, 0o600, write)?;
    } else {
        let mut out = stdout(globals.colour());
        write(&mut out)?;
        out.flush()?;
    }
    Ok(exit::OK)
}

/// Each session's eval judges, scored with the nearest `.agent-evals.yaml` (or `eval`'s
/// default): from the index where it has them for these scorers, else scored from the
/// session's events and cached. A session that cannot be scored is left out, with a warning.
pub(crate) fn eval_judges(
    store: &Store,
    sessions: &[&SessionMeta],
) -> Result<HashMap<String, Vec<JudgeScore>>> {
    let config = super::eval::config(None)?;
    let key = config_key(&config);
    let mut index = Index::open(store).ok();
    let cached = index
        .as_ref()
        .and_then(|i| i.derived(EVAL_JUDGES).ok())
        .unwrap_or_default();
    let mut forest = None;
    let mut computed = Vec::new();
    let mut out = HashMap::new();
    for meta in sessions {
        let id = &meta.session_id;
        if let Some(judges) = cached.get::<Vec<JudgeScore>>(id, &key) {
            out.insert(id.clone(), judges);
            continue;
        }
        // The caller listed the sessions and warned of those it could not read (they were
        // said twice, three times with a `meta.json` that could not be used).
        let forest = forest.get_or_insert_with(|| {
            store.sessions().map_or_else(
                |_| Forest::new(Vec::new()),
                |listing| super::listing::readable_family(store, listing, &[]).forest,
            )
        });
        match super::eval::score_session(store, id, &config, Some(forest)) {
            Ok(report) => {
                let judges = metrics::judges(&report);
                if let Ok(json) = serde_json::to_string(&judges) {
                    computed.push((id.clone(), key.clone(), json));
                }
                out.insert(id.clone(), judges);
            }
            Err(err) => warn(format_args!(
                "session {id} was not scored: {}",
                crate::error::chain_text(&err)
            )),
        }
    }
    if let Some(index) = &mut index
        && let Err(err) = index.put_derived(EVAL_JUDGES, &computed)
    {
        warn(format_args!(
            "could not cache eval scores in the session index ({err})"
        ));
    }
    Ok(out)
}

/// What the cached judges were scored with: the scorers and marks, and this build.
fn config_key(config: &EvalConfig) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    format!("{config:?}").hash(&mut hasher);
    format!("{}-{:016x}", env!("CARGO_PKG_VERSION"), hasher.finish())
}
