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

/// The OTLP exporter's variables for where telemetry goes and what goes with it: the base
/// ones, which the block writes, and one pair per signal, which win over them.
const SIGNALS: [&str; 3] = ["TRACES", "LOGS", "METRICS"];
pub(crate) const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
pub(crate) const HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";

fn per_signal() -> impl Iterator<Item = String> {
    SIGNALS.iter().flat_map(|s| {
        [
            format!("OTEL_EXPORTER_OTLP_{s}_ENDPOINT"),
            format!("OTEL_EXPORTER_OTLP_{s}_HEADERS"),
        ]
    })
}

/// The keys whose values are OTLP headers, which often carry a key (a bearer token, another
/// backend's API key): the base one and each signal's.
pub(crate) fn header_keys() -> impl Iterator<Item = String> {
    std::iter::once(HEADERS.to_owned()).chain(per_signal().filter(|k| k.ends_with("_HEADERS")))
}

/// The keys of `env` that send telemetry somewhere else than `ours` does, or carry headers
/// (often another vendor's key) that writing `ours` would send to our endpoint, or ours to
/// theirs: a base endpoint other than ours; base headers other than ours, unless the endpoint
/// is ours already (then they were written for us); any per-signal endpoint or headers.
pub(crate) fn conflicts(env: &Map<String, Value>, ours: &Map<String, Value>) -> Vec<String> {
    let trimmed = |v: Option<&Value>| {
        v.map(|v| {
            v.as_str()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_owned()
        })
    };
    let ours_endpoint = trimmed(ours.get(ENDPOINT));
    let theirs_endpoint = trimmed(env.get(ENDPOINT));
    let mut found = Vec::new();
    if theirs_endpoint.is_some() && theirs_endpoint != ours_endpoint {
        found.push(ENDPOINT.to_owned());
    }
    if env.contains_key(HEADERS)
        && env.get(HEADERS) != ours.get(HEADERS)
        && theirs_endpoint != ours_endpoint
    {
        found.push(HEADERS.to_owned());
    }
    found.extend(per_signal().filter(|k| env.contains_key(k)));
    found
}

/// `env` with `ours` merged in when `conflicts` were found and the user said to replace them:
/// the per-signal keys and base headers we do not write are removed. The keys replaced and
/// the keys removed, in that order.
pub(crate) fn replace_conflicts(
    env: &mut Map<String, Value>,
    ours: &Map<String, Value>,
    conflicts: &[String],
) -> (Vec<String>, Vec<String>) {
    let (mut replaced, mut removed) = (Vec::new(), Vec::new());
    for key in conflicts {
        if ours.contains_key(key) {
            replaced.push(key.clone());
        } else {
            env.remove(key);
            removed.push(key.clone());
        }
    }
    (replaced, removed)
}

/// The variables of the environment setup runs in that point an OTLP exporter somewhere or
/// carry its headers, beyond those `ours` sets: a Claude Code started from this shell keeps
/// them, since its settings' `env` only overrides the keys it names.
pub(crate) fn inherited(ours: &Map<String, Value>, lookup: impl Fn(&str) -> bool) -> Vec<String> {
    std::iter::once(HEADERS.to_owned())
        .chain(per_signal())
        .filter(|k| !ours.contains_key(k) && lookup(k))
        .collect()
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

    #[test]
    fn another_vendors_endpoint_and_headers_conflict_ours_do_not() {
        let ours = env_block("http://127.0.0.1:4317", None);
        let mut env = Map::new();
        assert!(conflicts(&env, &ours).is_empty());
        env.insert(HEADERS.into(), "x-honeycomb-team=k".into());
        // Headers for the default endpoint (no endpoint written) would come to us.
        assert_eq!(conflicts(&env, &ours), [HEADERS]);
        env.insert(ENDPOINT.into(), "http://127.0.0.1:4317/".into());
        // Our endpoint already: the headers were written for it.
        assert!(conflicts(&env, &ours).is_empty());
        env.insert(ENDPOINT.into(), "https://api.honeycomb.io".into());
        env.insert(
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT".into(),
            "https://x".into(),
        );
        let found = conflicts(&env, &ours);
        assert_eq!(
            found,
            [ENDPOINT, HEADERS, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"]
        );
        let (replaced, removed) = replace_conflicts(&mut env, &ours, &found);
        assert_eq!(replaced, [ENDPOINT]);
        assert_eq!(removed, [HEADERS, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"]);
        assert!(merge_env(&mut env, &ours));
        assert!(conflicts(&env, &ours).is_empty());
        assert_eq!(inherited(&ours, |k| k == HEADERS || k == "PATH"), [HEADERS]);
    }
}
