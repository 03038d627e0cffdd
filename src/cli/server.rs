//! `server`: the collector that takes events from many machines' hooks and proxies into one
//! store (see `capture/collector`). Here: the flags, the token from the environment, and the
//! refusal to listen beyond loopback without one.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Args;

use super::Globals;
use super::globals::PrivacyArgs;
use crate::capture::collector::recent::MAX_IDS;
use crate::capture::collector::{
    BindError, CONNECTIONS_PER_CLIENT, Collector, STALL_WAIT, Server, Settings,
};
use crate::error::Error;

/// Run a collector: hooks and proxies on other machines send their events here
/// (AGENT_STRACE_ENDPOINT), into one store every command can read
///
/// Endpoints: POST /events (NDJSON, one event a line), POST /sessions (a session's meta), POST
/// /hooks (what hooks send), GET /sessions, GET /sessions/<id>, GET /sessions/<id>/events
/// (NDJSON), GET /health. Every request but /health needs `Authorization: Bearer <token>` when a
/// token is set (--token or AGENT_STRACE_TOKEN). An event is answered 2xx only once it is
/// written to its session's file. SIGTERM or SIGINT stops it after the requests under way.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace server --storage /srv/traces\n  AGENT_STRACE_TOKEN=$(openssl rand -hex 32) agent-strace server --bind 0.0.0.0 --port 4317\n  # on each machine:\n  export AGENT_STRACE_ENDPOINT=http://collector:4317 AGENT_STRACE_TOKEN=..."
)]
pub(crate) struct ServerArgs {
    /// The port to listen on (0: any free port, printed at start)
    #[arg(long, default_value_t = 4317)]
    port: u16,
    /// The address to listen on; anything but loopback needs a token (or --insecure)
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// The store to write [default: the trace store, as --trace-dir resolves it]
    #[arg(long, value_name = "DIR")]
    storage: Option<std::path::PathBuf>,
    /// Require `Authorization: Bearer <T>` (also: AGENT_STRACE_TOKEN; the environment keeps it
    /// out of `ps`)
    #[arg(long, value_name = "T")]
    token: Option<String>,
    /// Listen beyond loopback without a token: anyone who reaches the port can write and read
    /// every trace
    #[arg(long)]
    insecure: bool,
    /// On loopback with no token, also answer requests addressed to NAME (repeatable): the host
    /// a proxy in front passes on (`tailscale serve`, Caddy). Others are refused (403), as a web
    /// page reaching the collector by DNS rebinding would be
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_host: Vec<String>,
    /// The largest request body taken, in bytes (larger ones are answered 413)
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024,
          value_parser = super::args::whole::<usize>)]
    max_body: usize,
    /// Requests a second one client address may make, with bursts of twice as many (more are
    /// answered 429 with Retry-After); 0 for no limit
    #[arg(long, value_name = "N", default_value_t = 1000)]
    rate_limit: u32,
    /// Connections one client address may hold open at once (more are answered 503 and
    /// closed, other clients' go on); 0 for no limit
    #[arg(long, value_name = "N", default_value_t = CONNECTIONS_PER_CLIENT,
          value_parser = super::args::whole::<usize>)]
    connections_per_client: usize,
    /// Flush accepted events to the disk (fdatasync) before answering, so that they survive a
    /// power cut, not only the collector's own crash
    #[arg(long)]
    fsync: bool,
    /// Pass everything accepted on as OTLP/HTTP to this backend (an OpenTelemetry Collector,
    /// Tempo, Phoenix …; <URL>/v1/traces, /v1/logs, /v1/metrics): received OTLP as it came,
    /// sessions as traces; batched, gzip, retried, never delaying an answer
    #[arg(long, value_name = "URL")]
    forward_otlp: Option<String>,
    /// For tests: the seconds a response may wait with not a byte taken by the client before
    /// its connection is closed [default: 30]
    #[arg(long, hide = true, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    stall_limit: Option<u64>,
    /// For tests: how many of the events it took the collector knows by their ids, so that a
    /// test sees it forget some [default: 262144]
    #[arg(long, hide = true, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    remembered_ids: Option<u64>,
    #[command(flatten)]
    privacy: PrivacyArgs,
}

/// How long requests under way may take to finish once the collector is told to stop.
const GRACE: Duration = Duration::from_secs(30);

pub(crate) fn run(args: &ServerArgs, globals: &Globals) -> anyhow::Result<u8> {
    let token = args
        .token
        .clone()
        .or_else(|| token_from_env("AGENT_STRACE_TOKEN"))
        // The Python tool's name for it.
        .or_else(|| token_from_env("AGENT_STRACE_AUTH_KEY"))
        .filter(|t| !t.is_empty());
    if let Some(token) = &token
        && token.chars().any(|c| c.is_control() || c == ' ')
    {
        return Err(super::output::usage(
            "the token must be one word of printable characters",
        ));
    }
    if !args.bind.is_loopback() && token.is_none() && !args.insecure {
        return Err(super::output::usage(format!(
            "refusing to listen on {} without a token: anyone who reaches it could write and \
             read every trace; set AGENT_STRACE_TOKEN (or --token), or pass --insecure",
            args.bind
        )));
    }
    let privacy = args.privacy.resolve().map_err(super::output::usage)?;
    let root = args.storage.clone().unwrap_or_else(|| globals.store_root());
    let store = super::stores::for_writing(root);
    store.ensure_root()?;
    // Listening on loopback with no token, it serves this machine, whose clients name it so;
    // with a token, or beyond loopback, its clients name it as they reach it (a TLS proxy in
    // front passes on its client's host), and the token keeps web pages out (a browser never
    // sends it of its own accord, and a page cannot know it).
    let local_only = args.bind.is_loopback() && token.is_none();
    let settings = Settings {
        token,
        local_only,
        allowed_hosts: args.allow_host.clone(),
        max_body: args.max_body,
        rate_limit: args.rate_limit,
        connections_per_client: args.connections_per_client,
        fsync: args.fsync,
        grace: GRACE,
        stall: args.stall_limit.map_or(STALL_WAIT, Duration::from_secs),
        remembered_ids: args
            .remembered_ids
            .map_or(MAX_IDS, |n| usize::try_from(n).unwrap_or(MAX_IDS)),
    };
    let authenticated = settings.token.is_some();
    let log: fn(&str) =
        |line| super::output::to_stderr(format_args!("agent-strace server: {line}\n"));
    let mut collector = Collector::new(
        store.clone(),
        crate::capture::sink::Sink::new(privacy),
        settings,
        log,
    );
    let mut forwarder = None;
    if let Some(url) = &args.forward_otlp {
        let (running, on_accepted) =
            super::forward::start(url, store.clone(), log).map_err(super::output::usage)?;
        collector = collector.on_accepted(on_accepted);
        forwarder = Some(running);
    }
    let listen = SocketAddr::new(args.bind, args.port);
    let server = Server::bind(listen, collector).map_err(|e| match e {
        BindError::Listen(e) => Error::io(format!("cannot listen on {listen}: {e}")),
        threads @ BindError::Threads(_) => Error::io(threads.to_string()),
    })?;
    let local = server.local_addr().unwrap_or(listen);
    super::output::to_stderr(format_args!(
        "agent-strace server: listening on http://{local} (store {}, {})\n",
        store.root().display(),
        if authenticated {
            "bearer token required"
        } else {
            "no token"
        }
    ));
    server.serve().map_err(|e| Error::io(e.to_string()))?;
    if let Some(forwarder) = forwarder {
        forwarder.finish(super::forward::FINISH, log);
    }
    super::output::to_stderr(format_args!("agent-strace server: stopped\n"));
    Ok(crate::exit::OK)
}

fn token_from_env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|t| t.trim().to_owned())
}
