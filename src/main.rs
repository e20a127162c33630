//! Mounts the app on the page's body.

use reactive_graph::owner::Owner;
use tachys::view::{Mountable, Render};

fn main() {
    // Leptos' reactive system runs its tasks on wasm-bindgen's executor.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    // The root owner and the DOM it builds live as long as the page.
    let owner = Owner::new();
    let mut page = owner.with(|| channels_spa::app().render().build());
    page.mount(&tachys::dom::body(), None);
    std::mem::forget((owner, page));
}
