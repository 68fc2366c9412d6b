//! Sorting for the lists the tools and OAuth keep. std's sort is generic over the element
//! and the comparator, so every `sort_by_key` call site compiled to its own 3–4 KB copy of
//! driftsort (23 copies, 82 KB of the wasm). Here std sorts only indices, through one
//! comparator type, and the items follow: one copy for every caller. Stable, like
//! `slice::sort_by`; the extra cost (a dynamic call per comparison, one move per item) is
//! nothing next to the host calls that fetch these lists. Hot paths keep std's sort.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, keeping equal items in their order (`slice::sort_by`).
pub fn sort_by<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    let order = stable_order(items.len(), &|a, b| compare(&items[a], &items[b]));
    permute(items, order);
}

/// Sorts `items` by `key`, keeping equal keys in their order (`slice::sort_by_key`).
pub fn sort_by_key<T, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let keys: Vec<K> = items.iter().map(key).collect();
    let order = stable_order(keys.len(), &|a, b| keys[a].cmp(&keys[b]));
    permute(items, order);
}

/// Sorts `items` ascending (`slice::sort`).
pub fn sort<T: Ord>(items: &mut Vec<T>) {
    sort_by(items, T::cmp);
}

/// The keys of two maps (or lists), each once, in order: what a `BTreeSet` of them would
/// iterate, without one more copy of the B-tree code in the wasm.
pub fn union_keys<'a, K: Ord + 'a>(
    a: impl IntoIterator<Item = &'a K>,
    b: impl IntoIterator<Item = &'a K>,
) -> Vec<&'a K> {
    let mut keys: Vec<&K> = a.into_iter().chain(b).collect();
    sort(&mut keys);
    keys.dedup();
    keys
}

/// The indices `0..len` in the order `compare` puts them (stable).
fn stable_order(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

/// Reorders `items` so that position i holds the item that was at `order[i]`.
fn permute<T>(items: &mut Vec<T>, order: Vec<usize>) {
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_std_and_keeps_equal_items_in_order() {
        let items = vec![(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd'), (1, 'e'), (2, 'f')];
        let mut ours = items.clone();
        sort_by_key(&mut ours, |x| x.0);
        let mut std = items.clone();
        std.sort_by_key(|x| x.0);
        assert_eq!(ours, std);
        assert_eq!(
            ours,
            [(0, 'd'), (1, 'b'), (1, 'e'), (2, 'f'), (3, 'a'), (3, 'c')]
        );

        let mut newest_first = items.clone();
        sort_by_key(&mut newest_first, |x| std::cmp::Reverse(x.0));
        let mut std = items.clone();
        std.sort_by_key(|x| std::cmp::Reverse(x.0));
        assert_eq!(newest_first, std);

        let mut by_letter_desc = items.clone();
        sort_by(&mut by_letter_desc, |a, b| b.1.cmp(&a.1));
        assert_eq!(by_letter_desc[0], (2, 'f'));
        assert_eq!(by_letter_desc[5], (3, 'a'));

        let mut words = vec!["pear", "apple", "fig", "apple"];
        sort(&mut words);
        assert_eq!(words, ["apple", "apple", "fig", "pear"]);
        let mut empty: Vec<u8> = Vec::new();
        sort(&mut empty);
        assert!(empty.is_empty());
    }
}
