"""Accuracy and speed of caremgr's sentiment engine beside plain TextBlob.

For each labelled set found under ``../shared/data`` (airline tweets; GermEval 2017 dev
and test_dia, plus their Twitter-only subsets) it prints accuracy and macro-F1 over
negative/neutral/positive for

* the engine: ``sentiment.analyze`` with language detection, fixed thresholds;
* plain TextBlob (``TextBlob(text).sentiment.polarity``) with the neutral band that is
  best *for that set*, searched over a grid of symmetric and asymmetric thresholds.  That
  is an optimistic baseline, on purpose: the engine's thresholds are not tuned per set.

Then single-core throughput (messages/s) of both on the same texts.  Sets whose file is
absent are skipped with a message.

    .venv/bin/python bench/sentiment_eval.py [--data DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LABELS = ("negative", "neutral", "positive")
DEFAULT_DATA = ROOT.parent / "shared" / "data"

Dataset = tuple[list[str], list[str]]


def load_airline(data: Path) -> Dataset | None:
    path = data / "airline-sentiment" / "Tweets.csv"
    if not path.exists():
        return None
    texts, labels = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            texts.append(row["text"])
            labels.append(row["airline_sentiment"])
    return texts, labels


def load_germeval(path: Path, twitter_only: bool = False) -> Dataset | None:
    """TSV without header: url, text, relevance, sentiment, aspects (one document a line)."""
    if not path.exists():
        return None
    texts, labels = [], []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 4 or fields[3] not in LABELS:
                continue
            if twitter_only and "twitter.com" not in fields[0]:
                continue
            texts.append(fields[1])
            labels.append(fields[3])
    return texts, labels


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    scores = []
    for label in LABELS:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    return sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / len(gold) if gold else 0.0


def band(polarities: Sequence[float], negative_below: float, positive_above: float) -> list[str]:
    return [
        "negative" if p < negative_below else "positive" if p > positive_above else "neutral"
        for p in polarities
    ]


def best_band(polarities: Sequence[float], gold: Sequence[str]) -> tuple[float, float, float]:
    """Best (macro-F1, negative_below, positive_above) over a grid of neutral bands."""
    grid = [round(x * 0.025, 3) for x in range(0, 21)]  # 0 .. 0.5
    best = (-1.0, 0.0, 0.0)
    for low in grid:
        for high in grid:
            f1 = macro_f1(gold, band(polarities, -low if low else -1e-9, high))
            if f1 > best[0]:
                best = (f1, -low, high)
    return best


def throughput(
    fn: Callable[[str], object], texts: Sequence[str], label: str
) -> tuple[float, float]:
    """(messages per wall-clock second, messages per CPU second of this process).

    The CPU figure is what one core can do when nothing else competes for it; the wall
    figure is what this run got, lower on a busy machine.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    for text in tqdm(texts, desc=f"  speed {label}", leave=False, mininterval=0.5):
        fn(text)
    return len(texts) / (time.perf_counter() - wall), len(texts) / (time.process_time() - cpu)


def evaluate(name: str, dataset: Dataset, limit: int | None) -> None:
    from textblob import TextBlob

    from sentiment import analyze

    texts, gold = dataset
    if limit:
        texts, gold = texts[:limit], gold[:limit]
    counts = {label: gold.count(label) for label in LABELS}
    print(f"\n== {name}: {len(texts)} texts {counts}")

    engine = [analyze(t) for t in tqdm(texts, desc="  engine", leave=False, mininterval=0.5)]
    pred = [s.label for s in engine]
    languages: dict[str, int] = {}
    for s in engine:
        languages[s.language] = languages.get(s.language, 0) + 1
    top = sorted(languages.items(), key=lambda kv: -kv[1])[:4]
    print(
        f"  caremgr engine          acc {accuracy(gold, pred):.3f}  macro-F1 "
        f"{macro_f1(gold, pred):.3f}   (languages: {', '.join(f'{k} {v}' for k, v in top)})"
    )

    plain = [
        TextBlob(t).sentiment.polarity
        for t in tqdm(texts, desc="  textblob", leave=False, mininterval=0.5)
    ]
    zero = band(plain, -1e-9, 0.0)
    print(
        f"  TextBlob, band 0        acc {accuracy(gold, zero):.3f}  macro-F1 "
        f"{macro_f1(gold, zero):.3f}"
    )
    f1, low, high = best_band(plain, gold)
    best = band(plain, low if low else -1e-9, high)
    print(
        f"  TextBlob, best band     acc {accuracy(gold, best):.3f}  macro-F1 {f1:.3f}"
        f"   (negative < {low:+.3f}, positive > {high:+.3f})"
    )


def speed(texts: Sequence[str]) -> None:
    from textblob import TextBlob

    from sentiment import analyze

    print(f"\n== throughput, one core, {len(texts)} texts (airline tweets)")
    analyze("warm up the detector and lexicons")
    _ = TextBlob("warm up").sentiment
    for name, fn in (
        ("caremgr engine (with language detection)", analyze),
        ("plain TextBlob", lambda t: TextBlob(t).sentiment),
    ):
        wall, cpu = throughput(fn, texts, name.split()[0])
        print(f"  {name:42s} {wall:7,.0f} msgs/s wall   {cpu:7,.0f} msgs/s per CPU second")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  (load average during the run: {load:.1f} on {os.cpu_count()} CPUs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--limit", type=int, default=None, help="use the first N rows only")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    germeval = args.data / "germeval2017"
    sets: list[tuple[str, Callable[[], Dataset | None]]] = [
        ("airline (Tweets.csv)", lambda: load_airline(args.data)),
        ("GermEval 2017 dev", lambda: load_germeval(germeval / "dev_v1.4.tsv")),
        ("GermEval 2017 dev, Twitter only", lambda: load_germeval(germeval / "dev_v1.4.tsv", True)),
        ("GermEval 2017 test_dia", lambda: load_germeval(germeval / "test_dia.tsv")),
        (
            "GermEval 2017 test_dia, Twitter only",
            lambda: load_germeval(germeval / "test_dia.tsv", True),
        ),
    ]
    speed_texts: list[str] | None = None
    for name, loader in sets:
        dataset = loader()
        if dataset is None:
            print(f"\n== {name}: file not found under {args.data}, skipped")
            continue
        evaluate(name, dataset, args.limit)
        if speed_texts is None and name.startswith("airline"):
            speed_texts = dataset[0][: args.limit] if args.limit else dataset[0]
    if speed_texts:
        speed(speed_texts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
