//! A version diff as a changelog a person reads in review: Markdown, breaking changes first,
//! then additive ones, each route under its own heading, every change with its JSON pointer.

use std::fmt::Write as _;

use crate::drift::Drift;
use crate::folder::VersionFolder;

/// The changelog of `drifts` from `a` to `b` (as [`diff_folders`](crate::diff_folders) gives
/// them).
pub fn changelog(a: &VersionFolder, b: &VersionFolder, drifts: &[Drift]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Bank API {} → {}\n", a.version, b.version);
    for f in [a, b] {
        let _ = writeln!(
            md,
            "- **{}**: {} ({})",
            f.version,
            f.manifest.title,
            f.describe_origin()
        );
    }
    let breaking = drifts.iter().filter(|d| d.breaking).count();
    let additive = drifts.len() - breaking;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if drifts.is_empty() {
        let _ = writeln!(md, "\nNo change a client would notice.");
        return md;
    }
    let _ = writeln!(
        md,
        "\n**{breaking} breaking change{}, {additive} additive.** A client written for {} breaks on the breaking ones; additive ones need no change.",
        plural(breaking),
        a.version
    );
    for (title, wanted) in [("Breaking changes", true), ("Additive changes", false)] {
        let mine: Vec<&Drift> = drifts.iter().filter(|d| d.breaking == wanted).collect();
        if mine.is_empty() {
            continue;
        }
        let _ = writeln!(md, "\n## {title}");
        let mut routes: Vec<&str> = Vec::new();
        for d in &mine {
            if !routes.contains(&d.route.as_str()) {
                routes.push(&d.route);
            }
        }
        for route in routes {
            let heading = if route == "*" {
                "Every route".to_owned()
            } else {
                format!("`{route}`")
            };
            let _ = writeln!(md, "\n### {heading}\n");
            for d in mine.iter().filter(|d| d.route == route) {
                let mut line = format!("- `{}`", d.kind);
                if !d.pointer.is_empty() {
                    let _ = write!(line, " at `{}`", d.pointer);
                }
                if let Some(status) = &d.status {
                    let _ = write!(line, " ({status})");
                }
                let _ = write!(line, ": was {}, now {}", d.expected, d.actual);
                let _ = writeln!(md, "{line}");
            }
        }
    }
    md
}
