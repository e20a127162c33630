//! The signed-out page, with Microsoft's sign-in button.

use reactive_graph::callback::Callback;

use crate::auth::Explanation;
use crate::components::signed_out_notice;
use crate::markup::{el, Markup};

/// Invites the user to sign in; `notice` says why they are signed out, when it is news
/// (session ended, signed out elsewhere); `organisation` is the organisation picked and how to
/// pick another, when there is a choice.
pub fn sign_in(
    on_sign_in: Callback<()>,
    notice: Option<Explanation>,
    organisation: Option<(String, Callback<()>)>,
) -> Markup {
    el("section")
        .class("card")
        .attr("aria-labelledby", "welcome")
        .child(el("h1").attr("id", "welcome").text("Your channels"))
        .child(notice.map(signed_out_notice))
        .child(el("p").text("Sign in with your work account to see the channels your groups give you."))
        // Microsoft's branding guidelines: the four-square logo (drawn by the style sheet),
        // "Sign in with Microsoft".
        .child(
            el("button")
                .class("microsoft")
                .on_click(on_sign_in)
                .child(el("span").class("logo").attr("aria-hidden", "true"))
                .child(el("span").text("Sign in with Microsoft")),
        )
        .child(organisation.map(|(name, change)| {
            el("p")
                .class("organisation")
                .text("Organisation: ")
                .child(el("strong").text(name))
                .text(" ")
                .child(el("button").class("link").on_click(change).text("Change organisation"))
        }))
        .into()
}
