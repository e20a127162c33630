//! The SPA's components in a real browser, mounted as Leptos' own examples test theirs
//! (`mount_to` + wasm-bindgen-test): what each shows for its props, and what its buttons do.
//! The Playwright suite (e2e/) tests them again in the whole app.
#![cfg(target_arch = "wasm32")]

use channels_protocol::diagnostics::Check;
use channels_spa::auth::Explanation;
use channels_spa::components::{ChannelList, CheckList, ErrorPanel};
use channels_spa::pages::ChooseOrganisation;
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element in the page's body to mount into.
fn container() -> HtmlElement {
    let element = document().create_element("section").unwrap();
    document().body().unwrap().append_child(&element).unwrap();
    element.unchecked_into()
}

/// The text of every element `selector` matches, in document order.
fn texts(root: &HtmlElement, selector: &str) -> Vec<String> {
    let found = root.query_selector_all(selector).unwrap();
    (0..found.length()).map(|i| found.item(i).unwrap().text_content().unwrap_or_default()).collect()
}

fn click(root: &HtmlElement, selector: &str) {
    root.query_selector(selector).unwrap().expect(selector).unchecked_into::<HtmlElement>().click();
}

fn explanation() -> Explanation {
    Explanation {
        message: "Entra refused the sign-in.".into(),
        fix: Some("Admin: assign the user.".into()),
        detail: Some("AADSTS50105: <b>not assigned</b>".into()),
    }
}

#[wasm_bindgen_test]
fn the_error_panel_shows_the_explanation_its_fix_and_entras_words_as_text() {
    let root = container();
    let retried = RwSignal::new(0);
    let retry = Callback::new(move |()| retried.update(|n| *n += 1));
    let _mounted = mount_to(root.clone(), move || {
        view! { <ErrorPanel title="Sign-in failed" explanation=explanation() retry=Some(retry) /> }
    });
    assert_eq!(texts(&root, "[role=alert] h2"), ["Sign-in failed"]);
    assert_eq!(texts(&root, "[role=alert] > p:first-of-type"), ["Entra refused the sign-in."]);
    assert_eq!(texts(&root, ".fix"), ["How to fix: Admin: assign the user."]);
    // Entra's words are text, never markup.
    assert_eq!(texts(&root, ".detail code"), ["AADSTS50105: <b>not assigned</b>"]);
    assert!(root.query_selector(".detail b").unwrap().is_none());
    click(&root, "button");
    click(&root, "button");
    assert_eq!(retried.get_untracked(), 2, "Try again runs the callback each time");

    let without = container();
    let _mounted = mount_to(without.clone(), || view! { <ErrorPanel title="Signed out" explanation=explanation() /> });
    assert!(without.query_selector("button").unwrap().is_none(), "no retry, no button");
}

#[wasm_bindgen_test]
fn the_channel_list_shows_each_channel_in_order_or_says_there_is_none() {
    let root = container();
    let channels = vec!["All Call".to_owned(), "Dispatch Ops".to_owned(), "Fire North Tac".to_owned()];
    let _mounted = mount_to(root.clone(), move || view! { <ChannelList channels=channels.clone() /> });
    assert_eq!(texts(&root, "ul[aria-label='Your channels'] li"), ["All Call", "Dispatch Ops", "Fire North Tac"]);

    let empty = container();
    let _mounted = mount_to(empty.clone(), || view! { <ChannelList channels=Vec::new() /> });
    assert!(empty.query_selector("ul").unwrap().is_none());
    assert_eq!(texts(&empty, "p"), ["You have no channels."]);
}

#[wasm_bindgen_test]
fn the_check_list_counts_the_failures_and_shows_a_fix_for_each_failed_check_only() {
    let checks = vec![
        Check { name: "Audience", passed: true, found: "api://c".into(), fix: "unused" },
        Check { name: "Scope", passed: false, found: "User.Read".into(), fix: "Ask for UserProfile.ReadWrite." },
    ];
    let root = container();
    let _mounted = mount_to(root.clone(), move || view! { <CheckList checks=Ok(checks.clone()) waiting=true /> });
    assert_eq!(texts(&root, "[role=status]"), ["1 of 2 checks failed. Asking the API about this token…"]);
    assert_eq!(texts(&root, "li.pass > strong"), ["Audience"]);
    assert_eq!(texts(&root, "li.fail > strong"), ["Scope"]);
    assert_eq!(texts(&root, "li.fail .verdict"), ["Fail"]);
    assert_eq!(texts(&root, ".fix"), ["How to fix: Ask for UserProfile.ReadWrite."], "the passed check has none");

    let unreadable = container();
    let _mounted = mount_to(unreadable.clone(), || {
        view! { <CheckList checks=Err("expected a JWT (found 2 segments)".to_owned()) waiting=false /> }
    });
    assert_eq!(texts(&unreadable, "[role=alert]"), ["expected a JWT (found 2 segments)"]);
    assert!(unreadable.query_selector("ul").unwrap().is_none());
}

#[wasm_bindgen_test]
fn the_organisation_picker_offers_each_organisation_and_reports_the_one_picked() {
    let root = container();
    let picked = RwSignal::new(Vec::<String>::new());
    let on_pick = Callback::new(move |name: String| picked.update(|names| names.push(name)));
    let names = vec!["Contoso".to_owned(), "Fabrikam".to_owned()];
    let _mounted = mount_to(root.clone(), move || view! { <ChooseOrganisation names=names.clone() on_pick /> });
    assert_eq!(texts(&root, "h1"), ["Choose your organisation"]);
    assert_eq!(texts(&root, "ul[aria-label=Organisations] button"), ["Contoso", "Fabrikam"]);
    click(&root, "li:nth-child(2) button");
    assert_eq!(picked.get_untracked(), ["Fabrikam"]);
}
