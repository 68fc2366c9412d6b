//! Secret redaction: environment variables, `.env` text and plugin storage are shown
//! with secret-looking values replaced by [`REDACTED`]; writers that receive the
//! placeholder keep the current value, so a read-modify-write round trip never destroys
//! a secret.

use super::secrets::{is_secret_key, names_a_code, redact_text, redact_value, REDACTED};
use std::collections::BTreeMap;

/// What a value left out of a capped answer is replaced with. Like [`REDACTED`], writers
/// that receive it keep the current value.
pub const OMITTED: &str = "[OMITTED]";

/// Whether a value looks like a credential whatever its key (see `secrets`).
pub fn is_secret_value(value: &str) -> bool {
    redact_value(value).is_some()
}

/// How a value under `key` may be shown: `None` when nothing in it looks secret, else
/// the placeholder (secret key, credential-looking value) or the value with its secret
/// part replaced (a URL's password, a webhook's path; see `secrets`). A value that is a
/// JSON array or object is shown with what [`redact_property`] hides inside it replaced:
/// plugins keep lists and records in storage and `.env` as JSON text (the RTSP plugin's
/// `urls`, camera URLs with their passwords).
pub fn shown(key: Option<&str>, value: &str) -> Option<String> {
    if key.is_some_and(is_secret_key) {
        return Some(REDACTED.into());
    }
    redact_value(value)
        .or_else(|| redact_json_text(value))
        .or_else(|| redact_text(value))
}

/// Free text (a log line, an alert, an error message) as it may be shown: [`shown`] with
/// no key, so a message that is a URL or JSON text is read as one too.
pub fn text(text: String) -> String {
    shown(None, &text).unwrap_or(text)
}

/// JSON text (an array or object) with its secrets replaced, when it holds any.
fn redact_json_text(value: &str) -> Option<String> {
    if !value.trim_start().starts_with(['[', '{']) {
        return None;
    }
    let mut parsed: serde_json::Value = serde_json::from_str(value).ok()?;
    redact_property("", &mut parsed).then(|| parsed.to_string())
}

/// Whether `sent`, written back under `key`, stands for the `current` value: it is the
/// placeholder, or exactly what `current` is shown as. A read-modify-write round trip
/// thus keeps a secret that was shown partly (`mqtt://u:[REDACTED]@broker`).
pub fn stands_for(key: &str, sent: &str, current: &str) -> bool {
    sent == REDACTED || shown(Some(key), current).as_deref() == Some(sent)
}

/// A map with secret-looking entries replaced as [`shown`]; also returns the keys that
/// were redacted.
pub fn redact_map(map: &BTreeMap<String, String>) -> (BTreeMap<String, String>, Vec<String>) {
    let mut redacted = Vec::new();
    let out = crate::order::map(map.iter().map(|(k, v)| match shown(Some(k), v) {
        Some(hidden) => {
            redacted.push(k.clone());
            (k.clone(), hidden)
        }
        None => (k.clone(), v.clone()),
    }));
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
                let has_value = match obj.get("value") {
                    None | Some(Value::Null) => false,
                    Some(Value::String(s)) => !s.is_empty(),
                    Some(_) => true,
                };
                if !has_value {
                    continue;
                }
                // A setting's value may be a list (`multiple`) or a record: walked whole.
                let whole = obj.get("type").and_then(Value::as_str) == Some("password")
                    || is_secret_key(&key);
                let hidden = match obj.get_mut("value") {
                    Some(value) if whole => {
                        *value = Value::String(REDACTED.into());
                        true
                    }
                    Some(value) => redact_property("", value),
                    None => false,
                };
                if hidden {
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
/// strings, and numbers under a name that ends in a code's word (`alarmPin: 4711`): other
/// numbers are no secret however their key reads (`keyframeInterval: 40`).
/// Returns whether anything was replaced.
pub fn redact_property(name: &str, value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    fn walk(key: Option<&str>, value: &mut Value) -> bool {
        match value {
            Value::String(s) => match shown(key, s) {
                Some(hidden) => {
                    *value = Value::String(hidden);
                    true
                }
                None => false,
            },
            Value::Array(items) => items.iter_mut().fold(false, |r, v| walk(None, v) | r),
            Value::Object(map) => map.iter_mut().fold(false, |r, (k, v)| walk(Some(k), v) | r),
            Value::Number(_) if key.is_some_and(names_a_code) => {
                *value = Value::String(REDACTED.into());
                true
            }
            _ => false,
        }
    }
    if is_secret_key(name) && !value.is_null() {
        *value = Value::String(REDACTED.into());
        return true;
    }
    walk(None, value)
}

/// A tool's arguments as the audit trail hashes them: every value redaction would hide is
/// the placeholder (strings under secret keys, secret-looking strings, secret `.env`
/// values), a `putSetting` value, whose setting may be password-typed, and a lock code
/// given to `addPassword` or `removePassword`. The hash is keyed with a secret kept in the
/// same storage (and every backup), so whatever enters it can be tested against guesses by
/// anyone holding a backup: secrets must not enter it (issue 8 item 6).
pub fn for_audit(tool: &str, arguments: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    fn walk(key: Option<&str>, value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(crate::order::map(
                map.iter().map(|(k, v)| (k.clone(), walk(Some(k), v))),
            )),
            Value::Array(items) => Value::Array(items.iter().map(|v| walk(None, v)).collect()),
            Value::Null | Value::Bool(_) => value.clone(),
            Value::Number(_) if key.is_some_and(is_secret_key) => Value::String(REDACTED.into()),
            Value::Number(_) => value.clone(),
            Value::String(s) => Value::String(shown(key, s).unwrap_or_else(|| s.clone())),
        }
    }
    let mut out = walk(None, arguments);
    match tool {
        "set_dotenv" => {
            if let Some(text) = arguments.get("text").and_then(Value::as_str) {
                out["text"] = Value::String(redact_dotenv(text).0);
            }
        }
        "call_device_method" => match arguments.get("method").and_then(Value::as_str) {
            Some("putSetting") => {
                if let Some(value) = out.get_mut("args").and_then(|a| a.get_mut(1)) {
                    *value = Value::String(REDACTED.into());
                }
            }
            // PasswordStore: the one argument is a lock's user code.
            Some("addPassword" | "removePassword") => {
                if let Some(Value::Array(args)) = out.get_mut("args") {
                    args.fill(Value::String(REDACTED.into()));
                }
            }
            _ => {}
        },
        _ => {}
    }
    out
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

/// The pieces of `.env` text in order: an assignment (its raw value running on over the
/// next lines while a quote it opens stays open, as the `dotenv` package Scrypted loads
/// the file with reads a quoted value: a PEM key, say), or any other text, each without
/// the line ending that follows it.
fn env_pieces(text: &str) -> Vec<(&str, Option<EnvLine<'_>>, &str)> {
    let mut pieces = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let mut end = line_end;
        let parsed = parse_env_line(&text[at..line_end]).map(|l| {
            let value_at = line_end - l.raw_value.len();
            if let Some(close) = closing_quote(&text[value_at..]) {
                end = value_at + close;
            }
            EnvLine {
                raw_value: &text[value_at..end],
                ..l
            }
        });
        let newline = if end < text.len() { "\n" } else { "" };
        pieces.push((&text[at..end], parsed, newline));
        at = end + newline.len();
    }
    pieces
}

/// Where a value (the text from its first character on) that opens a quote ends: the end
/// of the line holding its closing quote, which may be a later line. As `dotenv`'s pattern
/// reads it (`"(?:\\"|[^"])*"\s*(?:#.*)?$`), a quote closes the value only when the rest
/// of its line is blank or a comment: the first unescaped quote, else an escaped one
/// before it, the last first. `None` for a value that opens no quote or has no such close
/// (one line then, as `dotenv` reads it; a stray quote must not swallow the lines after).
fn closing_quote(value: &str) -> Option<usize> {
    let opened = value.len() - value.trim_start_matches([' ', '\t']).len();
    let quote = value[opened..]
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let line_end = |at: usize| value[at..].find('\n').map_or(value.len(), |i| at + i);
    let closes = |at: usize| {
        let rest = value[at + 1..line_end(at)].trim();
        rest.is_empty() || rest.starts_with('#')
    };
    let mut escaped_quotes = Vec::new();
    let mut escaped = false;
    for (i, c) in value[opened + 1..].char_indices() {
        let at = opened + 1 + i;
        if c == quote && !escaped {
            escaped_quotes.push(at);
            break;
        }
        if c == quote {
            escaped_quotes.push(at);
        }
        escaped = c == '\\' && !escaped;
    }
    let close = escaped_quotes.into_iter().rev().find(|&at| closes(at))?;
    Some(line_end(close))
}

/// Rewrites each `KEY=value` assignment of `.env` text with `edit` (`Some(new raw
/// value)`) and each other line (a comment, a `KEY: value`) with `other` (`Some(new
/// line)`), keeping the rest, and the line endings, as they are.
fn rewrite_dotenv<E>(
    text: &str,
    mut edit: impl FnMut(&EnvLine<'_>) -> Result<Option<String>, E>,
    mut other: impl FnMut(&str) -> Result<Option<String>, E>,
) -> Result<String, E> {
    let mut out = String::with_capacity(text.len());
    for (body, parsed, newline) in env_pieces(text) {
        let new = match &parsed {
            Some(l) => edit(l)?.map(|value| format!("{}{}={value}", l.prefix, l.key)),
            None => other(body)?,
        };
        out.push_str(new.as_deref().unwrap_or(body));
        out.push_str(newline);
    }
    Ok(out)
}

/// A line that is no assignment (a commented-out `# TOKEN=…`, dotenv's `KEY: value`) as
/// it may be shown.
fn other_line<E>(line: &str) -> Result<Option<String>, E> {
    Ok(redact_text(line))
}

fn push_once(keys: &mut Vec<String>, key: &str) {
    if !keys.iter().any(|k| k == key) {
        keys.push(key.to_string());
    }
}

/// `.env` text with secret-looking values replaced; returns the redacted keys.
pub fn redact_dotenv(text: &str) -> (String, Vec<String>) {
    let mut keys = Vec::new();
    let out = rewrite_dotenv(
        text,
        |l| match shown(Some(l.key), unquote(l.raw_value)) {
            Some(hidden) => {
                push_once(&mut keys, l.key);
                Ok::<_, std::convert::Infallible>(Some(hidden))
            }
            None => Ok(None),
        },
        other_line,
    );
    match out {
        Ok(out) => (out, keys),
        Err(never) => match never {},
    }
}

/// Each key's raw value in `.env` text, as [`RawValues::get`] reads them.
fn raw_values(text: &str) -> RawValues<'_> {
    RawValues(
        env_pieces(text)
            .into_iter()
            .filter_map(|(_, l, _)| l)
            .map(|l| (l.key, l.raw_value))
            .collect(),
    )
}

/// The assignments of a `.env` text in order. A list, not a map: a `.env` has tens of
/// lines, and each map type is its own copy of the B-tree code in the wasm.
struct RawValues<'a>(Vec<(&'a str, &'a str)>);

impl<'a> RawValues<'a> {
    /// The raw value of `key` (of a key assigned twice, the last).
    fn get(&self, key: &str) -> Option<&&'a str> {
        self.0.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// What a preview shows for a secret that a new `.env` text would change (or add):
/// neither value, only that it changes.
pub const CHANGED_SECRET: &str = "[REDACTED, changed]";

/// `new_text` redacted for a preview against `current`: a secret whose raw value is the
/// current one shows as [`redact_dotenv`] shows it today, and any other secret as
/// [`CHANGED_SECRET`]. Returns the text and the keys marked changed.
pub fn redact_dotenv_against(new_text: &str, current: &str) -> (String, Vec<String>) {
    let existing = raw_values(current);
    let mut changed = Vec::new();
    let out = rewrite_dotenv(
        new_text,
        |l| {
            let Some(hidden) = shown(Some(l.key), unquote(l.raw_value)) else {
                return Ok::<_, std::convert::Infallible>(None);
            };
            if existing.get(l.key) == Some(&l.raw_value) {
                return Ok(Some(hidden));
            }
            push_once(&mut changed, l.key);
            Ok(Some(CHANGED_SECRET.to_string()))
        },
        other_line,
    );
    match out {
        Ok(out) => (out, changed),
        Err(never) => match never {},
    }
}

/// Replaces every value in `new_text` that stands for the current one (the placeholder,
/// or the current value as get_dotenv showed it) with that key's current raw value from
/// `current`. Returns the text and the keys kept; `Err` names a key holding the
/// placeholder that stands for no current value (nothing to keep), so nothing is written.
pub fn restore_dotenv(new_text: &str, current: &str) -> Result<(String, Vec<String>), String> {
    let existing = raw_values(current);
    let mut kept = Vec::new();
    let edit = |l: &EnvLine<'_>| {
        let sent = unquote(l.raw_value);
        if !sent.contains(REDACTED) {
            return Ok(None);
        }
        let Some(raw) = existing
            .get(l.key)
            .filter(|raw| stands_for(l.key, sent, unquote(raw)))
        else {
            return Err(format!(
                "{} holds the placeholder {REDACTED} but it does not stand for a current value (none, or get_dotenv showed it otherwise); give the full value or remove the line.",
                l.key
            ));
        };
        push_once(&mut kept, l.key);
        Ok(Some(raw.to_string()))
    };
    // A line that is no assignment keeps the current line it was shown as.
    let current_lines: Vec<&str> = env_pieces(current)
        .into_iter()
        .filter(|(_, l, _)| l.is_none())
        .map(|(body, _, _)| body)
        .collect();
    let other = |line: &str| {
        if !line.contains(REDACTED) {
            return Ok(None);
        }
        match current_lines
            .iter()
            .find(|c| redact_text(c).as_deref() == Some(line))
        {
            Some(c) => Ok(Some(c.to_string())),
            None => Err(format!(
                "The line \"{line}\" holds the placeholder {REDACTED} but it stands for no current line; give the full line or remove it."
            )),
        }
    };
    let out = rewrite_dotenv(new_text, edit, other)?;
    Ok((out, kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partly_shown_values_round_trip() {
        let cur = "BROKER=mqtt://u:pw@broker:1883\nTZ=UTC\n";
        let (red, keys) = redact_dotenv(cur);
        assert_eq!(red, "BROKER=mqtt://u:[REDACTED]@broker:1883\nTZ=UTC\n");
        assert_eq!(keys, vec!["BROKER"]);
        let (back, kept) = restore_dotenv(&red, cur).unwrap();
        assert_eq!(back, cur);
        assert_eq!(kept, vec!["BROKER"]);
        // Another host with the placeholder would store the placeholder: refused.
        let moved = red.replace("broker:1883", "other:1883");
        assert!(restore_dotenv(&moved, cur).unwrap_err().contains("BROKER"));
        assert!(stands_for(
            "url",
            "mqtt://u:[REDACTED]@broker:1883",
            "mqtt://u:pw@broker:1883"
        ));
        assert!(!stands_for(
            "url",
            "mqtt://u:[REDACTED]@evil:1883",
            "mqtt://u:pw@broker:1883"
        ));
    }

    /// A quote that does not close as `dotenv` reads it (a typo, a Windows path ending in a
    /// backslash) leaves its value one line: the lines after it stay assignments of their
    /// own, and their secrets are hidden.
    #[test]
    fn a_stray_quote_does_not_swallow_the_lines_after_it() {
        for text in [
            "GREETING=\"hello\nAPI_TOKEN=\"sk_live_hunter2\"\nTZ=UTC\n",
            "DIR=\"C:\\temp\\\"\nPASSWORD=\"hunter2hunter2\"\nTZ=UTC\n",
        ] {
            let (shown, keys) = redact_dotenv(text);
            assert!(!shown.contains("hunter2"), "{shown}");
            assert_eq!(keys.len(), 1, "{text}: {keys:?}");
            assert!(shown.ends_with("=[REDACTED]\nTZ=UTC\n"), "{shown}");
            assert_eq!(restore_dotenv(&shown, text).unwrap().0, text);
        }
        // A value that closes on a later line, a comment after it, is one value.
        let pem =
            "KEY=\"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\" # tls\nTZ=UTC\n";
        assert_eq!(redact_dotenv(pem).0, "KEY=[REDACTED]\nTZ=UTC\n");
    }

    /// The RTSP plugin's `urls` setting is `multiple`: a list of camera URLs with their
    /// passwords; a record value is walked too, and a password-typed setting hidden whole.
    #[test]
    fn settings_with_list_and_record_values_are_redacted_inside() {
        use serde_json::json;
        let mut settings = json!([
            {"key": "urls", "multiple": true,
             "value": ["rtsp://admin:hunter2@192.168.1.5/cam", "rtsp://192.168.1.6/cam"]},
            {"key": "broker", "value": {"host": "b", "password": "pw-2"}},
            {"key": "pass", "type": "password", "value": ["a", "b"]},
            {"key": "zones", "multiple": true, "value": ["front", "back"]},
        ]);
        let keys = redact_settings(&mut settings);
        assert_eq!(keys, ["urls", "broker", "pass"]);
        assert_eq!(
            settings,
            json!([
                {"key": "urls", "multiple": true,
                 "value": ["rtsp://admin:[REDACTED]@192.168.1.5/cam", "rtsp://192.168.1.6/cam"]},
                {"key": "broker", "value": {"host": "b", "password": REDACTED}},
                {"key": "pass", "type": "password", "value": REDACTED},
                {"key": "zones", "multiple": true, "value": ["front", "back"]},
            ])
        );
    }

    #[test]
    fn audit_input_holds_no_secret() {
        use serde_json::json;
        let args = json!({"username": "bob", "password": "hunter2", "admin": true});
        assert_eq!(
            for_audit("add_user", &args),
            json!({"username": "bob", "password": REDACTED, "admin": true})
        );
        let args = json!({"text": "TZ=UTC\nMQTT_PASS=pw\n"});
        assert_eq!(
            for_audit("set_dotenv", &args),
            json!({"text": "TZ=UTC\nMQTT_PASS=[REDACTED]\n"})
        );
        let args = json!({"id": "7", "storage": {"ip": "10.0.0.2", "pin": 1234, "url": "http://a:pw@cam/x"}});
        assert_eq!(
            for_audit("set_storage", &args),
            json!({"id": "7", "storage": {"ip": "10.0.0.2", "pin": REDACTED, "url": "http://a:[REDACTED]@cam/x"}})
        );
        let args = json!({"id": "7", "method": "putSetting", "args": ["adminCode", "4711"]});
        assert_eq!(
            for_audit("call_device_method", &args),
            json!({"id": "7", "method": "putSetting", "args": ["adminCode", REDACTED]})
        );
        let args = json!({"id": "7", "method": "setBrightness", "args": [50]});
        assert_eq!(for_audit("call_device_method", &args), args);
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

    #[test]
    fn a_preview_marks_changed_secrets_without_either_value() {
        let cur = "A_TOKEN=old\nB_KEY=same\nTZ=UTC\n";
        let new = "A_TOKEN=new\nB_KEY=same\nTZ=UTC\nC_SECRET=added\nNOTE=Bearer xyz\n";
        let (shown, changed) = redact_dotenv_against(new, cur);
        assert_eq!(
            shown,
            "A_TOKEN=[REDACTED, changed]\nB_KEY=[REDACTED]\nTZ=UTC\nC_SECRET=[REDACTED, changed]\nNOTE=[REDACTED, changed]\n"
        );
        assert_eq!(changed, vec!["A_TOKEN", "C_SECRET", "NOTE"]);
    }
}
