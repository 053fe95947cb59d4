//! `GET /`: what this deployment is, and where each kind of visitor goes next.

use http::StatusCode;

use crate::base::html::Html;
use crate::base::http::Response;
use crate::pages::page as html_page;

pub fn page() -> Response {
    html_page(
        StatusCode::OK,
        "Welcome",
        &Html::trusted(
            "<h1>Attio gateway</h1><p>A self-hosted gateway between AI agents (MCP) and the Attio CRM: your \
         AI tools work on your Attio data through it, and never see your Attio token.</p>\
         <div class=card><dl>\
         <dt>Using Claude, ChatGPT or Cursor?</dt><dd>Add this site's <code>/mcp</code> URL as a custom \
         connector; it will ask you to approve it and sign in with Attio.</dd>\
         <dt>Manage the apps you approved</dt><dd><a href=\"/account\">Your connected apps</a></dd>\
         <dt>Deploying this gateway?</dt><dd><a href=\"/setup\">Setup checklist</a> · \
         <a href=\"/health\">health report</a></dd></dl></div>",
        ),
    )
}
