//! The readiness board of a countdown step (`rehearse countdown --report html=…`, #13):
//! one self-contained page with a row per owner (their clock, their checks green or red,
//! the working hours they have left before the demo) and the go/no-go line. Plain data,
//! filled by the CLI: this crate reads no file and asks no clock.
//!
//! Every piece of text is escaped; evidence reaches it already masked by the runner.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::html::escape;
use crate::owners::OwnerClock;
use crate::spec::write_file;

/// A countdown step's readiness board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// The environment counted down on.
    pub environment: String,
    /// When the demo starts, `2026-12-03 15:00 UTC`.
    pub demo_at: String,
    /// The step, `T-24h`.
    pub step: String,
    /// When the board was made, `2026-12-02 15:00 UTC`.
    pub now: String,
    /// The wall-clock time left before the demo, `24 h 0 min`.
    pub time_left: String,
    /// GO or NO-GO, and whether this is the last step's call.
    pub verdict: BoardVerdict,
    /// One row per owner.
    pub rows: Vec<BoardRow>,
}

/// The go/no-go line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardVerdict {
    /// Pre-flight and the flows are green.
    pub go: bool,
    /// The last step: the call for the demo (earlier steps say where things stand).
    pub final_call: bool,
    /// The line itself: `NO-GO: devops has 1 failure, 0 h of working hours left`.
    pub line: String,
}

/// One owner on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardRow {
    /// The name `owner:` uses, or `(no owner)`.
    pub name: String,
    /// How a person reads it; the name when none is given.
    pub display_name: String,
    /// Their clock, when `owners.yaml` knows them.
    pub clock: Option<OwnerClock>,
    /// Their checks and flows that passed.
    pub green: Vec<String>,
    /// Their checks and flows that failed, each with what was seen.
    pub red: Vec<String>,
    /// Their working time left before the demo, `13 h 30 min`; without a clock, the
    /// wall-clock time and why.
    pub hours_left: String,
}

impl BoardRow {
    /// `red` with a failure, `green` with only passes, `idle` with nothing in this step.
    pub fn state(&self) -> &'static str {
        if !self.red.is_empty() {
            "red"
        } else if self.green.is_empty() {
            "idle"
        } else {
            "green"
        }
    }
}

const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}\
header{padding:16px 24px;color:#fff}header.go{background:#1f7a3a}header.no-go{background:#b3261e}\
header.pending{background:#8a5a00}header h1{margin:0;font-size:22px}header p{margin:4px 0 0}\
main{padding:16px 24px}table{border-collapse:collapse;width:100%;background:#fff}\
th,td{border-bottom:1px solid #dde1e6;padding:6px 8px;text-align:left;vertical-align:top}\
tr.red td:first-child{border-left:4px solid #b3261e}tr.green td:first-child{border-left:4px solid #1f7a3a}\
tr.idle td:first-child{border-left:4px solid #9aa3ad}.off-hours{color:#8a5a00}.path{color:#5b6573}\
ul{margin:0;padding-left:18px}li.red{color:#b3261e}li.green{color:#1f7a3a}";

/// The board as one self-contained HTML page.
pub fn to_board_html(board: &Board) -> String {
    let mut out = String::new();
    let word = verdict_word(&board.verdict);
    let class = if board.verdict.go {
        "go"
    } else if board.verdict.final_call {
        "no-go"
    } else {
        "pending"
    };
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"rehearse\">\n");
    let _ = writeln!(
        out,
        "<title>{}</title>",
        escape(&format!(
            "rehearse countdown {} · {} · {word}",
            board.step, board.environment
        ))
    );
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    let _ = writeln!(
        out,
        "<header class=\"{class}\"><h1>{} · {} before the demo on {}</h1>",
        escape(&board.step),
        escape(&board.time_left),
        escape(&board.environment)
    );
    let _ = writeln!(
        out,
        "<p class=\"verdict\" data-go=\"{}\" data-final=\"{}\">{}</p>",
        board.verdict.go,
        board.verdict.final_call,
        escape(&board.verdict.line)
    );
    let _ = writeln!(
        out,
        "<p>demo at {} · board made at {}</p></header>",
        escape(&board.demo_at),
        escape(&board.now)
    );
    out.push_str("<main>\n<table class=\"board\">\n<thead><tr><th>owner</th><th>their clock</th><th>checks</th><th>working hours left before the demo</th></tr></thead>\n<tbody>\n");
    for row in &board.rows {
        row_html(&mut out, row);
    }
    out.push_str("</tbody>\n</table>\n</main>\n</body>\n</html>\n");
    out
}

/// `GO`, `NO-GO`, or for an earlier step `on track` / `not ready`.
fn verdict_word(v: &BoardVerdict) -> &'static str {
    match (v.final_call, v.go) {
        (true, true) => "GO",
        (true, false) => "NO-GO",
        (false, true) => "on track",
        (false, false) => "not ready",
    }
}

/// One row, on one line (so a test can pick it out).
fn row_html(out: &mut String, row: &BoardRow) {
    let _ = write!(
        out,
        "<tr class=\"{}\" data-owner=\"{}\"><td><b>{}</b>",
        row.state(),
        escape(&row.name),
        escape(&row.name)
    );
    if row.display_name != row.name {
        let _ = write!(
            out,
            " <span class=\"path\">{}</span>",
            escape(&row.display_name)
        );
    }
    out.push_str("</td><td>");
    match &row.clock {
        Some(c) => {
            let _ = write!(
                out,
                "{} in {}, <span class=\"{}\">{}</span>; {}",
                escape(&c.local_time),
                escape(&c.time_zone),
                if c.working { "working" } else { "off-hours" },
                c.state(),
                escape(&c.next)
            );
        }
        None => out.push_str("not in owners.yaml"),
    }
    out.push_str("</td><td>");
    if row.red.is_empty() && row.green.is_empty() {
        out.push_str("nothing in this step");
    } else {
        let _ = write!(out, "{} green, {} red<ul>", row.green.len(), row.red.len());
        for r in &row.red {
            let _ = write!(out, "<li class=\"red\">✗ {}</li>", escape(r));
        }
        for g in &row.green {
            let _ = write!(out, "<li class=\"green\">✓ {}</li>", escape(g));
        }
        out.push_str("</ul>");
    }
    let _ = writeln!(out, "</td><td>{}</td></tr>", escape(&row.hours_left));
}

/// Writes the board to `path`, creating its parent directories.
pub fn write_board_html(board: &Board, path: &Path) -> io::Result<()> {
    write_file(path, to_board_html(board).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(name: &str, local: &str, zone: &str, working: bool, next: &str) -> OwnerClock {
        OwnerClock {
            name: name.to_owned(),
            display_name: name.to_owned(),
            local_time: local.to_owned(),
            time_zone: zone.to_owned(),
            hours: "09:00-17:00 mon,tue,wed,thu,fri".to_owned(),
            working,
            next: next.to_owned(),
            line: String::new(),
        }
    }

    fn board() -> Board {
        Board {
            environment: "staging".to_owned(),
            demo_at: "2026-12-03 15:00 UTC".to_owned(),
            step: "T-15m".to_owned(),
            now: "2026-12-03 14:45 UTC".to_owned(),
            time_left: "15 min".to_owned(),
            verdict: BoardVerdict {
                go: false,
                final_call: true,
                line: "NO-GO: devops has 1 failure <and> 0 h of working hours left".to_owned(),
            },
            rows: vec![
                BoardRow {
                    name: "devops".to_owned(),
                    display_name: "DevOps, Singapore".to_owned(),
                    clock: Some(clock(
                        "devops",
                        "22:45",
                        "Asia/Singapore",
                        false,
                        "back in 10 h 15 min",
                    )),
                    green: vec![],
                    red: vec!["pre-flight `platform is up`: connection refused".to_owned()],
                    hours_left: "0 h".to_owned(),
                },
                BoardRow {
                    name: "payments-team".to_owned(),
                    display_name: "payments-team".to_owned(),
                    clock: Some(clock(
                        "payments-team",
                        "14:45",
                        "Europe/London",
                        true,
                        "until 17:00",
                    )),
                    green: vec!["flow `pay`".to_owned()],
                    red: vec![],
                    hours_left: "15 min".to_owned(),
                },
                BoardRow {
                    name: "qa".to_owned(),
                    display_name: "qa".to_owned(),
                    clock: None,
                    green: vec![],
                    red: vec![],
                    hours_left: "15 min of the clock (not in owners.yaml)".to_owned(),
                },
            ],
        }
    }

    #[test]
    fn the_board_has_a_row_per_owner_and_the_go_no_go_line() {
        insta::assert_snapshot!(to_board_html(&board()));
    }

    #[test]
    fn an_earlier_step_says_where_things_stand_not_go() {
        let mut b = board();
        b.verdict = BoardVerdict {
            go: true,
            final_call: false,
            line: "on track".to_owned(),
        };
        let html = to_board_html(&b);
        assert!(html.contains("<header class=\"go\">"), "{html}");
        assert!(html.contains("<title>rehearse countdown T-15m · staging · on track</title>"));
        b.verdict.go = false;
        assert!(to_board_html(&b).contains("<header class=\"pending\">"));
    }
}
