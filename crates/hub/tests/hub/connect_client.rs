//! The hub's Amazon Connect client against the emulated account over HTTP: profile names resolved,
//! a user's whole life (create, list, describe, update, delete), the errors an administrator sees,
//! and, against a small fake, pagination and the answers of a struggling service.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use crossfed_cloud::{App, Settings};
use crossfed_hub::aws::connect::{ConnectClient, ConnectEndpoint, ConnectError, NewConnectUser};
use reqwest::Method;

const ACCOUNT: &str = "123456789012";
const ADMIN_KEY: &str = "AKIAADMINEXAMPLE0001";
const ADMIN_SECRET: &str = "admin/secret/example/key/for/tests/only";

struct Cloud {
    base: String,
    instance_id: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// An emulated account with one SAML Connect instance (and its default profiles).
async fn start() -> Cloud {
    let store = crossfed_testkit::test_store("cloud").await;
    let (listener, base) = crate::support::listener().await;
    let app = Arc::new(App::new(store, Settings::new(ACCOUNT, "us-east-1", &base), ADMIN_KEY, ADMIN_SECRET));
    let instance_id = crate::support::connect_instance(&app, &[]).await;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(crossfed_cloud::serve(listener, app, async move {
        let _ = rx.await;
    }));
    Cloud { base, instance_id, _shutdown: tx }
}

fn client_with(base: &str, key: &str, secret: &str) -> ConnectClient {
    ConnectClient::new(
        ConnectEndpoint {
            base_url: base.into(),
            region: "us-east-1".into(),
            access_key_id: key.into(),
            secret_access_key: secret.into(),
        },
        crossfed_clock::Clock::system(),
    )
    .unwrap()
}

fn client(cloud: &Cloud) -> ConnectClient {
    client_with(&cloud.base, ADMIN_KEY, ADMIN_SECRET)
}

fn service_error(e: &ConnectError) -> (u16, &str) {
    match e {
        ConnectError::Service { status, code, .. } => (*status, code.as_str()),
        other => panic!("expected an AWS error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_created_listed_described_updated_and_deleted() {
    let cloud = start().await;
    let connect = client(&cloud);
    let instance = cloud.instance_id.as_str();

    // Names as an administrator types them: case does not matter, repeats collapse.
    let agent = connect.security_profile_ids(instance, &["agent".into(), "Agent".into()]).await.unwrap();
    assert_eq!(agent.len(), 1);
    let routing = connect.routing_profile_id(instance, "Basic Routing Profile").await.unwrap();
    assert_eq!(connect.routing_profile_id(instance, "basic routing profile").await.unwrap(), routing);

    let bob = NewConnectUser {
        username: "bob@example.com",
        first_name: Some("Bob"),
        last_name: Some("Builder"),
        email: Some("bob@example.com"),
        security_profile_ids: &agent,
        routing_profile_id: &routing,
    };
    let id = connect.create_user(instance, &bob).await.unwrap();

    let users = connect.list_users(instance).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!((users[0].id.as_str(), users[0].username.as_str()), (id.as_str(), "bob@example.com"));
    assert!(users[0].arn.ends_with(&format!("instance/{instance}/agent/{id}")), "{}", users[0].arn);

    let details = connect.describe_user(instance, &id).await.unwrap();
    assert_eq!(details.id, id);
    assert_eq!(details.username, "bob@example.com");
    assert_eq!(details.first_name.as_deref(), Some("Bob"));
    assert_eq!(details.last_name.as_deref(), Some("Builder"));
    assert_eq!(details.email.as_deref(), Some("bob@example.com"));
    assert_eq!(details.security_profile_ids, agent);
    assert_eq!(details.routing_profile_id, routing);

    // A rename in the directory reaches Connect's display names.
    connect
        .update_identity_info(instance, &id, Some("Robert"), Some("Builder-Smith"), Some("robert@example.com"))
        .await
        .unwrap();
    let managers = connect.security_profile_ids(instance, &["Agent".into(), "CallCenterManager".into()]).await.unwrap();
    connect.update_security_profiles(instance, &id, &managers).await.unwrap();
    connect.update_routing_profile(instance, &id, &routing).await.unwrap();
    let details = connect.describe_user(instance, &id).await.unwrap();
    assert_eq!(details.first_name.as_deref(), Some("Robert"));
    assert_eq!(details.last_name.as_deref(), Some("Builder-Smith"));
    assert_eq!(details.email.as_deref(), Some("robert@example.com"));
    assert_eq!(details.security_profile_ids, managers);

    // The same username again: Connect's own refusal, worded for the status column.
    let e = connect.create_user(instance, &bob).await.unwrap_err();
    assert_eq!(service_error(&e), (409, "DuplicateResourceException"));
    assert!(!e.is_retryable());
    assert!(
        e.to_string().starts_with(
            "Amazon Connect refused CreateUser: DuplicateResourceException: User bob@example.com already exists"
        ),
        "{e}"
    );

    // A profile that is not the instance's.
    let e = connect.update_routing_profile(instance, &id, "no-such-profile").await.unwrap_err();
    assert_eq!(service_error(&e), (400, "InvalidParameterException"));

    connect.delete_user(instance, &id).await.unwrap();
    assert!(connect.list_users(instance).await.unwrap().is_empty());
    let e = connect.describe_user(instance, &id).await.unwrap_err();
    assert_eq!(service_error(&e), (404, "ResourceNotFoundException"));
    assert!(!e.is_retryable());
    let e = connect.delete_user(instance, &id).await.unwrap_err();
    assert_eq!(service_error(&e).1, "ResourceNotFoundException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_profiles_and_instances_are_named() {
    let cloud = start().await;
    let connect = client(&cloud);
    let e = connect.security_profile_ids(&cloud.instance_id, &["Agent".into(), "Supervisor".into()]).await.unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(
        e.to_string(),
        format!(
            "Amazon Connect instance {} has no security profile named \"Supervisor\"; it has: Admin, Agent, CallCenterManager, QualityAnalyst",
            cloud.instance_id
        )
    );
    let e = connect.routing_profile_id(&cloud.instance_id, "Sales").await.unwrap_err();
    assert!(e.to_string().contains("no routing profile named \"Sales\"; it has: Basic Routing Profile"), "{e}");

    // An unknown instance, and an ID that would need encoding, reach the service as one segment.
    let e = connect.list_users("11111111-2222-3333-4444-555555555555").await.unwrap_err();
    assert_eq!(service_error(&e), (404, "ResourceNotFoundException"));
    let e = connect.describe_user(&cloud.instance_id, "a b/c?d").await.unwrap_err();
    assert_eq!(service_error(&e), (404, "ResourceNotFoundException"));
    assert!(matches!(connect.describe_user(&cloud.instance_id, "..").await, Err(ConnectError::Invalid(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_and_clocks_are_auth_errors_not_worth_retrying() {
    let cloud = start().await;
    let wrong_secret = client_with(&cloud.base, ADMIN_KEY, "not-the-secret");
    let e = wrong_secret.list_users(&cloud.instance_id).await.unwrap_err();
    assert_eq!(service_error(&e), (403, "InvalidSignatureException"));
    assert!(!e.is_retryable());
    assert!(e.to_string().starts_with("Amazon Connect refused ListUsers: InvalidSignatureException: "), "{e}");

    let unknown_key = client_with(&cloud.base, "AKIAUNKNOWNEXAMPLE01", ADMIN_SECRET);
    let e = unknown_key.list_users(&cloud.instance_id).await.unwrap_err();
    assert_eq!(service_error(&e), (403, "UnrecognizedClientException"));
    assert!(!e.is_retryable());

    // The signing time is the caller's: an hour off is outside AWS's 15-minute window.
    let connect = client(&cloud);
    let segments = ["users-summary", cloud.instance_id.as_str()];
    let now = crossfed_clock::Clock::system().now();
    let listed = connect.send("ListUsers", Method::GET, &segments, &[], None, now).await.unwrap();
    assert_eq!(listed["UserSummaryList"], serde_json::json!([]));
    let stale = now - time::Duration::hours(1);
    let e = connect.send("ListUsers", Method::GET, &segments, &[], None, stale).await.unwrap_err();
    assert_eq!(service_error(&e), (403, "InvalidSignatureException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_is_not_listening_is_unavailable_and_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let connect = client_with(&base, ADMIN_KEY, ADMIN_SECRET);
    let e = connect.list_users("11111111-2222-3333-4444-555555555555").await.unwrap_err();
    assert!(matches!(e, ConnectError::Unavailable(_)), "{e:?}");
    assert!(e.is_retryable());
    let host = base.trim_start_matches("http://");
    assert!(
        e.to_string().starts_with(&format!("Amazon Connect unavailable: ListUsers: cannot connect to {host}: ")),
        "{e}"
    );
}

/// Stands in for AWS where the emulation is simpler: pages, throttling, a failing gateway.
async fn fake_connect(uri: Uri) -> Response {
    let json = |body: serde_json::Value| ([(header::CONTENT_TYPE, "application/json")], body.to_string());
    let user = |id: &str| serde_json::json!({"Id": id, "Arn": format!("arn:aws:connect:::instance/i/agent/{id}"), "Username": id});
    let query = uri.query().unwrap_or("");
    match uri.path() {
        "/users-summary/paged" if !query.contains("maxResults=1000") => {
            (StatusCode::BAD_REQUEST, json(serde_json::json!({"message": "expected maxResults"}))).into_response()
        }
        "/users-summary/paged" if query.contains("nextToken=page%2F2%2B") => {
            json(serde_json::json!({"UserSummaryList": [user("u3")]})).into_response()
        }
        "/users-summary/paged" => {
            json(serde_json::json!({"UserSummaryList": [user("u1"), user("u2")], "NextToken": "page/2+"})).into_response()
        }
        "/users-summary/throttled" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-amzn-ErrorType", "TooManyRequestsException:http://internal.amazon.com/coral/com.amazon.coral.service/")],
            json(serde_json::json!({"message": "Rate exceeded"})),
        )
            .into_response(),
        "/users-summary/limited" => (
            StatusCode::BAD_REQUEST,
            json(serde_json::json!({"__type": "com.amazonaws.connect#LimitExceededException", "Message": "too many users"})),
        )
            .into_response(),
        _ => (StatusCode::BAD_GATEWAY, "<html><body>502 Bad Gateway</body></html>").into_response(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_followed_and_struggling_services_are_retryable() {
    let (listener, base) = crate::support::listener().await;
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(fake_connect)).await });
    let connect = client_with(&base, ADMIN_KEY, ADMIN_SECRET);

    let users = connect.list_users("paged").await.unwrap();
    assert_eq!(users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["u1", "u2", "u3"]);

    let e = connect.list_users("throttled").await.unwrap_err();
    assert_eq!(service_error(&e), (429, "TooManyRequestsException"));
    assert!(e.is_retryable());
    assert_eq!(e.to_string(), "Amazon Connect refused ListUsers: TooManyRequestsException: Rate exceeded");

    let e = connect.list_users("limited").await.unwrap_err();
    assert_eq!(service_error(&e), (400, "LimitExceededException"));
    assert!(!e.is_retryable());
    assert_eq!(e.to_string(), "Amazon Connect refused ListUsers: LimitExceededException: too many users");

    let e = connect.list_users("gateway").await.unwrap_err();
    assert!(matches!(e, ConnectError::Unavailable(_)), "{e:?}");
    assert!(e.is_retryable());
    assert!(e.to_string().contains("HTTP 502"), "{e}");
}
