//! The ES256 signing key: made on first use, kept in plugin storage as PKCS#8 PEM (the one
//! secret that cannot be stored as a hash), parsed once and cached; rotated by revoke-all
//! and by the first start on a restored backup.
//!
//! Every backup carries plugin storage, so whoever holds a backup holds the key it had.
//! The plugin cannot tell a restore from a restart, so `create_backup` marks the key as
//! backed up (the kid under [`BACKED_UP_KEY`]) for the moment the host copies storage,
//! then clears the mark: only a backup holds it, and a plugin that starts on storage
//! carrying it replaces the key before signing or verifying anything.
//!
//! The public half is kept beside it ([`PUBLIC_KEY`], bound to the PEM by its SHA-256), so
//! a fresh start verifies a bearer token without deriving the public point from the private
//! scalar: that multiplication was ~10 ms of the first request after a (re)start, when the
//! wasm still runs baseline code. The private half is parsed when something is first signed.

use crate::crypto;
use crate::store::Store;
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::elliptic_curve::Generate;
use serde_json::{json, Value};
use std::cell::OnceCell;
use std::rc::Rc;

pub const STORE_KEY: &str = "oauth.signing_key";
/// The kid of the key that was current when a backup was taken; only backups hold it.
pub const BACKED_UP_KEY: &str = "oauth.signing_key_backed_up";
/// `<base64url SHA-256 of the PEM>.<base64url SEC1 point>`: the public half of [`STORE_KEY`].
pub const PUBLIC_KEY: &str = "oauth.signing_key_public";

/// A parsed signing key with its public half and key id.
#[derive(Clone)]
pub struct Key {
    /// The stored PEM, to notice when storage changed under the cache.
    pub pem: String,
    signing: Rc<OnceCell<SigningKey>>,
    pub verifying: VerifyingKey,
    /// base64url of the first 16 bytes of SHA-256 over the SEC1 point.
    pub kid: String,
}

impl Key {
    fn new(pem: &str, signing: OnceCell<SigningKey>, verifying: VerifyingKey) -> Key {
        let point = verifying.to_sec1_point(false);
        let kid = crypto::b64url(&crypto::sha256(point.as_bytes())[..16]);
        Key {
            pem: pem.to_string(),
            signing: Rc::new(signing),
            verifying,
            kid,
        }
    }

    fn from_pem(pem: &str) -> Option<Key> {
        let (signing, point) = pkcs8::read(pem)?;
        let verifying = *signing.verifying_key();
        // What p256's parser checked: the point written beside the scalar is its own.
        if verifying.to_sec1_point(false).as_bytes() != point {
            return None;
        }
        Some(Key::new(pem, OnceCell::from(signing), verifying))
    }

    /// The stored key: its public half from [`PUBLIC_KEY`] when that was written for this
    /// very PEM, else parsed from the PEM (and the public half written for next time).
    fn stored(store: &dyn Store, pem: &str) -> Option<Key> {
        let bound = crypto::b64url(&crypto::sha256(pem.as_bytes()));
        let cached = store.get(PUBLIC_KEY).and_then(|record| {
            let (binding, point) = record.split_once('.')?;
            let point = crypto::b64url_decode(point).filter(|_| binding == bound)?;
            VerifyingKey::from_sec1_bytes(&point).ok()
        });
        if let Some(verifying) = cached {
            return Some(Key::new(pem, OnceCell::new(), verifying));
        }
        let key = Key::from_pem(pem)?;
        let point = key.verifying.to_sec1_point(false);
        store.set(
            PUBLIC_KEY,
            &format!("{bound}.{}", crypto::b64url(point.as_bytes())),
        );
        Some(key)
    }

    /// The private half, parsed from the PEM the first time anything is signed.
    pub fn signing(&self) -> &SigningKey {
        self.signing.get_or_init(|| {
            // The public half was only ever written after this PEM parsed (`stored`).
            pkcs8::read(&self.pem)
                .expect("a stored key whose public half was written parses")
                .0
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
    let pem = pkcs8::write(&signing);
    store.set(STORE_KEY, &pem);
    Key::stored(store, &pem).expect("a key we just encoded parses")
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
    let key = match stored.as_deref().and_then(|pem| Key::stored(store, pem)) {
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

/// The stored form of the key: PKCS#8 PEM exactly as p256's `to_pkcs8_pem(LineEnding::LF)`
/// writes it (RFC 5208 PrivateKeyInfo around an RFC 5915 ECPrivateKey that carries the public
/// point). For P-256 every byte but the scalar and the point is fixed, and the PEM in storage
/// is only ever one this plugin wrote, so it is written and read by that template: the pkcs8,
/// der and PEM parsers it replaces were 46 KB of the wasm (docs/reference/wasm-toolchain.md,
/// "Size"). A test pins the template to p256's own encoder, both ways.
mod pkcs8 {
    use crate::crypto;
    use p256::ecdsa::SigningKey;

    /// `SEQUENCE { INTEGER 0, SEQUENCE { id-ecPublicKey, prime256v1 }, OCTET STRING {
    /// SEQUENCE { INTEGER 1, OCTET STRING (32 bytes: the scalar)`.
    const HEAD: [u8; 36] = [
        0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
        0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30,
        0x6b, 0x02, 0x01, 0x01, 0x04, 0x20,
    ];
    /// `[1] { BIT STRING (no unused bits)`, then the 65-byte uncompressed point.
    const MID: [u8; 5] = [0xa1, 0x44, 0x03, 0x42, 0x00];
    const LEN: usize = HEAD.len() + 32 + MID.len() + 65;
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";

    pub fn write(key: &SigningKey) -> String {
        let mut der = Vec::with_capacity(LEN);
        der.extend_from_slice(&HEAD);
        der.extend_from_slice(&key.to_bytes());
        der.extend_from_slice(&MID);
        der.extend_from_slice(key.verifying_key().to_sec1_point(false).as_bytes());
        let text = crypto::b64(&der);
        let mut pem = String::with_capacity(text.len() + 80);
        pem.push_str(BEGIN);
        pem.push('\n');
        // Lines of 64 characters. base64 is ASCII, so `from_utf8_lossy` borrows each line
        // as it is (`from_utf8(..).expect` would put `Utf8Error`'s `Debug` in the wasm).
        for line in text.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str(END);
        pem.push('\n');
        pem
    }

    /// The key and the public point stored beside it, or `None` for anything but the
    /// template.
    pub fn read(pem: &str) -> Option<(SigningKey, [u8; 65])> {
        let body = pem.trim().strip_prefix(BEGIN)?.strip_suffix(END)?;
        let text: String = body.split_ascii_whitespace().collect();
        let der = crypto::b64_decode(&text)?;
        if der.len() != LEN || der[..36] != HEAD || der[68..73] != MID {
            return None;
        }
        let key = SigningKey::from_slice(&der[36..68]).ok()?;
        Some((key, der[73..].try_into().ok()?))
    }
}

/// Replaces the key: every access token signed with the old one stops verifying.
pub fn rotate(store: &dyn Store, cache: &std::cell::RefCell<Option<Key>>) -> Key {
    let key = generate(store);
    *cache.borrow_mut() = Some(key.clone());
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::jwt;
    use crate::store::MemStore;
    use std::cell::RefCell;

    fn restart(store: &MemStore) -> Key {
        current(store, &RefCell::new(None))
    }

    #[test]
    fn a_restart_verifies_with_the_stored_public_half_and_parses_the_private_one_only_to_sign() {
        let store = MemStore::default();
        let first = restart(&store);
        let token = jwt::sign(&first, &json!({"sub": "admin"}));
        let key = restart(&store);
        assert!(key.signing.get().is_none(), "nothing parsed the PEM");
        assert_eq!(key.kid, first.kid);
        assert_eq!(jwt::verify(&key, &token).unwrap()["sub"], "admin");
        let again = jwt::sign(&key, &json!({"sub": "alice"}));
        assert_eq!(jwt::verify(&first, &again).unwrap()["sub"], "alice");
    }

    #[test]
    fn a_public_half_written_for_another_pem_is_ignored_and_replaced() {
        let store = MemStore::default();
        let old = restart(&store);
        let stale_public = store.get(PUBLIC_KEY).unwrap();
        // Storage replaced behind our back: a new PEM, the old public half left over.
        let other = MemStore::default();
        let new = restart(&other);
        store.set(STORE_KEY, &new.pem);
        store.set(PUBLIC_KEY, &stale_public);
        let key = restart(&store);
        assert_eq!(key.kid, new.kid);
        assert_ne!(key.kid, old.kid);
        assert!(jwt::verify(&key, &jwt::sign(&old, &json!({}))).is_err());
        assert!(jwt::verify(&key, &jwt::sign(&new, &json!({}))).is_ok());
        assert_eq!(store.get(PUBLIC_KEY), other.get(PUBLIC_KEY));
    }

    #[test]
    fn the_stored_pem_is_what_p256_writes_and_reads() {
        use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
        for _ in 0..8 {
            let key = SigningKey::generate();
            let theirs = key.to_pkcs8_pem(LineEnding::LF).unwrap();
            assert_eq!(pkcs8::write(&key), *theirs);
            let (read, point) = pkcs8::read(&theirs).unwrap();
            assert_eq!(read.to_bytes(), key.to_bytes());
            assert_eq!(point, *key.verifying_key().to_sec1_point(false).as_bytes());
            let back = SigningKey::from_pkcs8_pem(&pkcs8::write(&key)).unwrap();
            assert_eq!(back.to_bytes(), key.to_bytes());
        }
        // Not the template, or a point that is not the scalar's: unreadable, so replaced.
        let pem = pkcs8::write(&SigningKey::generate());
        assert!(pkcs8::read(&pem.replace("MIGHAgEA", "MIGHAgEB")).is_none());
        let mut der = crypto::b64_decode(&pem.lines().skip(1).take(3).collect::<String>()).unwrap();
        der[100] ^= 1;
        let b64 = crypto::b64(&der);
        let (a, rest) = b64.split_at(64);
        let (b, c) = rest.split_at(64);
        let bad =
            format!("-----BEGIN PRIVATE KEY-----\n{a}\n{b}\n{c}\n-----END PRIVATE KEY-----\n");
        assert!(pkcs8::read(&bad).is_some());
        assert!(Key::from_pem(&bad).is_none());
        let store = MemStore::default();
        store.set(STORE_KEY, &bad);
        let key = restart(&store);
        assert_ne!(
            store.get(STORE_KEY).unwrap(),
            bad,
            "an unreadable key is replaced"
        );
        assert_eq!(
            Key::from_pem(&store.get(STORE_KEY).unwrap()).unwrap().kid,
            key.kid
        );
    }

    #[test]
    fn a_malformed_public_half_falls_back_to_the_pem() {
        let store = MemStore::default();
        let first = restart(&store);
        let bound = store.get(PUBLIC_KEY).unwrap();
        let binding = bound.split_once('.').unwrap().0;
        store.set(PUBLIC_KEY, &format!("{binding}.AAAA"));
        let key = restart(&store);
        assert_eq!(key.kid, first.kid);
        assert_eq!(store.get(PUBLIC_KEY).unwrap(), bound);
    }
}
