//! An in-memory Merkle-Patricia trie with cached node hashes.
//!
//! Every key is a 32-byte hash (`keccak256(address)` or `keccak256(slot)`), so all leaves sit at
//! depth 64 nibbles and branch nodes never carry a value. Each node caches its RLP reference
//! (the node's RLP if shorter than 32 bytes, else `keccak256` of it); an update clears the
//! caches on the path from the root to the changed leaf only. Computing the root after a block
//! therefore re-hashes the nodes above the keys the block touched — O(touched · depth) — and
//! never the untouched rest of the state. The node encodings are alloy-trie's, so the roots are
//! Ethereum's (the tests check them against alloy-trie's `HashBuilder` and against anvil).

use alloy_primitives::B256;
use alloy_trie::nodes::{BranchNodeRef, ExtensionNodeRef, LeafNodeRef, RlpNode};
use alloy_trie::{EMPTY_ROOT_HASH, Nibbles, TrieMask};

/// A node of the trie; `None` in a parent stands for the empty node.
#[derive(Debug, Clone)]
enum Node {
    /// The rest of the key and the value.
    Leaf { key: Nibbles, value: Vec<u8>, cache: Option<RlpNode> },
    /// A shared key segment followed by a branch node.
    Extension { key: Nibbles, child: Box<Self>, cache: Option<RlpNode> },
    /// Sixteen children, at least two of them present.
    Branch { children: Box<[Option<Box<Self>>; 16]>, cache: Option<RlpNode> },
}

/// A Merkle-Patricia trie over 32-byte keys with cached hashes.
#[derive(Debug, Clone, Default)]
pub struct Trie {
    root: Option<Box<Node>>,
    len: usize,
}

impl Trie {
    /// An empty trie.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the trie holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Inserts or replaces the value at `key`. An empty `value` removes the key, as in
    /// Ethereum's tries (no value is ever stored empty).
    pub fn insert(&mut self, key: &B256, value: Vec<u8>) {
        if value.is_empty() {
            self.remove(key);
            return;
        }
        let path = Nibbles::unpack_array(key.as_ref());
        let (root, added) = insert(self.root.take(), path, value);
        self.root = Some(root);
        self.len += usize::from(added);
    }

    /// Removes `key`; returns whether it was present.
    pub fn remove(&mut self, key: &B256) -> bool {
        let path = Nibbles::unpack_array(key.as_ref());
        let Some(root) = self.root.take() else { return false };
        let (root, removed) = remove(root, path);
        self.root = root;
        self.len -= usize::from(removed);
        removed
    }

    /// The root hash; re-hashes only the nodes changed since the last call.
    pub fn root(&mut self) -> B256 {
        let Some(root) = self.root.as_mut() else { return EMPTY_ROOT_HASH };
        let mut buf = Vec::with_capacity(600);
        let rlp = hash_node(root, &mut buf);
        // The root is always referred to by hash, even when its RLP is shorter than 32 bytes.
        rlp.as_hash().unwrap_or_else(|| alloy_primitives::keccak256(rlp.as_slice()))
    }
}

/// Inserts below `node`; returns the new node and whether a key was added (not replaced).
fn insert(node: Option<Box<Node>>, path: Nibbles, value: Vec<u8>) -> (Box<Node>, bool) {
    let Some(mut node) = node else {
        return (Box::new(Node::Leaf { key: path, value, cache: None }), true);
    };
    match *node {
        Node::Leaf { ref key, value: ref mut old, ref mut cache } if *key == path => {
            *old = value;
            *cache = None;
            (node, false)
        }
        Node::Leaf { key, value: old, .. } => {
            let common = key.common_prefix_length(&path);
            let mut children = empty_children();
            children[key.get_unchecked(common) as usize] =
                Some(Box::new(Node::Leaf { key: key.slice(common + 1..), value: old, cache: None }));
            children[path.get_unchecked(common) as usize] =
                Some(Box::new(Node::Leaf { key: path.slice(common + 1..), value, cache: None }));
            (with_prefix(path.slice(..common), Node::Branch { children, cache: None }), true)
        }
        Node::Extension { key, child, .. } => {
            let common = key.common_prefix_length(&path);
            if common == key.len() {
                let (child, added) = insert(Some(child), path.slice(common..), value);
                return (Box::new(Node::Extension { key, child, cache: None }), added);
            }
            // The new key leaves the extension at nibble `common`: split it around a branch.
            let mut children = empty_children();
            let rest = key.slice(common + 1..);
            children[key.get_unchecked(common) as usize] = Some(if rest.is_empty() {
                child
            } else {
                Box::new(Node::Extension { key: rest, child, cache: None })
            });
            children[path.get_unchecked(common) as usize] =
                Some(Box::new(Node::Leaf { key: path.slice(common + 1..), value, cache: None }));
            (with_prefix(path.slice(..common), Node::Branch { children, cache: None }), true)
        }
        Node::Branch { ref mut children, ref mut cache } => {
            *cache = None;
            let slot = &mut children[path.get_unchecked(0) as usize];
            let (child, added) = insert(slot.take(), path.slice(1..), value);
            *slot = Some(child);
            (node, added)
        }
    }
}

/// Removes below `node`; returns what is left of it and whether the key was found.
fn remove(mut node: Box<Node>, path: Nibbles) -> (Option<Box<Node>>, bool) {
    match *node {
        Node::Leaf { ref key, .. } => {
            if *key == path {
                (None, true)
            } else {
                (Some(node), false)
            }
        }
        Node::Extension { key, child, cache } => {
            if !path.starts_with(&key) {
                return (Some(Box::new(Node::Extension { key, child, cache })), false);
            }
            let (child, removed) = remove(child, path.slice(key.len()..));
            if !removed {
                let child = child.expect("a node that lost no key is still there");
                return (Some(Box::new(Node::Extension { key, child, cache })), false);
            }
            // The child was a branch; after a removal it is a branch again or collapsed into a
            // leaf or an extension, which the extension's key is merged into.
            let child = child.expect("a branch keeps at least one child after one removal");
            (Some(with_prefix(key, *child)), true)
        }
        Node::Branch { ref mut children, ref mut cache } => {
            let index = path.get_unchecked(0) as usize;
            let Some(child) = children[index].take() else { return (Some(node), false) };
            let (child, removed) = remove(child, path.slice(1..));
            children[index] = child;
            if !removed {
                return (Some(node), false);
            }
            *cache = None;
            let mut present = children.iter().enumerate().filter(|(_, c)| c.is_some());
            let (only, _) = present.next().expect("a branch had two children before a removal");
            if present.next().is_some() {
                return (Some(node), true);
            }
            // One child left: the branch collapses into it, with its nibble prepended.
            let child = children[only].take().expect("the child just found");
            let mut prefix = Nibbles::new();
            prefix.push_unchecked(only as u8);
            (Some(with_prefix(prefix, *child)), true)
        }
    }
}

/// `node` with `prefix` in front of its key: merges into a leaf or extension, or wraps a branch
/// in an extension (an empty prefix returns the node itself).
fn with_prefix(prefix: Nibbles, node: Node) -> Box<Node> {
    if prefix.is_empty() {
        return Box::new(node);
    }
    Box::new(match node {
        Node::Leaf { key, value, .. } => Node::Leaf { key: prefix.join(&key), value, cache: None },
        Node::Extension { key, child, .. } => Node::Extension { key: prefix.join(&key), child, cache: None },
        branch @ Node::Branch { .. } => Node::Extension { key: prefix, child: Box::new(branch), cache: None },
    })
}

fn empty_children() -> Box<[Option<Box<Node>>; 16]> {
    Box::default()
}

/// The node's RLP reference, from its cache or computed (and cached) from its children's.
fn hash_node(node: &mut Node, buf: &mut Vec<u8>) -> RlpNode {
    match node {
        Node::Leaf { key, value, cache } => {
            if let Some(rlp) = cache {
                return rlp.clone();
            }
            buf.clear();
            let rlp = LeafNodeRef::new(key, value).rlp(buf);
            *cache = Some(rlp.clone());
            rlp
        }
        Node::Extension { key, child, cache } => {
            if let Some(rlp) = cache {
                return rlp.clone();
            }
            let child = hash_node(child, buf);
            buf.clear();
            let rlp = ExtensionNodeRef::new(key, &child).rlp(buf);
            *cache = Some(rlp.clone());
            rlp
        }
        Node::Branch { children, cache } => {
            if let Some(rlp) = cache {
                return rlp.clone();
            }
            let mut stack = Vec::with_capacity(16);
            let mut mask = TrieMask::default();
            for (i, child) in children.iter_mut().enumerate() {
                if let Some(child) = child {
                    stack.push(hash_node(child, buf));
                    mask.set_bit(i as u8);
                }
            }
            buf.clear();
            let rlp = BranchNodeRef::new(&stack, mask).rlp(buf);
            *cache = Some(rlp.clone());
            rlp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{U256, keccak256};
    use alloy_trie::HashBuilder;
    use std::collections::BTreeMap;

    fn full_root(entries: &BTreeMap<B256, Vec<u8>>) -> B256 {
        let mut hb = HashBuilder::default();
        for (k, v) in entries {
            hb.add_leaf(Nibbles::unpack(k), v);
        }
        hb.root()
    }

    #[test]
    fn empty_trie_has_the_empty_root() {
        assert_eq!(Trie::new().root(), EMPTY_ROOT_HASH);
    }

    #[test]
    fn inserts_and_removes_match_hash_builder() {
        let mut trie = Trie::new();
        let mut model = BTreeMap::new();
        for i in 0u64..300 {
            let key = keccak256(U256::from(i % 97).to_be_bytes::<32>());
            let value = alloy::rlp::encode(U256::from(i * 7 + 1));
            if i % 5 == 3 {
                trie.remove(&key);
                model.remove(&key);
            } else {
                trie.insert(&key, value.clone());
                model.insert(key, value);
            }
            if i % 17 == 0 {
                assert_eq!(trie.root(), full_root(&model), "after step {i}");
            }
        }
        assert_eq!(trie.len(), model.len());
        assert_eq!(trie.root(), full_root(&model));
        for key in model.keys().copied().collect::<Vec<_>>() {
            assert!(trie.remove(&key));
            model.remove(&key);
            assert_eq!(trie.root(), full_root(&model));
        }
        assert!(trie.is_empty());
    }

    #[test]
    fn short_nodes_are_embedded() {
        // Keys sharing 63 nibbles put two tiny leaves under one branch; their RLP is shorter
        // than 32 bytes, so they are embedded in the branch rather than hashed.
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        a[31] = 0x01;
        b[31] = 0x02;
        let mut trie = Trie::new();
        let mut model = BTreeMap::new();
        for k in [B256::from(a), B256::from(b)] {
            trie.insert(&k, vec![0x05]);
            model.insert(k, vec![0x05]);
        }
        assert_eq!(trie.root(), full_root(&model));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Random inserts, overwrites and removals over keys drawn from four byte values (so
        /// that keys share long prefixes and extension nodes split and merge), with roots taken
        /// in between: always the root `HashBuilder` computes from scratch.
        #[test]
        fn random_updates_match_hash_builder(
            ops in proptest::collection::vec(
                (proptest::collection::vec(0usize..4, 32), proptest::prelude::any::<u8>(), 0u8..5),
                1..160,
            )
        ) {
            const BYTES: [u8; 4] = [0x00, 0x01, 0x10, 0xff];
            let mut trie = Trie::new();
            let mut model = BTreeMap::new();
            for (key, value, action) in ops {
                let key = B256::from(std::array::from_fn::<u8, 32, _>(|i| BYTES[key[i]]));
                match action {
                    0 => {
                        // Mostly an existing key (random keys of this space rarely collide).
                        let victim = model.keys().nth(usize::from(value) % model.len().max(1));
                        let victim = victim.copied().unwrap_or(key);
                        proptest::prop_assert_eq!(trie.remove(&victim), model.remove(&victim).is_some());
                    }
                    1 => proptest::prop_assert_eq!(trie.root(), full_root(&model)),
                    _ => {
                        // Values of 1 to 40 bytes: short leaves get embedded, long ones hashed.
                        let v = vec![value | 1; 1 + usize::from(value) % 40];
                        trie.insert(&key, v.clone());
                        model.insert(key, v);
                    }
                }
            }
            proptest::prop_assert_eq!(trie.len(), model.len());
            proptest::prop_assert_eq!(trie.root(), full_root(&model));
        }
    }
}
