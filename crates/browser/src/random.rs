//! The randomness port over Web Crypto's `getRandomValues` (works on pages and in workers).

use flash_api::RandomError;
use wasm_bindgen::{JsCast, JsValue};

/// Secure randomness from the browser.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserRandom;

#[cfg(feature = "engine")]
impl flash_core::ports::Random for BrowserRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        self.fill_bytes(buf)
    }
}

impl BrowserRandom {
    /// Fills `buf` from Web Crypto.
    pub fn fill_bytes(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
            .ok()
            .and_then(|c| c.dyn_into::<web_sys::Crypto>().ok())
            .ok_or_else(|| RandomError("Web Crypto is not available".into()))?;
        // getRandomValues fills at most 65536 bytes per call.
        for chunk in buf.chunks_mut(65_536) {
            crypto
                .get_random_values_with_u8_array(chunk)
                .map_err(|e| RandomError(format!("{e:?}")))?;
        }
        Ok(())
    }
}
