//! The accounts panel of the admin page: search accounts, see when each was created and last seen, disable or enable it, grant or revoke admin rights, make a password reset link.

use crate::api::{AccountRow, act_on_account, admin_delete_account, list_accounts, make_reset_link};
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
    // The last reset link made: shown (to copy) until the next.
    let link = RwSignal::new(None::<(String, String)>);
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
    let reset = move |username: String| {
        spawn_local(async move {
            match make_reset_link(username.clone()).await {
                Ok(path) => {
                    error.set(None);
                    let origin = crate::state::web_origin();
                    link.set(Some((username, format!("{origin}{path}"))));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let delete = move |username: String| {
        let asked = format!(
            "Delete the account {username} for good? Its name and profile go everywhere; its messages stay as a deleted user's."
        );
        if !crate::ui::dialog::confirm(&asked) {
            return;
        }
        spawn_local(async move {
            match admin_delete_account(username.clone(), false).await {
                Ok(()) => {
                    error.set(None);
                    note.set(Some(format!("{username}: deleted")));
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
            {move || {
                link.get()
                    .map(|(username, url)| {
                        view! {
                            <div class="secret" data-testid="reset-link-box">
                                <span>
                                    {format!("A link for {username} to set a new password: it works once, for 24 hours. Give it to them privately.")}
                                </span>
                                <input readonly data-testid="reset-link" aria-label="Reset link" prop:value=url on:focus=|ev| crate::ui::dialog::select_all(&ev) />
                            </div>
                        }
                    })
            }}
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
                        <AccountLine account act reset delete />
                    </For>
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn AccountLine(
    account: AccountRow,
    act: impl Fn(String, AdminAction) + Copy + Send + Sync + 'static,
    reset: impl Fn(String) + Copy + Send + Sync + 'static,
    delete: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let for_reset = account.username.clone();
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
                <button
                    class="link"
                    data-testid="account-reset"
                    aria-label=format!("Password reset link for {for_reset}")
                    on:click={
                        let name = for_reset.clone();
                        move |_| reset(name.clone())
                    }
                >
                    "Reset link"
                </button>
                <button
                    class="link danger"
                    data-testid="account-delete"
                    aria-label=format!("Delete the account {for_reset}")
                    on:click={
                        let name = for_reset.clone();
                        move |_| delete(name.clone())
                    }
                >
                    "Delete"
                </button>
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
