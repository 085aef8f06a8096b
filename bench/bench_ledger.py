"""Evidence-log benchmark on a real database: batched and single appends, proof times at N entries.

    ./run bench ledger                       # SQLite (a fresh file), 1,000,000 entries
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test ./run bench ledger
    ./run bench ledger --entries 100000      # quicker

PostgreSQL runs use a scratch database (<name>_bench_ledger), created for the run and dropped after it.
Goals (issue #4): ≥ 10,000 appends/s batched, ≤ 5 ms per proof.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

from common import drop_scratch_database, percentile, setup_database, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--proofs", type=int, default=1000)
    args = parser.parse_args()

    engine = setup_database("ledger")
    setup_django()
    from jianguan.ledger import merkle, services
    from jianguan.ledger.models import LedgerEntry

    print(f"evidence-log benchmark on {engine}: {args.entries:,} entries, batches of {args.batch}")

    def item(i: int) -> services.Item:
        return services.Item("bench", "bench.record", str(i), {"n": i, "sha256": f"{i:064x}"})

    started = time.perf_counter()
    done = 0
    while done < args.entries:
        n = min(args.batch, args.entries - done)
        services.append_many([item(done + k) for k in range(n)], want_entries=False)
        done += n
        if done % (args.entries // 10 or 1) < args.batch:
            rate = done / (time.perf_counter() - started)
            print(f"  {done:>10,} appended  {rate:>10,.0f} appends/s", flush=True)
    batched_rate = args.entries / (time.perf_counter() - started)

    started = time.perf_counter()
    for k in range(args.singles):
        services.append("bench", "bench.single", str(k), {"k": k})
    single_rate = args.singles / (time.perf_counter() - started)
    size = services.tree_size()

    started = time.perf_counter()
    cp = services.sign_checkpoint()
    sign_ms = (time.perf_counter() - started) * 1000

    rng = random.Random(1)
    root = bytes.fromhex(cp.root_hash)
    inclusion_ms, consistency_ms = [], []
    for _ in range(args.proofs):
        index = rng.randrange(size)
        t0 = time.perf_counter()
        proof = services.inclusion_proof(index, size)
        inclusion_ms.append((time.perf_counter() - t0) * 1000)
        leaf = bytes.fromhex(LedgerEntry.objects.get(index=index).leaf_hash)
        if not merkle.verify_inclusion(leaf, index, size, proof, root):  # the figures count only if proofs hold
            sys.exit(f"inclusion proof for {index} did not verify")
        old = rng.randrange(1, size)
        t0 = time.perf_counter()
        services.consistency_proof(old, size)
        consistency_ms.append((time.perf_counter() - t0) * 1000)

    print()
    print(f"engine                     {engine}")
    print(f"tree size                  {size:,}")
    print(f"batched appends            {batched_rate:,.0f} /s   (goal ≥ 10,000)")
    print(f"single appends             {single_rate:,.0f} /s   (one transaction each)")
    print(f"sign checkpoint            {sign_ms:.1f} ms")
    incl_mean, incl_p99 = statistics.mean(inclusion_ms), percentile(inclusion_ms, 0.99)
    cons_mean, cons_p99 = statistics.mean(consistency_ms), percentile(consistency_ms, 0.99)
    print(f"inclusion proof            mean {incl_mean:.2f} ms  p99 {incl_p99:.2f} ms   (goal ≤ 5 ms)")
    print(f"consistency proof          mean {cons_mean:.2f} ms  p99 {cons_p99:.2f} ms")
    drop_scratch_database()


if __name__ == "__main__":
    main()
