//! The documentation is true. Every example of `docs/FORMAT.md` holds: each fenced block
//! whose info string starts with `yaml` is a whole file, checked by the real `rehearse`
//! binary as the HTML comment at the top of that page says (the convention is restated in [`Kind`]). The suite the
//! examples run in is `tests/format_doc/`: the `docs-example` environment and the
//! fixtures the examples read.
//!
//! The failure message names the line of every failing block in `docs/FORMAT.md` and shows
//! what `rehearse` said; the test also fails when the page holds no example of a kind, so
//! a parser that finds nothing cannot pass. The walk-through of `docs/GETTING-STARTED.md`
//! is written out and run against the sample platform, and the links of the pages stay
//! inside the repository.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{BIN, repo};

/// What a block is, by its info string.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// ```` ```yaml ````: a scenario file; `rehearse validate` must accept it (exit 0) and
    /// keep it in the run (not left out for unmet `needs:`).
    Scenario,
    /// ```` ```yaml fragment NAME ````: saved as `scenarios/_fragments/NAME.yaml` before
    /// any scenario is checked; a scenario (or another fragment) on the page must include
    /// it, so it is validated through that include.
    Fragment(String),
    /// ```` ```yaml environment ````: an environment file; it must load (`rehearse
    /// validate --env FILE` of a one-step scenario exits 0).
    Environment,
    /// ```` ```yaml invalid ```` or ```` ```yaml invalid TEXT ````: a scenario file that
    /// `rehearse validate` must reject with exit 3, with a problem that points into the
    /// file and, when given, whose output contains TEXT (the reason it is rejected).
    Invalid(Option<String>),
}

impl Kind {
    fn parse(info: &str) -> Result<Option<Self>, String> {
        let mut words = info.split_whitespace();
        let Some(lang) = words.next() else {
            return Ok(None);
        };
        if lang != "yaml" {
            // `yml`, `yaml{…}` and every other language are not examples.
            return Ok(None);
        }
        let rest: Vec<&str> = words.collect();
        match rest.as_slice() {
            [] => Ok(Some(Self::Scenario)),
            ["invalid"] => Ok(Some(Self::Invalid(None))),
            ["invalid", reason @ ..] => Ok(Some(Self::Invalid(Some(reason.join(" "))))),
            ["environment"] => Ok(Some(Self::Environment)),
            ["fragment", name] if is_file_stem(name) => {
                Ok(Some(Self::Fragment((*name).to_owned())))
            }
            ["fragment", name] => Err(format!(
                "fragment name `{name}` is not a file stem (letters, digits, `-`, `_`)"
            )),
            _ => Err(format!(
                "unknown example kind `{info}`: write ```yaml, ```yaml fragment NAME, ```yaml environment or ```yaml invalid"
            )),
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Self::Scenario => "scenario",
            Self::Fragment(_) => "fragment",
            Self::Environment => "environment",
            Self::Invalid(_) => "invalid",
        }
    }
}

fn is_file_stem(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One example: where it starts (the line of its opening fence, 1-based) and its text.
#[derive(Debug)]
struct Block {
    line: usize,
    kind: Kind,
    text: String,
}

/// A fenced code block of a Markdown page: the line of its opening fence (1-based), its
/// info string and its text.
#[derive(Debug)]
struct Fenced {
    line: usize,
    info: String,
    text: String,
}

/// The fenced blocks of a Markdown page, outside HTML comments. Fences are CommonMark's:
/// three or more backticks or tildes, indented by at most three spaces, closed by a fence
/// of the same character at least as long; the opening fence's indentation is removed from
/// the lines of the block.
fn fences(markdown: &str) -> Result<Vec<Fenced>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let number = i + 1;
        if line.trim_start().starts_with("<!--") {
            // An HTML block: skip to the line that closes it.
            let mut closed = line.contains("-->");
            while !closed {
                match lines.next() {
                    Some((_, l)) => closed = l.contains("-->"),
                    None => {
                        errors.push(format!("line {number}: an HTML comment is never closed"));
                        break;
                    }
                }
            }
            continue;
        }
        let Some((indent, fence, info)) = opening_fence(line) else {
            if line.trim_start().starts_with("```yaml") {
                // CommonMark: a backtick in the info string makes this no fence at all, so
                // the example would silently not be one.
                errors.push(format!(
                    "line {number}: a backtick in the info string makes this no code block"
                ));
            }
            continue;
        };
        let mut text = String::new();
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            if is_closing_fence(l, &fence) {
                closed = true;
                break;
            }
            text.push_str(strip_indent(l, indent));
            text.push('\n');
        }
        if !closed {
            errors.push(format!("line {number}: the code block is never closed"));
            break;
        }
        out.push(Fenced {
            line: number,
            info: info.to_owned(),
            text,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The `yaml` examples of a Markdown page (see [`Kind`]).
fn blocks(markdown: &str) -> Result<Vec<Block>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for f in fences(markdown)? {
        match Kind::parse(&f.info) {
            Ok(Some(kind)) => out.push(Block {
                line: f.line,
                kind,
                text: f.text,
            }),
            Ok(None) => {}
            Err(e) => errors.push(format!("line {}: {e}", f.line)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// `(indentation, fence, info string)` when the line opens a fenced block.
fn opening_fence(line: &str) -> Option<(usize, String, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let ch = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = rest.len() - rest.trim_start_matches(ch).len();
    if len < 3 {
        return None;
    }
    let info = rest[len..].trim();
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some((indent, rest[..len].to_owned(), info))
}

fn is_closing_fence(line: &str, fence: &str) -> bool {
    let t = line.trim();
    let ch = fence.chars().next().unwrap_or('`');
    line.len() - line.trim_start_matches(' ').len() <= 3
        && t.len() >= fence.len()
        && t.chars().all(|c| c == ch)
}

fn strip_indent(line: &str, indent: usize) -> &str {
    let spaces = line.len() - line.trim_start_matches(' ').len();
    &line[spaces.min(indent)..]
}

/// A suite in a temp folder: `environments/docs-example.yaml` and `fixtures/` from
/// `tests/format_doc/`, the fragments of the page under `scenarios/_fragments/`.
struct Suite {
    dir: tempfile::TempDir,
}

const PROBE: &str = "probe/probe.yaml";

impl Suite {
    fn new(fragments: &[&Block]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let src = repo().join("tests/format_doc");
        copy_dir(&src.join("environments"), &dir.path().join("environments"));
        copy_dir(&src.join("fixtures"), &dir.path().join("fixtures"));
        std::fs::create_dir_all(dir.path().join("scenarios/_fragments")).unwrap();
        std::fs::create_dir_all(dir.path().join("probe")).unwrap();
        std::fs::write(
            dir.path().join(PROBE),
            "name: probe\nsteps:\n  - wait: 1ms\n",
        )
        .unwrap();
        for b in fragments {
            if let Kind::Fragment(name) = &b.kind {
                std::fs::write(
                    dir.path().join(format!("scenarios/_fragments/{name}.yaml")),
                    &b.text,
                )
                .unwrap();
            }
        }
        Self { dir }
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.dir.path().join(rel), text).unwrap();
    }

    fn validate(&self, env: &str, file: &str) -> Output {
        Command::new(BIN)
            .args(["validate", "--env", env, file])
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("REHEARSE_ENV")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn said(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Why a block is wrong, or `None` when it holds.
fn check(suite: &Suite, b: &Block) -> Option<String> {
    let stem = format!("format-L{}", b.line);
    match &b.kind {
        Kind::Scenario => {
            let file = format!("scenarios/{stem}.yaml");
            suite.write(&file, &b.text);
            let out = suite.validate("docs-example", &file);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(0) {
                Some(format!("`rehearse validate` rejected it:\n{}", said(&out)))
            } else if stderr.contains("leaving out") {
                Some(format!(
                    "it was left out of the run (its `needs:` are not met by `docs-example`), so nothing was checked:\n{}",
                    said(&out)
                ))
            } else {
                None
            }
        }
        Kind::Fragment(_) => None,
        Kind::Environment => {
            let file = format!("environments/{stem}.yaml");
            suite.write(&file, &b.text);
            let out = suite.validate(&file, PROBE);
            (out.status.code() != Some(0))
                .then(|| format!("the environment did not load:\n{}", said(&out)))
        }
        Kind::Invalid(reason) => {
            let file = format!("scenarios/{stem}.yaml");
            suite.write(&file, &b.text);
            let out = suite.validate("docs-example", &file);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(3) {
                Some(format!(
                    "`rehearse validate` must reject it with exit 3:\n{}",
                    said(&out)
                ))
            } else if !stderr.contains(&format!("{stem}.yaml")) {
                Some(format!(
                    "it was rejected, but by no problem that points into the example:\n{}",
                    said(&out)
                ))
            } else if let Some(reason) = reason
                && !stderr.contains(reason.as_str())
            {
                Some(format!(
                    "it was rejected, but not for the reason the page gives (`{reason}`):\n{}",
                    said(&out)
                ))
            } else {
                None
            }
        }
    }
}

#[test]
fn every_example_of_format_md_is_checked_and_holds() {
    let page = repo().join("docs/FORMAT.md");
    let markdown = std::fs::read_to_string(&page).unwrap();
    let blocks = blocks(&markdown)
        .unwrap_or_else(|errors| panic!("docs/FORMAT.md cannot be read:\n{}", errors.join("\n")));
    let fragments: Vec<&Block> = blocks
        .iter()
        .filter(|b| matches!(b.kind, Kind::Fragment(_)))
        .collect();
    let suite = Suite::new(&fragments);

    // The suite itself is sound: a one-step scenario validates in it. So an `invalid`
    // example is rejected for what it says, not because the suite is broken.
    let probe = suite.validate("docs-example", PROBE);
    assert_eq!(
        probe.status.code(),
        Some(0),
        "the docs-example suite (tests/format_doc/) is broken:\n{}",
        said(&probe)
    );

    let mut failures = String::new();
    for b in &fragments {
        let Kind::Fragment(name) = &b.kind else {
            continue;
        };
        let included = blocks.iter().any(|o| {
            !std::ptr::eq(o, *b)
                && matches!(o.kind, Kind::Scenario | Kind::Fragment(_))
                && o.text.contains(&format!("{name}.yaml"))
        });
        if !included {
            let _ = writeln!(
                failures,
                "docs/FORMAT.md:{}: fragment `{name}` is included by no example, so it is never validated\n",
                b.line
            );
        }
    }
    let mut checked = std::collections::BTreeMap::<&str, usize>::new();
    for b in &blocks {
        if let Some(why) = check(&suite, b) {
            let _ = writeln!(
                failures,
                "docs/FORMAT.md:{}: ```yaml {} example: {why}\n--- the example ---\n{}",
                b.line,
                b.kind.label(),
                b.text
            );
        }
        *checked.entry(b.kind.label()).or_default() += 1;
    }
    eprintln!("checked the examples of docs/FORMAT.md: {checked:?}");
    assert!(failures.is_empty(), "{failures}");
    // The page documents each kind of file; when one count is zero the reader above
    // missed them (a changed fence, a changed info string), and nothing was checked.
    for kind in ["scenario", "fragment", "environment", "invalid"] {
        assert!(
            checked.get(kind).copied().unwrap_or(0) > 0,
            "no ```yaml {kind} example found in docs/FORMAT.md: {checked:?}"
        );
    }
}

#[test]
fn the_reader_finds_yaml_blocks_and_their_lines_and_skips_the_rest() {
    let page = "\
# Title
<!--
  ```yaml
  not: an example
  ```
-->
```yaml
name: a
```
```sh
rehearse validate
```
  ```yaml invalid
  name: b
  ```
````yaml fragment login
steps: []
```
still: inside
````
~~~yaml environment
vars: {}
~~~
";
    let found = blocks(page).unwrap();
    let summary: Vec<(usize, Kind, &str)> = found
        .iter()
        .map(|b| (b.line, b.kind.clone(), b.text.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (7, Kind::Scenario, "name: a\n"),
            (13, Kind::Invalid(None), "name: b\n"),
            (
                16,
                Kind::Fragment("login".to_owned()),
                "steps: []\n```\nstill: inside\n"
            ),
            (21, Kind::Environment, "vars: {}\n"),
        ]
    );
}

#[test]
fn the_reader_rejects_a_misspelt_kind_and_an_unclosed_block() {
    let found = blocks("```yaml invalid needs the parameter\nname: a\n```\n").unwrap();
    assert_eq!(
        found[0].kind,
        Kind::Invalid(Some("needs the parameter".to_owned()))
    );
    let errors = blocks("```yaml invalid the `user`\nname: a\n```\n").unwrap_err();
    assert!(
        errors[0].contains("a backtick in the info string"),
        "{errors:?}"
    );
    let errors = blocks("```yaml invlaid\nname: a\n```\n").unwrap_err();
    assert!(
        errors[0].starts_with("line 1: unknown example kind"),
        "{errors:?}"
    );
    let errors = blocks("text\n```yaml\nname: a\n").unwrap_err();
    assert_eq!(errors, vec!["line 2: the code block is never closed"]);
    let errors = blocks("```yaml fragment ../up\nsteps: []\n```\n").unwrap_err();
    assert!(errors[0].contains("not a file stem"), "{errors:?}");
}

/// The relative links of a Markdown page, `[text](target#anchor)`: the target (empty for
/// the page itself) and the anchor.
fn relative_links(markdown: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = markdown;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let link = rest[..end].trim();
        if link.contains("://") || link.starts_with("mailto:") {
            continue;
        }
        let (target, anchor) = match link.split_once('#') {
            Some((t, a)) => (t, Some(a.to_owned())),
            None => (link, None),
        };
        if !target.is_empty() || anchor.is_some() {
            out.push((target.to_owned(), anchor));
        }
    }
    out
}

/// The anchors GitHub gives the headings of a page (outside code blocks): lower case,
/// punctuation dropped, spaces as `-`, a repeated heading suffixed `-1`, `-2`….
fn anchors(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    let mut comment = false;
    let mut bases: Vec<String> = Vec::new();
    for line in markdown.lines() {
        if comment || (fence.is_none() && line.trim_start().starts_with("<!--")) {
            comment = !line.contains("-->");
            continue;
        }
        match &fence {
            Some(f) => {
                if is_closing_fence(line, f) {
                    fence = None;
                }
                continue;
            }
            None => {
                if let Some((_, f, _)) = opening_fence(line) {
                    fence = Some(f);
                    continue;
                }
            }
        }
        let Some(title) = line.strip_prefix('#') else {
            continue;
        };
        let title = title.trim_start_matches('#');
        if !title.starts_with(' ') {
            continue;
        }
        let slug: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        // A repeated heading gets `-1`, `-2`… as on GitHub.
        let repeats = bases.iter().filter(|b| **b == slug).count();
        out.push(if repeats == 0 {
            slug.clone()
        } else {
            format!("{slug}-{repeats}")
        });
        bases.push(slug);
    }
    out
}

#[test]
fn the_docs_link_only_files_of_the_repository_that_exist() {
    let root = repo().canonicalize().unwrap();
    let mut bad = Vec::new();
    let mut count = 0;
    for page in [
        "README.md",
        "ARCHITECTURE.md",
        "docs/FORMAT.md",
        "docs/GETTING-STARTED.md",
    ] {
        let text = std::fs::read_to_string(root.join(page)).unwrap();
        let dir = root.join(page).parent().unwrap().to_owned();
        // A path in backticks that climbs out of the repository (`../shared/DESIGN.md`)
        // is a link in all but name.
        for mention in text.split('`').skip(1).step_by(2) {
            if mention.starts_with("../") && !mention.contains(char::is_whitespace) {
                let lexical = dir.join(mention);
                let inside = lexical
                    .components()
                    .try_fold(PathBuf::new(), |mut p, c| match c {
                        std::path::Component::ParentDir => p.pop().then_some(p),
                        other => {
                            p.push(other);
                            Some(p)
                        }
                    })
                    .is_some_and(|p| p.starts_with(&root));
                if !inside {
                    bad.push(format!("{page}: `{mention}` is outside the repository"));
                }
            }
        }
        for (link, anchor) in relative_links(&text) {
            count += 1;
            let target = if link.is_empty() {
                root.join(page)
            } else {
                match dir.join(&link).canonicalize() {
                    Ok(p) if p.starts_with(&root) => p,
                    Ok(p) => {
                        bad.push(format!(
                            "{page}: {link} is outside the repository ({})",
                            p.display()
                        ));
                        continue;
                    }
                    Err(_) => {
                        bad.push(format!("{page}: {link} does not exist"));
                        continue;
                    }
                }
            };
            if let Some(anchor) = anchor
                && target.extension().is_some_and(|e| e == "md")
            {
                let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                if !headings.contains(&anchor) {
                    bad.push(format!("{page}: {link}#{anchor}: no such heading"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(
        count > 0,
        "no relative link found: the link reader is broken"
    );
}

#[test]
fn the_link_reader_finds_relative_links_and_anchors() {
    let links =
        relative_links("see [a](docs/A.md#x), [b](https://x.y/z), [c](../up.md) and [d](#top)");
    let want = [
        ("docs/A.md", Some("x")),
        ("../up.md", None),
        ("", Some("top")),
    ];
    assert_eq!(
        links,
        want.map(|(t, a)| (t.to_owned(), a.map(str::to_owned)))
    );
    let page = "# Title\n<!--\n  ```yaml\n-->\n## Fragments and `include`\n```sh\n# not a heading\n```\n### Expectations (`expect`)\n## Headers\n### Headers\n#nope\n";
    assert_eq!(
        anchors(page),
        [
            "title",
            "fragments-and-include",
            "expectations-expect",
            "headers",
            "headers-1"
        ]
    );
}

/// The files of the walk-through of `docs/GETTING-STARTED.md`: a YAML block whose first
/// line is `# PATH`, or a block whose info string is `LANG PATH`, is the file PATH of the
/// suite the page builds.
fn walkthrough_files(markdown: &str) -> Vec<(usize, String, String)> {
    let is_path = |p: &str| {
        (p.ends_with(".yaml") || p.ends_with(".yml") || p.ends_with(".json"))
            && !p.starts_with('/')
            && !p.contains("..")
            && !p.contains(char::is_whitespace)
    };
    fences(markdown)
        .unwrap_or_else(|e| panic!("docs/GETTING-STARTED.md cannot be read: {e:?}"))
        .into_iter()
        .filter_map(|f| {
            let mut info = f.info.split_whitespace();
            let lang = info.next()?;
            let from_info = info.next().filter(|p| is_path(p));
            let from_comment = (lang == "yaml")
                .then(|| {
                    f.text
                        .lines()
                        .next()?
                        .strip_prefix("# ")
                        .filter(|p| is_path(p))
                })
                .flatten();
            let path = from_info.or(from_comment)?;
            Some((f.line, path.to_owned(), f.text.clone()))
        })
        .collect()
}

fn rehearse(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("REHEARSE_ENV")
        .env_remove("API_URL")
        .env_remove("API_TOKEN")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// The walk-through is true: its files, written as the page says, validate, and run
/// against the sample platform (a payments API on a bank mock, as separate processes);
/// the output the page shows is the output a reader gets.
#[test]
fn the_getting_started_walkthrough_validates_and_runs() {
    let page = std::fs::read_to_string(repo().join("docs/GETTING-STARTED.md")).unwrap();
    let files = walkthrough_files(&page);
    let paths: Vec<&str> = files.iter().map(|(_, p, _)| p.as_str()).collect();
    for want in [
        "environments/dev.yaml",
        "scenarios/payments/create-and-read.yaml",
        "fixtures/beneficiaries/acme.json",
    ] {
        assert!(
            paths.contains(&want),
            "the walk-through no longer writes {want}: {paths:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path();
    for (_, path, text) in &files {
        let target = suite.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    }
    std::fs::write(suite.join(".env.dev"), "API_TOKEN=dev-token-123\n").unwrap();
    let shown = |o: &Output| said(o);

    for (args, file) in [
        (&["schema"][..], "scenario"),
        (&["schema", "environment"][..], "environment"),
    ] {
        let out = rehearse(suite, args, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
        let schema: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("`rehearse {args:?}` did not print JSON: {e}"));
        assert!(schema.is_object(), "{file} schema: {schema}");
    }

    let out = rehearse(suite, &["validate", "--env", "dev"], &[]);
    assert_eq!(out.status.code(), Some(0), "validate: {}", shown(&out));
    let first = String::from_utf8_lossy(&out.stdout);
    let first = first.lines().next().unwrap_or_default();
    assert!(
        page.contains(first),
        "the page shows another `validate` output than `{first}`"
    );

    let out = rehearse(suite, &["list", "--env", "dev"], &[]);
    assert_eq!(out.status.code(), Some(0), "list: {}", shown(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("scenarios/payments/create-and-read.yaml"),
        "list: {}",
        shown(&out)
    );

    // Nothing listens on port 9: the environment's check fails, exit 2, with its hint.
    let out = rehearse(
        suite,
        &["run", "--env", "dev", "--env-file", ".env.dev"],
        &[("API_URL", "http://127.0.0.1:9")],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "run without the API: {}",
        shown(&out)
    );
    for line in [
        "connection refused by 127.0.0.1:9 (is the service running?)",
        "hint: start the API (make run), or set API_URL to where it runs",
    ] {
        assert!(page.contains(line), "the page no longer shows `{line}`");
        assert!(shown(&out).contains(line), "{}", shown(&out));
    }

    let (_bank, bank_url) = common::bank();
    let (_platform, api) = common::platform(&bank_url);
    let env = [("API_URL", api.as_str())];
    let out = rehearse(
        suite,
        &["preflight", "--env", "dev", "--env-file", ".env.dev"],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "preflight: {}", shown(&out));
    let out = rehearse(
        suite,
        &[
            "run",
            "--env",
            "dev",
            "--env-file",
            ".env.dev",
            "--report",
            "junit=out/junit.xml",
            "--report",
            "json=out/run.json",
            "--report",
            "html=out/report.html",
            "--report",
            "markdown=out/summary.md",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "run: {}", shown(&out));
    assert!(
        shown(&out).contains("1 passed, 0 failed"),
        "{}",
        shown(&out)
    );
    let mut outputs = shown(&out);
    for report in ["junit.xml", "run.json", "report.html", "summary.md"] {
        let text = std::fs::read_to_string(suite.join("out").join(report))
            .unwrap_or_else(|e| panic!("report {report} was not written: {e}"));
        outputs.push_str(&text);
    }
    assert!(
        !outputs.contains("dev-token-123"),
        "the secret appeared in the output or a report"
    );

    // The failure the page shows is the failure a reader gets.
    let scenario = suite.join("scenarios/payments/create-and-read.yaml");
    let text = std::fs::read_to_string(&scenario).unwrap();
    assert!(text.contains("\"$.currency\": EUR"), "{text}");
    std::fs::write(
        &scenario,
        text.replace("\"$.currency\": EUR", "\"$.currency\": USD"),
    )
    .unwrap();
    let out = rehearse(
        suite,
        &["run", "--env", "dev", "--env-file", ".env.dev"],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "failing run: {}", shown(&out));
    let failure = r#"$.currency: expected == "USD", got "EUR""#;
    assert!(
        page.contains(failure),
        "the page no longer shows the failure"
    );
    assert!(shown(&out).contains(failure), "{}", shown(&out));
}
