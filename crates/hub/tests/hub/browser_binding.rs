//! Login CSRF: every pending sign-in is bound to the browser that started it. An attacker who
//! starts a sign-in and obtains the IdP's answer for their own account cannot finish it in a
//! victim's browser, at the hub's ACS (the hub as SP) nor at a resumed AuthnRequest (the hub as
//! IdP); the browser that did start it still can.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_testkit::browser::{field, follow, hidden_fields, new_browser, submit_sign_in};

use crate::support::{CORP_PEOPLE, federation};

/// Starts a sign-in at the hub in `browser` and signs in at corp as `who`; returns the
/// SAMLResponse corp's page would post to the hub, without posting it.
async fn answer_for(browser: &reqwest::Client, hub_url: &str, who: usize) -> String {
    let login = browser.get(format!("{hub_url}/portal")).send().await.unwrap();
    let (name, password) = CORP_PEOPLE[who];
    let page = submit_sign_in(browser, login, name, password).await.text().await.unwrap();
    let fields = hidden_fields(&page);
    fields.into_iter().find(|(name, _)| name == "SAMLResponse").expect("corp's answer").1
}

/// Posts `answer` to the hub's ACS from `browser` as corp's page would, then as a browser goes on.
async fn post_answer(browser: &reqwest::Client, hub_url: &str, answer: &str) -> crossfed_testkit::browser::Page {
    let response = browser.post(format!("{hub_url}/saml/acs")).form(&[("SAMLResponse", answer)]).send().await.unwrap();
    follow(browser, response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_is_taken_only_in_the_browser_that_started_the_sign_in() {
    let f = federation().await;
    let attacker = new_browser();
    let planted = answer_for(&attacker, &f.hub_url, 1).await;

    // A victim who never started a sign-in: the answer is posted once more from the hub's own
    // page (a cross-site POST carries no SameSite=Lax cookie) and then refused.
    let victim = new_browser();
    let refused = post_answer(&victim, &f.hub_url, &planted).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(refused.text.contains("Sign-in started in another browser"), "{}", refused.text);
    assert!(refused.text.contains("other than the one that started this sign-in"), "{}", refused.text);
    let portal = victim.get(format!("{}/portal", f.hub_url)).send().await.unwrap();
    assert!(portal.url().as_str().starts_with(&f.corp_url), "the victim is not signed in: {}", portal.url());

    // A victim with a sign-in of their own under way is refused as well.
    let _own = answer_for(&victim, &f.hub_url, 0).await;
    let refused = post_answer(&victim, &f.hub_url, &planted).await;
    assert_eq!(refused.status, 403, "{refused:?}");

    // The refusals left the sign-in to its own browser, which finishes it.
    let landed = post_answer(&attacker, &f.hub_url, &planted).await;
    assert_eq!((landed.status.as_u16(), landed.url.path()), (200, "/portal"), "{landed:?}");
    assert!(landed.text.contains("mallory@example.com"), "{}", landed.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_racing_one_answer_only_the_starting_one_signs_in() {
    let f = federation().await;
    let starter = new_browser();
    let answer = answer_for(&starter, &f.hub_url, 0).await;
    let other = new_browser();
    let _ = other.get(format!("{}/portal", f.hub_url)).send().await.unwrap();
    let (mine, theirs) =
        tokio::join!(post_answer(&starter, &f.hub_url, &answer), post_answer(&other, &f.hub_url, &answer));
    assert_eq!((mine.status.as_u16(), mine.url.path()), (200, "/portal"), "{mine:?}");
    // Refused as started elsewhere, or as already used if the starter was first: never signed in.
    assert_eq!(theirs.status, 403, "{theirs:?}");
    let portal = other.get(format!("{}/portal", f.hub_url)).send().await.unwrap();
    assert!(portal.url().as_str().starts_with(&f.corp_url), "the other browser is not signed in: {}", portal.url());
    // Once used, the answer is spent even in the browser that started it.
    let again = post_answer(&starter, &f.hub_url, &answer).await;
    assert_eq!(again.status, 403, "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_authn_request_is_answered_only_in_the_browser_it_came_in() {
    let f = federation().await;
    // The hub's AuthnRequest waits at corp (the hub as IdP) while the attacker's browser is
    // shown corp's sign-in form; its resume address is in the form.
    let attacker = new_browser();
    let login = attacker.get(format!("{}/portal", f.hub_url)).send().await.unwrap();
    assert!(login.url().as_str().starts_with(&format!("{}/login", f.corp_url)), "{}", login.url());
    let form = login.text().await.unwrap();
    let resume = format!("{}{}", f.corp_url, crossfed_testkit::browser::unescape(field(&form, "next")));
    assert!(resume.contains("/saml/sso/resume/"), "{resume}");

    // A victim signed in at corp who is made to open it gets no answer for the attacker's request.
    let victim = new_browser();
    let own = victim.get(format!("{}/portal", f.hub_url)).send().await.unwrap();
    let (name, password) = CORP_PEOPLE[0];
    let _ = submit_sign_in(&victim, own, name, password).await;
    let refused = victim.get(&resume).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let page = refused.text().await.unwrap();
    assert!(page.contains("started in another browser"), "{page}");

    // The attacker's own browser still resumes it after signing in.
    let (name, password) = CORP_PEOPLE[1];
    let login = attacker.get(&resume).send().await.unwrap();
    let answer = submit_sign_in(&attacker, login, name, password).await.text().await.unwrap();
    assert!(answer.contains("name=\"SAMLResponse\""), "{answer}");
}
