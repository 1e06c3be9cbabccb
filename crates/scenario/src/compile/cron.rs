//! Cron expressions of the platform's jobs.

/// Parses a 6-field cron expression (`sec min hour day month weekday`), the dialect of
/// tokio-cron-scheduler.
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .build()
        .parse(expr)
        .map_err(|e| e.to_string())
}
