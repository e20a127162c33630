//! Serving the built SPA and its runtime configuration, under a strict Content Security Policy.
//!
//! Trunk's `index.html` boots the wasm with one inline module script; rather than allowing
//! inline scripts, the policy allows exactly that script by its SHA-256 hash, computed here
//! when the API starts.

use std::path::Path;

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use base64::{engine::general_purpose::STANDARD, Engine as _};
use sha2::{Digest, Sha256};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The CSP for the SPA: only its own scripts (plus the hashed boot script), its own styles,
/// and connections to itself and to the identity provider's token endpoint.
pub fn content_security_policy(index_html: &str, authority: &str) -> String {
    let hashes: String = inline_scripts(index_html)
        .map(|script| format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(script.as_bytes()))))
        .collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self' {authority}; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// The bodies of `<script>` elements without a `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, rest) = rest.split_once('>')?;
        let (body, _) = rest.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(body)
    })
}

/// Static files from `dir`, with unknown paths (client-side routes such as `/sso`) answered by
/// `index.html`, and the security headers on every response.
pub fn router<S: Clone + Send + Sync + 'static>(dir: &Path, authority: &str) -> std::io::Result<Router<S>> {
    let index = dir.join("index.html");
    let csp = content_security_policy(&std::fs::read_to_string(&index)?, authority);
    let files = ServeDir::new(dir).fallback(ServeFile::new(index));
    let header = |name: HeaderName, value: &str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_str(value).expect("ASCII header value"))
    };
    Ok(Router::new()
        .fallback_service(files)
        .layer(header(header::CONTENT_SECURITY_POLICY, &csp))
        // The /sso URL holds the authorization code: never let it leak through Referer.
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_allows_exactly_the_inline_boot_script_by_hash() {
        let html = r#"<head><script type="module">import init from '/app.js';init();</script>
            <script src="/other.js"></script></head>"#;
        let csp = content_security_policy(html, "http://127.0.0.1:9400");
        let expected = STANDARD.encode(Sha256::digest(b"import init from '/app.js';init();"));
        assert!(csp.contains(&format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{expected}';")), "{csp}");
        assert_eq!(csp.matches("'sha256-").count(), 1);
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:9400;"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
