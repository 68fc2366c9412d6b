//! Sorting for the lists the tools and OAuth keep. std's sort is generic over the element
//! and the comparator, so every `sort_by_key` call site compiled to its own 3–4 KB copy of
//! driftsort (23 copies, 82 KB of the wasm). Here std sorts only indices, through one
//! comparator type, and the items follow: one copy for every caller. Stable, like
//! `slice::sort_by`; the extra cost (a dynamic call per comparison, one move per item) is
//! nothing next to the host calls that fetch these lists. Hot paths keep std's sort.
//!
//! Maps are collected by [`map`], which inserts: `collect()` into a `BTreeMap` (or
//! serde_json's `Map`) sorts the pairs first, one more copy of std's sort for every
//! iterator type collected from.

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

/// Collects `pairs` into a map (`BTreeMap`, serde_json's `Map`) by inserting them one by
/// one (`Extend`). `collect()` goes through `BTreeMap::from_iter`, which first sorts the
/// pairs with std's sort, compiled once more for every iterator type collected from (about
/// 3 KB of the wasm each, issue 12); inserting uses the map's own code, already there. The
/// same map: a key met twice keeps its last value, as with `collect()`.
pub fn map<M: Default + Extend<(K, V)>, K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> M {
    let mut map = M::default();
    map.extend(pairs);
    map
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

    #[test]
    fn map_is_what_collect_makes() {
        use serde_json::{json, Map, Value};
        use std::collections::BTreeMap;
        let pairs = [("b", 1), ("a", 2), ("c", 3), ("a", 4), ("b", 5)];
        let ours: BTreeMap<&str, i32> = map(pairs);
        assert_eq!(ours, pairs.into_iter().collect::<BTreeMap<_, _>>());
        assert_eq!(ours, BTreeMap::from([("a", 4), ("b", 5), ("c", 3)]));
        let values = pairs.map(|(k, v)| (k.to_string(), json!(v)));
        let ours: Map<String, Value> = map(values.clone());
        assert_eq!(ours, values.into_iter().collect::<Map<_, _>>());
        assert!(map::<BTreeMap<u8, u8>, u8, u8>([]).is_empty());
    }
}
