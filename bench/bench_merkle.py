"""Benchmark of the evidence log's Merkle core (pure Python, no Django, in-memory node store).

    .venv/bin/python bench/bench_merkle.py [--leaves 1000000] [--batch 1000] [--singles 20000] [--proofs 1000]

Builds a tree of --leaves leaves by batched appends, then appends --singles leaves one at a time on top,
then times random inclusion and consistency proofs (and their verification) at tree size --leaves, an
older size of the now larger tree, as the log serves them. Checks the stored root against a full
recomputation. Takes about a minute on a 2-core machine at the defaults.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

# Imported after the path set-up above: the bench runs from a checkout, without installing the package.
from jianguan.ledger import merkle


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def timed_ms(samples: list[float]) -> str:
    mean, p99, worst = statistics.fmean(samples), percentile(samples, 99), max(samples)
    return f"mean {mean:.3f} ms, p99 {p99:.3f} ms, max {worst:.3f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=20_000)
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=6962)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    n = args.leaves
    python = sys.version.split()[0]
    print(f"Python {python}; tree of {n:,} leaves, batch {args.batch}, {args.singles:,} single appends")

    t0 = time.perf_counter()
    hashes = [merkle.leaf_hash(b"entry %d" % i) for i in range(n + args.singles)]
    t_leaf = time.perf_counter() - t0
    print(f"leaf hashing:        {len(hashes) / t_leaf:12,.0f} leaves/s")

    store = merkle.InMemoryNodeStore()
    size = 0
    t0 = time.perf_counter()
    for start in range(0, n, args.batch):
        nodes, size = merkle.append_leaves(size, hashes[start : min(start + args.batch, n)], store)
        store.put_nodes(nodes)
    t_batch = time.perf_counter() - t0
    rate = n / t_batch
    print(f"batched appends:     {rate:12,.0f} appends/s  ({t_batch:.2f} s for {n:,}; {len(store):,} nodes)")

    t0 = time.perf_counter()
    for i in range(n, n + args.singles):
        nodes, size = merkle.append_leaves(size, [hashes[i]], store)
        store.put_nodes(nodes)
    t_single = time.perf_counter() - t0
    print(f"single appends:      {args.singles / t_single:12,.0f} appends/s  (at {n:,}..{size:,} leaves)")

    t0 = time.perf_counter()
    root = merkle.root_hash(n, store)
    t_root = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    reference = merkle.root_from_leaf_hashes(hashes[:n])
    t_ref = time.perf_counter() - t0
    assert root == reference, "stored root differs from the recomputed one"
    print(f"root_hash({n:,}):   {t_root:.3f} ms (full recomputation for the check: {t_ref:.2f} s, equal)")

    gen: list[float] = []
    ver: list[float] = []
    for index in (rng.randrange(n) for _ in range(args.proofs)):
        t0 = time.perf_counter()
        proof = merkle.inclusion_proof(index, n, store)
        t1 = time.perf_counter()
        ok = merkle.verify_inclusion(hashes[index], index, n, proof, root)
        t2 = time.perf_counter()
        assert ok, index
        gen.append((t1 - t0) * 1000)
        ver.append((t2 - t1) * 1000)
    print(f"inclusion proof:     {timed_ms(gen)}")
    print(f"  verification:      {timed_ms(ver)}")

    gen, ver = [], []
    roots: dict[int, bytes] = {}
    for old in (rng.randrange(1, n) for _ in range(args.proofs)):
        roots.setdefault(old, merkle.root_hash(old, store))
        t0 = time.perf_counter()
        proof = merkle.consistency_proof(old, n, store)
        t1 = time.perf_counter()
        ok = merkle.verify_consistency(old, n, roots[old], root, proof)
        t2 = time.perf_counter()
        assert ok, old
        gen.append((t1 - t0) * 1000)
        ver.append((t2 - t1) * 1000)
    print(f"consistency proof:   {timed_ms(gen)}")
    print(f"  verification:      {timed_ms(ver)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
