//! How many connections each client address holds open, so that one client cannot take every
//! file descriptor of the collector: past [`super::Settings::connections_per_client`], its new
//! connections are answered 503 and closed at once, while other clients' go on. The rate limit
//! ([`super::guard`]) counts requests; this counts connections, which a client can hold open
//! without sending a request until the head's wait ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// The open connections of every client address.
#[derive(Debug, Clone)]
pub(crate) struct Clients {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    /// The most one address may hold; 0 for no limit.
    most: usize,
}

/// One connection counted for its client, until it is dropped.
#[derive(Debug)]
pub(crate) struct Held {
    clients: Clients,
    ip: IpAddr,
}

impl Clients {
    pub(crate) fn new(most: usize) -> Clients {
        Clients {
            open: Arc::default(),
            most,
        }
    }

    /// Counts a new connection of `ip`; `None` when the address holds its most already.
    pub(crate) fn open(&self, ip: IpAddr) -> Option<Held> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_default();
        if self.most > 0 && *count >= self.most {
            return None;
        }
        *count += 1;
        Some(Held {
            clients: self.clone(),
            ip,
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self
            .clients
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            // Addresses that come and go must not grow the map.
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_share_and_gets_it_back_as_connections_close() {
        let clients = Clients::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = clients.open(a).unwrap();
        let _second = clients.open(a).unwrap();
        assert!(clients.open(a).is_none());
        // Another address is not held back by the first.
        let _other = clients.open(b).unwrap();
        drop(first);
        assert!(clients.open(a).is_some());
    }

    #[test]
    fn closed_addresses_are_forgotten_and_zero_means_no_limit() {
        let clients = Clients::new(0);
        let a: IpAddr = "::1".parse().unwrap();
        let held: Vec<Held> = (0..1000).map(|_| clients.open(a).unwrap()).collect();
        drop(held);
        assert!(clients.open.lock().unwrap().is_empty());
    }
}
