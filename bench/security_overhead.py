"""What the security layer adds to one webhook request: decrypting the account's three
credentials when its row is loaded, and one rate-limit count in the cache (local memory,
and Redis when REDIS_URL is set). Prints microseconds per operation.

    .venv/bin/python bench/security_overhead.py [--rounds 20000]
    REDIS_URL=redis://127.0.0.1:6379/11 .venv/bin/python bench/security_overhead.py
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caremgr.settings")


def per_call_us(label: str, fn, rounds: int, repeats: int = 5) -> float:
    """Median over repeats of the mean time per call, in microseconds."""
    samples = []
    for _ in tqdm(range(repeats), desc=label, leave=False):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        samples.append((time.perf_counter() - start) / rounds * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from inbox.models import Account
    from security import rate_limit
    from security.encryption import decrypt, encrypt

    stored = [encrypt("x" * 40), encrypt("y" * 24), encrypt("z" * 200)]
    field = Account._meta.get_field("secret")
    rows = [
        ("encrypt one credential", lambda: encrypt("x" * 40)),
        ("decrypt one credential", lambda: decrypt(stored[0])),
        (
            "load an account's 3 credentials",
            lambda: [field.from_db_value(v, None, None) for v in stored],
        ),
    ]
    backend = "Redis" if settings.REDIS_URL else "local memory"
    rate = (10**9, 60)
    rows.append(
        (f"rate-limit count, {backend}", lambda: rate_limit.hit("bench", "account-1", rate))
    )

    print(f"{'operation':36} {'µs/op':>8}   (median of 5 × {args.rounds} calls)")
    for label, fn in rows:
        rounds = args.rounds if "Redis" not in label else max(args.rounds // 10, 100)
        print(f"{label:36} {per_call_us(label, fn, rounds):8.1f}")
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
