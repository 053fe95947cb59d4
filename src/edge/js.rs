//! Moving headers and bodies across the JS boundary in as few calls as possible: a header map
//! crosses as one JSON string, a body as one `arrayBuffer()`. workers-rs crosses once per header
//! and reads bodies chunk by chunk through a stream reader, which cost more CPU than the cheap
//! routes themselves (`scripts/bench --profile` shows it).

use std::collections::BTreeMap;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::js_sys::{Array, Function, Promise, Reflect, Uint8Array, JSON};
use worker::worker_sys::web_sys::{Headers, ReadableStream, ReadableStreamDefaultReader};

use crate::base::http::CappedBody;

/// Headers as a JS array of `[name, value]` pairs (repeated names, such as two `Set-Cookie`,
/// survive), parsed once on the JS side. Values that are not visible ASCII are dropped.
pub(crate) fn headers_to_js(headers: &http::HeaderMap) -> Result<JsValue, JsValue> {
    let pairs: Vec<(&str, &str)> =
        headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    let json = serde_json::to_string(&pairs).map_err(|_| JsValue::NULL)?;
    JSON::parse(&json)
}

#[wasm_bindgen(
    inline_js = "export function header_lines(h) { let s = ''; h.forEach((v, k) => { s += k + ':' + v + '\\n'; }); return s; }"
)]
extern "C" {
    /// Every header as `name:value` lines, built on the JS side in one pass (`forEach` makes no
    /// pair arrays and needs no JSON): one crossing with one string.
    fn header_lines(headers: &Headers) -> String;
}

/// Every header of a JS `Headers`, names lower-cased and repeats already joined by the runtime.
/// A header value cannot hold a line break and a name cannot hold `:`, so the lines split back
/// unambiguously.
pub(crate) fn headers_from_js(headers: &Headers) -> Option<BTreeMap<String, String>> {
    let lines = header_lines(headers);
    lines.lines().map(|line| line.split_once(':').map(|(n, v)| (n.to_string(), v.to_string()))).collect()
}

/// A whole body, from the promise of a request's or response's `arrayBuffer()`.
pub(crate) async fn body(array_buffer: Result<Promise, JsValue>) -> Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(array_buffer?).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Why [`read_capped`] stopped.
pub(crate) enum CappedReadError {
    /// More than the cap arrived; the stream was cancelled.
    TooLarge,
    /// The stream failed.
    Failed(JsValue),
}

/// Reads a body stream chunk by chunk, giving up (and cancelling the stream) the moment more
/// than `max_bytes` arrived, so an endless body costs at most the cap in memory.
pub(crate) async fn read_capped(stream: Option<ReadableStream>, max_bytes: usize) -> Result<Vec<u8>, CappedReadError> {
    let Some(stream) = stream else { return Ok(Vec::new()) };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = CappedBody::new(max_bytes);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(CappedReadError::Failed)?;
        if Reflect::get(&chunk, &JsValue::from_str("done")).map_err(CappedReadError::Failed)?.is_truthy() {
            return Ok(body.into_bytes());
        }
        let value = Reflect::get(&chunk, &JsValue::from_str("value")).map_err(CappedReadError::Failed)?;
        let bytes = Uint8Array::new(&value);
        match body.reserve_chunk(bytes.length() as usize) {
            Ok(room) => bytes.copy_to(room),
            Err(_) => {
                // Awaited in the background: a rejected cancel must not surface as unhandled.
                let cancel = JsFuture::from(reader.cancel());
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = cancel.await;
                });
                return Err(CappedReadError::TooLarge);
            }
        }
    }
}

/// `target[method](...args)`.
pub(crate) fn call(target: &JsValue, method: &str, args: &Array) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(method))?.dyn_into::<Function>()?.apply(target, args)
}

#[wasm_bindgen(inline_js = "export function object_call(stubs, ns, name, body) { \
    let stub = stubs.get(name); \
    if (stub === undefined) { stub = ns.get(ns.idFromName(name)); stubs.set(name, stub); } \
    return stub.run(body); }")]
extern "C" {
    /// Sends `body` (a command) to the object `name` of the Durable Object namespace `ns` by
    /// RPC and resolves to its answer: the whole round trip as one promise, with no `Request`
    /// or `Response` built on either side (`scripts/lean-entry.mjs` makes the class callable).
    /// `stubs` (a `Map` per request) keeps the stub of each object the request called.
    fn object_call(stubs: &JsValue, ns: &JsValue, name: &str, body: &str) -> Promise;
}

#[wasm_bindgen(inline_js = "export function wait_until(ctx, work, event) { \
    ctx.waitUntil(work.catch((e) => console.log(event + ' ' + (e instanceof Error ? e.message : 'a JS call failed')))); }")]
extern "C" {
    /// Keeps `work` running after the response (`ctx.waitUntil`), its failure logged as
    /// `event` with the error's message: no Rust future in between, which would cost a task
    /// and its wake-ups on the hot path of every authenticated call (its outcome write).
    pub(crate) fn wait_until(ctx: &JsValue, work: &Promise, event: &str);
}

/// Sends `body` to the Durable Object `name` of the namespace bound as `binding`; its answer
/// as text.
pub(crate) async fn durable_object_call(
    env: &JsValue,
    stubs: &JsValue,
    binding: &str,
    name: &str,
    body: &str,
) -> Result<String, JsValue> {
    let text = JsFuture::from(durable_object_promise(env, stubs, binding, name, body)?).await?;
    text.as_string().ok_or_else(|| JsValue::from_str("the object's answer is not text"))
}

/// The same call, not awaited: its promise (for `waitUntil`).
pub(crate) fn durable_object_promise(
    env: &JsValue,
    stubs: &JsValue,
    binding: &str,
    name: &str,
    body: &str,
) -> Result<Promise, JsValue> {
    let namespace = Reflect::get(env, &JsValue::from_str(binding))?;
    Ok(object_call(stubs, &namespace, name, body))
}

/// The message of a JS error (or a fixed text): for logs, never a value we sent.
pub(crate) fn error_message(e: &JsValue) -> String {
    e.dyn_ref::<worker::js_sys::Error>().map_or_else(|| "a JS call failed".into(), |e| String::from(e.message()))
}
