"""The Merkle tree core against the published RFC 6962 vectors, a literal RFC reference, and properties."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jianguan.ledger.merkle import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    MissingNodeError,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# --- Published test vectors ---------------------------------------------------------------------------------
# The 8-entry tree used across the Certificate Transparency code bases: the C++ merkle_tree_test.cc, from
# which google/certificate-transparency-go merkletree/merkle_verifier_test.go took them, and
# transparency-dev/merkle testonly/constants.go + testonly/reference_test.go (node hashes, proofs).

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]

# ROOTS[n] = MTH of the first n entries.
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]

# Every perfect subtree of the 8-entry tree, keyed (level, index) exactly like our store.
NODE_HASHES = {
    (0, 0): "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    (0, 1): "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    (0, 2): "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    (0, 3): "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    (0, 4): "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    (0, 5): "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    (0, 6): "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    (0, 7): "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    (1, 0): "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    (1, 1): "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    (1, 2): "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    (1, 3): "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    (2, 0): "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    (2, 1): "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    (3, 0): "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

# (leaf index, tree size, audit path)
INCLUSION_VECTORS = [
    (0, 1, []),
    (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

# (old size, new size, consistency proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def hexes(values: Iterable[bytes]) -> list[str]:
    return [v.hex() for v in values]


def build(hashes: list[bytes], batches: Iterable[int] | None = None) -> InMemoryNodeStore:
    """Store for ``hashes``, appended in batches of the given sizes (one batch by default)."""
    store = InMemoryNodeStore()
    size = 0
    sizes = list(batches) if batches is not None else [len(hashes)]
    assert sum(sizes) == len(hashes)
    for count in sizes:
        nodes, size = append_leaves(size, hashes[size : size + count], store)
        store.put_nodes(nodes)
    assert store.tree_size == len(hashes)
    return store


VECTOR_HASHES = [leaf_hash(d) for d in LEAF_INPUTS]
VECTOR_STORE = build(VECTOR_HASHES)


# --- A literal transcription of the RFC 6962 §2.1 definitions, recursion and all (small trees only) ---------


def ref_mth(hashes: list[bytes]) -> bytes:
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(ref_mth(hashes[:k]), ref_mth(hashes[k:]))


def ref_path(m: int, hashes: list[bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, hashes[:k]), ref_mth(hashes[k:])]
    return [*ref_path(m - k, hashes[k:]), ref_mth(hashes[:k])]


def ref_subproof(m: int, hashes: list[bytes], b: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if b else [ref_mth(hashes)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, hashes[:k], b), ref_mth(hashes[k:])]
    return [*ref_subproof(m - k, hashes[k:], False), ref_mth(hashes[:k])]


def ref_proof(m: int, hashes: list[bytes]) -> list[bytes]:
    return ref_subproof(m, hashes, True)


# --- hashing and the published vectors ----------------------------------------------------------------------


def test_hash_primitives():
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == ROOTS[0]
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert root_hash(0, InMemoryNodeStore()) == EMPTY_ROOT


@pytest.mark.parametrize("size", range(9))
def test_published_roots(size):
    assert root_from_leaf_hashes(VECTOR_HASHES[:size]) == ROOTS[size]
    assert ref_mth(VECTOR_HASHES[:size]) == ROOTS[size]
    # From the full store (an older tree size) and from a store of exactly this size.
    assert root_hash(size, VECTOR_STORE) == ROOTS[size]
    assert root_hash(size, build(VECTOR_HASHES[:size])) == ROOTS[size]


@pytest.mark.parametrize("batches", [[8], [1] * 8, [3, 5], [1, 2, 5], [5, 1, 1, 1], [2, 0, 6]])
def test_published_node_hashes(batches):
    store = build(VECTOR_HASHES, batches)
    assert len(store) == len(NODE_HASHES)
    got = store.get_nodes(NODE_HASHES)
    assert {key: value.hex() for key, value in got.items()} == NODE_HASHES


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS)
def test_published_inclusion_proofs(index, size, expected):
    proof = inclusion_proof(index, size, VECTOR_STORE)
    assert hexes(proof) == expected
    assert verify_inclusion(VECTOR_HASHES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY_VECTORS)
def test_published_consistency_proofs(old, new, expected):
    proof = consistency_proof(old, new, VECTOR_STORE)
    assert hexes(proof) == expected
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


def inclusion_mutations(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):
    """Argument tuples that must all fail to verify (the mutations the CT verifier tests apply)."""
    yield leaf, index - 1, size, proof, root
    yield leaf, index + 1, size, proof, root
    yield leaf, index ^ 2, size, proof, root
    yield leaf, index, size * 2, proof, root
    yield leaf, index, size // 2, proof, root
    yield leaf_hash(b"WrongLeaf"), index, size, proof, root
    yield leaf, index, size, proof, EMPTY_ROOT
    for i in range(len(proof)):
        yield leaf, index, size, [*proof[:i], EMPTY_ROOT, *proof[i + 1 :]], root
    yield leaf, index, size, [*proof, b""], root
    yield leaf, index, size, [*proof, root], root
    if proof:
        yield leaf, index, size, proof[:-1], root
    yield leaf, index, size, [b"", *proof], root
    yield leaf, index, size, [root, *proof], root


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS)
def test_published_inclusion_proofs_reject_mutations(index, size, expected):
    proof = [bytes.fromhex(h) for h in expected]
    for args in inclusion_mutations(index, size, proof, ROOTS[size], VECTOR_HASHES[index]):
        assert not verify_inclusion(*args), args


@pytest.mark.parametrize(("old", "new", "expected"), [v for v in CONSISTENCY_VECTORS if v[2]])
def test_published_consistency_proofs_reject_mutations(old, new, expected):
    proof = [bytes.fromhex(h) for h in expected]
    r1, r2 = ROOTS[old], ROOTS[new]
    bad = [
        (old - 1, new, r1, r2, proof),
        (old + 1, new, r1, r2, proof),
        (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof),
        (old, new // 2, r1, r2, proof),
        (old, new, EMPTY_ROOT, r2, proof),
        (old, new, r1, EMPTY_ROOT, proof),
        (old, new, r2, r1, proof),
        (old, new, r1, r2, []),
        (old, new, r1, r2, [*proof, b""]),
        (old, new, r1, r2, [*proof, r1]),
        (old, new, r1, r2, proof[:-1]),
        (old, new, r1, r2, [b"", *proof]),
        (old, new, r1, r2, [proof[0], *proof]),
    ]
    bad += [(old, new, r1, r2, [*proof[:i], EMPTY_ROOT, *proof[i + 1 :]]) for i in range(len(proof))]
    for args in bad:
        assert not verify_consistency(*args), args


def test_consistency_edge_cases():
    r1, r8 = ROOTS[1], ROOTS[8]
    # Equal sizes: empty proof and equal roots, nothing else.
    assert verify_consistency(1, 1, r1, r1, [])
    assert verify_consistency(8, 8, r8, r8, [])
    assert not verify_consistency(1, 1, r1, r8, [])
    assert not verify_consistency(1, 1, r1, r1, [r1])
    # The RFC defines verification for 0 < first only.
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, r8, [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, r8, [EMPTY_ROOT])
    # Time travel, and an empty proof between different sizes.
    assert not verify_consistency(8, 1, r8, r1, [])
    assert not verify_consistency(2, 1, ROOTS[2], r1, [r1])
    assert not verify_consistency(1, 2, r1, ROOTS[2], [])


def test_inclusion_edge_cases():
    leaf = VECTOR_HASHES[0]
    assert verify_inclusion(leaf, 0, 1, [], ROOTS[1])
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, 1, 1, [], ROOTS[1])
    assert not verify_inclusion(leaf, 2, 1, [], ROOTS[1])
    assert not verify_inclusion(leaf, 0, 1, [], EMPTY_ROOT)


@pytest.mark.parametrize(
    "args",
    [
        (None, 0, 1, [], ROOTS[1]),
        ("6e34", 0, 1, [], ROOTS[1]),
        (VECTOR_HASHES[0], -1, 1, [], ROOTS[1]),
        (VECTOR_HASHES[0], True, 2, [VECTOR_HASHES[1]], ROOTS[2]),
        (VECTOR_HASHES[0], 0.0, 1, [], ROOTS[1]),
        (VECTOR_HASHES[0], 0, "1", [], ROOTS[1]),
        (VECTOR_HASHES[0], 0, 1, None, ROOTS[1]),
        (VECTOR_HASHES[0], 0, 1, b"", ROOTS[1]),
        (VECTOR_HASHES[0], 0, 1, [], ROOTS[1][:31]),
        (VECTOR_HASHES[0], 0, 2, [VECTOR_HASHES[1].hex()], ROOTS[2]),
        (VECTOR_HASHES[0], 0, 2, iter([VECTOR_HASHES[1]]), ROOTS[2]),
        (VECTOR_HASHES[0], 0, 2**80, [EMPTY_ROOT] * 1000, ROOTS[2]),
    ],
)
def test_verifiers_return_false_on_garbage(args):
    assert verify_inclusion(*args) is False
    leaf, index, size, proof, root = args
    assert verify_consistency(index, size, leaf, root, proof) is False


def test_generators_reject_nonsense():
    for args in [(-1, 8), (8, 8), (9, 8), (0, 0), (0, -1), (True, 8)]:
        with pytest.raises(ValueError):
            inclusion_proof(*args, VECTOR_STORE)
    for args in [(0, 8), (0, 0), (-1, 8), (5, 4), (2, -1)]:
        with pytest.raises(ValueError):
            consistency_proof(*args, VECTOR_STORE)
    with pytest.raises(ValueError):
        root_hash(-1, VECTOR_STORE)
    with pytest.raises(ValueError):
        append_leaves(-1, [EMPTY_ROOT], InMemoryNodeStore())
    with pytest.raises(ValueError):
        append_leaves(0, [b"short"], InMemoryNodeStore())
    assert consistency_proof(5, 5, VECTOR_STORE) == []


def test_missing_nodes_are_reported():
    with pytest.raises(MissingNodeError):
        root_hash(9, VECTOR_STORE)
    with pytest.raises(MissingNodeError):
        inclusion_proof(0, 12, VECTOR_STORE)
    with pytest.raises(MissingNodeError):
        consistency_proof(3, 10, VECTOR_STORE)
    with pytest.raises(MissingNodeError):  # appending to a tree the store does not hold
        append_leaves(3, [EMPTY_ROOT], InMemoryNodeStore())


def test_in_memory_store_is_append_only():
    store = build(VECTOR_HASHES[:3])
    store.put_nodes({(0, 2): VECTOR_HASHES[2]})  # rewriting the same value is harmless
    with pytest.raises(ValueError):
        store.put_nodes({(0, 2): VECTOR_HASHES[3]})
    with pytest.raises(ValueError):
        store.put_nodes({(0, 5): VECTOR_HASHES[5]})
    assert store.get_nodes([(0, 3), (5, 0), (-1, 0), (0, -1)]) == {}


class CountingStore:
    """Wraps a store and records each get_nodes call's keys."""

    def __init__(self, inner: InMemoryNodeStore) -> None:
        self.inner = inner
        self.calls: list[list[tuple[int, int]]] = []

    def get_nodes(self, keys):
        keys = list(keys)
        self.calls.append(keys)
        return self.inner.get_nodes(keys)


def test_reads_are_batched_and_logarithmic():
    n = 1000
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    store = CountingStore(build(hashes))
    depth = (n - 1).bit_length()
    for index in (0, 1, 500, 767, 998, 999):
        store.calls.clear()
        inclusion_proof(index, n, store)
        assert len(store.calls) == 1 and len(store.calls[0]) <= 2 * depth
    for old in (1, 3, 512, 513, 777, 999):
        store.calls.clear()
        consistency_proof(old, n, store)
        assert len(store.calls) == 1 and len(store.calls[0]) <= 2 * depth
    store.calls.clear()
    root_hash(n, store)
    assert store.calls == [[(9, 0), (8, 2), (7, 6), (6, 14), (5, 30), (3, 124)]]  # 1000 = 0b1111101000
    store.calls.clear()
    append_leaves(n, [EMPTY_ROOT] * 24, store)
    assert len(store.calls) == 1 and len(store.calls[0]) <= depth


def test_every_proof_of_small_trees_matches_the_rfc_definitions():
    n_max = 40
    hashes = [leaf_hash(bytes([i])) for i in range(n_max)]
    store = build(hashes, [1] * n_max)
    roots = [ref_mth(hashes[:n]) for n in range(n_max + 1)]
    for n in range(1, n_max + 1):
        assert root_hash(n, store) == roots[n]
        for m in range(n):
            proof = inclusion_proof(m, n, store)
            assert proof == ref_path(m, hashes[:n])
            assert verify_inclusion(hashes[m], m, n, proof, roots[n])
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, store)
            assert proof == ref_proof(m, hashes[:n])
            assert verify_consistency(m, n, roots[m], roots[n], proof)


def test_proofs_bind_the_tree_size_only_through_the_root():
    """Known RFC 9162 property, kept visible: a proof checks a tree *shape*, and trees of sizes 5 and 6 give
    leaf 0 the same shape of path. So (size 6, root of size 5) verifies; the signed checkpoint, which binds
    size to root, is what pins the size. With the root that really belongs to size 6 it fails."""
    proof = inclusion_proof(0, 5, VECTOR_STORE)
    assert verify_inclusion(VECTOR_HASHES[0], 0, 6, proof, ROOTS[5])
    assert not verify_inclusion(VECTOR_HASHES[0], 0, 6, proof, ROOTS[6])


# --- properties ---------------------------------------------------------------------------------------------


def tree_hashes(seed: bytes, size: int) -> list[bytes]:
    return [leaf_hash(seed + i.to_bytes(4, "big")) for i in range(size)]


@st.composite
def trees(draw, max_size: int = 300):
    """(leaf hashes, batch sizes) for a random tree of 1..max_size leaves with random contents."""
    size = draw(st.integers(1, max_size))
    seed = draw(st.binary(max_size=8))
    batches: list[int] = []
    left = size
    while left:
        batch = draw(st.integers(1, left))
        batches.append(batch)
        left -= batch
    return tree_hashes(seed, size), batches


def flip(value: bytes, bit: int) -> bytes:
    raw = bytearray(value)
    raw[(bit // 8) % len(raw)] ^= 1 << (bit % 8)
    return bytes(raw)


@settings(max_examples=40, deadline=None)
@given(trees())
def test_stored_root_equals_reference_for_every_prefix(tree):
    hashes, batches = tree
    store = build(hashes, batches)
    for size in range(len(hashes) + 1):
        assert root_hash(size, store) == root_from_leaf_hashes(hashes[:size])


@settings(max_examples=60, deadline=None)
@given(trees())
def test_batched_appends_equal_single_appends(tree):
    hashes, batches = tree
    batched, single = build(hashes, batches), build(hashes, [1] * len(hashes))
    keys = [(level, i) for level in range(len(hashes).bit_length()) for i in range(len(hashes) >> level)]
    assert len(batched) == len(single) == len(keys)
    assert batched.get_nodes(keys) == single.get_nodes(keys)


@settings(max_examples=200, deadline=None)
@given(trees(), st.data())
def test_inclusion_proofs_verify_and_resist_tampering(tree, data):
    hashes, batches = tree
    store = build(hashes, batches)
    size = data.draw(st.integers(1, len(hashes)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root = root_hash(size, store)
    proof = inclusion_proof(index, size, store)
    assert verify_inclusion(hashes[index], index, size, proof, root)

    bit = data.draw(st.integers(0, 255), label="bit")
    assert not verify_inclusion(leaf_hash(b"other" + hashes[index]), index, size, proof, root)
    assert not verify_inclusion(hashes[index], index, size, proof, flip(root, bit))
    if proof:
        step = data.draw(st.integers(0, len(proof) - 1), label="step")
        tampered = [*proof[:step], flip(proof[step], bit), *proof[step + 1 :]]
        assert not verify_inclusion(hashes[index], index, size, tampered, root)
        assert not verify_inclusion(hashes[index], index, size, proof[:-1], root)
    assert not verify_inclusion(hashes[index], index, size, [*proof, root], root)
    if size > 1:
        other_index = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other_index")
        assert not verify_inclusion(hashes[index], other_index, size, proof, root)
    # Size: a different size with its own root never verifies; nor does one with a different tree depth.
    other_size = data.draw(st.integers(1, len(hashes) + 300).filter(lambda s: s != size), label="other_size")
    if other_size <= len(hashes):
        assert not verify_inclusion(hashes[index], index, other_size, proof, root_hash(other_size, store))
    if (other_size - 1).bit_length() != (size - 1).bit_length():
        assert not verify_inclusion(hashes[index], index, other_size, proof, root)
    assert not verify_inclusion(hashes[index], index, size * 2, proof, root)


@settings(max_examples=200, deadline=None)
@given(trees(), st.data())
def test_consistency_proofs_verify_and_resist_tampering(tree, data):
    hashes, batches = tree
    store = build(hashes, batches)
    new = data.draw(st.integers(1, len(hashes)), label="new")
    old = data.draw(st.integers(1, new), label="old")
    old_root, new_root = root_hash(old, store), root_hash(new, store)
    proof = consistency_proof(old, new, store)
    assert verify_consistency(old, new, old_root, new_root, proof)

    bit = data.draw(st.integers(0, 255), label="bit")
    assert not verify_consistency(old, new, flip(old_root, bit), new_root, proof)
    assert not verify_consistency(old, new, old_root, flip(new_root, bit), proof)
    if proof:
        step = data.draw(st.integers(0, len(proof) - 1), label="step")
        tampered = [*proof[:step], flip(proof[step], bit), *proof[step + 1 :]]
        assert not verify_consistency(old, new, old_root, new_root, tampered)
        assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    # A changed leaf anywhere in the old tree changes its root: the proof no longer links the two.
    changed = data.draw(st.integers(0, old - 1), label="changed")
    forged = hashes[:old]
    forged[changed] = leaf_hash(b"forged")
    assert not verify_consistency(old, new, root_from_leaf_hashes(forged), new_root, proof)
    # Sizes: another old size never verifies; another new size fails with its own root.
    other_old = data.draw(st.integers(1, len(hashes)).filter(lambda s: s != old), label="other_old")
    assert not verify_consistency(other_old, new, old_root, new_root, proof)
    other_new = data.draw(st.integers(1, len(hashes)).filter(lambda s: s != new), label="other_new")
    assert not verify_consistency(old, other_new, old_root, root_hash(other_new, store), proof)
    assert not verify_consistency(old, new * 2, old_root, new_root, proof)
