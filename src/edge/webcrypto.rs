//! [`VerifySignature`](crate::platform::VerifySignature) over the runtime's WebCrypto
//! (`crypto.subtle.importKey("jwk", …)` then `verify`): client assertions are checked in
//! native code, and no RSA or elliptic-curve arithmetic is compiled into the bundle. The key is
//! imported for `verify` only, with the algorithm fixed by its type, never by the token.
//!
//! WebCrypto's ECDSA takes the signature as `r || s` (IEEE P1363), which is exactly the JWS
//! form (RFC 7518 §3.4), so neither side is re-encoded.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::js_sys::{self, Array, Function, Promise, Reflect, Uint8Array, JSON};

use crate::oauth::clients::jwk::PublicJwk;

fn member(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(name))
}

/// Calls `subtle[method](...args)` and awaits its promise.
async fn subtle_call(subtle: &JsValue, method: &str, args: &Array) -> Result<JsValue, JsValue> {
    let function: Function = member(subtle, method)?.dyn_into()?;
    let promise: Promise = Reflect::apply(&function, subtle, args)?.dyn_into()?;
    JsFuture::from(promise).await
}

fn json(text: &str) -> Result<JsValue, JsValue> {
    JSON::parse(text)
}

pub(crate) async fn verify(key: &PublicJwk, message: &[u8], signature: &[u8]) -> Result<bool, JsValue> {
    let (import_alg, verify_alg) = match key {
        PublicJwk::Rsa { .. } => {
            (r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-256"}"#, r#"{"name":"RSASSA-PKCS1-v1_5"}"#)
        }
        PublicJwk::P256 { .. } => (r#"{"name":"ECDSA","namedCurve":"P-256"}"#, r#"{"name":"ECDSA","hash":"SHA-256"}"#),
    };
    let subtle = member(&member(&js_sys::global(), "crypto")?, "subtle")?;
    let usages = Array::of1(&JsValue::from_str("verify"));
    let import_args = Array::of5(
        &JsValue::from_str("jwk"),
        &json(&key.to_jwk().to_string())?,
        &json(import_alg)?,
        &JsValue::FALSE,
        &usages,
    );
    let crypto_key = subtle_call(&subtle, "importKey", &import_args).await?;
    let verify_args = Array::of4(
        &json(verify_alg)?,
        &crypto_key,
        &Uint8Array::from(signature).into(),
        &Uint8Array::from(message).into(),
    );
    Ok(subtle_call(&subtle, "verify", &verify_args).await?.as_bool() == Some(true))
}
