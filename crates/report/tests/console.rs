//! Console output: blocks per scenario, failure details, verbosity, colour.

mod common;

use common::{aborted, console, events, failing, passing};
use rehearse_report::{ColorChoice, ConsoleOptions, Verbosity};

fn plain() -> ConsoleOptions {
    ConsoleOptions::new().color(ColorChoice::Never)
}

#[test]
fn passing_run() {
    let out = console(plain(), &events(&passing(), &[0]));
    insta::assert_snapshot!(out);
}

#[test]
fn failing_run_shows_expectation_location_and_last_response() {
    // The skipped scenario never sends ScenarioFinished: it is printed at the end.
    let out = console(plain(), &events(&failing(), &[2, 1, 0]));
    insta::assert_snapshot!(out);
    assert!(out.contains("✗ poller picks up the final status 1.50s after 3 attempts"));
    assert!(out.contains("$.status: expected settled, got \"pending_review\""));
    assert!(out.contains("--> scenarios/payments.yaml:24:34"));
    assert!(out.contains(r#"24 | expect: { status: 200, json: { "$.status": settled } }"#));
    assert!(
        out.contains("1 passed, 2 failed, 1 skipped in 1.23s · run run-0001 · environment staging")
    );
}

#[test]
fn scenarios_print_as_blocks_in_order_of_completion() {
    let result = failing();
    let out = console(
        plain().verbosity(Verbosity::Verbose),
        &events(&result, &[2, 1, 0, 3]),
    );
    let at = |needle: &str| {
        out.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in\n{out}"))
    };
    let refund = at("Refund reaches the bank");
    let small = at("Small payment is settled at once");
    let large = at("Large payment is settled");
    assert!(refund < small && small < large, "{out}");
    // each block is contiguous: the large payment's steps follow its header
    let block = &out[large..];
    let create = block.find("create payment").unwrap();
    assert!(!block[..create].contains("Small payment"), "{out}");
}

#[test]
fn quiet_prints_only_failures_and_summary() {
    let out = console(
        plain().verbosity(Verbosity::Quiet),
        &events(&failing(), &[0, 1, 2]),
    );
    insta::assert_snapshot!(out);
    assert!(!out.contains("Small payment"), "{out}");
    assert!(!out.contains("create payment"), "{out}");
    assert!(!out.contains("running"), "{out}");
}

#[test]
fn verbose_shows_each_attempt() {
    let out = console(
        plain().verbosity(Verbosity::Verbose),
        &events(&failing(), &[0, 1, 2]),
    );
    insta::assert_snapshot!(out);
    assert!(
        out.contains("#3 → GET http://127.0.0.1:8080/payments/p-1"),
        "{out}"
    );
    assert!(!out.contains("authorization"), "headers are for -vv: {out}");
}

#[test]
fn very_verbose_shows_headers_and_bodies() {
    let out = console(
        plain().verbosity(Verbosity::VeryVerbose),
        &events(&passing(), &[0]),
    );
    insta::assert_snapshot!(out);
    assert!(out.contains("> authorization: Bearer ***"), "{out}");
    assert!(out.contains("< content-type: application/json"), "{out}");
}

#[test]
fn ascii_marks_without_unicode() {
    let out = console(plain().unicode(false), &events(&failing(), &[0, 1, 2]));
    assert!(
        out.contains("  FAIL poller picks up the final status"),
        "{out}"
    );
    assert!(out.contains("ok Small payment is settled at once"), "{out}");
    assert!(out.contains("ERR Refund reaches the bank"), "{out}");
    assert!(!out.contains('✓') && !out.contains('✗'), "{out}");
}

#[test]
fn aborted_run_prints_reason_and_problems() {
    let out = console(plain(), &events(&aborted(), &[]));
    insta::assert_snapshot!(out);
    assert!(out.contains("run aborted: environment not ready"), "{out}");
    assert!(
        out.contains("  - status poller is installed and running"),
        "{out}"
    );
}

#[test]
fn interrupted_run_says_so() {
    let mut result = passing();
    result.interrupted = true;
    let out = console(plain(), &events(&result, &[0]));
    assert!(out.contains("run interrupted"), "{out}");
}

#[test]
fn never_and_non_terminal_output_have_no_ansi_escape() {
    let evs = events(&failing(), &[0, 1, 2]);
    let never = console(plain().verbosity(Verbosity::VeryVerbose), &evs);
    let auto_pipe = console(ConsoleOptions::new().color(ColorChoice::Auto), &evs);
    assert!(!never.contains('\x1b'), "{never}");
    assert!(!auto_pipe.contains('\x1b'), "{auto_pipe}");
}

#[test]
fn always_colours_even_a_pipe() {
    let out = console(
        ConsoleOptions::new().color(ColorChoice::Always),
        &events(&failing(), &[0]),
    );
    assert!(out.contains("\x1b[31m✗\x1b[0m"), "{out:?}");
}

/// Runs `test` of this binary in a child process with `NO_COLOR` set to `value`.
fn child(test: &str, no_color: &str) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("REHEARSE_REPORT_CHILD", "1")
        .env("NO_COLOR", no_color)
        .output()
        .unwrap()
}

/// In the child: `Auto` on a (claimed) terminal, printing whether escapes appeared.
#[test]
fn auto_on_terminal_child() {
    if std::env::var_os("REHEARSE_REPORT_CHILD").is_none() {
        return;
    }
    let options = ConsoleOptions::new()
        .color(ColorChoice::Auto)
        .terminal(true);
    let out = console(options, &events(&passing(), &[0]));
    println!("coloured={}", out.contains('\x1b'));
}

#[test]
fn no_color_env_disables_auto_colour_on_a_terminal() {
    let set = child("auto_on_terminal_child", "1");
    let set = String::from_utf8_lossy(&set.stdout);
    assert!(set.contains("coloured=false"), "{set}");
    // An empty NO_COLOR is ignored, so the same reporter colours.
    let empty = child("auto_on_terminal_child", "");
    let empty = String::from_utf8_lossy(&empty.stdout);
    assert!(empty.contains("coloured=true"), "{empty}");
}
