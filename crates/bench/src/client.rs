//! The load generator's browser side: signing in at a directory-mode hub, a virtual user's
//! prepared launch request, the fields of a page's form, and the auto-submitting SAML form
//! posted as a browser's script would.

use std::sync::Arc;

use anyhow::{Context, Result};

use crate::lean_http;

/// The bench users' password.
pub(crate) const PASSWORD: &str = "bench-password-1";

pub(crate) fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    Some(html.split(&marker).nth(1)?.split('"').next()?.to_string())
}

/// Signs `user` in with the bench's password at the directory-mode hub at `base`.
pub(crate) async fn sign_in(client: &reqwest::Client, base: &str, user: &str) -> Result<reqwest::Response> {
    let form = client.get(format!("{base}/login")).send().await?.text().await?;
    let nonce = field(&form, "nonce").with_context(|| format!("the sign-in form at {base} has no nonce"))?;
    let fields =
        [("nonce", nonce.as_str()), ("next", "/portal"), ("user_name", user), ("password", PASSWORD), ("totp", "")];
    let request = client.post(format!("{base}/login")).header("Sec-Fetch-Site", "same-origin").form(&fields);
    Ok(request.send().await?)
}

/// A virtual user signed in at the hub: its launch request, with the session cookie and the
/// CSRF token its portal forms carry.
pub(crate) async fn launch_request(hub: &reqwest::Url, user: &str, app: &str) -> Result<lean_http::PreparedRequest> {
    use reqwest::cookie::CookieStore;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder().cookie_provider(jar.clone()).build()?;
    let base = hub.as_str().trim_end_matches('/');
    let portal = sign_in(&client, base, user).await?.text().await?;
    let csrf = field(&portal, "csrf").with_context(|| format!("{user} did not reach the portal"))?;
    let cookie = jar.cookies(hub).with_context(|| format!("{user} has no session cookie"))?;
    let host = hub.host_str().zip(hub.port()).map(|(h, p)| format!("{h}:{p}")).context("the hub's address")?;
    let body = format!("csrf={}", percent_encoding::utf8_percent_encode(&csrf, percent_encoding::NON_ALPHANUMERIC));
    let headers = [("Cookie", cookie.to_str()?), ("Sec-Fetch-Site", "same-origin")];
    Ok(lean_http::PreparedRequest::form_post(&host, &format!("/apps/{app}/launch"), &headers, &body))
}

/// Posts the auto-submitting SAML form of `page` as the browser's script would.
pub(crate) async fn submit_saml_form(client: &reqwest::Client, page: &str) -> Result<reqwest::Response, String> {
    let no_form = || format!("expected a SAML form, got: {}", page.chars().take(300).collect::<String>());
    let action = crossfed_saml::html_unescape(
        page.split("action=\"").nth(1).and_then(|a| a.split('"').next()).ok_or_else(no_form)?,
    );
    let mut form = vec![("SAMLResponse".to_string(), field(page, "SAMLResponse").ok_or_else(no_form)?)];
    if let Some(relay) = field(page, "RelayState") {
        form.push(("RelayState".to_string(), crossfed_saml::html_unescape(&relay)));
    }
    client.post(&action).form(&form).send().await.map_err(|e| format!("posting to {action}: {e}"))
}

/// A page's text, or why there is none.
pub(crate) async fn page_text(
    response: Result<reqwest::Response, reqwest::Error>,
    what: &str,
) -> Result<String, String> {
    let response = response.map_err(|e| format!("{what}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("{what}: {e}"))?;
    if !status.is_success() {
        let message = text.split("id=\"message\">").nth(1).and_then(|m| m.split('<').next()).unwrap_or(&text);
        return Err(format!("{what}: HTTP {status}: {}", message.chars().take(300).collect::<String>()));
    }
    Ok(text)
}
