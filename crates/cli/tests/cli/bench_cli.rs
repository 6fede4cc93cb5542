//! `crossfed bench` runs its own hub, drives it, and prints the figures a script reads: one JSON
//! object with the fields the load harness promises, and no errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::Command;

#[test]
fn the_launch_scenario_reports_against_the_rsa_bound() {
    let output = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["bench", "--scenario", "launch", "--duration", "1s", "--concurrency", "2", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["scenario"], "launch");
    assert_eq!(report["errors"], 0);
    for field in ["logins_per_s", "p50_ms", "p99_ms", "peak_rss_mb", "rsa_ops_per_login", "cores", "ratio_to_rsa_bound"]
    {
        assert!(report[field].is_number(), "{field} missing from {report}");
    }
    assert!(report["logins"].as_u64().unwrap() > 0);
    assert!(report["p50_ms"].as_f64().unwrap() <= report["p99_ms"].as_f64().unwrap());
    // The hub runs as its own process, measured apart from the load generator. (Its ratio to the
    // RSA bound is a measurement, never asserted: on a loaded machine it moves either way.)
    let share = report["hub_ratio_to_rsa_bound"].as_f64().unwrap();
    assert!(share > 0.0, "{report}");
    // The reference is measured with every core signing, before and after the load; the bound
    // uses their mean.
    let (before, after) = (
        report["rsa_sign_per_core_per_s_before"].as_f64().unwrap(),
        report["rsa_sign_per_core_per_s_after"].as_f64().unwrap(),
    );
    let mean = report["rsa_sign_per_core_per_s"].as_f64().unwrap();
    assert!(before > 0.0 && after > 0.0 && (mean - (before + after) / 2.0).abs() < 1e-6, "{report}");
    assert!(report["rsa_sign_one_core_alone_per_s"].as_f64().unwrap() > 0.0);
    let rss = report["hub_peak_rss_mb"].as_f64().unwrap();
    assert!(rss > 5.0 && rss < 100.0, "{report}");
    let bad = Command::new(env!("CARGO_BIN_EXE_crossfed")).args(["bench", "--duration", "ten"]).output().unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("give a duration such as 10s"));
}

/// The ACS and whole-chain scenarios start the demo's three parties in process and report the
/// same fields, with the RSA work of every party counted in the bound.
#[test]
fn the_acs_and_chain_scenarios_run_the_reference_chain_without_errors() {
    for (scenario, signs, verifies) in [("acs", 2.0, 1.0), ("chain", 3.0, 2.0)] {
        let output = Command::new(env!("CARGO_BIN_EXE_crossfed"))
            .args(["bench", "--scenario", scenario, "--duration", "1s", "--concurrency", "2", "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{scenario}: {}", String::from_utf8_lossy(&output.stderr));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["scenario"], scenario);
        assert_eq!(report["errors"], 0, "{report}");
        assert!(report["logins"].as_u64().unwrap() > 0, "{report}");
        assert_eq!(report["rsa_signs_per_login"], signs);
        assert_eq!(report["rsa_verifies_per_login"], verifies);
        assert!(report["ratio_to_rsa_bound"].as_f64().unwrap() > 0.0);
    }
}
