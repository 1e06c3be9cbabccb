//! Environment files: vars, secrets, timeouts, TLS, clock, approvals, jobs and checks.

use std::path::Path;

use super::compiler::{Compiler, Ctx};
use super::cron::parse_cron;
use super::known::Known;
use super::source::{parse_as, read_source};
use super::templates::compile_value;
use crate::error::{Problem, Problems};
use crate::model::{ApprovalMode, BankDef, ClockKind, EnvironmentFile};
use crate::plan::{Bank, BankAuth, Check, Environment, Job, StatusMatch, Tls};
use crate::span::Spanned;
use crate::template::{Templates, Tpl, TplValue};
use crate::value::{Value, ValueKind};

/// Loads an environment file; its templates are compiled into `templates`.
pub fn load_environment(
    path: &Path,
    name: &str,
    templates: &mut Templates,
) -> Result<Environment, Problems> {
    let source = read_source(path).map_err(|p| Problems(vec![p]))?;
    let file: EnvironmentFile = parse_as(&source)?;
    let mut problems = Problems::default();
    let mut env = Environment::new(name);
    env.path = Some(path.to_owned());
    env.description = file.description;
    let mut known = Known::default();
    // What the vars' templates may call `secret()` with: the declared secrets.
    let mut declares = Environment::new(name);
    declares.secrets = file.secrets.iter().map(|s| s.value.clone()).collect();
    for (k, v) in file.vars.iter() {
        let value = compile_value(v, templates, &mut known, &declares, &mut problems);
        known.push(k.value.clone());
        env.vars.push((k.value.clone(), value));
    }
    for s in &file.secrets {
        if !s
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || s.value.is_empty()
        {
            problems.push(
                Problem::new(
                    format!("`{}` is not a valid secret name", s.value),
                    s.span.as_ref(),
                )
                .with_help("a secret is named like an environment variable: BANK_API_KEY"),
            );
        }
        env.secrets.push(s.value.clone());
        if let Some(span) = &s.span {
            env.secret_spans.push((s.value.clone(), span.clone()));
        }
    }
    if let Some(t) = file.timeouts {
        if let Some(d) = t.request {
            env.request_timeout = d.value.0;
        }
        if let Some(d) = t.poll {
            env.poll_timeout = d.value.0;
        }
    }
    if let Some(tls) = file.tls {
        let dir = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Option<String>, what: &str, problems: &mut Problems| {
            p.as_ref().map(|p| {
                let full = dir.join(p);
                if !full.is_file() {
                    problems.push(
                        Problem::new(format!("{what} `{p}` does not exist"), tls.span.as_ref())
                            .with_help(format!("paths are relative to {}", dir.display())),
                    );
                }
                full
            })
        };
        env.tls = Tls {
            ca_file: resolve(&tls.value.ca_file, "CA file", &mut problems),
            client_cert: resolve(&tls.value.client_cert, "client certificate", &mut problems),
            client_key: resolve(&tls.value.client_key, "client key", &mut problems),
        };
        if env.tls.client_cert.is_some() != env.tls.client_key.is_some() {
            problems.push(
                Problem::new(
                    "mTLS needs both `client_cert` and `client_key`",
                    tls.span.as_ref(),
                )
                .with_help("add the missing one, or remove both"),
            );
        }
    }
    env.protected = file.protected;
    env.retries = file.retries;
    if let Some(c) = &file.clock {
        env.clock = c.value;
    }
    if let Some(a) = &file.approvals {
        env.approvals = a.value.mode.value;
    }
    if env.clock == ClockKind::Virtual && !known.contains("bank_admin") {
        problems.push(
            Problem::new(
                "a virtual clock is driven through the bank's admin API, but no var `bank_admin` is set",
                file.clock.as_ref().and_then(|c| c.span.as_ref()),
            )
            .with_help("add `bank_admin: http://…/__admin` under `vars:`"),
        );
    }
    for j in &file.jobs {
        if let Err(e) = parse_cron(&j.value.cron.value) {
            problems.push(
                Problem::new(
                    format!("invalid cron `{}`: {e}", j.value.cron.value),
                    j.value.cron.span.as_ref(),
                )
                .with_help("6 fields: sec min hour day month weekday, e.g. \"0 */5 * * * *\""),
            );
        }
        let trigger = Value {
            kind: ValueKind::String(j.value.trigger.value.clone()),
            span: j.value.trigger.span.clone(),
        };
        let trigger = match compile_value(&trigger, templates, &mut known, &declares, &mut problems)
        {
            TplValue::Str(t) => t,
            _ => Tpl::literal(j.value.trigger.value.clone()),
        };
        env.jobs.push(Job {
            name: j.value.name.clone(),
            cron: j.value.cron.value.clone(),
            trigger,
        });
    }
    if let Some(bank) = &file.bank {
        env.bank = Some(compile_bank(
            bank,
            path,
            &env.secrets,
            templates,
            &mut known,
            &declares,
            &mut problems,
        ));
    }
    // Checks and the approval request are compiled with the environment's vars known.
    {
        let snapshot = env.clone();
        let mut ctx = Ctx::new(known.clone(), path);
        let mut compiler = Compiler::new(&snapshot, "fixtures", templates);
        let checks: Vec<Check> = file
            .checks
            .iter()
            .filter_map(|c| compiler.check(c, &mut ctx))
            .collect();
        let mut approval_request = None;
        let mut approval_instructions = None;
        if let Some(a) = &file.approvals {
            for v in ["reference", "decision", "note", "amount"] {
                ctx.known.push(v.to_owned());
            }
            if let Some(r) = &a.value.request {
                let request = compiler.request(&r.value, r.span.as_ref(), &mut ctx);
                let mut expect = a
                    .value
                    .expect
                    .as_ref()
                    .map(|e| compiler.expect(&e.value, &mut ctx))
                    .unwrap_or_default();
                if expect.status.is_none() {
                    expect.status = Some(StatusMatch::below_400());
                }
                approval_request = Some((request, expect));
            } else if a.value.mode.value == ApprovalMode::Http {
                ctx.problems.push(
                    Problem::new("`mode: http` needs a `request:` to send to the reviewer API", a.span.as_ref())
                        .with_help("add `request: { method: POST, url: \"{{ bank_sandbox }}/reviews/{{ reference }}/decision\", json: { decision: \"{{ decision }}\" } }`"),
                );
            }
            approval_instructions = a
                .value
                .instructions
                .as_ref()
                .map(|i| compiler.text(i, &mut ctx));
            if let Some(t) = &a.value.timeout {
                env.approval_timeout = t.value.0;
            }
        }
        problems.0.extend(ctx.problems.0);
        env.checks = checks;
        env.approval_request = approval_request;
        env.approval_instructions = approval_instructions;
    }
    if problems.is_empty() {
        Ok(env)
    } else {
        Err(problems)
    }
}

/// `bank:`: the URL compiled as a template, the version's name checked, the versions folder
/// resolved against the file's folder, the credentials' secrets declared in `secrets:`.
fn compile_bank(
    bank: &Spanned<BankDef>,
    path: &Path,
    secrets: &[String],
    templates: &mut Templates,
    known: &mut Known,
    declares: &Environment,
    problems: &mut Problems,
) -> Bank {
    let def = &bank.value;
    let url = Value {
        kind: ValueKind::String(def.url.value.clone()),
        span: def.url.span.clone(),
    };
    let url = match compile_value(&url, templates, known, declares, problems) {
        TplValue::Str(t) => t,
        _ => Tpl::literal(def.url.value.clone()),
    };
    let version = def.api_version.value.trim();
    let digits = version.strip_prefix(['v', 'V']).unwrap_or("");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        problems.push(
            Problem::new(
                format!("`{version}` is not an API version"),
                def.api_version.span.as_ref(),
            )
            .with_help("name a version folder: v1, v2, v3, or one of the team's (`versions:`)"),
        );
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let versions = def.versions.as_ref().map(|v| {
        let full = dir.join(&v.value);
        if !full.is_dir() {
            problems.push(
                Problem::new(
                    format!("the versions folder `{}` does not exist", v.value),
                    v.span.as_ref(),
                )
                .with_help(format!(
                    "give a folder holding v4/, v5/… (or one version folder), relative to {}",
                    dir.display()
                )),
            );
        }
        full
    });
    let mut secret = |name: &Option<Spanned<String>>, what: &str| -> Option<String> {
        let name = name.as_ref()?;
        if !secrets.contains(&name.value) {
            problems.push(
                Problem::new(
                    format!("the bank's {what} is the secret `{}`, which `secrets:` does not list", name.value),
                    name.span.as_ref(),
                )
                .with_help(format!(
                    "add `{}` to `secrets:` (its value comes from the process environment or --env-file)",
                    name.value
                )),
            );
        }
        Some(name.value.clone())
    };
    let auth = match &def.auth {
        None => BankAuth::None,
        Some(a) => {
            let key = secret(&a.value.api_key, "API key");
            let id = secret(&a.value.client_id, "client id");
            let client_secret = secret(&a.value.client_secret, "client secret");
            match (key, id, client_secret) {
                (Some(key), None, None) => BankAuth::ApiKey(key),
                (None, Some(id), Some(secret)) => BankAuth::Client { id, secret },
                _ => {
                    problems.push(
                        Problem::new("`auth` names either `api_key`, or `client_id` and `client_secret`", a.span.as_ref())
                            .with_help("write `auth: { api_key: BANK_API_KEY }` or `auth: { client_id: BANK_CLIENT_ID, client_secret: BANK_CLIENT_SECRET }`"),
                    );
                    BankAuth::None
                }
            }
        }
    };
    let contract = def.contract.as_ref();
    Bank {
        url,
        api_version: version.to_owned(),
        versions,
        owner: def.owner.clone(),
        auth,
        writes: contract.is_some_and(|c| c.writes),
        payment_id: contract.and_then(|c| c.payment_id.clone()),
        span: bank.span.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[derive(Debug)]
    struct NoWorld;
    impl crate::template::Resolve for NoWorld {
        fn secret(&self, _: &str) -> Option<String> {
            None
        }
        fn env(&self, _: &str) -> Option<String> {
            None
        }
        fn now(&self) -> String {
            String::new()
        }
        fn uuid(&self) -> String {
            String::new()
        }
    }

    fn load(text: &str) -> Result<Environment, Problems> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bank-api")).unwrap();
        let path = dir.path().join("sandbox.yaml");
        std::fs::write(&path, text).unwrap();
        let mut templates = Templates::new(Arc::new(NoWorld));
        load_environment(&path, "sandbox", &mut templates)
    }

    #[test]
    fn the_bank_key_compiles_its_url_and_resolves_its_folder() {
        let env = load(
            "vars: { bank: http://b }\nsecrets: [K]\nbank:\n  url: \"{{ bank }}/api\"\n  api_version: v2\n  versions: bank-api\n  owner: bank-integration\n  auth: { api_key: K }\n  contract: { writes: true }\n",
        )
        .unwrap();
        let bank = env.bank.unwrap();
        assert_eq!(bank.api_version, "v2");
        assert_eq!(bank.auth, BankAuth::ApiKey("K".into()));
        assert!(bank.writes);
        assert!(bank.versions.unwrap().ends_with("bank-api"));
        assert_eq!(bank.owner.as_deref(), Some("bank-integration"));
    }

    #[test]
    fn the_bank_key_names_declared_secrets_and_a_version() {
        let problems = load(
            "bank:\n  url: http://b\n  api_version: two\n  versions: nowhere\n  auth: { api_key: K, client_id: C }\n",
        )
        .unwrap_err();
        let text: Vec<String> = problems.iter().map(Problem::one_line).collect();
        let all = text.join("\n");
        assert!(all.contains("`two` is not an API version"), "{all}");
        assert!(
            all.contains("the versions folder `nowhere` does not exist"),
            "{all}"
        );
        assert!(
            all.contains("the secret `K`, which `secrets:` does not list"),
            "{all}"
        );
        assert!(
            all.contains("either `api_key`, or `client_id` and `client_secret`"),
            "{all}"
        );
    }
}
