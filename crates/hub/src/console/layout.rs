//! What every console page shares: the frame its template extends (`templates/console/base.html`:
//! the navigation, the title, the notices above the page, an optional script), the status line
//! it answers with, and how dates and expiries are shown.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_web::{FormTargets, render};
use serde::Deserialize;

use crate::records::new_token;
use crate::sessions::ConsoleSession;

/// The console's sections, in the navigation.
pub const SECTIONS: &[(&str, &str)] = &[
    ("/admin", "Overview"),
    ("/admin/identity-source", "Identity source"),
    ("/admin/applications", "Applications"),
    ("/admin/users", "Users"),
    ("/admin/groups", "Groups"),
    ("/admin/provisioning", "Provisioning"),
    ("/admin/audit", "Audit log"),
    ("/admin/keys", "Keys"),
    ("/admin/checks", "Checks"),
];

/// A line above a page's content: `ok`, `warn`, `error`, or plain (empty class).
pub struct Notice {
    pub class: &'static str,
    pub text: String,
}

impl Notice {
    pub fn ok(text: impl Into<String>) -> Notice {
        Notice { class: "ok", text: text.into() }
    }

    pub fn warn(text: impl Into<String>) -> Notice {
        Notice { class: "warn", text: text.into() }
    }

    pub fn error(text: impl Into<String>) -> Notice {
        Notice { class: "error", text: text.into() }
    }
}

/// The frame of a console page.
pub struct Frame<'a> {
    pub title: String,
    /// The section the page belongs to (highlighted in the navigation).
    pub here: &'static str,
    /// Without a session (the sign-in page) there is no navigation.
    pub session: Option<&'a ConsoleSession>,
    pub notices: Vec<Notice>,
    pub sections: &'static [(&'static str, &'static str)],
    /// A script of the page's own (an enhancement: the page works without it).
    pub script: Option<&'static str>,
    pub nonce: String,
    /// Where the page's forms may end (the test sign-in is redirected to the IdP, and browsers
    /// apply `form-action` to where a form's redirects lead).
    pub forms: FormTargets,
}

impl<'a> Frame<'a> {
    pub fn new(here: &'static str, title: impl Into<String>, session: Option<&'a ConsoleSession>) -> Frame<'a> {
        Frame {
            title: title.into(),
            here,
            session,
            notices: Vec::new(),
            sections: SECTIONS,
            script: None,
            nonce: String::new(),
            forms: FormTargets::SameOrigin,
        }
    }

    /// The frame with `notice` above the page (when there is one).
    pub fn with(mut self, notice: Option<Notice>) -> Frame<'a> {
        self.notices.extend(notice);
        self
    }

    /// The frame carrying `code` as the page's script.
    pub fn with_script(mut self, code: &'static str) -> Frame<'a> {
        self.script = Some(code);
        self.nonce = new_token();
        self
    }
}

/// A page of the console: its template and its frame.
pub trait ConsolePage: Template {
    fn frame(&self) -> &Frame<'_>;
}

/// Renders `page` with `status`, its script allowed by its nonce.
pub fn show(status: StatusCode, page: &impl ConsolePage) -> Response {
    let frame = page.frame();
    let nonce = frame.script.map(|_| frame.nonce.as_str());
    render(status, page, nonce, frame.forms)
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    frame: Frame<'a>,
}

impl ConsolePage for MessagePage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

/// A page that is only a title and a notice.
pub fn message_page(
    status: StatusCode,
    here: &'static str,
    title: &str,
    session: Option<&ConsoleSession>,
    notice: Notice,
) -> Response {
    show(status, &MessagePage { frame: Frame::new(here, title, session).with(Some(notice)) })
}

/// A form with nothing but its CSRF token (checked by the console's guard).
#[derive(Deserialize)]
pub struct NoFields {}

/// A Unix time as the console shows it (UTC, to the minute).
pub fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()))
        .unwrap_or_else(|_| unix.to_string())
}

/// A certificate's expiry as the console shows it at `now`, with a warning within 30 days.
pub struct Expiry {
    pub class: &'static str,
    pub text: String,
}

impl Expiry {
    pub fn of(not_after: i64, now: i64) -> Expiry {
        let left = not_after - now;
        let class = if left < 0 {
            "error"
        } else if left < 30 * 86_400 {
            "warn"
        } else {
            "ok"
        };
        let note = if left < 0 { " (expired)".to_string() } else { format!(" ({} days)", left / 86_400) };
        Expiry { class, text: format!("{}{note}", date(not_after)) }
    }
}
