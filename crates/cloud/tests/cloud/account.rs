//! The emulated account end to end: boto3 (a real AWS client) against IAM SAML providers, roles and
//! policies; AssumeRoleWithSAML with assertions from crossfed's IdP side; GetCallerIdentity with
//! the issued credentials; and the errors a client expects when something is wrong.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use crossfed_cloud::{App, Settings};
use crossfed_saml::{
    Attribute, Endpoint, EntityDescriptor, NameId, ResponseSpec, SignedParts, Timestamp, build_response, ns,
};
use crossfed_store::{Store, new_id};
use crossfed_testkit::run_peer_json;
use crossfed_xmldsig::SigningKey;
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";
const ADMIN_KEY: &str = "AKIAADMINEXAMPLE0001";
const ADMIN_SECRET: &str = "admin/secret/example/key/for/tests/only";
const HUB: &str = "https://hub.example.com/saml/idp/connect";

struct Cloud {
    base: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Cloud {
    let store = Store::connect(&format!("sqlite:file:cloud-{}?mode=memory&cache=shared", new_id())).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Arc::new(App::new(store, Settings::new(ACCOUNT, "us-east-1", &base), ADMIN_KEY, ADMIN_SECRET));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(crossfed_cloud::serve(listener, app, async move {
        let _ = rx.await;
    }));
    Cloud { base, _shutdown: tx }
}

/// Runs boto3 calls in a blocking thread (the server runs on this runtime).
async fn boto3(cloud: &Cloud, calls: Value) -> Vec<Value> {
    let input = json!({
        "endpoint": cloud.base,
        "region": "us-east-1",
        "admin": {"access_key_id": ADMIN_KEY, "secret_access_key": ADMIN_SECRET},
        "calls": calls,
    });
    let out = tokio::task::spawn_blocking(move || run_peer_json("boto3_calls.py", &input)).await.unwrap();
    out.as_array().unwrap().clone()
}

fn hub_key() -> SigningKey {
    SigningKey::generate_rsa("hub connect app", crossfed_clock::Clock::system().now(), 30).unwrap()
}

fn metadata(key: &SigningKey) -> String {
    EntityDescriptor::idp(
        HUB,
        vec![key.certificate().clone()],
        vec![Endpoint::post("https://hub.example.com/saml/sso")],
    )
    .to_xml()
}

/// SP metadata (a common mistake: uploading the wrong side's file), padded past the client's
/// 1000-character minimum.
fn sp_metadata(key: &SigningKey) -> String {
    let xml = EntityDescriptor::sp(
        "urn:amazon:webservices",
        vec![key.certificate().clone()],
        vec![crossfed_saml::IndexedEndpoint::post("https://signin.aws.amazon.com/saml", 1)],
    )
    .to_xml();
    format!("{xml}{}", " ".repeat(1000))
}

fn trust_policy(provider: &str, aud: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithSAML",
            "Condition": {"StringEquals": {"SAML:aud": aud}}
        }]
    })
    .to_string()
}

fn assertion(key: &SigningKey, recipient: &str, role: &str, provider: &str, session: &str, now: Timestamp) -> String {
    let spec = ResponseSpec {
        issuer: HUB.into(),
        destination: recipient.into(),
        audiences: vec!["urn:amazon:webservices".into()],
        in_response_to: None,
        name_id: NameId {
            value: "alice@example.com".into(),
            format: Some(ns::NAMEID_EMAIL.into()),
            ..NameId::default()
        },
        session_index: "_s".into(),
        authn_instant: now,
        authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
        attributes: vec![
            Attribute::uri("https://aws.amazon.com/SAML/Attributes/Role", vec![format!("{role},{provider}")]),
            Attribute::uri("https://aws.amazon.com/SAML/Attributes/RoleSessionName", vec![session.into()]),
            Attribute::uri("https://aws.amazon.com/SAML/Attributes/SessionDuration", vec!["3600".into()]),
        ],
        lifetime_seconds: 300,
        not_before_skew_seconds: 0,
        session_not_on_or_after: None,
        signed_parts: SignedParts::Assertion,
    };
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(build_response(&spec, now, key).unwrap().xml)
}

/// An assertion addressed to another audience than AWS.
fn with_audience(key: &SigningKey, recipient: &str, role: &str, audience: &str, now: Timestamp) -> String {
    use base64::Engine;
    let spec = ResponseSpec {
        issuer: HUB.into(),
        destination: recipient.into(),
        audiences: vec![audience.into()],
        in_response_to: None,
        name_id: NameId { value: "alice".into(), format: None, ..NameId::default() },
        session_index: "_s".into(),
        authn_instant: now,
        authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
        attributes: vec![
            Attribute::uri("https://aws.amazon.com/SAML/Attributes/Role", vec![format!("{role},{}", provider_arn())]),
            Attribute::uri("https://aws.amazon.com/SAML/Attributes/RoleSessionName", vec!["alice".into()]),
        ],
        lifetime_seconds: 300,
        not_before_skew_seconds: 0,
        session_not_on_or_after: None,
        signed_parts: SignedParts::Assertion,
    };
    base64::engine::general_purpose::STANDARD.encode(build_response(&spec, now, key).unwrap().xml)
}

fn provider_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:saml-provider/Hub")
}

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_setup_assume_role_with_saml_and_caller_identity() {
    let cloud = start().await;
    let key = hub_key();
    let signin = format!("{}/saml", cloud.base);
    let connect_policy = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Statement1", "Effect": "Allow",
        "Action": "connect:GetFederationToken",
        "Resource": [format!("arn:aws:connect:us-east-1:{ACCOUNT}:instance/11111111-2222-3333-4444-555555555555/user/${{aws:userid}}")]}]});
    let setup = boto3(&cloud, json!([
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Hub", "SAMLMetadataDocument": metadata(&key)}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "ConnectAgent", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), &signin), "MaxSessionDuration": 43200}},
        {"service": "iam", "operation": "put_role_policy", "params": {"RoleName": "ConnectAgent", "PolicyName": "federate", "PolicyDocument": connect_policy.to_string()}},
        {"service": "iam", "operation": "get_role", "params": {"RoleName": "ConnectAgent"}},
        {"service": "iam", "operation": "list_saml_providers"},
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Hub", "SAMLMetadataDocument": metadata(&key)}},
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Broken", "SAMLMetadataDocument": sp_metadata(&key)}},
        {"service": "iam", "operation": "put_role_policy", "params": {"RoleName": "ConnectAgent", "PolicyName": "bad", "PolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"x:y\",\"Resource\":\"*\",\"Condition\":{\"StringEqualz\":{\"a:b\":\"c\"}}}]}"}},
        {"service": "iam", "operation": "get_role", "params": {"RoleName": "Nobody"}},
    ])).await;
    for (i, r) in setup.iter().enumerate().take(5) {
        assert_eq!(r["ok"], true, "setup call {i}: {r}");
    }
    assert_eq!(setup[0]["result"]["SAMLProviderArn"], provider_arn());
    let role = &setup[3]["result"]["Role"];
    assert_eq!(role["Arn"], role_arn("ConnectAgent"));
    assert!(role["RoleId"].as_str().unwrap().starts_with("AROA"));
    assert_eq!(role["MaxSessionDuration"], 43200);
    assert_eq!(role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Federated"], provider_arn());
    assert_eq!(setup[4]["result"]["SAMLProviderList"][0]["Arn"], provider_arn());
    assert_eq!(setup[5]["code"], "EntityAlreadyExists");
    assert_eq!(setup[6]["code"], "InvalidInput");
    assert!(setup[6]["message"].as_str().unwrap().contains("Could not parse metadata"), "{}", setup[6]);
    assert_eq!(setup[7]["code"], "MalformedPolicyDocument");
    assert!(setup[7]["message"].as_str().unwrap().contains("StringEqualz"), "{}", setup[7]);
    assert_eq!(setup[8]["code"], "NoSuchEntity");

    let now = Timestamp::from(crossfed_clock::Clock::system().now());
    let good = assertion(&key, &signin, &role_arn("ConnectAgent"), &provider_arn(), "alice@example.com", now);
    let assume = |saml: &str| {
        json!({"service": "sts", "operation": "assume_role_with_saml", "credentials": {"access_key_id": "unused", "secret_access_key": "unused"},
        "params": {"RoleArn": role_arn("ConnectAgent"), "PrincipalArn": provider_arn(), "SAMLAssertion": saml}})
    };
    let results = boto3(&cloud, json!([
        assume(&good),
        {"service": "sts", "operation": "get_caller_identity", "credentials": {"$result": 0, "path": ["Credentials"]}},
        {"service": "iam", "operation": "list_saml_providers", "credentials": {"$result": 0, "path": ["Credentials"]}},
        assume(&good),
    ])).await;
    assert_eq!(results[0]["ok"], true, "{}", results[0]);
    let assumed = &results[0]["result"];
    assert!(assumed["Credentials"]["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert_eq!(assumed["Subject"], "alice@example.com");
    assert_eq!(assumed["SubjectType"], ns::NAMEID_EMAIL);
    assert_eq!(assumed["Issuer"], HUB);
    assert_eq!(assumed["Audience"], signin);
    assert_eq!(assumed["NameQualifier"], crossfed_cloud::sts::name_qualifier(HUB, ACCOUNT, "Hub"));
    let arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/ConnectAgent/alice@example.com");
    assert_eq!(assumed["AssumedRoleUser"]["Arn"], arn);
    assert_eq!(results[1]["ok"], true, "{}", results[1]);
    assert_eq!(results[1]["result"]["Arn"], arn);
    assert_eq!(results[1]["result"]["Account"], ACCOUNT);
    assert!(results[1]["result"]["UserId"].as_str().unwrap().ends_with(":alice@example.com"));
    // The session may federate into Connect, not administer IAM.
    assert_eq!(results[2]["code"], "AccessDenied", "{}", results[2]);
    // The same assertion cannot be used twice.
    assert_eq!(results[3]["code"], "InvalidIdentityToken", "{}", results[3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_with_saml_refusals() {
    let cloud = start().await;
    let key = hub_key();
    let attacker = hub_key();
    let signin = format!("{}/saml", cloud.base);
    let setup = boto3(&cloud, json!([
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Hub", "SAMLMetadataDocument": metadata(&key)}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "ConnectAgent", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), &signin)}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "OtherAud", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), "https://signin.aws.amazon.com/saml")}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "OtherProvider", "AssumeRolePolicyDocument": trust_policy(&format!("arn:aws:iam::{ACCOUNT}:saml-provider/Other"), &signin)}},
    ])).await;
    assert!(setup.iter().all(|r| r["ok"] == true), "{setup:?}");

    let now = Timestamp::from(crossfed_clock::Clock::system().now());
    let role = role_arn("ConnectAgent");
    let ok = |session: &str| assertion(&key, &signin, &role, &provider_arn(), session, now);
    let tampered = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let xml = String::from_utf8(engine.decode(ok("alice@example.com")).unwrap()).unwrap();
        engine.encode(xml.replace(">alice@example.com<", ">admin@example.com<"))
    };
    let cases = [
        ("tampered NameID", tampered, role.clone(), "InvalidIdentityToken"),
        (
            "signed by another key",
            assertion(&attacker, &signin, &role, &provider_arn(), "alice", now),
            role.clone(),
            "InvalidIdentityToken",
        ),
        (
            "wrong recipient",
            assertion(&key, "https://evil.example.com/saml", &role, &provider_arn(), "alice", now),
            role.clone(),
            "InvalidIdentityToken",
        ),
        (
            "expired",
            assertion(&key, &signin, &role, &provider_arn(), "alice", now.minus_seconds(3600)),
            role.clone(),
            "ExpiredTokenException",
        ),
        ("bad session name", ok("alice smith"), role.clone(), "InvalidIdentityToken"),
        (
            "wrong audience",
            with_audience(&key, &signin, &role, "https://other-sp.example.com", now),
            role.clone(),
            "InvalidIdentityToken",
        ),
        (
            "role trusts another provider",
            assertion(&key, &signin, &role_arn("OtherProvider"), &provider_arn(), "alice", now),
            role_arn("OtherProvider"),
            "AccessDenied",
        ),
        ("role not in the assertion", ok("alice"), role_arn("OtherAud"), "AccessDenied"),
        (
            "trust policy does not match SAML:aud",
            assertion(&key, &signin, &role_arn("OtherAud"), &provider_arn(), "alice", now),
            role_arn("OtherAud"),
            "AccessDenied",
        ),
    ];
    let calls: Vec<Value> = cases
        .iter()
        .map(|(_, saml, role, _)| json!({"service": "sts", "operation": "assume_role_with_saml", "credentials": {"access_key_id": "x", "secret_access_key": "x"},
            "params": {"RoleArn": role, "PrincipalArn": provider_arn(), "SAMLAssertion": saml}}))
        .collect();
    let results = boto3(&cloud, json!(calls)).await;
    for ((name, _, _, code), result) in cases.iter().zip(&results) {
        assert_eq!(result["code"], *code, "{name}: {result}");
    }
}

fn federation_policy(instance_id: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Statement1", "Effect": "Allow",
        "Action": "connect:GetFederationToken",
        "Resource": [format!("arn:aws:connect:us-east-1:{ACCOUNT}:instance/{instance_id}/user/${{aws:userid}}")]}]})
    .to_string()
}

fn unsigned_assume(role: &str, saml: &str) -> Value {
    json!({"service": "sts", "operation": "assume_role_with_saml", "credentials": {"access_key_id": "x", "secret_access_key": "x"},
        "params": {"RoleArn": role, "PrincipalArn": provider_arn(), "SAMLAssertion": saml}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_instances_users_and_federation() {
    let cloud = start().await;
    let key = hub_key();
    let signin = format!("{}/saml", cloud.base);
    let created = boto3(&cloud, json!([
        {"service": "connect", "operation": "create_instance", "params": {"IdentityManagementType": "SAML", "InstanceAlias": "internal-services", "InboundCallsEnabled": true, "OutboundCallsEnabled": true}},
        {"service": "connect", "operation": "create_instance", "params": {"IdentityManagementType": "CONNECT_MANAGED", "InstanceAlias": "managed", "InboundCallsEnabled": true, "OutboundCallsEnabled": false}},
        {"service": "connect", "operation": "create_instance", "params": {"IdentityManagementType": "SAML", "InstanceAlias": "internal-services", "InboundCallsEnabled": true, "OutboundCallsEnabled": true}},
    ])).await;
    assert_eq!(created[0]["ok"], true, "{}", created[0]);
    assert_eq!(created[2]["code"], "DuplicateResourceException");
    let instance = created[0]["result"]["Id"].as_str().unwrap().to_string();
    let managed = created[1]["result"]["Id"].as_str().unwrap().to_string();

    let setup = boto3(&cloud, json!([
        {"service": "connect", "operation": "describe_instance", "params": {"InstanceId": instance}},
        {"service": "connect", "operation": "list_security_profiles", "params": {"InstanceId": instance}},
        {"service": "connect", "operation": "list_routing_profiles", "params": {"InstanceId": instance}},
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Hub", "SAMLMetadataDocument": metadata(&key)}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "ConnectAgent", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), &signin), "MaxSessionDuration": 43200}},
        {"service": "iam", "operation": "put_role_policy", "params": {"RoleName": "ConnectAgent", "PolicyName": "federate", "PolicyDocument": federation_policy(&instance)}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "NoFederation", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), &signin)}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "ManagedAgent", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), &signin)}},
        {"service": "iam", "operation": "put_role_policy", "params": {"RoleName": "ManagedAgent", "PolicyName": "federate", "PolicyDocument": federation_policy(&managed)}},
    ])).await;
    for (i, r) in setup.iter().enumerate() {
        assert_eq!(r["ok"], true, "setup {i}: {r}");
    }
    assert_eq!(setup[0]["result"]["Instance"]["IdentityManagementType"], "SAML");
    let profiles = setup[1]["result"]["SecurityProfileSummaryList"].as_array().unwrap();
    let mut names: Vec<&str> = profiles.iter().map(|p| p["Name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["Admin", "Agent", "CallCenterManager", "QualityAnalyst"]);
    let agent = profiles.iter().find(|p| p["Name"] == "Agent").unwrap()["Id"].clone();
    let routing = setup[2]["result"]["RoutingProfileSummaryList"][0].clone();
    assert_eq!(routing["Name"], "Basic Routing Profile");

    let create_user = |username: &str| {
        json!({"service": "connect", "operation": "create_user", "params": {
        "InstanceId": instance, "Username": username, "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
        "SecurityProfileIds": [agent], "RoutingProfileId": routing["Id"],
        "IdentityInfo": {"FirstName": "A", "LastName": "B", "Email": format!("{username}")}}})
    };
    let users = boto3(&cloud, json!([
        create_user("alice@example.com"),
        create_user("carol@example.com"),
        create_user("alice@example.com"),
        create_user("alice smith"),
        {"service": "connect", "operation": "list_users", "params": {"InstanceId": instance}},
        {"service": "connect", "operation": "create_user", "params": {"InstanceId": instance, "Username": "dave", "SecurityProfileIds": ["nope"], "RoutingProfileId": routing["Id"], "PhoneConfig": {"PhoneType": "SOFT_PHONE"}}},
    ])).await;
    assert_eq!(users[0]["ok"], true, "{}", users[0]);
    assert_eq!(users[1]["ok"], true);
    assert_eq!(users[2]["code"], "DuplicateResourceException");
    assert_eq!(users[3]["code"], "InvalidParameterException");
    assert_eq!(users[4]["result"]["UserSummaryList"].as_array().unwrap().len(), 2);
    assert_eq!(users[5]["code"], "InvalidParameterException");
    let alice_id = users[0]["result"]["UserId"].clone();

    // Lists come in pages, as from Connect: boto3's paginator follows NextToken to the end.
    let paged = boto3(&cloud, json!([
        {"service": "connect", "operation": "create_user", "params": {
            "InstanceId": instance, "Username": "dana@example.com", "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
            "SecurityProfileIds": [agent], "RoutingProfileId": routing["Id"]}},
        {"service": "connect", "operation": "list_users", "page_size": 2, "params": {"InstanceId": instance}},
        {"service": "connect", "operation": "list_users", "params": {"InstanceId": instance, "MaxResults": 1}},
        {"service": "connect", "operation": "list_users", "params": {"InstanceId": instance, "NextToken": "not a token"}},
        {"service": "connect", "operation": "list_security_profiles", "page_size": 3, "params": {"InstanceId": instance}},
    ])).await;
    assert_eq!(paged[0]["ok"], true, "{}", paged[0]);
    let pages = paged[1]["result"]["pages"].as_array().unwrap();
    let page_names: Vec<Vec<&str>> = pages
        .iter()
        .map(|p| p["UserSummaryList"].as_array().unwrap().iter().map(|u| u["Username"].as_str().unwrap()).collect())
        .collect();
    assert_eq!(page_names, [vec!["alice@example.com", "carol@example.com"], vec!["dana@example.com"]]);
    assert!(pages[0]["NextToken"].is_string() && pages[1].get("NextToken").is_none(), "{pages:?}");
    assert_eq!(paged[2]["result"]["UserSummaryList"].as_array().unwrap().len(), 1);
    assert!(paged[2]["result"]["NextToken"].is_string());
    assert_eq!(paged[3]["code"], "InvalidParameterException", "{}", paged[3]);
    assert!(paged[3]["message"].as_str().unwrap().contains("nextToken"), "{}", paged[3]);
    let profile_pages = paged[4]["result"]["pages"].as_array().unwrap();
    assert_eq!(profile_pages.len(), 2, "4 default security profiles in pages of 3: {profile_pages:?}");

    let now = Timestamp::from(crossfed_clock::Clock::system().now());
    let agent_role = role_arn("ConnectAgent");
    let as_alice = assertion(&key, &signin, &agent_role, &provider_arn(), "alice@example.com", now);
    let as_bob = assertion(&key, &signin, &agent_role, &provider_arn(), "bob@example.com", now);
    let no_policy = assertion(&key, &signin, &role_arn("NoFederation"), &provider_arn(), "alice@example.com", now);
    let managed_session =
        assertion(&key, &signin, &role_arn("ManagedAgent"), &provider_arn(), "carol@example.com", now);
    let federate = |i: usize, instance: &str| json!({"service": "connect", "operation": "get_federation_token", "credentials": {"$result": i, "path": ["Credentials"]}, "params": {"InstanceId": instance}});
    let results = boto3(&cloud, json!([
        unsigned_assume(&agent_role, &as_alice),
        federate(0, &instance),
        unsigned_assume(&agent_role, &as_bob),
        federate(2, &instance),
        unsigned_assume(&role_arn("NoFederation"), &no_policy),
        federate(4, &instance),
        unsigned_assume(&role_arn("ManagedAgent"), &managed_session),
        federate(6, &managed),
        {"service": "connect", "operation": "get_federation_token", "params": {"InstanceId": instance}},
        {"service": "connect", "operation": "describe_user", "params": {"InstanceId": instance, "UserId": alice_id}},
        {"service": "connect", "operation": "list_users", "credentials": {"$result": 0, "path": ["Credentials"]}, "params": {"InstanceId": instance}},
    ])).await;
    for i in [0, 2, 4, 6] {
        assert_eq!(results[i]["ok"], true, "assume {i}: {}", results[i]);
    }
    assert_eq!(results[1]["ok"], true, "{}", results[1]);
    let token = &results[1]["result"];
    assert_eq!(token["UserId"], alice_id);
    assert!(
        token["SignInUrl"].as_str().unwrap().starts_with(&format!("{}/connect/{instance}/sign-in?token=", cloud.base))
    );
    assert!(!token["Credentials"]["AccessToken"].as_str().unwrap().is_empty());
    // The SignInUrl opens the workspace once, and does not carry the session token itself.
    let sign_in_url = token["SignInUrl"].as_str().unwrap();
    assert!(!sign_in_url.contains(token["Credentials"]["AccessToken"].as_str().unwrap()));
    let first = browser().get(sign_in_url).send().await.unwrap();
    assert!(first.status().is_redirection(), "{}", first.status());
    assert_eq!(location(&first), format!("{}/connect/{instance}/agent-app-v2", cloud.base));
    assert!(first.headers().get("set-cookie").is_some());
    let again = browser().get(sign_in_url).send().await.unwrap();
    assert_eq!(again.status(), 401);
    assert_eq!(results[3]["code"], "UserNotFoundException", "{}", results[3]);
    assert!(results[3]["message"].as_str().unwrap().contains("bob@example.com"));
    assert_eq!(results[5]["code"], "AccessDeniedException", "{}", results[5]);
    assert_eq!(results[7]["code"], "InvalidRequestException", "{}", results[7]);
    assert!(results[7]["message"].as_str().unwrap().contains("CONNECT_MANAGED"), "{}", results[7]);
    // Root credentials cannot federate.
    assert_eq!(results[8]["code"], "InvalidRequestException", "{}", results[8]);
    assert_eq!(results[9]["result"]["User"]["Username"], "alice@example.com");
    // The agent's session has no connect:ListUsers.
    assert_eq!(results[10]["code"], "AccessDeniedException", "{}", results[10]);
}

// ---- The browser side: sign-in endpoint, federate URL, agent workspace ----

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

fn assertion_with_roles(key: &SigningKey, recipient: &str, roles: &[String], session: &str) -> String {
    let now = Timestamp::from(crossfed_clock::Clock::system().now());
    let spec = ResponseSpec {
        issuer: HUB.into(),
        destination: recipient.into(),
        audiences: vec!["urn:amazon:webservices".into()],
        in_response_to: None,
        name_id: NameId { value: session.into(), format: Some(ns::NAMEID_EMAIL.into()), ..NameId::default() },
        session_index: "_s".into(),
        authn_instant: now,
        authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
        attributes: vec![
            Attribute::uri(
                "https://aws.amazon.com/SAML/Attributes/Role",
                roles.iter().map(|r| format!("{r},{}", provider_arn())).collect(),
            ),
            Attribute::uri("https://aws.amazon.com/SAML/Attributes/RoleSessionName", vec![session.into()]),
        ],
        lifetime_seconds: 300,
        not_before_skew_seconds: 0,
        session_not_on_or_after: None,
        signed_parts: SignedParts::Assertion,
    };
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(build_response(&spec, now, key).unwrap().xml)
}

/// An account with a SAML instance, users alice and carol, and two roles for the hub's provider.
async fn console_account(cloud: &Cloud, key: &SigningKey) -> String {
    let signin = format!("{}/saml", cloud.base);
    let created = boto3(cloud, json!([
        {"service": "connect", "operation": "create_instance", "params": {"IdentityManagementType": "SAML", "InstanceAlias": "internal-services", "InboundCallsEnabled": true, "OutboundCallsEnabled": true}},
    ])).await;
    let instance = created[0]["result"]["Id"].as_str().unwrap().to_string();
    let setup = boto3(cloud, json!([
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Hub", "SAMLMetadataDocument": metadata(key)}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "ConnectAgent", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), &signin)}},
        {"service": "iam", "operation": "put_role_policy", "params": {"RoleName": "ConnectAgent", "PolicyName": "federate", "PolicyDocument": federation_policy(&instance)}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "Supervisor", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), &signin)}},
        {"service": "connect", "operation": "list_security_profiles", "params": {"InstanceId": instance}},
        {"service": "connect", "operation": "list_routing_profiles", "params": {"InstanceId": instance}},
    ])).await;
    assert!(setup.iter().all(|r| r["ok"] == true), "{setup:?}");
    let agent = setup[4]["result"]["SecurityProfileSummaryList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["Name"] == "Agent")
        .unwrap()["Id"]
        .clone();
    let routing = setup[5]["result"]["RoutingProfileSummaryList"][0]["Id"].clone();
    let users = boto3(cloud, json!(["alice@example.com", "carol@example.com"].iter().map(|u| json!({"service": "connect", "operation": "create_user", "params": {
        "InstanceId": instance, "Username": u, "PhoneConfig": {"PhoneType": "SOFT_PHONE"}, "SecurityProfileIds": [agent], "RoutingProfileId": routing}})).collect::<Vec<_>>())).await;
    assert!(users.iter().all(|r| r["ok"] == true), "{users:?}");
    instance
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_federate_and_land_on_the_agent_workspace() {
    let cloud = start().await;
    let key = hub_key();
    let instance = console_account(&cloud, &key).await;
    let signin = format!("{}/saml", cloud.base);
    let agent_role = role_arn("ConnectAgent");

    // alice: sign-in → federate URL (real-AWS relay state shape, mapped here) → workspace.
    let client = browser();
    let relay = format!("https://us-east-1.console.aws.amazon.com/connect/federate/{instance}?destination=%2Fccp-v2");
    let saml = assertion_with_roles(&key, &signin, std::slice::from_ref(&agent_role), "alice@example.com");
    let response = client
        .post(&signin)
        .form(&[("SAMLResponse", saml.as_str()), ("RelayState", relay.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    assert_eq!(location(&response), format!("{}/connect/federate/{instance}?destination=%2Fccp-v2", cloud.base));
    let set_cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let response = client.get(location(&response)).send().await.unwrap();
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    assert_eq!(location(&response), format!("{}/connect/{instance}/ccp-v2", cloud.base));
    let response = client.get(location(&response)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Agent workspace") && page.contains("alice@example.com") && page.contains("internal-services"),
        "{page}"
    );

    // bob: signed in to AWS, but no Connect user of that name.
    let client = browser();
    let saml = assertion_with_roles(&key, &signin, std::slice::from_ref(&agent_role), "bob@example.com");
    let relay = format!("{}/connect/federate/{instance}", cloud.base);
    let response = client
        .post(&signin)
        .form(&[("SAMLResponse", saml.as_str()), ("RelayState", relay.as_str())])
        .send()
        .await
        .unwrap();
    let response = client.get(location(&response)).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert!(
        crossfed_testkit::browser::unescape(&page).contains("No Amazon Connect user named \"bob@example.com\""),
        "{page}"
    );

    // Opening the instance directly: no session, as the real console says.
    let response = browser().get(format!("{}/connect/{instance}/agent-app-v2", cloud.base)).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("Session expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_picker_relay_state_and_bad_assertions() {
    let cloud = start().await;
    let key = hub_key();
    let instance = console_account(&cloud, &key).await;
    let signin = format!("{}/saml", cloud.base);

    // Two roles: the picker, then the choice.
    let client = browser();
    let roles = [role_arn("Supervisor"), role_arn("ConnectAgent")];
    let saml = assertion_with_roles(&key, &signin, &roles, "carol@example.com");
    let relay = format!("{}/connect/federate/{instance}", cloud.base);
    let response = client
        .post(&signin)
        .form(&[("SAMLResponse", saml.as_str()), ("RelayState", relay.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Select a role") && page.contains(&role_arn("Supervisor")), "{page}");
    let choice = page.split("name=\"choice\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let response = client
        .post(format!("{}/saml/role", cloud.base))
        .form(&[("choice", choice.as_str()), ("role", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let response = client.get(location(&response)).send().await.unwrap();
    let response = client.get(location(&response)).send().await.unwrap();
    assert!(response.text().await.unwrap().contains("carol@example.com"));
    // The choice is single-use.
    let response = client
        .post(format!("{}/saml/role", cloud.base))
        .form(&[("choice", choice.as_str()), ("role", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // Supervisor has no federation policy: a page that says so.
    let client = browser();
    let saml = assertion_with_roles(&key, &signin, &[role_arn("Supervisor")], "carol@example.com");
    let response = client
        .post(&signin)
        .form(&[("SAMLResponse", saml.as_str()), ("RelayState", relay.as_str())])
        .send()
        .await
        .unwrap();
    let response = client.get(location(&response)).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("not allowed connect:GetFederationToken"));

    // An off-site relay state is refused before anything else happens.
    let saml = assertion_with_roles(&key, &signin, &[role_arn("ConnectAgent")], "alice@example.com");
    let response = browser()
        .post(&signin)
        .form(&[("SAMLResponse", saml.as_str()), ("RelayState", "https://evil.example.com/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("points outside this console"));

    // A tampered assertion gets the sign-in error page with the reason.
    let tampered = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let xml = String::from_utf8(engine.decode(&saml).unwrap()).unwrap();
        engine.encode(xml.replace(">alice@example.com<", ">carol@example.com<"))
    };
    let response = browser().post(&signin).form(&[("SAMLResponse", tampered.as_str())]).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("invalid SAML response") && page.contains("digest mismatch"), "{page}");
}

// ---- An assertion from an independent issuer: pysaml2 as the IdP ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_with_an_assertion_issued_by_pysaml2() {
    let cloud = start().await;
    let signin = format!("{}/saml", cloud.base);
    let dir = crossfed_testkit::temp_dir();
    let idp_key = hub_key();
    let key_file = dir.path().join("idp.key");
    let cert_file = dir.path().join("idp.crt");
    std::fs::write(&key_file, idp_key.private_key_pem()).unwrap();
    std::fs::write(&cert_file, idp_key.certificate().to_pem()).unwrap();
    // pysaml2 needs the SP's metadata: AWS sign-in, here this listener's /saml.
    let sp_metadata = dir.path().join("aws-signin.xml");
    std::fs::write(
        &sp_metadata,
        EntityDescriptor::sp(
            "urn:amazon:webservices",
            vec![idp_key.certificate().clone()],
            vec![crossfed_saml::IndexedEndpoint::post(&signin, 1)],
        )
        .to_xml(),
    )
    .unwrap();

    let setup = boto3(&cloud, json!([
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Hub", "SAMLMetadataDocument": metadata(&idp_key)}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "ConnectAgent", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), &signin)}},
    ])).await;
    assert!(setup.iter().all(|r| r["ok"] == true), "{setup:?}");

    let (key_path, cert_path, sp_path, acs) =
        (key_file.clone(), cert_file.clone(), sp_metadata.clone(), signin.clone());
    let issue = move |signed_assertion: bool, signed_response: bool| {
        let (key_file, cert_file, sp_metadata, signin) = (&key_path, &cert_path, &sp_path, &acs);
        let input = json!({
            "action": "respond", "entity_id": HUB, "sso_url": "https://hub.example.com/saml/sso",
            "key_file": key_file, "cert_file": cert_file, "sp_metadata_file": sp_metadata,
            "sp_entity_id": "urn:amazon:webservices", "acs_url": signin, "in_response_to": null,
            "name_id": {"value": "alice@example.com", "format": ns::NAMEID_PERSISTENT},
            "identity": {
                "https://aws.amazon.com/SAML/Attributes/Role": [format!("{},{}", provider_arn(), role_arn("ConnectAgent"))],
                "https://aws.amazon.com/SAML/Attributes/RoleSessionName": ["alice@example.com"],
            },
            "sign_assertion": signed_assertion, "sign_response": signed_response,
        });
        let out = run_peer_json("pysaml2_idp.py", &input);
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(out["response_xml"].as_str().unwrap())
    };
    let (assertion_signed, response_signed) =
        tokio::task::spawn_blocking(move || (issue(true, false), issue(false, true))).await.unwrap();
    let results = boto3(&cloud, json!([
        unsigned_assume(&role_arn("ConnectAgent"), &assertion_signed),
        {"service": "sts", "operation": "get_caller_identity", "credentials": {"$result": 0, "path": ["Credentials"]}},
        unsigned_assume(&role_arn("ConnectAgent"), &response_signed),
    ])).await;
    assert_eq!(results[0]["ok"], true, "{}", results[0]);
    // The provider order (provider first) is accepted too, and the subject type is persistent.
    assert_eq!(results[0]["result"]["SubjectType"], "persistent");
    assert_eq!(results[0]["result"]["Issuer"], HUB);
    assert_eq!(
        results[1]["result"]["Arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/ConnectAgent/alice@example.com")
    );
    assert_eq!(results[2]["ok"], true, "{}", results[2]);
}

// ---- Provider confusion (found in review): an IdP trusted for one provider names another ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assertion_only_reaches_roles_through_the_provider_that_signed_it() {
    const PARTNER: &str = "https://partner.example.net/idp";
    let cloud = start().await;
    let signin = format!("{}/saml", cloud.base);
    let hub_key = hub_key();
    let partner_key = SigningKey::generate_rsa("partner idp", crossfed_clock::Clock::system().now(), 30).unwrap();
    let partner_metadata = EntityDescriptor::idp(
        PARTNER,
        vec![partner_key.certificate().clone()],
        vec![Endpoint::post("https://partner.example.net/sso")],
    )
    .to_xml();
    let partner_arn = format!("arn:aws:iam::{ACCOUNT}:saml-provider/Partner");
    let setup = boto3(&cloud, json!([
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Hub", "SAMLMetadataDocument": metadata(&hub_key)}},
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Partner", "SAMLMetadataDocument": partner_metadata}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "Admin", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), &signin)}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "PartnerRole", "AssumeRolePolicyDocument": trust_policy(&partner_arn, &signin)}},
    ])).await;
    assert!(setup.iter().all(|r| r["ok"] == true), "{setup:?}");

    let partner_assertion = |roles: Vec<String>| {
        let now = Timestamp::from(crossfed_clock::Clock::system().now());
        let spec = ResponseSpec {
            issuer: PARTNER.into(),
            destination: signin.clone(),
            audiences: vec!["urn:amazon:webservices".into()],
            in_response_to: None,
            name_id: NameId { value: "mallory".into(), ..NameId::default() },
            session_index: "_s".into(),
            authn_instant: now,
            authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
            attributes: vec![
                Attribute::uri("https://aws.amazon.com/SAML/Attributes/Role", roles),
                Attribute::uri("https://aws.amazon.com/SAML/Attributes/RoleSessionName", vec!["mallory".into()]),
            ],
            lifetime_seconds: 300,
            not_before_skew_seconds: 0,
            session_not_on_or_after: None,
            signed_parts: SignedParts::Assertion,
        };
        build_response(&spec, now, &partner_key).unwrap().xml
    };
    let encode = |xml: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(xml)
    };

    // Partner signs, listing its own role and Admin through Hub: only PartnerRole is reachable.
    let client = browser();
    let xml = partner_assertion(vec![
        format!("{},{partner_arn}", role_arn("PartnerRole")),
        format!("{},{}", role_arn("Admin"), provider_arn()),
    ]);
    let response = client.post(&signin).form(&[("SAMLResponse", encode(&xml))]).send().await.unwrap();
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let console = client.get(format!("{}/console", cloud.base)).send().await.unwrap().text().await.unwrap();
    assert!(console.contains("assumed-role/PartnerRole/mallory") && !console.contains("Admin"), "{console}");

    // Partner signs only Admin-through-Hub, with an unsigned hint naming Partner outside the
    // assertion: the provider is taken from the assertion (Hub), whose key did not sign it.
    let xml = partner_assertion(vec![format!("{},{}", role_arn("Admin"), provider_arn())]);
    let hint = format!(
        "<samlp:Extensions><saml:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/Role\"><saml:AttributeValue>x,{partner_arn}</saml:AttributeValue></saml:Attribute></samlp:Extensions>"
    );
    let at = xml.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    let xml = format!("{}{hint}{}", &xml[..at], &xml[at..]);
    let response = browser().post(&signin).form(&[("SAMLResponse", encode(&xml))]).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("invalid SAML response"));

    // The STS API: Partner's assertion naming Admin through Hub, presented as Hub's.
    let xml = partner_assertion(vec![format!("{},{}", role_arn("Admin"), provider_arn())]);
    let results = boto3(&cloud, json!([unsigned_assume(&role_arn("Admin"), &encode(&xml))])).await;
    assert_eq!(results[0]["code"], "InvalidIdentityToken", "{}", results[0]);
}

/// Metadata of the hub's IdP trusting each of `keys`.
fn metadata_of(keys: &[&SigningKey]) -> String {
    EntityDescriptor::idp(
        HUB,
        keys.iter().map(|k| k.certificate().clone()).collect(),
        vec![Endpoint::post("https://hub.example.com/saml/sso")],
    )
    .to_xml()
}

/// A key rollover's overlap, through boto3: a provider updated to trust the current and the next
/// certificate accepts assertions signed by either and still refuses any other key; a provider
/// holds at most 10 signing certificates (IAM's "Keys per SAML provider"), and metadata with more
/// is refused with LimitExceeded, leaving the provider as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_trusts_each_of_its_certificates_and_holds_at_most_ten() {
    let cloud = start().await;
    let signin = format!("{}/saml", cloud.base);
    let (current, next, stranger) = (hub_key(), hub_key(), hub_key());
    let setup = boto3(&cloud, json!([
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Hub", "SAMLMetadataDocument": metadata_of(&[&current])}},
        {"service": "iam", "operation": "create_role", "params": {"RoleName": "Admin", "AssumeRolePolicyDocument": trust_policy(&provider_arn(), &signin)}},
        {"service": "iam", "operation": "update_saml_provider", "params": {"SAMLProviderArn": provider_arn(), "SAMLMetadataDocument": metadata_of(&[&current, &next])}},
    ])).await;
    assert!(setup.iter().all(|r| r["ok"] == true), "{setup:?}");
    assert_eq!(setup[2]["result"]["SAMLProviderArn"], provider_arn());

    let now = Timestamp::from(crossfed_clock::Clock::system().now());
    let signed_by = |key: &SigningKey| {
        unsigned_assume(
            &role_arn("Admin"),
            &assertion(key, &signin, &role_arn("Admin"), &provider_arn(), "rollover", now),
        )
    };
    let results = boto3(&cloud, json!([signed_by(&current), signed_by(&next), signed_by(&stranger)])).await;
    let session = format!("arn:aws:sts::{ACCOUNT}:assumed-role/Admin/rollover");
    assert_eq!(results[0]["result"]["AssumedRoleUser"]["Arn"], session, "the current key: {}", results[0]);
    assert_eq!(results[1]["result"]["AssumedRoleUser"]["Arn"], session, "the next key: {}", results[1]);
    assert_eq!(results[2]["code"], "InvalidIdentityToken", "another key: {}", results[2]);

    // Ten certificates fit; eleven do not, on update as on creation.
    let more: Vec<SigningKey> = (0..9).map(|_| hub_key()).collect();
    let ten: Vec<&SigningKey> = std::iter::once(&current).chain(more.iter()).collect();
    let eleven: Vec<&SigningKey> = ten.iter().copied().chain(std::iter::once(&next)).collect();
    let results = boto3(&cloud, json!([
        {"service": "iam", "operation": "update_saml_provider", "params": {"SAMLProviderArn": provider_arn(), "SAMLMetadataDocument": metadata_of(&eleven)}},
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Eleven", "SAMLMetadataDocument": metadata_of(&eleven)}},
        {"service": "iam", "operation": "get_saml_provider", "params": {"SAMLProviderArn": provider_arn()}},
        {"service": "iam", "operation": "create_saml_provider", "params": {"Name": "Ten", "SAMLMetadataDocument": metadata_of(&ten)}},
    ])).await;
    for refused in &results[..2] {
        assert_eq!(refused["code"], "LimitExceeded", "{refused}");
        assert_eq!(refused["status"], 409, "{refused}");
        let message = refused["message"].as_str().unwrap();
        assert!(message.contains("holds 11 signing certificates") && message.contains("at most 10"), "{message}");
    }
    let kept = results[2]["result"]["SAMLMetadataDocument"].as_str().unwrap();
    assert!(kept.contains(current.certificate().base64()) && kept.contains(next.certificate().base64()), "{kept}");
    assert!(!kept.contains(more[0].certificate().base64()), "the refused update changed nothing");
    assert_eq!(results[3]["ok"], true, "{}", results[3]);
}
