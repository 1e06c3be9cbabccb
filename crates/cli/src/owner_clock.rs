//! The owners' clocks the reports show (#13): each owner's local time, working hours and
//! when they are back, computed at [`clock::now`](crate::clock::now).

use chrono::{DateTime, Utc};
use rehearse_owners::{HumanSpan, Owner, Owners};
use rehearse_report::{OwnerClock, OwnerClocks};

/// The clocks of every owner at `now`.
pub(crate) fn clocks(owners: &Owners, now: DateTime<Utc>) -> OwnerClocks {
    OwnerClocks {
        owners: owners.iter().map(|o| clock(o, now)).collect(),
    }
}

/// Where `owner` stands at `now`.
pub(crate) fn clock(owner: &Owner, now: DateTime<Utc>) -> OwnerClock {
    let a = owner.availability(now);
    let next = match (a.working, a.next_change) {
        (true, Some(end)) => format!("until {}", owner.local_time(end).format("%H:%M")),
        (true, None) => "working".to_owned(),
        (false, _) => a.back_in().map_or_else(
            || "no working hours ahead".to_owned(),
            |d| format!("back in {}", HumanSpan(d)),
        ),
    };
    let days: Vec<String> = owner
        .hours
        .days()
        .iter()
        .map(|d| d.to_string().to_lowercase())
        .collect();
    OwnerClock {
        name: owner.name.clone(),
        display_name: owner.display_name.clone(),
        local_time: a.local.format("%H:%M").to_string(),
        time_zone: owner.time_zone.name().to_owned(),
        hours: format!("{} {}", owner.hours.range(), days.join(",")),
        working: a.working,
        next,
        line: owner.describe(now),
    }
}
