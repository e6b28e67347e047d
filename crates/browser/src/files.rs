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
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The bytes of the first file chosen in `input`.
pub async fn read_picked(input: &web_sys::HtmlInputElement) -> Result<Vec<u8>, FileError> {
    let file = input
        .files()
        .and_then(|list| list.get(0))
        .ok_or_else(|| FileError::Read("no file chosen".into()))?;
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
