"""How well the offline provider understands patients: intent and urgency on the labelled set, and how fast.

    uv run python tests/bench/bench_offline_accuracy.py [--data tests/data/labelled_messages.yaml]

Prints the combined classifier's accuracy, each intent's precision, recall and support, every mistake, the
urgency detector's precision and recall, how often a confident answer is right, and milliseconds per message
(one `classify` call each, after the model is loaded). Two baselines run on the same messages in the same run:
the keyword rules alone and the embedding model alone, so the gain of combining them shows.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from shared.assistant.offline.classifier import Classification, IntentClassifier
from shared.assistant.schemas import Intent

LABELLED = Path(__file__).parents[1] / "data" / "labelled_messages.yaml"
NOT_SURE = 0.55  # below this confidence the classifier means "not sure"


def timed_one_by_one(classifier: IntentClassifier, texts: list[str]) -> tuple[list[Classification], list[float]]:
    found, milliseconds = [], []
    for text in texts:
        started = time.perf_counter()
        found.append(classifier.classify(text))
        milliseconds.append((time.perf_counter() - started) * 1000)
    return found, milliseconds


def accuracy(found: list[Classification], labels: list[str]) -> float:
    return sum(f.intent.value == label for f, label in zip(found, labels, strict=True)) / len(labels)


def print_per_intent(found: list[Classification], labels: list[str]) -> None:
    print(f"\n  {'intent':<16}{'precision':>10}{'recall':>8}{'support':>9}")
    for intent in Intent:
        predicted = [f.intent is intent for f in found]
        actual = [label == intent.value for label in labels]
        hits = sum(p and a for p, a in zip(predicted, actual, strict=True))
        precision = hits / sum(predicted) if any(predicted) else float("nan")
        print(f"  {intent.value:<16}{precision:>10.3f}{hits / sum(actual):>8.3f}{sum(actual):>9}")


def print_mistakes(found: list[Classification], messages: list[dict]) -> None:
    mistakes = [(m, f) for m, f in zip(messages, found, strict=True) if f.intent.value != m["intent"]]
    print(f"\n  mistakes ({len(mistakes)}): expected -> got (confidence)")
    for message, f in sorted(mistakes, key=lambda pair: (pair[0]["intent"], pair[1].intent.value)):
        print(f"    {message['intent']:>14} -> {f.intent.value:<14} ({f.confidence:.2f}) {message['text']}")


def print_urgency(found: list[Classification], messages: list[dict]) -> None:
    flagged, urgent = [f.is_urgent for f in found], [m["urgent"] for m in messages]
    hits = sum(f and u for f, u in zip(flagged, urgent, strict=True))
    print(f"\n  urgency: precision {hits / max(1, sum(flagged)):.3f}, recall {hits / max(1, sum(urgent)):.3f} "
          f"({sum(urgent)} urgent, {sum(flagged)} flagged)")  # fmt: skip
    for message, f in zip(messages, found, strict=True):
        if f.is_urgent != message["urgent"]:
            kind = "missed" if message["urgent"] else f"false alarm ({f.urgency_reason})"
            print(f"    {kind}: {message['text']}")


def print_confidence(found: list[Classification], labels: list[str]) -> None:
    for name, keep in (("confident", lambda c: c >= NOT_SURE), ("not sure", lambda c: c < NOT_SURE)):
        chosen = [(f, label) for f, label in zip(found, labels, strict=True) if keep(f.confidence)]
        right = sum(f.intent.value == label for f, label in chosen)
        print(f"  {name:>9} (confidence {'>=' if name == 'confident' else '<'} {NOT_SURE}): {len(chosen):4} messages, "
              f"{right / max(1, len(chosen)):.3f} right")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=LABELLED)
    messages = yaml.safe_load(parser.parse_args().data.read_text(encoding="utf-8"))
    texts, labels = [m["text"] for m in messages], [m["intent"] for m in messages]

    classifier = IntentClassifier()
    started = time.perf_counter()
    classifier.classify("oi, quanto custa?")
    print(f"offline classifier on {len(messages)} labelled messages (model load and fit: "
          f"{time.perf_counter() - started:.1f} s)")  # fmt: skip
    found, milliseconds = timed_one_by_one(classifier, texts)
    keywords_only = IntentClassifier(use_examples=False).classify_many(texts)
    examples_only = IntentClassifier(use_keywords=False).classify_many(texts)

    print(f"\n  intent accuracy: combined {accuracy(found, labels):.3f}; baselines: keyword rules alone "
          f"{accuracy(keywords_only, labels):.3f}, embeddings alone {accuracy(examples_only, labels):.3f}")  # fmt: skip
    print_confidence(found, labels)
    print_per_intent(found, labels)
    print_mistakes(found, messages)
    print_urgency(found, messages)
    quantiles = statistics.quantiles(milliseconds, n=20)
    print(f"\n  ms per message (classify, one at a time): p50 {statistics.median(milliseconds):.1f}, "
          f"p95 {quantiles[18]:.1f}, max {max(milliseconds):.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
