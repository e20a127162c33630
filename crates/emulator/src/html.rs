//! The HTML shell every page of the emulator is drawn in ([`page`]: the account picker, the
//! MFA and consent pages, the error page, the sign-out page, the home page), and [`escape`],
//! which all their dynamic text goes through. Written by hand: the pages are few and short.

use crate::directory::{Tenant, User};

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The account picker's buttons, one a user (the form they are in posts `username`).
pub fn account_buttons(candidates: &[(&Tenant, &User)]) -> String {
    candidates
        .iter()
        .map(|(tenant, user)| {
            format!(
                "<button type=\"submit\" name=\"username\" value=\"{upn}\">{name} <small>{upn} · {tenant}</small></button>",
                upn = escape(&user.upn),
                name = escape(&user.name),
                tenant = escape(&tenant.display_name),
            )
        })
        .collect()
}

/// A complete page with the emulator's look.
pub fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title}</title><link rel="icon" href="data:,">
<style>
body{{font-family:system-ui,sans-serif;background:#f2f2f2;margin:0;display:grid;place-items:center;min-height:100vh}}
main{{background:#fff;padding:2rem 2.5rem;max-width:28rem;width:100%;box-shadow:0 2px 6px rgba(0,0,0,.2)}}
h1{{font-size:1.5rem;font-weight:600;margin:.5rem 0 1rem}}
.brand{{color:#5e5e5e;font-size:.9rem}}
form{{display:grid;gap:.5rem}}
button{{display:grid;text-align:left;padding:.75rem 1rem;border:1px solid #8a8a8a;background:#fff;font:inherit;cursor:pointer}}
button:hover,button:focus-visible{{background:#e6f0fa;outline:2px solid #0067b8}}
button small{{color:#5e5e5e}}
</style></head>
<body><main><p class="brand">Microsoft Entra ID · local emulator</p>{body}</main></body></html>"#,
        title = escape(title)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(super::escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
