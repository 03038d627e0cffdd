//! `setup --otel`: the `env` block of Claude Code's settings that sends its own telemetry
//! (traces with the enhanced-telemetry beta, and log events) to agent-strace's collector, whose
//! OTLP routes join it into the sessions the hooks record (docs/otel.md).

use serde_json::{Map, Value};

/// Where the collector listens unless told (`server`'s default port on loopback).
pub(crate) const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4317";

/// The variables Claude Code 2.1.197 reads (checked in its binary; docs/otel.md), with the values
/// that send traces and log events over OTLP/HTTP protobuf to `endpoint`, and the bearer token
/// when the collector wants one. Metrics are left off: the collector takes traces and logs.
pub(crate) fn env_block(endpoint: &str, token: Option<&str>) -> Map<String, Value> {
    let mut env = Map::new();
    let mut put = |k: &str, v: &str| {
        env.insert(k.to_owned(), Value::from(v));
    };
    put("CLAUDE_CODE_ENABLE_TELEMETRY", "1");
    // Spans (claude_code.llm_request, claude_code.tool …) are a beta behind this flag.
    put("CLAUDE_CODE_ENHANCED_TELEMETRY_BETA", "1");
    put("OTEL_TRACES_EXPORTER", "otlp");
    put("OTEL_LOGS_EXPORTER", "otlp");
    put("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    put(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        endpoint.trim_end_matches('/'),
    );
    if let Some(token) = token {
        // A list of key=value pairs. Claude Code 2.1.197 sends the value as written: a
        // percent-encoded space (`Bearer%20…`, as the OpenTelemetry spec's examples write it)
        // reached the collector undecoded and was refused (docs/otel.md), a plain one works.
        put(
            "OTEL_EXPORTER_OTLP_HEADERS",
            &format!("Authorization=Bearer {token}"),
        );
    }
    env
}

/// `env` with `ours` merged in (every other variable kept); whether anything changed.
pub(crate) fn merge_env(env: &mut Map<String, Value>, ours: &Map<String, Value>) -> bool {
    let mut changed = false;
    for (key, value) in ours {
        if env.get(key) != Some(value) {
            env.insert(key.clone(), value.clone());
            changed = true;
        }
    }
    changed
}

/// Whether `endpoint` is a URL Claude Code's exporter can send to.
pub(crate) fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let rest = endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
        .ok_or_else(|| format!("--endpoint {endpoint:?} is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') || endpoint.chars().any(char::is_whitespace) {
        return Err(format!("--endpoint {endpoint:?} names no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_and_its_merge_are_idempotent() {
        let ours = env_block("http://127.0.0.1:4317/", Some("t0k"));
        assert_eq!(ours["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://127.0.0.1:4317");
        assert_eq!(
            ours["OTEL_EXPORTER_OTLP_HEADERS"],
            "Authorization=Bearer t0k"
        );
        let mut env = Map::new();
        env.insert("KEEP".into(), "me".into());
        assert!(merge_env(&mut env, &ours));
        assert!(!merge_env(&mut env, &ours));
        assert_eq!(env["KEEP"], "me");
        assert!(check_endpoint("ftp://x").is_err());
        assert!(check_endpoint("http://").is_err());
        assert!(check_endpoint("https://collector.example:4318").is_ok());
    }
}
