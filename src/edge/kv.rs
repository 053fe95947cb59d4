//! Workers KV on the raw binding object (`get`, `put`, `delete`, `list`), one JS call each.
//! workers-rs's `KvStore` builds its options and reads its answers through
//! `serde_wasm_bindgen`, which costs CPU on every call and code size for paths the gateway
//! never takes (typed values, metadata, floats).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::js_sys::{Array, Object, Promise, Reflect};

use super::js::call;
use crate::platform::KvPage;

/// A KV namespace binding.
pub(crate) struct Kv(JsValue);

fn set(target: &Object, name: &str, value: &JsValue) -> Result<(), JsValue> {
    Reflect::set(target, &JsValue::from_str(name), value).map(|_| ())
}

fn promise(value: JsValue) -> Result<JsFuture, JsValue> {
    Ok(JsFuture::from(value.dyn_into::<Promise>()?))
}

impl Kv {
    /// The namespace bound as `binding`, if the environment has it.
    pub(crate) fn bound(env: &JsValue, binding: &str) -> Result<Kv, JsValue> {
        let kv = Reflect::get(env, &JsValue::from_str(binding))?;
        if kv.is_object() {
            Ok(Kv(kv))
        } else {
            Err(JsValue::from_str("no such KV binding"))
        }
    }

    /// The value of `key` as text, `None` when absent.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<String>, JsValue> {
        let args = Array::of2(&JsValue::from_str(key), &JsValue::from_str("text"));
        Ok(promise(call(&self.0, "get", &args)?)?.await?.as_string())
    }

    /// Starts writing `value` under `key` (kept `ttl_secs`, at least 60 s, which KV requires),
    /// with `metadata` (a string) returned by listings.
    pub(crate) fn put(
        &self,
        key: &str,
        value: &str,
        ttl_secs: Option<u64>,
        metadata: Option<&str>,
    ) -> Result<Promise, JsValue> {
        let options = Object::new();
        if let Some(ttl) = ttl_secs {
            set(&options, "expirationTtl", &JsValue::from(ttl.max(60) as f64))?;
        }
        if let Some(m) = metadata {
            set(&options, "metadata", &JsValue::from_str(m))?;
        }
        let args = Array::of3(&JsValue::from_str(key), &JsValue::from_str(value), &options);
        call(&self.0, "put", &args)?.dyn_into::<Promise>()
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), JsValue> {
        promise(call(&self.0, "delete", &Array::of1(&JsValue::from_str(key)))?)?.await.map(|_| ())
    }

    /// One page of the keys under `prefix` after `cursor` with their metadata (when it is a
    /// string), and the cursor of the next page.
    pub(crate) async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<KvPage, JsValue> {
        let options = Object::new();
        set(&options, "prefix", &JsValue::from_str(prefix))?;
        if let Some(c) = cursor {
            set(&options, "cursor", &JsValue::from_str(c))?;
        }
        let page = promise(call(&self.0, "list", &Array::of1(&options))?)?.await?;
        let keys: Array = Reflect::get(&page, &JsValue::from_str("keys"))?.dyn_into()?;
        let (mut names, mut metadata) = (Vec::new(), Vec::new());
        for k in keys.iter() {
            let Some(name) = Reflect::get(&k, &JsValue::from_str("name"))?.as_string() else { continue };
            names.push(name);
            metadata.push(Reflect::get(&k, &JsValue::from_str("metadata"))?.as_string());
        }
        let complete = Reflect::get(&page, &JsValue::from_str("list_complete"))?.as_bool().unwrap_or(true);
        let next = if complete { None } else { Reflect::get(&page, &JsValue::from_str("cursor"))?.as_string() };
        Ok(KvPage { keys: names, metadata, cursor: next })
    }
}
