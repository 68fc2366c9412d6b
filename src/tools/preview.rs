//! What a `dry_run: true` call answers, in the few shapes every preview shares: a line
//! diff of text, the entries a list gains and loses, the entries a map adds, removes and
//! changes. Each tool runs the same checks as its real call, builds one of these from the
//! state before and the state it would write, and returns without writing. Secrets stay
//! redacted: a secret that would change shows as "changed", never either value.

use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// The message of every preview.
pub const NOTHING_CHANGED: &str = "Dry run: nothing was changed.";

/// Longest value shown in a map preview; longer ones are cut (their full length is said).
pub const PREVIEW_VALUE_CHARS: usize = 500;

/// Entries a list gains and loses (each in the order of the list it comes from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ListDelta {
    /// Entries in the new list that the old one lacks.
    pub added: Vec<String>,
    /// Entries of the old list that the new one lacks.
    pub removed: Vec<String>,
    /// True when both lists hold the same entries in another order.
    pub reordered: bool,
}

pub fn list_delta(before: &[String], after: &[String]) -> ListDelta {
    let missing = |from: &[String], other: &[String]| -> Vec<String> {
        from.iter()
            .filter(|x| !other.contains(x))
            .cloned()
            .collect()
    };
    let added = missing(after, before);
    let removed = missing(before, after);
    let reordered = added.is_empty() && removed.is_empty() && before != after;
    ListDelta {
        added,
        removed,
        reordered,
    }
}

/// How one map entry would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryChangeKind {
    Added,
    Removed,
    Changed,
}

/// One map entry that would change, its values shown as get_storage shows them: a secret
/// key's as "[REDACTED]" (so a changed secret says only "changed"), a credential inside a
/// value hidden; a long value is cut to 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct EntryChange {
    pub key: String,
    pub change: EntryChangeKind,
    /// The current value; absent when the entry is added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The value it would have; absent when the entry is removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

fn shown(key: &str, value: &str) -> String {
    if let Some(hidden) = super::redact::shown(Some(key), value) {
        return hidden;
    }
    let len = value.chars().count();
    if len <= PREVIEW_VALUE_CHARS {
        return value.to_string();
    }
    let head: String = value.chars().take(PREVIEW_VALUE_CHARS).collect();
    format!("{head}… [cut: {len} characters]")
}

/// The entries of `before` and `after` that differ, by key.
pub fn map_delta(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<EntryChange> {
    crate::order::union_keys(before.keys(), after.keys())
        .into_iter()
        .filter_map(|key| {
            let (old, new) = (before.get(key), after.get(key));
            let change = match (old, new) {
                (None, Some(_)) => EntryChangeKind::Added,
                (Some(_), None) => EntryChangeKind::Removed,
                (Some(o), Some(n)) if o != n => EntryChangeKind::Changed,
                _ => return None,
            };
            // As get_storage shows it: a secret key's value is the placeholder, a
            // credential inside a value is hidden. Equal shown values of a changed entry
            // say only that its secret changed.
            let show = |v: Option<&String>| v.map(|v| shown(key, v));
            Some(EntryChange {
                key: key.clone(),
                change,
                before: show(old),
                after: show(new),
            })
        })
        .collect()
}

/// A line diff of two texts (already redacted by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TextPreview {
    /// Unified diff, "before" → "after", three lines of context; empty when equal.
    pub diff: String,
    pub lines_added: usize,
    pub lines_removed: usize,
}

/// Lines that differ (both sides together, after the common first and last lines) up to
/// which [`text_diff`] searches for the shortest edit; past it the differing middle is shown
/// removed and added whole. The raw search is O((N+M)·D): a 64 KB file rewritten line by
/// line took 8 s natively, where this bound keeps it to a few million steps.
pub const MAX_DIFFED_LINES: usize = 2_000;

/// Myers' line diff, formatted as a unified diff. similar's `TextDiff` would do the same in
/// one call, but it compiles every diff algorithm it can dispatch to (about 400 KB of wasm);
/// driving the one algorithm directly costs a small fraction of that. Its raw search, not
/// `myers::diff`: that one first tries a reduction of the inputs and so compiles the search
/// twice (21 KB of wasm, issue 12); its bound on hard inputs is [`MAX_DIFFED_LINES`] here.
pub fn text_diff(before: &str, after: &str) -> TextPreview {
    use similar::algorithms::{myers, Capture, Replace};
    use similar::udiff::UnifiedHunkHeader;
    use similar::{group_diff_ops, ChangeTag};
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let new: Vec<&str> = after.split_inclusive('\n').collect();
    // Replace pairs a deletion with the insertion that follows it, so a changed line reads
    // "-old" then "+new", as TextDiff shows it.
    let mut capture = Replace::new(Capture::new());
    let same = |(a, b): &(&&str, &&str)| a == b;
    let prefix = old.iter().zip(&new).take_while(same).count();
    let suffix = (old[prefix..].iter().rev())
        .zip(new[prefix..].iter().rev())
        .take_while(same)
        .count();
    let (removed, added) = (old.len() - prefix - suffix, new.len() - prefix - suffix);
    let Ok(()) = if removed + added <= MAX_DIFFED_LINES || removed == 0 || added == 0 {
        myers::diff_deadline_raw(&mut capture, &old, 0..old.len(), &new, 0..new.len(), None)
    } else {
        middle_replaced(&mut capture, prefix, (removed, added), suffix)
    };
    let (mut diff, mut lines_added, mut lines_removed) = (String::new(), 0, 0);
    for hunk in group_diff_ops(capture.into_inner().into_ops(), 3) {
        if diff.is_empty() {
            diff.push_str("--- before\n+++ after\n");
        }
        diff.push_str(&format!("{}\n", UnifiedHunkHeader::new(&hunk)));
        for change in hunk.iter().flat_map(|op| op.iter_changes(&old, &new)) {
            diff.push(match change.tag() {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => {
                    lines_removed += 1;
                    '-'
                }
                ChangeTag::Insert => {
                    lines_added += 1;
                    '+'
                }
            });
            diff.push_str(change.value());
            if !change.value().ends_with('\n') {
                diff.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    TextPreview {
        diff,
        lines_added,
        lines_removed,
    }
}

/// The edit that keeps `prefix` lines, removes the `removed` lines after them, adds `added`
/// in their place and keeps the last `suffix` lines.
fn middle_replaced<D: similar::algorithms::DiffHook>(
    d: &mut D,
    prefix: usize,
    (removed, added): (usize, usize),
    suffix: usize,
) -> Result<(), D::Error> {
    if prefix > 0 {
        d.equal(0, 0, prefix)?;
    }
    d.delete(prefix, removed, prefix)?;
    d.insert(prefix + removed, prefix, added)?;
    if suffix > 0 {
        d.equal(prefix + removed, prefix + added, suffix)?;
    }
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::secrets::REDACTED;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lists_gain_lose_and_reorder() {
        let d = list_delta(&list(&["a", "b", "c"]), &list(&["c", "d", "a"]));
        assert_eq!(
            (d.added, d.removed, d.reordered),
            (list(&["d"]), list(&["b"]), false)
        );
        let d = list_delta(&list(&["a", "b"]), &list(&["b", "a"]));
        assert!(d.reordered && d.added.is_empty() && d.removed.is_empty());
        assert!(!list_delta(&list(&["a"]), &list(&["a"])).reordered);
    }

    #[test]
    fn maps_show_values_but_never_secrets() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let before = map(&[
            ("ip", "10.0.0.1"),
            ("password", "old"),
            ("gone", "x"),
            ("same", "s"),
            ("note", "Bearer abc"),
        ]);
        let after = map(&[
            ("ip", "10.0.0.2"),
            ("password", "new"),
            ("same", "s"),
            ("new", "y"),
            ("note", "plain"),
        ]);
        let d = map_delta(&before, &after);
        let entry = |key: &str| d.iter().find(|e| e.key == key).unwrap().clone();
        assert_eq!(d.len(), 5, "{d:?}");
        assert_eq!(
            (entry("ip").before, entry("ip").after),
            (Some("10.0.0.1".into()), Some("10.0.0.2".into()))
        );
        let e = entry("password");
        assert_eq!(e.change, EntryChangeKind::Changed);
        assert_eq!(
            (e.before.as_deref(), e.after.as_deref()),
            (Some(REDACTED), Some(REDACTED))
        );
        let e = entry("note");
        assert_eq!(
            (e.before.as_deref(), e.after.as_deref()),
            (Some(REDACTED), Some("plain")),
            "a credential is hidden, a plain value is not"
        );
        assert_eq!(
            (entry("gone").change, entry("gone").after),
            (EntryChangeKind::Removed, None)
        );
        assert_eq!(
            (entry("new").change, entry("new").before),
            (EntryChangeKind::Added, None)
        );
    }

    #[test]
    fn long_values_are_cut_and_say_so() {
        let long = "x".repeat(PREVIEW_VALUE_CHARS + 1);
        let d = map_delta(&BTreeMap::new(), &[("k".to_string(), long)].into());
        let after = d[0].after.as_deref().unwrap();
        assert!(after.ends_with(&format!("… [cut: {} characters]", PREVIEW_VALUE_CHARS + 1)));
    }

    /// Under the bound the preview is what similar's `TextDiff` prints (its default Myers,
    /// heuristics and all) for edits of a .env's size: lines changed, added, removed, moved.
    #[test]
    fn text_diff_is_what_text_diff_prints() {
        let base: Vec<String> = (0..60)
            .map(|i| format!("KEY_{i}=value {}\n", i * 7))
            .collect();
        for seed in 0..40usize {
            let mut after = base.clone();
            for k in 0..(seed % 7 + 1) {
                let at = (seed * 31 + k * 17) % after.len();
                match (seed + k) % 4 {
                    0 => after[at] = format!("CHANGED_{seed}_{k}=x\n"),
                    1 => after.insert(at, format!("NEW_{seed}_{k}=y\n")),
                    2 => drop(after.remove(at)),
                    _ => {
                        let line = after.remove(at);
                        after.insert((at + 23) % after.len(), line);
                    }
                }
            }
            let (before, after) = (base.concat(), after.concat());
            let theirs = similar::TextDiff::from_lines(&before, &after)
                .unified_diff()
                .context_radius(3)
                .header("before", "after")
                .to_string();
            assert_eq!(text_diff(&before, &after).diff, theirs, "seed {seed}");
        }
    }

    /// Past MAX_DIFFED_LINES of differing lines the middle is shown removed and added whole,
    /// a line both sides share inside it included, with the common first and last lines as
    /// context around it; at the bound the search finds that shared line.
    #[test]
    fn text_diff_past_the_bound_replaces_the_middle() {
        // `h` lines, the shared "S=1", `h` (old) or `h + 1` (new) lines: 4h + 3 differ.
        let middle = |tag: &str, h: usize, extra: usize| -> Vec<String> {
            let mut lines: Vec<String> = (0..2 * h + extra)
                .map(|i| format!("{tag}{i}=1\n"))
                .collect();
            lines.insert(h, "S=1\n".into());
            lines
        };
        let file = |m: &[String]| format!("H=1\nI=2\n{}T=1\n", m.concat());
        let h = (MAX_DIFFED_LINES - 3) / 4 + 1;
        let (old, new) = (middle("A", h, 0), middle("B", h, 1));
        let p = text_diff(&file(&old), &file(&new));
        assert_eq!((p.lines_removed, p.lines_added), (2 * h + 1, 2 * h + 2));
        let signed = |sign: char, m: &[String]| -> String {
            m.iter().map(|l| format!("{sign}{l}")).collect()
        };
        let header = format!("@@ -1,{} +1,{} @@\n", 2 * h + 4, 2 * h + 5);
        let (removed, added) = (signed('-', &old), signed('+', &new));
        assert_eq!(
            p.diff,
            format!("--- before\n+++ after\n{header} H=1\n I=2\n{removed}{added} T=1\n")
        );
        let h = h - 1;
        let p = text_diff(&file(&middle("A", h, 0)), &file(&middle("B", h, 1)));
        assert_eq!((p.lines_removed, p.lines_added), (2 * h, 2 * h + 1));
    }

    #[test]
    fn text_diff_is_unified_and_counted() {
        let p = text_diff("A=1\nB=2\nC=3\n", "A=1\nB=20\nC=3\nD=4\n");
        assert_eq!((p.lines_added, p.lines_removed), (2, 1));
        assert_eq!(
            p.diff,
            "--- before\n+++ after\n@@ -1,3 +1,4 @@\n A=1\n-B=2\n+B=20\n C=3\n+D=4\n"
        );
        assert_eq!(text_diff("same\n", "same\n").diff, "");
        let p = text_diff("A=1", "A=2");
        assert_eq!(
            p.diff,
            "--- before\n+++ after\n@@ -1 +1 @@\n-A=1\n\\ No newline at end of file\n+A=2\n\\ No newline at end of file\n"
        );
    }
}
