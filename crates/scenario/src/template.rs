//! Templating with minijinja: `{{ var }}`, captures, `secret('NAME')`, `env('NAME')`,
//! `uuid()`, `now()`, `fixture('path')`, and filters (`| b64encode`, see [`crate::filters`]).
//!
//! Templates are compiled once, at validation; a run only renders them. An undefined
//! variable is an error, never an empty string. A string that is exactly one
//! `{{ expression }}` keeps the type of its value, so a captured number stays a number in
//! a JSON body.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, RwLock};

use minijinja::value::{Object, Value as JValue};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value as Json;

use crate::span::Span;

/// What templates may ask of the world: secrets, process environment variables, time and
/// fresh ids. The runner provides it; the scenario crate itself reads no clock.
pub trait Resolve: Send + Sync + fmt::Debug {
    /// The value of a secret the environment declares, if set.
    fn secret(&self, name: &str) -> Option<String>;
    /// A process environment variable.
    fn env(&self, name: &str) -> Option<String>;
    /// The current time, RFC 3339.
    fn now(&self) -> String;
    /// A fresh UUID.
    fn uuid(&self) -> String;
}

/// Variables in scope while rendering: environment vars, scenario vars, captures.
pub type Vars = Arc<HashMap<String, Json>>;

/// The work one render may do, in minijinja's fuel: about one per instruction run and one
/// per 64 bytes of text or data made (minijinja's `set_fuel`). Far more than any request
/// needs (a loop over a 10,000-item fixture takes some 200,000), and it ends a runaway
/// loop — `{% for %}` nested nine deep, 10⁹ turns — in about a second instead of minutes,
/// bounding its memory too (some 640 MB at most).
pub const FUEL: u64 = 10_000_000;

/// Functions templates can call. Names a template uses that are not variables.
pub const FUNCTIONS: &[&str] = &["secret", "env", "uuid", "now", "fixture"];

/// A compiled piece of text that may hold templates.
#[derive(Clone, Debug)]
pub struct Tpl {
    /// What every template of the same text shares (see [`Templates::compile`]).
    core: Arc<Core>,
    /// Where it was written.
    pub span: Option<Span>,
}

/// The part of a template that depends only on its text: one per distinct text in a
/// suite. A fragment included by 5,000 scenarios, or a URL written in 1,000 steps, has one
/// `Core`; each template holding it is a pointer and a span (32 bytes, against 128 and some
/// 300 on the heap when each had its own copies: issue #10).
#[derive(Debug)]
struct Core {
    kind: TplKind,
    /// The text as written.
    source: String,
    /// The variables it reads, sorted.
    vars: Vec<String>,
}

/// A [`Core`] in the table of texts compiled, found by its text.
#[derive(Debug)]
struct ByText(Arc<Core>);

impl std::borrow::Borrow<str> for ByText {
    fn borrow(&self) -> &str {
        &self.0.source
    }
}

impl std::hash::Hash for ByText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As `str` hashes: `Borrow<str>` lookups must find it.
        self.0.source.as_str().hash(state);
    }
}

impl PartialEq for ByText {
    fn eq(&self, other: &Self) -> bool {
        self.0.source == other.0.source
    }
}

impl Eq for ByText {}

#[derive(Clone, Debug)]
enum TplKind {
    Literal,
    /// A text template, and its pieces when it is only text and `{{ name }}`s.
    Text(String, Option<Vec<Piece>>),
    /// A whole-string expression, and the variable when it is just `{{ name }}`.
    Typed(String, Option<String>),
}

/// A piece of a simple text template, rendered without minijinja.
#[derive(Clone, Debug)]
enum Piece {
    Text(String),
    Var(String),
}

impl Tpl {
    /// A literal that needs no rendering.
    pub fn literal(text: impl Into<String>) -> Self {
        Self {
            core: Arc::new(Core {
                kind: TplKind::Literal,
                source: text.into(),
                vars: Vec::new(),
            }),
            span: None,
        }
    }

    /// True when the text holds no template.
    pub fn is_literal(&self) -> bool {
        matches!(self.core.kind, TplKind::Literal)
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.core.source
    }

    /// The variables it reads, sorted.
    pub fn vars(&self) -> &[String] {
        &self.core.vars
    }

    fn kind(&self) -> &TplKind {
        &self.core.kind
    }
}

/// A YAML value whose strings are templates, ready to render to JSON.
#[derive(Clone, Debug)]
pub enum TplValue {
    /// A value with no template in it.
    Json(Json),
    /// A string template.
    Str(Tpl),
    /// A list holding templates.
    Array(Vec<TplValue>),
    /// A mapping holding templates.
    Object(Vec<(String, TplValue)>),
}

/// Failed to render a template.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RenderError {
    /// What went wrong.
    pub message: String,
    /// Where the template was written.
    pub span: Option<Span>,
    /// Variables the template reads that are not defined.
    pub missing: Vec<String>,
}

/// The template engine of a plan: every template of the loaded scenarios, compiled.
pub struct Templates {
    env: Environment<'static>,
    next: usize,
    /// Compiled templates by source text: a suite repeats the same texts (fragments,
    /// `{{ platform }}/payments/{{ payment_id }}`), and each minijinja template costs a few
    /// kilobytes (its instruction buffer starts at 256 instructions), which made a 5,000-file
    /// run hold hundreds of megabytes of identical templates (issue #10). Literals are
    /// here too, so that every `Tpl` of one text shares one [`Core`].
    by_source: std::collections::HashSet<ByText>,
    filters: crate::filters::Known,
    fixtures: Arc<RwLock<BTreeMap<String, Json>>>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates")
            .field("count", &self.next)
            .finish()
    }
}

impl Templates {
    /// An engine whose functions ask `resolver`; fixtures are added as validation reads
    /// them.
    pub fn new(resolver: Arc<dyn Resolve>) -> Self {
        let fixtures: Arc<RwLock<BTreeMap<String, Json>>> = Arc::default();
        let fx = Arc::clone(&fixtures);
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_fuel(Some(FUEL));
        crate::filters::register(&mut env);
        let r = Arc::clone(&resolver);
        env.add_function("secret", move |name: String| {
            r.secret(&name).ok_or_else(|| {
                minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!("secret `{name}` is not set; export it or put it in the --env-file"),
                )
            })
        });
        let r = Arc::clone(&resolver);
        env.add_function("env", move |name: String, default: Option<String>| {
            r.env(&name).or(default).ok_or_else(|| {
                minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!("environment variable `{name}` is not set; export it or give env('{name}', 'default')"),
                )
            })
        });
        let r = Arc::clone(&resolver);
        env.add_function("uuid", move || r.uuid());
        let r = resolver;
        env.add_function("now", move || r.now());
        env.add_function("fixture", move |path: String| {
            let map = fx.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            map.get(&path).map(to_jinja).ok_or_else(|| {
                minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!("unknown fixture `{path}`"),
                )
            })
        });
        Self {
            env,
            next: 0,
            by_source: std::collections::HashSet::new(),
            filters: crate::filters::Known::default(),
            fixtures,
        }
    }

    /// Makes a fixture available to `fixture('path')`.
    pub fn add_fixture(&self, path: &str, value: Json) {
        self.fixtures
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(path.to_owned(), value);
    }

    /// The filters `text` names that do not exist (`{{ x | b64encdoe }}`), in order.
    pub fn unknown_filters(&mut self, text: &str) -> Vec<String> {
        if !text.contains('|') {
            return Vec::new();
        }
        crate::filters::filter_names(text)
            .into_iter()
            .filter(|name| !self.filters.exists(&self.env, name))
            .collect()
    }

    /// Compiles text. Returns the template and the names of the variables it reads. A text
    /// compiled before is not compiled again: the two templates share the compiled form.
    pub fn compile(
        &mut self,
        text: &str,
        span: Option<&Span>,
    ) -> Result<(Tpl, Vec<String>), String> {
        if let Some(ByText(core)) = self.by_source.get(text) {
            return Ok((
                Tpl {
                    core: Arc::clone(core),
                    span: span.cloned(),
                },
                core.vars.clone(),
            ));
        }
        if !text.contains("{{") && !text.contains("{%") {
            let tpl = Tpl {
                core: Arc::new(Core {
                    kind: TplKind::Literal,
                    source: text.to_owned(),
                    vars: Vec::new(),
                }),
                span: span.cloned(),
            };
            self.by_source.insert(ByText(Arc::clone(&tpl.core)));
            return Ok((tpl, Vec::new()));
        }
        // minijinja's parser and compiler recurse: bound the expressions first.
        crate::bounds::check_template(text)?;
        let name = format!("t{}", self.next);
        self.next += 1;
        let (kind, source) = match single_expression(text) {
            Some(expr) => (
                TplKind::Typed(name.clone(), is_variable(expr).then(|| expr.to_owned())),
                format!("{{{{ ({expr}) | tojson }}}}"),
            ),
            None => (TplKind::Text(name.clone(), pieces(text)), text.to_owned()),
        };
        self.env
            .add_template_owned(name.clone(), source)
            .map_err(|e| template_error_message(&e))?;
        let tmpl = self
            .env
            .get_template(&name)
            .map_err(|e| template_error_message(&e))?;
        let mut vars: Vec<String> = tmpl
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !FUNCTIONS.contains(&v.as_str()))
            .collect();
        vars.sort();
        let core = Arc::new(Core {
            kind,
            source: text.to_owned(),
            vars: vars.clone(),
        });
        self.by_source.insert(ByText(Arc::clone(&core)));
        Ok((
            Tpl {
                core,
                span: span.cloned(),
            },
            vars,
        ))
    }

    /// Renders a template to text.
    pub fn render_string(&self, tpl: &Tpl, vars: &Vars) -> Result<String, RenderError> {
        match tpl.kind() {
            TplKind::Literal => Ok(tpl.source().to_owned()),
            TplKind::Text(name, pieces) => {
                match pieces.as_deref().and_then(|p| render_pieces(p, vars)) {
                    Some(text) => Ok(text),
                    None => self.render_named(name, tpl, vars),
                }
            }
            TplKind::Typed(..) => match self.render_json(tpl, vars)? {
                Json::String(s) => Ok(s),
                other => Ok(other.to_string()),
            },
        }
    }

    /// Renders a template to JSON: a whole-string expression keeps its type.
    pub fn render_json(&self, tpl: &Tpl, vars: &Vars) -> Result<Json, RenderError> {
        match tpl.kind() {
            TplKind::Literal => Ok(Json::String(tpl.source().to_owned())),
            TplKind::Text(..) => self.render_string(tpl, vars).map(Json::String),
            // `tojson` and back gives the variable's value itself.
            TplKind::Typed(_, Some(var)) if vars.contains_key(var) => Ok(vars[var].clone()),
            TplKind::Typed(name, _) => {
                let text = self.render_named(name, tpl, vars)?;
                serde_json::from_str(&text).map_err(|e| RenderError {
                    message: format!("`{}` did not give a JSON value: {e}", tpl.source()),
                    span: tpl.span.clone(),
                    missing: Vec::new(),
                })
            }
        }
    }

    /// Renders a value, keeping the types of whole-string expressions.
    pub fn render_value(&self, value: &TplValue, vars: &Vars) -> Result<Json, RenderError> {
        Ok(match value {
            TplValue::Json(j) => j.clone(),
            TplValue::Str(t) => self.render_json(t, vars)?,
            TplValue::Array(items) => Json::Array(
                items
                    .iter()
                    .map(|v| self.render_value(v, vars))
                    .collect::<Result<_, _>>()?,
            ),
            TplValue::Object(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_value(v, vars)?)))
                    .collect::<Result<_, RenderError>>()?,
            ),
        })
    }

    fn render_named(&self, name: &str, tpl: &Tpl, vars: &Vars) -> Result<String, RenderError> {
        let ctx = JValue::from_object(Scope(Arc::clone(vars)));
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| {
                let missing: Vec<String> = tpl
                    .vars()
                    .iter()
                    .filter(|v| !vars.contains_key(*v))
                    .cloned()
                    .collect();
                let message = if e.kind() == ErrorKind::OutOfFuel {
                    format!(
                        "template `{}` used more than {} steps (a loop too large?)",
                        crate::excerpt(tpl.source(), 60),
                        thousands(FUEL)
                    )
                } else if e.kind() == ErrorKind::UndefinedError && !missing.is_empty() {
                    format!(
                        "variable{} {} not defined: it is captured by a step that did not run or did not capture it",
                        if missing.len() == 1 { "" } else { "s" },
                        missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                    )
                } else {
                    format!("failed to render `{}`: {}", tpl.source(), template_error_message(&e))
                };
                RenderError {
                    message,
                    span: tpl.span.clone(),
                    missing,
                }
            })
    }
}

/// `10000000` → `10,000,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// True for an expression that is just a variable's name (not a literal such as `true`).
fn is_variable(expr: &str) -> bool {
    let mut chars = expr.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            expr,
            "true" | "false" | "none" | "True" | "False" | "None" | "loop" | "self"
        )
        && !FUNCTIONS.contains(&expr)
}

/// The pieces of a text that is only literal text and `{{ name }}`s, which render
/// without minijinja; `None` for anything else (blocks, comments, filters, a trailing
/// newline, which minijinja drops).
fn pieces(text: &str) -> Option<Vec<Piece>> {
    if text.contains("{%") || text.contains("{#") || text.ends_with('\n') {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let (before, after) = rest.split_at(open);
        let close = after.find("}}")?;
        let expr = after[2..close].trim();
        if before.contains("}}") || !is_variable(expr) || after[2..close].starts_with('-') {
            return None;
        }
        if !before.is_empty() {
            out.push(Piece::Text(before.to_owned()));
        }
        out.push(Piece::Var(expr.to_owned()));
        rest = &after[close + 2..];
    }
    if rest.contains("}}") {
        return None;
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_owned()));
    }
    Some(out)
}

/// Renders simple pieces as minijinja would, when every variable is a string or an
/// integer; `None` otherwise (minijinja renders it, or reports the error).
fn render_pieces(pieces: &[Piece], vars: &Vars) -> Option<String> {
    use std::fmt::Write as _;
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(name) => match vars.get(name)? {
                Json::String(s) => out.push_str(s),
                // The digits as written (`1.50` stays `1.50`, a 30-digit id stays whole),
                // where minijinja would go through a float.
                Json::Number(n) => {
                    let _ = write!(out, "{n}");
                }
                _ => return None,
            },
        }
    }
    Some(out)
}

/// `{{ expr }}` and nothing else → `expr`.
fn single_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") {
        return None;
    }
    Some(inner.trim())
}

fn template_error_message(e: &minijinja::Error) -> String {
    let mut msg = match e.kind() {
        ErrorKind::UndefinedError => "a variable is not defined".to_owned(),
        _ => e
            .detail()
            .map_or_else(|| e.kind().to_string(), str::to_owned),
    };
    if let Some(src) = std::error::Error::source(e) {
        msg.push_str(&format!(": {src}"));
    }
    msg
}

#[derive(Debug)]
struct Scope(Vars);

impl Object for Scope {
    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        self.0.get(key.as_str()?).map(to_jinja)
    }
}

/// A JSON value as minijinja sees it. With serde_json's `arbitrary_precision` a `Number`
/// serialises as a private struct, which minijinja would show as a mapping; numbers go in
/// as integers (up to 128 bits) or, beyond that and for decimals, as floats — only
/// arithmetic and filters see those; `{{ n }}` alone and text with `{{ n }}` keep the
/// digits exactly (see `render_json` and `render_pieces`).
pub(crate) fn to_jinja(v: &Json) -> JValue {
    JValue::from(minijinja::value::Serde(ForJinja(v)))
}

struct ForJinja<'a>(&'a Json);

impl serde::Serialize for ForJinja<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Json::Number(n) => {
                if let Some(i) = n.as_i64() {
                    s.serialize_i64(i)
                } else if let Some(u) = n.as_u64() {
                    s.serialize_u64(u)
                } else if let Ok(i) = n.as_str().parse::<i128>() {
                    s.serialize_i128(i)
                } else {
                    s.serialize_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(&ForJinja(i))?;
                }
                seq.end()
            }
            Json::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    map.serialize_entry(k, &ForJinja(v))?;
                }
                map.end()
            }
            other => other.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn templates_of_one_text_share_their_core_and_keep_their_own_spans() {
        let mut t = engine();
        let file = crate::span::SourceFile::new("s.yaml", "a: x\nb: x\n");
        let here = crate::span::Span::file_start(&file);
        let (a, _) = t.compile("{{ base }}/p/{{ id }}", None).unwrap();
        let (b, vars) = t.compile("{{ base }}/p/{{ id }}", Some(&here)).unwrap();
        assert!(Arc::ptr_eq(&a.core, &b.core));
        assert_eq!(vars, ["base", "id"]);
        assert!(a.span.is_none() && b.span.is_some());
        let (l1, _) = t.compile("EUR", None).unwrap();
        let (l2, _) = t.compile("EUR", None).unwrap();
        assert!(Arc::ptr_eq(&l1.core, &l2.core) && l1.is_literal());
        let (other, _) = t.compile("{{ base }}/q", None).unwrap();
        assert!(!Arc::ptr_eq(&a.core, &other.core));
        assert_eq!(std::mem::size_of::<Tpl>(), 32);
    }
    use super::*;

    #[derive(Debug)]
    struct R;
    impl Resolve for R {
        fn secret(&self, name: &str) -> Option<String> {
            (name == "API_KEY").then(|| "s3cr3t".to_owned())
        }
        fn env(&self, _: &str) -> Option<String> {
            None
        }
        fn now(&self) -> String {
            "2026-01-01T00:00:00Z".to_owned()
        }
        fn uuid(&self) -> String {
            "00000000-0000-4000-8000-000000000000".to_owned()
        }
    }

    fn engine() -> Templates {
        let t = Templates::new(Arc::new(R));
        t.add_fixture("a.json", serde_json::json!({"name": "acme"}));
        t
    }

    fn vars() -> Vars {
        let mut v = HashMap::new();
        v.insert("n".to_owned(), serde_json::json!(42));
        v.insert("base".to_owned(), serde_json::json!("http://x"));
        Arc::new(v)
    }

    #[test]
    fn whole_expression_keeps_its_type() {
        let mut t = engine();
        let (tpl, used) = t.compile("{{ n }}", None).unwrap();
        assert_eq!(used, vec!["n"]);
        assert_eq!(t.render_json(&tpl, &vars()).unwrap(), serde_json::json!(42));
        let (tpl, _) = t.compile("{{ fixture('a.json') }}", None).unwrap();
        assert_eq!(
            t.render_json(&tpl, &vars()).unwrap(),
            serde_json::json!({"name": "acme"})
        );
    }

    #[test]
    fn text_and_functions_render() {
        let mut t = engine();
        let (tpl, used) = t
            .compile("{{ base }}/p/{{ n }}?k={{ secret('API_KEY') }}", None)
            .unwrap();
        assert_eq!(used, vec!["base", "n"]);
        assert_eq!(
            t.render_string(&tpl, &vars()).unwrap(),
            "http://x/p/42?k=s3cr3t"
        );
        let (tpl, _) = t.compile("id-{{ uuid() }}", None).unwrap();
        assert_eq!(
            t.render_string(&tpl, &vars()).unwrap(),
            "id-00000000-0000-4000-8000-000000000000"
        );
    }

    #[test]
    fn simple_templates_render_as_minijinja_does() {
        let mut t = engine();
        let values = [
            serde_json::json!("a/b <c> & 'd'"),
            serde_json::json!(42),
            serde_json::json!(-7),
            serde_json::json!(u64::MAX),
            serde_json::json!(1.5),
            serde_json::json!(true),
            serde_json::json!(null),
            serde_json::json!([1, "x"]),
            serde_json::json!({"k": 1}),
        ];
        for text in ["{{ v }}", "x{{v}}/y", "{{ v }}-{{ v }}", "{{ v }}\n"] {
            let (tpl, _) = t.compile(text, None).unwrap();
            for v in &values {
                let vars: Vars = Arc::new(HashMap::from([("v".to_owned(), v.clone())]));
                let name = match tpl.kind() {
                    TplKind::Text(name, _) | TplKind::Typed(name, _) => name.clone(),
                    TplKind::Literal => unreachable!(),
                };
                let slow = t.render_named(&name, &tpl, &vars).unwrap();
                match tpl.kind() {
                    TplKind::Typed(..) => assert_eq!(
                        t.render_json(&tpl, &vars).unwrap(),
                        serde_json::from_str::<Json>(&slow).unwrap(),
                        "{text} with {v}"
                    ),
                    _ => assert_eq!(
                        t.render_string(&tpl, &vars).unwrap(),
                        slow,
                        "{text} with {v}"
                    ),
                }
            }
        }
        let (tpl, _) = t.compile("{{ base }}/items/{{ missing }}", None).unwrap();
        let err = t.render_string(&tpl, &vars()).unwrap_err();
        assert_eq!(err.missing, vec!["missing"]);
    }

    #[test]
    fn the_same_text_is_compiled_once_and_each_copy_keeps_its_span() {
        let mut t = engine();
        let file = crate::span::SourceFile::new("f.yaml", "a\nb\n");
        let (first, _) = t
            .compile("{{ base }}/p/{{ n }}", Some(&Span::at(&file, 1, 1)))
            .unwrap();
        let (second, used) = t
            .compile("{{ base }}/p/{{ n }}", Some(&Span::at(&file, 2, 1)))
            .unwrap();
        assert_eq!(t.next, 1, "one minijinja template for two copies");
        assert_eq!(used, vec!["base", "n"]);
        assert_eq!(second.span.as_ref().map(Span::line), Some(2));
        assert_eq!(first.span.as_ref().map(Span::line), Some(1));
        for tpl in [&first, &second] {
            assert_eq!(t.render_string(tpl, &vars()).unwrap(), "http://x/p/42");
        }
        // An error names the copy's own place.
        let err = t
            .render_string(&second, &Arc::new(HashMap::new()))
            .unwrap_err();
        assert_eq!(err.span.as_ref().map(Span::line), Some(2));
        t.compile("{{ n }}", None).unwrap();
        assert_eq!(t.next, 2, "another text is another template");
    }

    #[test]
    fn undefined_variable_is_an_error_not_empty() {
        let mut t = engine();
        let (tpl, _) = t.compile("a{{ missing }}b", None).unwrap();
        let err = t.render_string(&tpl, &vars()).unwrap_err();
        assert!(err.message.contains("not defined"), "{}", err.message);
    }

    #[test]
    fn missing_secret_names_it() {
        let mut t = engine();
        let (tpl, _) = t.compile("{{ secret('OTHER') }}", None).unwrap();
        let err = t.render_string(&tpl, &vars()).unwrap_err();
        assert!(
            err.message.contains("secret `OTHER` is not set"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_runaway_loop_runs_out_of_fuel_with_a_plain_message() {
        let mut t = engine();
        // 10^9 turns: minutes of CPU without a budget.
        let text = format!(
            "{}x{}",
            "{% for a in 'xxxxxxxxxx' %}".repeat(9),
            "{% endfor %}".repeat(9)
        );
        let (tpl, _) = t.compile(&text, None).unwrap();
        let err = t.render_string(&tpl, &vars()).unwrap_err();
        insta::assert_snapshot!(err.message, @"template `{% for a in 'xxxxxxxxxx' %}{% for a in 'xxxxxxxxxx' %}{% for…` used more than 10,000,000 steps (a loop too large?)");
        assert!(err.missing.is_empty());
    }

    #[test]
    fn an_ordinary_loop_fits_in_the_fuel() {
        let mut t = engine();
        let items: Vec<Json> = (0..10_000).map(|i| serde_json::json!({"id": i})).collect();
        let vars: Vars = Arc::new(HashMap::from([("items".to_owned(), Json::Array(items))]));
        let (tpl, _) = t
            .compile("{% for i in items %}{{ i.id }},{% endfor %}", None)
            .unwrap();
        let text = t.render_string(&tpl, &vars).unwrap();
        assert!(text.ends_with("9998,9999,"), "{}", &text[text.len() - 20..]);
    }
}
