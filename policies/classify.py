"""Decide whether a comment is *critical*: one staff should answer publicly, not delete or hide.

A critical comment asks a question, shows confusion or alarm, complains (VADER-negative, an
explicit complaint phrase, sarcasm), denies something in a tone that is not warm, reports a
problem, a missing delivery or a long wait, asks for help, says something fell short of what
was promised, blames the organisation, disputes money, or mentions a word the correction
changed. Spam, links-only comments and abuse are *excluded*: they are never protected, whatever
else they say. Spam needs two pieces of spam evidence (a promotional pattern, a non-media link,
a promotional word next to a link, the same text on other posts): one word such as "followers"
in a complaint is not enough.

The classifier returns reasons, not a score, because staff (and `comment-guard explain`) must
be able to see *why* a comment is protected. Each reason starts with a stable tag so other code
can group them: "question:", "confusion:", "complaint:", "problem:", "delivery:", "waiting:",
"help:", "expectation:", "blame:", "money:", "denial:", "mentions changed word", "posted while the wrong
version was live", and for exclusions "spam:", "links-only:", "abuse:". `TAGS` says what each
tag means; `explain` prints it.

Languages: question marks of many scripts, question words of several languages and the
phrase-based cues (problem, delivery, waiting, help, expectation, blame, money, complaint) work
in English and Spanish. VADER sentiment and the all-caps and sarcasm cues are English only.

Everything here is pure: no I/O, no SQLite, no network. The only state is a lazily created
VADER analyzer, cached at module level because building it parses a lexicon file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from policies.alternation import Locator, NeedleIndex, refers_back
from policies.verdict import Classification, ClassifyConfig

__all__ = ["TAGS", "Classification", "ClassifyConfig", "classify", "explain"]

# VADER's own documented threshold for "negative" (vaderSentiment README, "About the Scoring":
# compound <= -0.05). The first release used -0.3; on real complaints that missed mild ones
# ("a bit disappointing") without keeping any ordinary comment of the labelled set out.
NEGATIVE_COMPOUND = -0.05
# A denial ("not", "never", "didn't", "nobody") in a comment whose tone is below this is a
# complaint cue: people complain by saying what did not happen. Above it the negation is
# friendly ("not bad at all, thanks!").
DENIAL_TONE = 0.2
POSITIVE_COMPOUND = 0.4  # at or above this, caps/"!!!"/"changed" read as enthusiasm, not alarm


_I = re.IGNORECASE
_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|co|ly|me|gl|be|info|biz"
    r"|shop|app|gov|edu|example)\b(?:/\S*)?",
    _I,
)
_MENTION = re.compile(r"@\w+")
_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
_QUESTION_MARKS = (
    ("¿", "inverted '¿'"),
    ("？", "full-width '？'"),
    ("؟", "Arabic '؟'"),
    (" ?", "spaced '?'"),
    ("?", "'?'"),
)
_SUBJECT = (
    r"it|this|that|there|the|we|i|you|they|he|she|anyone|anybody|someone|somebody"
    r"|everyone|my|our|your|these|those|kids|children|dogs|parking|tickets"
)
_CLAUSE_START = r"(?:^|[.,;:!…]\s*|\b(?:so|wait|hi|hey|ok|okay|but|and|also|sorry|um)\s+)"
_QUESTION_START = re.compile(
    _CLAUSE_START + r"(?P<q>(?:is|are|was|were|do|does|did|can|could|will|would|should|has"
    r"|have)\s+(?:" + _SUBJECT + r")\b|(?:when|where|which|who|why|whose)\b"
    r"|how\s+(?:do|does|did|can|could|long|much|many|late|early|far|is|are|will|would|should"
    r"|about)\b|what(?:'s|’s|s\b|\s+(?:time|day|date|happened|is|are|was|were|about|do|does|did"
    r"|should|will|if)\b)|(?:wann|warum|wo|cuándo|dónde|quand|pourquoi|quando|dove|هل)\s)",
    _I,
)
_QUESTION_PHRASES = re.compile(
    r"does this mean|is this still|which day|what time|can (?:someone|anyone|you) confirm"
    r"|i thought it (?:was|is|said)|\bdo we\b|\bare we\b|anyone know|wondering (?:if|whether)"
    r"|not sure (?:if|whether)|please (?:confirm|clarify)|to know (?:if|whether)"
    r"|(?:love|like|want|need) to know|double.check|is there a way|\bor not\b"
    r"|[,\s](?:right|correct)\s*$|(?:吗|嗎|ですか|ますか)\s*$|\b(\w+) or no \1\b"
    r"|please tell me|\byou mean(?:t)?\b",
    _I,
)
_CONFUSION_PHRASES = re.compile(
    r"confus|\b(?:i'?m|i am|so|totally|completely) lost\b|\bhuh\b|\bhmm+\b|\bhang on\b"
    r"|\bhold (?:on|up)\b|\bi was told\b|\bit (?:said|says)\b|\bstill (?:says|shows|has|lists)\b"
    r"|\bold (?:date|time|day|address|venue|location|post|version)\b|\boriginal post\b"
    r"|\bdo(?:es)?n'?t match\b|\bdoes not match\b|\bwhat\?!"
    r"|\b(?:says?|said|shows?|showed|listed)\b[^.]*\bdifferent\b"
    r"|comprends (?:pas|plus|rien)|no entiendo|verstehe (?:nicht|das nicht)|わかりません|不明白"
    r"|看不懂",
    _I,
)
_WAIT = re.compile(r"\bwait\b", _I)
# "can't wait" is anticipation, "wait till you see" a promise: neither is alarm.
_NOT_WAIT = re.compile(
    r"\b(?:can'?t|can’t|cannot|can not|couldn'?t) wait\b|\bwait (?:for|to|till|until)\b", _I
)
# Talk about a change counts only when it is about the schedule or the post, not "my kids changed".
_CHANGE = r"\b(?:cancell?ed|moved|changed?|changes|changing|rescheduled|edit(?:ed|ing)?)\b"
_SCHEDULE = (
    r"\b(?:it|date|time|day|venue|location|place|address|room|meeting|event|post"
    r"|schedule|session|clinic|class|concert|show)\b"
)
_NEAR = r"\W+(?:\w+\W+){0,3}?"  # within four words
_CHANGE_WORDS = re.compile(rf"(?:{_SCHEDULE}{_NEAR}(?P<a>{_CHANGE})|(?P<b>{_CHANGE}){_NEAR}{_SCHEDULE})", _I)
_MIXED_PUNCT = re.compile(r"\?!|!\?|[?？]{2,}")
_BANGS = re.compile(r"!{2,}")
_SARCASM = re.compile(
    r"\byeah,? right\b|thanks for nothing|\bso much for\b|\bfor nothing\b|\breal smooth\b"
    r"|\boh,? (?:great|wonderful|perfect|fantastic|brilliant|lovely)\b|/s\s*$"
    r"|(?:…|\.\.\.|,)\s*(?-i:NOT)\b|[🙄🙃😒😑🤦]",
    _I,
)
_COMPLAINT_PHRASES = re.compile(
    r"you deleted|why did you delete|misleading|wrong (?:date|day|time|address|info)"
    r"|fix the post|unacceptable|not acceptable|disappointed|\bnot ok(?:ay)?\b|\bshame\b"
    r"|\b(?:delet|remov|hid)\w*\s+(?:my|our|comments?|questions?|the comment)"
    r"|silently|quietly|without (?:telling|saying|notice|a note|any note)"
    r"|\b(?:nobody|no one) told\b"
    r"|\bno apology\b|\byou owe\b|\bmissed (?:it|the)\b|\bmistake\b|\bwasted\b"
    r"|post a correction|vergüenza|honte|schande|inaceptable|inacceptable|borraron"
    r"|eliminaron|supprim|gelöscht|stimmt nicht|falsch|fausse?\b|faux\b|incorrect|equivocad"
    r"|错了|間違|\bstill waiting\b|\b(?:no|any) (?:answer|reply|response)\b"
    r"|\basked (?:\w+ )?(?:times|twice|again|already)\b|\bfor no reason\b"
    r"|\b(?:nobody|no one) (?:was|is|showed|answers|replies|responds|notices|noticed)\b"
    r"|\bcorrect (?:this|it|the post)\b|\bproofread",
    _I,
)
_CAPS_WORD = re.compile(r"\b[^\W\d_]{3,}\b")
# VADER is English-only; a few of its negative words are everyday words elsewhere ("die" is a
# German article, "sin" Spanish for "without"). Drop them when the text looks non-English.
_FALSE_FRIENDS = re.compile(r"\b(?:die|sin)\b", _I)
_FOREIGN_HINT = re.compile(
    r"\b(?:der|das|und|für|mit|ist|nicht|el|los|las|por|para|que|con|les|des|est|pour|avec)\b", _I
)

# --- Cues for what real complaints say (English and Spanish) --------------------------------
# Each cue is a phrase pattern; the reason quotes the words that matched, so staff can judge.
_APOS = r"[’']?"
_NEG = (
    rf"(?:(?:do|does|did|is|are|was|were|has|have|had|could|would)(?:n{_APOS}t|\s+not)"
    rf"|won{_APOS}t|wont|can{_APOS}t|cant|cannot|can\s+not|dont|doesnt|didnt|isnt|wasnt"
    r"|hasnt|havent|not|never|no\s+longer|unable\s+to|not\s+able\s+to|fail(?:s|ed)?\s+to"
    r"|stopped|stops|refuses?\s+to|refused\s+to)"
)
# denial: a negation word (English and Spanish). The friendly formulas that negate nothing
# ("can't wait", "no worries", "don't forget", "not bad", "no problem") are not denials.
_DENIAL = re.compile(
    rf"\b(?:(?:do|does|did|is|are|was|were|has|have|had|could|would|should|must|ai|wo|ca)n{_APOS}t"
    r"|dont|doesnt|didnt|isnt|arent|wasnt|werent|hasnt|havent|hadnt|couldnt|wouldnt|shouldnt|wont"
    r"|cant|cannot|not|never|nobody|nothing|none|nowhere|no(?:\s+one|body)?|neither|nor|without"
    r"|nunca|nadie|nada|ning[uú]n[oa]?|tampoco|sin)\b",
    _I,
)
_FRIENDLY_DENIAL = re.compile(
    rf"\b(?:can{_APOS}t|cant|cannot|couldn{_APOS}t|could\s+not)\s+(?:wait\b|(?:thank|recommend|praise"
    r"|love)\s+(?:\w+\s+){0,3}?enough\b|(?:say|get)\s+enough\b|be\s+(?:happier|prouder|more\s+"
    r"(?:grateful|thankful|pleased|proud))\b|ask\s+for\s+(?:a\s+)?(?:better|more)\b)"
    r"|\bno\s+(?:worries|problem|probs?"
    rf"|doubt|wonder)\b|\bdon{_APOS}t\s+(?:forget|miss|worry)\b|\bnot\s+bad\b"
    rf"|\bnever\s+(?:mind|disappoints?)\b|\bwouldn{_APOS}t\s+miss\b",
    _I,
)
_FUNCTION = (
    r"(?:work(?:s|ed|ing)?|load(?:s|ed|ing)?|connect(?:s|ed|ing)?|charg(?:e|es|ed|ing)"
    r"|print(?:s|ed|ing)?|scan(?:s|ned|ning)?|turn(?:s|ed|ing)?\s+on|power(?:s|ed|ing)?"
    r"\s+(?:on|up)|boot(?:s|ed|ing)?|sync(?:s|ed|ing)?|install(?:s|ed|ing)?"
    r"|download(?:s|ed|ing)?|upload(?:s|ed|ing)?|log(?:s|ged|ging)?\s*in"
    r"|sign(?:s|ed|ing)?\s*in|activat(?:e|es|ed|ing)|stream(?:s|ed|ing)?"
    r"|respond(?:s|ed|ing)?|function(?:s|ed|ing)?|pair(?:s|ed|ing)?|sav(?:e|es|ed|ing)"
    r"|access(?:es|ed|ing)?|let(?:ting|s)?\s+(?:me|us)|allow(?:s|ed|ing)?\s+(?:me|us))"
)
# "can't wait", "can't thank you enough", "can't make it" are not problems.
_CANT = (
    rf"(?:can{_APOS}t|cant|cannot|can\s+not|couldn{_APOS}t|could\s+not|unable\s+to"
    r"|not\s+able\s+to)\s+(?:even\s+|seem\s+to\s+|get\s+(?:it\s+"
    r"|them\s+)?to\s+)?(?!(?:even\s+)?(?:wait|thank|stop"
    r"|recommend|complain|beat|miss|make\s+it|come"
    r"|attend|go\b|be\s+there|be\s+(?:happier|prouder|more|better)|join|agree|get\s+enough"
    r"|say\s+enough|believe|ask\s+for|have\s+done|tell\s+you\s+how|express|help\s+but))"
    r"[^\W\d_]{2,}"
)
# problem: something broken or failing ("stopped working", "can't log in", "no power", "error").
_PROBLEM = re.compile(
    rf"\b{_NEG}\s+(?:\w+\s+){{0,3}}?{_FUNCTION}\b|\b{_CANT}"
    r"|\bkeeps?\s+(?:on\s+)?(?:crash|fail|freez|drop|disconnect|restart|reset|reboot|telling"
    r"|saying|asking|logging|kicking|being|getting|showing|happening|cancel|sending|loading"
    r"|buffering|turning\s+off|shutting|going\s+(?:off|down|out))\w*"
    r"|\b(?:broken|faulty|defective|damaged|ripped|torn|cracked|smashed|malfunction\w*"
    r"|overheat\w*|crash(?:es|ed|ing)|froze|freez(?:es|ing)|stuck|glitch\w*|bugg?y|outage"
    r"|error|unusable|expired|stale)\b|\bbroke\b(?!\s+up)|\bleak(?:s|ing|ed)\b"
    r"|\b(?:a|the|this|that|found|major|annoying)\s+bugs?\b|\bbugs?\s+(?:in|with)\b"
    r"|\b(?:site|website|app|server|service|system|network|internet|wi-?fi|line|portal|it)\s+"
    r"(?:is\s+|was\s+|went\s+|has\s+been\s+|been\s+|still\s+|goes\s+|keeps\s+going\s+)+down\b"
    r"|\bdown\s+(?:since|again|all\s+(?:day|night|morning|week))\b"
    r"|\b(?:power|internet|wi-?fi|signal|service|network|electricity|water|heating|street\s*lights?"
    r"|traffic\s*lights?)"
    r"\s+(?:is\s+|are\s+|was\s+|were\s+|has\s+been\s+|went\s+|goes\s+|has\s+gone\s+|still\s+"
    r"|keeps\s+going\s+)?"
    r"(?:out|off|down)\b|\bno\s+(?:power|signal|service|internet|wi-?fi|network|connection"
    r"|connectivity|water|heat|hot\s+water|electricity|coverage|dial\s+tone|[345]g|lte|sound)\b"
    r"|\blost\s+(?:power|connection|signal|service|internet|all\s+my|my\s+(?:\w+\s+)?(?:data"
    r"|account|photos|files|money|progress|contacts|number))"
    r"|\b(?:an?|the|this|that|same|my|our|other|another|main|real|only|big|biggest|new|technical"
    r"|login|billing|network|connection|battery|display|screen|software|hardware|account|payment"
    r"|signal|\w+ing)\s+(?:issue|problem|fault)s?\b(?!\s+(?:was|is|has\s+been|got|now)\s+(?:solved"
    r"|resolved|fixed|sorted))"
    r"|(?<!\bno\s)(?<!\bnot\s)(?<!\bany\s)\b(?:issue|problem)s?\s+with\b"
    rf"|\b(?:don{_APOS}t|do\s+not|dont|haven{_APOS}t\s+got|without)\s+(?:have\s+)?(?:any\s+)?(?:power"
    r"|internet|wi-?fi|signal|service|water|electricity|heat|hot\s+water)\b"
    r"|\bnot\s+(?:being\s+)?allowed\s+to\b|\bimpossible\s+to\b|\bout\s+of\s+stock\b"
    r"|\b(?:does\s+not|doesn'?t|no\s+longer)\s+exist\b|\b(?:tried|trying|try)\s+(?:everything"
    r"|every\w+|again\s+and\s+again|multiple\s+times|several\s+times|\d+\s+times|for\s+(?:hours"
    r"|days|ages)|my\s+best)\b"
    r"|\b(?:was|were|is|are|came|arrived|served|got|tasted|looked)\s+(?:\w+\s+)?(?:cold|raw"
    r"|undercooked|overcooked|burnt|soggy|mouldy|moldy|rotten|spoiled|spoilt|tasteless|stale)\b"
    r"|\b(?:fell|falling|came|coming)\s+apart\b|\b(?:shrunk|shrank|faded|peeling)\b"
    r"|\b(?:poor|cheap|bad|low)\s+quality\b|\blocked\s+out\b|\b(?:account|card|number|line)\s+"
    r"(?:was\s+|has\s+been\s+|got\s+|is\s+)?(?:suspended|locked|blocked|frozen|disabled"
    r"|deactivated)\b|\bdropp(?:ed|ing)\s+(?:calls?|connection|out)\b|\b(?:stranded|overbooked)\b"
    r"|\bmissed\s+(?:my|our)\s+(?:connection|flight|train|bus|appointment)\b"
    r"|\bcancell?ed\s+(?:my|our)\s+(?:\w+\s+)?(?:flight|train|order|appointment|booking|reservation"
    r"|subscription|account|service|delivery)\b|\b(?:flight|train|order|appointment|booking"
    r"|reservation)\s+(?:was\s+|got\s+|has\s+been\s+|is\s+)cancell?ed\b"
    r"|\bhaving\s+(?:an?\s+|some\s+|the\s+|same\s+|a\s+lot\s+of\s+|lots\s+of\s+)?(?:issue|problem"
    r"|trouble)s?\b|\bevery\s*time\s+(?:i|we)\s+(?:try|open|click|log|go|use|call|turn)"
    # Spanish
    r"|\bno\s+(?:me\s+|nos\s+|le\s+|les\s+)?(?:funciona|funcionan|sirve|sirven|carga|conecta"
    r"|enciende|prende|abre|arranca|imprime|deja|dejan|anda|responde)\b"
    r"|\bno\s+(?:puedo|pude|podemos|pudimos)\s+(?!esperar|creer)\w+"
    r"|\bdej[oó]\s+de\s+(?:funcionar|servir|cargar|andar)|\bse\s+(?:cay[oó]|cae"
    r"|traba|trab[oó]|congel[aoó]|colg[oó]|apag[aoó])\b|\best[aá]\s+ca[ií]d[oa]"
    r"|\b(?:sin|no\s+hay)\s+(?:luz|servicio|internet|se[nñ]al|agua|conexi[oó]n|gas"
    r"|electricidad)\b|\bfall(?:a|an|ando|[oó])\b|\baveriad[oa]s?\b|\b(?:rot|da[nñ]ad"
    r"|defectuos)[oa]s?\b|\bproblemas?\s+con\b|\btengo\s+(?:un\s+)?problemas?\b"
    r"|\blleg[oó]\s+(?:fr[ií][oa]|mal|roto|rota|incomplet[oa]|tarde)\b",
    _I,
)
# delivery: something never arrived ("never received", "hasn't arrived", "where's my").
_DELIVERY = re.compile(
    r"\bnever\s+(?:\w+\s+)?(?:received|arrived|came|got|showed\s+up|turned\s+up|delivered"
    r"|shipped|gets?\s+to\s+me|reached)\b"
    rf"|\b(?:has|have|had|hasen|did|does|is|was|were)(?:n{_APOS}t|\s+not)\s+(?:yet\s+|even\s+"
    r"|still\s+)*(?:been\s+)?(?:received|arrived|arrive|come|came|delivered|deliver|shipped"
    r"|dispatched|showed\s+up|turned\s+up|reached|refunded)\b"
    r"|\bnot\s+(?:yet\s+)?(?:been\s+)?(?:received|arrived|delivered|shipped|dispatched)\b"
    r"|\b(?:still|yet)\s+to\s+(?:receive|arrive|be\s+delivered|be\s+shipped)\b"
    rf"|\b(?:didn{_APOS}t|did\s+not|never|haven{_APOS}t|have\s+not|hasn{_APOS}t|has\s+not|not"
    r"|didnt|havent|hasnt)\s+(?:\w+\s+)?(?:get|got|receive)\s+(?:my|our|the|a|an|any)\s+"
    r"(?:\w+\s+)?(?:order|package|parcel|delivery|refund|item|e-?mail|confirmation|code|card"
    r"|letter|reply|response|call|money|bill|statement|tickets?|product|replacement|invoice"
    r"|receipt|link|text|message|voucher)s?\b"
    rf"|\bwhere{_APOS}s\s+my\b|\bwhere\s+(?:is|are)\s+(?:my|our)\b"
    r"|\b(?:missing|lost|late|delayed|wrong|damaged)\s+(?:\w+\s+)?(?:package|parcel|order"
    r"|delivery|item|items|shipment|luggage|bag|baggage|mail|letter|card)s?\b"
    r"|\b(?:package|parcel|order|delivery|shipment|luggage|bag|mail|item)s?\s+(?:\w+\s+){0,3}?"
    r"(?:never|still\s+not|missing|lost|late|delayed|stuck|not\s+(?:here|arrived|delivered))\b"
    r"|\b(?:is|are|was|were|went|still|gone)\s+missing\b|\b(?:sent|got|received|gave|delivered)\s+"
    r"(?:me\s+|us\s+)?(?:the\s+|a\s+)?wrong\b|\bjust\s+dispatched\b"
    r"|\battempt(?:ed)?\s+(?:was\s+made\s+)?(?:\w+\s+){0,3}?to\s+deliver|\bfailed\s+delivery"
    r"|\bmissed\s+delivery"
    # Spanish
    r"|\bno\s+(?:me\s+|nos\s+)?(?:ha|han)?\s*(?:llegado|llega|llegan|lleg[oó]|llegaron|entregado"
    r"|entregaron|recibido)\b|\bnunca\s+(?:me\s+|nos\s+)?(?:lleg[oó]|llegaron|recib[ií]"
    r"|entregaron)\b|\bno\s+(?:he|hemos)\s+recibido\b|\b(?:pedido|paquete|env[ií]o|orden"
    r"|compra)\s+(?:\w+\s+){0,3}?(?:no\s+(?:ha\s+)?lleg|nunca|todav[ií]a\s+no|a[uú]n\s+no"
    r"|perdid[oa]|retrasad[oa])|\bd[oó]nde\s+est[aá]\s+mi\b",
    _I,
)
# waiting: kept waiting or unanswered ("on hold", "no response", "still not fixed", "3 days since").
_WAITING = re.compile(
    r"\bon\s+hold\b|\b(?:still|been|keep|keeps|kept|left|sat|sitting|stood|standing)\s+(?:\w+\s+)?"
    r"waiting\b|\bwaiting\s+(?:on|since|over|for\s+(?:over|more\s+than|nearly|almost|about|\d"
    r"|a\s+(?:week|month|day)|an?\s+hour|hours|days|weeks|months|ages|ever|my|our|a\s+(?:reply"
    r"|response|refund|call)))\b"
    r"|\bno\s+(?:\w+\s+)?(?:respon\w*|repl(?:y|ies)|answer|call\s?back|callback|feedback"
    r"|follow.?up|word|news|update|acknowledg\w*)\b"
    r"|\b(?:nobody|no\s*one|no-one)\s+(?:(?:from|at)\s+(?:the\s+"
    r"|your\s+)?\S+\s+|has\s+|have\s+|ever\s+|even\s+"
    r"|will\s+|seems\s+to\s+)*(?:got|get|gets|called|calls|call|contacted|contacts|replied"
    r"|replies|reply|responded|responds|answered|answers|answer|came|comes|showed|shows"
    r"|turned|helped|helps|help|picks|picked|bothered|bothers|cares|cared|knows|knew|told"
    r"|tells|returned|returns)\b"
    rf"|\b(?:haven{_APOS}t|hasn{_APOS}t|have\s+not|has\s+not|didn{_APOS}t|did\s+not|never"
    r"|havent|hasnt|didnt)\s+(?:\w+\s+)?(?:heard|had\s+a\s+(?:reply|response|call)|got\s+back"
    r"|gotten\s+back|called\s+back|replied|responded|answered|contacted)\b"
    r"|\bnot\s+(?:yet\s+|been\s+)?(?:fixed|resolved|sorted|solved|repaired|refunded|replaced"
    r"|restored|answered|addressed|processed|helped|helping|contacted)\b"
    rf"|\bstill\s+(?:not|no|nothing|never|(?:hasn|haven|can|won|don|doesn|didn|isn|aren|wasn"
    rf"|weren|couldn){_APOS}t|cannot|cant|wont|dont|doesnt|didnt|isnt|unable|waiting|trying\s+to"
    r"\s+(?:get|reach|contact|fix|sort|log|sign|cancel|return|find\s+out)|having\s+(?:issues?"
    r"|problems?|trouble)|getting\s+(?:\w+\s+)?(?:errors?|charged|billed)|broken|down|missing"
    r"|unresolved|pending|stuck|charg\w+|without|got\s+nothing)\b"
    r"|\b(?:\d+(?:[.,]\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|few"
    r"|many|multiple)\s+(?:more\s+)?(?:hours?|hrs?|days?|weeks?|wks?|months?|mins?|minutes?)"
    r"\s+(?:since|later|and\s+(?:still|no|nothing|counting)|of\s+(?:waiting|being|trying"
    r"|calling|chasing))\b"
    rf"|\b(?:it{_APOS}s|its|it\s+has|has|have|i{_APOS}ve|we{_APOS}ve)\s+been\s+(?:like\s+|over\s+"
    r"|almost\s+|nearly\s+|more\s+than\s+|about\s+)?(?:\d+|a|an|one|two|three|four|five|six"
    r"|several|few|many)\s+(?:more\s+|whole\s+|full\s+|couple\s+(?:of\s+)?)?(?:hours?|days?"
    r"|weeks?|months?)\b|\b(?:already|over|more\s+than)\s+(?:a|an|one|two|three|\d+)\s+"
    r"(?:weeks?|months?|days?)\s+(?:and|now|no|without|with\s+no)\b"
    r"|(?<!without\s)(?<!no\s)\bdelay(?:ed|s)?\b|\b(?:\d+|\w+)\s+(?:mins?|minutes?|hours?|hrs?)\s+late\b"
    r"|\b(?:late\s+again|always\s+late|running\s+late)\b|\b(?:keeps?|kept)\s+(?:me|us)\s+waiting"
    r"|\btransferred\s+(?:\w+\s+){0,2}?(?:times|again)\b|\bbounced\s+(?:around|between)\b"
    r"|\brun\s*-?around\b|\bchas(?:e|ed|ing)\s+(?:this|it\s+up|up|you|my|for)\b"
    r"|\bmade\s+(?:me|us)\s+wait\b|\b(?:waited|stayed)\s+(?:in\s+|at\s+home\s+|home\s+)?(?:all\s+"
    r"(?:day|morning|afternoon|evening|week)|for\s+(?:hours|ages|days|weeks|over|more|nearly|almost"
    r"|\d)|\d+\s+(?:hours|days|mins|minutes))"
    # Spanish
    r"|\b(?:sigo|seguimos|estoy|estamos|llevo|llevamos)\s+esperando\b|\besperando\s+(?:desde"
    r"|hace|m[aá]s|una|un|mi|la|el)\b|\b(?:llevo|llevamos|ya\s+van|van|hace|desde\s+hace)\s+"
    r"(?:m[aá]s\s+de\s+)?(?:\d+|un|una|dos|tres|cuatro|cinco|varios|varias|muchos|muchas)\s+"
    r"(?:horas?|d[ií]as?|semanas?|mes|meses|minutos?)\b|\bnadie\s+(?:me\s+|nos\s+)?(?:contesta"
    r"|responde|atiende|llama|ayuda|resuelve|dice|hace\s+caso)\b|\bno\s+(?:me\s+|nos\s+)?"
    r"(?:contestan|responden|atienden|llaman|resuelven|solucionan|arreglan|han\s+(?:contestado"
    r"|respondido|llamado|resuelto|arreglado|solucionado))\b|\bsin\s+(?:respuesta|soluci[oó]n"
    r"|contestar)\b|\b(?:todav[ií]a|a[uú]n)\s+(?:no|sin|nada|espero|esperando|estoy\s+esperando"
    r"|sigo|seguimos)\b|\b(?:sigo|seguimos)\s+sin\b|\bnunca\s+(?:contestan|responden|atienden"
    r"|llaman)\b",
    _I,
)
# help: asks for help, contact or action ("please help", "check my DM", "I want a refund").
_HELP = re.compile(
    r"\b(?:please|pls|plz|kindly|urgently|someone|somebody|anyone|need|needs)\s+(?:\w+\s+)?"
    r"help\b|\bhelp\s+(?:me|us|please|pls|plz)\b|(?<!the\s)(?<!your\s)(?<!for\s)(?<!all\s)"
    r"\bhelp\s*!|^\W*help\b|#help\b|\bsos\b"
    r"|\b(?:please|pls|plz|kindly|can\s+you|could\s+you|can\s+someone|could\s+someone|would\s+you"
    r"|can\s+u|pl)\s+(?:\w+\s+)?(?:fix|look\s+into|resolve|check|respond|reply|contact|call"
    r"|get\s+back|assist|advise|sort|refund|send|provide|restore|replace|escalate|investigate"
    r"|answer|explain|reconsider|bring\s+back|restock|do\s+something|take\s+care|dm|pm|message"
    r"|email|e-mail|reach\s+out|get\s+in\s+touch|let\s+me\s+know|help|find)\b"
    r"|\b(?:check|read|see|answer|reply\s+to|respond\s+to|look\s+at|open)\s+(?:my|our|your|the)\s+"
    r"(?:dms?|inbox|pms?|e-?mails?|messages?|mail|ticket|case|complaint)\b"
    r"|\b(?:sent|send|dropped|sending)\s+(?:you\s+)?(?:a\s+|an\s+|the\s+|\w+\s+)?(?:dm|pm|e-?mail"
    r"|message|complaint|ticket)s?\b|\bget\s+back\s+to\s+(?:me|us)\b|\bcall\s+(?:me|us)\s+back\b"
    r"|\bcontact\s+(?:info|information|details|number|e-?mail)\b|\b(?:asap|urgent(?:ly)?)\b"
    r"|\bany\s+(?:updates?|news|progress|word|response|reply|replies|help|solutions?|fix)\b"
    rf"|\b(?:i|we|i{_APOS}d|we{_APOS}d)\s+(?:want|need|demand|would\s+like|expect|deserve|request"
    r"|require)\s+(?:a\s+|an\s+|my\s+|our\s+|the\s+|some\s+|full\s+)*(?:refund|replacement"
    r"|money\s+back|compensation|answer|explanation|solution|response|reply|call|fix|apology"
    r"|update|resolution|manager|supervisor|to\s+(?:speak|talk|cancel|complain|return"
    r"|downgrade|know\s+why))\b|\bneed\s+(?:a\s+|an\s+|some\s+)?(?:solution|fix|answer|refund"
    r"|replacement|response|resolution)\b|\b(?:resolve|fix|sort\s+out)\s+(?:this|it|the\s+(?:issue"
    r"|problem)|my\s+(?:issue|problem|account))\b"
    # Spanish
    r"|\bnecesito\s+(?:ayuda|que|hablar|una\s+soluci[oó]n|una\s+respuesta)\b"
    r"|\bay[uú]d(?:enme|ame|anos|ennos)\b|\bayuda\s*(?:!|por\s+favor|urgente)|^\W*ayuda\b"
    r"|\bpido\s+ayuda\b|\balguien\s+(?:que\s+)?(?:me\s+|nos\s+)?(?:puede\s+|pueda\s+)?ayud\w*"
    r"|\bpor\s+favor\s+(?:\w+\s+)?(?:ayuden|revisen|contesten|respondan|arreglen|solucionen"
    r"|llamen|atiendan|resuelvan|devuelvan|expliquen|informen|cont[aá]ct\w+)\b|\burgente\b"
    r"|\b(?:revisen|lean|contesten)\s+(?:mi|el|los|mis)\s+(?:mensaje|correo|dm|inbox|privado)s?\b"
    r"|\bles\s+(?:escrib[ií]|mand[eé]|envi[eé])\b|\bquiero\s+(?:mi\s+)?(?:reembolso|devoluci[oó]n"
    r"|que\s+me\s+devuelvan|hablar\s+con|cancelar|una\s+respuesta|una\s+soluci[oó]n)\b",
    _I,
)
# expectation: fell short of a promise or of how it was ("supposed to", "was working last week").
_EXPECTATION = re.compile(
    r"\bsupposed\s+to\b(?!\s+(?:rain|snow|be\s+(?:sunny|nice|warm|hot|cold|lovely|fun|great)))"
    r"|\b(?:was|were|been|they|you|i|we)\s+promised\b|\bpromised\s+(?:me|us|to|for|a|an|that"
    r"|by|within|on)\b|(?<!rest\s)\bassur(?:ed|ances?)\b"
    r"|\b(?:it|this|that|which|everything|mine|the\s+\w+)\s+(?:was|were|has\s+been|had\s+been)\s+"
    r"(?:\w+\s+)?(?:working|fine|ok|okay|good|perfect)\s+(?:\w+\s+)?(?:before|until|till|last"
    r"|yesterday|earlier|this\s+morning|a\s+(?:day|week|month)\s+ago|previously|the\s+other\s+day"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day"
    r"|\d+\s+\w+\s+ago)\b"
    r"|\b(?:it|this|that|which|everything|they|mine|the\s+(?:\w+\s+)?\w+)\s+(?:used\s+to"
    r"|always)\s+(?:work|be\s+(?:fine"
    r"|good|great|better|reliable|easy))\b|\b(?:worked|was\s+working)\s+(?:fine|perfectly|great"
    r"|well)\s+(?:until|before|till)\b|\bexpect(?:ed|ing)?\s+(?:better|more|much\s+more)\b"
    rf"|\bno\s+longer\b|(?:\bnot|n{_APOS}t)\s+(?!(?:even\s+)?wait\b)(?:\w+\s+){{0,4}}?any\s?more\b"
    r"|\bnever\s+again\b|\b(?:only|just)\s+to\s+(?:have|find|be\s+told|get|see"
    r"|discover|realis|realiz|learn|hear|watch|end\s+up)"
    rf"|\b(?:wish\s+i\s+(?:had|hadn{_APOS}t|never|would\s+have)|regret\s+(?:buying|ordering"
    r"|booking|choosing|signing|getting|using|trusting)|should\s+have\s+(?:gone|bought|stayed"
    r"|read|known|listened)|shoulda)\b|\b(?:guess|apparently|evidently)\s+not\b"
    r"|\bdespite\s+(?:\w+\s+){0,3}?(?:assurances?|promises?|calls?|emails?|complaints?"
    r"|requests?|reminders?|paying|asking|calling|reporting|being\s+told)\b"
    r"|\bnot\s+(?:what\s+(?:i|we)\s+(?:ordered|paid\s+for|expected|was\s+promised)|as\s+(?:described"
    r"|advertised|pictured|promised|expected))\b|\bnothing\s+like\s+the\s+(?:photo|picture|ad"
    r"|description|pic)"
    # Spanish
    r"|\bse\s+supon[ií]a\b|\bdeber[ií]a(?:n)?\s+(?:haber|de|estar|llegar|funcionar)\b"
    r"|\bantes\s+(?:s[ií]\s+)?funcionaba\b|\bya\s+no\s+(?:funciona|sirve|carga|abre|prende"
    r"|enciende|anda|conecta|responde|contestan|me\s+deja)\b|\bme\s+(?:prometieron|aseguraron"
    r"|dijeron\s+que)\b|\bprometi(?:eron|do|da)\b|\bnunca\s+m[aá]s\b",
    _I,
)
_BLAME_VERB = (
    r"(?:cut\s+(?:me|us|my|our|off|the\s+(?:call|line|power|service))|charged|overcharged|scammed"
    r"|lost\s+(?:my|our|me)|ruined|broke\s+(?:my|our)|cancell?ed\s+(?:my|our)|ignored|ignore"
    r"|ignoring|lied|lie|lying|refused|refuse|refusing|failed|messed|screwed|stole|mistreated"
    r"|denied|blocked|banned|deleted|removed|rejected|forgot|dropped\s+the\s+ball|hung\s+up"
    r"|hang\s+up|sold\s+(?:me|us)"
    r"|sent\s+(?:me|us)\s+(?:a\s+|the\s+|an\s+)?(?:wrong|broken|damaged|ripped|used|expired)"
    r"|took\s+(?:my|our)\s+money|(?:kept|keep|keeps|left)\s+(?:me|us)\s+(?:waiting|on\s+hold"
    r"|hanging|in\s+the\s+dark|without|with\s+no|stranded)"
    r"|made\s+(?:me|us)\s+(?:wait|pay|call|go|drive|miss|lose"
    rf"|redo)|won{_APOS}t\s+(?!regret|be\s+disappointed|believe|want\s+to\s+miss|forget)"
    rf"|wont\s|can{_APOS}t\s+even|cannot\s+even|don{_APOS}t\s+care|do\s+not\s+care"
    rf"|didn{_APOS}t\s+(?:even\s+)?(?:read|listen|care|bother|help|respond|reply|answer|fix|tell"
    r"|call|show|deliver|send|refund)|never\s+(?!know|fail|disappoint|cease|stop\s+amaz))"
)
# blame: the organisation addressed as the cause ("you charged me", "why are you", "your app is").
_BLAME = re.compile(
    rf"\b(?:you|u|y{_APOS}all|you\s+guys|you\s+people|your\s+(?:\w+\s+)?(?:staff|team|company"
    r"|agents?|drivers?|store|site|website|app|system|support|service|customer\s+(?:service|care"
    r"|support)|phones?|people|employees?|rep|representative|manager|technician|engineer))\s+"
    rf"(?:\w+ly\s+|just\s+|still\s+|even\s+|have\s+|has\s+|had\s+|then\s+|also\s+)*{_BLAME_VERB}"
    r"|\bthey\s+(?:\w+ly\s+|just\s+|have\s+|then\s+)*(?:scammed|lied|overcharged|charged\s+(?:me|us)"
    r"|cut\s+(?:me|us|you)\s+off|hung\s+up|ignored|refused|stole|mistreated|lost\s+(?:my|our))\b"
    rf"|\bwhy\s+(?:are|do|did|would|will|won{_APOS}t|don{_APOS}t|didn{_APOS}t|can{_APOS}t|is"
    rf"|does|must|have|has|haven{_APOS}t|hasn{_APOS}t)\s+(?:you|u|your|y{_APOS}all)\b"
    r"|\byour\s+(?:\w+\s+){0,2}?(?:is|are|was|were|has\s+been|keeps?)\s+(?:\w+\s+)?(?:useless"
    r"|terrible|awful|worse|worst|slow|broken|down|rubbish|garbage|a\s+joke|pathetic|a\s+mess"
    r"|unreliable|horrible|poor|bad|crap|shit|trash|a\s+nightmare|ridiculous|appalling|disgusting"
    r"|unhelpful|incompetent|crashing|failing|not\s+working)\b"
    # Spanish
    r"|\b(?:me|nos)\s+(?:cobraron|cortaron|cancelaron|colgaron|mintieron|estafaron|robaron"
    r"|enga[nñ]aron|bloquearon|borraron|cerraron|dejaron\s+(?:sin|esperando|tirad[oa]s?))\b"
    r"|\b(?:ustedes|su\s+(?:servicio|empresa|personal|aplicaci[oó]n|app|p[aá]gina|tienda"
    r"|atenci[oó]n))\s+(?:\w+\s+)?(?:no\s+(?:sirve|sirven|funciona|responde|responden|contesta"
    r"|contestan|cumple|cumplen|hace\s+nada|hacen\s+nada)|nunca|siempre\s+(?:fallan|falla|tarda)"
    r"|es\s+(?:un\s+|una\s+)?(?:p[eé]sim[oa]|mal[oa]|terrible|desastre|verg[uü]enza|burla))"
    r"|\bno\s+les\s+importa\b|\bpor\s+qu[eé]\s+(?:me|nos)\s+\w+",
    _I,
)
# money: charges, refunds, scams and prices ("overcharged", "refund", "rip-off").
_MONEY = re.compile(
    r"\bover-?charg\w*|\b(?:double|twice)[\s-]charg\w*|\bcharged\s+(?:me|us|twice|double|again"
    r"|extra|for\s+(?:\w+\s+){0,3}?(?:someone|something|nothing|services?|items?)|\w+\s+(?:extra"
    r"|more|twice))\b|\bcharging\s+(?:me|us)\b"
    r"|\brefund"
    r"(?<!got\smy\srefund)(?<!got\sthe\srefund)(?<!received\smy\srefund)"
    r"(?<!received\sthe\srefund)(?<!thanks\sfor\srefund)(?<!you\sfor\srefund)"
    r"(?<!thanks\sfor\sthe\srefund)(?<!you\sfor\sthe\srefund)(?<!you\sfor\smy\srefund)"
    r"\w*|\bmoney\s+(?:back|was\s+taken|taken"
    r"|gone|stolen)\b|\btook\s+(?:my|our)\s+money\b|\bscam(?:s"
    r"|med|mer|mers|ming)?\b|\brip[\s-]?off\w*|\bripping\s+"
    r"(?:\w+\s+)?off\b|\bfraud\w*|\bstolen\b|\bhidden\s+(?:fees?|charges?)\b|\bprice\s+(?:increase"
    r"|hike|gouging|rise)s?\b|\boverpriced\b|\b(?:too|so|very|ridiculously)\s+expensive\b"
    r"|\bextra\s+(?:fees?|charges?)\b|\bbilling\s+(?:error|issue|problem|mistake)s?\b"
    r"|\bwrong(?:ly)?\s+(?:charged|billed)\b|\bcheaper\s+(?:at|elsewhere|than|on|from)\b"
    r"|\b(?:i|we)\s+(?:already\s+|just\s+)?(?:paid|pay|am\s+paying|are\s+paying)\s+(?:for|\$|good\s+money"
    r"|full\s+price|extra|taxes|my\s+taxes|our\s+taxes)|\b(?:my|our)\s+tax(?:es|\s+dollars|\s+money)\b"
    r"|\btaxpayers?'?\s+(?:money|dollars)\b"
    # Spanish
    r"|\b(?:me|nos)\s+(?:cobraron|cobran|est[aá]n\s+cobrando)\b|\bcobro\s+(?:indebido|doble"
    r"|de\s+m[aá]s|excesivo)\b|\bde\s+m[aá]s\b(?=.*\bcobr)|\breembolso\b|\bdevoluci[oó]n\s+de\s+"
    r"(?:mi\s+)?dinero\b|\b(?:devu[eé]lv\w+|regres\w+)\s+(?:mi|el|nuestro)\s+dinero\b|\bestaf\w+"
    r"|\bfraude\b|\bme\s+robaron\b|\bnos\s+robaron\b|\bcar[ií]simo\b"
    r"|\b(?:pagu[eé]|pagamos|pago)\s+(?:por|mis\s+impuestos|nuestros\s+impuestos|de\s+m[aá]s)\b"
    r"|\b(?:mis|nuestros)\s+impuestos\b",
    _I,
)
# Rhetorical questions without "?": "how come", "why so", "what gives", "are you kidding".
_RHETORICAL = re.compile(
    # The lookbehinds follow "why", so they run only where it matched, not at every position.
    r"\bwhy\b"
    r"(?<!that's\swhy)(?<!that’s\swhy)(?<!thats\swhy)(?<!that\swhy)(?<!this\swhy)"
    r"(?<!which\swhy)(?<!reason\swhy)(?<!wonder\swhy)(?<!see\swhy)(?<!know\swhy)"
    r"(?<!understand\swhy)(?<!is\swhy)(?<!explains\swhy)(?<!the\swhy)"
    r"(?:\s+\w+){0,2}|\bhow\s+come\b|\bwhat\s+gives\b|\bwhat\s+the\s+(?:hell|heck|fuck|f|actual"
    r"|frick|freak)\b|\bwtf\b|\bare\s+you\s+(?:kidding|serious|joking)|\bhow\s+(?:is|are|was|can"
    r"|could|do|does|did)\s+(?:this|that|it|you|they)\b|(?:^|[.!]\s*)really\s*[.!]*\s*$"
    r"|\bseriously\s*[.!]*\s*$|\bpor\s+qu[eé]\b|\bc[oó]mo\s+es\s+posible\b",
    _I,
)
_SPANISH_QUESTION = re.compile(
    r"(?:^|[.,;:!…]\s*)(?P<q>(?:por\s+qu[eé]|c[oó]mo|cu[aá]ndo|d[oó]nde|cu[aá]l(?:es)?"
    r"|qui[eé]n(?:es)?|cu[aá]nt[oa]s?)\s|qu[eé]\s+(?:pas[aoó]|hago|hacemos|hora|d[ií]a|fecha"
    r"|sucede|sucedi[oó])\b)|\balguien\s+sabe\b|\bme\s+(?:pueden|podr[ií]an|puede|podr[ií]a)\s+"
    r"(?:ayudar|decir|explicar|informar|confirmar)\b|\bse\s+puede\s+\w+|\bsaben\s+si\b"
    r"|\b(?:quisiera|quiero|necesito)\s+saber\b|\bhay\s+alguna\s+(?:forma|manera)\b",
    _I,
)
# Words and hashtags of complaint that VADER scores as neutral (or does not see at all).
_COMPLAINT_WORDS = re.compile(
    r"\b(?:so|too|very|is|are|was|were|painfully|extremely|really|super)\s+slow\b|\bslow(?:est|er)?"
    r"\s+(?:service|response|delivery|internet|connection|app|website|site|support)\b"
    r"|\bunreliable\b|\buseless\b|\b(?:gutted|livid|fuming|appalled|unimpressed)\b"
    r"|\b(?:smh|ugh+|argh+|ffs|fml)\b|\bincomplete\b|\binaccurate\b|\boutdated\b"
    r"|\b(?:no|not\s+an?)\s+excuse\b|\b(?:way\s+|far\s+|much\s+)?too\s+(?:long|slow|small|large"
    r"|big|tight|short|expensive|salty|loud|noisy|dirty|crowded)\b"
    r"|\bunhelpful\b|\b(?:not|wasn'?t|isn'?t)\s+(?:very\s+)?helpful\b"
    r"|\babsurd\b|\bridiculous\b|\brude\b|\bincompetent\w*|\bunsafe\b|\bdangerous\b"
    r"|\bmistreated\b|\bworse\b|\bfed\s+up\b|\b(?:sick|tired)\s+(?:and\s+tired\s+)?of\b"
    r"|\bfrustrat\w+|\binconvenien\w+|\bnightmare\b|\b(?:is|was"
    r"|are|what)\s+a\s+joke\b|\bbeware\b|\bboycott\w*"
    r"|\black\s+of\b|\bzero\s+(?:help|interest|response|support|communication|customer)"
    r"|\bnot\s+(?:happy|pleased|satisfied|impressed|good\s+enough|fair)\b|\bunhappy\b"
    r"|\bdissatisfied\b|\bunfair\b|\b(?:not|isn'?t|wasn'?t)\s+(?:cool|right|professional|appropriate"
    r"|funny|fair|acceptable)\b(?!\s+(?:now|away|here|there|yet))|\b(?:never|not|won'?t)\s+(?:be\s+)?(?:buy|us|shop|fly|order"
    r"|recommend)\w*\s+(?:\w+\s+){0,3}?(?:again|anymore|from\s+you|with\s+you)\b"
    r"|\b(?:ever|never)\s+(?:\w+ing\s+)?(?:your|you|this|that)\s+(?:company|again)\b"
    r"|\blost\s+(?:a\s+)?(?:customer|business)\b|\bswitch(?:ing)?\s+to\s+(?:another|a\s+different)"
    r"|\bdone\s+with\s+(?:you|this|your)\b|\bescalat\w+|\b(?:a|my|formal|official)\s+complaint\b"
    r"|\bcomplaining\b|\bimpersonat\w*|\bhack(?:ed|er)"
    r"|\bbreach\b|[😡😠🤬😤😞💔👎😩😫😖😣🙁☹]|(?:^|\s):-?\("
    r"|#(?:\w*(?:fail|worst|shame|ripoff|scam|suck|disappoint|useless|fraud|boycott|nothappy"
    r"|unhappy|rubbish|terrible|awful|horrible|nightmare|frustrat|outrage|furious|notimpressed"
    r"|overpriced|neveragain)\w*|bad\w*service\w*"
    r"|lost\w*(?:business|customer)\w*|poor\w*(?:service|quality)\w*|shoulda\w*)"
    # Spanish
    r"|\bp[eé]sim[oa]s?\b|\bmal[ií]sim[oa]s?\b|\bqu[eé]\s+mal\b|\buna\s+burla\b|\bindignante\b"
    r"|\bhart[oa]s?\b|\bcansad[oa]s?\s+de\b|\bqueja\w*|\breclam\w+|\bdenunci\w+|\bterrible\b"
    r"|\bhorrible\b|\bdesastre\b|\bvaya\s+servicio\b|\bfatal\b|\bmolest[oa]s?\b",
    _I,
)
_SARCASM_EXTRA = re.compile(
    r"#(?:great|best|awesome|excellent|amazing|brilliant|good|fantastic|stellar|wonderful)\w*"
    r"(?:service|support|job|customer\w*|care|experience)\b"
    r"|\b(?:great|brilliant|excellent|awesome|amazing|fantastic|stellar)\s+(?:customer\s+)?"
    r"(?:service|support|job)\s*(?:!{2,}|\.{2,})"
    r"|\bthanks?\s+(?:\w+\s+){0,3}?for\s+(?:\w+\s+){0,2}?(?:ruin\w*|wast(?:e|ed|ing)|ignor\w*"
    r"|losing|lost|breaking|overcharg\w*|scamming|messing|delaying|cancell?ing)\b"
    r"|\bthanks?\s+(?:\w+\s+){0,3}?for\s+(?:not|never|nothing)\b"
    r"|\bthanks?\s+(?:\w+\s+){0,3}?for\s+(?:selling|sending|giving)\s+(?:me\s+|us\s+)?(?:\w+\s+){0,2}?"
    r"(?:expired|broken|ripped|damaged|wrong|stale|cold|used|torn)\b"
    r"|\b(?:super|so|really)\s+(?:stoked|happy|glad|thrilled)\s+(?:\w+\s+){0,6}?(?:just|only)\s+to\b"
    r"|\bgracias\s+por\s+(?:nada|no)\b|\bqu[eé]\s+(?:buen|excelente)\s+servicio\s*(?:!{2,}|\.{2,})",
    _I,
)
_MEDIA = re.compile(r"pic\.twitter\.com|\.(?:jpe?g|png|gif|webp|heic|mp4|mov)\b|imgur\.com", _I)

_analyzer: SentimentIntensityAnalyzer | None = None


def _compound(text: str) -> float:
    """VADER compound score; the analyzer is built on first use and then reused."""
    global _analyzer
    if _analyzer is None:
        _analyzer = SentimentIntensityAnalyzer()
    if _FOREIGN_HINT.search(text):
        text = _FALSE_FRIENDS.sub(" ", text)
    return float(_analyzer.polarity_scores(text)["compound"])


@functools.lru_cache(maxsize=64)
def _words_regex(words: tuple[str, ...], suffix: str = "") -> re.Pattern[str] | None:
    """One case-insensitive alternation of `words` on word boundaries (spaces flexible)."""
    parts = [r"\s+".join(map(re.escape, w.split())) for w in words if w.strip()]
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")" + suffix + r"(?!\w)", _I)


_GLOBAL_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")


@functools.lru_cache(maxsize=16)
def _compiled(patterns: tuple[str, ...]) -> tuple[Locator | None, tuple[re.Pattern[str], ...]]:
    """The spam patterns, compiled once per configuration, and all of them as one alternation
    that finds whether any matches (most comments: none) in one search instead of one each.
    None when a pattern refers back to a group or sets global flags: joined, its group numbers
    would change, or its flags would apply to the others."""
    compiled = tuple(re.compile(p, _I) for p in patterns)
    if not patterns or any(refers_back(p) or _GLOBAL_FLAGS.search(p) for p in patterns):
        return None, compiled
    try:
        return Locator(re.compile("|".join(patterns), _I)), compiled
    except re.error:  # a pattern that only compiles alone (a group name used twice)
        return None, compiled


def _exclusion(
    text: str, links: list[str], prose: str, config: ClassifyConfig, copies_elsewhere: int
) -> tuple[str, str] | None:
    """Why this comment is never protected (kind, reason), or None.

    Spam needs two pieces of evidence, so one promotional-sounding word in a genuine
    complaint ("I lost half my followers after the hack") never hides it. ``links`` and
    ``prose`` (the text without them) are found once, by ``classify``.
    """
    rest = _MENTION.sub(" ", prose)
    if links and not re.search(r"[^\W_]", rest):
        return "links-only", "links-only: nothing but links and mentions"
    evidence: list[str] = []
    any_spam, spam_patterns = _compiled(config.spam_patterns)
    for pattern in spam_patterns if any_spam is None or any_spam.search(text) else ():
        if m := pattern.search(text):
            evidence.append(f"promotional pattern '{m.group(0).strip()}'")
    # A photo or screenshot is how people show a broken product: not promotion.
    if any(not _MEDIA.search(link) for link in links):
        evidence.append("a link")
        promo = _words_regex(config.promo_words, r"(?:s|es)?")
        if promo and (m := promo.search(rest)):
            evidence.append(f"promotional word '{m.group(0)}' next to it")
    # Short stock replies ("Thank you!") repeat across posts naturally: not evidence.
    if copies_elsewhere >= 2 and len(rest.split()) >= 4:
        evidence.append(f"the same text on {copies_elsewhere} other posts")
    if len(evidence) >= 2:
        return "spam", "spam: " + " + ".join(evidence)
    abuse = _words_regex(config.abuse_words, r"(?:s|es|ed)?")
    if abuse and (m := abuse.search(text)):
        return "abuse", f"abuse: contains '{m.group(0)}'"
    return None


class _Hit:
    """A match found in the lower-cased text, read back from the original text (same offsets)."""

    __slots__ = ("_m", "_text")

    def __init__(self, m: re.Match[str], text: str) -> None:
        self._m, self._text = m, text

    def group(self, g: int | str = 0) -> str | None:
        start, end = self._m.span(g)
        return self._text[start:end] if start >= 0 else None

    def groupdict(self) -> dict[str, str | None]:
        return {k: self.group(k) for k in self._m.groupdict()}


_Found = re.Match[str] | _Hit
# Python's re is about twice as slow with IGNORECASE on these long alternations, so each
# pattern also exists without it, for the lower-cased text. Patterns that depend on case
# ("NOT" in sarcasm, all-caps words) are left out and always run on the original.
# Each is searched through a ``Locator`` (policies.alternation): the same match, 4-8x faster.
# Keyed by id(): a compiled pattern's hash is recomputed from its whole program on every call.
_LOWERED: dict[int, Locator] = {}


def _search(pattern: re.Pattern[str], text: str, low: str | None) -> _Found | None:
    """`pattern.search(text)`, on the lower-cased text `low` when it has the same offsets."""
    fast = _LOWERED.get(id(pattern)) if low is not None else None
    if fast is None or low is None:
        return pattern.search(text)
    m = fast.search(low, _NEEDLES.found(low))
    return _Hit(m, text) if m else None


def _quote(m: _Found) -> str:
    """The words a cue matched, trimmed for a reason string."""
    words = " ".join((m.group(0) or "").split()).strip(" ,.;:!")
    return words if len(words) <= 40 else words[:39] + "…"


def _question(text: str, low: str | None) -> str | None:
    for mark, label in _QUESTION_MARKS:
        if mark in text:
            return f"question: {label}"
    if ";" in text and _GREEK.search(text):
        return "question: Greek question mark ';'"
    if m := _search(_QUESTION_START, text, low) or _search(_QUESTION_PHRASES, text, low):
        phrase = (m.groupdict().get("q") or m.group(0) or "").strip(" ,")
        return f"question: asks '{phrase}'"
    if m := _search(_SPANISH_QUESTION, text, low):
        phrase = (m.group("q") or m.group(0) or "").strip(" ,")
        return f"question: asks '{phrase}'"
    if m := _search(_RHETORICAL, text, low):
        return f"question: rhetorical '{_quote(m)}'"
    return None


# --- General patterns of complaint (second pass) ---------------------------------------------
# Written from the shapes complaints take, not from examples: a hazard, a repeated failure, a
# thing no longer offered, an imposed effort, a demand addressed to the organisation, distrust,
# "nice, but …" contrasts, and physical defects VADER reads as neutral.

# danger: a safety risk, an injury or contamination ("glass in my food", "burned my hand").
_DANGER = re.compile(
    r"\b(?:found|there\s+(?:was|were|is|are)|there'?s|had|got|with)\s+(?:a\s+|an\s+|some\s+)?"
    r"(?:(?:piece|bit|shard|chunk|lump)s?\s+of\s+)?(?:(?:\w+\s+)?(?:glass|plastic|metal|hair|bug"
    r"|insect|fly|flies|worm|maggot|mould|mold|cockroach|roach|bone|wire|rock|stone|fingernail"
    r"|band-?aid)s?)\s+(?:in|inside|on)\b"
    r"|\b(?:cut|sliced|burn(?:ed|t)|scald(?:ed)?|injur(?:ed|ing)|hurt|bruised|broke|poisoned)\s+"
    r"(?:my|our|his|her|their)\s+(?:\w+\s+)?(?:hand|hands|mouth|finger|fingers|foot|feet|leg|arm"
    r"|face|head|lip|tongue|skin|back|kid|son|daughter|child|baby|dog)\b"
    r"|\b(?:food\s+poisoning|allergic\s+reaction|got\s+(?:very\s+|really\s+|so\s+)?sick"
    r"|made\s+(?:me|us|him|her|my\s+\w+)\s+(?:very\s+|really\s+|so\s+)?(?:sick|ill|vomit|throw\s+up))\b"
    r"|\b(?:fire\s+hazard|safety\s+(?:hazard|issue|risk|concern)|health\s+hazard|accident\s+waiting"
    r"|(?:almost|nearly)\s+(?:hit|killed|ran\s+over|crashed|fell|caused\s+an?\s+accident))"
    r"|\b(?:some\s?one|somebody|a\s+(?:child|kid|person))\s+(?:is\s+going\s+to|will|could|might)\s+get"
    r"\s+(?:hurt|killed|injured)\b|\b(?:pothole|sinkhole|exposed\s+wires?|gas\s+leak|sewage)s?\b"
    # Spanish
    r"|\bpeligros[oa]s?\b|\b(?:me|nos)\s+(?:cort[eé]|quem[eé]|lastim[eé]|intoxiqu[eé])\b"
    r"|\bintoxicaci[oó]n\b|\b(?:un|una|unos|unas)\s+(?:pedazo\s+de\s+)?(?:vidrio|pelo|cabello|bicho"
    r"|insecto|gusano|cucaracha|pl[aá]stico)s?\s+en\b|\bcasi\s+(?:me|nos|lo|la)\s+(?:atropell|mat)\w*"
    r"|\bbache(?:s)?\b",
    _I,
)
# repeat: the same failure again ("every time", "yet again", "for the third time").
_REPEAT = re.compile(
    r"\b(?:every\s+(?:single\s+)?time|each\s+time|(?:yet|once)\s+again|again\s+and\s+again"
    r"|over\s+and\s+over|time\s+after\s+time|same\s+(?:thing|problem|issue|story)\s+(?:again"
    r"|every)|(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|6th|\d+th|umpteenth|nth)\s+time"
    r"\s+(?:this|that|in|now|i|we|it|today|since)|(?:twice|three\s+times|\d+\s+times|several\s+times"
    r"|multiple\s+times)\s+(?:now|already|this\s+(?:week|month|year)|in\s+(?:a|one|two|\d+)\s+\w+)"
    r"|happen(?:s|ed|ing)\s+again|again\s*[!?.]*\s*$|every\s+(?:day|week|morning|night)\s+(?:it|the"
    r"|this|there|i|we)\b)"
    # Spanish
    r"|\botra\s+vez\b|\bcada\s+vez\s+que\b|\bpor\s+(?:segunda|tercera|cuarta|quinta|en[eé]sima)\s+vez\b"
    r"|\bsiempre\s+(?:lo\s+)?mismo\b|\bde\s+nuevo\s+(?:sin|no|el\s+mismo|la\s+misma)\b",
    _I,
)
# unavailable: sold out, discontinued, no longer offered ("you stopped making", "out of sizes").
_UNAVAILABLE = re.compile(
    r"\b(?:sold|selling)\s+out\b|\bran\s+out\s+of\b|\b(?:are|is|were|was|you'?re|just|all|completely"
    r"|totally|always|still)\s+out\s+of\s+(?!town|office|the\s+office|here|this\s+world)\w+"
    r"|\bdiscontinu\w+|\b(?:no\s+longer|not|won'?t|will\s+not|stop(?:ped)?|quit)\s+(?:be\s+)?"
    r"(?:making|selling|carrying|stocking|offering|producing|serving|shipping|supporting)\b"
    r"|\b(?:not|no\s+longer|isn'?t|aren'?t)\s+(?:\w+\s+)?(?:available|in\s+stock|on\s+sale)\b"
    r"|\bunavailable\b|\b(?:had|has|have)\s+(?:already\s+)?been\s+sold\b"
    # Spanish
    r"|\bagotad[oa]s?\b|\bsin\s+(?:stock|existencias|inventario)\b|\bya\s+no\s+(?:venden|hacen"
    r"|tienen|fabrican|ofrecen|traen|hay)\b|\bdescontinuad[oa]s?\b|\bno\s+(?:hay|tienen)\s+"
    r"(?:\w+\s+)?(?:disponible|en\s+existencia)s?\b",
    _I,
)
# Extra waiting shapes: a state that has lasted ("since last night", "by the time it came"),
# and effort the organisation made someone spend ("I had to call three times").
_WAITING_MORE = re.compile(
    r"\bsince\s+(?:yesterday|last\s+(?:night|week|month|\w+day)|this\s+morning|early\s+this"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|the\s+(?:weekend|update|storm|last\s+update)"
    r"|\d{1,2}(?::\d\d)?\s*(?:am|pm))\b"
    r"|\bby\s+the\s+time\s+(?:i|we|it|they|he|she|the\s+\w+|my\s+\w+)\b"
    r"|\b(?:more|longer)\s+th[ae]n\s+(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten"
    r"|several)\s+(?:days?|weeks?|months?|hours?)\b|\bfor\s+(?:over|almost|nearly)\s+(?:\d+|a|an"
    r"|one|two|three|four|five|six)\s+(?:days?|weeks?|months?)\b"
    r"|\b(?:i|we|i'?ve|we'?ve)\s+(?:had|have\s+had|have|had\s+to|need(?:ed)?)\s+to\s+(?:call|ring|phone"
    r"|email|e-mail|write|go\s+back|come\s+back|drive|chase|ask|wait|return|reinstall|reset|restart"
    r"|resend|re-?enter|explain|repeat|cancel|pay|buy|walk|queue|stand|take\s+(?:it|a\s+day|time))\b"
    r"|\bnow\s+(?:i|we)\s+(?:have|need|got)\s+to\b"
    # Spanish
    r"|\bdesde\s+(?:ayer|anoche|esta\s+ma[nñ]ana|el\s+(?:lunes|martes|mi[eé]rcoles|jueves|viernes"
    r"|s[aá]bado|domingo)|la\s+semana\s+pasada|hace\s+(?:d[ií]as|semanas|meses))\b"
    r"|\bpara\s+cuando\s+(?:lleg|me\s+lleg|nos\s+lleg)\w*|\b(?:tuve|tuvimos|tengo|tenemos)\s+que\s+"
    r"(?:llamar|volver|ir|esperar|pagar|comprar|escribir|reclamar|repetir|cancelar)\b",
    _I,
)
# Extra help shapes: a demand addressed to the organisation ("fix your app", "you need to",
# "stop charging me", "do better").
_DEMAND = re.compile(
    r"(?:^|[.!?;:,]\s*|\b(?:just|so|now|please|pls|and)\s+)(?:fix|sort|answer|refund|update|bring"
    r"|restore|reopen|return|replace|respond\s+to|reply\s+to|stop|quit|get)\s+(?:your|ur|this|the"
    r"|my|our|it|us|me|charging|sending|calling|ignoring|lying|changing|cancell?ing|wasting)\b"
    r"|\bdo\s+better\b|\bstep\s+(?:it\s+)?up\b|\bpick\s+up\s+the\s+pace\b|\bget\s+(?:it|your\s+act)\s+together\b"
    r"|\b(?:you|u|y'?all|you\s+guys|you\s+people)\s+(?:really\s+|seriously\s+|honestly\s+)?"
    r"(?:should\s+(?:be|have|fix|sort|stop|know|train|hire|do|make|not|never|refund|apologi[sz]e|compensate"
    r"|consider|look|update|change|add|put|check|pay|give|listen|answer|respond|reply)|need\s+to|must"
    r"|ought\s+to|have\s+to\s+(?:fix|do|stop|sort|make|change|improve|answer|update|get)|better)\b"
    r"|\b(?:it|that|this)\s+would\s+be\s+(?:nice|good|great|helpful)\s+(?:if|to)\b"
    r"|\b(?:easy|simple)\s+enough\s+to\b|\bwhy\s+not\s+(?:just\s+)?\w+"
    # Spanish
    r"|(?:^|[.!?;:,]\s*)(?:arreglen|solucionen|resuelvan|devuelvan|contesten|respondan|hagan\s+algo"
    r"|dejen\s+de|mejoren|expliquen|atiendan|revisen)\b|\b(?:ustedes\s+)?(?:deber[ií]an|tienen\s+que)\s+"
    r"(?:arreglar|solucionar|resolver|mejorar|devolver|responder|contestar|hacer\s+algo|dejar\s+de"
    r"|pedir\s+disculpas|compensar|explicar)\b",
    _I,
)
# Extra blame shapes: distrust of what the organisation says, and sarcastic thanks for a failure.
_DISTRUST = re.compile(
    r"\b(?:don'?t|do\s+not|doesn'?t|hard\s+to|can'?t|cannot)\s+believe\s+(?:that|this|you|a\s+word"
    r"|anything|your|it)\b(?!\s+(?:is|was)\s+(?:so\s+)?(?:good|great|amazing|real|happening|free))"
    r"|\b(?:bull\s?shit|bs|b\.s\.|lies|liars?|lying|dishonest|misleading|false\s+advertising"
    r"|bait\s+and\s+switch|cover[\s-]?up|excuses)\b"
    r"|\bif\s+you\s+(?:really|truly|actually|genuinely)\s+(?:cared|were|valued|meant|wanted)\b"
    r"|\b(?:clearly|obviously)\s+(?:you|they|nobody|no\s+one)\s+(?:don'?t|doesn'?t|didn'?t|never"
    r"|can'?t|won'?t|aren'?t|isn'?t)\b"
    r"|\bthanks?\s+to\s+(?:@?\w+\s+){1,3}(?:not|never|no|failing|losing|cancell?ing|ignoring"
    r"|delaying|forgetting|messing)\b"
    r"|\bthanks?\s+(?:you\s+)?for\s+\w+ing\b[^.!?]{0,60}?\b(?:still|without|never|wrong|broken|missing"
    r"|late|damaged|expired|instead)\b"
    # Spanish
    r"|\bno\s+(?:les\s+)?creo\b|\bmentiras?\b|\bmentiros[oa]s?\b|\benga[nñ]os[oa]s?\b"
    r"|\bpublicidad\s+enga[nñ]osa\b|\bgracias\s+a\s+(?:@?\w+\s+){1,3}(?:no|nunca|sin)\b",
    _I,
)
# Extra problem shapes: physical and sensory defects ("scratchy", "flimsy", "blurry"), things
# missing or not to be found ("no mention of", "not showing"), and a "nice, but …" contrast.
_DEFECT = re.compile(
    r"\b(?:super|so|very|really|too|way\s+too|extremely|incredibly|kinda|quite|pretty|horribly"
    r"|is|are|was|were|feels?|felt|looks?|looked|tastes?|tasted|smells?|smelled|sounds?|got|gets"
    r"|came|arrived)\s+(?:\w+\s+)?(?:scratchy|itchy|flimsy|wobbly|uncomfortable|blurry|grainy|laggy"
    r"|sluggish|choppy|fuzzy|muffled|staticky|crackly|sticky|greasy|smelly|stinky|filthy|dirty"
    r"|dusty|mouldy|moldy|leaky|loose|bent|dented|scratched|stained|chipped|warped|wrinkled"
    r"|shrunken|see-?through|see\s+through|tiny|minuscule|watery|bland|tasteless|dry|hard\s+as"
    r"|lukewarm|cold|soggy|greasy|sour|off|unreadable|illegible|useless|fake|counterfeit)\b"
    r"|\bno\s+(?:mention|sign|trace|record|option|way|button|setting|link|info(?:rmation)?)\s+"
    r"(?:of|to|for|about|on)\b|\bnowhere\s+to\s+be\s+(?:found|seen)\b"
    r"|\b(?:not|isn'?t|aren'?t|doesn'?t|don'?t|wasn'?t)\s+(?:\w+\s+)?(?:seeing|showing|appearing"
    r"|show(?:ing)?\s+up|turning\s+up|listed|updated|updating)\b"
    r"|\b(?:haven'?t|hasn'?t|didn'?t|never)\s+(?:seen|shown\s+up|showed\s+up|turned\s+up|come|came"
    r"|arrived|been\s+(?:picked|collected|emptied|fixed|repaired|cleaned|answered|paid))\b"
    r"|\b(?:nice|good|great|lovely|cute|beautiful|fine|ok(?:ay)?|love\s+\w+|like\s+\w+)\b[^.!?]{0,60}?"
    r"\bbut\s+(?:\w+\s+){0,6}?(?:is|are|was|were|it'?s|they'?re|keeps?|doesn'?t|don'?t|won'?t"
    r"|can'?t|never|not|no|too|so|super|really|always|still)\b"
    # Spanish
    r"|\b(?:muy|super|s[uú]per|demasiado|bien)\s+(?:inc[oó]mod[oa]s?|rasposo|fr[aá]gil(?:es)?|sucio"
    r"|sucia|fr[ií][oa]|crud[oa]|lent[oa]s?|pequeñ[oa]s?|feos?|feas?)\b|\bno\s+(?:aparece|sale"
    r"|carga|abre|prende|enciende|se\s+ve)\b|\bbonit[oa]\s+pero\b|\bbuen[oa]?\s+pero\b",
    _I,
)


# What real complaints do, in the order reasons are listed (see TAGS). A tag listed twice
# reports its first matching pattern only.
_CUES = (
    ("problem", _PROBLEM),
    ("problem", _DEFECT),
    ("danger", _DANGER),
    ("delivery", _DELIVERY),
    ("unavailable", _UNAVAILABLE),
    ("waiting", _WAITING),
    ("waiting", _WAITING_MORE),
    ("repeat", _REPEAT),
    ("help", _HELP),
    ("help", _DEMAND),
    ("expectation", _EXPECTATION),
    ("blame", _BLAME),
    ("blame", _DISTRUST),
    ("money", _MONEY),
)
for _p in (
    *(p for _, p in _CUES),
    _QUESTION_START,
    _QUESTION_PHRASES,
    _SPANISH_QUESTION,
    _RHETORICAL,
    _NOT_WAIT,
    _WAIT,
    _CONFUSION_PHRASES,
    _CHANGE_WORDS,
    _COMPLAINT_PHRASES,
    _COMPLAINT_WORDS,
    _SARCASM_EXTRA,
):
    _LOWERED[id(_p)] = Locator(re.compile(_p.pattern, _p.flags & ~re.IGNORECASE))
_SARCASM_CASED = Locator(_SARCASM)  # reads "NOT" in capitals: runs on the original text
_NEEDLES = NeedleIndex(_LOWERED.values())  # which lowered patterns can match at all, in one pass


def _denial(text: str) -> str | None:
    """The first negation word that is not part of a friendly formula ("can't wait")."""
    friendly = [m.span() for m in _FRIENDLY_DENIAL.finditer(text)]
    for m in _DENIAL.finditer(text):
        if not any(a <= m.start() < b for a, b in friendly):
            return m.group(0)
    return None


def _signals(text: str, compound: float, config: ClassifyConfig) -> list[str]:
    """Every reason that makes a comment critical, in a stable order."""
    reasons: list[str] = []
    m: _Found | None
    low: str | None = text.lower()
    if low is not None and len(low) != len(text):  # a few letters change length ("İ"): no offsets
        low = None
    if q := _question(text, low):
        reasons.append(q)
    enthusiastic = q is None and (compound >= POSITIVE_COMPOUND or bool(_search(_NOT_WAIT, text, low)))
    if m := _MIXED_PUNCT.search(text):
        reasons.append(f"confusion: repeated punctuation '{m.group(0)}'")
    elif (m := _BANGS.search(text)) and not enthusiastic:
        reasons.append(f"confusion: repeated punctuation '{m.group(0)}'")
    if _search(_WAIT, text, low) and not _search(_NOT_WAIT, text, low):
        reasons.append("confusion: says 'wait'")
    if m := _search(_CONFUSION_PHRASES, text, low):
        reasons.append(f"confusion: says '{(m.group(0) or '').strip()}'")
    acronyms = {a.upper() for a in config.acronyms}
    caps = [w for w in _CAPS_WORD.findall(text) if w.isupper() and w not in acronyms]
    if caps and not enthusiastic:
        reasons.append(f"confusion: all caps '{caps[0]}'")
    if m := _search(_CHANGE_WORDS, text, low):
        word = m.group("a") or m.group("b") or ""
        if word.lower().startswith("cancel") or not enthusiastic:
            reasons.append(f"confusion: talks about a change '{word}'")
    if compound <= NEGATIVE_COMPOUND:
        reasons.append(f"complaint: negative sentiment (VADER compound {compound:.2f})")
    elif compound < DENIAL_TONE and (word := _denial(text)):
        reasons.append(f"denial: says '{word}' (tone not positive, VADER {compound:.2f})")
    if m := _search(_COMPLAINT_PHRASES, text, low) or _search(_COMPLAINT_WORDS, text, low):
        reasons.append(f"complaint: says '{_quote(m)}'")
    if m := _SARCASM_CASED.search(text) or _search(_SARCASM_EXTRA, text, low):
        reasons.append(f"complaint: sarcasm '{_quote(m)}'")
    seen: set[str] = set()
    for tag, pattern in _CUES:
        if tag not in seen and (m := _search(pattern, text, low)):
            seen.add(tag)
            reasons.append(f"{tag}: says '{_quote(m)}'")
    return reasons


_DEFAULT_CONFIG = ClassifyConfig()


def classify(
    text: str,
    *,
    changed_words: Iterable[str] = (),
    posted_while_wrong: bool = False,
    copies_elsewhere: int = 0,
    config: ClassifyConfig = _DEFAULT_CONFIG,
) -> Classification:
    """Classify one comment's text.

    `changed_words` are the words the correction removed or added ("thursday"): a comment
    that mentions one is critical, since its author is reacting to what was wrong.
    `posted_while_wrong` only adds a reason: a comment written while the wrong text was live
    is critical when it also asks, worries, complains or mentions a changed word, not alone
    (otherwise every "Thanks!" under a corrected post would be protected).
    `copies_elsewhere` is how many other posts carry the same text (from the caller, which
    sees the archive); two or more counts as one piece of spam evidence, never as spam alone.
    """
    reasons: list[str] = []
    links = _URL.findall(text)
    # Signals read the text without its links: "?" in a query string is not a question.
    prose = _URL.sub(" ", text) if links else text
    excluded = _exclusion(text, links, prose, config, copies_elsewhere)
    if excluded:
        reasons.append(excluded[1])
    # VADER flips "thank" in "can't thank you enough": friendly formulas are scored without it.
    reasons.extend(_signals(prose, _compound(_FRIENDLY_DENIAL.sub(" ", prose)), config))
    mention = _words_regex(tuple(sorted({w.strip().lower() for w in changed_words if w.strip()})))
    if mention and (m := mention.search(prose)):
        reasons.append(f"mentions changed word '{m.group(0).lower()}'")
    critical = excluded is None and bool(reasons)
    if posted_while_wrong:
        reasons.append("posted while the wrong version was live")
    return Classification(
        critical=critical, reasons=tuple(reasons), excluded=excluded[0] if excluded else None
    )


TAGS: dict[str, str] = {
    "question": "asks something (a question mark, question words, or a rhetorical 'why')",
    "confusion": "shows confusion or alarm (caps, '?!', 'wait', talk of a change)",
    "complaint": "complains: negative sentiment, a complaint word or hashtag, or sarcasm",
    "problem": "reports something broken or failing (not working, error, outage, can't log in)",
    "delivery": "says something never arrived (order, parcel, refund, bus)",
    "denial": "says something did not happen or is not so (not, never, nadie) in a tone that is not warm",
    "waiting": "has been kept waiting: no reply, on hold, still unresolved, delayed",
    "help": "asks for help, contact or action (please help, check my DM, I want a refund)",
    "expectation": "says it fell short of what was promised or worked before",
    "blame": "blames the organisation directly (you charged me, why are you doing this)",
    "money": "disputes money: a charge, a refund, a scam, a price",
    "danger": "reports a safety risk, an injury or contamination (glass in food, a pothole)",
    "unavailable": "says something is sold out, discontinued or no longer offered",
    "repeat": "says the same failure happened again (every time, yet again, the third time)",
    "mentions changed word": "mentions a word the correction changed",
    "posted while the wrong version was live": "written while the wrong text was up",
    "label": "was labelled by staff (`comment-guard label`): their decision overrides the classifier",
    "policy": 'is protected by the policy protect = "all" (every comment but spam, abuse, the page\'s)',
    "spam": "shows two pieces of spam evidence (promotional patterns, links, repeats)",
    "links-only": "is nothing but links and mentions",
    "abuse": "contains a slur or a threat",
}


def _tag(reason: str) -> str:
    for tag in TAGS:
        if reason == tag or reason.startswith(tag + ":") or reason.startswith(tag + " "):
            return tag
    return reason.split(":")[0]


def explain(c: Classification) -> str:
    """Human-readable, multi-line account of a classification (for `comment-guard explain`)."""
    if c.excluded:
        head = f"Not protected: {c.excluded} (staff may hide or delete it)."
    elif c.critical:
        head = "Critical: staff should answer this comment publicly, not delete or hide it."
    else:
        head = (
            "Not critical: no question, confusion, complaint, problem, request for help or"
            " changed word found."
        )
    lines = [head]
    if c.reasons:
        lines.append("Reasons:")
        lines.extend(f"  - {r}" for r in c.reasons)
        tags = list(dict.fromkeys(_tag(r) for r in c.reasons))
        lines.append("What that means:")
        lines.extend(f"  {t}: the comment {TAGS[t]}" for t in tags if t in TAGS)
    return "\n".join(lines)
