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

#[test]
fn a_schema_used_by_many_steps_of_many_files_is_compiled_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("fixtures/schemas")).unwrap();
    std::fs::write(
        dir.path().join("fixtures/schemas/payment.json"),
        r#"{"type": "object", "required": ["id"]}"#,
    )
    .unwrap();
    for f in ["a.yaml", "b.yaml"] {
        std::fs::write(dir.path().join(f), SCENARIO).unwrap();
    }
    let mut env = Environment::new("test");
    env.vars
        .push(("base".into(), TplValue::Json("http://localhost:1".into())));
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
