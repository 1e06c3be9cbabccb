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
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let started = Instant::now();
        // The runner's client settings, without TLS files.
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        run(&client, &base, steps).await;
        best = best.min(started.elapsed().as_secs_f64());
    }
    #[expect(clippy::cast_precision_loss, reason = "step counts are small")]
    let rate = steps as f64 / best;
    println!(
        "bare reqwest: {steps} steps in {:.1} ms = {rate:.0} steps/s",
        best * 1e3
    );
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
