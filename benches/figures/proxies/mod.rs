//! The proxy figures: the stdio proxy (`record -- <server>`: latency, throughput, and large
//! messages) and the HTTP proxy (`record-http <url>`: latency).

mod echo;
mod flow;
pub(crate) mod http;
mod large;
mod latency;
mod recorded;

use std::path::Path;

pub(crate) use echo::{ECHO_SERVER, echo_server};
use flow::{FlowRow, bench_flow};
use latency::{Latency, PROXY_ROUND_TRIPS, bench_latency};

use crate::table::{Row, Verdict, fmt_us, median, p99};
use crate::tool::{Cmd, Tool, command};

/// `agent-strace --trace-dir <store> record --name <name> -- <child>`.
pub(crate) fn record_command(store: &Path, name: &str, child: &[String]) -> Cmd {
    let store = store.to_string_lossy().into_owned();
    let mut args = vec!["--trace-dir", &store, "record", "--name", name, "--"];
    args.extend(child.iter().map(String::as_str));
    command(None, &args)
}

/// The proxy figures.
pub(crate) struct Proxy {
    pub(crate) latency: Option<Latency>,
    pub(crate) flows: Vec<FlowRow>,
    /// Large messages through the stdio proxy, against `cat` alone.
    pub(crate) large: Vec<Row>,
    pub(crate) http: Option<http::HttpLatency>,
}

impl Proxy {
    /// The verdict on every proxy figure with a target.
    pub(crate) fn verdicts(&self) -> Vec<Verdict> {
        self.latency
            .iter()
            .map(Latency::verdict)
            .chain(self.flows.iter().map(FlowRow::verdict))
            .chain(self.large.iter().map(Row::verdict))
            .collect()
    }
}

pub(crate) fn bench_proxy(tool: &Tool, work: &Path, notes: &mut Vec<String>) -> Proxy {
    eprintln!("figures: proxy latency, {PROXY_ROUND_TRIPS} round trips direct and through record");
    let latency = match bench_latency(tool, work, notes) {
        Ok(l) => Some(l),
        Err(e) => {
            notes.push(format!("WARNING: no proxy latency figure: {e}"));
            None
        }
    };
    let mut flows = Vec::new();
    for child in ["echo", "cat"] {
        match bench_flow(tool, work, child, notes) {
            Ok(rows) => flows.extend(rows),
            Err(e) => notes.push(format!(
                "WARNING: no proxy throughput figure with {child}: {e}"
            )),
        }
    }
    let large = large::bench_large(tool, work, notes).unwrap_or_else(|e| {
        notes.push(format!("WARNING: no large-message proxy figure: {e}"));
        Vec::new()
    });
    eprintln!(
        "figures: HTTP proxy latency, {} round trips direct and through record-http",
        http::HTTP_ROUND_TRIPS
    );
    let http = match http::bench_http(&tool.program, work) {
        Ok(l) => Some(l),
        Err(e) => {
            notes.push(format!("WARNING: no HTTP proxy latency figure: {e}"));
            None
        }
    };
    Proxy {
        latency,
        flows,
        large,
        http,
    }
}

pub(crate) fn print_http(l: &http::HttpLatency) {
    println!();
    println!(
        "HTTP proxy latency: {} keep-alive POST round trips of a `tools/call` request and its \
         JSON answer, to a minimal server directly and through `record-http`, alternating, after \
         {} untimed each",
        http::HTTP_ROUND_TRIPS,
        http::HTTP_WARMUP
    );
    println!();
    println!(
        "| figure | round trips | direct median | direct p99 | proxied median | proxied p99 \
         | added (median) | recorded calls / results / linked |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let added = (median(&l.proxied).as_secs_f64() - median(&l.direct).as_secs_f64()) * 1e6;
    println!(
        "| POST round trip | {} | {} | {} | {} | {} | {added:+.0} µs | {} / {} / {} |",
        l.proxied.len(),
        fmt_us(median(&l.direct)),
        fmt_us(p99(&l.direct)),
        fmt_us(median(&l.proxied)),
        fmt_us(p99(&l.proxied)),
        l.recorded.0,
        l.recorded.1,
        l.recorded.2,
    );
}

pub(crate) fn print_proxy(proxy: &Proxy) {
    if let Some(http) = &proxy.http {
        print_http(http);
    }
    if let Some(l) = &proxy.latency {
        l.print();
    }
    flow::print_flows(&proxy.flows);
    large::print_large(&proxy.large);
}
