"""The engine needs no NLTK corpora: it must work on a machine where none were downloaded.

TextBlob's default analyzer is data-free, but ``.words``, ``.tags`` or NaiveBayesAnalyzer
would ask NLTK for corpora.  Run ``analyze`` in a fresh interpreter with ``NLTK_DATA``
pointing at an empty folder and every NLTK resource look-up turned into an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import json
    import nltk.data

    calls = []

    def refuse(resource, *args, **kwargs):
        calls.append(str(resource))
        raise LookupError(f"NLTK resource requested: {resource}")

    nltk.data.find = refuse
    nltk.data.load = refuse

    from sentiment import analyze

    results = [
        analyze("flight cancelled, rebooked for tomorrow"),
        analyze("Danke, super Service!"),
        analyze("Thank you so much, great service! :)"),
        analyze("Der Zug fällt schon wieder aus"),
    ]
    print(json.dumps({"labels": [r.label for r in results],
                      "languages": [r.language for r in results],
                      "nltk_calls": calls}))
    """
)


def test_analyze_works_without_nltk_data(tmp_path: Path) -> None:
    empty = tmp_path / "nltk_data"
    empty.mkdir()
    env = {
        **os.environ,
        "NLTK_DATA": str(empty),
        "HOME": str(tmp_path),  # no ~/nltk_data either
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["nltk_calls"] == []
    assert result["labels"] == ["negative", "positive", "positive", "negative"]
    assert result["languages"][1] == "de"
