//! Who is typing in a channel: ephemeral notes (never stored) that expire by themselves.

use std::collections::BTreeMap;

/// How long one "typing" note lasts unless renewed. Clients renew every
/// [`RENEW_MS`] while typing, so a stopped typist disappears within this.
pub const TTL_MS: f64 = 4_000.0;
/// How often a typing client says so again.
pub const RENEW_MS: f64 = 2_000.0;

/// The people typing in one channel, each until their note expires.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Typists {
    until: BTreeMap<String, f64>,
}

impl Typists {
    /// `user` is typing, as of `now_ms`.
    pub fn saw(&mut self, user: &str, now_ms: f64) {
        self.until.insert(user.to_owned(), now_ms + TTL_MS);
    }

    /// `user` sent their message: they are no longer typing.
    pub fn posted(&mut self, user: &str) {
        self.until.remove(user);
    }

    /// Forgets expired notes; returns when the next one expires, if any is left.
    pub fn prune(&mut self, now_ms: f64) -> Option<f64> {
        self.until.retain(|_, until| *until > now_ms);
        self.until.values().copied().reduce(f64::min)
    }

    /// Who is typing at `now_ms`, in name order.
    pub fn active(&self, now_ms: f64) -> Vec<&str> {
        self.until
            .iter()
            .filter(|(_, until)| **until > now_ms)
            .map(|(user, _)| user.as_str())
            .collect()
    }

    /// The line to show: "ada is typing…", "ada and bob are typing…", "several people are typing…".
    pub fn label(&self, now_ms: f64) -> Option<String> {
        match self.active(now_ms).as_slice() {
            [] => None,
            [one] => Some(format!("{one} is typing…")),
            [a, b] => Some(format!("{a} and {b} are typing…")),
            [a, b, c] => Some(format!("{a}, {b} and {c} are typing…")),
            _ => Some("Several people are typing…".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_expire_renew_and_end_with_a_post() {
        let mut t = Typists::default();
        assert_eq!(t.label(0.0), None);
        t.saw("bob", 0.0);
        t.saw("ada", 1_000.0);
        assert_eq!(t.label(1_000.0).as_deref(), Some("ada and bob are typing…"));
        assert_eq!(
            t.label(TTL_MS + 1.0).as_deref(),
            Some("ada is typing…"),
            "bob's note expired"
        );
        t.saw("bob", TTL_MS); // renewed
        assert_eq!(t.active(TTL_MS + 1.0), ["ada", "bob"]);
        t.posted("ada");
        assert_eq!(t.active(TTL_MS + 1.0), ["bob"]);
        assert_eq!(t.prune(TTL_MS + 1.0), Some(2.0 * TTL_MS));
        assert_eq!(t.prune(3.0 * TTL_MS), None);
        for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
            t.saw(name, i as f64);
        }
        assert_eq!(t.label(10.0).as_deref(), Some("Several people are typing…"));
    }
}
