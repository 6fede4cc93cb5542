//! The hub against several AWS accounts, over real HTTP to emulated accounts: the IAM and STS
//! calls a key rollover makes (a SAML provider updated to trust the current and the next
//! certificate, a key check assumed with each key, another key refused, the old certificate
//! removed), and the chain check choosing, for each application, the configured account it names.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_hub::apps::model::{Application, AwsAccount, AwsRole};
use crossfed_hub::aws::key_check::{KEY_CHECK_SESSION, RolePair, aws_roles, verify_key};
use crossfed_saml::{Endpoint, EntityDescriptor, Timestamp};
use crossfed_xmldsig::SigningKey;

use crate::support::accounts::{Account, FIRST, PROVIDER, ROLE, SECOND, two_accounts};

const ISSUER: &str = "https://hub.example.com/saml/apps/console";

fn key(name: &str) -> SigningKey {
    SigningKey::generate_rsa(name, crossfed_clock::Clock::system().now(), 30).unwrap()
}

/// The hub's IdP metadata for the console application, trusting `keys`.
fn metadata(keys: &[&SigningKey]) -> String {
    EntityDescriptor::idp(
        ISSUER,
        keys.iter().map(|k| k.certificate().clone()).collect(),
        vec![Endpoint::post("https://hub.example.com/saml/sso")],
    )
    .to_xml()
}

/// The hub's AWS console application for `account`, as the catalog makes it.
fn console(account: &Account) -> Application {
    AwsAccount {
        account_id: account.id.clone(),
        roles: vec![AwsRole { role_name: ROLE.into(), provider_name: PROVIDER.into() }],
        signin_url: Some(account.signin_url()),
        relay_state: None,
        session_duration: 3600,
    }
    .application("AWS console")
    .unwrap()
}

fn now() -> Timestamp {
    Timestamp::from(crossfed_clock::Clock::system().now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_trusted_key_passes_the_key_check_and_another_is_refused_in_both_accounts() {
    let (current, next, stranger) = (key("current"), key("next"), key("stranger"));
    let accounts = two_accounts(&metadata(&[&current])).await;
    let clock = crossfed_clock::Clock::system();
    for account in &accounts {
        let target = account.target(true);
        let iam = target.iam(&clock).unwrap();
        let provider = account.provider_arn(PROVIDER);
        let pair = RolePair { role_arn: account.role_arn(ROLE), provider_arn: provider.clone() };
        let app = console(account);
        let session = format!("arn:aws:sts::{}:assumed-role/{ROLE}/{KEY_CHECK_SESSION}", account.id);

        // Before the update only the current key passes.
        let refused = verify_key(&target, &app, ISSUER, &pair, &next, now()).await.unwrap_err();
        assert_eq!(refused.code(), Some("InvalidIdentityToken"), "{refused}");

        assert_eq!(iam.update_saml_provider(&provider, &metadata(&[&current, &next])).await.unwrap(), provider);
        let trusted: Vec<String> =
            iam.saml_provider_certificates(&provider).await.unwrap().iter().map(|c| c.fingerprint_hex()).collect();
        assert_eq!(trusted, [current.certificate().fingerprint_hex(), next.certificate().fingerprint_hex()]);

        for (name, key) in [("current", &current), ("next", &next)] {
            let assumed = verify_key(&target, &app, ISSUER, &pair, key, now()).await;
            assert_eq!(assumed.unwrap(), session, "the {name} key in account {}", account.id);
        }
        let refused = verify_key(&target, &app, ISSUER, &pair, &stranger, now()).await.unwrap_err();
        assert_eq!(refused.code(), Some("InvalidIdentityToken"), "{refused}");
        assert!(refused.to_string().contains(&pair.role_arn), "{refused}");

        // The rollover's last step: the old certificate removed, the current key is refused.
        iam.update_saml_provider(&provider, &metadata(&[&next])).await.unwrap();
        let refused = verify_key(&target, &app, ISSUER, &pair, &current, now()).await.unwrap_err();
        assert_eq!(refused.code(), Some("InvalidIdentityToken"), "{refused}");
        assert_eq!(verify_key(&target, &app, ISSUER, &pair, &next, now()).await.unwrap(), session);
    }

    // Each account's keys reach only their own account: the other's provider is unknown there.
    let [first, second] = &accounts;
    let pair = RolePair { role_arn: second.role_arn(ROLE), provider_arn: second.provider_arn(PROVIDER) };
    let refused = verify_key(&first.target(true), &console(second), ISSUER, &pair, &next, now()).await.unwrap_err();
    assert_eq!(refused.code(), Some("InvalidIdentityToken"), "{refused}");

    // A missing provider, and metadata IAM will not take, come back with AWS's codes.
    let iam = first.target(true).iam(&clock).unwrap();
    let missing = iam.update_saml_provider(&first.provider_arn("Nobody"), &metadata(&[&next])).await.unwrap_err();
    assert_eq!(missing.code(), Some("NoSuchEntity"), "{missing}");
    let many: Vec<SigningKey> = (0..11).map(|i| key(&format!("key {i}"))).collect();
    let too_many = metadata(&many.iter().collect::<Vec<_>>());
    let refused = iam.update_saml_provider(&first.provider_arn(PROVIDER), &too_many).await.unwrap_err();
    assert_eq!(refused.code(), Some("LimitExceeded"), "{refused}");
}

/// The (link, subject, ok, detail) rows of a console page's findings table.
pub(crate) fn rows(page: &str) -> Vec<(String, String, bool, String)> {
    page.split("<tr class=\"finding\"")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split("<td>").skip(1).map(|c| c.split("</td>").next().unwrap_or("")).collect();
            let ok = row.contains("data-ok=\"true\"");
            (cells[0].to_string(), cells[1].to_string(), ok, crossfed_testkit::browser::unescape(cells[2]))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_reads_each_application_in_the_account_it_names() {
    let (first, second) = tokio::join!(Account::start(FIRST), Account::start(SECOND));
    // The first entry says its account; the second's is learned from its keys; the third
    // claims an account its keys (the first's) do not belong to.
    let mut config = format!("{}{}", first.config_entry(true), second.config_entry(false));
    config += &first.config_entry(true).replace(&format!("account_id = \"{FIRST}\""), "account_id = \"444444444444\"");
    for (id, account, signin) in [
        ("console-one", FIRST, first.signin_url()),
        ("console-two", SECOND, second.signin_url()),
        ("console-three", "333333333333", "https://signin.aws.amazon.com/saml".to_string()),
        ("console-four", "444444444444", first.signin_url()),
    ] {
        config += &format!(
            "[[applications]]\nid = \"{id}\"\nname = \"{id}\"\n[applications.aws_account]\naccount_id = \"{account}\"\nsignin_url = \"{signin}\"\nroles = [{{ role_name = \"{ROLE}\", provider_name = \"{PROVIDER}\" }}]\n"
        );
    }
    let data = crossfed_testkit::temp_dir().keep();
    let store = crossfed_testkit::test_store("accounts").await;
    let hub = crate::support::start_hub(&config, &store, &data, crossfed_clock::Clock::system()).await;
    let http = reqwest::Client::new();
    for (account, app) in [(&first, "console-one"), (&second, "console-two")] {
        let url = format!("{}/saml/apps/{app}/metadata", hub.url);
        let xml = http.get(url).send().await.unwrap().text().await.unwrap();
        account.trust(PROVIDER, &xml, ROLE).await;
    }
    let spec = hub.hub.catalog().await.entries["console-two"].spec.clone();
    assert_eq!(aws_roles(&spec).unwrap().pairs[0].provider_arn, second.provider_arn(PROVIDER));

    let browser = hub.console().await;
    let page = browser.get(format!("{}/admin/checks", hub.url)).send().await.unwrap().text().await.unwrap();
    let findings = rows(&page);
    assert!(!findings.is_empty(), "{page}");

    for (app, account) in [("console-one", FIRST), ("console-two", SECOND)] {
        let of_app: Vec<_> = findings.iter().filter(|(_, subject, _, _)| subject == app).collect();
        assert!(of_app.iter().all(|(_, _, ok, _)| *ok), "{app}: {of_app:?}");
        let reached = of_app.iter().find(|(link, _, _, _)| link == "target-account").unwrap();
        assert_eq!(reached.3, format!("keys reach account {account}"), "{app}");
        for link in ["provider-certificate", "role-trust"] {
            assert!(of_app.iter().any(|(l, _, _, _)| l == link), "{app} has its {link} checked: {of_app:?}");
        }
    }
    // The application naming an account with no keys configured: one finding, naming the
    // account and the fix; and the one whose entry's keys belong to another account.
    let broken: Vec<_> = findings.iter().filter(|(_, _, ok, _)| !ok).collect();
    let broken_links: Vec<(&str, &str)> = broken.iter().map(|(l, s, _, _)| (l.as_str(), s.as_str())).collect();
    // Applications are checked in the order of their IDs.
    assert_eq!(broken_links, [("target-account", "console-four"), ("target-account", "console-three")]);
    let detail = &broken[1].3;
    assert!(detail.contains("no configured target account reaches account 333333333333"), "{detail}");
    assert!(detail.contains(&format!("are for account {FIRST}")), "{detail}");
    assert!(detail.contains(&format!("reach account {SECOND}")), "{detail}");
    assert!(detail.contains("add a [[target_accounts]] entry with account_id = \"333333333333\""), "{detail}");
    let detail = &broken[0].3;
    assert!(
        detail.contains(&format!(
            "entry for 444444444444 has keys of another account: keys {} at {} belong to account {FIRST}",
            first.access_key_id, first.url
        )),
        "{detail}"
    );
    // Nothing else of those applications is read: there are no keys to read them with.
    for app in ["console-three", "console-four"] {
        let links: Vec<&str> = findings.iter().filter(|(_, s, _, _)| s == app).map(|(l, _, _, _)| l.as_str()).collect();
        assert_eq!(links, ["hub-certificate", "target-account"], "{app}");
    }
}
