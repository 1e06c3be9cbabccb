//! Owners: who fixes a failing check, where they are, and when they work (issue #13).
//!
//! An [`Owner`] has an IANA time zone, working hours on some days of the week, contacts
//! (each a URL kept in a secret) and an optional escalation owner. Everything here is a
//! pure function of an explicit `now`, so reports, notifications and the countdown are
//! tested with a fake clock. The owners file (`owners.yaml`) is read by
//! `rehearse-scenario`, which builds these types; this crate knows no YAML.
//!
//! Working hours are local wall-clock times: `09:00-17:00` in `Asia/Singapore` is 01:00 to
//! 09:00 UTC. A block may cross midnight (`22:00-06:00` belongs to the day it starts on).
//! Around a daylight-saving change a start that does not exist (02:30 on the night clocks
//! jump) moves forward by the jump, and one that exists twice is taken at its first
//! occurrence.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{
    DateTime, Datelike as _, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc,
    Weekday,
};
pub use chrono_tz::Tz;

/// The owners of a suite, by the name `owner:` uses.
#[derive(Debug, Clone, Default)]
pub struct Owners {
    by_name: BTreeMap<String, Owner>,
}

impl Owners {
    /// The owners given, by name (a later one of the same name replaces an earlier one).
    pub fn new(owners: impl IntoIterator<Item = Owner>) -> Self {
        Self {
            by_name: owners.into_iter().map(|o| (o.name.clone(), o)).collect(),
        }
    }

    /// The owner named `name`, as written in an `owner:` key.
    pub fn get(&self, name: &str) -> Option<&Owner> {
        self.by_name.get(name)
    }

    /// Every owner, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Owner> {
        self.by_name.values()
    }

    /// Every owner's name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.by_name.keys().map(String::as_str)
    }

    /// Whether there is no owner.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// How many owners there are.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }
}

/// One owner: a team or a person.
#[derive(Debug, Clone)]
pub struct Owner {
    /// The name `owner:` uses (`devops`).
    pub name: String,
    /// How a person reads it (`DevOps, Singapore`); the name when none is given.
    pub display_name: String,
    /// Where they are.
    pub time_zone: Tz,
    /// When they work, in their local time.
    pub hours: WorkingHours,
    /// Where messages go, in the order given.
    pub contacts: Vec<Contact>,
    /// Who hears of a failure they have not fixed in time.
    pub escalation: Option<Escalation>,
}

/// A contact: a kind of webhook and the secret that holds its URL (never the URL itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Which message format the URL expects.
    pub kind: ContactKind,
    /// The name of the secret (an environment variable) that holds the URL.
    pub url_secret: String,
}

/// The message format a contact's URL expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    /// A Slack incoming webhook (`{"text": …, "blocks": […]}`).
    Slack,
    /// A generic JSON webhook (rehearse's documented message).
    Webhook,
}

impl ContactKind {
    /// The key it is written with in `owners.yaml`.
    pub fn key(self) -> &'static str {
        match self {
            ContactKind::Slack => "slack",
            ContactKind::Webhook => "webhook",
        }
    }
}

/// Escalation: `owner` hears of a failure still unfixed `after` it was first sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// The owner escalated to (a name in the same owners file).
    pub owner: String,
    /// How long after the first message.
    pub after: std::time::Duration,
}

/// Working hours: one block of local time on each working day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    start: NaiveTime,
    /// `None` is midnight at the end of the day (`24:00`).
    end: Option<NaiveTime>,
    days: Vec<Weekday>,
}

/// Why working hours were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// Not `HH:MM-HH:MM`.
    #[error("`{0}` is not a range of times; write it as HH:MM-HH:MM, e.g. 09:00-17:30")]
    Range(String),
    /// Start and end are the same time.
    #[error("`{0}` is an empty range; a block that starts and ends at the same time has no hours")]
    Empty(String),
    /// Not a day of the week.
    #[error("`{0}` is not a day of the week; write mon, tue, wed, thu, fri, sat or sun")]
    Day(String),
    /// No day at all.
    #[error("no working day is given; list at least one, e.g. [mon, tue, wed, thu, fri]")]
    NoDays,
}

impl WorkingHours {
    /// Monday to Friday, 09:00 to 17:00.
    pub fn office() -> Self {
        Self {
            start: NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"),
            end: NaiveTime::from_hms_opt(17, 0, 0),
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
        }
    }

    /// Parses `HH:MM-HH:MM` (the end may be `24:00`, or earlier than the start for a block
    /// that crosses midnight) and day names (`mon`…`sun`, or in full, any case).
    pub fn parse(range: &str, days: &[&str]) -> Result<Self, HoursError> {
        let (start, end) = range
            .split_once('-')
            .ok_or_else(|| HoursError::Range(range.to_owned()))?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
        let start = time(start).ok_or_else(|| HoursError::Range(range.to_owned()))?;
        let end = match end.trim() {
            "24:00" => None,
            e => Some(time(e).ok_or_else(|| HoursError::Range(range.to_owned()))?),
        };
        if end == Some(start) {
            return Err(HoursError::Empty(range.to_owned()));
        }
        let mut parsed = Vec::new();
        for d in days {
            let day = parse_day(d).ok_or_else(|| HoursError::Day((*d).to_owned()))?;
            if !parsed.contains(&day) {
                parsed.push(day);
            }
        }
        if parsed.is_empty() {
            return Err(HoursError::NoDays);
        }
        parsed.sort_by_key(|d| d.num_days_from_monday());
        Ok(Self {
            start,
            end,
            days: parsed,
        })
    }

    /// The working days, Monday first.
    pub fn days(&self) -> &[Weekday] {
        &self.days
    }

    /// `09:00-17:00`.
    pub fn range(&self) -> String {
        let end = self
            .end
            .map_or_else(|| "24:00".to_owned(), |e| e.format("%H:%M").to_string());
        format!("{}-{end}", self.start.format("%H:%M"))
    }

    /// The block that starts on local date `day`, in UTC, if `day` is a working day.
    fn block(&self, tz: Tz, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.days.contains(&day.weekday()) {
            return None;
        }
        let start = resolve(tz, day.and_time(self.start));
        let end_day = match self.end {
            Some(end) if end > self.start => day.and_time(end),
            Some(end) => day.succ_opt()?.and_time(end),
            None => day.succ_opt()?.and_time(NaiveTime::MIN),
        };
        let end = resolve(tz, end_day);
        (end > start).then_some((start, end))
    }
}

fn parse_day(d: &str) -> Option<Weekday> {
    let d = d.trim().to_ascii_lowercase();
    let day = match d.get(..3)? {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    };
    let full = format!("{day:?}").to_ascii_lowercase();
    let names = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let ok = d.len() == 3 || names.iter().any(|n| *n == d) || full == d;
    ok.then_some(day)
}

/// A local wall-clock time as an instant: a time skipped by a daylight-saving jump moves
/// forward past the jump; a repeated one is taken at its first occurrence.
fn resolve(tz: Tz, mut local: NaiveDateTime) -> DateTime<Utc> {
    for _ in 0..4 {
        match tz.from_local_datetime(&local) {
            chrono::LocalResult::Single(t) => return t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            chrono::LocalResult::None => local += Duration::minutes(30),
        }
    }
    Utc.from_utc_datetime(&local)
}

/// Where an owner stands at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    /// Their local time then.
    pub local: DateTime<Tz>,
    /// Whether it is within their working hours.
    pub working: bool,
    /// When working: the end of the current block. Otherwise: the start of the next one.
    pub next_change: Option<DateTime<Utc>>,
    /// The instant this was computed for.
    pub now: DateTime<Utc>,
}

impl Availability {
    /// Off hours: how long until they are back (`None` when working, or never back).
    pub fn back_in(&self) -> Option<Duration> {
        (!self.working)
            .then_some(self.next_change)
            .flatten()
            .map(|t| t - self.now)
    }
}

/// Days looked at before an owner is called never available (two weeks covers any set of
/// working days).
const LOOK_AHEAD_DAYS: i64 = 15;

impl Owner {
    /// An owner with office hours in `time_zone` and no contacts.
    pub fn new(name: impl Into<String>, time_zone: Tz) -> Self {
        let name = name.into();
        Self {
            display_name: name.clone(),
            name,
            time_zone,
            hours: WorkingHours::office(),
            contacts: Vec::new(),
            escalation: None,
        }
    }

    /// Their local time at `now`.
    pub fn local_time(&self, now: DateTime<Utc>) -> DateTime<Tz> {
        now.with_timezone(&self.time_zone)
    }

    /// Whether they are working at `now`, and when that changes.
    pub fn availability(&self, now: DateTime<Utc>) -> Availability {
        let local = self.local_time(now);
        let today = local.date_naive();
        let mut found = None;
        for offset in -1..LOOK_AHEAD_DAYS {
            let Some(day) = today.checked_add_signed(Duration::days(offset)) else {
                continue;
            };
            let Some((start, end)) = self.hours.block(self.time_zone, day) else {
                continue;
            };
            if end <= now {
                continue;
            }
            found = Some(if start <= now {
                (true, Some(end))
            } else {
                (false, Some(start))
            });
            break;
        }
        let (working, next_change) = found.unwrap_or((false, None));
        Availability {
            local,
            working,
            next_change,
            now,
        }
    }

    /// The start of their next working hour at or after `now` (`now` itself when working).
    pub fn next_working_start(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let a = self.availability(now);
        if a.working { Some(now) } else { a.next_change }
    }

    /// How much of their working time lies between `from` and `to` (zero when `to` is not
    /// after `from`). Counted block by block, so a weekend in between counts nothing.
    pub fn working_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        let first = self.local_time(from).date_naive();
        let last = self.local_time(to).date_naive();
        let mut total = Duration::zero();
        let mut day = first.pred_opt().unwrap_or(first);
        // Bounded: ten years of days at most, whatever the inputs.
        for _ in 0..3700 {
            if day > last {
                break;
            }
            if let Some((start, end)) = self.hours.block(self.time_zone, day) {
                let (s, e) = (start.max(from), end.min(to));
                if e > s {
                    total += e - s;
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        total
    }

    /// One line on where they stand:
    /// `devops — 02:14 in Asia/Singapore, off hours; back in 6 h 46 min` or
    /// `devops — 10:05 in Europe/London, working hours (until 17:00)`.
    pub fn describe(&self, now: DateTime<Utc>) -> String {
        let a = self.availability(now);
        let clock = a.local.format("%H:%M");
        let zone = self.time_zone.name();
        if a.working {
            let until = a
                .next_change
                .map(|t| format!(" (until {})", self.local_time(t).format("%H:%M")))
                .unwrap_or_default();
            format!("{} — {clock} in {zone}, working hours{until}", self.name)
        } else {
            let back = a.back_in().map_or_else(
                || "no working hours ahead".to_owned(),
                |d| format!("back in {}", HumanSpan(d)),
            );
            format!("{} — {clock} in {zone}, off hours; {back}", self.name)
        }
    }
}

/// A span of time as a person reads it: `6 h 46 min`, `2 d 3 h`, `12 min`, `0 min`.
/// Minutes are rounded up, so "back in 1 min" is never shown as "0 min" while waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanSpan(pub Duration);

impl fmt::Display for HumanSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.num_seconds().max(0);
        let minutes = (secs + 59) / 60;
        let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
        match (d, h, m) {
            (0, 0, m) => write!(f, "{m} min"),
            (0, h, 0) => write!(f, "{h} h"),
            (0, h, m) => write!(f, "{h} h {m} min"),
            (d, 0, _) => write!(f, "{d} d"),
            (d, h, _) => write!(f, "{d} d {h} h"),
        }
    }
}

/// Parses an IANA time zone name (`Asia/Singapore`, `UTC`).
pub fn parse_time_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn owner(tz: &str, range: &str, days: &[&str]) -> Owner {
        let mut o = Owner::new("devops", parse_time_zone(tz).unwrap());
        o.hours = WorkingHours::parse(range, days).unwrap();
        o
    }

    const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri"];

    #[test]
    fn off_hours_in_singapore_says_when_they_are_back() {
        // Thursday 2026-12-03 18:14 UTC is Friday 02:14 in Singapore; back at 09:00 local.
        let o = owner("Asia/Singapore", "09:00-18:00", WEEKDAYS);
        let now = at("2026-12-03T18:14:00Z");
        assert_eq!(
            o.describe(now),
            "devops — 02:14 in Asia/Singapore, off hours; back in 6 h 46 min"
        );
    }

    #[test]
    fn working_hours_say_until_when() {
        let o = owner("Europe/London", "09:00-17:00", WEEKDAYS);
        let now = at("2026-12-03T10:05:00Z");
        assert_eq!(
            o.describe(now),
            "devops — 10:05 in Europe/London, working hours (until 17:00)"
        );
        assert_eq!(o.next_working_start(now), Some(now));
    }

    #[test]
    fn friday_evening_is_back_on_monday() {
        let o = owner("America/New_York", "09:00-17:00", WEEKDAYS);
        // Friday 2026-12-04 18:00 in New York (23:00 UTC): back Monday 09:00 (14:00 UTC).
        let now = at("2026-12-04T23:00:00Z");
        let a = o.availability(now);
        assert!(!a.working);
        assert_eq!(a.next_change, Some(at("2026-12-07T14:00:00Z")));
        assert_eq!(HumanSpan(a.back_in().unwrap()).to_string(), "2 d 15 h");
    }

    #[test]
    fn working_time_skips_the_weekend() {
        let o = owner("UTC", "09:00-17:00", WEEKDAYS);
        // Friday 15:00 to Monday 10:00: 2 h on Friday, 1 h on Monday.
        let got = o.working_time_between(at("2026-12-04T15:00:00Z"), at("2026-12-07T10:00:00Z"));
        assert_eq!(got, Duration::hours(3));
        assert_eq!(
            o.working_time_between(at("2026-12-07T10:00:00Z"), at("2026-12-04T15:00:00Z")),
            Duration::zero()
        );
    }

    #[test]
    fn a_night_shift_crosses_midnight() {
        let o = owner("UTC", "22:00-06:00", &["mon"]);
        // Monday 2026-12-07 22:00 to Tuesday 06:00.
        assert!(o.availability(at("2026-12-08T03:00:00Z")).working);
        assert!(!o.availability(at("2026-12-08T07:00:00Z")).working);
        assert_eq!(
            o.working_time_between(at("2026-12-07T00:00:00Z"), at("2026-12-09T00:00:00Z")),
            Duration::hours(8)
        );
    }

    #[test]
    fn a_start_skipped_by_daylight_saving_moves_forward() {
        // Europe/Berlin jumps from 02:00 to 03:00 on Sunday 2027-03-28.
        let o = owner("Europe/Berlin", "02:30-04:00", &["sun"]);
        let a = o.availability(at("2027-03-28T00:00:00Z"));
        assert!(!a.working);
        // 03:00 CEST = 01:00 UTC.
        assert_eq!(a.next_change, Some(at("2027-03-28T01:00:00Z")));
    }

    #[test]
    fn bad_hours_are_refused_with_the_fix() {
        assert!(matches!(
            WorkingHours::parse("9-5", WEEKDAYS),
            Err(HoursError::Range(_))
        ));
        assert!(matches!(
            WorkingHours::parse("09:00-09:00", WEEKDAYS),
            Err(HoursError::Empty(_))
        ));
        assert!(matches!(
            WorkingHours::parse("09:00-17:00", &["funday"]),
            Err(HoursError::Day(_))
        ));
        assert!(matches!(
            WorkingHours::parse("09:00-17:00", &[]),
            Err(HoursError::NoDays)
        ));
        let h = WorkingHours::parse("00:00-24:00", &["Saturday", "sun"]).unwrap();
        assert_eq!(h.range(), "00:00-24:00");
        assert_eq!(h.days(), &[Weekday::Sat, Weekday::Sun]);
    }

    #[test]
    fn spans_read_like_a_person_writes_them() {
        assert_eq!(HumanSpan(Duration::seconds(0)).to_string(), "0 min");
        assert_eq!(HumanSpan(Duration::seconds(61)).to_string(), "2 min");
        assert_eq!(HumanSpan(Duration::hours(3)).to_string(), "3 h");
        assert_eq!(HumanSpan(Duration::hours(49)).to_string(), "2 d 1 h");
        assert_eq!(HumanSpan(Duration::days(2)).to_string(), "2 d");
    }
}
