//! The baseline of `scripts/bench-runner.sh`: a bare reqwest loop doing the same steps as
//! the generated scenario, with nothing of rehearse in between.
//!
//! A *step* is one HTTP exchange with its checks, as in a scenario:
//! - odd steps: `POST /items` with a small JSON body, check the status is 201, parse the
//!   body as JSON and take `$.id`;
//! - even steps: `GET /items/{id}`, check the status is 200, parse the body and check
//!   `$.status == "ok"`.
//!
//! It prints `steps/s` of the best of ROUNDS runs of STEPS steps; each run builds its own
//! client and so opens its own connection, as a `rehearse run` does.
//!
//! ```text
//! cargo run --release -p rehearse-runner --example bench_reqwest -- BASE_URL [STEPS] [ROUNDS]
//! ```

use std::time::{Duration, Instant};

use serde_json::{Value, json};

// The same runtime the `rehearse` binary uses.
#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .expect("usage: bench_reqwest BASE_URL [STEPS] [ROUNDS]");
    let steps: usize = args.next().map_or(1000, |s| s.parse().expect("STEPS"));
    let rounds: usize = args.next().map_or(5, |s| s.parse().expect("ROUNDS"));
    // The runner runs each scenario in a spawned task; on the multi-thread runtime a future
    // driven by `block_on` itself is woken from another thread on every await, which is
    // several times slower on loopback. The spawned loop is the like-for-like baseline; the
    // `block_on` one is printed too, for comparison with figures measured that way.
    let mut best_spawned = f64::MAX;
    let mut best_block_on = f64::MAX;
    for _ in 0..rounds {
        let base2 = base.clone();
        let started = Instant::now();
        tokio::spawn(async move { run(&client(), &base2, steps).await })
            .await
            .expect("the loop panicked");
        best_spawned = best_spawned.min(started.elapsed().as_secs_f64());
        let started = Instant::now();
        run(&client(), &base, steps).await;
        best_block_on = best_block_on.min(started.elapsed().as_secs_f64());
    }
    for (how, best) in [("spawned task", best_spawned), ("block_on", best_block_on)] {
        #[expect(clippy::cast_precision_loss, reason = "step counts are small")]
        let rate = steps as f64 / best;
        println!(
            "bare reqwest ({how}): {steps} steps in {:.1} ms = {rate:.0} steps/s",
            best * 1e3
        );
    }
}

/// A client with the runner's settings, without TLS files; built per round, as each run
/// builds its own.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn run(client: &reqwest::Client, base: &str, steps: usize) {
    let mut id = Value::Null;
    for step in 0..steps {
        if step % 2 == 0 {
            let resp = client
                .post(format!("{base}/items"))
                .json(&json!({ "name": "widget", "step": step }))
                .send()
                .await
                .expect("POST");
            assert_eq!(resp.status().as_u16(), 201);
            let body: Value =
                serde_json::from_slice(&resp.bytes().await.expect("body")).expect("JSON");
            id = body["id"].clone();
            assert!(!id.is_null(), "no $.id");
        } else {
            let resp = client
                .get(format!("{base}/items/{id}"))
                .send()
                .await
                .expect("GET");
            assert_eq!(resp.status().as_u16(), 200);
            let body: Value =
                serde_json::from_slice(&resp.bytes().await.expect("body")).expect("JSON");
            assert_eq!(body["status"], "ok");
        }
    }
}
