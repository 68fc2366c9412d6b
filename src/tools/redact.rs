//! Secret redaction: environment variables, `.env` text and plugin storage are shown
//! with secret-looking values replaced by [`REDACTED`]; writers that receive the
//! placeholder keep the current value, so a read-modify-write round trip never destroys
//! a secret.

use std::collections::BTreeMap;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// What a value left out of a capped answer is replaced with. Like [`REDACTED`], writers
/// that receive it keep the current value.
pub const OMITTED: &str = "[OMITTED]";

/// Name fragments (case-insensitive) that mark a key as secret.
pub const SECRET_MARKERS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "AUTH",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "KEY",
    "CREDENTIAL",
    "PRIVATE",
    "COOKIE",
    "SALT",
];

/// Whether a key (env name, storage key) looks like it holds a secret.
pub fn is_secret_key(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    SECRET_MARKERS.iter().any(|m| upper.contains(m))
}

/// Whether a value looks like a credential whatever its key (`Bearer …`, `Basic …`).
pub fn is_secret_value(value: &str) -> bool {
    let v = value.trim_start().to_ascii_lowercase();
    v.starts_with("bearer ") || v.starts_with("basic ")
}

/// A map with secret-looking entries replaced by the placeholder; also returns the keys
/// that were redacted.
pub fn redact_map(map: &BTreeMap<String, String>) -> (BTreeMap<String, String>, Vec<String>) {
    let mut redacted = Vec::new();
    let out = map
        .iter()
        .map(|(k, v)| {
            if is_secret_key(k) || is_secret_value(v) {
                redacted.push(k.clone());
                (k.clone(), REDACTED.to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    (out, redacted)
}

/// Redacts the values of Scrypted `Setting` objects (`{key, type, value, ...}`, as
/// `getSettings` returns them) that are password-typed or whose key looks secret, in an
/// array of them anywhere in `value`. Returns the keys redacted.
pub fn redact_settings(value: &mut serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    let mut keys = Vec::new();
    match value {
        Value::Array(items) => {
            for item in items.iter_mut() {
                let Some(obj) = item.as_object_mut() else {
                    keys.extend(redact_settings(item));
                    continue;
                };
                let Some(key) = obj.get("key").and_then(Value::as_str).map(String::from) else {
                    keys.extend(redact_settings(item));
                    continue;
                };
                let secret = obj.get("type").and_then(Value::as_str) == Some("password")
                    || is_secret_key(&key)
                    || obj
                        .get("value")
                        .and_then(Value::as_str)
                        .is_some_and(is_secret_value);
                let has_value = match obj.get("value") {
                    None | Some(Value::Null) => false,
                    Some(Value::String(s)) => !s.is_empty(),
                    Some(_) => true,
                };
                if secret && has_value {
                    obj.insert("value".into(), Value::String(REDACTED.into()));
                    keys.push(key);
                }
            }
        }
        Value::Object(map) => {
            for v in map.values_mut() {
                keys.extend(redact_settings(v));
            }
        }
        _ => {}
    }
    keys
}

/// A device property's value as it may be shown: the whole value when the property's
/// name looks secret; inside it, strings under secret-looking keys and credential-looking
/// strings. Only strings are secrets below the top: a nested `keyframeInterval: 40` is not.
/// Returns whether anything was replaced.
pub fn redact_property(name: &str, value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    fn walk(key: Option<&str>, value: &mut Value) -> bool {
        match value {
            Value::String(s) if key.is_some_and(is_secret_key) || is_secret_value(s) => {
                *value = Value::String(REDACTED.into());
                true
            }
            Value::Array(items) => items.iter_mut().fold(false, |r, v| walk(None, v) | r),
            Value::Object(map) => map.iter_mut().fold(false, |r, (k, v)| walk(Some(k), v) | r),
            _ => false,
        }
    }
    if is_secret_key(name) && !value.is_null() {
        *value = Value::String(REDACTED.into());
        return true;
    }
    walk(None, value)
}

/// One `KEY=value` line of a `.env` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvLine<'a> {
    /// Text before the key (indentation and an optional `export `).
    pub prefix: &'a str,
    pub key: &'a str,
    /// Everything after `=`, verbatim.
    pub raw_value: &'a str,
}

/// Parses an assignment line; `None` for blanks, comments and anything else.
pub fn parse_env_line(line: &str) -> Option<EnvLine<'_>> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let after_export = trimmed
        .strip_prefix("export ")
        .map(str::trim_start)
        .unwrap_or(trimmed);
    let prefix_len = line.len() - after_export.len();
    let eq = after_export.find('=')?;
    let key = after_export[..eq].trim_end();
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
    {
        return None;
    }
    Some(EnvLine {
        prefix: &line[..prefix_len],
        key,
        raw_value: &after_export[eq + 1..],
    })
}

/// The value without surrounding whitespace and matching quotes.
pub fn unquote(raw: &str) -> &str {
    let t = raw.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return &t[1..t.len() - 1];
        }
    }
    t
}

/// Rewrites each `KEY=value` line of `.env` text with `edit` (`Some(new raw value)`),
/// keeping every other line, and the line endings, as they are.
fn rewrite_dotenv<E>(
    text: &str,
    mut edit: impl FnMut(&EnvLine<'_>) -> Result<Option<String>, E>,
) -> Result<String, E> {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        match parse_env_line(body) {
            Some(l) => match edit(&l)? {
                Some(value) => {
                    out.push_str(l.prefix);
                    out.push_str(l.key);
                    out.push('=');
                    out.push_str(&value);
                }
                None => out.push_str(body),
            },
            None => out.push_str(body),
        }
        out.push_str(nl);
    }
    Ok(out)
}

fn push_once(keys: &mut Vec<String>, key: &str) {
    if !keys.iter().any(|k| k == key) {
        keys.push(key.to_string());
    }
}

/// `.env` text with secret-looking values replaced; returns the redacted keys.
pub fn redact_dotenv(text: &str) -> (String, Vec<String>) {
    let mut keys = Vec::new();
    let out = rewrite_dotenv(text, |l| {
        if is_secret_key(l.key) || is_secret_value(unquote(l.raw_value)) {
            push_once(&mut keys, l.key);
            Ok::<_, std::convert::Infallible>(Some(REDACTED.to_string()))
        } else {
            Ok(None)
        }
    });
    match out {
        Ok(out) => (out, keys),
        Err(never) => match never {},
    }
}

/// Replaces every placeholder value in `new_text` with that key's current raw value from
/// `current`. Returns the text and the keys kept; `Err` names a placeholder key that has
/// no current value (nothing to keep), so nothing is written.
pub fn restore_dotenv(new_text: &str, current: &str) -> Result<(String, Vec<String>), String> {
    let existing: BTreeMap<&str, &str> = current
        .lines()
        .filter_map(parse_env_line)
        .map(|l| (l.key, l.raw_value))
        .collect();
    let mut kept = Vec::new();
    let out = rewrite_dotenv(new_text, |l| {
        if unquote(l.raw_value) != REDACTED {
            return Ok(None);
        }
        let Some(raw) = existing.get(l.key) else {
            return Err(format!(
                "{} has the placeholder {REDACTED} but no current value to keep; give it a real value or remove the line.",
                l.key
            ));
        };
        push_once(&mut kept, l.key);
        Ok(Some(raw.to_string()))
    })?;
    Ok((out, kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for k in [
            "SCRYPTED_ADMIN_TOKEN",
            "SCRYPTED_CLUSTER_SECRET",
            "SCRYPTED_WEBHOOK_UPDATE_AUTHORIZATION",
            "mqtt_password",
            "apiKey",
            "AWS_CREDENTIALS",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["SCRYPTED_VOLUME", "TZ", "SCRYPTED_INSECURE_PORT", "ip"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn property_values_lose_their_secrets_and_keep_the_rest() {
        use serde_json::json;
        let mut v = json!("hunter2");
        assert!(redact_property("apiKey", &mut v));
        assert_eq!(v, REDACTED);
        let mut v = json!({"video": {"keyframeInterval": 40, "codec": "h264"},
                           "auth": {"password": "pw", "user": "u"}, "note": "Bearer abc"});
        assert!(redact_property("streams", &mut v));
        assert_eq!(
            v,
            json!({"video": {"keyframeInterval": 40, "codec": "h264"},
                   "auth": {"password": REDACTED, "user": "u"}, "note": REDACTED})
        );
        let mut v = json!(true);
        assert!(!redact_property("on", &mut v));
        let mut v = serde_json::Value::Null;
        assert!(!redact_property("token", &mut v), "nothing to hide");
    }

    #[test]
    fn dotenv_round_trip_keeps_secrets() {
        let cur = "# c\nexport A_TOKEN=\"s e c\"\nTZ=UTC\nB_PASSWORD=x#y\n";
        let (red, keys) = redact_dotenv(cur);
        assert_eq!(
            red,
            "# c\nexport A_TOKEN=[REDACTED]\nTZ=UTC\nB_PASSWORD=[REDACTED]\n"
        );
        assert_eq!(keys, vec!["A_TOKEN", "B_PASSWORD"]);
        let edited = red.replace("TZ=UTC", "TZ=Europe/Berlin");
        let (back, kept) = restore_dotenv(&edited, cur).unwrap();
        assert_eq!(
            back,
            "# c\nexport A_TOKEN=\"s e c\"\nTZ=Europe/Berlin\nB_PASSWORD=x#y\n"
        );
        assert_eq!(kept, vec!["A_TOKEN", "B_PASSWORD"]);
        assert!(restore_dotenv("NEW_TOKEN=\"[REDACTED]\"", cur).is_err());
    }
}
