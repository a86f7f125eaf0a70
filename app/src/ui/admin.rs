//! The accounts panel of the admin page: search accounts, see when each was created and last seen, disable or enable it, grant or revoke admin rights.

use crate::api::{AccountRow, act_on_account, list_accounts};
use crate::state::format_date;
use leptos::prelude::*;
use leptos::task::spawn_local;
use parley::account::AdminAction;

#[component]
pub fn AccountsPanel() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let accounts = RwSignal::new(Vec::<AccountRow>::new());
    let error = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<String>);
    let load = move || {
        let wanted = search.get_untracked();
        spawn_local(async move {
            match list_accounts(wanted).await {
                Ok(found) => accounts.set(found),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    // In the browser only (the page is rendered on the server first).
    Effect::new(move |_| load());
    let act = move |username: String, action: AdminAction| {
        spawn_local(async move {
            match act_on_account(username.clone(), action).await {
                Ok(()) => {
                    error.set(None);
                    note.set(Some(format!("{username}: {}", done(action))));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            load();
        });
    };
    let find = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        load();
    };
    view! {
        <section class="accounts-panel" data-testid="accounts" aria-labelledby="accounts-title">
            <h2 id="accounts-title">"Accounts"</h2>
            <form class="inspector-filter" role="search" on:submit=find>
                <input
                    type="search"
                    placeholder="username contains…"
                    aria-label="Search accounts"
                    data-testid="account-search"
                    maxlength="32"
                    prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev))
                />
                <button type="submit" data-testid="account-find">
                    "Find"
                </button>
            </form>
            <p role="status" class="hint" data-testid="accounts-note">{move || note.get()}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <table class="events accounts">
                <thead>
                    <tr>
                        <th>"account"</th>
                        <th>"created"</th>
                        <th>"last seen"</th>
                        <th>"state"</th>
                        <th>"actions"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || accounts.get() key=|a: &AccountRow| (a.user_id, a.admin, a.disabled, a.last_seen_ms) let:account>
                        <AccountLine account act />
                    </For>
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn AccountLine(account: AccountRow, act: impl Fn(String, AdminAction) + Copy + Send + Sync + 'static) -> impl IntoView {
    let name = account.username.clone();
    let button = move |action: AdminAction, label: &'static str, testid: &'static str| {
        let name = name.clone();
        view! {
            <button class="link" data-testid=testid aria-label=format!("{label} {name}") on:click=move |_| act(name.clone(), action)>
                {label}
            </button>
        }
    };
    let state = match (account.disabled, account.admin) {
        (true, _) => "disabled",
        (false, true) => "admin",
        (false, false) => "active",
    };
    view! {
        <tr data-testid="account-row" data-username=account.username.clone() data-state=state>
            <td>
                <strong>{account.display_name.clone().unwrap_or_else(|| account.username.clone())}</strong>
                " "
                <span class="hint">{format!("@{}", account.username)}</span>
            </td>
            <td>{format_date(account.created_at_ms)}</td>
            <td>{account.last_seen_ms.map(format_date).unwrap_or_else(|| "no session".to_owned())}</td>
            <td data-testid="account-state">{state}</td>
            <td class="account-actions">
                {if account.disabled {
                    button(AdminAction::Enable, "Enable", "account-enable")
                } else {
                    button(AdminAction::Disable, "Disable", "account-disable")
                }}
                {if account.admin {
                    button(AdminAction::RevokeAdmin, "Revoke admin", "account-revoke")
                } else {
                    button(AdminAction::GrantAdmin, "Make admin", "account-grant")
                }}
            </td>
        </tr>
    }
}

fn done(action: AdminAction) -> &'static str {
    match action {
        AdminAction::Disable => "disabled; its sessions have ended",
        AdminAction::Enable => "enabled",
        AdminAction::GrantAdmin => "is an admin now",
        AdminAction::RevokeAdmin => "is no longer an admin",
    }
}
