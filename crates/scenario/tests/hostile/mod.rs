//! Hostile inputs for the loader, shared by `crates/scenario/tests/no_crash.rs` (in
//! process) and the black-box `tests/hostile_input.rs` (the real binary): the crash corpus
//! kept in `crates/scenario/tests/corpus/`, each file saying on its first line what a user
//! must see, and the large inputs of issue #10, generated here rather than committed (a
//! 10,000-deep include chain is 10,000 files).

#![allow(dead_code, reason = "each test binary uses a part")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One input: a suite folder holding `scenarios/s.yaml` (and what it names).
pub struct Case {
    pub name: String,
    pub root: PathBuf,
    pub scenario: PathBuf,
    /// `None`: the file is valid; else a fragment of the first problem's message.
    pub expect: Option<String>,
}

/// The corpus folder, from the scenario crate's manifest folder.
pub fn corpus_dir(scenario_crate: &Path) -> PathBuf {
    scenario_crate.join("tests/corpus")
}

/// What a corpus file expects: its first line is `# expect: valid` or `# expect: TEXT`.
fn expectation(text: &[u8]) -> Option<String> {
    let first = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let want = first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("a corpus file starts with `# expect: …`, not {first:?}"))
        .trim();
    (want != "valid").then(|| want.to_owned())
}

/// Writes every case under `work` and returns them, corpus files first.
pub fn cases(corpus: &Path, work: &Path) -> Vec<Case> {
    // What the corpus files reach for outside their suite.
    std::fs::write(work.join("outside.yaml"), "steps:\n  - wait: 1s\n").unwrap();
    std::fs::write(work.join("secret.txt"), "outside-the-suite\n").unwrap();
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read(&f).unwrap();
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let expect = expectation(&text);
        out.push(suite(work, &name, &[("scenarios/s.yaml", text)], expect));
    }
    for (name, files, expect) in generated() {
        out.push(suite(work, &name, &files, expect));
    }
    #[cfg(unix)]
    out.extend(symlinks(work));
    out
}

fn suite(work: &Path, name: &str, files: &[(&str, Vec<u8>)], expect: Option<String>) -> Case {
    let root = work.join(name);
    std::fs::create_dir_all(root.join("fixtures")).unwrap();
    std::fs::write(root.join("fixtures/body.json"), "{\"a\": 1}").unwrap();
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    Case {
        name: name.to_owned(),
        scenario: root.join("scenarios/s.yaml"),
        root,
        expect,
    }
}

type Generated = (String, Vec<(&'static str, Vec<u8>)>, Option<String>);

const STEP: &str = "  - request: { url: 'http://localhost:1/x' }\n";

fn one(text: String) -> Vec<(&'static str, Vec<u8>)> {
    vec![("scenarios/s.yaml", text.into_bytes())]
}

/// The inputs of issue #10 that are too large to commit.
fn generated() -> Vec<Generated> {
    let mut out: Vec<Generated> = Vec::new();
    // A problem at column 70,000 panicked miette (exit 101).
    out.push((
        "long_line_70000".into(),
        one(format!(
            "name: a\nsteps:\n  - request: {{ url: 'http://localhost:1/{}', bogus: 1 }}\n",
            "x".repeat(70_000)
        )),
        Some("unknown key `bogus`".into()),
    ));
    // Found by the mutations: a template syntax error past column 65,535 overflowed
    // minijinja's 16-bit column (a panic in a debug build).
    out.push((
        "template_line_70000".into(),
        one(format!(
            "name: a\nsteps:\n  - request: {{ url: \"{{{{ b{} + \" }}\n",
            "x".repeat(70_000)
        )),
        Some("a line of a template is at most 65535 characters".into()),
    ));
    // 5,000 nested `!(` in a JSONPath overflowed the stack.
    out.push((
        "jsonpath_nested_5000".into(),
        one(format!(
            "name: a\nsteps:\n  - request: {{ url: 'http://localhost:1/x' }}\n    capture: {{ x: '$[?{}@.a{}]' }}\n",
            "!(".repeat(5000),
            ")".repeat(5000)
        )),
        Some("a JSONPath is at most 4096 bytes".into()),
    ));
    // A template of 50,000 terms overflowed the stack.
    out.push((
        "template_terms_50000".into(),
        one(format!(
            "name: a\nsteps:\n  - request:\n      url: |-\n        http://localhost:1/{{{{ {} }}}}\n",
            vec!["1"; 50_000].join(" +\n        ")
        )),
        Some("more than 200 operators and calls".into()),
    ));
    // An include chain 10,000 deep overflowed the stack (and 3,000 took 9.6 s).
    let mut chain = vec![(
        "scenarios/s.yaml",
        "name: a\nsteps:\n  - include: { file: _f/f0.yaml }\n"
            .to_owned()
            .into_bytes(),
    )];
    for i in 0..10_000 {
        let name: &'static str = Box::leak(format!("scenarios/_f/f{i}.yaml").into_boxed_str());
        chain.push((
            name,
            format!("steps:\n  - include: {{ file: f{}.yaml }}\n", i + 1).into_bytes(),
        ));
    }
    out.push((
        "include_chain_10000".into(),
        chain,
        Some("fragments are included more than 32 deep".into()),
    ));
    // 22 fragments each including the next twice: 2^21 steps, 3 GB, an abort.
    let mut fan = vec![(
        "scenarios/s.yaml",
        "name: a\nsteps:\n  - include: { file: _f/f0.yaml }\n"
            .to_owned()
            .into_bytes(),
    )];
    for i in 0..22 {
        let name: &'static str = Box::leak(format!("scenarios/_f/f{i}.yaml").into_boxed_str());
        let next = i + 1;
        fan.push((
            name,
            format!(
                "steps:\n  - name: one\n    include: {{ file: f{next}.yaml }}\n  - name: two\n    include: {{ file: f{next}.yaml }}\n"
            )
            .into_bytes(),
        ));
    }
    fan.push((
        "scenarios/_f/f22.yaml",
        format!("steps:\n{STEP}").into_bytes(),
    ));
    out.push((
        "include_fanout_22".into(),
        fan,
        Some("the scenario expands to more than 100000 steps".into()),
    ));
    // `one_of` with 200,000 items took more than 10 s (columns counted from the line start).
    let items: Vec<String> = (0..200_000).map(|i| i.to_string()).collect();
    out.push((
        "one_of_200000".into(),
        one(format!(
            "name: a\nsteps:\n  - request: {{ url: 'http://localhost:1/x' }}\n    expect: {{ json: {{ '$.a': {{ one_of: [{}] }} }} }}\n",
            items.join(", ")
        )),
        None,
    ));
    // 50,000 chained vars took more than 10 s (known variables were a list).
    let mut vars = String::from("name: a\nvars:\n  v0: x\n");
    for i in 1..50_000 {
        let _ = writeln!(vars, "  v{i}: '{{{{ v{} }}}}'", i - 1);
    }
    vars.push_str("steps:\n  - request: { url: 'http://localhost:1/{{ v49999 }}' }\n");
    out.push(("vars_chain_50000".into(), one(vars), None));
    out
}

/// Symbolic links out of the suite: a fixture and a fragment.
#[cfg(unix)]
fn symlinks(work: &Path) -> Vec<Case> {
    use std::os::unix::fs::symlink;
    let fixture = suite(
        work,
        "symlink_fixture",
        &[(
            "scenarios/s.yaml",
            b"name: a\nsteps:\n  - request: { method: POST, url: 'http://localhost:1/x', body: \"{{ fixture('link.txt') }}\" }\n".to_vec(),
        )],
        Some("fixture path `link.txt` leaves the fixtures folder".into()),
    );
    symlink(
        work.join("secret.txt"),
        fixture.root.join("fixtures/link.txt"),
    )
    .unwrap();
    let file_body = suite(
        work,
        "symlink_file_body",
        &[(
            "scenarios/s.yaml",
            b"name: a\nsteps:\n  - request: { method: POST, url: 'http://localhost:1/x', body: { file: link.txt } }\n".to_vec(),
        )],
        Some("fixture path `link.txt` leaves the fixtures folder".into()),
    );
    symlink(
        work.join("secret.txt"),
        file_body.root.join("fixtures/link.txt"),
    )
    .unwrap();
    let fragment = suite(
        work,
        "symlink_fragment",
        &[(
            "scenarios/s.yaml",
            b"name: a\nsteps:\n  - include: { file: _link.yaml }\n".to_vec(),
        )],
        Some("fragment `_link.yaml` is outside the suite".into()),
    );
    symlink(
        work.join("outside.yaml"),
        fragment.root.join("scenarios/_link.yaml"),
    )
    .unwrap();
    vec![fixture, file_body, fragment]
}
