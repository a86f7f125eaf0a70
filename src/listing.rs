//! How a channel's messages are laid out to be scanned: one person's run of messages under one name and avatar, a divider where the day changes, and the avatar drawn from a name.

/// Messages of one author less than this far apart (and on one day) form one run.
pub const RUN_GAP_MS: i64 = 5 * 60 * 1000;

const DAY_MS: i64 = 86_400_000;

/// One message, as far as its place in the list goes.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    pub author: &'a str,
    /// When it was sent (a message still pending has no time yet: it is "now").
    pub sent_at_ms: Option<i64>,
    /// Another divider ("new messages") goes right above it, which ends a run.
    pub after_divider: bool,
}

/// What a message shows above and beside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Place {
    /// The day changes here: a divider with this local day goes above it.
    pub new_day: Option<i64>,
    /// It starts a run: its author's avatar and name show. Otherwise it continues the
    /// run above it and shows neither.
    pub heads: bool,
}

/// The local day (days since 1970-01-01 in the reader's time zone) of an instant, given
/// the zone's offset east of UTC in minutes at that instant.
pub fn local_day(ms: i64, offset_east_minutes: i32) -> i64 {
    (ms + i64::from(offset_east_minutes) * 60_000).div_euclid(DAY_MS)
}

/// The places of messages listed oldest first. `day_of` maps a send time to its local
/// day (see [`local_day`]); `None` where days are unknown (no dividers then).
pub fn places<'a>(items: impl IntoIterator<Item = Item<'a>>, day_of: impl Fn(i64) -> Option<i64>) -> Vec<Place> {
    let mut out = Vec::new();
    let mut previous: Option<(&str, Option<i64>)> = None;
    let mut day: Option<i64> = None;
    for item in items {
        let this_day = item.sent_at_ms.and_then(&day_of);
        let new_day = match (this_day, day) {
            (Some(d), Some(before)) if d == before => None,
            (Some(d), _) => Some(d),
            (None, _) => None,
        };
        if this_day.is_some() {
            day = this_day;
        }
        let continues = !item.after_divider
            && new_day.is_none()
            && previous.is_some_and(|(author, at)| {
                author == item.author
                    && match (at, item.sent_at_ms) {
                        (Some(a), Some(b)) => (0..RUN_GAP_MS).contains(&(b - a)),
                        // A pending message (no time yet) follows its author's last one.
                        (_, None) => true,
                        (None, Some(_)) => false,
                    }
            });
        out.push(Place {
            new_day,
            heads: !continues,
        });
        previous = Some((item.author, item.sent_at_ms.or(previous.and_then(|(_, at)| at))));
    }
    out
}

/// How a day divider names its day, seen from `today`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayName {
    Today,
    Yesterday,
    /// Any other day: written out as a date.
    Date,
}

pub fn day_name(day: i64, today: i64) -> DayName {
    match today - day {
        0 => DayName::Today,
        1 => DayName::Yesterday,
        _ => DayName::Date,
    }
}

/// The avatar drawn for a name until it has a picture: its initials on a colour of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Avatar {
    /// One or two letters: the first of the name and of its second word, if any.
    pub initials: String,
    /// A hue (0–359) that is the same for the name everywhere.
    pub hue: u16,
}

pub fn avatar(name: &str) -> Avatar {
    let mut words = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter_map(|w| w.chars().next());
    let initials = words
        .next()
        .into_iter()
        .chain(words.next())
        .flat_map(char::to_uppercase)
        .collect::<String>();
    // FNV-1a: stable across builds and platforms (unlike std's hasher).
    let hash = name
        .bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    Avatar {
        initials: if initials.is_empty() { "?".to_owned() } else { initials },
        hue: (hash % 360) as u16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    /// 2026-11-30 12:00 UTC.
    const NOON: i64 = 1_796_040_000_000;

    fn item(author: &str, at: Option<i64>) -> Item<'_> {
        Item {
            author,
            sent_at_ms: at,
            after_divider: false,
        }
    }

    fn utc(ms: i64) -> Option<i64> {
        Some(local_day(ms, 0))
    }

    fn heads(places: &[Place]) -> Vec<bool> {
        places.iter().map(|p| p.heads).collect()
    }

    #[test]
    fn one_authors_close_messages_form_a_run() {
        let p = places(
            [
                item("ann", Some(NOON)),
                item("ann", Some(NOON + MIN)),
                item("ann", Some(NOON + 4 * MIN)),
                item("bob", Some(NOON + 5 * MIN)),
                item("ann", Some(NOON + 6 * MIN)),
            ],
            utc,
        );
        assert_eq!(heads(&p), [true, false, false, true, true]);
    }

    #[test]
    fn a_pause_of_five_minutes_starts_a_new_run() {
        let p = places([item("ann", Some(NOON)), item("ann", Some(NOON + 5 * MIN))], utc);
        assert_eq!(heads(&p), [true, true]);
        // Out of order times (clock skew between devices) never continue a run.
        let p = places([item("ann", Some(NOON)), item("ann", Some(NOON - MIN))], utc);
        assert_eq!(heads(&p), [true, true]);
    }

    #[test]
    fn a_pending_message_continues_its_authors_run() {
        let p = places([item("ann", Some(NOON)), item("ann", None), item("ann", None)], utc);
        assert_eq!(heads(&p), [true, false, false]);
        let p = places([item("bob", Some(NOON)), item("ann", None)], utc);
        assert_eq!(heads(&p), [true, true]);
    }

    #[test]
    fn the_new_messages_line_ends_a_run() {
        let mut second = item("ann", Some(NOON + MIN));
        second.after_divider = true;
        let p = places([item("ann", Some(NOON)), second], utc);
        assert_eq!(heads(&p), [true, true]);
    }

    #[test]
    fn a_divider_goes_above_the_first_message_of_each_day() {
        let day = local_day(NOON, 0);
        let p = places(
            [
                item("ann", Some(NOON)),
                item("ann", Some(NOON + MIN)),
                item("ann", None),
                // Two minutes apart, but across midnight: a new day and a new run.
                item("ann", Some(NOON + 12 * 60 * MIN - MIN)),
                item("ann", Some(NOON + 12 * 60 * MIN + MIN)),
            ],
            utc,
        );
        let days: Vec<_> = p.iter().map(|p| p.new_day).collect();
        assert_eq!(days, [Some(day), None, None, None, Some(day + 1)]);
        assert_eq!(heads(&p), [true, false, false, true, true]);
    }

    #[test]
    fn without_days_there_are_no_dividers() {
        let p = places([item("ann", Some(NOON)), item("ann", Some(NOON + DAY_MS))], |_| None);
        assert!(p.iter().all(|p| p.new_day.is_none()));
    }

    #[test]
    fn local_days_follow_the_time_zone() {
        // 23:30 UTC is the next day in Tokyo (+9 h) and the same day in New York (−5 h).
        let late = NOON + 11 * 60 * MIN + 30 * MIN;
        let utc_day = local_day(late, 0);
        assert_eq!(local_day(late, 9 * 60), utc_day + 1);
        assert_eq!(local_day(late, -5 * 60), utc_day);
        // Before 1970 too (div_euclid, not truncation).
        assert_eq!(local_day(-1, 0), -1);
    }

    #[test]
    fn days_are_named_from_today() {
        assert_eq!(day_name(10, 10), DayName::Today);
        assert_eq!(day_name(9, 10), DayName::Yesterday);
        assert_eq!(day_name(3, 10), DayName::Date);
        assert_eq!(day_name(11, 10), DayName::Date);
    }

    #[test]
    fn avatars_take_the_initials_of_the_first_two_words() {
        assert_eq!(avatar("ann").initials, "A");
        assert_eq!(avatar("ann-marie_smith").initials, "AM");
        assert_eq!(avatar("Émile zola").initials, "ÉZ");
        assert_eq!(avatar("--").initials, "?");
    }

    #[test]
    fn a_names_colour_is_its_own_and_stable() {
        assert_eq!(avatar("ann").hue, avatar("ann").hue);
        assert!(avatar("ann").hue < 360);
        // Different names spread over the wheel, not onto one colour.
        let hues: std::collections::BTreeSet<u16> = ["ann", "bob", "cyd", "dee", "eve", "fay", "gus", "hal"]
            .iter()
            .map(|n| avatar(n).hue)
            .collect();
        assert!(hues.len() >= 6, "{hues:?}");
    }
}
