//! The ES256 signing key: made on first use, kept in plugin storage as PKCS#8 PEM (the one
//! secret that cannot be stored as a hash), parsed once and cached; rotated by revoke-all
//! and by the first start on a restored backup.
//!
//! Every backup carries plugin storage, so whoever holds a backup holds the key it had.
//! The plugin cannot tell a restore from a restart, so `create_backup` marks the key as
//! backed up (the kid under [`BACKED_UP_KEY`]) for the moment the host copies storage,
//! then clears the mark: only a backup holds it, and a plugin that starts on storage
//! carrying it replaces the key before signing or verifying anything.

use crate::crypto;
use crate::store::Store;
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::elliptic_curve::Generate;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde_json::{json, Value};

pub const STORE_KEY: &str = "oauth.signing_key";
/// The kid of the key that was current when a backup was taken; only backups hold it.
pub const BACKED_UP_KEY: &str = "oauth.signing_key_backed_up";

/// A parsed signing key with its public half and key id.
#[derive(Clone)]
pub struct Key {
    /// The stored PEM, to notice when storage changed under the cache.
    pub pem: String,
    pub signing: SigningKey,
    pub verifying: VerifyingKey,
    /// base64url of the first 16 bytes of SHA-256 over the SEC1 point.
    pub kid: String,
}

impl Key {
    fn from_pem(pem: &str) -> Option<Key> {
        let signing = SigningKey::from_pkcs8_pem(pem).ok()?;
        let verifying = *signing.verifying_key();
        let point = verifying.to_sec1_point(false);
        let kid = crypto::b64url(&crypto::sha256(point.as_bytes())[..16]);
        Some(Key {
            pem: pem.to_string(),
            signing,
            verifying,
            kid,
        })
    }

    /// The public key as a JWK. p256 0.14 has no `jwk` feature, so the JWK is built from
    /// the uncompressed SEC1 point `04 ‖ x ‖ y`.
    pub fn jwk(&self) -> Value {
        let point = self.verifying.to_sec1_point(false);
        let bytes = point.as_bytes();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": crypto::b64url(&bytes[1..33]),
            "y": crypto::b64url(&bytes[33..65]),
            "use": "sig",
            "alg": "ES256",
            "kid": self.kid,
        })
    }
}

fn generate(store: &dyn Store) -> Key {
    let signing = SigningKey::generate();
    let pem = signing
        .to_pkcs8_pem(LineEnding::LF)
        .expect("PKCS#8 encoding of a fresh key");
    store.set(STORE_KEY, &pem);
    Key::from_pem(&pem).expect("a key we just encoded parses")
}

/// The current key, from the cache when storage still holds the same PEM; made (and
/// stored) when there is none or the stored one is unreadable.
pub fn current(store: &dyn Store, cache: &std::cell::RefCell<Option<Key>>) -> Key {
    let stored = store.get(STORE_KEY);
    if let (Some(pem), Some(key)) = (&stored, cache.borrow().as_ref()) {
        if key.pem == *pem {
            return key.clone();
        }
    }
    let restored = |key: &Key| store.get(BACKED_UP_KEY).as_deref() == Some(key.kid.as_str());
    let key = match stored.as_deref().and_then(Key::from_pem) {
        // Storage came back from a backup (or a backup failed half-way): the key is known
        // outside this server.
        Some(key) if cache.borrow().is_none() && restored(&key) => generate(store),
        Some(key) => key,
        None => generate(store),
    };
    clear_backed_up(store);
    *cache.borrow_mut() = Some(key.clone());
    key
}

/// Marks the current key as the one a backup about to be taken holds.
pub fn mark_backed_up(store: &dyn Store, cache: &std::cell::RefCell<Option<Key>>) {
    let key = current(store, cache);
    store.set(BACKED_UP_KEY, &key.kid);
}

/// Clears the mark once the host has copied storage into the backup.
pub fn clear_backed_up(store: &dyn Store) {
    if store.get(BACKED_UP_KEY).is_some() {
        store.remove(BACKED_UP_KEY);
    }
}

/// Replaces the key: every access token signed with the old one stops verifying.
pub fn rotate(store: &dyn Store, cache: &std::cell::RefCell<Option<Key>>) -> Key {
    let key = generate(store);
    *cache.borrow_mut() = Some(key.clone());
    key
}
