//! A small HTTP(S) client for what a command sends because the user asked it to (watch's
//! `--stream-to`, optimize's `--base-url`): one request at a time, with a deadline, from a
//! runtime of its own. Nothing else in agent-strace opens a connection.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Checks a URL the user gave with `flag`: http or https, with a host, no credentials in it.
pub(crate) fn check_url(flag: &str, url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("{flag} `{url}` is not a URL: {e}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!("{flag} `{url}`: the scheme must be http or https"));
    }
    let Some(authority) = uri.authority() else {
        return Err(format!("{flag} `{url}` has no host"));
    };
    if authority.as_str().contains('@') {
        return Err(format!(
            "{flag} `{url}`: credentials in the URL are not supported"
        ));
    }
    Ok(uri)
}

enum Connector {
    Plain(Client<HttpConnector, Full<Bytes>>),
    Tls(Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>),
}

/// A client for one kind of URL (http or https).
pub(crate) struct HttpClient {
    runtime: tokio::runtime::Runtime,
    connector: Connector,
}

/// What came back.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
}

/// An answer's body beyond this is not read.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

impl HttpClient {
    /// A client for URLs like `url` (TLS with the system's roots for https).
    pub(crate) fn for_url(url: &Uri) -> Result<HttpClient, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        let builder = Client::builder(TokioExecutor::new());
        let connector = if url.scheme_str() == Some("https") {
            let roots = hyper_rustls::HttpsConnectorBuilder::new()
                .with_native_roots()
                .map_err(|e| format!("no TLS roots: {e}"))?;
            Connector::Tls(builder.build(roots.https_only().enable_http1().build()))
        } else {
            Connector::Plain(builder.build(HttpConnector::new()))
        };
        Ok(HttpClient { runtime, connector })
    }

    /// POSTs `body` to `url` with `headers`; the answer whatever its status, or why there is
    /// none.
    pub(crate) fn post(
        &self,
        url: &Uri,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Answer, String> {
        let mut request = Request::post(url.clone()).header(
            "user-agent",
            concat!("agent-strace/", env!("CARGO_PKG_VERSION")),
        );
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        self.runtime.block_on(async {
            let exchange = async {
                let response = match &self.connector {
                    Connector::Plain(c) => c.request(request).await,
                    Connector::Tls(c) => c.request(request).await,
                }
                .map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let body = Limited::new(response.into_body(), BODY_LIMIT)
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                Ok(Answer { status, body })
            };
            tokio::time::timeout(timeout, exchange)
                .await
                .map_err(|_| format!("no answer within {}s", timeout.as_secs()))?
        })
    }
}
