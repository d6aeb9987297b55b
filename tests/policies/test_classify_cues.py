"""Complaint cues, Spanish, and spam evidence in the comment classifier (issue 12).

Every comment here was written for these tests, in the spirit of what people post under an
organisation's page; none is taken from the shared evaluation data.
"""

from __future__ import annotations

import pytest

from policies.classify import TAGS, Classification, classify, explain


def _tags(c: Classification) -> list[str]:
    return [r.split(":")[0] for r in c.reasons]


def _assert_protected_with(text: str, tag: str) -> Classification:
    c = classify(text)
    assert c.critical and c.excluded is None, (text, c.reasons)
    assert tag in _tags(c), (text, c.reasons)
    return c


@pytest.mark.parametrize(
    "text",
    [
        "The card reader at the library stopped working again",
        "my thermostat won't connect to the app since the update",
        "Can't log in to the parking portal, it just spins",
        "The upload page throws an error every time",
        "your online form keeps crashing on the last step",
        "street lights are out on the whole block",
        "we have no water on Elm Street since this morning",
        "Having the same issue with the recycling pickup app",
        "tried everything in the guide, the kiosk still will not print",
    ],
)
def test_broken_product_or_service_is_a_problem(text: str) -> None:
    """Something broken or failing is protected with a 'problem:' reason."""
    _assert_protected_with(text, "problem")


@pytest.mark.parametrize(
    "text",
    [
        "I never received the permit you said you mailed",
        "My replacement bin hasn't arrived yet",
        "the parcel from your shop is missing, tracking stopped a week ago",
        "where's my order",
        "the 7:15 shuttle never came this morning",
    ],
)
def test_non_delivery_is_recognised(text: str) -> None:
    """Something that never arrived is protected with a 'delivery:' reason."""
    _assert_protected_with(text, "delivery")


@pytest.mark.parametrize(
    "text",
    [
        "been on hold with the permits office for forty minutes",
        "Three weeks and still no call back from anyone",
        "No response to my email from last month",
        "It's been two weeks since I reported the pothole",
        "Nobody from the office has replied to my letter",
        "the road repair has not been fixed despite the notice",
    ],
)
def test_waiting_is_recognised(text: str) -> None:
    """Being kept waiting is protected with a 'waiting:' reason."""
    _assert_protected_with(text, "waiting")


@pytest.mark.parametrize(
    "text",
    [
        "Help please, the gate code is not accepted",
        "please help, the form rejected my application twice",
        "Can someone get back to me about my booking",
        "I sent you a DM about the fee, please check it",
        "Any updates on the pool repairs",
        "I want a refund for the class that was dropped",
    ],
)
def test_requests_for_help_or_contact_are_recognised(text: str) -> None:
    """Asking for help, contact or action is protected with a 'help:' reason."""
    _assert_protected_with(text, "help")


@pytest.mark.parametrize(
    "text",
    [
        "how come the bins were skipped again",
        "why are you closing the only pool in town",
        "there is no timetable for the new route, why so",
        "what gives, the office was shut at 2pm",
    ],
)
def test_rhetorical_questions_without_question_mark(text: str) -> None:
    """'how come', 'why so', 'what gives' are questions even without '?'."""
    _assert_protected_with(text, "question")


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for ruining the only free weekend I had",
        "Great service!!! Third time the form lost my details",
        "Thanks for not telling anyone about the closure",
        "so much for the new and improved website #epicfail",
    ],
)
def test_sarcasm_is_a_complaint(text: str) -> None:
    """Sarcastic thanks and praise next to a failure are complaints."""
    _assert_protected_with(text, "complaint")


@pytest.mark.parametrize(
    "text",
    [
        "I reset it like the FAQ says. It was working fine on Monday",
        "the shuttle was supposed to run every 20 minutes",
        "You promised the hall would be ready by May",
        "The booking site used to work, now it doesn't",
        "I'm not coming to these meetings anymore",
    ],
)
def test_negated_expectations_are_recognised(text: str) -> None:
    """'was working before', 'supposed to', 'promised' are protected as 'expectation:'."""
    _assert_protected_with(text, "expectation")


@pytest.mark.parametrize(
    "text",
    [
        "why do you keep moving the bus stop without notice",
        "you charged me for a permit I never got",
        "You people ignored every email I sent",
        "your app is useless since the redesign",
    ],
)
def test_second_person_blame_is_recognised(text: str) -> None:
    """Blaming the organisation directly is protected with a 'blame:' reason."""
    _assert_protected_with(text, "blame")


@pytest.mark.parametrize(
    "text",
    [
        "I was overcharged for the parking permit",
        "this new fee is a rip-off",
        "Still waiting for the refund you promised in March",
    ],
)
def test_money_disputes_are_recognised(text: str) -> None:
    """Charges, refunds and scams are protected with a 'money:' reason."""
    _assert_protected_with(text, "money")


# --- Spanish ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("La página para pagar el agua no funciona", "problem"),
        ("Desde ayer estamos sin luz en la colonia", "problem"),
        ("Llamo a la oficina y nadie contesta", "waiting"),
        ("Sigo esperando la respuesta a mi solicitud", "waiting"),
        ("Todavía no arreglan el semáforo de la esquina", "waiting"),
        ("Mi paquete nunca llegó", "delivery"),
        ("necesito ayuda con el trámite, por favor", "help"),
        ("Antes funcionaba la app, ya no funciona", "expectation"),
        ("Me cobraron dos veces la multa", "money"),
        ("Ustedes nunca contestan los correos", "blame"),
        ("Qué pésimo servicio", "complaint"),
    ],
)
def test_spanish_complaint_cues(text: str, tag: str) -> None:
    """Spanish complaint cues are recognised without VADER (which is English-only)."""
    _assert_protected_with(text, tag)


@pytest.mark.parametrize(
    "text",
    [
        "¿A qué hora abre la biblioteca?",
        "Cuándo abren la alberca",
        "alguien sabe si hay estacionamiento",
        "me pueden decir dónde es la reunión",
        "Por qué cerraron el parque",
    ],
)
def test_spanish_questions_with_and_without_marks(text: str) -> None:
    """Spanish questions are recognised from '¿…?' and from their wording."""
    _assert_protected_with(text, "question")


@pytest.mark.parametrize(
    "text",
    [
        "¡Qué bonito quedó el parque! Gracias",
        "Gracias por su ayuda, todo perfecto",
        "Nos vemos el sábado",
        "No puedo esperar al festival",
        "Me encanta porque siempre hay música",
        "Todavía me acuerdo del desfile del año pasado",
    ],
)
def test_spanish_praise_is_not_critical(text: str) -> None:
    """Spanish thanks and praise, including 'porque' and 'todavía' alone, are not critical."""
    assert not classify(text).critical, classify(text).reasons


# --- Things the new cues must not catch -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for keeping us posted!",
        "You made my day",
        "Keep me posted about the next one",
        "Bring bug spray, the trail is lovely",
        "Can't thank you enough for this",
        "Sorry, can't make it this time, have fun!",
        "That's why I love this town",
        "It's been a wonderful week, thank you all",
        "No problem at all, see you there",
        "The latest issue of the newsletter is great",
        "Got my refund quickly, thanks",
        "Thanks for the breakfast this morning!",
    ],
)
def test_praise_and_neutral_comments_stay_unprotected(text: str) -> None:
    """Everyday praise and small talk that share words with complaint cues are not critical."""
    c = classify(text)
    assert not c.critical, c.reasons


# --- Exclusions need spam evidence ------------------------------------------------------------


def test_long_complaint_mentioning_followers_is_protected() -> None:
    """An account-recovery plea that mentions followers and 'DM me' is a complaint, not spam."""
    text = (
        "Someone took over my account last night and changed the email. I had built up about "
        "8k followers over ten years for our bakery and the recovery form keeps sending me "
        "back to the start. Please help, DM me if you need proof it's mine."
    )
    c = classify(text)
    assert c.critical and c.excluded is None, c.reasons
    assert "help" in _tags(c)


def test_short_complaint_saying_dm_me_is_protected() -> None:
    """'dm me' alone is one word of spam evidence, not spam."""
    c = classify("can you dm me about why my permit got cancelled")
    assert c.critical and c.excluded is None


def test_complaint_with_a_photo_link_is_protected() -> None:
    """A screenshot link next to a promotional-sounding word is not spam."""
    c = classify("The free shuttle never came, here is the board pic.twitter.com/abc123")
    assert c.critical and c.excluded is None


@pytest.mark.parametrize(
    "text",
    [
        "Get 10k real followers in a day, DM me for prices",
        "Win a free cruise! Click https://prizes.example/claim",
        "Check out my page for daily deals https://deals.example",
    ],
)
def test_real_spam_is_still_excluded(text: str) -> None:
    """Promotional patterns together with links or other patterns are still spam."""
    c = classify(text)
    assert c.excluded == "spam" and not c.critical
    assert c.reasons[0].startswith("spam: ") and " + " in c.reasons[0]


def test_spam_is_excluded_even_when_it_mimics_a_complaint() -> None:
    """Spam evidence wins over complaint cues: a spammer's 'help' is still spam."""
    c = classify("Help! I was scammed until I found this bitcoin trick https://coins.example")
    assert c.excluded == "spam" and not c.critical


def test_repetition_across_posts_is_spam_evidence() -> None:
    """The same text on other posts counts as evidence, but never as spam on its own."""
    text = "Grow your page with real followers"
    assert classify(text, copies_elsewhere=3).excluded == "spam"
    assert classify(text).excluded is None
    assert classify("Still no water on Elm Street", copies_elsewhere=5).excluded is None


# --- Denials and mild negativity (general cues, not phrases) ------------------------------------


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("The newsletter never mentioned the parking fee", "never"),
        ("We got there and the gate was not open", "not"),
        ("Nunca mandaron la confirmación", "Nunca"),
        ("Nadie avisó del cambio de sala", "Nadie"),
    ],
)
def test_a_plain_denial_in_a_flat_tone_is_protected_and_quoted(text: str, word: str) -> None:
    """People complain by saying what did not happen; no complaint word is needed."""
    c = classify(text)
    assert c.critical, c.reasons
    assert any(r.startswith("denial:") and f"'{word}'" in r for r in c.reasons), c.reasons


@pytest.mark.parametrize(
    "text",
    [
        "No worries, see you Thursday",
        "Can't wait!",
        "Don't forget your umbrella",
        "Not bad at all, thanks",
        "Can't thank you enough for this",
        "Never mind, found it",
        "You guys never disappoint",
        "I wouldn't miss it",
    ],
)
def test_friendly_formulas_that_negate_nothing_are_not_denials(text: str) -> None:
    """ "Can't wait" and "no worries" negate nothing; VADER's flip of "thank" does not count."""
    c = classify(text)
    assert not c.critical, c.reasons


def test_a_friendly_negation_next_to_a_real_one_still_counts() -> None:
    c = classify("No worries about the mix-up, but the gate was not open")
    assert any(r.startswith("denial:") and "'not'" in r for r in c.reasons), c.reasons


def test_mildly_negative_sentiment_counts_at_vaders_own_threshold() -> None:
    """VADER calls compound <= -0.05 negative; the first release waited for -0.3."""
    c = classify("The stage was hard to see from the back")
    assert c.critical
    assert c.reasons == ("complaint: negative sentiment (VADER compound -0.10)",)


def test_a_denial_in_a_warm_comment_is_not_a_complaint() -> None:
    """Above the tone gate the negation is friendly: "not a single empty seat, well done!"."""
    assert not classify("Not a single empty seat, amazing work everyone!").critical


# --- Explainability ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "the kiosk stopped working",
        "my order never arrived",
        "been on hold for an hour",
        "please help",
        "it was working fine last week",
        "you charged me twice",
        "I was overcharged",
        "how come it closed early",
    ],
)
def test_every_new_reason_has_a_stable_tag_explain_describes(text: str) -> None:
    """Each reason starts with a known tag and quotes the words (or the sentiment score it read);
    explain() says what it means."""
    c = classify(text)
    out = explain(c)
    for reason in c.reasons:
        tag = reason.split(":")[0]
        assert tag in TAGS, reason
        assert "'" in reason or "VADER compound" in reason, reason
        assert f"  - {reason}" in out
        assert f"  {tag}: the comment {TAGS[tag]}" in out
