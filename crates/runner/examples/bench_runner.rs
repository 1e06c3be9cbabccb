//! The in-process half of `scripts/bench-runner.sh`: compiles a scenario file the way the
//! CLI does and times `rehearse_runner::run` alone (no process start, no loading, no
//! console), with every event drained by a consumer task as a reporter would.
//!
//! ```text
//! cargo run --release -p rehearse-runner --example bench_runner -- ENV.yaml SCENARIO.yaml [ROUNDS]
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use rehearse_runner::{Plan, RunOptions, Status, World};
use rehearse_scenario::{Compiler, Resolve, Templates, load_environment};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bench_runner ENV.yaml SCENARIO.yaml [ROUNDS]";
    let env_path = PathBuf::from(args.next().expect(usage));
    let scenario_path = PathBuf::from(args.next().expect(usage));
    let rounds: usize = args.next().map_or(5, |s| s.parse().expect("ROUNDS"));

    let world = World::new(Default::default(), &[]);
    let mut templates = Templates::new(Arc::new(world) as Arc<dyn Resolve>);
    let environment = load_environment(&env_path, "bench", &mut templates)
        .unwrap_or_else(|p| panic!("environment: {p}"));
    let scenario = Compiler::new(&environment, "fixtures", &mut templates)
        .compile_file(&scenario_path)
        .unwrap_or_else(|p| panic!("scenario: {p}"));
    let steps = scenario.steps.len();
    let plan = Arc::new(Plan::new(environment, vec![scenario], templates));

    let mut best = f64::MAX;
    for _ in 0..rounds {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // BENCH_DRAIN=after leaves the events queued until the run ends (no consumer to wake
        // on every event), to see what a live consumer costs.
        let live = std::env::var("BENCH_DRAIN").map_or(true, |v| v != "after");
        let (gate_tx, gate_rx) = tokio::sync::oneshot::channel::<()>();
        let drain = tokio::spawn(async move {
            if !live {
                let _ = gate_rx.await;
            }
            let mut n = 0usize;
            if !live {
                while rx.recv().await.is_some() {
                    n += 1;
                }
                return n;
            }
            // As the CLI's console does: take the events in batches, 20 times a second,
            // rather than being woken for each.
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(50));
            loop {
                tick.tick().await;
                loop {
                    match rx.try_recv() {
                        Ok(_) => n += 1,
                        Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                        Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => return n,
                    }
                }
            }
        });
        let started = Instant::now();
        let result = rehearse_runner::run(
            Arc::clone(&plan),
            RunOptions::new(),
            tx,
            CancellationToken::new(),
        )
        .await
        .expect("client");
        let elapsed = started.elapsed().as_secs_f64();
        let _ = gate_tx.send(());
        let events = drain.await.expect("drain");
        assert_eq!(
            result.scenarios[0].status,
            Status::Passed,
            "the benchmark scenario failed: {:?}",
            result.scenarios[0]
                .steps
                .iter()
                .find_map(|s| s.failure.as_ref())
        );
        assert!(events > steps, "events were sent");
        best = best.min(elapsed);
    }
    #[expect(clippy::cast_precision_loss, reason = "step counts are small")]
    let rate = steps as f64 / best;
    println!(
        "rehearse (in-process run): {steps} steps in {:.1} ms = {rate:.0} steps/s",
        best * 1e3
    );
}
