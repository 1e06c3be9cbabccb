//! Pre-flight checks (`requires:` of scenarios, `checks:` of environments).

use std::time::Duration;

use super::compiler::{Compiler, Ctx};
use super::expect::json_path;
use crate::error::{Problem, Problems};
use crate::model::CheckDef;
use crate::plan::{Check, CheckKind};
use crate::span::{SourceFile, Span, Spanned};

impl Compiler<'_> {
    /// Compiles a pre-flight check.
    pub(super) fn check(&mut self, def: &Spanned<CheckDef>, ctx: &mut Ctx<'_>) -> Option<Check> {
        let c = &def.value;
        let span = def
            .span
            .clone()
            .or_else(|| c.name.span.clone())
            .unwrap_or_else(|| Span::file_start(&SourceFile::new(ctx.file, String::new())));
        let kinds = [
            c.request.is_some(),
            c.job_heartbeat.is_some(),
            c.version.is_some(),
            c.secret_present.is_some(),
            c.reachable.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            ctx.problems.push(
                Problem::new(
                    format!("check `{}` needs exactly one of `request`, `job_heartbeat`, `version`, `secret_present`, `reachable`", c.name.value),
                    Some(&span),
                )
                .with_help("split it into several checks"),
            );
            return None;
        }
        if c.expect.is_some() && c.request.is_none() {
            ctx.problems.push(
                Problem::new("`expect` only goes with a `request` check", Some(&span))
                    .with_help("move `expect` next to the `request`"),
            );
        }
        let path_or = |p: &Option<Spanned<String>>, default: &str, problems: &mut Problems| {
            let text = p.as_ref().map_or_else(
                || Spanned::new(default.to_owned()),
                |p| Spanned {
                    value: p.value.clone(),
                    span: p.span.clone(),
                },
            );
            json_path(&text, problems).map(|j| (j, text.value))
        };
        let kind = if let Some(r) = &c.request {
            let request = self.request(&r.value, r.span.as_ref(), ctx);
            let expect = c
                .expect
                .as_ref()
                .map(|e| self.expect(&e.value, ctx))
                .unwrap_or_default();
            CheckKind::Request {
                request: Box::new(request),
                expect,
            }
        } else if let Some(h) = &c.job_heartbeat {
            let url = self.text(&h.value.url, ctx);
            let (path, path_text) = path_or(&h.value.path, "$.last_success", &mut ctx.problems)?;
            CheckKind::Heartbeat {
                url,
                path,
                path_text,
                max_age: h.value.max_age.value.0,
            }
        } else if let Some(v) = &c.version {
            let url = self.text(&v.value.url, ctx);
            let (path, path_text) = path_or(&v.value.path, "$.version", &mut ctx.problems)?;
            let equals = v.value.equals.as_ref().map(|e| self.text(e, ctx));
            CheckKind::Version {
                url,
                path,
                path_text,
                equals,
            }
        } else if let Some(sp) = &c.secret_present {
            if !self.env.secrets.contains(&sp.value) {
                ctx.problems.push(
                    Problem::new(
                        format!(
                            "secret `{}` is not declared by environment `{}`",
                            sp.value, self.env.name
                        ),
                        sp.span.as_ref().or(Some(&span)),
                    )
                    .with_help(format!(
                        "add `{}` to `secrets:` of the environment file",
                        sp.value
                    )),
                );
            }
            CheckKind::SecretPresent(sp.value.clone())
        } else if let Some(r) = &c.reachable {
            let target = self.text(&r.value.target, ctx);
            let timeout = r
                .value
                .timeout
                .as_ref()
                .map_or(Duration::from_secs(5), |t| t.value.0);
            CheckKind::Reachable { target, timeout }
        } else {
            return None;
        };
        let ticket = c.ticket.as_ref().and_then(|t| {
            let ok = ticket_url(&t.value);
            if !ok {
                ctx.problems.push(
                    Problem::new(
                        format!("ticket `{}` is not an http or https URL", t.value),
                        t.span.as_ref().or(Some(&span)),
                    )
                    .with_help(
                        "write the ticket's address, e.g. https://tracker.example/DEVOPS-42",
                    ),
                );
            }
            ok.then(|| t.value.clone())
        });
        Some(Check {
            name: c.name.value.clone(),
            owner: c.owner.clone(),
            hint: c.hint.clone(),
            ticket,
            span,
            kind,
        })
    }
}

/// Whether `text` is an absolute http(s) URL with a host and no whitespace (a ticket link).
fn ticket_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !text.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

#[cfg(test)]
mod tests {
    use super::ticket_url;

    #[test]
    fn a_ticket_is_an_http_or_https_url_with_a_host() {
        assert!(ticket_url("https://tracker.example/DEVOPS-42"));
        assert!(ticket_url("http://jira.local:8080/browse/X-1"));
        assert!(!ticket_url("DEVOPS-42"));
        assert!(!ticket_url("ftp://x/y"));
        assert!(!ticket_url("https:///path"));
        assert!(!ticket_url("https://a b/c"));
        assert!(!ticket_url("javascript:alert(1)"));
    }
}
