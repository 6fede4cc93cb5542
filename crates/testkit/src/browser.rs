//! A browser-like client for end-to-end tests: keeps cookies, follows redirects, fills forms and
//! does what the auto-submit script of a SAML POST-binding page does.

/// The value of the form field `name` in `html`.
pub fn field<'a>(html: &'a str, name: &str) -> &'a str {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker).nth(1).unwrap_or_else(|| panic!("no field {name} in {html}")).split('"').next().unwrap_or("")
}

/// Undoes HTML escaping of text or an attribute value (named and numeric references).
pub use crossfed_saml::html_unescape as unescape;

pub fn new_browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().expect("HTTP client")
}

/// Fills and posts the sign-in form `login` shows (built-in directory), keeping its nonce and
/// where it continues to.
pub async fn submit_sign_in(
    client: &reqwest::Client,
    login: reqwest::Response,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let login_url = login.url().clone();
    let form = login.text().await.expect("sign-in form");
    let nonce = field(&form, "nonce").to_string();
    let next = unescape(field(&form, "next"));
    client
        .post(login_url)
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[
            ("nonce", nonce.as_str()),
            ("next", next.as_str()),
            ("user_name", user),
            ("password", password),
            ("totp", ""),
        ])
        .send()
        .await
        .expect("signing in")
}

/// The hidden fields of `page`'s form, unescaped, in order.
pub fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.strip_prefix(" value=\"")?.split('"').next()?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

/// Submits the auto-posting form of a SAML POST-binding page (its action is another party's
/// absolute URL) with every hidden field, as its script does; `message` names the field the page
/// must carry.
pub async fn auto_submit(client: &reqwest::Client, page: &str, message: &str) -> reqwest::Response {
    let action = form_action(page);
    let form = hidden_fields(page);
    assert!(form.iter().any(|(name, _)| name == message), "no {message} in {page}");
    client.post(action).form(&form).send().await.expect("posting the SAML form")
}

/// Where a page that sends the browser on to another site leads.
pub fn continue_link(page: &str) -> Option<String> {
    page.split("<a id=\"next\" href=\"").nth(1).and_then(|r| r.split('"').next()).map(unescape)
}

/// Where the form of `page` posts, unescaped.
fn form_action(page: &str) -> String {
    let action = page.split("action=\"").nth(1).unwrap_or_else(|| panic!("no form in {page}"));
    unescape(action.split('"').next().unwrap_or(""))
}

/// A page as a browser ends up showing it.
#[derive(Debug)]
pub struct Page {
    pub url: reqwest::Url,
    pub status: reqwest::StatusCode,
    pub text: String,
}

/// Where `response` leads in a browser running its pages' scripts: an auto-posting form is
/// posted (a relative action against the page's URL), a page that sends the browser on is
/// followed; the first page that does neither is where it ends.
pub async fn follow(client: &reqwest::Client, mut response: reqwest::Response) -> Page {
    for _ in 0..8 {
        let url = response.url().clone();
        let status = response.status();
        let text = response.text().await.expect("page");
        if text.contains("document.forms[0].submit()") {
            let action = form_action(&text);
            let action = url.join(&action).unwrap_or_else(|e| panic!("form action {action}: {e}"));
            response = client.post(action).form(&hidden_fields(&text)).send().await.expect("posting the form");
        } else if let Some(next) = continue_link(&text) {
            response = client.get(next).send().await.expect("following the page");
        } else {
            return Page { url, status, text };
        }
    }
    panic!("more than 8 pages in a row sent the browser on")
}

/// Where a journey through the reference chain ended.
#[derive(Debug)]
pub enum Landing {
    /// The hub's portal showed no such application.
    NotListed(String),
    /// The last page after posting the hub's Response, with its status.
    Page(u16, String),
}

/// One person through the chain: the hub portal sends them to corp's sign-in, corp answers the
/// hub, and they open `app_id` from the portal; returns where they landed.
pub async fn reference_chain_journey(hub_url: &str, app_id: &str, user: &str, password: &str) -> Landing {
    let browser = new_browser();
    let login = browser.get(format!("{hub_url}/portal")).send().await.expect("hub portal");
    assert!(login.url().path().ends_with("/login"), "expected corp's sign-in, got {}", login.url());
    let answer = submit_sign_in(&browser, login, user, password).await;
    let page = answer.text().await.expect("corp's answer");
    let portal = auto_submit(&browser, &page, "SAMLResponse").await;
    assert_eq!(portal.status(), 200, "the hub refused corp's response");
    let portal = portal.text().await.expect("portal");
    if !portal.contains(&format!("id=\"app-{app_id}\"")) {
        return Landing::NotListed(portal);
    }
    let csrf = field(&portal, "csrf").to_string();
    let launch = browser
        .post(format!("{hub_url}/apps/{app_id}/launch"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("launch")
        .text()
        .await
        .expect("launch page");
    let landed = auto_submit(&browser, &launch, "SAMLResponse").await;
    let status = landed.status().as_u16();
    Landing::Page(status, landed.text().await.expect("landing page"))
}
