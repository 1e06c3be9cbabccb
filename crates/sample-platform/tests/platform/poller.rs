//! The status poller: settlement and rejection land, outages are retried with the same
//! Idempotency-Key, the cron schedule really fires, runs do not overlap.

use std::time::Duration;

use rehearse_sample_platform::BankApiVersion;
use serde_json::{Value, json};

use crate::common::{Stack, TestResult, eventually};

const NOTE: &str = "beneficiary failed sanctions screening";

fn statuses(payment: &Value) -> Vec<String> {
    payment["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .filter_map(|e| e["status"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_poller_records_a_settlement_after_review_and_batch() -> TestResult {
    let stack = Stack::v2().await?;
    let created = stack.create("25000.00").await?;
    assert_eq!(created["status"], "pending_review");

    stack
        .decide(&created["bank_reference"], "approve", "documents checked")
        .await?;
    let after_approval = stack.run_poller().await?;
    let accepted = stack.payment(&created["id"]).await?;
    stack.advance_past_settlement().await?;
    let job = stack.run_poller().await?;
    let settled = stack.payment(&created["id"]).await?;

    assert_eq!(
        after_approval["last_error"],
        Value::Null,
        "{after_approval:#}"
    );
    assert_eq!(accepted["status"], "accepted", "{accepted:#}");
    assert_eq!(settled["status"], "settled", "{settled:#}");
    assert_eq!(settled["bank_status"], "settled");
    assert_eq!(settled["reason"], Value::Null);
    assert_eq!(
        statuses(&settled),
        ["pending_review", "accepted", "settled"]
    );
    assert_eq!(job["name"], "bank-status-poller");
    assert_eq!(job["schedule"], crate::common::NEVER);
    assert_eq!(job["registered"], true);
    assert_eq!(job["runs"], 2);
    assert_eq!(job["last_error"], Value::Null);
    assert_eq!(job["last_outcome"], "success");
    assert!(
        job["last_run"].is_string() && job["last_success"].is_string(),
        "{job:#}"
    );
    assert!(job["next_run"].is_string(), "{job:#}");
    assert_eq!(job["recent_runs"][0]["summary"]["changed"], 1, "{job:#}");
    assert_eq!(job["recent_runs"][0]["trigger"], "manual");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_poller_records_a_rejection_with_the_reason() -> TestResult {
    let stack = Stack::v2().await?;
    let created = stack.create("25000.00").await?;

    stack
        .decide(&created["bank_reference"], "reject", NOTE)
        .await?;
    stack.run_poller().await?;
    let rejected = stack.payment(&created["id"]).await?;

    assert_eq!(rejected["status"], "rejected", "{rejected:#}");
    assert_eq!(rejected["bank_status"], "rejected");
    // The reviewer's note when the bank's API shows it; bank API v2 shows only why the
    // payment was held, which the platform then reports.
    let reason = rejected["reason"].as_str().unwrap_or_default();
    assert!(
        reason == NOTE
            || reason
                .starts_with("rejected in the bank's manual review (held: amount 25000.00 EUR"),
        "{rejected:#}"
    );
    // Final: a later run does not ask the bank again.
    let job = stack.run_poller().await?;
    assert_eq!(job["recent_runs"][0]["summary"]["checked"], 0, "{job:#}");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_bank_outage_is_retried_on_the_next_tick_with_the_same_idempotency_key() -> TestResult {
    let stack = Stack::v2().await?;
    let (status, fault) = stack
        .admin(
            "POST",
            "/faults",
            Some(json!({"kind": "error", "status": 503, "count": 2, "route": "/v2/payments*"})),
        )
        .await?;
    assert_eq!(status, 201, "{fault:#}");

    let created = stack.create("120.00").await?;
    let first_run = stack.run_poller().await?;
    let still_waiting = stack.payment(&created["id"]).await?;
    let second_run = stack.run_poller().await?;
    let submitted = stack.payment(&created["id"]).await?;

    assert_eq!(created["status"], "pending_submission", "{created:#}");
    assert_eq!(created["bank_reference"], Value::Null);
    assert!(
        created["last_bank_error"]
            .as_str()
            .unwrap_or_default()
            .contains("503"),
        "{created:#}"
    );
    let first_error = first_run["last_error"].as_str().unwrap_or_default();
    assert!(
        first_error.contains("503") && first_error.contains("service_unavailable"),
        "{first_run:#}"
    );
    assert_eq!(first_run["last_outcome"], "error");
    assert_eq!(first_run["last_success"], Value::Null);
    assert_eq!(still_waiting["status"], "pending_submission");
    assert_eq!(still_waiting["submission_attempts"], 2);
    assert_eq!(second_run["last_error"], Value::Null, "{second_run:#}");
    assert!(second_run["last_success"].is_string());
    assert_eq!(submitted["status"], "accepted", "{submitted:#}");
    assert!(
        submitted["bank_reference"]
            .as_str()
            .unwrap_or_default()
            .starts_with("pay_")
    );
    assert_eq!(submitted["submission_attempts"], 3);
    assert_eq!(statuses(&submitted), ["pending_submission", "accepted"]);

    let sent = stack.journal("POST", "/v2/payments").await?;
    let answers: Vec<&Value> = sent.iter().map(|e| &e["status"]).collect();
    assert_eq!(answers, [&json!(503), &json!(503), &json!(201)]);
    let keys: Vec<&str> = sent
        .iter()
        .filter_map(|e| e["headers"]["idempotency-key"].as_str())
        .collect();
    assert_eq!(keys.len(), 3, "{sent:#?}");
    assert!(keys.iter().all(|k| *k == keys[0]), "keys differ: {keys:?}");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_scheduled_job_really_runs_on_its_cron_schedule() -> TestResult {
    let stack = Stack::with(BankApiVersion::V2, |c| {
        c.poll_schedule = "* * * * * *".to_owned()
    })
    .await?;
    let created = stack.create("25000.00").await?;
    stack
        .decide(&created["bank_reference"], "approve", "ok")
        .await?;
    stack.advance_past_settlement().await?;

    // Nobody triggers the job: only the scheduler can settle the payment.
    let settled = eventually(
        Duration::from_secs(10),
        "the scheduled poller to settle the payment",
        || async {
            let payment = stack.payment(&created["id"]).await?;
            Ok((payment["status"] == "settled").then_some(payment))
        },
    )
    .await?;
    let (_, job) = stack.get("/internal/jobs/bank-status-poller").await?;

    assert_eq!(settled["status"], "settled");
    assert!(job["runs"].as_u64().unwrap_or_default() >= 1, "{job:#}");
    assert_eq!(job["recent_runs"][0]["trigger"], "schedule", "{job:#}");
    assert!(job["next_run"].is_string(), "{job:#}");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn concurrent_runs_take_turns_and_both_answer_after_their_run() -> TestResult {
    let stack = Stack::v2().await?;
    stack.create("25000.00").await?;

    let (a, b) = tokio::join!(stack.run_poller(), stack.run_poller());
    let (a, b) = (a?, b?);
    let (_, job) = stack.get("/internal/jobs/bank-status-poller").await?;

    let mut seen = [a["runs"].as_u64(), b["runs"].as_u64()];
    seen.sort_unstable();
    assert!(
        seen[0] >= Some(1),
        "a run answered before it ran: {a:#} {b:#}"
    );
    assert_eq!(job["runs"], 2);
    assert_eq!(job["running"], false);
    let runs = job["recent_runs"].as_array().cloned().unwrap_or_default();
    // Newest first: the later run started after the earlier one finished.
    assert!(
        runs[0]["started_at"].as_str() >= runs[1]["finished_at"].as_str(),
        "{job:#}"
    );
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_jobs_list_shows_the_poller_and_unknown_jobs_are_404() -> TestResult {
    let stack = Stack::v2().await?;

    let (status, jobs) = stack.get("/internal/jobs").await?;
    let (unknown_status, unknown) = stack.get("/internal/jobs/nightly-report").await?;
    let (run_status, _) = stack
        .post("/internal/jobs/nightly-report/run", &Value::Null)
        .await?;

    assert_eq!(status, 200);
    let list = jobs["jobs"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{jobs:#}");
    assert_eq!(list[0]["name"], "bank-status-poller");
    assert_eq!(list[0]["runs"], 0);
    assert_eq!(list[0]["last_run"], Value::Null);
    assert_eq!(list[0]["registered"], true);
    assert_eq!(unknown_status, 404);
    assert_eq!(
        unknown["error"],
        "no job `nightly-report`; jobs: bank-status-poller"
    );
    assert_eq!(run_status, 404);
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn shutdown_stops_the_server() -> TestResult {
    let stack = Stack::v2().await?;
    let url = stack.url("/healthz");
    let http = stack.http.clone();
    assert_eq!(http.get(&url).send().await?.status(), 200);

    stack.platform.shutdown().await;

    assert!(
        http.get(&url).send().await.is_err(),
        "still answering after shutdown"
    );
    stack.bank.shutdown().await;
    Ok(())
}
