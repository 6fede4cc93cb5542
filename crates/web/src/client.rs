//! Who sent a request: the client's address, as a request extension every handler and the log
//! can read. The listener's TCP peer by default; the serving layer may replace it with the
//! address a trusted reverse proxy forwarded.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The address a request came from, as far as this listener can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The client address of `request`, if the listener recorded one.
pub fn client_address(request: &Request) -> Option<ClientAddress> {
    request.extensions().get::<ClientAddress>().copied()
}

/// Records the TCP peer as the client address, unless an outer layer recorded one already.
pub async fn note_peer(mut request: Request, next: Next) -> Response {
    if request.extensions().get::<ClientAddress>().is_none()
        && let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied()
    {
        request.extensions_mut().insert(ClientAddress(peer.ip()));
    }
    next.run(request).await
}
