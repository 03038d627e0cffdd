//! Host names looked up for the HTTP client ([`super::http`]): on one thread per name at a
//! time, shared by every request of the process, each request waiting no longer than its own
//! time. The system's lookup cannot be cut short: run on each request's own runtime, whose end
//! waits for it, a DNS server slow to answer held a hook past its time, and a proxy's start
//! (and so its relay) for as long as the lookup took; given a thread of its own for each
//! request instead, such lookups would pile up a thread a request.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::client::legacy::connect::dns::Name;
use tokio::sync::watch;

/// How long a name's addresses are used before it is looked up again.
const REMEMBERED: Duration = Duration::from_secs(60);

/// A lookup's answer: the addresses (port 0), or why there are none.
type Found = Result<Arc<[SocketAddr]>, String>;

/// What is known of a name.
enum Entry {
    /// Its lookup is under way; the answer comes on this channel.
    Looking(watch::Receiver<Option<Found>>),
    /// Its addresses, found at that time.
    Found(Arc<[SocketAddr]>, Instant),
}

/// The names of this process, looked up or being looked up. A failed lookup is not
/// remembered: the next request looks again.
fn entries() -> std::sync::MutexGuard<'static, HashMap<String, Entry>> {
    static ENTRIES: OnceLock<Mutex<HashMap<String, Entry>>> = OnceLock::new();
    ENTRIES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// The addresses of `host` (a name, or an address written out) with `port`. Dropped (its
/// request's time ran out), it leaves the lookup to go on for the next request.
pub(crate) async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let mut answer = match started(host) {
        Ok(found) => return with_port(&Ok(found), port),
        Err(answer) => answer,
    };
    let found = answer
        .wait_for(Option::is_some)
        .await
        .map_err(|_| format!("the lookup of {host} ended without an answer"))?
        .clone();
    with_port(
        &found.unwrap_or_else(|| Err(format!("no answer for {host}"))),
        port,
    )
}

/// The addresses of `host` when they are known; else the channel of its lookup, started here
/// unless it is under way.
fn started(host: &str) -> Result<Arc<[SocketAddr]>, watch::Receiver<Option<Found>>> {
    let mut known = entries();
    match known.get(host) {
        Some(Entry::Found(addrs, at)) if at.elapsed() < REMEMBERED => return Ok(addrs.clone()),
        Some(Entry::Looking(answer)) => return Err(answer.clone()),
        _ => {}
    }
    let (tell, answer) = watch::channel(None);
    known.insert(host.to_owned(), Entry::Looking(answer.clone()));
    drop(known);
    let tell = Arc::new(tell);
    let (name, told) = (host.to_owned(), tell.clone());
    let spawned = std::thread::Builder::new()
        .name("lookup".into())
        .spawn(move || look_up(&name, &told));
    // Refused a thread (a process limit): looked up here, as long as it takes, as before.
    if spawned.is_err() {
        look_up(host, &tell);
    }
    Err(answer)
}

/// Looks `host` up, keeps what was found, and tells those waiting.
fn look_up(host: &str, tell: &watch::Sender<Option<Found>>) {
    let found: Found = (host, 0)
        .to_socket_addrs()
        .map(Iterator::collect::<Arc<[SocketAddr]>>)
        .map_err(|e| format!("cannot look up {host}: {e}"));
    let mut known = entries();
    match &found {
        Ok(addrs) => known.insert(host.to_owned(), Entry::Found(addrs.clone(), Instant::now())),
        Err(_) => known.remove(host),
    };
    drop(known);
    let _ = tell.send(Some(found));
}

/// The addresses found, each with `port`; none is an error.
fn with_port(found: &Found, port: u16) -> Result<Vec<SocketAddr>, String> {
    let addrs = found.clone()?;
    if addrs.is_empty() {
        return Err("the name has no address".to_owned());
    }
    Ok(addrs
        .iter()
        .map(|addr| SocketAddr::new(addr.ip(), port))
        .collect())
}

/// [`lookup`] as the HTTP client's connector asks for a name (it sets the port).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SharedLookup;

impl tower_service::Service<Name> for SharedLookup {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            lookup(&host, 0)
                .await
                .map(Vec::into_iter)
                .map_err(std::io::Error::other)
        })
    }
}
