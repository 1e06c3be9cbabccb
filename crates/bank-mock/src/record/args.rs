//! The flags of `rehearse mock-bank record`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use rehearse_contract::{ApiVersion, CANONICAL_STATUSES};

/// Subcommands of `rehearse mock-bank` (without one, it serves the mock).
#[derive(clap::Subcommand, Debug, Clone)]
pub enum MockBankCommand {
    /// Record a version folder from a real bank: a proxy that forwards the platform's (or a
    /// scenario run's) traffic to `--upstream` unchanged and, on Ctrl-C, SIGTERM or `POST
    /// /__record/save`, writes the routes, JSON Schemas inferred from every answer, response
    /// templates and example requests (credentials removed) as a folder `--versions` serves.
    Record(RecordArgs),
}

/// Flags of `rehearse mock-bank record`.
#[derive(clap::Args, Debug, Clone)]
pub struct RecordArgs {
    /// The bank to forward to, e.g. https://sandbox.bank.example (a path prefix is kept).
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// The version folder to write, named like the version it holds (`bank-api/v4`). It must
    /// be new or empty unless `--force`.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Start from this version (built in, or from `--versions`): the folder written is that
    /// one with only what the traffic contradicts or adds replaced, and the changes are
    /// printed.
    #[arg(long, value_name = "VERSION")]
    pub from: Option<ApiVersion>,
    /// A folder of the team's own versions, where `--from` may be found. Repeatable.
    #[arg(long = "versions", value_name = "DIR", env = "REHEARSE_BANK_VERSIONS")]
    pub versions: Vec<PathBuf>,
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 8089)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// The bank's spelling of a canonical status the traffic did not show, e.g.
    /// `rejected=declined` (repeatable). The recorder never guesses one: without it (or
    /// `--from`), a missing status stops the save with a message naming it.
    #[arg(long = "status", value_name = "CANONICAL=WIRE", value_parser = parse_status)]
    pub statuses: Vec<(String, String)>,
    /// How long one upstream request may take before the client gets a 504.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Replace a non-empty `--out` folder.
    #[arg(long)]
    pub force: bool,
}

fn parse_status(s: &str) -> Result<(String, String), String> {
    let (canonical, wire) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not CANONICAL=WIRE, e.g. rejected=declined"))?;
    let canonical = canonical.trim();
    if !CANONICAL_STATUSES.contains(&canonical) {
        return Err(format!(
            "`{canonical}` is not a canonical status; the canonical statuses are {}",
            CANONICAL_STATUSES.join(", ")
        ));
    }
    let wire = wire.trim();
    if wire.is_empty() {
        return Err(format!(
            "give the bank's spelling of `{canonical}` after the `=`"
        ));
    }
    Ok((canonical.to_owned(), wire.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_canonical_equals_wire() {
        assert_eq!(
            parse_status("rejected=declined"),
            Ok(("rejected".into(), "declined".into()))
        );
        assert!(
            parse_status("refused=x")
                .unwrap_err()
                .contains("canonical statuses are")
        );
        assert!(parse_status("rejected").is_err());
        assert!(parse_status("rejected=").is_err());
    }
}
