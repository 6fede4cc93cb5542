//! What the hub's handlers share about the web: the request guards as axum extractors
//! ([`extract`]: a browser session and a form checked against cross-site requests), the pages
//! they answer with ([`pages`]), and the admin API's error body ([`error`]).

pub mod error;
pub mod extract;
pub mod pages;
