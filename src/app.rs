//! The request router: one `match` from (method, path) to a handler, and the dependencies
//! handlers may use. Pure: the edge hands in a plain [`Request`] and gets a [`Response`] back.

use http::Method;

use crate::config::SettingsSource;
use crate::error::AppError;
use crate::http::{HttpClient, Request, Response};
use crate::routes;

/// What a handler may touch. Every effect goes through one of these, so the whole router runs
/// on the host in tests with fakes.
#[derive(Debug)]
pub struct Deps<'a, S, H> {
    /// Vars and secrets (and which bindings exist).
    pub settings: &'a S,
    /// Outbound HTTP, for Attio.
    pub http: &'a H,
}

/// Most bytes a request body may have; larger ones get 413 before any handler runs.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Routes a request and turns any error into its protocol's error response.
pub async fn handle<S: SettingsSource, H: HttpClient>(
    req: Request,
    deps: &Deps<'_, S, H>,
) -> Response {
    let head = req.method() == Method::HEAD;
    let mut resp = match route(req, deps).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    };
    if head {
        resp.body_mut().clear();
    }
    resp
}

async fn route<S: SettingsSource, H: HttpClient>(
    req: Request,
    deps: &Deps<'_, S, H>,
) -> Result<Response, AppError> {
    if req.body().len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    match req.uri().path() {
        "/" if get => Ok(routes::landing::page()),
        "/health" if get => Ok(routes::health::report(deps.settings)),
        routes::diagnostics::ATTIO_SELF if get => routes::diagnostics::attio_self(deps).await,
        "/" | "/health" => Err(AppError::MethodNotAllowed { allow: "GET, HEAD" }),
        _ => Err(AppError::NotFound),
    }
}
