//! The hub's web surface against a real server on a free port, each check named after the attack
//! it stops: session fixation, login CSRF, cookie flags, security headers, open redirects after
//! sign-in, oversized bodies and headers, and password guessing spread over two hub instances
//! sharing one store. The table in docs/attacks.md lists them with these tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use crossfed_hub::config::HubConfig;
use crossfed_store::ObjectStore;
use crossfed_testkit::browser::field;

const CONFIG: &str = r#"
[[users]]
user_name = "alice"
email = "alice@example.com"
password = "alice-password-1"
"#;

async fn hub_on(store: crossfed_store::Store, base_url: Option<&str>) -> (String, tokio::sync::oneshot::Sender<()>) {
    let data = crossfed_testkit::temp_dir().keep();
    let (listener, url) = crate::support::listener().await;
    let config: HubConfig = toml::from_str(CONFIG).unwrap();
    let (hub, _) =
        crossfed_hub::build_hub(&config, store, &data, base_url.unwrap_or(&url), crossfed_clock::Clock::system())
            .await
            .unwrap();
    let tx = crate::support::serve(listener, Arc::new(hub));
    (url, tx)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The sign-in form's nonce and the cookie that goes with it.
async fn login_form(client: &reqwest::Client, url: &str, next: &str) -> (String, String) {
    let form = client.get(format!("{url}/login?next={next}")).send().await.unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let nonce = field(&form.text().await.unwrap(), "nonce").to_string();
    (nonce, cookie)
}

async fn submit(
    client: &reqwest::Client,
    url: &str,
    cookies: &str,
    nonce: &str,
    next: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{url}/login"))
        .header("cookie", cookies)
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("nonce", nonce), ("next", next), ("user_name", "alice"), ("password", password), ("totp", "")])
        .send()
        .await
        .unwrap()
}

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.contains("crossfed-session-") && !c.contains("-login="))
        .unwrap_or_else(|| panic!("no session cookie in {:?}", response.headers()))
}

#[tokio::test]
async fn fixation_csrf_cookies_headers_and_redirects() {
    let store = crossfed_testkit::test_store("web").await;
    let (url, _stop) = hub_on(store, None).await;
    let client = no_redirects();

    // Session fixation: a session ID planted in the browser before sign-in is not the one after.
    let (nonce, nonce_cookie) = login_form(&client, &url, "/portal").await;
    let name = nonce_cookie.split('=').next().unwrap().trim_end_matches("-login").to_string();
    let planted = format!("{nonce_cookie}; {name}=attacker-chosen-session-id");
    let signed_in = submit(&client, &url, &planted, &nonce, "/portal", "alice-password-1").await;
    assert_eq!(signed_in.status(), 303);
    let cookie = session_cookie(&signed_in);
    assert!(!cookie.contains("attacker-chosen-session-id"), "{cookie}");
    // Cookie flags: HttpOnly and SameSite=Lax always (Secure and __Host- when served over HTTPS, below).
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    let planted_portal =
        client.get(format!("{url}/portal")).header("cookie", format!("{name}=attacker-chosen-session-id")).send().await;
    assert_eq!(planted_portal.unwrap().status(), 303, "the planted ID opens nothing");

    // Login CSRF: a sign-in posted from another site, or without the form's nonce, is refused.
    let (nonce, nonce_cookie) = login_form(&client, &url, "/portal").await;
    let cross_site = client
        .post(format!("{url}/login"))
        .header("cookie", &nonce_cookie)
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[
            ("nonce", nonce.as_str()),
            ("next", "/portal"),
            ("user_name", "alice"),
            ("password", "alice-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let without_nonce_cookie = submit(&client, &url, "", &nonce, "/portal", "alice-password-1").await;
    assert_eq!(without_nonce_cookie.status(), 403);

    // Security headers on every page: no framing, no caching, no sniffing, a strict CSP.
    let page = client.get(format!("{url}/login")).send().await.unwrap();
    let headers = page.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");

    // Open redirects: after sign-in only paths on this site are followed.
    for next in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"] {
        let (nonce, nonce_cookie) = login_form(&client, &url, "/portal").await;
        let answer = submit(&client, &url, &nonce_cookie, &nonce, next, "alice-password-1").await;
        let location = answer.headers()["location"].to_str().unwrap();
        assert_eq!(location, "/portal", "next={next}");
    }

    // Oversized input: a 300 KiB body is refused before it is read; so is a 100 KiB header.
    let big = "a".repeat(300 * 1024);
    let answer = client.post(format!("{url}/login")).form(&[("nonce", big.as_str())]).send().await.unwrap();
    assert_eq!(answer.status(), 413);
    let answer = client.get(format!("{url}/login")).header("x-padding", "b".repeat(100 * 1024)).send().await;
    assert_eq!(answer.unwrap().status(), 431, "an oversized header is refused");
}

#[tokio::test]
async fn cookies_are_host_prefixed_and_secure_behind_https() {
    let store = crossfed_testkit::test_store("web-https").await;
    // Served over plain loopback in the test, published as HTTPS (as behind a TLS proxy).
    let (url, _stop) = hub_on(store, Some("https://hub.example.com")).await;
    let client = no_redirects();
    let (nonce, nonce_cookie) = login_form(&client, &url, "/portal").await;
    assert!(nonce_cookie.starts_with("__Host-crossfed-session-"), "{nonce_cookie}");
    let signed_in = client
        .post(format!("{url}/login"))
        .header("cookie", &nonce_cookie)
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[
            ("nonce", nonce.as_str()),
            ("next", "/portal"),
            ("user_name", "alice"),
            ("password", "alice-password-1"),
            ("totp", ""),
        ])
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&signed_in);
    assert!(cookie.starts_with("__Host-") && cookie.contains("; Secure") && cookie.contains("Path=/"), "{cookie}");
}

/// Guessing spread over two instances of the hub on one store is throttled as a whole: the
/// failures are counted in the store, not per process.
#[tokio::test]
async fn password_guessing_is_throttled_across_instances() {
    let store = crossfed_testkit::test_store("web-throttle").await;
    let (a, _stop_a) = hub_on(store.clone(), None).await;
    let (b, _stop_b) = hub_on(store, None).await;
    let client = no_redirects();
    for attempt in 0..5 {
        let url = if attempt % 2 == 0 { &a } else { &b };
        let (nonce, cookie) = login_form(&client, url, "/portal").await;
        let answer = submit(&client, url, &cookie, &nonce, "/portal", "wrong-password").await;
        // The fifth failure in the window locks (ThrottlePolicy::default: five in 15 minutes).
        assert_eq!(answer.status(), if attempt < 4 { 401 } else { 429 }, "attempt {attempt} at {url}");
    }
    // Locked at both instances, even with the right password.
    for url in [&a, &b] {
        let (nonce, cookie) = login_form(&client, url, "/portal").await;
        let answer = submit(&client, url, &cookie, &nonce, "/portal", "alice-password-1").await;
        assert_eq!(answer.status(), 429, "{url}");
        assert!(answer.text().await.unwrap().contains("too many failed sign-ins"));
    }
}

/// Whoever reads the database finds no session to use: the store keeps the SHA-256 digest of
/// the cookie's secret, for portal and console sessions alike.
#[tokio::test]
async fn the_store_keeps_digests_of_session_cookies_not_the_cookies() {
    let store = crossfed_testkit::test_store("web").await;
    let (url, _stop) = hub_on(store.clone(), None).await;
    let client = no_redirects();
    let (nonce, nonce_cookie) = login_form(&client, &url, "/portal").await;
    let signed_in = submit(&client, &url, &nonce_cookie, &nonce, "/portal", "alice-password-1").await;
    let cookie = session_cookie(&signed_in);
    let secret = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
    let digest = crossfed_hub::tokens::digest(&secret);
    assert_ne!(secret, digest);
    assert!(store.get_object(crossfed_hub::sessions::SESSION_KIND, &secret).await.unwrap().is_none());
    let stored = store.get_object(crossfed_hub::sessions::SESSION_KIND, &digest).await.unwrap().expect("the session");
    assert!(!stored.body.contains(&secret), "{}", stored.body);
    // The cookie still opens the portal: the hub finds its session by the digest.
    let name = cookie.split('=').next().unwrap();
    let portal = client.get(format!("{url}/portal")).header("cookie", format!("{name}={secret}")).send().await;
    assert_eq!(portal.unwrap().status(), 200);
    // A stolen digest opens nothing.
    let portal = client.get(format!("{url}/portal")).header("cookie", format!("{name}={digest}")).send().await;
    assert_eq!(portal.unwrap().status(), 303);

    let now = crossfed_clock::Clock::system().unix();
    let token =
        crossfed_hub::tokens::issue(&store, crossfed_hub::tokens::ADMIN, "web-test", None, now).await.unwrap().0;
    let console = client
        .post(format!("{url}/admin/login"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    let console_cookie = console
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.contains("-admin="))
        .expect("a console cookie");
    let secret = console_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
    let digest = crossfed_hub::tokens::digest(&secret);
    assert!(store.get_object("console-session", &secret).await.unwrap().is_none());
    assert!(store.get_object("console-session", &digest).await.unwrap().is_some());
}
