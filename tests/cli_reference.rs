//! docs/CLI.md is the `--help` of every command, committed so that reviews show CLI
//! changes. Regenerate: `REHEARSE_UPDATE_CLI_DOC=1 cargo test -p rehearse --test cli_reference`.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");
const COMMANDS: &[&[&str]] = &[
    &["run"],
    &["preflight"],
    &["validate"],
    &["list"],
    &["schema"],
    &["up"],
    &["schedule"],
    &["countdown"],
    &["report", "merge"],
    &["ledger"],
    &["cleanup"],
    &["mock-bank"],
    &["contract", "check"],
    &["contract", "diff"],
    &["mock-bank", "record"],
    &["completions"],
];

fn help(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cli_reference_is_up_to_date() {
    let mut doc = String::from(
        "# `rehearse` command-line reference\n\nGenerated from `--help`; do not edit by hand.\n\n",
    );
    doc.push_str(&format!("## rehearse\n\n```text\n{}```\n", help(&[])));
    for c in COMMANDS {
        doc.push_str(&format!(
            "\n## rehearse {}\n\n```text\n{}```\n",
            c.join(" "),
            help(c)
        ));
    }
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/CLI.md"));
    if std::env::var_os("REHEARSE_UPDATE_CLI_DOC").is_some() {
        std::fs::write(path, &doc).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == doc,
        "docs/CLI.md is out of date; run REHEARSE_UPDATE_CLI_DOC=1 cargo test -p rehearse --test cli_reference"
    );
}
