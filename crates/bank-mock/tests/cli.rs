//! `rehearse mock-bank` as a function: flags, banner, serving until stopped.

use clap::Parser;
use rehearse_bank_mock::{MockBankArgs, serve_until};

#[derive(Parser, Debug)]
struct Cli {
    #[command(flatten)]
    args: MockBankArgs,
}

#[test]
fn flags_parse_with_documented_defaults() -> Result<(), clap::Error> {
    let cli = Cli::try_parse_from(["mock-bank"])?;
    assert_eq!(cli.args.port, 8081);
    assert!(cli.args.api.is_empty(), "every version by default");
    assert!(cli.args.versions.is_empty());
    assert_eq!(cli.args.api_key, "test-api-key");
    assert_eq!(cli.args.review_threshold, "10000.00");

    let cli = Cli::try_parse_from([
        "mock-bank",
        "--port",
        "0",
        "--api",
        "v2,v3",
        "--auto-decide",
        "approve",
        "--after",
        "4h",
    ])?;
    assert_eq!(cli.args.api.len(), 2);
    assert_eq!(cli.args.after, std::time::Duration::from_secs(4 * 3600));

    let err = Cli::try_parse_from(["mock-bank", "--api", "seven"]).err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains("`seven` is not an API version such as v2"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn serve_prints_urls_and_credentials_and_stops_when_told()
-> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::try_parse_from([
        "mock-bank",
        "--port",
        "0",
        "--api",
        "v2,v3",
        "--clock",
        "manual",
    ])?;
    let mut out = Vec::new();
    serve_until(cli.args, &mut out, async {}).await?;
    let text = String::from_utf8(out)?;
    let text = regex_lite_port(&text);
    assert_eq!(
        text,
        "rehearse bank mock is listening
  base URL:   http://127.0.0.1:PORT
  admin URL:  http://127.0.0.1:PORT/__admin
  APIs:       v2 at http://127.0.0.1:PORT/v2, v3 at http://127.0.0.1:PORT/v3
  credentials:
    API key (v2): Authorization: Bearer test-api-key
    OAuth client (v3): client_id=rehearse-client client_secret=rehearse-secret (POST http://127.0.0.1:PORT/oauth/token)
  review threshold: 10000.00; auto-decide: never (decide with POST /__admin/reviews/{id}/decision)
  bank clock: 2025-01-06T09:00:00Z (moves only through POST /__admin/clock/advance), settlement batches at cron `0 0 * * * *`
Press Ctrl-C to stop.
bank mock stopped
"
    );
    Ok(())
}

#[tokio::test]
async fn a_taken_port_is_reported_with_what_to_do() -> Result<(), Box<dyn std::error::Error>> {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.port().to_string();
    let cli = Cli::try_parse_from(["mock-bank", "--port", port.as_str()])?;
    let err = serve_until(cli.args, &mut Vec::new(), async {}).await.err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.starts_with(&format!("bind the bank mock to 127.0.0.1:{port}: ")),
        "{text}"
    );
    assert!(
        text.ends_with("(is the port already in use? try another --port)"),
        "{text}"
    );
    Ok(())
}

/// Replace the port number after `127.0.0.1:` with `PORT`.
fn regex_lite_port(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("127.0.0.1:") {
        out.push_str(&rest[..i + 10]);
        rest = rest[i + 10..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push_str("PORT");
    }
    out.push_str(rest);
    out
}
