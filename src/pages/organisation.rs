//! The organisation picker, when the deployment serves several (each with its own Entra
//! tenant and registration).

use reactive_graph::callback::{Callable, Callback};

use crate::markup::{el, Markup};

/// Lists the organisations' names, in the configured order; picking one calls `on_pick`.
pub fn choose_organisation(names: Vec<String>, on_pick: Callback<String>) -> Markup {
    let choices = names.into_iter().map(|name| {
        let pick = Callback::new({
            let name = name.clone();
            move |()| on_pick.run(name.clone())
        });
        el("li").child(el("button").class("secondary").on_click(pick).text(name)).into()
    });
    el("section")
        .class("card")
        .attr("aria-labelledby", "organisation")
        .child(el("h1").attr("id", "organisation").text("Choose your organisation"))
        .child(el("p").text("This site serves several organisations. Pick yours; it is remembered on this device."))
        .child(el("ul").class("organisations").attr("aria-label", "Organisations").children(choices))
        .into()
}
