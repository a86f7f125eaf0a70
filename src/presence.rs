//! Presence: online, away or offline per user, from all of their connections (tabs and
//! devices), with a grace period on disconnect so a reload does not flicker.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a user with no connection left still counts as online (a reload reconnects
/// well within this).
pub const GRACE_MS: u64 = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// At least one connection whose page is in view.
    Online,
    /// Connected, but every page is hidden.
    Away,
    Offline,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }
}

/// Every user's connections and whether each is away. Pure: the server calls it on
/// connect, on a page's visibility change, on disconnect, and when a grace period ends,
/// and broadcasts the changes it returns.
#[derive(Clone, Debug, Default)]
pub struct PresenceBook {
    /// user → connection id → away
    users: BTreeMap<String, BTreeMap<u64, bool>>,
    /// What was last announced for each user.
    announced: BTreeMap<String, Status>,
}

impl PresenceBook {
    fn status_now(&self, user: &str) -> Status {
        match self.users.get(user) {
            None => Status::Offline,
            Some(conns) if conns.values().any(|away| !away) => Status::Online,
            Some(_) => Status::Away,
        }
    }

    /// Announces the user's status if it changed; never announces offline (that waits
    /// for the grace period, see [`PresenceBook::expire`]).
    fn settle(&mut self, user: &str) -> Option<Status> {
        let now = self.status_now(user);
        if now == Status::Offline {
            return None;
        }
        let before = self.announced.insert(user.to_owned(), now);
        (before != Some(now)).then_some(now)
    }

    pub fn connect(&mut self, user: &str, connection: u64) -> Option<Status> {
        self.users.entry(user.to_owned()).or_default().insert(connection, false);
        self.settle(user)
    }

    pub fn set_away(&mut self, user: &str, connection: u64, away: bool) -> Option<Status> {
        let conns = self.users.get_mut(user)?;
        *conns.get_mut(&connection)? = away;
        self.settle(user)
    }

    /// The connection closed. Returns true when it was the user's last: call
    /// [`PresenceBook::expire`] after [`GRACE_MS`].
    pub fn disconnect(&mut self, user: &str, connection: u64) -> bool {
        let Some(conns) = self.users.get_mut(user) else {
            return false;
        };
        conns.remove(&connection);
        if conns.is_empty() {
            self.users.remove(user);
            return true;
        }
        false
    }

    /// The grace period after a last disconnect ended: offline, unless they came back.
    /// A change of status among the remaining connections is announced too.
    pub fn expire(&mut self, user: &str) -> Option<Status> {
        if self.users.contains_key(user) {
            return self.settle(user);
        }
        let before = self.announced.remove(user);
        before.is_some().then_some(Status::Offline)
    }

    /// After a disconnect that was not the last: the others may all be away.
    pub fn recheck(&mut self, user: &str) -> Option<Status> {
        self.settle(user)
    }

    /// Everyone announced as online or away, for a newcomer.
    pub fn snapshot(&self) -> Vec<(String, Status)> {
        self.announced.iter().map(|(u, s)| (u.clone(), *s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_if_any_tab_is_away_if_all_hidden_offline_after_the_grace_period() {
        let mut book = PresenceBook::default();
        assert_eq!(book.connect("ada", 1), Some(Status::Online));
        assert_eq!(book.connect("ada", 2), None, "a second tab changes nothing");
        assert_eq!(book.set_away("ada", 1, true), None, "the other tab is in view");
        assert_eq!(book.set_away("ada", 2, true), Some(Status::Away));
        assert_eq!(book.set_away("ada", 2, false), Some(Status::Online));
        assert!(!book.disconnect("ada", 2));
        assert_eq!(book.recheck("ada"), Some(Status::Away), "the tab left is hidden");
        assert!(book.disconnect("ada", 1), "the last connection");
        assert_eq!(
            book.snapshot(),
            vec![("ada".to_owned(), Status::Away)],
            "not offline yet"
        );
        // A reload: back within the grace period, no offline is ever announced.
        assert_eq!(book.connect("ada", 3), Some(Status::Online));
        assert_eq!(book.expire("ada"), None);
        assert!(book.disconnect("ada", 3));
        assert_eq!(book.expire("ada"), Some(Status::Offline));
        assert_eq!(book.expire("ada"), None, "announced once");
        assert!(book.snapshot().is_empty());
        assert_eq!(book.set_away("nobody", 9, true), None);
    }
}
