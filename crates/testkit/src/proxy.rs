//! A round-robin TCP proxy standing in for the load balancer in front of several hub instances:
//! each new connection goes to the next backend in turn, and a backend that does not accept the
//! connection (a killed instance) is skipped, so traffic flows around it. Plain threads and
//! blocking sockets, so it works under any test runtime or none.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// How long a backend may take to accept a connection before the next one is tried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

struct Shared {
    backends: Vec<SocketAddr>,
    next: AtomicUsize,
    /// Connections forwarded to each backend.
    forwarded: Vec<AtomicUsize>,
    /// Connections refused by each backend (skipped for the next one).
    refused: Vec<AtomicUsize>,
    stopping: AtomicBool,
}

/// The proxy; it stops accepting when dropped (connections in flight finish on their own).
pub struct RoundRobinProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
}

impl RoundRobinProxy {
    /// Listens on a free loopback port and forwards to `backends`, which need not be up yet.
    pub fn start(backends: Vec<SocketAddr>) -> RoundRobinProxy {
        assert!(!backends.is_empty(), "a proxy needs at least one backend");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port for the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            forwarded: backends.iter().map(|_| AtomicUsize::new(0)).collect(),
            refused: backends.iter().map(|_| AtomicUsize::new(0)).collect(),
            backends,
            next: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        });
        let accepting = shared.clone();
        std::thread::Builder::new()
            .name("round-robin-proxy".to_string())
            .spawn(move || {
                for client in listener.incoming() {
                    if accepting.stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    let shared = accepting.clone();
                    let _ = std::thread::Builder::new().name("proxy-connection".to_string()).spawn(move || {
                        forward(&shared, client);
                    });
                }
            })
            .expect("starting the proxy thread");
        RoundRobinProxy { address, shared }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn backends(&self) -> &[SocketAddr] {
        &self.shared.backends
    }

    /// How many connections went to backend `index` so far.
    pub fn forwarded(&self, index: usize) -> usize {
        self.shared.forwarded.get(index).map_or(0, |n| n.load(Ordering::SeqCst))
    }

    /// How many times backend `index` refused a connection and was skipped.
    pub fn refused(&self, index: usize) -> usize {
        self.shared.refused.get(index).map_or(0, |n| n.load(Ordering::SeqCst))
    }
}

impl Drop for RoundRobinProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
    }
}

/// Connects `client` to the first backend, starting with the next in turn, that accepts; drops
/// the client when none does.
fn forward(shared: &Shared, client: TcpStream) {
    let count = shared.backends.len();
    let start = shared.next.fetch_add(1, Ordering::SeqCst);
    for attempt in 0..count {
        let index = (start + attempt) % count;
        let (Some(backend), Some(forwarded), Some(refused)) =
            (shared.backends.get(index), shared.forwarded.get(index), shared.refused.get(index))
        else {
            return;
        };
        match TcpStream::connect_timeout(backend, CONNECT_TIMEOUT) {
            Ok(upstream) => {
                forwarded.fetch_add(1, Ordering::SeqCst);
                splice(client, upstream);
                return;
            }
            Err(_) => {
                refused.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// Copies both ways until both sides are done. A clean end of one direction is passed on as a
/// half-close; an error (a backend killed mid-response) closes both connections, so the client
/// sees the failure instead of waiting.
fn splice(client: TcpStream, upstream: TcpStream) {
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (Ok(client_reader), Ok(upstream_writer)) = (client.try_clone(), upstream.try_clone()) else {
        let _ = client.shutdown(Shutdown::Both);
        let _ = upstream.shutdown(Shutdown::Both);
        return;
    };
    let to_upstream =
        std::thread::Builder::new().name("proxy-copy".to_string()).spawn(move || copy(client_reader, upstream_writer));
    copy(upstream, client);
    if let Ok(handle) = to_upstream {
        let _ = handle.join();
    }
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => {
                let Some(chunk) = buffer.get(..n) else { return };
                if to.write_all(chunk).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
