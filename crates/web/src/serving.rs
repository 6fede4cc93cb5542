//! Serving a listener's router: the accept loop both the hub and the account run, with the
//! connection hygiene a public listener needs. Idle and slow connections are closed (a request
//! head must arrive within the header timeout — counted from when the connection waits for one,
//! so a kept-alive connection waiting for its next request too — and a connection on which no
//! byte moves for the idle timeout is closed wherever it is); at most `max_connections` are open,
//! the rest wait in the kernel's backlog, and reaching the cap is logged; HTTPS when a
//! certificate is given ([`crate::tls`]); the client address from a trusted proxy
//! ([`crate::forwarded`]). On shutdown the listener stops accepting, idle connections are closed,
//! requests under way finish, and after the grace period whatever is left is dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::client::ClientAddress;
use crate::forwarded::TrustedProxies;
use crate::tls::ReloadingCert;

/// How a listener serves its connections.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Serve HTTPS with this certificate, reloaded when its files change.
    pub tls: Option<Arc<ReloadingCert>>,
    /// The most connections open at once; more wait until one closes.
    pub max_connections: usize,
    /// The time a connection has to send a request head (and a TLS handshake), from when the
    /// server waits for one.
    pub header_timeout: Duration,
    /// A connection on which nothing is read or written for this long is closed.
    pub idle_timeout: Duration,
    /// How long requests under way may take to finish once shutdown begins.
    pub shutdown_grace: Duration,
    pub trusted_proxies: TrustedProxies,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            tls: None,
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes and the connections have finished (or
/// the grace period has passed).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = options.tls.as_ref().map(ReloadingCert::acceptor).transpose().map_err(std::io::Error::other)?;
    let watcher = options.tls.as_ref().map(ReloadingCert::watch);
    let shared = Arc::new(Shared { app, acceptor, options });
    let (closing, closing_seen) = watch::channel(false);
    let mut connections = accept_until(&listener, &shared, closing_seen, shutdown).await;
    drop(listener);
    tracing::info!(
        "stopping: no new connections; {} open, their requests under way get {} s to finish",
        connections.len(),
        shared.options.shutdown_grace.as_secs()
    );
    let _ = closing.send(true);
    finish(&mut connections, shared.options.shutdown_grace).await;
    if let Some(watcher) = watcher {
        watcher.abort();
    }
    Ok(())
}

/// What every connection of a listener shares.
struct Shared {
    app: Router,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    options: ServeOptions,
}

/// Accepts connections, each holding a slot of the cap, until `shutdown` completes.
async fn accept_until(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    closing: watch::Receiver<bool>,
    shutdown: impl Future<Output = ()>,
) -> JoinSet<()> {
    let slots = Arc::new(Semaphore::new(shared.options.max_connections));
    let mut cap = CapWarning::new(shared.options.max_connections);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                cap.reached();
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot { Ok(slot) => slot, Err(_) => break },
                    () = &mut shutdown => break,
                }
            }
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(stream, peer, shared.clone(), closing.clone(), slot));
                }
                Err(e) => accept_failed(&e).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    connections
}

/// An accept that failed: out of file descriptors, most likely. Waiting a little lets
/// connections close instead of spinning on the error.
async fn accept_failed(e: &std::io::Error) {
    tracing::warn!("accepting a connection failed: {e}; trying again in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Waits for the connections to finish, at most `grace`; then drops the rest.
async fn finish(connections: &mut JoinSet<()>, grace: Duration) {
    let drained = tokio::time::timeout(grace, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            "{} connections were still busy {} s after shutdown began; closing them",
            connections.len(),
            grace.as_secs()
        );
        connections.shutdown().await;
    }
}

/// The log line of a full listener: when the cap is first reached, then at most once a minute
/// with the number of times it was reached since.
struct CapWarning {
    max: usize,
    last: Option<Instant>,
    since: u64,
}

const CAP_WARNING_EVERY: Duration = Duration::from_secs(60);

impl CapWarning {
    fn new(max: usize) -> Self {
        CapWarning { max, last: None, since: 0 }
    }

    fn reached(&mut self) {
        self.since += 1;
        if self.last.is_some_and(|last| last.elapsed() < CAP_WARNING_EVERY) {
            return;
        }
        tracing::warn!(
            target: "crossfed::connections",
            max_connections = self.max,
            times = self.since,
            "connection limit reached: {} connections open (--max-connections), new ones wait until one closes; \
             reached {} times since the last warning",
            self.max,
            self.since
        );
        self.last = Some(Instant::now());
        self.since = 0;
    }
}

/// One accepted connection, holding `_slot` until it closes.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    closing: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let activity = Activity::default();
    let stream = Tracked { inner: stream, activity: activity.clone() };
    let Some(acceptor) = &shared.acceptor else {
        return http(stream, peer, &shared, activity, closing).await;
    };
    let mut cancelled = closing.clone();
    let handshake = tokio::time::timeout(shared.options.header_timeout, acceptor.accept(stream));
    tokio::select! {
        done = handshake => match done {
            Ok(Ok(tls)) => http(tls, peer, &shared, activity, closing).await,
            Ok(Err(e)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
            Err(_) => tracing::debug!("TLS handshake with {peer} took too long"),
        },
        _ = cancelled.changed() => {}
    }
}

/// HTTP/1.1 over `io` until the client closes, a timeout, or shutdown.
async fn http<I>(io: I, peer: SocketAddr, shared: &Shared, activity: Activity, mut closing: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let app = shared.app.clone();
    let proxies = shared.options.trusted_proxies.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let client = proxies.client_address(peer, request.headers());
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(ClientAddress(client));
        app.clone().oneshot(request.map(axum::body::Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(shared.options.header_timeout);
    let served = builder.serve_connection(TokioIo::new(io), service);
    let mut served = std::pin::pin!(served);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = served.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("connection from {peer} ended: {e}");
                }
                return;
            }
            _ = closing.changed(), if !shutting_down => {
                // Closes the connection at once if idle, else after the answer under way.
                shutting_down = true;
                served.as_mut().graceful_shutdown();
            }
            () = activity.idle_for(shared.options.idle_timeout) => {
                tracing::debug!("closing the connection from {peer}: nothing moved for {:?}", shared.options.idle_timeout);
                return;
            }
        }
    }
}

/// When a connection last read or wrote a byte.
#[derive(Clone)]
struct Activity {
    since: Instant,
    /// Milliseconds after `since`.
    last: Arc<AtomicU64>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity { since: Instant::now(), last: Arc::new(AtomicU64::new(0)) }
    }
}

impl Activity {
    fn touch(&self) {
        let millis = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(millis, Ordering::Relaxed);
    }

    /// Completes once nothing has moved for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let last = self.since + Duration::from_millis(self.last.load(Ordering::Relaxed));
            let deadline = last + limit;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// A stream that notes its activity.
struct Tracked<S> {
    inner: S,
    activity: Activity,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, data);
        if matches!(polled, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
