//! The people on screen: their profiles (display name, status, time zone), fetched once per name in batches and kept up to date by the socket's profile frames.

use crate::state::ChatState;
use leptos::prelude::*;
use parley::profile::Profile;

/// The most names one request asks for (the server's limit).
const BATCH: usize = 200;

/// Asks the server for the profiles of those of `names` this page has not asked for yet.
/// Names it does not answer for (unknown) are remembered as having none.
pub fn want(state: ChatState, names: impl IntoIterator<Item = String>) {
    let mut missing: Vec<String> = Vec::new();
    state.people_asked.update_value(|asked| {
        for name in names {
            if asked.insert(name.clone()) {
                missing.push(name);
            }
        }
    });
    if missing.is_empty() || !state.me.with_untracked(Option::is_some) {
        return;
    }
    for chunk in missing.chunks(BATCH) {
        let chunk = chunk.to_vec();
        leptos::task::spawn_local(async move {
            match crate::api::profiles(chunk.clone()).await {
                Ok(found) => {
                    let bots: Vec<String> = found.iter().filter(|p| p.bot).map(|p| p.username.clone()).collect();
                    if !bots.is_empty() {
                        state.bots.update(|known| known.extend(bots));
                    }
                    state.profiles.update(|known| {
                        for name in chunk {
                            known.entry(name).or_default();
                        }
                        for person in found {
                            known.insert(person.username, person.profile);
                        }
                    })
                }
                // Asked again when next wanted.
                Err(_) => state.people_asked.update_value(|asked| {
                    for name in &chunk {
                        asked.remove(name);
                    }
                }),
            }
        });
    }
}

/// A profile as the server sent it (saved in this tab, or a socket's live frame). The name
/// is still fetched once when it shows (live frames do not say whether it is a bot's).
pub fn heard(state: ChatState, username: String, profile: Profile) {
    state.profiles.update(|known| {
        known.insert(username, profile);
    });
}

/// A deleted account: its profile and presence are forgotten.
pub fn forget(state: ChatState, username: &str) {
    state.profiles.update(|known| {
        known.remove(username);
    });
    state.presence.update(|present| {
        present.remove(username);
    });
}
