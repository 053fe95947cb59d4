//! The request router: one `match` from path and method to a handler. Pure: the edge hands in
//! a plain [`Request`] and a [`Platform`] (every effect), and gets a [`Response`] back.

use http::Method;

use crate::auth::cf_access::{self, Gate};
use crate::base::http::{Request, Response};
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages;
use crate::pages::paths;
use crate::platform::Platform;
use crate::routes::authorize::{self, AUTHORIZE};
use crate::routes::oauth_server::{self, AS_METADATA, PRM_API, PRM_MCP, PRM_ROOT, REGISTER};
use crate::routes::token::{self, REVOKE, TOKEN};
use crate::routes::{account, admin, connect, diagnostics, health, landing, mcp, proxy, setup};

/// The pages a person uses, which Cloudflare Access guards when configured (`/mcp`, `/v2/*`
/// and the OAuth endpoints are for programs and keep their own authentication).
fn is_person_page(path: &str) -> bool {
    matches!(
        path,
        AUTHORIZE
            | paths::CONNECT
            | paths::CONNECT_STATUS
            | paths::DISCONNECT
            | paths::AUDIT
            | paths::ACCOUNT
            | paths::ACCOUNT_REVOKE
    ) || path == "/admin"
        || path.starts_with("/admin/")
}

/// Most bytes a request body may have; larger ones get 413 before any handler runs.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Routes a request and turns any error into its protocol's error response.
pub async fn handle(req: Request, p: &impl Platform) -> Response {
    let head = req.method() == Method::HEAD;
    let mut resp = match route(&req, p).await {
        Ok(resp) => resp,
        Err(e) => {
            let resp_status = e.status();
            if e.worth_logging() {
                // One structured line per failed request, for `wrangler tail`: the path (never
                // the query, which can hold codes and state), the status, the kind and the cause.
                let line = serde_json::json!({
                    "method": req.method().as_str(),
                    "path": req.uri().path(),
                    "status": resp_status.as_u16(),
                    "kind": e.kind(),
                    "cause": e.to_string(),
                });
                p.log("request.error", &line.to_string());
            }
            e.into_response()
        }
    };
    if head {
        resp.body_mut().clear();
    }
    resp
}

/// The answer to a request whose head alone decides it, if there is one: the edge sends it
/// without reading the body. Only refusals are answered here (a missing bearer token on `/mcp`
/// or `/v2/*`, a foreign `Origin`, ...), each by the same function the route itself runs first,
/// so reading the body could not have changed the answer. Anything else is `None`.
pub fn answer_from_head(req: &Request, p: &impl Platform) -> Option<Response> {
    let config = p.config().ok()?;
    match req.uri().path() {
        path if path.starts_with(proxy::PREFIX) => proxy::refuse_by_head(&Ctx::new(&config, req), req),
        mcp::PATH if *req.method() != Method::OPTIONS => mcp::refuse_by_head(&Ctx::new(&config, req), req),
        _ => None,
    }
}

async fn route(req: &Request, p: &impl Platform) -> Result<Response, AppError> {
    if req.body().len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    let post = *req.method() == Method::POST;
    let options = *req.method() == Method::OPTIONS;
    // The pages a person uses answer only to a valid Cloudflare Access login, when it is set up.
    let mut person = None;
    if is_person_page(req.uri().path()) {
        match cf_access::check(p, &*p.config()?, req).await {
            Gate::Off => {}
            Gate::Admitted { email } => person = Some(email),
            Gate::Refused(why) => return Ok(pages::access_refused(why)),
        }
    }
    let person_ctx = |config| Ctx::for_person(config, req, &person);
    match req.uri().path() {
        AS_METADATA | PRM_ROOT | PRM_MCP | PRM_API if get => oauth_server::discovery(p, req),
        AS_METADATA | PRM_ROOT | PRM_MCP | PRM_API | REGISTER if options => Ok(crate::base::http::preflight()),
        REGISTER if post => oauth_server::register(p, req).await,
        TOKEN | REVOKE if options => Ok(crate::base::http::preflight()),
        AUTHORIZE if get => authorize::authorize(p, &person_ctx(&*p.config()?), req).await,
        AUTHORIZE if post => authorize::decide(p, &person_ctx(&*p.config()?), req).await,
        TOKEN if post => token::token(p, &Ctx::new(&*p.config()?, req), req).await,
        REVOKE if post => token::revoke(p, &Ctx::new(&*p.config()?, req), req).await,
        AUTHORIZE => Err(AppError::MethodNotAllowed { allow: "GET, HEAD, POST" }),
        TOKEN | REVOKE => Err(AppError::MethodNotAllowed { allow: "POST, OPTIONS" }),
        AS_METADATA | PRM_ROOT | PRM_MCP | PRM_API => Err(AppError::MethodNotAllowed { allow: "GET, HEAD, OPTIONS" }),
        REGISTER => Err(AppError::MethodNotAllowed { allow: "POST, OPTIONS" }),
        "/" if get => Ok(landing::page()),
        "/health" if get => Ok(health::report(p).await),
        paths::CONNECT if get => connect::start(p, &person_ctx(&*p.config()?), req).await,
        paths::ATTIO_CALLBACK if get => connect::callback(p, &Ctx::new(&*p.config()?, req), req).await,
        paths::CONNECT_STATUS if get => connect::status(p, &person_ctx(&*p.config()?), req).await,
        paths::DISCONNECT if post => connect::disconnect(p, &person_ctx(&*p.config()?), req).await,
        paths::AUDIT if get => connect::audit_log(p, &person_ctx(&*p.config()?), req).await,
        paths::ACCOUNT if get => account::show(p, &person_ctx(&*p.config()?), req).await,
        paths::ACCOUNT_REVOKE if post => account::revoke(p, &person_ctx(&*p.config()?), req).await,
        admin::PATH if get => admin::show(p, &person_ctx(&*p.config()?), req).await,
        admin::AUDIT_CSV if get => admin::export(p, &person_ctx(&*p.config()?), req, true).await,
        admin::AUDIT_JSONL if get => admin::export(p, &person_ctx(&*p.config()?), req, false).await,
        admin::REVOKE if post => admin::revoke(p, &person_ctx(&*p.config()?), req).await,
        admin::DISCONNECT if post => admin::disconnect(p, &person_ctx(&*p.config()?), req).await,
        admin::POLICY if post => admin::set_policy(p, &person_ctx(&*p.config()?), req).await,
        admin::SIGN_IN if post => admin::sign_in(p, &person_ctx(&*p.config()?), req).await,
        setup::PATH if get => setup::page(p, req).await,
        diagnostics::ATTIO_SELF if get => diagnostics::attio_self(p).await,
        diagnostics::SEED_AUDIT if post => diagnostics::seed_audit(p, req).await,
        path if path.starts_with(proxy::PREFIX) => proxy::forward(p, &Ctx::new(&*p.config()?, req), req).await,
        mcp::PATH if options => Ok(crate::base::http::preflight()),
        mcp::PATH => mcp::handle(p, &Ctx::new(&*p.config()?, req), req).await,
        "/" | "/health" | paths::CONNECT | paths::ATTIO_CALLBACK | paths::CONNECT_STATUS | paths::AUDIT => {
            Err(AppError::MethodNotAllowed { allow: "GET, HEAD" })
        }
        paths::DISCONNECT => Err(AppError::MethodNotAllowed { allow: "POST" }),
        _ => Err(AppError::NotFound),
    }
}
