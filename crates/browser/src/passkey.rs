//! Passkey unlock glue (WebAuthn PRF): create a passkey that yields a PRF output for a random
//! salt, and ask it for that output again at unlock. The output goes straight to the engine,
//! which wraps or unwraps the data key with it.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::random::BrowserRandom;

#[wasm_bindgen(module = "/js/passkey.js")]
extern "C" {
    #[wasm_bindgen(js_name = passkeysSupported)]
    fn passkeys_supported() -> bool;
    #[wasm_bindgen(js_name = create)]
    fn js_create(salt: &[u8]) -> js_sys::Promise;
    #[wasm_bindgen(js_name = evaluate)]
    fn js_evaluate(id: &[u8], salt: &[u8]) -> js_sys::Promise;
}

/// Why a passkey could not be used.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PasskeyError {
    /// No WebAuthn here.
    #[error("this browser cannot use passkeys; unlock with your passphrase")]
    Unsupported,
    /// The browser, the authenticator or the user said no.
    #[error("the passkey was not used ({0}); try again, or unlock with your passphrase")]
    Failed(String),
}

/// Whether the browser has WebAuthn at all (PRF support shows only when a passkey is made).
pub fn supported() -> bool {
    passkeys_supported()
}

fn failed(e: JsValue) -> PasskeyError {
    let text = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into());
    PasskeyError::Failed(text)
}

/// A new passkey: (credential id, PRF salt, PRF output).
pub async fn create() -> Result<(Vec<u8>, Vec<u8>, Vec<u8>), PasskeyError> {
    if !supported() {
        return Err(PasskeyError::Unsupported);
    }
    let mut salt = vec![0u8; 32];
    BrowserRandom
        .fill_bytes(&mut salt)
        .map_err(|e| PasskeyError::Failed(e.to_string()))?;
    let pair: js_sys::Array = JsFuture::from(js_create(&salt))
        .await
        .map_err(failed)?
        .unchecked_into();
    let id = js_sys::Uint8Array::new(&pair.get(0)).to_vec();
    let output = js_sys::Uint8Array::new(&pair.get(1)).to_vec();
    Ok((id, salt, output))
}

/// The PRF output of passkey `id` for `salt`.
pub async fn evaluate(id: &[u8], salt: &[u8]) -> Result<Vec<u8>, PasskeyError> {
    if !supported() {
        return Err(PasskeyError::Unsupported);
    }
    let out = JsFuture::from(js_evaluate(id, salt))
        .await
        .map_err(failed)?;
    Ok(js_sys::Uint8Array::new(&out).to_vec())
}
