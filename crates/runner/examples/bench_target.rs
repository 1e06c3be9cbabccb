//! A tiny local target for `scripts/bench-runner.sh`.
//!
//! `POST /items` answers `201 {"id": n}` (n counts up from 1) and `GET /items/{id}` answers
//! `200 {"id": id, "status": "ok"}`. It prints its base URL on the first line of stdout,
//! then serves until killed.
//!
//! ```text
//! cargo run --release -p rehearse-runner --example bench_target [PORT]
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

// One thread: the benchmark is sequential, and the client needs the other core.
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map_or(0, |p| p.parse().expect("PORT is a number"));
    let next = Arc::new(AtomicU64::new(0));
    let app = Router::new()
        .route(
            "/items",
            post(|State(next): State<Arc<AtomicU64>>| async move {
                let id = next.fetch_add(1, Ordering::Relaxed) + 1;
                (StatusCode::CREATED, Json(json!({ "id": id })))
            }),
        )
        .route(
            "/items/{id}",
            get(|Path(id): Path<u64>| async move { Json(json!({ "id": id, "status": "ok" })) }),
        )
        .with_state(next);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("http://{}", listener.local_addr()?);
    // Make sure the script sees the URL before the first request.
    std::io::Write::flush(&mut std::io::stdout())?;
    axum::serve(listener, app).await?;
    Ok(())
}
