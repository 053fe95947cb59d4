//! `/setup`: the deployer's checklist. Shows the exact redirect URI to register on the Attio
//! app, the scopes the tools need, which settings and bindings are present (never a value),
//! whether the configured Attio hosts answer, and the URLs to give to MCP clients. It holds no
//! secret and no user data, so it is safe to leave on; `SETUP_PAGE=false` turns it off.

use http::{Method, StatusCode};

use crate::base::html;
use crate::base::html::Html;
use crate::base::http::{Request, Response};
use crate::config::{setup_page_enabled, ConfigReport, SettingKind, SettingState, BINDINGS, SETTINGS};
use crate::context::origin_of_request;
use crate::error::AppError;
use crate::pages::page as html_page;
use crate::pages::paths::ATTIO_CALLBACK;
use crate::platform::Platform;

pub const PATH: &str = "/setup";

fn state_label(state: SettingState) -> (&'static str, &'static str) {
    match state {
        SettingState::Present => ("set", "yes"),
        SettingState::Default => ("default", "yes"),
        SettingState::Unset => ("not set (optional)", "muted"),
        SettingState::Missing => ("missing", "no"),
        SettingState::Malformed => ("malformed", "no"),
        SettingState::Ignored => ("ignored", "muted"),
    }
}

/// Whether something answers at `url` at all (any HTTP status counts: a 401 from the API
/// without a token is the expected answer).
async fn answers<P: Platform>(p: &P, url: &str) -> Html {
    let Ok(request) = http::Request::builder().method(Method::GET).uri(url).body(Vec::new()) else {
        return Html::trusted("<span class=no>not a valid URL</span>");
    };
    match p.send(request).await {
        Ok(r) => html!("<span class=yes>answers</span> <span class=muted>(HTTP {})</span>", r.status().as_u16()),
        Err(e) => html!("<span class=no>does not answer</span> <span class=muted>({})</span>", e.to_string()),
    }
}

/// `GET /setup`.
pub async fn page<P: Platform>(p: &P, req: &Request) -> Result<Response, AppError> {
    if !setup_page_enabled(p) {
        return Err(AppError::NotFound);
    }
    let report = ConfigReport::inspect(p);
    let origin = match &report.config {
        Ok(config) => crate::context::origin(config, req),
        Err(_) => origin_of_request(req),
    };
    let redirect_uri = format!("{origin}{ATTIO_CALLBACK}");

    // Derived from the tools' own rows, so the page cannot fall behind a new tool.
    let scopes: Html = crate::mcp::tools::scope_table()
        .iter()
        .map(|(scope, used_by)| html!("<tr><td><code>{}</code></td><td>{}</td></tr>", scope, used_by.join(", ")))
        .collect();
    let settings: Html = report
        .settings
        .iter()
        .filter(|s| !s.name.starts_with("TEST_") && s.name != "INSECURE_TEST_MODE")
        .map(|s| {
            let spec = SETTINGS.iter().find(|spec| spec.name == s.name);
            let (label, class) = state_label(s.state);
            let kind = if s.kind == SettingKind::Secret { "secret" } else { "var" };
            html!(
                "<tr><td><code>{}</code></td><td>{}</td><td class={}>{}</td><td>{}</td></tr>",
                s.name,
                kind,
                class,
                label,
                spec.map_or("", |spec| spec.description),
            )
        })
        .collect();
    let bindings: Html = BINDINGS
        .iter()
        .map(|b| {
            let (label, class) = match (p.binding_present(b.name), b.required) {
                (true, _) => ("present", "yes"),
                (false, true) => ("missing", "no"),
                (false, false) => ("missing: this limit is off", "no"),
            };
            html!("<tr><td><code>{}</code></td><td>{}</td><td class={}>{}</td></tr>", b.name, b.kind, class, label)
        })
        .collect();
    let reachability = match &report.config {
        Ok(config) => {
            let app = format!("{}/authorize", config.attio_app_base.as_str().trim_end_matches('/'));
            let api = format!("{}/v2/self", config.attio_api_base.as_str().trim_end_matches('/'));
            html!(
                "<tr><td>Attio app (sign-in), <code>ATTIO_APP_BASE_URL</code></td><td>{}</td></tr>\
                 <tr><td>Attio API, <code>ATTIO_API_BASE_URL</code></td><td>{}</td></tr>",
                answers(p, &app).await,
                answers(p, &api).await
            )
        }
        Err(_) => {
            Html::trusted("<tr><td colspan=2 class=muted>Checked once the settings above are complete.</td></tr>")
        }
    };
    let (check, warnings) = crate::attio::vault::daily_check(p).await;
    let mut vault_warning: Html =
        warnings.iter().map(|w| html!("<div class=\"card error\" role=alert><p>{}</p></div>", w)).collect();
    if let Some(at) = check["finished_at"].as_str() {
        vault_warning = html!(
            "{}<p class=muted>The daily check of every connection (membership, vault keys) last finished at {}, \
             covering {} people.</p>",
            vault_warning,
            at,
            check["people"].as_u64().unwrap_or(0)
        );
    }
    // Owner mode: say which key, which gate, and that calls act as the whole workspace.
    if let Some((config, owner)) = report.config.as_ref().ok().and_then(|c| Some((c, c.owner.as_ref()?))) {
        let card = match crate::auth::owner::gate_problem(config) {
            Some(problem) => {
                html!("<div class=\"card error\" role=alert><p><strong>Owner mode.</strong> {}</p></div>", problem)
            }
            None => html!(
                "<div class=card><p><strong>Owner mode.</strong> The gateway reaches Attio with the workspace key in \
                 <code>{}</code> (no Attio OAuth app is needed: skip step 1). Apps act as the whole workspace, not as \
                 one member. Approvals pass {}, and each lasts {} days (<code>OWNER_GRANT_DAYS</code>): with no \
                 Attio member to re-check, that is how someone taken off the gate loses access. Disconnecting a \
                 person on <code>/admin</code> ends their apps at once and never revokes the key.</p></div>",
                owner.setting,
                if config.access.is_some() { "Cloudflare Access" } else { "the owner password" },
                owner.grant_days
            ),
        };
        vault_warning = html!("{}{}", vault_warning, card);
    }
    let ready = report.config.is_ok() && BINDINGS.iter().filter(|b| b.required).all(|b| p.binding_present(b.name));
    let verdict = Html::trusted(if ready {
        "<div class=card><p class=yes><strong>Ready.</strong> Give the MCP URL below to Claude, ChatGPT or Cursor.</p></div>"
    } else {
        "<div class=\"card error\" role=alert><p><strong>Not ready yet.</strong> Fix what is marked missing or \
         malformed below, then reload.</p></div>"
    });
    let body = html!(
        "<h1>Set up this gateway</h1>{verdict}{vault_warning}\
         <h2>1. Register the Attio app</h2><div class=card><p>At <strong>build.attio.com</strong>, create an app, \
         enable OAuth and add this redirect URI exactly:</p><p><code>{redirect}</code></p>\
         <p>Then copy its client id and secret into the <code>ATTIO_CLIENT_ID</code> and \
         <code>ATTIO_CLIENT_SECRET</code> secrets.</p><p>Give the app these scopes (Attio grants the app's \
         configured set; the tools need):</p><div class=table><table><thead><tr><th>Scope</th><th>Used by</th>\
         </tr></thead><tbody>{scopes}</tbody></table></div></div>\
         <h2>2. Settings</h2><p class=muted>Values are never shown here.</p><div class=table><table><thead><tr>\
         <th>Name</th><th>Kind</th><th>State</th><th>What it is</th></tr></thead><tbody>{settings}</tbody></table></div>\
         <h2>3. Bindings</h2><div class=table><table><thead><tr><th>Name</th><th>Kind</th><th>State</th></tr></thead>\
         <tbody>{bindings}</tbody></table></div>\
         <h2>4. Attio</h2><div class=table><table><tbody>{reachability}</tbody></table></div>\
         <h2>5. Connect your AI tools</h2><div class=card><dl>\
         <dt>MCP URL (Claude custom connector, ChatGPT, Cursor, MCP Inspector)</dt><dd><code>{origin}/mcp</code></dd>\
         <dt>REST proxy base (backends)</dt><dd><code>{origin}/v2</code></dd>\
         <dt>Where people manage their approved apps</dt><dd><code>{origin}/account</code></dd></dl></div>\
         <p class=muted>Turn this page off with <code>SETUP_PAGE=false</code>.</p>",
        verdict = verdict,
        vault_warning = vault_warning,
        redirect = redirect_uri,
        scopes = scopes,
        settings = settings,
        bindings = bindings,
        reachability = reachability,
        origin = origin,
    );
    Ok(html_page(StatusCode::OK, "Setup", &body))
}
