//! The ready-made pipelines under `ci/` stay in step with the CLI: every YAML file parses,
//! and every `rehearse …` command line in it (in `run:`, `script:`, `command:`/`args:`) is
//! accepted by the real argument parser, `rehearse::args::Cli`.
//!
//! A command line is found by a small shell reader: line continuations are joined, quotes
//! removed, and every expansion (`${{ … }}`, `$VAR`, `${VAR}`, `$(…)`, `$?`) is replaced
//! by the dummy value `1`, which every flag of rehearse accepts (`--shard 1/1` included).

use std::path::{Path, PathBuf};

use clap::Parser;
use rehearse::args::Cli;
use serde_json::Value;

/// A `rehearse` command line found in a CI file.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    /// Where in the YAML: `jobs.shard.steps[3].run`.
    origin: String,
    /// Its words, after quote removal and placeholder substitution.
    words: Vec<String>,
}

/// What the parser said about one command line, if it refused it.
fn check(words: &[String]) -> Result<(), String> {
    match Cli::try_parse_from(words) {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e.render().to_string()),
    }
}

// ---------------------------------------------------------------------------------------
// A small shell reader: enough of POSIX sh for the scripts of CI files.

const DUMMY: &str = "1";

#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    /// `;`, `&`, `|`, `&&`, `||`, `(`, `)`, a newline: the end of a simple command.
    Sep,
}

/// Replaces GitHub/Gitea expressions `${{ … }}` by the dummy value.
fn substitute_expressions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => {
                out.push_str(DUMMY);
                rest = &rest[start + end + 2..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Skips one expansion after a `$` (already consumed); returns false when the `$` was a
/// plain character.
fn skip_expansion(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    match chars.peek().copied() {
        Some('{') => {
            chars.next();
            for c in chars.by_ref() {
                if c == '}' {
                    break;
                }
            }
            true
        }
        Some('(') => {
            let mut depth = 0usize;
            for c in chars.by_ref() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            true
        }
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                chars.next();
            }
            true
        }
        Some(c) if "?#@*$!-0123456789".contains(c) => {
            chars.next();
            true
        }
        _ => false,
    }
}

fn tokenize(script: &str) -> Vec<Tok> {
    let script = substitute_expressions(script);
    let mut toks = Vec::new();
    let mut chars = script.chars().peekable();
    let mut word = String::new();
    let mut in_word = false;
    // After a redirection operator the next word is its target, not an argument.
    let mut skip_next = false;
    let end_word = |word: &mut String, in_word: &mut bool, toks: &mut Vec<Tok>, skip: &mut bool| {
        if *in_word {
            if *skip {
                *skip = false;
            } else {
                toks.push(Tok::Word(std::mem::take(word)));
            }
        }
        word.clear();
        *in_word = false;
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' => end_word(&mut word, &mut in_word, &mut toks, &mut skip_next),
            '\n' => {
                end_word(&mut word, &mut in_word, &mut toks, &mut skip_next);
                toks.push(Tok::Sep);
            }
            '#' if !in_word => {
                while chars.peek().is_some_and(|c| *c != '\n') {
                    chars.next();
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(c) => {
                    word.push(c);
                    in_word = true;
                }
            },
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => {}
                        },
                        '$' => {
                            if skip_expansion(&mut chars) {
                                word.push_str(DUMMY);
                            } else {
                                word.push('$');
                            }
                        }
                        '`' => {
                            for c in chars.by_ref() {
                                if c == '`' {
                                    break;
                                }
                            }
                            word.push_str(DUMMY);
                        }
                        c => word.push(c),
                    }
                }
            }
            '$' => {
                in_word = true;
                if skip_expansion(&mut chars) {
                    word.push_str(DUMMY);
                } else {
                    word.push('$');
                }
            }
            '`' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '`' {
                        break;
                    }
                }
                word.push_str(DUMMY);
            }
            '>' | '<' => {
                // `2>&1`, `>> file`, `< in`: drop a file-descriptor number before it, the
                // operator, and the word after it.
                if in_word && word.chars().all(|c| c.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    end_word(&mut word, &mut in_word, &mut toks, &mut skip_next);
                }
                while chars
                    .peek()
                    .is_some_and(|c| matches!(c, '>' | '<' | '&' | '|'))
                {
                    chars.next();
                }
                skip_next = true;
            }
            ';' | '&' | '|' | '(' | ')' => {
                end_word(&mut word, &mut in_word, &mut toks, &mut skip_next);
                toks.push(Tok::Sep);
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut toks, &mut skip_next);
    toks
}

/// Words that can start a shell command line without being the command.
const PREFIXES: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "exec", "time", "{", "}", "command",
    "nohup",
];

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

fn is_rehearse(word: &str) -> bool {
    word.rsplit('/').next() == Some("rehearse")
}

/// The `rehearse` command lines in a shell script.
fn rehearse_commands(script: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut flush = |current: &mut Vec<String>| {
        let start = current
            .iter()
            .position(|w| !is_assignment(w) && !PREFIXES.contains(&w.as_str()));
        if let Some(start) = start
            && is_rehearse(&current[start])
        {
            let mut words = vec!["rehearse".to_owned()];
            words.extend(current[start + 1..].iter().cloned());
            commands.push(words);
        }
        current.clear();
    };
    for tok in tokenize(script) {
        match tok {
            Tok::Word(w) => current.push(w),
            Tok::Sep => flush(&mut current),
        }
    }
    flush(&mut current);
    commands
}

// ---------------------------------------------------------------------------------------
// Where scripts live in CI files.

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_shell(word: &str) -> bool {
    matches!(
        word.rsplit('/').next(),
        Some("sh" | "bash" | "dash" | "ash")
    )
}

/// A Kubernetes container (or any mapping with `command:`/`args:` lists).
fn container_commands(map: &serde_json::Map<String, Value>, origin: &str, out: &mut Vec<Found>) {
    let command = map.get("command").map(strings).unwrap_or_default();
    let args = map.get("args").map(strings).unwrap_or_default();
    let push = |words: Vec<String>, out: &mut Vec<Found>| {
        out.push(Found {
            origin: origin.to_owned(),
            words,
        });
    };
    match command.first() {
        Some(first) if is_rehearse(first) => {
            let mut words = vec!["rehearse".to_owned()];
            words.extend(command[1..].iter().chain(&args).map(|s| (*s).to_owned()));
            push(words, out);
        }
        Some(first) if is_shell(first) => {
            // sh -c SCRIPT, with the script in command or as the first of args.
            if let Some(i) = command.iter().position(|w| *w == "-c") {
                let script = command.get(i + 1).or(args.first());
                for words in script.map(|s| rehearse_commands(s)).unwrap_or_default() {
                    push(words, out);
                }
            }
        }
        Some(_) => {}
        None => {
            // No command: the image's entrypoint runs, `rehearse` for the rehearse image.
            let image = map.get("image").and_then(Value::as_str).unwrap_or("");
            if !args.is_empty() && image.contains("rehearse") {
                let mut words = vec!["rehearse".to_owned()];
                words.extend(args.iter().map(|s| (*s).to_owned()));
                push(words, out);
            }
        }
    }
}

/// Every `rehearse` command line in a YAML document.
fn find_commands(v: &Value, origin: &str, out: &mut Vec<Found>) {
    match v {
        Value::Object(map) => {
            if map.get("command").is_some_and(Value::is_array)
                || map.get("args").is_some_and(Value::is_array)
            {
                container_commands(map, origin, out);
            }
            for (key, value) in map {
                let here = if origin.is_empty() {
                    key.clone()
                } else {
                    format!("{origin}.{key}")
                };
                match key.as_str() {
                    // GitHub `run:`, GitLab `script:` and its hooks.
                    "run" | "script" | "before_script" | "after_script" => {
                        for script in strings(value) {
                            for words in rehearse_commands(script) {
                                out.push(Found {
                                    origin: here.clone(),
                                    words,
                                });
                            }
                        }
                    }
                    _ => find_commands(value, &here, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_commands(item, &format!("{origin}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Parses a (possibly multi-document) YAML file and returns its `rehearse` command lines.
fn commands_in_yaml(text: &str) -> Result<Vec<Found>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let origin = if docs.len() > 1 {
            format!("document {}", i + 1)
        } else {
            String::new()
        };
        find_commands(doc, &origin, &mut out);
    }
    Ok(out)
}

fn ci_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ci");
    let mut out = Vec::new();
    walk(&root, &mut out);
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------

#[test]
fn every_ci_file_parses_and_its_rehearse_commands_are_accepted_by_the_cli() {
    let files = ci_files();
    assert!(
        files.len() >= 4,
        "expected the pipelines under ci/, found {files:?}"
    );
    let mut refused = Vec::new();
    let mut checked = 0;
    for file in &files {
        let name = file
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../"))
            .unwrap_or(file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(file).unwrap();
        let found = commands_in_yaml(&text).unwrap_or_else(|e| panic!("{name}: invalid YAML: {e}"));
        assert!(
            !found.is_empty(),
            "{name}: no `rehearse` command line found: the checker would check nothing"
        );
        for f in found {
            checked += 1;
            if let Err(e) = check(&f.words) {
                refused.push(format!(
                    "{name} ({}):\n  {}\n  {}",
                    f.origin,
                    f.words.join(" "),
                    e.trim_end().replace('\n', "\n  ")
                ));
            }
        }
    }
    assert!(
        refused.is_empty(),
        "{} of {checked} rehearse command lines in ci/ are refused by the CLI parser:\n\n{}",
        refused.len(),
        refused.join("\n\n")
    );
}

#[test]
fn the_checker_refuses_a_bogus_flag_and_accepts_a_real_command() {
    let yaml = "jobs:\n  a:\n    steps:\n      - run: |\n          rehearse run --env staging \\\n            --no-such-flag\n      - run: rehearse run --env staging --shard ${{ matrix.shard }}/3\n";
    let found = commands_in_yaml(yaml).unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].origin, "jobs.a.steps[0].run");
    let err = check(&found[0].words).unwrap_err();
    assert!(err.contains("--no-such-flag"), "{err}");
    check(&found[1].words).unwrap();
    // An unknown subcommand and a bad value are refused too.
    assert!(check(&words(&["rehearse", "rehearsal"])).is_err());
    assert!(check(&words(&["rehearse", "run", "--shard", "4/3x"])).is_err());
}

fn words(ws: &[&str]) -> Vec<String> {
    ws.iter().map(|w| (*w).to_owned()).collect()
}

#[test]
fn shell_reader_joins_continuations_removes_quotes_and_substitutes_placeholders() {
    let script = r#"
set +e
mkdir -p "$OUT" && echo "rehearse run --nope"   # a comment: rehearse run --nope
rehearse run --env "$REHEARSE_ENV" --shard ${{ matrix.shard }}/3 \
  --report json="$OUT/run.json" --report 'junit=out/j unit.xml' 2>&1 | tee log.txt
code=0; rehearse run --shard "$CI_NODE_INDEX/$CI_NODE_TOTAL" --tag "${TAG:-demo}" || code=$?
if ./target/release/rehearse validate --env $(cat env.txt); then :; fi
FOO=bar rehearse list > out.txt
cargo install --locked rehearse
"#;
    let found = rehearse_commands(script);
    assert_eq!(
        found,
        vec![
            words(&[
                "rehearse",
                "run",
                "--env",
                "1",
                "--shard",
                "1/3",
                "--report",
                "json=1/run.json",
                "--report",
                "junit=out/j unit.xml"
            ]),
            words(&["rehearse", "run", "--shard", "1/1", "--tag", "1"]),
            words(&["rehearse", "validate", "--env", "1"]),
            words(&["rehearse", "list"]),
        ]
    );
}

#[test]
fn kubernetes_containers_are_read_from_command_and_args() {
    let yaml = r#"
kind: PersistentVolumeClaim
---
spec:
  containers:
    - name: direct
      image: example/rehearse:1
      command: ["rehearse", "run"]
      args: ["--env", "staging"]
    - name: entrypoint
      image: example/rehearse:1
      args: ["validate", "--env", "staging"]
    - name: shell
      image: example/rehearse:1
      command: ["/bin/sh", "-c"]
      args:
        - |
          out="/reports/$(date -u +%F)"
          rehearse run --report json="$out/run.json" &
          wait
"#;
    let found = commands_in_yaml(yaml).unwrap();
    let all: Vec<Vec<String>> = found.iter().map(|f| f.words.clone()).collect();
    assert_eq!(
        all,
        vec![
            words(&["rehearse", "run", "--env", "staging"]),
            words(&["rehearse", "validate", "--env", "staging"]),
            words(&["rehearse", "run", "--report", "json=1/run.json"]),
        ]
    );
    assert!(found[0].origin.starts_with("document 2.spec.containers[0]"));
}

#[test]
fn invalid_yaml_is_reported() {
    assert!(commands_in_yaml("jobs:\n  a: [unclosed\n").is_err());
}

#[test]
fn cli_is_the_real_parser() {
    // Guards the premise of this file: `Cli` is what the binary parses with.
    assert!(Cli::try_parse_from(["rehearse", "run", "--env", "staging"]).is_ok());
}
