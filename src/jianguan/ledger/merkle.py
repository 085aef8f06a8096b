"""RFC 6962 / RFC 9162 Merkle tree for the append-only evidence log. Pure Python, no Django.

Hashing (RFC 6962 §2.1): leaf = SHA-256(0x00 || data), interior node = SHA-256(0x01 || left || right),
empty tree = SHA-256("").

Storage model: only hashes of *perfect* subtrees are stored, keyed ``(level, index)``. Level 0 holds the
leaf hashes; node ``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``. A perfect
subtree never changes once complete, so the store is append-only, every older tree size can still be
served from it, and:

* an append writes the new leaf plus each node it completes, reading at most ``log2(n)`` stored
  left siblings (one batched read per batch of leaves);
* the root of any size ``m`` is the right-to-left fold of the perfect subtrees given by the binary
  digits of ``m`` (at most ``log2(m)`` reads);
* any subtree appearing in an inclusion or consistency proof is either perfect (one read) or the
  right-edge subtree, whose hash is folded from its own perfect decomposition. Proof generators plan
  every key first and fetch them with a single ``get_nodes`` call.

Proof *generators* raise ``ValueError`` on nonsensical arguments and ``MissingNodeError`` when the store
lacks a node they need (e.g. a size beyond the stored tree). Proof *verifiers* never raise: any bad or
malformed input yields ``False``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "InMemoryNodeStore",
    "MissingNodeError",
    "NodeKey",
    "NodeStore",
    "append_leaves",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
"""``(level, index)`` of a perfect subtree; see the module docstring."""

# Generous bound on proof length: a tree of 2**64 leaves needs at most 64 (consistency: 64) hashes.
# Anything longer is rejected before hashing, so hostile input cannot make the verifier loop for long.
_MAX_PROOF_LEN = 128

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH of a single entry (RFC 6962 §2.1): SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node (RFC 6962 §2.1): SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


class MissingNodeError(LookupError):
    """The node store lacks a node that a tree of the requested size must have."""


# --- storage -------------------------------------------------------------------------------------------


class NodeStore(Protocol):
    """Where perfect-subtree hashes live. Implementations return only the keys they hold."""

    def get_nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """Batched read: one round trip for all ``keys``; absent keys are simply missing from the result."""
        ...


class InMemoryNodeStore:
    """A NodeStore kept in memory: one ``bytearray`` per level (32 bytes per node), for tests and benches.

    Nodes must be written in order within a level (which is what ``append_leaves`` produces) and are
    immutable: rewriting a node with a different hash raises ``ValueError`` (after storing the nodes
    before it: a test double, not a transactional store).
    """

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    def get_nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        found: dict[NodeKey, bytes] = {}
        levels = self._levels
        for key in keys:
            level, index = key
            if 0 <= level < len(levels) and index >= 0:
                row = levels[level]
                start = index * HASH_SIZE
                if start + HASH_SIZE <= len(row):
                    found[key] = bytes(row[start : start + HASH_SIZE])
        return found

    def put_nodes(self, nodes: Mapping[NodeKey, bytes]) -> None:
        """Store nodes; each level must stay contiguous from index 0 (append_leaves guarantees it)."""
        for (level, index), digest in sorted(nodes.items()):
            if len(digest) != HASH_SIZE or level < 0 or index < 0:
                raise ValueError(f"bad node ({level}, {index})")
            while len(self._levels) <= level:
                self._levels.append(bytearray())
            row = self._levels[level]
            count = len(row) // HASH_SIZE
            if index == count:
                row += digest
            elif index < count:
                if row[index * HASH_SIZE : (index + 1) * HASH_SIZE] != digest:
                    raise ValueError(f"node ({level}, {index}) already stored with a different hash")
            else:
                raise ValueError(f"node ({level}, {index}) leaves a gap after index {count - 1}")

    @property
    def tree_size(self) -> int:
        """Number of stored leaves (level-0 nodes)."""
        return len(self._levels[0]) // HASH_SIZE if self._levels else 0

    def __len__(self) -> int:
        return sum(len(row) for row in self._levels) // HASH_SIZE


# --- tree shape helpers ----------------------------------------------------------------------------------


def _largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (RFC 6962 §2.1 split point); n must be >= 2."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_keys(start: int, end: int) -> list[NodeKey]:
    """Perfect subtrees covering leaves [start, end), left to right (largest first).

    Valid for any subtree of the RFC 6962 tree: there ``start`` is a multiple of a power of two that is
    at least ``end - start``, so every piece lines up with a stored node.
    """
    keys: list[NodeKey] = []
    size = end - start
    pos = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, pos >> level))
            pos += 1 << level
    return keys


def _fold(keys: Sequence[NodeKey], nodes: Mapping[NodeKey, bytes]) -> bytes:
    """MTH of a subtree from its perfect decomposition: combine right to left (RFC 6962 §2.1 recursion)."""
    try:
        digest = nodes[keys[-1]]
        for key in reversed(keys[:-1]):
            digest = node_hash(nodes[key], digest)
    except KeyError as exc:
        raise MissingNodeError(f"node {exc.args[0]} is not in the store") from None
    return digest


def _fetch(
    store: NodeStore,
    ranges: Sequence[tuple[int, int]],
) -> tuple[list[list[NodeKey]], dict[NodeKey, bytes]]:
    """Plan the perfect subtrees of every range, then read them all in one ``get_nodes`` call."""
    plans = [_range_keys(start, end) for start, end in ranges]
    wanted = list(dict.fromkeys(key for plan in plans for key in plan))
    nodes = store.get_nodes(wanted) if wanted else {}
    return plans, nodes


def _check_size(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative ({value})")


# --- building ------------------------------------------------------------------------------------------


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Reference MTH (RFC 6962 §2.1) of a whole list of leaf hashes, recomputing everything.

    Level by level: pair neighbours, and carry an unpaired last node up unchanged. That yields exactly the
    RFC tree, whose split point k is the largest power of two below n. O(n) hashes, no recursion.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def append_leaves(
    tree_size: int,
    leaf_hashes: Sequence[bytes],
    store: NodeStore,
) -> tuple[dict[NodeKey, bytes], int]:
    """Nodes to store after appending ``leaf_hashes`` to a tree of ``tree_size`` leaves.

    Returns ``(new_nodes, new_size)``: the new leaves plus every perfect subtree they complete. Reads
    (in one batch) only the stored left siblings needed, i.e. the perfect decomposition of ``tree_size``;
    cost O(batch + log n). Nothing is written: the caller stores ``new_nodes`` (in the same transaction as
    its entries).
    """
    _check_size("tree_size", tree_size)
    for digest in leaf_hashes:
        if not isinstance(digest, bytes | bytearray) or len(digest) != HASH_SIZE:
            raise ValueError("leaf hashes must be 32-byte SHA-256 digests")
    new_size = tree_size + len(leaf_hashes)
    if not leaf_hashes:
        return {}, new_size

    # Stored left siblings: at each level l-1 where tree_size has a 1 bit, the last complete node there
    # pairs with the first new node at that level, if that pair completes within new_size.
    wanted = [
        (level - 1, (tree_size >> (level - 1)) - 1)
        for level in range(1, new_size.bit_length())
        if tree_size >> (level - 1) & 1 and new_size >> level > tree_size >> level
    ]
    siblings = store.get_nodes(wanted) if wanted else {}
    missing = [key for key in wanted if key not in siblings]
    if missing:
        raise MissingNodeError(f"stored tree of size {tree_size} lacks nodes {missing}")

    new_nodes: dict[NodeKey, bytes] = {}
    row = [bytes(d) for d in leaf_hashes]  # new nodes of the current level, starting at index `first`
    first = tree_size
    level = 0
    while row:
        new_nodes.update(zip(((level, first + i) for i in range(len(row))), row, strict=True))
        if first & 1:  # first new node is a right child: its left sibling is stored
            row.insert(0, siblings[(level, first - 1)])
            first -= 1
        # A trailing unpaired node waits for a future append.
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        first >>= 1
        level += 1
    return new_nodes, new_size


# --- reading -------------------------------------------------------------------------------------------


def root_hash(tree_size: int, store: NodeStore) -> bytes:
    """MTH(D[0:tree_size]) (RFC 6962 §2.1) from at most log2(n) stored nodes; works for any past size."""
    _check_size("tree_size", tree_size)
    if tree_size == 0:
        return EMPTY_ROOT
    (keys,), nodes = _fetch(store, [(0, tree_size)])
    return _fold(keys, nodes)


def _inclusion_ranges(leaf_index: int, tree_size: int) -> list[tuple[int, int]]:
    """Leaf ranges of the subtrees in PATH(m, D[n]) (RFC 6962 §2.1.1), leaf to root."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if leaf_index < lo + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            ranges.append((lo + k, hi))
            hi = lo + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def inclusion_proof(leaf_index: int, tree_size: int, store: NodeStore) -> list[bytes]:
    """Audit path PATH(leaf_index, D[tree_size]) of RFC 6962 §2.1.1, leaf end first.

    One ``get_nodes`` call of O(log n) keys. ``ValueError`` unless 0 <= leaf_index < tree_size.
    """
    _check_size("leaf_index", leaf_index)
    _check_size("tree_size", tree_size)
    if leaf_index >= tree_size:
        raise ValueError(f"leaf_index {leaf_index} is not below tree_size {tree_size}")
    plans, nodes = _fetch(store, _inclusion_ranges(leaf_index, tree_size))
    return [_fold(keys, nodes) for keys in plans]


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges of the subtrees in PROOF(m, D[n]) (RFC 6962 §2.1.2), in proof order."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, new_size
    m = old_size  # always old_size - lo
    whole = True  # the SUBPROOF flag b: is [lo, lo + m) the old tree itself?
    while True:
        if m == hi - lo:
            # SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
            if not whole:
                ranges.append((lo, hi))
            break
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            ranges.append((lo + k, hi))
            hi = lo + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            ranges.append((lo, lo + k))
            lo += k
            m -= k
            whole = False
    ranges.reverse()
    return ranges


def consistency_proof(old_size: int, new_size: int, store: NodeStore) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 6962 §2.1.2: shows the old tree is a prefix of the new one.

    Empty when the sizes are equal. ``ValueError`` unless 0 < old_size <= new_size: the RFC defines proofs
    only for a non-empty old tree (an empty tree is trivially a prefix of every tree). One ``get_nodes``
    call of O(log n) keys. Callers bound ``new_size`` by their tree head (equal sizes read nothing).
    """
    _check_size("old_size", old_size)
    _check_size("new_size", new_size)
    if old_size == 0:
        raise ValueError("consistency proofs need old_size > 0 (RFC 6962 §2.1.2)")
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} is larger than new_size {new_size}")
    if old_size == new_size:
        return []
    plans, nodes = _fetch(store, _consistency_ranges(old_size, new_size))
    return [_fold(keys, nodes) for keys in plans]


# --- verification (never raises) -----------------------------------------------------------------------


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray | memoryview) and len(value) == HASH_SIZE


def _hashes(proof: object) -> list[bytes] | None:
    """The proof as a list of 32-byte hashes, or None when it is not one."""
    if isinstance(proof, str | bytes | bytearray | memoryview) or not isinstance(proof, Sequence):
        return None
    if len(proof) > _MAX_PROOF_LEN or not all(_is_hash(p) for p in proof):
        return None
    return [bytes(p) for p in proof]


def verify_inclusion(
    leaf_hash: bytes,
    leaf_index: int,
    tree_size: int,
    proof: Sequence[bytes],
    root: bytes,
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show ``leaf_hash`` at ``leaf_index`` in the tree with ``root``?

    Returns False, never raises, on any bad input (wrong types, hashes that are not 32 bytes,
    ``leaf_index >= tree_size``, proofs too short or too long).
    """
    try:
        if not (_is_hash(leaf_hash) and _is_hash(root) and _is_size(leaf_index) and _is_size(tree_size)):
            return False
        path = _hashes(proof)
        if path is None:
            return False
        # 1. leaf_index must be below tree_size.
        if leaf_index >= tree_size:
            return False
        # 2. fn = leaf_index, sn = tree_size - 1.  3. r = hash.
        fn, sn = leaf_index, tree_size - 1
        r = bytes(leaf_hash)
        # 4. For each p in the path:
        for p in path:
            if sn == 0:  # a. more proof than tree
                return False
            if fn & 1 or fn == sn:  # b. p is a left sibling
                r = node_hash(p, r)
                if not fn & 1:  # right edge: skip the levels where this node has no sibling
                    while fn and not fn & 1:
                        fn >>= 1
                        sn >>= 1
            else:  # p is a right sibling
                r = node_hash(r, p)
            fn >>= 1  # c.
            sn >>= 1
        # 5. The path must reach the root exactly, and match it.
        return sn == 0 and r == bytes(root)
    except Exception:  # the contract is a bool, whatever the input
        return False


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show tree (old_size, old_root) is a prefix of (new_size, new_root)?

    Edge cases: equal sizes need an empty proof and equal roots; ``old_size == 0`` is rejected (the RFC
    defines verification for 0 < first only; an empty tree needs no proof); ``old_size > new_size`` fails.
    Returns False, never raises, on any bad input.
    """
    try:
        if not (_is_size(old_size) and _is_size(new_size) and _is_hash(old_root) and _is_hash(new_root)):
            return False
        path = _hashes(proof)
        if path is None or old_size == 0 or old_size > new_size:
            return False
        first_hash, second_hash = bytes(old_root), bytes(new_root)
        if old_size == new_size:
            return not path and first_hash == second_hash
        # 1. An empty proof cannot prove 0 < first < second.
        if not path:
            return False
        # 2. When the old tree is a perfect subtree, its root is the proof's implicit first element.
        if old_size & (old_size - 1) == 0:
            path.insert(0, first_hash)
        # 3.
        fn, sn = old_size - 1, new_size - 1
        # 4. Skip the levels where the old tree's last node is a right child.
        while fn & 1:
            fn >>= 1
            sn >>= 1
        # 5.
        fr = sr = path[0]
        # 6.
        for c in path[1:]:
            if sn == 0:  # a.
                return False
            if fn & 1 or fn == sn:  # b. c is a left sibling for both trees
                fr = node_hash(c, fr)
                sr = node_hash(c, sr)
                if not fn & 1:
                    while fn and not fn & 1:
                        fn >>= 1
                        sn >>= 1
            else:  # c only extends the new tree
                sr = node_hash(sr, c)
            fn >>= 1
            sn >>= 1
        # 7.
        return sn == 0 and fr == first_hash and sr == second_hash
    except Exception:  # the contract is a bool, whatever the input
        return False
