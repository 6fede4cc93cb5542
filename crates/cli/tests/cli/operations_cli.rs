//! Running the hub as an operator does: `crossfed serve --log-format json` writes one JSON line
//! per request and one per refusal, with the request ID the client got back and the refusal's
//! stable kind, and never the SAML message it refused; `/healthz` and `/readyz` answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn json_logs_name_each_request_and_refusal_and_health_checks_answer() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, "[[users]]\nuser_name = \"alice\"\nemail = \"alice@example.com\"\n").unwrap();
    let log = dir.path().join("hub.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("crossfed serve exited early").unwrap();
        if let Some(url) = line.strip_prefix("crossfed hub listening on ") {
            break url.to_string();
        }
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (request_id, health, ready) = runtime.block_on(async {
        let refused = reqwest::get(format!("{url}/saml/sso?SAMLRequest=secret-looking-message")).await.unwrap();
        assert_eq!(refused.status(), 400);
        let request_id = refused.headers()["x-request-id"].to_str().unwrap().to_string();
        let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
        let ready = reqwest::get(format!("{url}/readyz")).await.unwrap();
        let health = (health.status().as_u16(), health.json::<serde_json::Value>().await.unwrap());
        let ready = (ready.status().as_u16(), ready.json::<serde_json::Value>().await.unwrap());
        (request_id, health, ready)
    });
    assert_eq!(health, (200, serde_json::json!({"status": "ok"})));
    assert_eq!(ready, (200, serde_json::json!({"status": "ready"})));
    let _ = child.kill();
    let _ = child.wait();

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("secret-looking-message"), "the refused message is in the log: {text}");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let of_request: Vec<&serde_json::Value> = lines.iter().filter(|l| l["request_id"] == request_id.as_str()).collect();
    let request = of_request.iter().find(|l| l["target"] == "crossfed::request").expect("a request line");
    assert_eq!((request["method"].as_str(), request["route"].as_str()), (Some("GET"), Some("/saml/sso")), "{request}");
    assert_eq!(request["status"], 400, "{request}");
    assert!(request["latency_ms"].as_f64().unwrap() >= 0.0);
    let refusal = of_request.iter().find(|l| l["target"] == "crossfed::refusal").expect("a refusal line");
    assert_eq!(refusal["kind"], "saml.request_invalid", "{refusal}");
    assert!(lines.iter().any(|l| l["route"] == "/readyz" && l["status"] == 200), "{text}");
}
