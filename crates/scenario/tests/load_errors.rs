//! Every malformed file under `tests/malformed/` is rejected before any request, with a
//! message that names `file:line:col`, shows the line and says what to do.

mod common;
use common::NoWorld;

use std::path::Path;
use std::sync::Arc;

use rehearse_scenario::{Compiler, Environment, Templates, TplValue, render_problem};

fn problems_of(file: &str) -> String {
    let mut env = Environment::new("test");
    env.vars
        .push(("base".into(), TplValue::Json("http://localhost:1".into())));
    env.vars
        .push(("host".into(), TplValue::Json("example.com".into())));
    env.secrets.push("API_KEY".into());
    let mut templates = Templates::new(Arc::new(NoWorld));
    let mut compiler = Compiler::new(&env, "tests/fixtures", &mut templates);
    let path = Path::new("tests/malformed").join(file);
    let problems = compiler
        .compile_file(&path)
        .expect_err("a malformed file must be rejected");
    problems
        .iter()
        .map(|p| {
            assert!(
                p.span.is_some(),
                "every load error names file:line:col, but `{}` has no position",
                p.message
            );
            // Fixture folders are shown absolute: keep the snapshot machine-independent
            // (before rendering, which wraps lines by their length).
            let here = env!("CARGO_MANIFEST_DIR");
            let mut p = p.clone();
            p.message = p.message.replace(here, "[crate]");
            p.help = p.help.map(|h| h.replace(here, "[crate]"));
            render_problem(&p, false)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

macro_rules! case {
    ($name:ident) => {
        #[test]
        fn $name() {
            let out = problems_of(concat!(stringify!($name), ".yaml"));
            insta::assert_snapshot!(out);
        }
    };
}

case!(unknown_top_key);
case!(unknown_step_key);
case!(yaml_syntax);
case!(bad_jsonpath);
case!(jsonpath_without_dollar);
case!(bad_regex);
case!(used_before_capture);
case!(undefined_variable);
case!(unknown_fixture);
case!(duplicate_step);
case!(include_cycle);
case!(unknown_matcher);
case!(missing_url);
case!(two_actions);
case!(bad_status);
case!(bad_duration);
case!(unknown_method);
case!(method_not_a_token);
case!(unknown_filter);
case!(auth_with_authorization_header);
case!(multipart_missing_file);
case!(multipart_with_content_type);
case!(undeclared_secret);
case!(wrong_type);
case!(empty);
case!(capture_group);
case!(unknown_type);
case!(include_missing_param);
case!(advance_clock_real_time);
case!(approve_without_back_office);
case!(duplicate_key);
case!(not_utf8);
case!(lone_cr);
case!(url_without_scheme);
case!(yaml11_boolean);
case!(four_type_errors);
case!(capture_secret_word);
// Regression: `timeout: 500000000000y` passed validation, then panicked the runner
// ("overflow when adding duration to instant").
case!(duration_too_long);
case!(zero_timeout);
// Issue #10: fixtures and fragments stay in the suite; templates and JSONPaths are bounded
// before their parsers, which recurse.
case!(fixture_outside);
case!(include_outside);
case!(template_too_large);
case!(jsonpath_too_deep);

#[test]
fn every_malformed_file_has_a_test() {
    let this = include_str!("load_errors.rs");
    for entry in std::fs::read_dir("tests/malformed").unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".yaml") {
            assert!(
                this.contains(&format!("case!({stem});")),
                "no case for {name}"
            );
        }
    }
}
