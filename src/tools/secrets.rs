//! What looks secret: keys by their name (`apiKey`, `DB_PWD`, `alarmPin`), and values
//! whatever key they sit under (issue 8 item 7): credentials in URLs, JWTs, known webhook
//! forms and long random-looking tokens. `redact` applies both to what tools show.

use url::Url;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Name fragments (case-insensitive) that mark a key as secret wherever they appear
/// (`apiKey`, `app_key`, `DB_PWD`, `oauth_token`).
pub const SECRET_MARKERS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "AUTH",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "PASSCODE",
    "PWD",
    "KEY",
    "CREDENTIAL",
    "PRIVATE",
    "COOKIE",
    "SALT",
    "PINCODE",
    "SETUPCODE",
];

/// Words that mark a key as secret only as a whole word of its name (`MQTT_PASS`,
/// `alarmPin`, `wifi_psk`): inside other words they are everyday (`bypass`, `ping`,
/// `mapping`).
pub const SECRET_WORDS: &[&str] = &["PASS", "PIN", "PSK"];

/// Whether a key names a code kept as a number (`alarmPin`, `PIN_CODE`, `passcode`): its
/// last word is one of a code's, unlike `pinCount` or `keyframeInterval`.
pub fn names_a_code(key: &str) -> bool {
    const CODES: &[&str] = &[
        "pin", "pass", "psk", "pwd", "passwd", "password", "passcode", "pincode",
    ];
    ends_in(key, CODES, &["pin_code", "pin-code"])
}

/// Whether `name`'s last word is one of `last_words`, or it ends in one of `compounds`
/// (two words a name may also write as one), ASCII case ignored.
fn ends_in(name: &str, last_words: &[&str], compounds: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    compounds.iter().any(|c| lower.ends_with(c))
        || words(name)
            .last()
            .is_some_and(|w| last_words.iter().any(|n| w.eq_ignore_ascii_case(n)))
}

/// Whether a key (env name, storage key, setting) looks like it holds a secret.
pub fn is_secret_key(key: &str) -> bool {
    // Without an upper-cased copy or a list of words: every tool call's arguments pass
    // through here for the audit hash (issue 12).
    let bytes = key.as_bytes();
    SECRET_MARKERS.iter().any(|m| {
        bytes
            .windows(m.len())
            .any(|w| w.eq_ignore_ascii_case(m.as_bytes()))
    }) || words(key).any(|w| SECRET_WORDS.iter().any(|s| w.eq_ignore_ascii_case(s)))
}

/// The words of a name: split at anything not alphanumeric and where camelCase turns
/// from lower to upper case.
fn words(key: &str) -> impl Iterator<Item = &str> {
    key.split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(|part| {
            let bytes = part.as_bytes();
            let mut start = 0;
            std::iter::from_fn(move || {
                if start == bytes.len() {
                    return None;
                }
                let end = (start + 1..bytes.len())
                    .find(|&i| bytes[i - 1].is_ascii_lowercase() && bytes[i].is_ascii_uppercase())
                    .unwrap_or(bytes.len());
                let word = &part[start..end];
                start = end;
                Some(word)
            })
        })
}

/// Shortest string taken for a random token by its look alone. Keys that services issue
/// (API keys, Hue app keys, bot tokens) are 32 characters or more; ids, names and
/// everyday settings are shorter or read as words, so they stay visible.
pub const TOKEN_MIN_LEN: usize = 32;

/// Least Shannon entropy, in bits per character, of a random token. Random base62/64
/// strings of 32+ characters measure about 4.3–5; words, camelCase names and repeated
/// patterns of that length measure well under 4.
pub const TOKEN_MIN_ENTROPY: f64 = 4.0;

/// Where known webhooks keep their secret: everything after the prefix. An empty host
/// matches any (Home Assistant's webhook triggers live on the user's own server).
const WEBHOOKS: &[(&str, &str)] = &[
    ("hooks.slack.com", "/services/"),
    ("discord.com", "/api/webhooks/"),
    ("discordapp.com", "/api/webhooks/"),
    ("maker.ifttt.com", "/trigger/"),
    ("", "/api/webhook/"),
];

/// What a value may show: `None` when nothing in it looks secret, else the value with its
/// secret parts replaced by [`REDACTED`]. A URL keeps its scheme, host and the rest; any
/// other secret-looking value is replaced whole.
pub fn redact_value(value: &str) -> Option<String> {
    let trimmed = value.trim();
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("bearer ") || lower.starts_with("basic ") {
        return Some(REDACTED.into());
    }
    // A HomeKit setup URI (`X-HM://…`) carries the pairing code.
    if is_jwt(trimmed)
        || is_random_token(trimmed)
        || (trimmed.contains("-----BEGIN") && trimmed.contains("PRIVATE KEY"))
        || lower.starts_with("x-hm://")
    {
        return Some(REDACTED.into());
    }
    if trimmed.contains("://") {
        return redact_url(trimmed);
    }
    None
}

/// Last words of a name that, before `=` or `:` in free text, mark the value as secret
/// (`password=…`, `MQTT_PASS: …`, `accessToken=…`). Narrower than [`is_secret_key`]: in a
/// log line `keyframe: 40`, `Authenticated: true` or `bypass=1` is no secret.
const TEXT_SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "passcode",
    "pincode",
    "pin",
    "secret",
    "token",
    "apikey",
];

/// Whether `name` (before `=` or `:` in free text) names a secret.
fn text_secret_name(name: &str) -> bool {
    ends_in(name, TEXT_SECRET_WORDS, &["api_key", "api-key"])
}

/// Free text (a log line, an alert, a host's error message, a command line) with the
/// secrets inside it replaced: a URL's password, webhook path or secret query value, the
/// credential after `Bearer` or `Basic`, a JWT or random-looking token, and the value of a
/// `password=…` or `token: …`. Words are split at whitespace, quotes and brackets. `None`
/// when nothing in it looks secret.
pub fn redact_text(text: &str) -> Option<String> {
    let separator = |c: char| c.is_whitespace() || "\"'`<>()[]{},;".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    // What the word after this one is: a secret's value (after `password:`), or a
    // credential unless it reads as a plain word (after `Bearer`: not in "basic auth").
    let mut next_is = Next::Plain;
    let mut rest = text;
    while !rest.is_empty() {
        let word_at = rest.find(|c: char| !separator(c)).unwrap_or(rest.len());
        out.push_str(&rest[..word_at]);
        rest = &rest[word_at..];
        let word_end = rest.find(separator).unwrap_or(rest.len());
        let word = &rest[..word_end];
        rest = &rest[word_end..];
        if word.is_empty() {
            continue;
        }
        let plain_word = word.bytes().all(|b| b.is_ascii_lowercase());
        let hidden = match std::mem::replace(&mut next_is, Next::Plain) {
            Next::Value => Some(REDACTED.to_string()),
            Next::Credential if !plain_word => Some(REDACTED.to_string()),
            _ if word.eq_ignore_ascii_case("bearer") || word.eq_ignore_ascii_case("basic") => {
                next_is = Next::Credential;
                None
            }
            _ if word.strip_suffix(':').is_some_and(text_secret_name) => {
                next_is = Next::Value;
                None
            }
            _ => redact_word(word),
        };
        match hidden {
            Some(hidden) => {
                out.push_str(&hidden);
                changed = true;
            }
            None => out.push_str(word),
        }
    }
    changed.then_some(out)
}

/// What [`redact_text`] makes of the word after the current one.
enum Next {
    Plain,
    Value,
    Credential,
}

/// One word of free text as [`redact_text`] shows it: `None` when nothing in it is secret.
fn redact_word(word: &str) -> Option<String> {
    if let Some(at) = word.find("://") {
        // The scheme starts after whatever leads up to it (`url=`, `-i`).
        let start = word[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .map_or(0, |i| i + 1);
        let url = word[start..].trim_end_matches(['.', ',', ':', '!', '?']);
        let end = start + url.len();
        return redact_value(url)
            .map(|hidden| format!("{}{hidden}{}", &word[..start], &word[end..]));
    }
    for mark in ['=', ':'] {
        if let Some((name, value)) = word.split_once(mark) {
            if !value.is_empty() && text_secret_name(name.trim_start_matches(['-', '?', '&'])) {
                return Some(format!("{name}{mark}{REDACTED}"));
            }
        }
    }
    (is_jwt(word) || is_random_token(word)).then(|| REDACTED.to_string())
}

/// Three base64url segments, the first a JSON object (`eyJ` is `{"` encoded).
fn is_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && s.starts_with("eyJ")
        && parts[..2].iter().all(|p| p.len() >= 4)
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Most vowels among the letters of a random token. Random letters hold about 19%
/// vowels, words (and camelCase names built of them) about 35–40%.
pub const TOKEN_MAX_VOWELS: f64 = 0.3;

/// A long unbroken random-looking string of token characters mixing upper case, lower
/// case and digits, that does not read as words. Hex strings (device ids, MACs, hashes,
/// UUIDs) have no upper case and stay visible.
pub fn is_random_token(s: &str) -> bool {
    let token_char = |b: u8| b.is_ascii_alphanumeric() || b"+/=_-.~".contains(&b);
    let letters = s.bytes().filter(u8::is_ascii_alphabetic).count();
    let vowels = s.bytes().filter(|b| b"aeiouAEIOU".contains(b)).count();
    s.len() >= TOKEN_MIN_LEN
        && s.bytes().all(token_char)
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes().any(|b| b.is_ascii_digit())
        && (vowels as f64) < TOKEN_MAX_VOWELS * letters as f64
        && entropy(s) >= TOKEN_MIN_ENTROPY
}

/// Shannon entropy of the string's bytes, in bits per byte.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// The placeholder's brackets are not allowed raw in a URL's userinfo, path or query:
/// this marker goes in instead and becomes the placeholder in the text.
const MARK: &str = "REDACTEDxSECRETxMARK";

/// A URL with its password, a token-looking user name, a webhook's secret path,
/// token-looking path segments and secret query values hidden; `None` when it has none
/// of them (or is no URL).
fn redact_url(s: &str) -> Option<String> {
    let mut url = Url::parse(s).ok()?;
    let mut changed = false;
    if url.password().is_some() {
        changed |= url.set_password(Some(MARK)).is_ok();
    }
    if is_random_token(url.username()) {
        changed |= url.set_username(MARK).is_ok();
    }
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let webhook = WEBHOOKS
        .iter()
        .find(|(h, prefix)| (h.is_empty() || *h == host) && url.path().starts_with(prefix));
    if let Some((_, prefix)) = webhook {
        url.set_path(&format!("{prefix}{MARK}"));
        changed = true;
    } else if let Some(segments) = url.path_segments() {
        let segments: Vec<&str> = segments.collect();
        if segments.iter().any(|s| is_random_token(s) || is_jwt(s)) {
            let hidden: Vec<&str> = segments
                .iter()
                .map(|s| {
                    if is_random_token(s) || is_jwt(s) {
                        MARK
                    } else {
                        s
                    }
                })
                .collect();
            url.set_path(&hidden.join("/"));
            changed = true;
        }
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let secret = |k: &str, v: &str| is_secret_key(k) || redact_value(v).is_some();
    if pairs.iter().any(|(k, v)| secret(k, v)) {
        let hidden: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| {
                let v = if secret(&k, &v) { MARK.to_string() } else { v };
                (k, v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(hidden);
        changed = true;
    }
    changed.then(|| url.as_str().replace(MARK, REDACTED))
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
            // issue 8 item 7
            "MQTT_PASS",
            "DB_PWD",
            "pin",
            "alarmPin",
            "PIN_CODE",
            "app_key",
            "apikey",
            "wifi.psk",
            "smtpPass",
            "__MQTT__PASS__",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "SCRYPTED_VOLUME",
            "TZ",
            "SCRYPTED_INSECURE_PORT",
            "ip",
            "bypass",
            "passthrough",
            "ping",
            "mapping",
            "pinned",
            "spinner",
            "compass",
            "",
            "__",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn free_text_loses_its_secrets_and_keeps_the_rest() {
        for (text, shown) in [
            ("password=hunter2 user=x", "password=[REDACTED] user=x"),
            (
                "MQTT_PASS: hunter2 (retrying)",
                "MQTT_PASS: [REDACTED] (retrying)",
            ),
            (
                "Authorization: Bearer abc.def",
                "Authorization: Bearer [REDACTED]",
            ),
            ("Basic YWRtaW46aHVudGVyMg== sent", "Basic [REDACTED] sent"),
            (
                "open url=rtsp://a:pw@cam/s1. failed",
                "open url=rtsp://a:[REDACTED]@cam/s1. failed",
            ),
            (
                "\"ffmpeg -i rtsp://a:pw@cam/s1\"",
                "\"ffmpeg -i rtsp://a:[REDACTED]@cam/s1\"",
            ),
            (
                "key Qw3rTy9UiOp1AsDfGh2JkLzX4cVbNm8Q used",
                "key [REDACTED] used",
            ),
            ("--accessToken=abc123", "--accessToken=[REDACTED]"),
        ] {
            assert_eq!(redact_text(text).as_deref(), Some(shown), "{text}");
        }
        for plain in [
            "keyframe: 40",
            "Authenticated: true",
            "bypass=1 mapping=2",
            "this token lacks scope scrypted:admin",
            "rtsp://192.168.1.6/cam ok",
            "pin 4 set, spin=2",
            "basic auth failed; send a bearer token",
        ] {
            assert_eq!(redact_text(plain), None, "{plain}");
        }
    }

    #[test]
    fn urls_keep_everything_but_the_secret() {
        let cases = [
            (
                "http://admin:pw@192.168.1.5/cgi",
                "http://admin:[REDACTED]@192.168.1.5/cgi",
            ),
            ("mqtt://u:pw@broker:1883", "mqtt://u:[REDACTED]@broker:1883"),
            (
                "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
                "https://hooks.slack.com/services/[REDACTED]",
            ),
            (
                "https://discord.com/api/webhooks/123/abcDEF",
                "https://discord.com/api/webhooks/[REDACTED]",
            ),
            (
                "https://maker.ifttt.com/trigger/door/with/key/bJ3x",
                "https://maker.ifttt.com/trigger/[REDACTED]",
            ),
            (
                "http://ha.local:8123/api/webhook/front-door-42",
                "http://ha.local:8123/api/webhook/[REDACTED]",
            ),
            (
                "https://api.example.com/v1/send?chat=42&api_key=abc",
                "https://api.example.com/v1/send?chat=42&api_key=[REDACTED]",
            ),
            (
                "https://bridge/api/Qw3rTy9UiOp1AsDfGh2JkLzX4cVbNm8Q/lights",
                "https://bridge/api/[REDACTED]/lights",
            ),
        ];
        for (value, shown) in cases {
            assert_eq!(redact_value(value).as_deref(), Some(shown), "{value}");
        }
    }

    #[test]
    fn tokens_and_jwts_are_hidden_whole() {
        for v in [
            "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl",
            "Qw3rTy9UiOp1AsDfGh2JkLzX4cVbNm8Q", // a Hue app key's shape
            "xoxb-1234567890-AbCdEfGhIjKlMnOpQrStUv", // a Slack bot token
            "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
            "Bearer abc",
        ] {
            assert_eq!(redact_value(v).as_deref(), Some(REDACTED), "{v}");
        }
    }

    #[test]
    fn ordinary_values_stay_visible() {
        for v in [
            "42",
            "Kitchen Light",
            "192.168.1.20",
            "00:11:22:33:44:55",
            "3f2c9a1e-7b4d-4c1a-9e2f-0a1b2c3d4e5f", // a UUID
            "5d41402abc4b2a76b9719d911017c592",     // an md5 hex id
            "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", // a sha1 hex id
            "living_room_camera_front_door_2024",
            "ThisIsAVeryLongCamelCaseSettingName2",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAa1",
            "https://github.com/koush/scrypted/releases",
            "rtsp://192.168.1.40:554/stream1",
            "h264",
            "",
        ] {
            assert_eq!(redact_value(v), None, "{v}");
        }
    }
}
