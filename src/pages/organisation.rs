//! The organisation picker, when the deployment serves several (each with its own Entra
//! tenant and registration).

use leptos::prelude::*;

/// Lists the organisations; picking one remembers it.
#[component]
pub fn ChooseOrganisation(
    /// The organisations' names, in the configured order.
    names: Vec<String>,
    /// Called with the name picked.
    on_pick: Callback<String>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="organisation">
            <h1 id="organisation">"Choose your organisation"</h1>
            <p>"This site serves several organisations. Pick yours; it is remembered on this device."</p>
            <ul class="organisations" aria-label="Organisations">
                {names
                    .into_iter()
                    .map(|name| {
                        let picked = name.clone();
                        view! {
                            <li><button class="secondary" on:click=move |_| on_pick.run(picked.clone())>{name}</button></li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
