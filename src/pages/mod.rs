//! The HTML pages a person sees (connect results, errors, status), in one small, accessible
//! layout with no external assets, and the headers every page carries: no framing, no
//! referrer to other sites, no caching, a CSP that allows nothing but inline styles and same-origin forms.
//! Bodies are [`Html`], so what a page shows from outside was escaped on the way in.
//!
//! Pages draw and perform no effect: they may use `base`, `config`, `auth`, `control`, `oauth`,
//! `store`'s record types and `transitions`' usage totals, never `platform`, `attio` or `routes`.

use http::header::{HeaderValue, CONTENT_SECURITY_POLICY};
use http::StatusCode;

use crate::base::html::Html;
use crate::base::http::{response, Response};

pub mod admin;
pub mod audit_log;
pub mod charts;
pub mod paths;
pub mod usage;

/// The policy every page carries; `form_action` lists where its forms (and the redirects that
/// follow them) may go.
fn csp(form_action: &str) -> String {
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}; frame-ancestors 'none'; \
         base-uri 'none'"
    )
}

/// One small design for every page: system fonts, cards, tables that scroll on narrow screens,
/// visible focus, dark mode. Inline, because the worker may run where CDNs are blocked.
const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1d1d1f;--muted:#5f6368;--bg:#fff;--card:#fafafa;--line:#dcdfe3;\
--accent:#2b59c3;--danger:#b3261e;--ok:#1e7d32;--warn:#b06000;--limit:#7b1fa2}\
@media(prefers-color-scheme:dark){:root{--fg:#e8eaed;--muted:#a8adb3;--bg:#17181a;--card:#202124;\
--line:#3c4043;--accent:#8ab4f8;--danger:#f28b82;--ok:#81c995;--warn:#fdd663;--limit:#d7aefb}}\
*{box-sizing:border-box}body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;\
color:var(--fg);background:var(--bg)}\
header{border-bottom:1px solid var(--line);padding:.75rem 1rem}header a{color:inherit;font-weight:600;\
text-decoration:none}main{max-width:46rem;margin:2rem auto;padding:0 1rem}\
h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}\
.card{border:1px solid var(--line);border-radius:10px;padding:1rem 1.25rem;margin:1rem 0;background:var(--card)}\
.error{border-color:var(--danger)}.muted{color:var(--muted);font-size:.9rem}\
a{color:var(--accent)}code{font-size:.9em;word-break:break-all}\
button,.button{font:inherit;padding:.5rem 1rem;border-radius:8px;border:1px solid var(--line);\
background:var(--bg);color:inherit;cursor:pointer;text-decoration:none;display:inline-block}\
button.primary{background:var(--accent);border-color:var(--accent);color:var(--bg)}\
button.danger{border-color:var(--danger);color:var(--danger)}\
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid var(--accent);outline-offset:2px}\
dt{font-weight:600}dd{margin:0 0 .5rem}\
.table{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.95rem}\
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:break-word}th,td button{white-space:nowrap}\
.badge{display:inline-block;padding:0 .5rem;border-radius:999px;border:1px solid var(--line);font-size:.8rem}\
.yes{color:var(--ok)}.no{color:var(--danger)}\
.chart{margin:.5rem 0}.chart svg{width:100%;height:auto;display:block}.axis{fill:var(--muted);font-size:15px}\
.grid{stroke:var(--line)}.s-ok{fill:var(--ok);background:var(--ok)}.s-error{fill:var(--danger);background:var(--danger)}\
.s-refused{fill:var(--warn);background:var(--warn)}.s-limited{fill:var(--limit);background:var(--limit)}\
.s-unknown{fill:var(--muted);background:var(--muted)}.legend{list-style:none;padding:0;margin:.25rem 0;display:flex;\
flex-wrap:wrap;gap:.25rem 1rem;font-size:.9rem}.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;\
margin-right:.35em}.ranks{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:0 1.5rem}\
.rank h3,h3{font-size:1rem;margin:1rem 0 .25rem}.num{text-align:right;white-space:nowrap}.meter{width:35%}\
.bar{display:block;height:.6rem;margin-top:.45rem;background:var(--accent);border-radius:3px}\
.ranges a{margin-right:.75rem}.ranges a[aria-current]{font-weight:700;color:inherit;text-decoration:none}\
.avatar{display:inline-grid;place-items:center;width:2rem;height:2rem;border-radius:50%;\
background:var(--accent);color:var(--bg);font-weight:700;margin-right:.5rem}\
form.inline{display:inline}fieldset{border:1px solid var(--line);border-radius:10px;padding:.75rem 1rem;\
margin:1rem 0}legend{padding:0 .25rem;font-weight:600}label{display:inline-block;margin:.2rem 0;max-width:100%}input,select,textarea{max-width:100%}";

/// How a view names people, apps and tools, and the page each name links to: names for
/// people, ids kept in tooltips (and in exports).
pub trait Names {
    /// A person's name and their page.
    fn person(&self, user: &crate::base::user::UserId) -> (String, String);
    /// An app's name and its page.
    fn app(&self, client_id: &str) -> (String, String);
    /// A tool's title (a proxied request as it is).
    fn tool(&self, action: &str) -> String;
}

/// A page.
pub fn page(status: StatusCode, title: &str, body: &Html) -> Response {
    page_with_form_targets(status, title, body, &[])
}

/// A page whose form may end somewhere else: browsers apply CSP `form-action` to the redirects
/// that follow a form post too, so the consent page must name where its decision can send the
/// browser (the Attio sign-in, the app's redirect URI). Each target becomes a CSP source:
/// `scheme://host[:port]`, or `scheme:` for an app's private-use scheme; anything that does
/// not parse as a plain URL is left out (so it cannot inject into the policy).
pub fn page_with_form_targets(status: StatusCode, title: &str, body: &Html, targets: &[&str]) -> Response {
    let html = crate::html!(
        "<!doctype html><html lang=en><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{} · Attio gateway</title><style>{}</style><body>\
         <header><a href=\"/\">Attio gateway</a></header><main>{}</main></body></html>",
        title,
        Html::trusted(STYLE),
        body,
    );
    let mut sources = String::from("'self'");
    for source in targets.iter().filter_map(|t| csp_source(t)) {
        sources.push(' ');
        sources.push_str(&source);
    }
    let mut resp = response(status, "text/html; charset=utf-8", html.as_str().as_bytes().to_vec());
    let headers = resp.headers_mut();
    // `csp_source` admits only header-safe characters; should that ever change, fail closed.
    let policy = HeaderValue::from_str(&csp(&sources))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    headers.insert(CONTENT_SECURITY_POLICY, policy);
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    // Not `no-referrer` (the default for every other response): under it, browsers send
    // `Origin: null` even on same-origin form posts, and the forms' Origin check needs the real
    // one. `same-origin` still sends nothing to any other site.
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    resp
}

fn csp_source(target: &str) -> Option<String> {
    let url = crate::base::uri::parse(target)?;
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.+:[]".contains(&b));
    let source = match (url.scheme(), url.host_str()) {
        ("http" | "https", Some(host)) => match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        },
        ("http" | "https", None) => return None,
        (scheme, _) => format!("{scheme}:"),
    };
    plain(source.trim_start_matches("https://").trim_start_matches("http://")).then_some(source)
}

/// An error page: what happened, and what the person can do about it.
pub fn error_page(status: StatusCode, title: &str, message: &str, next_step: &Html) -> Response {
    let body =
        crate::html!("<h1>{}</h1><div class=\"card error\" role=alert><p>{}</p></div>{}", title, message, next_step);
    page(status, title, &body)
}

/// 429 for a person: this address started too many flows in the last minute
/// ([`crate::auth::rate_limit`]).
pub fn too_many_requests() -> Response {
    let mut resp = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        "Too many sign-ins were started from your network in the last minute. Wait a minute, then try again.",
        &NOTHING,
    );
    crate::base::http::set_header(
        &mut resp,
        http::header::RETRY_AFTER,
        &crate::auth::rate_limit::RETRY_AFTER_SECS.to_string(),
    );
    resp
}

/// A request that ends on an error page: a typed rejection, rendered once by
/// [`ErrorPage::into_response`] (see [`error_page`]).
#[derive(Debug)]
pub struct ErrorPage {
    status: StatusCode,
    title: &'static str,
    message: String,
    next_step: Html,
}

impl ErrorPage {
    /// What happened (`title`, `message`: plain text, escaped when shown) and what to do next.
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>, next_step: Html) -> Self {
        Self { status, title, message: message.into(), next_step }
    }

    /// The page.
    pub fn into_response(self) -> Response {
        error_page(self.status, self.title, &self.message, &self.next_step)
    }
}

/// The refusal of a person's page without a valid Cloudflare Access login (403): why, never
/// the token, and what to do.
pub fn access_refused(why: &str) -> Response {
    let message = format!(
        "This gateway is protected by Cloudflare Access, and {why}. Open it through its Access-protected \
         address and sign in there; if you did, ask its administrator to check the Access settings."
    );
    error_page(StatusCode::FORBIDDEN, "Sign in through Cloudflare Access", &message, &NOTHING)
}

/// Who Cloudflare Access says is looking, for the top of a person's page (nothing without Access).
pub fn access_identity(person: Option<&str>) -> Html {
    match person {
        Some(email) => {
            crate::html!("<p class=muted>Signed in through Cloudflare Access as <strong>{}</strong>.</p>", email)
        }
        None => NOTHING,
    }
}

/// A UTC time for people: `2026-11-23 05:24 UTC`.
pub fn format_time(ms: u64) -> String {
    let (year, month, day, hour, minute, _) = crate::base::time::civil(ms);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

/// A letter in a circle standing in for an app's logo: remote logos are never loaded (the CSP
/// forbids it, and fetching one would tell the app's owner who looked at the page).
/// ASCII only on purpose: Unicode case mapping would add ~30 KB of tables to the bundle for a
/// decorative letter, and an app called "Ärzte" is still recognisable as "?".
pub fn avatar(name: &str) -> Html {
    let letter = name.chars().find(char::is_ascii_alphanumeric).map_or('?', |c| c.to_ascii_uppercase());
    crate::html!("<span class=avatar aria-hidden=true>{}</span>", letter.to_string())
}

/// A link back to the start of the connect flow.
pub const TRY_AGAIN: Html = Html::trusted("<p><a class=button href=\"/connect\">Connect Attio again</a></p>");

/// No next step.
pub const NOTHING: Html = Html::trusted("");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avatar_is_one_ascii_letter_and_never_markup() {
        assert!(avatar("claude desktop").as_str().contains(">C<"));
        assert!(avatar("<script>").as_str().contains(">S<"));
        assert!(avatar("<>&\"").as_str().contains(">?<"));
        assert!(avatar("").as_str().contains(">?<"));
    }

    #[test]
    fn form_targets_become_csp_sources_and_nothing_else() {
        let r = page_with_form_targets(
            StatusCode::OK,
            "t",
            &NOTHING,
            &[
                "https://app.attio.com/authorize",
                "http://127.0.0.1:7777/cb?x=1",
                "cursor://anysphere/cb",
                "x y; script-src *",
            ],
        );
        let csp = r.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
        assert!(csp.contains("form-action 'self' https://app.attio.com http://127.0.0.1:7777 cursor:;"), "{csp}");
        assert!(!csp.contains("script-src"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn times_and_avatars() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(format_time(1_795_410_787_000), "2026-11-23 05:13 UTC");
        assert_eq!(avatar("<script>").as_str(), "<span class=avatar aria-hidden=true>S</span>");
        assert_eq!(avatar("  ").as_str(), "<span class=avatar aria-hidden=true>?</span>");
    }

    #[test]
    fn pages_cannot_be_framed_or_cached() {
        let r = error_page(StatusCode::BAD_REQUEST, "Oops <b>", "bad <script>", &NOTHING);
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        assert!(r.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(r.headers()["referrer-policy"], "same-origin", "no URL leaks to other sites");
        let body = String::from_utf8(r.body().clone()).unwrap();
        assert!(!body.contains("<script>") && !body.contains("<b>"));
    }
}
