//! Small building blocks shared by the pages.

use channels_protocol::wire::Notice;
use leptos::prelude::*;

use crate::auth::Explanation;

/// An error with its explanation, its fix and, when given, a way to start again.
#[component]
pub fn ErrorPanel(
    /// The heading.
    title: &'static str,
    /// What happened and how to fix it.
    explanation: Explanation,
    /// Starts a clean sign-in.
    retry: Option<Callback<()>>,
) -> impl IntoView {
    let Explanation { message, fix, detail } = explanation;
    view! {
        <div class="panel error" role="alert">
            <h2>{title}</h2>
            <p>{message}</p>
            {fix.map(|fix| view! { <p class="fix"><strong>"How to fix: "</strong>{fix}</p> })}
            {detail.map(|detail| view! { <p class="detail"><code>{detail}</code></p> })}
            {retry.map(|retry| view! {
                <button class="primary" on:click=move |_| retry.run(())>"Try again"</button>
            })}
        </div>
    }
}

/// Why the channel list is empty or incomplete.
#[component]
pub fn NoticePanel(
    /// The API's notice.
    notice: Notice,
) -> impl IntoView {
    view! {
        <div class="panel notice" role="note" data-code=notice.code>
            <p>{notice.message}</p>
            {notice.fix.map(|fix| view! { <p class="fix"><strong>"How to fix: "</strong>{fix}</p> })}
        </div>
    }
}

/// The user's channels, or a plain statement that there are none.
#[component]
pub fn ChannelList(
    /// Channel names, in order.
    channels: Vec<String>,
) -> impl IntoView {
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

/// The diagnostics panel: every check with its verdict and fix, and the token's claims.
#[component]
pub fn Diagnostics(
    /// The checks, in order.
    checks: Vec<channels_protocol::diagnostics::Check>,
    /// The access token's claims, masked for display.
    claims: serde_json::Map<String, serde_json::Value>,
) -> impl IntoView {
    let failed = checks.iter().filter(|c| !c.passed).count();
    let summary = if failed == 0 {
        "Every check passed.".to_owned()
    } else {
        format!("{failed} of {} checks failed.", checks.len())
    };
    let claims = serde_json::to_string_pretty(&claims).unwrap_or_default();
    view! {
        <section class="diagnostics" aria-labelledby="diagnostics">
            <h2 id="diagnostics">"Sign-in diagnostics"</h2>
            <p role="status">{summary}</p>
            <ul class="checks" aria-label="Checks">
                {checks
                    .into_iter()
                    .map(|check| {
                        let verdict = if check.passed { "Pass" } else { "Fail" };
                        view! {
                            <li class=if check.passed { "pass" } else { "fail" }>
                                <span class="verdict">{verdict}</span>
                                <strong>{check.name}</strong>
                                <span class="found">{check.found}</span>
                                {(!check.passed)
                                    .then(|| view! { <p class="fix"><strong>"How to fix: "</strong>{check.fix}</p> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <details>
                <summary>"Decoded access token claims"</summary>
                <pre>{claims}</pre>
            </details>
        </section>
    }
}
