"""General complaint patterns of the classifier's second pass (issue 12, generalisation).

Each case names the words the reason must quote, so the test pins the pattern that fired, not
only the tag. Every comment was written for these tests (English and Spanish); none is taken
from the shared evaluation data.
"""

from __future__ import annotations

import pytest

from policies.classify import TAGS, classify, explain


def _reason(text: str, tag: str) -> str:
    c = classify(text)
    assert c.critical and c.excluded is None, (text, c.reasons)
    found = [r for r in c.reasons if r.startswith(tag + ":") and "'" in r]
    assert found, (text, c.reasons)
    return found[0]


CASES = [
    # danger: hazards, injuries, contamination
    (
        "danger",
        "Found a piece of plastic in my salad from the downtown branch",
        "found a piece of plastic in",
    ),
    ("danger", "the lid edge cut my daughter finger when she opened it", "cut my daughter finger"),
    ("danger", "That crossing by the school is an accident waiting to happen", "accident waiting"),
    ("danger", "Había un pelo en la sopa del comedor municipal", "un pelo en"),
    ("danger", "la rampa de la biblioteca es peligrosa para las sillas de ruedas", "peligrosa"),
    # unavailable: sold out, discontinued, no longer offered
    ("unavailable", "Every store near me is out of the blue recycling bags", "is out of the"),
    ("unavailable", "so you just stopped selling the weekly transit pass", "stopped selling"),
    ("unavailable", "the form for dog licences is no longer available on the site", "no longer available"),
    ("unavailable", "los pases de temporada ya están agotados desde el martes", "agotados"),
    # repeat: the same failure again
    ("repeat", "The sprinkler floods the sidewalk every single time it runs", "every single time"),
    ("repeat", "Third time this month the gym doors were locked at opening", "Third time this"),
    ("repeat", "La alarma del edificio sonó otra vez toda la noche", "otra vez"),
    # waiting: a state that has lasted, or effort someone was made to spend
    ("waiting", "The traffic light at 5th has been blinking red since Tuesday", "since Tuesday"),
    ("waiting", "By the time the form loaded the office had closed", "By the time the form"),
    ("waiting", "I had to phone the permit desk and explain everything from scratch", "I had to phone"),
    ("waiting", "el semáforo de la esquina está apagado desde anoche", "desde anoche"),
    ("waiting", "tuve que volver a la oficina con los mismos papeles", "tuve que volver"),
    # help: a demand addressed to the organisation
    ("help", "Just fix the sign at the trailhead, it points the wrong way", "Just fix the"),
    ("help", "You guys need to train the front desk on the new rules", "You guys need to"),
    ("help", "arreglen el portal de pagos de una vez", "arreglen"),
    ("help", "ustedes deberían explicar por escrito los nuevos horarios", "deberían explicar"),
    # blame: distrust, and thanks for a failure
    ("blame", "I don't believe that for a second, the council knew in May", "don't believe that"),
    ("blame", "Missed the hearing thanks to the portal not sending the reminder", "thanks to the portal not"),
    ("blame", "Eso que dicen del presupuesto son puras mentiras", "mentiras"),
    # money: paying for what was not delivered, taxes
    ("money", "We pay taxes for a library that is closed half the week", "We pay taxes"),
    ("money", "pagamos nuestros impuestos y la calle sigue igual", "pagamos nuestros impuestos"),
    # complaint: a plain negative judgement VADER reads as neutral
    ("complaint", "Closing the pool with one hour of notice is not cool", "not cool"),
    # problem: physical defects, things missing, "nice, but …"
    ("problem", "the new bench is pretty flimsy for a bus stop", "pretty flimsy"),
    ("problem", "There is no mention of the fee waiver anywhere on that page", "no mention of"),
    ("problem", "the new schedule isn't showing in the app", "isn't showing"),
    ("problem", "The park looks great but the fountain is still dry and full of leaves", "great but"),
    ("problem", "el uniforme nuevo es bonito pero la tela pica muchísimo", "bonito pero"),
]


@pytest.mark.parametrize(("tag", "text", "quote"), CASES)
def test_general_complaint_patterns_quote_their_words(tag: str, text: str, quote: str) -> None:
    """Each second-pass pattern protects its comment and quotes the words that matched."""
    assert quote.lower() in _reason(text, tag).lower()


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for the quick fix on the library wifi, works great now",
        "We will pick it up at the front desk on Friday",
        "Been a member since 2009 and loving the new pool",
        "Lovely concert, see you all again next summer",
        "Gracias por el concierto, nos vemos el próximo año",
        "You should come to the lantern walk, it is beautiful",
    ],
)
def test_ordinary_friendly_comments_stay_unprotected(text: str) -> None:
    """Friendly comments that share words with the patterns (pick up, since, again) are not protected."""
    c = classify(text)
    assert not c.critical, c.reasons


def test_new_tags_are_explained() -> None:
    """explain() says what the danger, unavailable and repeat tags mean."""
    for tag in ("danger", "unavailable", "repeat"):
        assert tag in TAGS
    text = explain(classify("Found a bug in my soup, third time this month"))
    assert "danger: the comment reports a safety risk" in text
    assert "repeat: the comment says the same failure happened again" in text
