"""The offline provider's pt-BR sentiment rules, and their accuracy on the labelled sets.

uv run python tests/unit/assistant/test_sentiment.py     # accuracy, per-class figures and every mistake
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shared.assistant.models import Sentiment
from shared.assistant.offline.sentiment import read_sentiment

DATA = Path(__file__).parents[2] / "data"
TUNING, HELD_OUT = "labelled_sentiment.yaml", "labelled_sentiment_held_out.yaml"
# Each set and a floor a little under the rules' accuracy on it now (0.937 on 237 tuned-on messages, 0.867 on 45
# held out), so a change that loses ground fails. The held-out figure is the honest one (see the sets' headers).
FLOORS = {TUNING: 0.93, HELD_OUT: 0.85}


def labelled(name: str) -> list[dict]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


LABELS = ("positive", "neutral", "negative")


def accuracy(messages: list[dict]) -> float:
    return sum(read_sentiment(m["text"]).sentiment.value == m["sentiment"] for m in messages) / len(messages)


def test_the_labelled_sets_are_large_and_varied_enough_to_mean_something():
    every = [message for name in FLOORS for message in labelled(name)]
    for name in FLOORS:
        counts = {label: sum(m["sentiment"] == label for m in labelled(name)) for label in LABELS}
        assert min(counts.values()) >= 10, (name, counts)
    assert len(labelled(TUNING)) >= 200 and len(labelled(HELD_OUT)) >= 40
    assert len({m["text"].casefold() for m in every}) == len(every)  # no message twice, within a set or across


@pytest.mark.parametrize("name", FLOORS)
def test_accuracy_on_each_labelled_set_does_not_fall(name):
    assert accuracy(labelled(name)) >= FLOORS[name]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gostei do atendimento", Sentiment.POSITIVE),
        ("não gostei do atendimento", Sentiment.NEGATIVE),  # a negation flips
        ("nada bom esse horário", Sentiment.NEGATIVE),
        ("nada a reclamar da equipe", Sentiment.POSITIVE),  # a negated complaint is praise
        ("sem dor nenhuma depois da aplicação", Sentiment.NEUTRAL),  # a negated distress is none
        ("que demora pra me responderem", Sentiment.NEGATIVE),
        ("que absurdo isso", Sentiment.NEGATIVE),
        ("obrigada, foi ótimo", Sentiment.POSITIVE),
        ("que maravilha", Sentiment.POSITIVE),
        ("qual o valor do clareamento?", Sentiment.NEUTRAL),
        ("bom dia, tudo bem? vocês abrem sábado?", Sentiment.NEUTRAL),  # greetings count for nothing
        ("oi, qual o endereço? obrigada", Sentiment.NEUTRAL),  # thanks around a question are courtesy
        ("😡😡", Sentiment.NEGATIVE),
        ("😍", Sentiment.POSITIVE),
        ("foi bom, mas a espera foi péssima", Sentiment.NEGATIVE),  # what follows "mas" weighs more
    ],
)
def test_the_rules_read_pt_br(text, expected):
    assert read_sentiment(text).sentiment is expected


def test_intensifiers_softeners_and_shouting_move_the_score_the_way_they_should():
    plain, strong, soft = (read_sentiment(t).score for t in ("fiquei chateada", "fiquei muito chateada",
                                                             "fiquei um pouco chateada"))  # fmt: skip
    assert strong < plain < soft < 0
    assert read_sentiment("ESTOU MUITO CHATEADA!!!").score < read_sentiment("estou muito chateada").score
    assert read_sentiment("gostei demais").score > read_sentiment("gostei").score > 0


def test_scores_stay_in_range_and_agree_with_the_label():
    for message in (message for name in FLOORS for message in labelled(name)):
        reading = read_sentiment(message["text"])
        assert -1 <= reading.score <= 1
        expected = {Sentiment.POSITIVE: reading.score >= 0.2, Sentiment.NEGATIVE: reading.score <= -0.2}
        assert expected.get(reading.sentiment, -0.2 < reading.score < 0.2)


def _report(name: str) -> None:
    messages = labelled(name)
    readings = [read_sentiment(m["text"]) for m in messages]
    print(f"\nsentiment accuracy: {accuracy(messages):.3f} on {len(messages)} messages ({name})")
    print(f"  {'label':<10}{'precision':>10}{'recall':>8}{'support':>9}")
    for label in LABELS:
        predicted = [r.sentiment.value == label for r in readings]
        actual = [m["sentiment"] == label for m in messages]
        hits = sum(p and a for p, a in zip(predicted, actual, strict=True))
        print(f"  {label:<10}{hits / max(1, sum(predicted)):>10.3f}{hits / sum(actual):>8.3f}{sum(actual):>9}")
    print("\n  mistakes: expected -> got (score)")
    for message, reading in zip(messages, readings, strict=True):
        if reading.sentiment.value != message["sentiment"]:
            expected, got = message["sentiment"], reading.sentiment.value
            print(f"    {expected:>8} -> {got:<8} ({reading.score:+.3f}) {message['text']}")


if __name__ == "__main__":
    for set_name in FLOORS:
        _report(set_name)
    print()
    for set_name, floor in FLOORS.items():
        print(f"{set_name}: accuracy {accuracy(labelled(set_name)):.3f}, floor {floor:.2f}")
