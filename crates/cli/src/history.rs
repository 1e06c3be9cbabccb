//! `rehearse history`: per scenario, its recent results from the store.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use rehearse_store::{History, ScenarioHistory, Store, StoreUrl};

use crate::exit;
use crate::store::{LOOK_BACK, StoreArgs};

/// `rehearse history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only these scenarios: a file path (or its end) or a part of the name (default: all).
    pub scenarios: Vec<String>,
    /// Whose runs: the environment's name.
    #[arg(short, long, env = "REHEARSE_ENV", default_value = "local")]
    pub env: String,
    /// How many of the latest runs each scenario shows.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub last: usize,
    /// The suite's root, where the default store is (default: the current folder).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Where runs are recorded.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub(crate) async fn history(args: &HistoryArgs) -> u8 {
    if args.store.no_store {
        eprintln!("error: history is read from the store; drop --no-store");
        return exit::INVALID_INPUT;
    }
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let url = match crate::store::url_of(&args.store, &root) {
        Ok(u) => u,
        Err(code) => return code,
    };
    if let StoreUrl::Sqlite(path) = &url
        && !path.exists()
    {
        println!(
            "no runs recorded yet: no store at {} (`rehearse run` records there)",
            path.display()
        );
        return exit::PASSED;
    }
    let store = match Store::open(&url).await {
        Ok(s) => s,
        Err(e) => {
            crate::store::print_error(&e, false);
            return exit::NOT_READY;
        }
    };
    let history = match store.history(&args.env, LOOK_BACK.max(args.last)).await {
        Ok(h) => h,
        Err(e) => {
            crate::store::print_error(&e, false);
            return exit::NOT_READY;
        }
    };
    let chosen: Vec<&ScenarioHistory> = history
        .scenarios
        .iter()
        .filter(|s| {
            args.scenarios.is_empty()
                || args.scenarios.iter().any(|q| {
                    s.path == *q || s.path.ends_with(q.as_str()) || s.name.contains(q.as_str())
                })
        })
        .collect();
    if args.json {
        println!("{}", json(&history, &chosen, args.last));
    } else if chosen.is_empty() {
        println!(
            "no recorded run of environment `{}` in {}{}",
            args.env,
            store.url(),
            if args.scenarios.is_empty() {
                ""
            } else {
                " for these scenarios"
            }
        );
    } else {
        print!("{}", text(&history, &chosen, args.last));
    }
    exit::PASSED
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{:.0}%", r * 100.0))
}

fn millis(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "-".to_owned(),
        |ms| {
            if ms < 1_000 {
                format!("{ms}ms")
            } else {
                #[expect(clippy::cast_precision_loss, reason = "a duration to show")]
                let s = ms as f64 / 1_000.0;
                format!("{s:.2}s")
            }
        },
    )
}

fn text(history: &History, chosen: &[&ScenarioHistory], n: usize) -> String {
    let mut out = String::new();
    for s in chosen {
        let _ = writeln!(out, "{}  {}", s.path, s.name);
        let _ = writeln!(
            out,
            "  {}  pass {}  flaky {}  p50 {}  p95 {}  ({} run{})",
            s.strip(n),
            percent(s.pass_rate(n)),
            percent(s.flaky_rate(n)),
            millis(s.percentile_ms(n, 50)),
            millis(s.percentile_ms(n, 95)),
            s.last(n).len(),
            if s.last(n).len() == 1 { "" } else { "s" }
        );
        if let Some(b) = s.breakage(history) {
            let mut line = format!(
                "  failing since run {} ({})",
                b.failing_since.id,
                b.failing_since.when()
            );
            match &b.last_green {
                Some(g) => {
                    let _ = write!(line, "; last green {} ({})", g.id, g.when());
                    if b.changes.is_empty() {
                        line.push_str("; nothing recorded changed between them");
                    } else {
                        let changes: Vec<String> =
                            b.changes.iter().map(ToString::to_string).collect();
                        let _ = write!(line, "; changed between them: {}", changes.join(", "));
                    }
                }
                None => line.push_str("; never green in the recorded runs"),
            }
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

fn json(history: &History, chosen: &[&ScenarioHistory], n: usize) -> String {
    let run = |r: &rehearse_store::RunInfo| serde_json::json!({ "run": r.id, "started_at": r.started_at });
    let list: Vec<serde_json::Value> = chosen
        .iter()
        .map(|s| {
            let b = s.breakage(history);
            serde_json::json!({
                "path": s.path,
                "name": s.name,
                "strip": s.strip(n),
                "runs": s.last(n).len(),
                "pass_rate": s.pass_rate(n),
                "flaky_rate": s.flaky_rate(n),
                "p50_ms": s.percentile_ms(n, 50),
                "p95_ms": s.percentile_ms(n, 95),
                "failing_since": b.as_ref().map(|b| run(&b.failing_since)),
                "last_green": b.as_ref().and_then(|b| b.last_green.as_ref().map(run)),
                "changes": b.as_ref().map(|b| b.changes.iter().map(|c| serde_json::json!({
                    "what": c.what, "from": c.from, "to": c.to,
                })).collect::<Vec<_>>()).unwrap_or_default(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "scenarios": list })).unwrap_or_default()
}
