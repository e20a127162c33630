//! Serving the built SPA under a strict Content Security Policy (its runtime configuration,
//! `/config.json`, is written once by [`crate::state`] and served by [`crate::web`]).
//!
//! Trunk's `index.html` boots the wasm with one inline module script; rather than allowing
//! inline scripts, the policy allows exactly that script by its SHA-256 hash, computed here
//! when the API starts.

use std::path::Path;

use axum::http::{header, HeaderValue};
use axum::Router;
use base64::{engine::general_purpose::STANDARD, Engine as _};
use channels_protocol::logout;
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

/// The policy of every response that is not the SPA's (JSON, health, errors): nothing may load
/// or frame it.
pub const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Static files from `dir`, with unknown paths (client-side routes such as `/sso`) answered by
/// `index.html`, under the SPA's Content Security Policy. The front-channel logout route may be
/// framed by the authority (Entra loads it in an iframe at sign-out), and by nothing else.
/// A file's brotli or gzip copy (`app.wasm.br`, `app.wasm.gz`: the release build writes them)
/// answers a browser that accepts it, compressed once at build time rather than per request.
pub fn router<S: Clone + Send + Sync + 'static>(dir: &Path, authority: &str) -> std::io::Result<Router<S>> {
    let index = dir.join("index.html");
    let csp = content_security_policy(&std::fs::read_to_string(&index)?, authority);
    let logout_csp = csp.replace("frame-ancestors 'none'", &format!("frame-ancestors {authority}"));
    let (csp, logout_csp) = (header_value(&csp), header_value(&logout_csp));
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeFile::new(index).precompressed_br().precompressed_gzip());
    let policy = move |request: axum::extract::Request, next: axum::middleware::Next| {
        let csp = if request.uri().path() == logout::PATH { logout_csp.clone() } else { csp.clone() };
        async move {
            let mut response = next.run(request).await;
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
            // The same URL answers compressed or not, by the request's Accept-Encoding: a shared
            // cache must keep the two apart.
            response.headers_mut().append(header::VARY, HeaderValue::from_static("accept-encoding"));
            response
        }
    };
    Ok(Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(cache_control))
        .layer(axum::middleware::from_fn(policy)))
}

/// The security headers on every response of `app`, the API's included: `nosniff`, no
/// `Referer` (the /sso URL holds the authorization code), and [`API_CONTENT_SECURITY_POLICY`]
/// where the SPA's own policy is not set.
pub fn security_headers<S: Clone + Send + Sync + 'static>(app: Router<S>) -> Router<S> {
    app.layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(API_CONTENT_SECURITY_POLICY),
    ))
    .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
    .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}

fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).expect("ASCII header value")
}

/// Trunk names every asset after its content hash (`app-1a2b3c4d5e6f7a8b.js`), and the release
/// build names the wasm's chunks the same way: those are cached for a year; everything else (`index.html` and the routes it answers) is revalidated,
/// so a new release is seen at once.
async fn cache_control(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let immutable = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    let value = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let stem = file.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    // Trunk writes its 64-bit content hash in hex without leading zeros: usually 16 digits,
    // 15 one time in 16, fewer ever more rarely.
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| (10..=16).contains(&hash.len()) && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_content_hashed_assets_are_immutable() {
        assert!(is_hashed_asset("/channels-spa-973cbe7e33109466.js"));
        assert!(is_hashed_asset("/channels-spa-973cbe7e33109466_bg.wasm"));
        assert!(is_hashed_asset("/channels-spa-a00dfb71a076fb5_bg.wasm"), "a hash with a leading zero dropped");
        assert!(is_hashed_asset("/main-f7caac1c215d0df2.css"));
        // The release build's wasm chunks, named the same way (e2e/post-build.mjs).
        assert!(is_hashed_asset("/chunk_3-0529c3d30d17a08a.wasm"));
        assert!(is_hashed_asset("/split_signed_in_page-4f6f55c55b918e62.wasm"));
        assert!(!is_hashed_asset("/"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/sso"));
        assert!(!is_hashed_asset("/favicon-x.ico"));
    }

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
