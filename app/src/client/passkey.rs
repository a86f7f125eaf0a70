//! The browser's side of passkeys: hands the server's options to `navigator.credentials` (through the browser's own JSON parsers) and gives the authenticator's answer back as JSON.

/// Makes a new passkey with the server's registration options; the answer, as JSON.
pub async fn create(options: &str) -> Result<String, String> {
    #[cfg(feature = "browser")]
    return ceremony(options, "parseCreationOptionsFromJSON", "create").await;
    #[cfg(not(feature = "browser"))]
    {
        let _ = options;
        Err(UNSUPPORTED.into())
    }
}

/// Asks for a passkey with the server's sign-in options; the answer, as JSON.
pub async fn get(options: &str) -> Result<String, String> {
    #[cfg(feature = "browser")]
    return ceremony(options, "parseRequestOptionsFromJSON", "get").await;
    #[cfg(not(feature = "browser"))]
    {
        let _ = options;
        Err(UNSUPPORTED.into())
    }
}

const UNSUPPORTED: &str = "this browser cannot use passkeys (it needs a recent Chrome, Edge, Firefox or Safari)";

#[cfg(feature = "browser")]
async fn ceremony(options: &str, parse: &str, method: &str) -> Result<String, String> {
    use js_sys::{Function, JSON, Object, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    let get = |target: &JsValue, key: &str| Reflect::get(target, &JsValue::from_str(key)).ok();
    let function = |target: &JsValue, key: &str| get(target, key).and_then(|f| f.dyn_into::<Function>().ok());
    let global = js_sys::global();
    let class = get(&global, "PublicKeyCredential")
        .filter(|c| !c.is_undefined())
        .ok_or(UNSUPPORTED)?;
    let parse = function(&class, parse).ok_or(UNSUPPORTED)?;
    let options = JSON::parse(options).map_err(|_| "the server's passkey options do not read".to_owned())?;
    let public_key = get(&options, "publicKey").ok_or("the server's passkey options do not read")?;
    let parsed = parse.call1(&class, &public_key).map_err(describe)?;
    let request = Object::new();
    Reflect::set(&request, &JsValue::from_str("publicKey"), &parsed).map_err(describe)?;
    let navigator = get(&global, "navigator").ok_or(UNSUPPORTED)?;
    let credentials = get(&navigator, "credentials")
        .filter(|c| !c.is_undefined())
        .ok_or("passkeys need this site opened by its name over HTTPS (or on localhost)")?;
    let call = function(&credentials, method).ok_or(UNSUPPORTED)?;
    let promise: Promise = call
        .call1(&credentials, &request)
        .map_err(describe)?
        .dyn_into()
        .map_err(describe)?;
    let credential = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(describe)?;
    if credential.is_null() || credential.is_undefined() {
        return Err("no passkey was chosen".into());
    }
    let to_json = function(&credential, "toJSON").ok_or(UNSUPPORTED)?;
    let json = to_json.call0(&credential).map_err(describe)?;
    JSON::stringify(&json)
        .map(String::from)
        .map_err(|_| "the passkey's answer does not read".to_owned())
}

/// What a refusal of the browser's means to the person.
#[cfg(feature = "browser")]
fn describe(error: wasm_bindgen::JsValue) -> String {
    let name = js_sys::Reflect::get(&error, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "AbortError" => "the passkey request was cancelled or timed out".into(),
        "InvalidStateError" => "this device has a passkey for your account already".into(),
        "SecurityError" => "passkeys need this site opened by its name over HTTPS (or on localhost)".into(),
        "NotSupportedError" => "this device has no passkey it can use here".into(),
        _ => js_sys::Reflect::get(&error, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "the passkey request failed".into()),
    }
}
