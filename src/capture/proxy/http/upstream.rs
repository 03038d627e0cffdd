//! The remote MCP server as the user named it, where each request for the proxy goes on it, and
//! the client that reaches it over plain TCP or TLS.

use std::io;

use hyper::body::Incoming;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::exchange::ProxyBody;

/// The remote server, as the user named it.
#[derive(Debug, Clone)]
pub struct Upstream {
    scheme: String,
    authority: String,
    path: String,
    query: Option<String>,
}

/// What a URL's port must be.
pub const PORT_RULE: &str = "the port must be a number from 1 to 65535";

/// Whether `authority` names a port that cannot be connected to: 0, past 65535, or not a
/// number. The URI reader takes such a port for none, and a request (with its token) went to
/// port 80 or 443 instead. An empty port (`host:`) is the scheme's own.
pub fn has_unusable_port(authority: &hyper::http::uri::Authority) -> bool {
    let after_host = authority.as_str().rsplit(']').next().unwrap_or_default();
    after_host
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && authority.port_u16().is_none_or(|p| p == 0))
}

impl Upstream {
    /// Reads an `http://` or `https://` URL; the error says what is wrong with it, without
    /// repeating the URL, which may hold a password or a key (the caller names it masked).
    pub fn parse(url: &str) -> Result<Upstream, String> {
        if !url.contains("://") {
            // `example.com/mcp` would be "invalid format" to the URI reader.
            return Err("no scheme (http:// or https://)".to_owned());
        }
        let uri: Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_owned(),
            Some(other) => {
                return Err(format!("the scheme must be http or https, not {other}"));
            }
            None => return Err("no scheme (http:// or https://)".to_owned()),
        };
        let authority = uri.authority().ok_or_else(|| "no host".to_owned())?;
        if authority.as_str().contains('@') {
            return Err(
                "credentials in the URL are not supported; the client's headers are forwarded"
                    .to_owned(),
            );
        }
        if has_unusable_port(authority) {
            return Err(PORT_RULE.to_owned());
        }
        Ok(Upstream {
            scheme,
            authority: authority.as_str().to_owned(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
        })
    }

    pub fn is_tls(&self) -> bool {
        self.scheme == "https"
    }

    /// The path the user gave, which the proxy also serves at `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Where a request for `path_and_query` on the proxy goes: the proxy's root is the URL the
    /// user gave, and every other path is the same path on the server.
    pub(super) fn target(
        &self,
        path: &str,
        query: Option<&str>,
    ) -> Result<Uri, hyper::http::Error> {
        let (path, query) = if path == "/" || path == self.path {
            let query = match (self.query.as_deref(), query) {
                (Some(a), Some(b)) if a == b => Some(a.to_owned()),
                (Some(a), Some(b)) => Some(format!("{a}&{b}")),
                (a, b) => a.or(b).map(str::to_owned),
            };
            (self.path.as_str(), query)
        } else {
            (path, query.map(str::to_owned))
        };
        let path_and_query = match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        Uri::builder()
            .scheme(self.scheme.as_str())
            .authority(self.authority.as_str())
            .path_and_query(path_and_query)
            .build()
    }

    /// What the client should be told when the server's `endpoint` event says `data`: a path
    /// on the proxy when `data` points at the server itself, `None` when it needs no change or
    /// points elsewhere. `request_path` is the path the event stream was asked for.
    pub fn endpoint_for_client(&self, data: &str, request_path: &str) -> Option<String> {
        let data = data.trim();
        let absolute = if let Some(rest) = data.strip_prefix("//") {
            Some((self.scheme.as_str(), rest))
        } else {
            ["http", "https"].into_iter().find_map(|scheme| {
                let head = format!("{scheme}://");
                data.get(..head.len())
                    .filter(|h| h.eq_ignore_ascii_case(&head))
                    .map(|_| (scheme, &data[head.len()..]))
            })
        };
        if let Some((scheme, rest)) = absolute {
            let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(split);
            if host_and_port(scheme, authority) != host_and_port(&self.scheme, &self.authority) {
                return None;
            }
            return Some(if tail.starts_with('/') {
                tail.to_owned()
            } else {
                format!("/{tail}")
            });
        }
        if data.starts_with('/') {
            return None;
        }
        // A relative reference: resolved against the stream's path on the server, as the
        // client would have resolved it there.
        let base = if request_path == "/" {
            &self.path
        } else {
            request_path
        };
        if data.starts_with('?') {
            return Some(format!("{base}{data}"));
        }
        let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        Some(format!("{dir}{data}"))
    }
}

/// An authority as a client compares it: the host in lower case, and the port, explicit or the
/// scheme's own.
fn host_and_port(scheme: &str, authority: &str) -> (String, String) {
    let default = if scheme.eq_ignore_ascii_case("https") {
        "443"
    } else {
        "80"
    };
    // The port follows the last colon, unless that colon is inside an IPv6 literal.
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') && !port.is_empty() => {
            (host.to_ascii_lowercase(), port.to_owned())
        }
        _ => (authority.to_ascii_lowercase(), default.to_owned()),
    }
}

/// Sends requests to the server: plain TCP or TLS, as its URL says.
pub(super) enum UpstreamClient {
    Plain(Client<HttpConnector, ProxyBody>),
    Tls(Client<hyper_rustls::HttpsConnector<HttpConnector>, ProxyBody>),
}

impl UpstreamClient {
    pub(super) fn new(tls: bool) -> io::Result<UpstreamClient> {
        let builder = Client::builder(TokioExecutor::new());
        if tls {
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_native_roots()?
                .https_only()
                .enable_http1()
                .build();
            Ok(UpstreamClient::Tls(builder.build(connector)))
        } else {
            Ok(UpstreamClient::Plain(builder.build(HttpConnector::new())))
        }
    }

    pub(super) async fn send(
        &self,
        request: Request<ProxyBody>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        match self {
            UpstreamClient::Plain(client) => client.request(request).await,
            UpstreamClient::Tls(client) => client.request(request).await,
        }
    }
}
