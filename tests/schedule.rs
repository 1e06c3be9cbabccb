//! Black-box test of `rehearse schedule`: with a cron of every second and runs that take
//! longer than a second, exactly one run goes at a time (the ticks that come meanwhile
//! are logged and skipped), each run reports into its own folder, and SIGTERM interrupts
//! the current run, which still writes its reports, and stops the scheduler with exit 0.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

/// Not an expectation of speed: only how long to wait for the scheduler before giving up,
/// so a broken scheduler fails the test instead of hanging it.
const GIVE_UP: Duration = Duration::from_secs(90);

/// A project whose only scenario waits 1.5 s: longer than the 1 s between ticks.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("environments")).unwrap();
    std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
    // No request is sent: the environment points at nothing.
    std::fs::write(
        dir.path().join("environments/test.yaml"),
        "vars:\n  base: http://127.0.0.1:9\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scenarios/slow.yaml"),
        "name: slow\nsteps:\n  - name: take a while\n    wait: 1500ms\n",
    )
    .unwrap();
    dir
}

fn run_folders(reports: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(reports)
        .map(|rd| {
            rd.map(|e| e.unwrap().path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Polls until `done` holds; panics with the scheduler's log after [`GIVE_UP`].
fn wait_for(what: &str, log: &Path, child: &mut Child, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the scheduler exited ({status}) before {what}:\n{}",
                read(log)
            );
        }
        if start.elapsed() > GIVE_UP {
            let _ = child.kill();
            panic!("gave up waiting for {what}:\n{}", read(log));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[derive(Debug)]
struct Run {
    folder: PathBuf,
    started_at: DateTime<Utc>,
    duration: chrono::Duration,
    interrupted: bool,
}

fn read_run(folder: &Path) -> Run {
    let text = read(&folder.join("run.json"));
    let json: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: run.json is not JSON ({e}): {text}", folder.display()));
    Run {
        folder: folder.to_owned(),
        started_at: json["started_at"].as_str().unwrap().parse().unwrap(),
        duration: chrono::Duration::milliseconds(json["duration"].as_i64().unwrap()),
        interrupted: json["interrupted"].as_bool().unwrap(),
    }
}

#[test]
fn every_second_one_run_at_a_time_each_in_its_own_folder_and_sigterm_stops_cleanly() {
    // Arrange
    let dir = project();
    let reports = dir.path().join("reports");
    let log = dir.path().join("schedule.log");
    let mut child = Command::new(BIN)
        .args([
            "schedule",
            "--cron",
            "* * * * * *",
            "--reports-dir",
            "reports",
            "--env",
            "test",
        ])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();

    // Act: let two runs finish and a tick be skipped, then stop during the next run (once
    // it is under way: its console says so).
    let finished = |reports: &Path| {
        run_folders(reports)
            .iter()
            .filter(|f| f.join("run.json").exists())
            .count()
    };
    wait_for(
        "two finished runs and a skipped tick",
        &log,
        &mut child,
        || finished(&reports) >= 2 && read(&log).contains("skipped"),
    );
    wait_for("a run under way", &log, &mut child, || {
        run_folders(&reports).last().is_some_and(|f| {
            !f.join("run.json").exists() && read(&f.join("console.log")).contains("running")
        })
    });
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > GIVE_UP {
            let _ = child.kill();
            panic!("the scheduler did not stop on SIGTERM:\n{}", read(&log));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log_text = read(&log);

    // Assert: a clean stop.
    assert_eq!(status.code(), Some(0), "{log_text}");
    assert!(log_text.contains("SIGTERM: interrupting run"), "{log_text}");
    // Every run has its own folder, named by its tick, with its own reports.
    let folders = run_folders(&reports);
    assert!(folders.len() >= 3, "{folders:?}\n{log_text}");
    for f in &folders {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.len() >= 20 && name.as_bytes()[10] == b'T' && name[..20].ends_with('Z'),
            "folder name {name} is not a UTC time"
        );
        for file in ["run.json", "junit.xml", "console.log"] {
            assert!(
                f.join(file).exists(),
                "{} has no {file}\n{log_text}",
                f.display()
            );
        }
    }
    // Runs never overlapped: each started after the previous one ended.
    let runs: Vec<Run> = folders.iter().map(|f| read_run(f)).collect();
    for pair in runs.windows(2) {
        let ended = pair[0].started_at + pair[0].duration;
        assert!(
            ended <= pair[1].started_at,
            "{} ended at {ended}, after {} started at {}\n{log_text}",
            pair[0].folder.display(),
            pair[1].folder.display(),
            pair[1].started_at
        );
    }
    // Ticks during a run were skipped, not queued: there were more ticks than runs.
    let skipped = log_text.lines().filter(|l| l.contains("skipped")).count();
    assert!(skipped >= 1, "{log_text}");
    // The run going at SIGTERM was interrupted and still wrote its reports; the others
    // passed.
    let (last, earlier) = runs.split_last().unwrap();
    assert!(last.interrupted, "{last:?}\n{log_text}");
    assert!(earlier.iter().all(|r| !r.interrupted), "{runs:?}");
}

#[test]
fn an_invalid_cron_expression_is_invalid_input() {
    let dir = project();
    let out = Command::new(BIN)
        .args(["schedule", "--cron", "every night", "--env", "test"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("every night"), "{stderr}");
    assert!(!dir.path().join("reports").exists());
}

#[test]
fn an_invalid_scenario_stops_the_schedule_before_the_first_tick() {
    let dir = project();
    std::fs::write(
        dir.path().join("scenarios/bad.yaml"),
        "name: bad\nstepz: []\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["schedule", "--cron", "* * * * * *", "--env", "test"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("the schedule was not started"), "{stderr}");
}
