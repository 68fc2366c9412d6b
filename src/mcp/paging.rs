//! Opaque list cursors. A cursor is an offset into a list whose order never changes while
//! the plugin runs, so cursors stay valid; anything we did not hand out is -32602.
//!
//! Pages are large on purpose: many clients (the Vercel AI SDK, opencode, Factory's Droid,
//! Open WebUI before its fix) read only the first page of tools/list and silently lose
//! the rest, so the whole catalogue must fit in one page; cursors are there for growth.

use crate::crypto::{b64url, b64url_decode};
use rmcp::model::ErrorData;

pub const PAGE_SIZE: usize = 100;

const PREFIX: &str = "page1:";

fn encode(offset: usize) -> String {
    b64url(format!("{PREFIX}{offset}").as_bytes())
}

fn decode(cursor: &str) -> Option<usize> {
    let bytes = b64url_decode(cursor)?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_prefix(PREFIX)?.parse().ok()
}

/// One page of `items` starting at `cursor`, and the cursor of the next page.
pub fn page<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ErrorData> {
    page_of(items, cursor, PAGE_SIZE)
}

fn page_of<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), ErrorData> {
    let start = match cursor {
        None => 0,
        Some(c) => match decode(c) {
            Some(offset) if offset > 0 && offset < items.len() => offset,
            _ => return Err(ErrorData::invalid_params("Invalid cursor", None)),
        },
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| encode(end));
    Ok((items[start..end].to_vec(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_through_and_refuses_foreign_cursors() {
        let items: Vec<u32> = (0..45).collect();
        let (first, next) = page_of(&items, None, 20).unwrap();
        assert_eq!(first.len(), 20);
        let (second, next) = page_of(&items, next.as_deref(), 20).unwrap();
        assert_eq!(second[0], 20);
        let (third, next) = page_of(&items, next.as_deref(), 20).unwrap();
        assert_eq!(third, (40..45).collect::<Vec<_>>());
        assert!(next.is_none());
        for bad in ["", "garbage!", &b64url(b"page1:999"), &b64url(b"page1:0")] {
            assert!(page_of(&items, Some(bad), 20).is_err(), "{bad}");
        }
        let (all, next) = page(&items, None).unwrap();
        assert_eq!((all.len(), next), (45, None));
    }
}
