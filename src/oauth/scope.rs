//! The three scopes, hierarchical: `scrypted:admin` ⊃ `scrypted:control` ⊃ `scrypted:read`.
//! Every tool needs exactly one (its `tool!` definition says which); resources, prompts
//! and completion need `scrypted:read`.
//!
//! A grant, a code and a token hold the full set their level implies
//! (`"scrypted:read scrypted:control"` for control), so a client or resource server that
//! compares scopes as sets (RFC 6749 §3.3) reads them right, and a client doing the MCP
//! step-up (the union of what it had and what the challenge names) asks for a superset.

use super::OAuthError;
use crate::origin::PublicBase;
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Read,
    Control,
    Admin,
}

/// Storage key of the plugin-wide read-only switch: `"true"` caps every grant, new and
/// existing, at [`Scope::Read`] on its next request.
pub const READ_ONLY_KEY: &str = "settings.read_only";

impl Scope {
    /// Lowest first.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Control, Scope::Admin];

    pub const fn name(self) -> &'static str {
        match self {
            Scope::Read => "scrypted:read",
            Scope::Control => "scrypted:control",
            Scope::Admin => "scrypted:admin",
        }
    }

    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }

    /// What the scope allows, in words an admin reads on the consent page and in Settings.
    pub const fn plain_words(self) -> &'static str {
        match self {
            Scope::Read => "See the server: devices and their state, camera pictures, plugins, logs, alerts, users (names only), network settings and the audit trail. Secrets stay redacted. Changes nothing.",
            Scope::Control => "Operate the home: run device commands (lock, unlock, switch, open), change mixins and device storage, reload plugins, clear logs, consoles and alerts. User accounts, scripts, automations and lock codes stay with admins.",
            Scope::Admin => "Administer Scrypted: users, the .env file, network and CORS settings, install, update or remove plugins, restart or update the server, create and restore backups (which hold every secret).",
        }
    }

    /// Short label for Settings choices.
    pub const fn label(self) -> &'static str {
        match self {
            Scope::Read => "Read only",
            Scope::Control => "Read and control devices",
            Scope::Admin => "Full admin",
        }
    }

    /// The scope string a grant of this level holds: every scope it implies, lowest first.
    pub fn granted(self) -> String {
        Scope::ALL
            .into_iter()
            .filter(|s| *s <= self)
            .map(Scope::name)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The highest known scope in a space-separated scope string; unknown entries (such
    /// as `offline_access`) are ignored. `None` when it names none of ours. Split at ASCII
    /// whitespace: a scope token is ASCII (RFC 6749 §3.3; a scope a client sends is held to
    /// that first, [`check_requested`]), and splitting at Unicode's took ~70 instructions a
    /// character in the wasm, twice on every request (issue 12).
    pub fn highest(scope: &str) -> Option<Scope> {
        scope
            .split_ascii_whitespace()
            .filter_map(Scope::from_name)
            .max()
    }

    /// Why a token holding `held` is refused `what`, which needs `self`: the words the
    /// door's 403 and a tool's own refusal share.
    pub fn refusal(self, what: &str, held: Scope) -> String {
        format!(
            "{what} needs OAuth scope {}; this token has {}. Nothing was run. Authorize again asking for {} (the Scrypted admin approves it).",
            self.name(),
            held.granted(),
            self.name()
        )
    }

    /// The level a stored grant or a token claim stands for. Everything we issue names a
    /// known scope; anything else counts as the least, never as more.
    pub fn of_grant(scope: &str) -> Scope {
        Scope::highest(scope).unwrap_or(Scope::Read)
    }
}

/// A requested `scope` as RFC 6749 §3.3 writes it: tokens of printable ASCII other than `"`
/// and `\`, separated by spaces (other ASCII whitespace counts as a space). Anything else
/// is refused, not read: [`Scope::highest`] splits at ASCII whitespace only, so two names
/// joined by another character (a vertical tab, a no-break space) would be one unknown
/// name, and a request for less would read as one naming none of ours, which asks for all.
pub fn check_requested(scope: &str) -> Result<(), OAuthError> {
    let allowed =
        |c: char| c.is_ascii_whitespace() || (c.is_ascii_graphic() && c != '"' && c != '\\');
    match scope.chars().find(|c| !allowed(*c)) {
        None => Ok(()),
        Some(c) => Err(OAuthError::invalid_scope(format!(
            "scope holds the character U+{:04X}, which no OAuth scope may hold (RFC 6749 §3.3); separate scopes with spaces",
            c as u32
        ))),
    }
}

/// Every scope, for `scopes_supported` and the 401 challenge.
pub fn supported() -> Vec<&'static str> {
    Scope::ALL.into_iter().map(Scope::name).collect()
}

/// The space-separated list of every scope.
pub fn all_names() -> String {
    supported().join(" ")
}

pub fn read_only_mode(store: &dyn Store) -> bool {
    store.get(READ_ONLY_KEY).as_deref() == Some("true")
}

/// The most a grant may give right now: read-only mode caps everything at read.
pub fn cap(store: &dyn Store) -> Scope {
    if read_only_mode(store) {
        Scope::Read
    } else {
        Scope::Admin
    }
}

/// RFC 6750 §3.1 answer to a token that lacks the scope a request needs: 403 with
/// `error="insufficient_scope"`, the scope needed, and where to find the metadata, so a
/// client can step up.
pub fn insufficient_challenge(base: &PublicBase, needed: Scope, description: &str) -> String {
    let description: String = description
        .chars()
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    format!(
        "Bearer error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{}\", error_description=\"{description}\"",
        needed.name(),
        base.prm_url()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy_and_strings() {
        assert!(Scope::Admin > Scope::Control && Scope::Control > Scope::Read);
        assert_eq!(Scope::Read.granted(), "scrypted:read");
        assert_eq!(
            Scope::Admin.granted(),
            "scrypted:read scrypted:control scrypted:admin"
        );
        assert_eq!(
            Scope::highest("offline_access scrypted:control scrypted:read"),
            Some(Scope::Control)
        );
        assert_eq!(Scope::highest("openid profile"), None);
        assert_eq!(
            Scope::highest("\tscrypted:read\r\nscrypted:control  "),
            Some(Scope::Control)
        );
        // No scope token holds a non-ASCII character: joined by one, the two are a single
        // unknown token.
        assert_eq!(Scope::highest("scrypted:read\u{a0}scrypted:admin"), None);
        assert_eq!(Scope::of_grant("nonsense"), Scope::Read);
        assert_eq!(Scope::of_grant("scrypted:admin"), Scope::Admin);
    }

    #[test]
    fn a_requested_scope_holds_only_what_rfc_6749_allows() {
        for ok in [
            "",
            "scrypted:read",
            "offline_access scrypted:control",
            "\tscrypted:read\r\nscrypted:admin  ",
            "!#[]~ urn:x-y:z/a?b=c&d",
        ] {
            assert!(check_requested(ok).is_ok(), "{ok:?}");
        }
        for (bad, code) in [
            ("scrypted:read\u{b}offline_access", "U+000B"),
            ("scrypted:read\u{a0}offline_access", "U+00A0"),
            ("scrypted:read\u{85}x", "U+0085"),
            ("scrypted:r\u{e9}ad", "U+00E9"),
            ("scrypted:read\0", "U+0000"),
            ("\"scrypted:read\"", "U+0022"),
            ("a\\b", "U+005C"),
            ("scrypted:read\u{7f}", "U+007F"),
        ] {
            let e = check_requested(bad).expect_err(bad);
            assert_eq!(e.code, "invalid_scope", "{bad:?}");
            assert!(e.description.contains(code), "{bad:?}: {}", e.description);
        }
    }
}
