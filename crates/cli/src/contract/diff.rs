//! `rehearse contract diff A B`: two version folders compared, as a Markdown changelog a
//! person reads in review (breaking changes first, then additive, per route, with JSON
//! pointers). It is a report: it exits 0 whatever changed.

use std::path::PathBuf;

use clap::Args;
use rehearse_contract::{ApiVersion, Catalog, changelog, diff_folders};

use crate::exit;

/// `rehearse contract diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The version a client was written for (`v2`).
    pub from: String,
    /// The version it would move to (`v3`).
    pub to: String,
    /// A folder of the team's own versions (holding `v4/`…, or one version folder),
    /// beside the built-in v1-v3 (a `v2/` there replaces the built-in v2). Repeatable.
    #[arg(long, value_name = "DIR")]
    pub versions: Vec<PathBuf>,
    /// Write the changelog to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Prints (or writes) the changelog; 3 for an unknown version or a broken folder.
pub(crate) fn diff(args: &DiffArgs) -> u8 {
    let mut catalog = Catalog::builtin();
    for dir in &args.versions {
        catalog = match catalog.with_dir(dir) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::INVALID_INPUT;
            }
        };
    }
    let pick = |name: &str| {
        name.parse::<ApiVersion>()
            .and_then(|v| catalog.require(v).cloned())
    };
    let (a, b) = match (pick(&args.from), pick(&args.to)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let text = changelog(&a, &b, &diff_folders(&a, &b));
    match &args.out {
        None => {
            print!("{text}");
            exit::PASSED
        }
        Some(path) => match std::fs::write(path, &text) {
            Ok(()) => {
                eprintln!(
                    "wrote the changelog {} → {} to {}",
                    a.version,
                    b.version,
                    path.display()
                );
                exit::PASSED
            }
            Err(e) => {
                eprintln!("error: failed to write {}: {e}", path.display());
                exit::INTERNAL
            }
        },
    }
}
