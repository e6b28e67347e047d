//! Files in and out: download bytes as a file (backups, tokens) and read a file the user picked.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a file could not be saved or read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FileError {
    /// The browser refused to create the download.
    #[error("the browser did not let Flash save the file ({0}); try again, or allow downloads for this site")]
    Save(String),
    /// The picked file could not be read.
    #[error("the file could not be read ({0}); pick it again")]
    Read(String),
    /// The picked file is larger than anything Flash reads (not a backup or token).
    #[error("that file is too large ({0} bytes, at most {1}); pick the right file")]
    TooLarge(u64, u64),
}

fn msg(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// Offers `bytes` as a download named `name`.
pub fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), FileError> {
    let save = |e: JsValue| FileError::Save(msg(e));
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or(FileError::Save("no document".into()))?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(save)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(save)?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a").map_err(save)?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // Revoking at once can cancel the download in some browsers before it has read the blob;
    // the URL is revoked a minute later instead.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let global = js_sys::global();
    if let Ok(set_timeout) = js_sys::Reflect::get(&global, &JsValue::from_str("setTimeout")) {
        if let Some(f) = set_timeout.dyn_ref::<js_sys::Function>() {
            let _ = f.call2(&global, &revoke, &JsValue::from_f64(60_000.0));
        }
    }
    Ok(())
}

/// Largest file Flash reads: a backup of a wallet with many thousand proofs fits well within it,
/// and a wrong pick (a video) is refused before it is loaded into memory.
pub const MAX_PICKED_BYTES: u64 = 32 * 1024 * 1024;

/// The bytes of the first file chosen in `input` (at most [`MAX_PICKED_BYTES`]).
pub async fn read_picked(input: &web_sys::HtmlInputElement) -> Result<Vec<u8>, FileError> {
    let file = input
        .files()
        .and_then(|list| list.get(0))
        .ok_or_else(|| FileError::Read("no file chosen".into()))?;
    let size = file.size() as u64;
    if size > MAX_PICKED_BYTES {
        return Err(FileError::TooLarge(size, MAX_PICKED_BYTES));
    }
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| FileError::Read(msg(e)))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A date and time for people, in the user's locale (e.g. "25/11/2026, 17:30:00").
pub fn format_time(ms: u64, locale: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    String::from(date.to_locale_string(locale, &JsValue::UNDEFINED))
}
