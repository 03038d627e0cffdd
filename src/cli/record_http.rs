//! `record-http <url>`: put agent-strace between an MCP client and a remote MCP server reached
//! over HTTP (Streamable HTTP, or the older HTTP+SSE transport).

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::Args;

use super::Globals;
use super::output::fail;
use crate::capture::proxy::http::{HttpProxy, Upstream};
use crate::error::Error;

/// Record an MCP server reached over HTTP: a local proxy that forwards to it unchanged
///
/// Listens on 127.0.0.1 and forwards every request to URL: Streamable HTTP (POST answered with
/// JSON or an event stream, the GET stream, DELETE, with Mcp-Session-Id and Last-Event-ID passed
/// through) and the older HTTP+SSE transport (GET /sse, then POSTed messages). Point the client
/// at the proxy: its root, or the same path as on the server. Request headers, Authorization
/// included, are forwarded and never recorded. Runs until Ctrl-C, SIGTERM or SIGHUP (not one it
/// was started ignoring, as under nohup); then it takes no new connection, gives the requests
/// under way 5 seconds to be answered (a stream a client holds open for the server's messages
/// ends as soon as no answer is still to come on it), cuts off the rest (at once at a second
/// signal), ends the session and exits 0.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace record-http https://mcp.example.com/mcp --port 3100\n    then the client connects to http://127.0.0.1:3100/mcp\n  agent-strace record-http http://localhost:3001/sse --name legacy"
)]
pub(crate) struct RecordHttpArgs {
    /// The MCP server's URL (http:// or https://)
    #[arg(value_name = "URL", required_unless_present = "url_flag")]
    url: Option<String>,
    /// The same, as a flag
    #[arg(
        long = "url",
        short = 'u',
        value_name = "URL",
        hide = true,
        conflicts_with = "url"
    )]
    url_flag: Option<String>,
    /// The local port to listen on (0: any free port)
    #[arg(long, short = 'p', default_value_t = 5100)]
    port: u16,
    /// A name for the server in listings [default: the URL's host]
    #[arg(long, value_name = "LABEL")]
    name: Option<String>,
    #[command(flatten)]
    privacy: super::globals::PrivacyArgs,
    /// Enforce this policy file: a tools/call that violates it is answered with a JSON-RPC
    /// error naming the rule, recorded, and never reaches the server
    #[arg(long, value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// For tests: the seconds a request's head, and then its body, may take to arrive
    /// [default: 30]
    #[arg(long, hide = true, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    request_wait: Option<u64>,
    /// For tests: the connections held open at once; more are answered 503 [default: 256]
    #[arg(long, hide = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    max_connections: Option<u16>,
}

pub(crate) fn run(args: &RecordHttpArgs, globals: &Globals) -> ExitCode {
    let Some(url) = args.url.as_ref().or(args.url_flag.as_ref()) else {
        return fail(&Error::usage("the MCP server's URL is required"));
    };
    let upstream = match Upstream::parse(url) {
        Ok(upstream) => upstream,
        // The URL as `shown_url` shows it: a user's password or a key in its query never
        // reaches the terminal or a CI log.
        Err(e) => {
            let shown = super::http::shown_url(url);
            return fail(&Error::usage(format!("`{shown}`: {e}")));
        }
    };
    let sink = match super::record::sink(&args.privacy) {
        Ok(sink) => sink,
        Err(code) => return code,
    };
    let enforcer = match super::record::enforcer(args.policy.as_deref()) {
        Ok(enforcer) => enforcer,
        Err(code) => return code,
    };
    let name = args.name.clone().unwrap_or_else(|| {
        url.parse::<hyper::Uri>()
            .ok()
            .and_then(|u| u.host().map(str::to_owned))
            .unwrap_or_else(|| url.clone())
    });
    let recorded_url = sink.text(url).into_owned();
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let store = super::stores::for_writing(globals.store_root());
    let session = uuid::Uuid::new_v4().to_string();
    // Bound before the session is made, so a port in use leaves no empty session behind.
    let mut proxy = match HttpProxy::bind(listen, upstream.clone(), sink.clock()) {
        Ok(proxy) => proxy,
        Err(e) => return fail(&Error::io(format!("cannot listen on {listen}: {e}"))),
    };
    if let Some(enforcer) = enforcer {
        proxy.enforce_with(enforcer);
    }
    proxy.report_to(|message| super::output::proxy_warn("agent-strace record-http", message));
    if let Some(wait) = args.request_wait {
        proxy.wait_for_requests(std::time::Duration::from_secs(wait));
    }
    if let Some(most) = args.max_connections {
        proxy.hold_at_most(usize::from(most));
    }
    let local = proxy.local_addr().unwrap_or(listen);
    let mut about = serde_json::Map::new();
    about.insert("mode".into(), "http".into());
    about.insert("remote_url".into(), recorded_url.clone().into());
    about.insert("local_port".into(), local.port().into());
    // A store that cannot be written must not keep the server from the client.
    match super::record::start_recorder(
        &store,
        &session,
        &name,
        &format!("record-http {recorded_url}"),
        about,
        &sink,
    ) {
        Ok(recorder) => proxy.record_with(recorder.reporting_to(|message| {
            super::output::proxy_warn("agent-strace record-http", message);
        })),
        Err(e) => super::output::proxy_warn(
            "agent-strace record-http",
            &format!("not recording ({e}); relaying anyway"),
        ),
    }
    let path = upstream.path();
    // Masked whether or not the session is redacted: a key in the query stays out of the log.
    let shown = super::http::shown_url(url);
    super::output::proxy_warn(
        "agent-strace record-http",
        &format!("forwarding http://{local}{path} to {shown} (session {session})"),
    );
    // Beside the relay, which never waits for it, once the recorder has its thread.
    let mut sending = None;
    let served = proxy.serve(|| {
        sending =
            super::send_kept::ProxySending::start(&store, &sink, &format!("record {session}"));
    });
    if let Some(sending) = sending {
        sending.finish();
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&Error::io(e.to_string())),
    }
}
