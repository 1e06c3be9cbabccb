//! No crash on any input (issue #10, part 2): the crash corpus and the large hostile
//! inputs load to a valid plan or to problems that say what a user must see, and a
//! generator of mutated scenario files (byte flips, cuts, deep nesting, long lines, lone
//! CRs, bytes that are not UTF-8, huge numbers and durations) never makes the loader or
//! the problem renderer panic. The binary's side is `tests/hostile_input.rs`.

mod common;
use common::NoWorld;

mod hostile;

use std::path::Path;
use std::sync::Arc;

use rehearse_scenario::{Compiler, Environment, Problems, Templates, TplValue, render_problem};

fn environment() -> Environment {
    let mut env = Environment::new("test");
    env.vars
        .push(("base".into(), TplValue::Json("http://localhost:1".into())));
    env.secrets.push("API_KEY".into());
    env
}

/// Loads one scenario of a suite and renders every problem as the CLI would.
fn load(root: &Path, scenario: &Path) -> Result<(), Vec<String>> {
    let env = environment();
    let mut templates = Templates::new(Arc::new(NoWorld));
    let mut compiler = Compiler::new(&env, root.join("fixtures"), &mut templates).with_root(root);
    match compiler.compile_file(scenario) {
        Ok(_) => Ok(()),
        Err(Problems(ps)) => Err(ps.iter().map(|p| render_problem(p, false)).collect()),
    }
}

/// The peak memory of this process, from /proc (Linux).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn every_corpus_and_generated_input_loads_or_says_what_is_wrong() {
    let work = tempfile::tempdir().unwrap();
    let corpus = hostile::corpus_dir(Path::new(env!("CARGO_MANIFEST_DIR")));
    let cases = hostile::cases(&corpus, work.path());
    assert!(cases.len() > 25, "the corpus is read");
    let mut wrong = Vec::new();
    for case in &cases {
        match (load(&case.root, &case.scenario), &case.expect) {
            (Ok(()), None) => {}
            (Err(shown), Some(want)) if shown.iter().any(|s| s.contains(want.as_str())) => {}
            (got, want) => wrong.push(format!(
                "{}: expected {want:?}, got {}",
                case.name,
                match got {
                    Ok(()) => "a valid plan".to_owned(),
                    Err(shown) => shown.join("\n"),
                }
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    // 22 fragments that each include the next twice reached 3 GB before.
    if let Some(peak) = peak_rss_bytes() {
        assert!(peak < 2 << 30, "peak memory {} MiB", peak >> 20);
    }
}

/// A small deterministic generator (xorshift): the same cases on every run, so a failure
/// is reproduced by its number; `REHEARSE_FUZZ_CASES` runs more.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// What a mutation may insert: the shapes that broke the loader before.
const INSERTS: &[&str] = &[
    "\r",
    "\r\n",
    "\t",
    "\u{0}",
    "{{",
    "}}",
    "{% if %}",
    "{{ a + b | upper }}",
    "{{ fixture('../x') }}",
    "'",
    "\"",
    "[",
    "{",
    "&a ",
    "*a",
    "!!str ",
    "- ",
    ": ",
    "#",
    "---\n",
    "99999999999999999999999999999999999y",
    "500000000000y",
    "1e999999",
    "-0.0000000000000000000000001",
    "$[?@[?@[?@.a]]]",
    "include: { file: s.yaml }",
    "include: { file: /dev/zero }",
    "schema: /dev/zero",
    "é",
    "𝄞",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut t = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(t.len() + 1);
        match rng.below(9) {
            0 => t.truncate(at),
            1 if !t.is_empty() => {
                let i = at.min(t.len() - 1);
                t[i] ^= 1 << rng.below(8);
            }
            2 => {
                let s = INSERTS[rng.below(INSERTS.len())].as_bytes();
                t.splice(at..at, s.iter().copied());
            }
            3 => {
                // Deep nesting, past the depth limits.
                let n = 1 + rng.below(300);
                let open = ["[", "{a: ", "(", "- "][rng.below(4)].repeat(n);
                t.splice(at..at, open.bytes());
            }
            4 => {
                // A long line.
                let long = "x".repeat(60_000 + rng.below(20_000));
                t.splice(at..at, long.bytes());
            }
            5 => {
                // Bytes that are not UTF-8.
                let b = [0xFF, 0xC3, 0x80, 0xED, 0xA0][rng.below(5)];
                t.insert(at, b);
            }
            6 => {
                // A line repeated.
                let start = t[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |i| i + 1);
                let end = t[at..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(t.len(), |i| at + i + 1);
                let line = t[start..end].to_vec();
                for _ in 0..rng.below(50) {
                    t.splice(end..end, line.iter().copied());
                }
            }
            7 if !t.is_empty() => {
                // A slice moved elsewhere.
                let from = rng.below(t.len());
                let len = rng.below(64).min(t.len() - from);
                let piece = t[from..from + len].to_vec();
                let to = rng.below(t.len() + 1);
                t.splice(to..to, piece);
            }
            _ => {
                let s = INSERTS[rng.below(INSERTS.len())].repeat(1 + rng.below(40));
                t.splice(at..at, s.bytes());
            }
        }
    }
    t
}

/// The files mutated: every shipped scenario and fragment, and the malformed ones.
fn seeds() -> Vec<Vec<u8>> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        here.join("../../scenarios"),
        here.join("../../scenarios/_fragments"),
        here.join("../../scenarios/payments"),
        here.join("../../scenarios/payments/versions"),
        here.join("tests/malformed"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            if f.extension().is_some_and(|e| e == "yaml") {
                out.push(std::fs::read(f).unwrap());
            }
        }
    }
    assert!(out.len() > 20, "the seed files are found");
    out
}

/// Nothing a user writes may panic: thousands of mutated files load or are problems, and
/// every problem renders.
#[test]
fn mutated_scenario_files_never_panic_the_loader() {
    let cases: usize = std::env::var("REHEARSE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1500);
    let seeds = seeds();
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    std::fs::create_dir_all(root.join("fixtures/beneficiaries")).unwrap();
    std::fs::write(
        root.join("fixtures/beneficiaries/acme.json"),
        "{\"name\": \"ACME\"}",
    )
    .unwrap();
    // Fragments beside the file, for the includes the seeds make.
    let fragments = root.join("scenarios/_fragments");
    std::fs::create_dir_all(&fragments).unwrap();
    for f in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/_fragments"))
            .unwrap()
    {
        let f = f.unwrap().path();
        std::fs::copy(&f, fragments.join(f.file_name().unwrap())).unwrap();
    }
    let dir = root.join("scenarios/payments");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("s.yaml");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..cases {
        let seed = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed);
        std::fs::write(&file, &input).unwrap();
        let outcome = std::panic::catch_unwind(|| load(root, &file));
        if outcome.is_err() {
            let kept = std::env::temp_dir().join(format!("rehearse-fuzz-{case}.yaml"));
            std::fs::write(&kept, &input).unwrap();
            panic!(
                "case {case} panicked the loader; the input is kept in {} (add it to tests/corpus/)",
                kept.display()
            );
        }
    }
}
