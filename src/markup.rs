//! The pages' markup as plain data, rendered by one function.
//!
//! Each `view!` compiles to types of its own, and Leptos's renderer is monomorphised for every
//! one of them: in this app that was most of the wasm. Pages here describe their HTML as a
//! [`Markup`] tree instead, built with [`el`] and its methods, and [`Markup::render`] turns
//! any tree into DOM with the same few functions. Reactivity is kept where it belongs: a
//! [`Markup::reactive`] region re-renders when the signals it reads change, and
//! [`Element::discloses`] updates a button's one attribute in place (so it keeps focus).
//! The README gives the figures.

use std::sync::Arc;

use reactive_graph::callback::{Callable, Callback};
use reactive_graph::prelude::*;
use reactive_graph::signal::RwSignal;
use tachys::html::attribute::any_attribute::AnyAttribute;
use tachys::html::attribute::custom::custom_attribute;
use tachys::html::element::custom;
use tachys::html::event::{click, on};
use tachys::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MouseEvent;

/// A piece of a page.
pub enum Markup {
    /// Text, escaped as text.
    Text(String),
    /// An element with its attributes and children.
    Element(Element),
    /// Siblings without an element around them.
    Fragment(Vec<Markup>),
    /// A region rebuilt whenever the signals its function reads change.
    Reactive(Arc<dyn Fn() -> Markup + Send + Sync>),
    /// Nothing (an absent optional part).
    Empty,
}

/// An HTML element under construction.
pub struct Element {
    tag: &'static str,
    attributes: Vec<AnyAttribute>,
    children: Vec<Markup>,
}

// The builder's methods are called hundreds of times; kept out of line, each call site is a
// call, not a copy of the attribute and child machinery.

/// Starts an element, e.g. `el("p").class("fix").text("…")`.
#[inline(never)]
pub fn el(tag: &'static str) -> Element {
    Element { tag, attributes: Vec::new(), children: Vec::new() }
}

impl Element {
    /// Sets an attribute.
    pub fn attr(self, name: &'static str, value: impl Into<String>) -> Self {
        self.set(name, value.into())
    }

    #[inline(never)]
    fn set(mut self, name: &'static str, value: String) -> Self {
        self.attributes.push(custom_attribute(name, value).into_any_attr());
        self
    }

    /// Sets the `class` attribute.
    pub fn class(self, value: &'static str) -> Self {
        self.set("class", value.to_owned())
    }

    /// Makes this a disclosure button (WAI-ARIA): each click flips `expanded`, then runs
    /// `then`; `aria-expanded` says which. The attribute is set on the button itself (the
    /// click's `currentTarget`: tachys' event delegation is off), not re-rendered, so the
    /// button keeps focus; it follows `expanded` as long as this button is its only writer.
    /// (A reactive attribute did the same through a render effect of its own type, Leptos'
    /// effect code copied once more: 1 KB gzip.)
    #[inline(never)]
    pub fn discloses(self, expanded: RwSignal<bool>, then: Callback<()>) -> Self {
        let state = |expanded: bool| if expanded { "true" } else { "false" };
        let mut button = self.set("aria-expanded", state(expanded.get_untracked()).to_owned());
        let toggle = move |event: MouseEvent| {
            expanded.update(|shown| *shown = !*shown);
            if let Some(button) = event.current_target().and_then(|target| target.dyn_into::<web_sys::Element>().ok()) {
                let _ = button.set_attribute("aria-expanded", state(expanded.get_untracked()));
            }
            then.run(());
        };
        button.attributes.push(on(click, toggle).into_any_attr());
        button
    }

    /// Runs `action` on every click.
    #[inline(never)]
    pub fn on_click(mut self, action: Callback<()>) -> Self {
        self.attributes.push(on(click, move |_| action.run(())).into_any_attr());
        self
    }

    /// Appends a child.
    pub fn child(self, child: impl Into<Markup>) -> Self {
        self.push(child.into())
    }

    #[inline(never)]
    fn push(mut self, child: Markup) -> Self {
        self.children.push(child);
        self
    }

    /// Appends children.
    pub fn children(mut self, children: impl IntoIterator<Item = Markup>) -> Self {
        self.children.extend(children);
        self
    }

    /// Appends text.
    pub fn text(self, text: impl Into<String>) -> Self {
        self.push(Markup::Text(text.into()))
    }
}

impl From<Element> for Markup {
    fn from(element: Element) -> Self {
        Self::Element(element)
    }
}

impl From<&'static str> for Markup {
    fn from(text: &'static str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Markup {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl<T: Into<Markup>> From<Option<T>> for Markup {
    fn from(part: Option<T>) -> Self {
        part.map_or(Self::Empty, Into::into)
    }
}

impl Markup {
    /// A region rebuilt whenever the signals `build` reads change.
    pub fn reactive(build: impl Fn() -> Markup + Send + Sync + 'static) -> Self {
        Self::Reactive(Arc::new(build))
    }

    /// The DOM for this tree.
    pub fn render(self) -> AnyView {
        match self {
            Self::Text(text) => text.into_any(),
            Self::Element(Element { tag, attributes, children }) => custom(tag)
                .add_any_attr(attributes)
                .child(children.into_iter().map(Self::render).collect::<Vec<_>>())
                .into_any(),
            Self::Fragment(parts) => parts.into_iter().map(Self::render).collect::<Vec<_>>().into_any(),
            Self::Reactive(build) => (move || build().render()).into_any(),
            Self::Empty => ().into_any(),
        }
    }
}
