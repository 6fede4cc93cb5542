//! The admin API calls the load of several tests makes against a running `crossfed serve`.

/// Asks the hub at `url` to create user `name` (e-mail `name@example.com`) with admin `token`.
pub async fn create_user(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    name: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{url}/api/v1/users"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "user_name": name, "email": format!("{name}@example.com") }))
        .send()
        .await
}
