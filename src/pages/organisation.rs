//! The organisation picker, when the deployment serves several (each with its own Entra
//! tenant and registration).

use leptos::prelude::*;

/// Lists the organisations' names, in the configured order; picking one calls `on_pick`.
#[component]
pub fn ChooseOrganisation(names: Vec<String>, on_pick: Callback<String>) -> impl IntoView {
    let choices = names
        .into_iter()
        .map(|name| {
            let picked = name.clone();
            view! {
                <li>
                    <button class="secondary" on:click=move |_| on_pick.run(picked.clone())>
                        {name}
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="organisation">
            <h1 id="organisation">"Choose your organisation"</h1>
            <p>"This site serves several organisations. Pick yours; it is remembered on this device."</p>
            <ul class="organisations" aria-label="Organisations">
                {choices}
            </ul>
        </section>
    }
}
