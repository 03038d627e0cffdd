//! Whether an HTTP request names this machine as its host: what a server listening on loopback
//! (the collector by default, `record-http` always) checks so that a web page cannot reach it by
//! DNS rebinding.

use hyper::header::{self, HeaderMap};

/// The names systems give loopback in `/etc/hosts` besides `localhost` (Debian's, RHEL's), and
/// the address that means "this machine" to a client: no web page's name can be any of them.
const LOOPBACK_NAMES: [&str; 6] = [
    "localhost.localdomain",
    "localhost4",
    "localhost6",
    "ip6-localhost",
    "ip6-loopback",
    "0.0.0.0",
];

/// Whether a request names this machine as its host (its `Host`, or the address of an
/// absolute-form request `uri`): `localhost` (or a name under it), another of the names
/// systems give loopback, a loopback address, or one of the names `allowed` (those a proxy in
/// front passes on: `--allow-host`), in any case.
///
/// A server listening on loopback that is sent a request naming any other host was reached by
/// DNS rebinding: a web page whose name was made to resolve to 127.0.0.1, which the browser then
/// lets talk to the server as its own origin, reading the answers. A request with no host at all
/// (HTTP/1.0) is taken: a browser always sends one.
pub(crate) fn addressed_to_this_machine(
    uri: &hyper::Uri,
    headers: &HeaderMap,
    allowed: &[String],
) -> bool {
    let named = uri.host().map(str::to_owned).or_else(|| {
        headers
            .get(header::HOST)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    });
    let Some(named) = named else {
        return true;
    };
    let host = match named.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => named
            .rsplit_once(':')
            .map_or(named.as_str(), |(host, _)| host),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || LOOPBACK_NAMES.contains(&host.as_str())
        || allowed
            .iter()
            .any(|name| name.trim_end_matches('.').eq_ignore_ascii_case(&host))
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(host: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        addressed_to_this_machine(&"/events".parse().unwrap(), &headers, &[])
    }

    #[test]
    fn only_names_of_this_machine_pass() {
        for local in [
            "localhost",
            "LOCALHOST.:4317",
            "127.0.0.1:4317",
            "127.9.9.9",
            "[::1]:4317",
            "app.localhost",
            "localhost.localdomain",
            "ip6-localhost:4317",
            "0.0.0.0:4317",
        ] {
            assert!(named(local), "{local}");
        }
        for other in [
            "attacker.example:4317",
            "localhost.attacker.example",
            "10.0.0.1",
            "[::2]",
            "collector",
        ] {
            assert!(!named(other), "{other}");
        }
        assert!(addressed_to_this_machine(
            &"/events".parse().unwrap(),
            &HeaderMap::new(),
            &[]
        ));
        assert!(!addressed_to_this_machine(
            &"http://evil.example/events".parse().unwrap(),
            &HeaderMap::new(),
            &[]
        ));
        // A name a proxy in front passes on, allowed by name.
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "Box.Tailnet.ts.net".parse().unwrap());
        let allowed = ["box.tailnet.ts.net".to_owned()];
        assert!(addressed_to_this_machine(
            &"/events".parse().unwrap(),
            &headers,
            &allowed
        ));
        assert!(!addressed_to_this_machine(
            &"/events".parse().unwrap(),
            &headers,
            &[]
        ));
    }
}
