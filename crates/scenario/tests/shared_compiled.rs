//! What a suite repeats is compiled once (issue #10, memory): a JSON Schema fixture used by
//! many steps of many files is one validator, and each step still checks against it.

mod common;
use common::NoWorld;

use std::sync::Arc;

use rehearse_scenario::{Action, Compiler, Environment, Templates, TplValue};

const SCENARIO: &str = r#"
name: reads a payment
steps:
  - name: first read
    request: { url: "{{ base }}/payments/1" }
    expect: { schema: schemas/payment.json }
  - name: second read
    request: { url: "{{ base }}/payments/1" }
    expect: { schema: schemas/payment.json }
"#;

/// A suite folder holding `files` (path, text), folders made as needed.
fn suite(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// An environment with `base` set.
fn environment() -> Environment {
    let mut env = Environment::new("test");
    env.vars
        .push(("base".into(), TplValue::Json("http://localhost:1".into())));
    env
}

#[test]
fn a_schema_used_by_many_steps_of_many_files_is_compiled_once() {
    let dir = suite(&[
        (
            "fixtures/schemas/payment.json",
            r#"{"type": "object", "required": ["id"]}"#,
        ),
        ("a.yaml", SCENARIO),
        ("b.yaml", SCENARIO),
    ]);
    let env = environment();
    let mut templates = Templates::new(Arc::new(NoWorld));
    let mut compiler = Compiler::new(&env, dir.path().join("fixtures"), &mut templates);

    let scenarios: Vec<_> = ["a.yaml", "b.yaml"]
        .iter()
        .map(|f| compiler.compile_file(&dir.path().join(f)).unwrap())
        .collect();

    let checks: Vec<_> = scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .filter(|s| matches!(s.action, Action::Request(_)))
        .map(|s| s.expect.schema.as_ref().expect("a schema check"))
        .collect();
    assert_eq!(checks.len(), 4);
    for c in &checks[1..] {
        assert!(Arc::ptr_eq(&c.validator, &checks[0].validator));
    }
    // The one validator still tells a good body from a bad one, and each step keeps its
    // own place in its own file.
    assert!(
        checks[0]
            .validator
            .is_valid(&serde_json::json!({"id": "p-1"}))
    );
    assert!(
        !checks[3]
            .validator
            .is_valid(&serde_json::json!({"name": "x"}))
    );
    let places: Vec<String> = checks
        .iter()
        .map(|c| c.span.as_ref().unwrap().to_string())
        .collect();
    assert!(places[0].ends_with("a.yaml:6:23"), "{places:?}");
    assert!(places[3].ends_with("b.yaml:9:23"), "{places:?}");
}

const FRAGMENT: &str = r#"params:
  id: null
steps:
  - name: read it
    request: { url: "{{ base }}/payments/{{ id }}" }
    expect: { status: 200 }
"#;

fn including(id: &str) -> String {
    format!(
        "name: reads payment {id}\nsteps:\n  - include:\n      file: _fragments/read.yaml\n      with: {{ id: \"{id}\" }}\n"
    )
}

#[test]
fn a_fragment_included_by_many_files_is_read_once_and_each_keeps_its_own_params() {
    let dir = suite(&[
        ("_fragments/read.yaml", FRAGMENT),
        ("a.yaml", &including("p-1")),
        ("b.yaml", &including("p-2")),
    ]);
    let env = environment();
    let mut templates = Templates::new(Arc::new(NoWorld));
    let mut compiler =
        Compiler::new(&env, dir.path().join("fixtures"), &mut templates).with_root(dir.path());
    let a = compiler.compile_file(&dir.path().join("a.yaml")).unwrap();
    // Changed after the first read: the suite's copy is the one read at its first include.
    std::fs::write(dir.path().join("_fragments/read.yaml"), "not: [a fragment").unwrap();
    let b = compiler.compile_file(&dir.path().join("b.yaml")).unwrap();

    let read = |s: &rehearse_scenario::Scenario| {
        s.steps
            .iter()
            .find(|st| matches!(st.action, Action::Request(_)))
            .expect("the fragment's request")
            .clone()
    };
    let (ra, rb) = (read(&a), read(&b));
    // One text in memory for both, and each step still points at the fragment's line.
    assert!(Arc::ptr_eq(&ra.span.source, &rb.span.source));
    assert!(
        ra.span.to_string().ends_with("read.yaml:4:5"),
        "{}",
        ra.span
    );
    assert!(
        rb.span.to_string().ends_with("read.yaml:4:5"),
        "{}",
        rb.span
    );
    // Each include binds its own parameter.
    let bound = |s: &rehearse_scenario::Scenario| {
        s.steps
            .iter()
            .find_map(|st| match &st.action {
                Action::Bind(vars) => Some(format!("{:?}", vars)),
                _ => None,
            })
            .expect("the include's parameters")
    };
    assert!(bound(&a).contains("p-1") && !bound(&a).contains("p-2"));
    assert!(bound(&b).contains("p-2"));
}

#[test]
fn a_broken_fragment_is_reported_by_every_file_that_includes_it() {
    let dir = suite(&[
        (
            "_fragments/read.yaml",
            "steps:\n  - name: x\n    request: { url: [not, a, url] }\n",
        ),
        ("a.yaml", &including("p-1")),
        ("b.yaml", &including("p-2")),
    ]);
    let env = Environment::new("test");
    let mut templates = Templates::new(Arc::new(NoWorld));
    let mut compiler =
        Compiler::new(&env, dir.path().join("fixtures"), &mut templates).with_root(dir.path());
    for f in ["a.yaml", "b.yaml"] {
        let problems = compiler
            .compile_file(&dir.path().join(f))
            .expect_err("the fragment is broken");
        assert!(
            problems.0.iter().any(|p| p
                .span
                .as_ref()
                .is_some_and(|s| s.to_string().contains("read.yaml:3"))),
            "{f}: {:?}",
            problems
                .0
                .iter()
                .map(|p| (&p.message, p.span.as_ref().map(ToString::to_string)))
                .collect::<Vec<_>>()
        );
    }
}
