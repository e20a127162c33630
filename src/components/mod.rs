//! Small building blocks shared by the pages.

use channels_protocol::diagnostics::Check;
use channels_protocol::wire::Notice;
use leptos::prelude::*;

use crate::auth::Explanation;

/// A line saying what the app is waiting for, announced to screen readers.
#[component]
pub fn Status(text: &'static str) -> impl IntoView {
    view! {
        <p class="muted" role="status">
            {text}
        </p>
    }
}

/// "How to fix: …", when there is a fix.
#[component]
fn Fix(fix: Option<String>) -> impl IntoView {
    fix.map(|fix| {
        view! {
            <p class="fix">
                <strong>"How to fix: "</strong>
                {fix}
            </p>
        }
    })
}

/// Entra's own words, for support.
#[component]
fn Detail(detail: Option<String>) -> impl IntoView {
    detail.map(|detail| {
        view! {
            <p class="detail">
                <code>{detail}</code>
            </p>
        }
    })
}

/// An error with its explanation, its fix and, when given, a way to start again.
#[component]
pub fn ErrorPanel(
    title: &'static str,
    explanation: Explanation,
    #[prop(default = None)] retry: Option<Callback<()>>,
) -> impl IntoView {
    let Explanation { message, fix, detail } = explanation;
    view! {
        <div class="panel error" role="alert">
            <h2>{title}</h2>
            <p>{message}</p>
            <Fix fix />
            <Detail detail />
            {retry
                .map(|retry| {
                    view! {
                        <button class="primary" on:click=move |_| retry.run(())>
                            "Try again"
                        </button>
                    }
                })}
        </div>
    }
}

/// Why the user is signed out, above the sign-in button.
#[component]
pub fn SignedOutNotice(notice: Explanation) -> impl IntoView {
    view! {
        <div class="panel notice" role="status">
            <p>{notice.message}</p>
            <Detail detail=notice.detail />
        </div>
    }
}

/// Why the channel list is empty or incomplete.
#[component]
pub fn NoticePanel(notice: Notice) -> impl IntoView {
    view! {
        <div class="panel notice" role="note" data-code=notice.code>
            <p>{notice.message}</p>
            <Fix fix=notice.fix />
        </div>
    }
}

/// The user's channels, or a plain statement that there are none.
#[component]
pub fn ChannelList(channels: Vec<String>) -> impl IntoView {
    if channels.is_empty() {
        return view! { <p class="muted">"You have no channels."</p> }.into_any();
    }
    view! {
        <ul class="channels" aria-label="Your channels">
            {channels.into_iter().map(|channel| view! { <li>{channel}</li> }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Every check with its verdict and fix, or why the token could not be checked; `waiting`
/// while the API's verdict is still to come.
#[component]
pub fn CheckList(checks: Result<Vec<Check>, String>, waiting: bool) -> impl IntoView {
    let checks = match checks {
        Ok(checks) => checks,
        Err(why) => return view! { <p role="alert">{why}</p> }.into_any(),
    };
    let failed = checks.iter().filter(|c| !c.passed).count();
    let mut summary = match failed {
        0 => "Every check passed.".to_owned(),
        _ => format!("{failed} of {} checks failed.", checks.len()),
    };
    if waiting {
        summary += " Asking the API about this token…";
    }
    let items = checks
        .into_iter()
        .map(|check| {
            view! {
                <li class=if check.passed { "pass" } else { "fail" }>
                    <span class="verdict">{if check.passed { "Pass" } else { "Fail" }}</span>
                    <strong>{check.name}</strong>
                    <span class="found">{check.found}</span>
                    <Fix fix=(!check.passed).then(|| check.fix.to_owned()) />
                </li>
            }
        })
        .collect_view();
    view! {
        <p role="status">{summary}</p>
        <ul class="checks" aria-label="Checks">
            {items}
        </ul>
    }
    .into_any()
}

/// The diagnostics panel: the checks and the token's claims (indented JSON, masked), each
/// given as a view that follows the newest token.
#[component]
pub fn Diagnostics(checks: AnyView, claims: AnyView) -> impl IntoView {
    view! {
        <section class="diagnostics" aria-labelledby="diagnostics">
            <h2 id="diagnostics">"Sign-in diagnostics"</h2>
            {checks}
            <details>
                <summary>"Decoded access token claims"</summary>
                <pre>{claims}</pre>
            </details>
        </section>
    }
}
