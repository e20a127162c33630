//! Small building blocks shared by the pages.

use channels_protocol::diagnostics::Check;
use channels_protocol::wire::Notice;
use reactive_graph::callback::Callback;

use crate::auth::Explanation;
use crate::markup::{el, Markup};

/// A line saying what the app is waiting for, announced to screen readers.
pub fn status(text: &'static str) -> Markup {
    el("p").class("muted").attr("role", "status").text(text).into()
}

/// "How to fix: …", when there is a fix.
fn fix(fix: Option<impl Into<String>>) -> Markup {
    fix.map(|fix| el("p").class("fix").child(el("strong").text("How to fix: ")).text(fix)).into()
}

/// Entra's own words, for support.
fn detail(detail: Option<String>) -> Markup {
    detail.map(|detail| el("p").class("detail").child(el("code").text(detail))).into()
}

/// An error with its explanation, its fix and, when given, a way to start again.
pub fn error_panel(title: &'static str, explanation: Explanation, retry: Option<Callback<()>>) -> Markup {
    let Explanation { message, fix: how, detail: words } = explanation;
    el("div")
        .class("panel error")
        .attr("role", "alert")
        .child(el("h2").text(title))
        .child(el("p").text(message))
        .child(fix(how))
        .child(detail(words))
        .child(retry.map(|retry| el("button").class("primary").on_click(retry).text("Try again")))
        .into()
}

/// Why the user is signed out, above the sign-in button.
pub fn signed_out_notice(notice: Explanation) -> Markup {
    el("div")
        .class("panel notice")
        .attr("role", "status")
        .child(el("p").text(notice.message))
        .child(detail(notice.detail))
        .into()
}

/// Why the channel list is empty or incomplete.
pub fn notice_panel(notice: Notice) -> Markup {
    el("div")
        .class("panel notice")
        .attr("role", "note")
        .attr("data-code", notice.code)
        .child(el("p").text(notice.message))
        .child(fix(notice.fix))
        .into()
}

/// The user's channels, or a plain statement that there are none.
pub fn channel_list(channels: Vec<String>) -> Markup {
    if channels.is_empty() {
        return el("p").class("muted").text("You have no channels.").into();
    }
    el("ul")
        .class("channels")
        .attr("aria-label", "Your channels")
        .children(channels.into_iter().map(|channel| el("li").text(channel).into()))
        .into()
}

/// Every check with its verdict and fix, or why the token could not be checked; `waiting`
/// while the API's verdict is still to come.
pub fn check_list(checks: Result<Vec<Check>, String>, waiting: bool) -> Markup {
    let checks = match checks {
        Ok(checks) => checks,
        Err(why) => return el("p").attr("role", "alert").text(why).into(),
    };
    let failed = checks.iter().filter(|c| !c.passed).count();
    let mut summary = if failed == 0 {
        "Every check passed.".to_owned()
    } else {
        failed.to_string() + " of " + &checks.len().to_string() + " checks failed."
    };
    if waiting {
        summary += " Asking the API about this token…";
    }
    let items = checks.into_iter().map(|check| {
        el("li")
            .class(if check.passed { "pass" } else { "fail" })
            .child(el("span").class("verdict").text(if check.passed { "Pass" } else { "Fail" }))
            .child(el("strong").text(check.name))
            .child(el("span").class("found").text(check.found))
            .child(fix((!check.passed).then_some(check.fix)))
            .into()
    });
    Markup::Fragment(vec![
        el("p").attr("role", "status").text(summary).into(),
        el("ul").class("checks").attr("aria-label", "Checks").children(items).into(),
    ])
}

/// The diagnostics panel: the checks ([`check_list`]) and the token's claims (indented JSON,
/// masked), each of which may be a reactive region.
pub fn diagnostics(checks: Markup, claims: Markup) -> Markup {
    el("section")
        .class("diagnostics")
        .attr("aria-labelledby", "diagnostics")
        .child(el("h2").attr("id", "diagnostics").text("Sign-in diagnostics"))
        .child(checks)
        .child(el("details").child(el("summary").text("Decoded access token claims")).child(el("pre").child(claims)))
        .into()
}
