//! Small wrappers over well-kept crates: randomness (getrandom), SHA-256 (sha2),
//! base64url (base64).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// `n` bytes from the platform CSPRNG (`crypto.getRandomValues` in wasm).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    if let Err(e) = getrandom::fill(&mut buf) {
        panic!("platform randomness: {e}");
    }
    buf
}

/// A random token of 32 bytes, base64url: opaque ids, refresh tokens, codes, session ids.
pub fn random_token() -> String {
    b64url(&random_bytes(32))
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

pub fn hex(data: &[u8]) -> String {
    // One buffer, not a `format!` per byte: every tool call hexes its audit hash (issue 12).
    base16ct::lower::encode_string(data)
}

/// Hash of a secret for storage: base64url(SHA-256(secret)).
pub fn hash_secret(secret: &str) -> String {
    b64url(&sha256(secret.as_bytes()))
}

pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// JSON in base64url (JWT parts, session ids, request states), read as text: serde_json's
/// `from_slice` would be a second copy of its parser in the wasm beside `from_str`'s
/// (docs/reference/wasm-toolchain.md, "Size").
pub fn b64url_json<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_str(&b64url_text(text)?).ok()
}

/// A record (`store::record`) in base64url JSON: session ids, request states.
pub fn b64url_record<T: crate::fields::Args>(text: &str) -> Option<T> {
    crate::store::record(&b64url_text(text)?)
}

fn b64url_text(text: &str) -> Option<String> {
    String::from_utf8(b64url_decode(text)?).ok()
}

pub fn b64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text.trim()).ok()
}

/// HMAC-SHA256 under `key` of `parts`, each followed by a NUL byte so that no two
/// different part lists give the same input ("ab","c" vs "a","bc").
pub fn hmac_sha256(key: &[u8], parts: &[&str]) -> [u8; 32] {
    let mut mac = keyed(key);
    for part in parts {
        mac.update(part.as_bytes());
        mac.update(&[0]);
    }
    mac.finalize().into_bytes().into()
}

/// How many keys `keyed` keeps, and stored secrets `stored_secret` keeps decoded: the
/// plugin uses a handful (audit, session ids, request state, consent), each for the life of
/// the worker.
const KEYED_MAX: usize = 4;

thread_local! {
    static KEYED: std::cell::RefCell<Vec<(Vec<u8>, Hmac<Sha256>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// An HMAC ready for input under `key`. Keying hashes two blocks; the same few keys sign
/// on every request (the audit hash, the session id), so the keyed state is kept and cloned.
/// Looked up with `constant_time_eq`, so a key's bytes never steer the timing.
fn keyed(key: &[u8]) -> Hmac<Sha256> {
    KEYED.with(|kept| {
        let mut kept = kept.borrow_mut();
        if let Some((_, mac)) = kept.iter().find(|(k, _)| constant_time_eq(k, key)) {
            return mac.clone();
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        if kept.len() == KEYED_MAX {
            kept.remove(0);
        }
        kept.push((key.to_vec(), mac.clone()));
        mac
    })
}

/// Equality that takes the same time wherever the inputs differ (inputs of different
/// lengths are told apart at once: no length here is secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use ctutils::CtEq;
    a.ct_eq(b).to_bool()
}

thread_local! {
    /// The stored secrets last decoded, with their stored text: at most [`KEYED_MAX`].
    static DECODED: std::cell::RefCell<Vec<(String, Vec<u8>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// A random 32-byte HMAC key kept in plugin storage under `key`, made on first use (or when
/// the stored one is unreadable). Storage is read every time, so a key replaced behind our
/// back (a restore, Revoke all) counts at once; its text is decoded only when it is not the
/// text decoded last (the audit hash's key is read on every call, issue 12).
pub fn stored_secret(store: &dyn crate::store::Store, key: &str) -> Vec<u8> {
    if let Some(text) = store.get(key) {
        let known = DECODED.with(|d| {
            let d = d.borrow();
            d.iter().find(|(t, _)| *t == text).map(|(_, s)| s.clone())
        });
        if let Some(secret) = known {
            return secret;
        }
        if let Some(secret) = b64url_decode(&text).filter(|s| s.len() >= 32) {
            DECODED.with(|d| {
                let mut d = d.borrow_mut();
                if d.len() == KEYED_MAX {
                    d.remove(0);
                }
                d.push((text, secret.clone()));
            });
            return secret;
        }
    }
    let secret = random_bytes(32);
    store.set(key, &b64url(&secret));
    secret
}

#[cfg(test)]
mod tests {
    use super::{constant_time_eq, hmac_sha256, KEYED_MAX};
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::Sha256;

    #[test]
    fn hmac_sha256_is_the_keyed_mac_of_the_parts_whatever_was_kept() {
        let fresh = |key: &[u8], parts: &[&str]| -> [u8; 32] {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
            for part in parts {
                mac.update(part.as_bytes());
                mac.update(&[0]);
            }
            mac.finalize().into_bytes().into()
        };
        // More keys than are kept, of lengths on both sides of the hash's block size: down
        // the list, then back up it, so that kept keys (the last few), evicted and new keys
        // all answer.
        let keys: Vec<Vec<u8>> = (0..KEYED_MAX * 2 + 1)
            .map(|i| vec![i as u8 + 1; 16 + i * 13])
            .collect();
        let order = (0..keys.len()).rev().chain(0..keys.len());
        for i in order {
            let parts = ["mcp", &i.to_string(), ""];
            assert_eq!(hmac_sha256(&keys[i], &parts), fresh(&keys[i], &parts));
        }
        // A key that is a prefix of a kept one, or extends it, is a different key.
        let long = keys.last().unwrap();
        let longer = [long.as_slice(), b"x"].concat();
        for key in [&long[..16], &long[..], &longer[..]] {
            assert_eq!(hmac_sha256(key, &["a"]), fresh(key, &["a"]));
        }
        assert_ne!(
            hmac_sha256(&keys[1], &["ab", "c"]),
            hmac_sha256(&keys[1], &["a", "bc"])
        );
    }

    #[test]
    fn stored_secret_is_the_stored_text_decoded_whatever_was_decoded_before() {
        use crate::store::{MemStore, Store};
        let store = MemStore::default();
        // More stored keys than are kept decoded, read down the list and back up it; each
        // also replaced behind our back, as a restore or Revoke all does.
        let texts: Vec<String> = (0..KEYED_MAX * 2 + 1)
            .map(|i| super::b64url(&[i as u8; 32]))
            .collect();
        for (i, text) in texts.iter().enumerate() {
            store.set(&format!("k{i}"), text);
        }
        let order = (0..texts.len()).rev().chain(0..texts.len());
        for i in order {
            assert_eq!(
                super::stored_secret(&store, &format!("k{i}")),
                [i as u8; 32]
            );
        }
        store.set("k0", &texts[1]);
        assert_eq!(super::stored_secret(&store, "k0"), [1; 32]);
        let replaced = super::b64url(&[0xee; 40]);
        store.set("k1", &replaced);
        assert_eq!(super::stored_secret(&store, "k1"), [0xee; 40]);
        // Unreadable or too short: a new random secret, stored.
        for bad in ["not base64url!", &super::b64url(&[7; 31])] {
            store.set("k2", bad);
            let made = super::stored_secret(&store, "k2");
            assert_eq!(made.len(), 32);
            assert_eq!(store.get("k2"), Some(super::b64url(&made)));
            assert_eq!(super::stored_secret(&store, "k2"), made);
        }
    }

    #[test]
    fn constant_time_eq_is_equality_of_bytes() {
        let token = "eyJhbGciOiJFUzI1NiJ9.".repeat(30);
        assert!(constant_time_eq(token.as_bytes(), token.clone().as_bytes()));
        assert!(constant_time_eq(b"", b""));
        // A difference anywhere, in a word or in the bytes after the last whole word.
        for at in [
            0,
            1,
            7,
            8,
            token.len() / 2,
            token.len() - 2,
            token.len() - 1,
        ] {
            let mut other = token.clone().into_bytes();
            other[at] ^= 0x20;
            assert!(
                !constant_time_eq(token.as_bytes(), &other),
                "differs at {at}"
            );
        }
        assert!(!constant_time_eq(token.as_bytes(), &token.as_bytes()[1..]));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
