//! `GET /authorize` and `POST /authorize`: an MCP client's authorization request (OAuth 2.1
//! §4.1.1, RFC 7636 S256 PKCE, RFC 8707 `resource`, RFC 9207 `iss`), chained to the Attio
//! connection.
//!
//! 1. `GET`: the client and redirect URI are checked first, then PKCE, scope and resource; any
//!    error is a page, never a redirect (nobody has chosen anything yet). The request is
//!    kept server-side ([`crate::store::one_time`]) and our consent page is shown, bound to
//!    this browser by a `__Host-` cookie and carrying a CSRF token.
//! 2. `POST`: the person's decision. Approval with a live Attio connection in this browser's
//!    session issues a code at once ([`crate::oauth::grants::consent`]); otherwise the Attio sign-in runs
//!    first ([`crate::attio::sign_in`]) and the code is issued when it returns. Every redirect back
//!    carries `state` and `iss`.

use http::StatusCode;

use crate::attio::connection;
use crate::attio::sign_in;
use crate::auth::clients;
use crate::auth::owner;
use crate::auth::rate_limit::{self, Limit};
use crate::auth::session::{self, Session};
use crate::base::html;
use crate::base::html::Html;
use crate::base::http::{add_cookie, redirect as redirect_response, Request, Response};
use crate::context::Ctx;
use crate::crypto::keys::SigningKeys;
use crate::error::AppError;
use crate::oauth::clients::client::RegisteredClient;
use crate::oauth::grants::approval::{self, Approved, RequestError};
use crate::oauth::grants::consent;
use crate::oauth::grants::grant::{self};
use crate::oauth::grants::sealed_request;
use crate::oauth::grants::tool_groups;
use crate::oauth::metadata::{Audience, SCOPE_WRITE};
use crate::oauth::params;
use crate::oauth::redirect;
use crate::pages::{access_identity, avatar, error_page, page_with_form_targets, too_many_requests, NOTHING};
use crate::platform::Platform;
use crate::store::one_time::{self};
use crate::store::policy as store_policy;

pub const AUTHORIZE: &str = "/authorize";

const AUTHZ_COOKIE: &str = "__Host-agw-authz";
const AUTHZ_TTL_SECS: u64 = sealed_request::TTL_MS / 1000;

/// An error sent back to the client's (validated) redirect URI, with `state` and `iss`.
fn error_redirect(status: StatusCode, origin: &str, approved: &Approved, error: &str, description: &str) -> Response {
    let mut extra = vec![("error", error), ("error_description", description), ("iss", origin)];
    if let Some(s) = &approved.state {
        extra.push(("state", s));
    }
    redirect_response(status, &consent::redirect_url(&approved.redirect_uri, &extra))
}

/// The answer to a request that cannot go on before the person has seen our consent page: always
/// a page. Anyone can register a client with any redirect URI (and, redeeming one code with their
/// own Attio account, make it look used), so an error redirected from our domain to it before the
/// person chose anything would be an open redirect (RFC 9700 §4.11.2). Only the person's own
/// decision, and errors after it, go back to the client.
fn request_error(e: RequestError) -> Response {
    match e {
        RequestError::Page { title, message } => bad_request_page(title, message),
        RequestError::Invalid { error, description } => bad_request_page(
            "The application's request cannot be served",
            &format!("{description} ({error}). Nothing was sent back to the application."),
        ),
    }
}

fn bad_request_page(title: &str, message: &str) -> Response {
    let next = Html::trusted("<p>Return to the application and try connecting again.</p>");
    error_page(StatusCode::BAD_REQUEST, title, message, &next)
}

pub async fn authorize<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    if !p.within_limit(Limit::Flows, &rate_limit::by_address(req)).await {
        return Ok(too_many_requests());
    }
    let config = ctx.config;
    let origin = ctx.origin.clone();
    let keys = config.keys();
    let q = match params::parse(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err(why) => return Ok(bad_request_page("Invalid request", why)),
    };
    // 1. Client and redirect URI: until both are known good, nothing is redirected anywhere.
    let client_id = match approval::client_id(&q) {
        Ok(id) => id,
        Err(e) => return Ok(request_error(e)),
    };
    let client = match clients::load(p, config, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Ok(bad_request_page("Unknown application", "This application is not registered with this gateway."))
        }
        Err(e) => return Err(AppError::unavailable_because("client storage", e)),
    };
    // A blocked app is refused here, before anyone is asked to approve it (the policy as this
    // isolate read it within a minute: anyone can open this page).
    match store_policy::load_recent(p).await {
        Ok(policy) if policy.blocks(&client.client_id) => {
            return Ok(error_page(
                StatusCode::FORBIDDEN,
                "Application blocked",
                "The people who run this gateway have blocked this application. Nothing was shared with it.",
                &NOTHING,
            ))
        }
        Ok(_) => {}
        Err(e) => return Err(AppError::unavailable_because("policy storage", e)),
    }
    // 2. Everything else: errors go back to the client.
    let approved = match approval::check(&q, &client, &origin) {
        Ok(approved) => approved,
        Err(e) => return Ok(request_error(e)),
    };

    if let Some(test) = config.test_mode.as_ref().filter(|t| t.auto_approve) {
        return auto_approve(p, ctx, test, &approved).await;
    }
    if let Some(problem) = owner::gate_problem(config) {
        return Ok(error_page(StatusCode::SERVICE_UNAVAILABLE, "Not available yet", &problem, &NOTHING));
    }
    // Owner mode has no Attio sign-in to remember: every approval passes the gate.
    let remembered = match config.owner {
        Some(_) => None,
        None => signed_in_connection(p, ctx, keys, req).await,
    };
    let mut stale_approval = None;
    if let Some(connection) = &remembered {
        if consent::remembered(p, ctx, req, &approved, connection).await {
            return Ok(match consent::complete(p, ctx, &approved, connection).await {
                Ok(location) => redirect_response(StatusCode::FOUND, &location),
                Err(page) => page.into_response(),
            });
        }
        // Remembered, but its grant has ended: forget it while asking again.
        stale_approval = consent::forget(keys, req, &approved, &connection.user);
    }

    // 3. Show the consent page; the form carries the request (nothing is stored until a person
    // answers it).
    let mut nonce = [0u8; 16];
    p.fill(&mut nonce).map_err(|e| AppError::unavailable_because("randomness", e))?;
    let request_id = sealed_request::seal(keys, &approved, p.now_ms(), &nonce);
    let workspace = match Session::from_request(keys, req, p.now_ms()) {
        Some(s) => crate::store::vault::load(p, &s.user).await.ok().flatten().map(|c| c.workspace_name),
        None => None,
    };
    let mut resp = consent_page(ctx, &client, &approved, &request_id, workspace.as_deref());
    add_cookie(
        &mut resp,
        &session::set_cookie(AUTHZ_COOKIE, &keys.sign(&format!("authz|{request_id}")), AUTHZ_TTL_SECS),
    );
    if let Some(cookie) = stale_approval {
        add_cookie(&mut resp, &cookie);
    }
    Ok(resp)
}

/// Test mode only (loopback Attio, `TEST_AUTO_APPROVE=1`): approve as the owner of
/// `TEST_ATTIO_TOKEN`, vaulting that token as their connection, with no consent page and no
/// Attio sign-in — what the MCP conformance suite needs to drive `/authorize` unattended.
async fn auto_approve<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    test: &crate::config::TestMode,
    approved: &Approved,
) -> Result<Response, AppError> {
    let config = ctx.config;
    let token = test.attio_token.clone().ok_or_else(|| crate::config::ConfigError {
        problems: vec!["TEST_AUTO_APPROVE needs TEST_ATTIO_TOKEN".into()],
    })?;
    let connection = owner::connect(p, config, &token, None).await?;
    match consent::complete(p, ctx, approved, &connection).await {
        Ok(location) => Ok(redirect_response(StatusCode::FOUND, &location)),
        Err(page) => Ok(page.into_response()),
    }
}

fn consent_page(
    ctx: &Ctx<'_>,
    client: &RegisteredClient,
    approved: &Approved,
    request_id: &str,
    workspace: Option<&str>,
) -> Response {
    let config = ctx.config;
    let keys = config.keys();
    let can_write = approved.scope.iter().any(|s| s == SCOPE_WRITE);
    let kind = redirect::validate(&approved.redirect_uri).ok();
    let warning = if kind == Some(redirect::RedirectKind::PrivateUse) {
        Html::trusted(
            "<p role=note><strong>Note:</strong> this application returns to an app on your device. Only continue \
             if you just started connecting it yourself.</p>",
        )
    } else {
        NOTHING
    };
    let workspace = match (workspace, config.owner.is_some()) {
        (Some(w), _) => html!("the Attio workspace <strong>{}</strong>", w),
        (None, true) => Html::trusted("this gateway's Attio workspace"),
        (None, false) => Html::trusted("your Attio workspace (you will sign in to Attio next)"),
    };
    let write_option = Html::trusted(if can_write {
        "<label><input type=radio name=access value=write checked> Read and change your Attio data \
         (create, update and delete records, list entries, notes, tasks and comments)</label><br>\
         <label><input type=radio name=access value=read> Only read your Attio data</label>"
    } else {
        "<label><input type=radio name=access value=read checked> Only read your Attio data</label>"
    });
    let groups = match approved.audience {
        Audience::Mcp => group_choices(approved),
        Audience::Api => NOTHING,
    };
    let owner = match config.owner.as_ref().and_then(|o| owner::gate(config, o)) {
        Some(gate) => html!(
            "<p role=note>This gateway reaches Attio with its owner's workspace key: the app will act as the \
             whole workspace, not as one member.</p>{}",
            if gate == owner::Gate::Password {
                Html::trusted(
                    "<p><label>Owner password <input type=password name=owner_password autocomplete=current-password \
                     required></label></p>",
                )
            } else {
                NOTHING
            }
        ),
        None => NOTHING,
    };
    let body = html!(
        "<h1>Allow access to Attio?</h1>{person}\
         <div class=card><p>{avatar}<strong>{name}</strong> wants to use {workspace} through this gateway.</p>\
         <dl><dt>It will use</dt><dd>{resource}</dd><dt>It will be sent back to</dt><dd>{host}</dd></dl>{warning}</div>\
         <form method=post action=\"{AUTHORIZE}\">\
         <input type=hidden name=request value=\"{request}\"><input type=hidden name=csrf value=\"{csrf}\">\
         <fieldset><legend>What may it do?</legend>{write_option}</fieldset>{groups}{owner}\
         <p><button class=primary type=submit name=decision value=approve>Allow</button> \
         <button type=submit name=decision value=deny>Deny</button></p></form>",
        avatar = avatar(client.display_name()),
        name = client.display_name(),
        workspace = workspace,
        resource = match approved.audience {
            Audience::Mcp => "the gateway's Attio tools (MCP)",
            Audience::Api => "Attio's REST API through this gateway (any request your access allows)",
        },
        host = redirect::display_host(&approved.redirect_uri),
        warning = warning,
        request = request_id,
        csrf = keys.sign(&format!("authz-csrf|{request_id}")),
        write_option = write_option,
        groups = groups,
        person = access_identity(ctx.person.as_deref()),
        owner = owner,
    );
    // The decision redirects to Attio's sign-in or back to the app: both are form targets.
    let targets = [config.attio_app_base.as_str(), approved.redirect_uri.as_str()];
    page_with_form_targets(StatusCode::OK, "Allow access to Attio?", &body, &targets)
}

/// The tool groups the app asked for (all unless its scope named some), each a checkbox,
/// checked: the person may untick what the app should not see.
fn group_choices(approved: &Approved) -> Html {
    let boxes: Html = tool_groups::granted(&approved.scope)
        .into_iter()
        .map(|g| {
            html!("<label><input type=checkbox name=\"group_{}\" value=on checked> {}</label><br>", g.name(), g.label())
        })
        .collect();
    html!(
        "<fieldset><legend>Which parts of Attio?</legend><input type=hidden name=groups_shown value=1>{}</fieldset>",
        boxes
    )
}

/// The groups ticked on the consent form, among those the app asked for. `None`: the form
/// showed no choice (REST proxy grants, or a form from before groups), which keeps them all.
fn chosen_groups(form: &[(String, String)], approved: &Approved) -> Option<Vec<tool_groups::Group>> {
    params::get(form, "groups_shown")?;
    let asked = tool_groups::granted(&approved.scope);
    Some(asked.into_iter().filter(|g| params::get(form, &format!("group_{}", g.name())) == Some("on")).collect())
}

/// `POST /authorize`: the consent decision.
pub async fn decide<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    // Counted like the page: a form can be sent again, and each answer may load the client.
    if !p.within_limit(Limit::Flows, &rate_limit::by_address(req)).await {
        return Ok(too_many_requests());
    }
    let config = ctx.config;
    let origin = ctx.origin.clone();
    let keys = config.keys();
    let forbidden = |m: &str| Ok(error_page(StatusCode::FORBIDDEN, "Request refused", m, &NOTHING));
    if session::from_other_site(ctx, req) {
        return forbidden("This form was submitted from another site.");
    }
    let form = match params::parse(std::str::from_utf8(req.body()).unwrap_or("")) {
        Ok(f) => f,
        Err(why) => return Ok(bad_request_page("Invalid request", why)),
    };
    let Some(request_id) = params::get(&form, "request") else {
        return Ok(bad_request_page("Invalid request", "The form is incomplete."));
    };
    let bound = session::cookie(req, AUTHZ_COOKIE).is_some_and(|c| keys.verify(&format!("authz|{request_id}"), c));
    let csrf_ok = params::get(&form, "csrf").is_some_and(|t| keys.verify(&format!("authz-csrf|{request_id}"), t));
    if !bound || !csrf_ok {
        return forbidden(
            "This consent form was not issued to this browser, or it has expired. Start again from the application.",
        );
    }
    // The request the form carries; a form from before requests were carried (one stored by
    // the release before) is taken from storage, once.
    let carried = match sealed_request::is_sealed(request_id) {
        true => Ok(sealed_request::open(keys, request_id, p.now_ms())),
        false => one_time::take_request(p, keys, request_id).await,
    };
    let mut approved: Approved = match carried {
        Ok(Some(approved)) => approved,
        Ok(None) => {
            return Ok(bad_request_page("Request expired", "This consent request has expired or was already answered."))
        }
        Err(e) => return Err(AppError::unavailable_because("the authorization store", e)),
    };
    // Rebuilt from storage: check the client and redirect URI again before redirecting.
    match clients::load(p, config, &approved.client_id).await {
        Ok(Some(c)) if redirect::matches(&c.redirect_uris, &approved.redirect_uri) => {}
        Ok(_) => return Ok(bad_request_page("Unknown application", "This application is no longer registered.")),
        Err(e) => return Err(AppError::unavailable_because("client storage", e)),
    }
    let mut resp = if params::get(&form, "decision") != Some("approve") {
        error_redirect(StatusCode::SEE_OTHER, &origin, &approved, "access_denied", "the person denied access")
    } else {
        let write = params::get(&form, "access") == Some("write") && approved.scope.iter().any(|s| s == SCOPE_WRITE);
        let groups = chosen_groups(&form, &approved).unwrap_or_else(|| tool_groups::granted(&approved.scope));
        if groups.is_empty() {
            return Ok(bad_request_page(
                "Nothing chosen",
                "Choose at least one part of Attio the app may use, or deny.",
            ));
        }
        approved.scope = grant::scopes_for(write);
        approved.scope.extend(tool_groups::scopes_for(&groups));
        if let Some(owner_mode) = &config.owner {
            let who = match owner_admits(p, ctx, req, &form, owner_mode).await {
                Ok(who) => who,
                Err(page) => return Ok(page),
            };
            let connection = owner::connect(p, config, &owner_mode.key, Some(&who)).await?;
            // The approval is audited as the person the gate admitted.
            let admitted = Ctx::for_person(config, req, &Some(who));
            let mut resp = match consent::complete(p, &admitted, &approved, &connection).await {
                Ok(location) => redirect_response(StatusCode::SEE_OTHER, &location),
                Err(page) => page.into_response(),
            };
            add_cookie(&mut resp, &session::clear_cookie(AUTHZ_COOKIE));
            return Ok(resp);
        }
        match signed_in_connection(p, ctx, keys, req).await {
            Some(connection) => match consent::complete(p, ctx, &approved, &connection).await {
                Ok(location) => {
                    let mut resp = redirect_response(StatusCode::SEE_OTHER, &location);
                    if let Some(cookie) = consent::remember(keys, req, &approved, &connection.user) {
                        add_cookie(&mut resp, &cookie);
                    }
                    resp
                }
                Err(page) => page.into_response(),
            },
            // Not signed in, or no usable connection: Attio first, then back here.
            None => sign_in::begin(p, ctx, Some(approved), StatusCode::SEE_OTHER).await?,
        }
    };
    add_cookie(&mut resp, &session::clear_cookie(AUTHZ_COOKIE));
    Ok(resp)
}

/// Who owner mode's gate admits to approve: the Access email, or the owner who gave the
/// password (failed attempts count against the address's token-failure limit).
async fn owner_admits<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    req: &Request,
    form: &[(String, String)],
    owner_mode: &crate::config::OwnerMode,
) -> Result<String, Response> {
    let refused = |status, title: &str, message: &str| error_page(status, title, message, &NOTHING);
    match owner::gate(ctx.config, owner_mode) {
        Some(owner::Gate::Access) => ctx.person.clone().ok_or_else(|| {
            refused(StatusCode::FORBIDDEN, "Sign in through Cloudflare Access", "Owner mode needs an Access login.")
        }),
        Some(owner::Gate::Password) => {
            let key = rate_limit::by_address(req);
            if !p.within_limit(Limit::TokenFailures, &format!("owner-password|{key}")).await {
                return Err(too_many_requests());
            }
            let given = params::get(form, "owner_password").unwrap_or("");
            match &owner_mode.password {
                Some(hash) if hash.verify(given) => Ok("owner".to_string()),
                _ => Err(refused(StatusCode::FORBIDDEN, "Wrong password", "That is not the owner's password.")),
            }
        }
        None => Err(refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not available yet",
            &owner::gate_problem(ctx.config).unwrap_or_default(),
        )),
    }
}

/// The Attio connection of the person signed in to this browser, if it is active.
async fn signed_in_connection<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    keys: &SigningKeys,
    req: &Request,
) -> Option<crate::attio::vault::Connection> {
    let config = ctx.config;
    let session = Session::from_request(keys, req, p.now_ms())?;
    let vault = config.vault();
    connection::usable(p, config, vault, &session.user).await.ok()
}
