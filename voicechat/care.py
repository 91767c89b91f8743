"""The care layer: crisis recognition on the user's words, the screen on every sentence of an
answer, and the fixed safe answer with the operator's helplines.

Plain code, no language model: ``crisis_assess`` runs before the LLM is asked (a recognised
turn is answered by ``safe_answer`` alone), ``AnswerScreen`` passes each sentence of an
answer before it is shown or spoken. The word lists are in voicechat.care_rules; the
wording of the safe answer follows published safe-messaging guidance (README "Crisis
safety"); bench/care_bench.py measures both on bench/care/.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from voicechat import care_rules as rules
from voicechat.care_model import ANSWERS_MODEL, MESSAGES_MODEL, CareModel

logger = logging.getLogger(__name__)

# --- text ---------------------------------------------------------------------------------

_TRADITIONAL = str.maketrans(
    "殺藥遺書樓輕結東絕鬱傷讓們會見別離開這個點沒難過覺給寫燒繩頂橋邊麼裡為負擔後時氣嗎還經準備計劃決說話謝愛對"
    "殘劃腕頭醫療發現嗎歲體無聊處乾淨淚聽關麗場處讀個會來請電線熱幫鐘錢總應該樣",
    "杀药遗书楼轻结东绝郁伤让们会见别离开这个点没难过觉给写烧绳顶桥边么里为负担后时气吗还经准备计划决说话谢爱对"
    "残划腕头医疗发现吗岁体无聊处干净泪听关丽场处读个会来请电线热帮钟钱总应该样",
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, one space between words, no spaces between Chinese
    characters, simplified characters for the few traditional ones the rules need."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRADITIONAL)
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    text = " ".join(text.split())
    return re.sub(r"(?<=[\u3400-\u9fff，。！？、；：]) (?=[\u3400-\u9fff，。！？、；：])", "", text)


@cache
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def _search(patterns: Iterable[str], text: str) -> re.Match | None:
    for pattern in patterns:
        match = _compiled(pattern).search(text)
        if match:
            return match
    return None


# --- recognising a crisis in the user's words ---------------------------------------------------


@dataclass(frozen=True)
class CrisisSignal:
    """Why a turn was recognised as a crisis: the kind of statement (intent, wish_dead, burden,
    plan, farewell, self_harm, method_question; weak: weak signs together; model: the
    classifier) and whether it took the user's earlier messages (``window``). Never holds the
    user's words."""

    kind: str
    window: bool = False


def _strong(text: str) -> str | None:
    """The first strong rule's kind that matches ``text`` and is not excused by its context."""
    for table, excuses in ((rules.STRONG_EN, rules.EXCUSES_EN), (rules.STRONG_ZH, rules.EXCUSES_ZH)):
        for kind, pattern in table:
            if _compiled(pattern).search(text) and not _excused(kind, pattern, text, excuses):
                return kind
    return None


# Kinds whose context anywhere in the message explains them: "Last day at my job. Said goodbye to
# everyone and handed in my keys." is one leaving, told in two sentences.
_WHOLE_MESSAGE_EXCUSES = {"farewell"}


def _excused(kind: str, pattern: str, text: str, excuses: dict[str, list[str]]) -> bool:
    """Whether the only matches of ``pattern`` in ``text`` are ordinary talk: an idiom, an
    accident, a story about someone else. Decided per sentence, so that "the film was about
    suicide. I want to die too." is still a crisis (a farewell's context counts anywhere in the
    message: _WHOLE_MESSAGE_EXCUSES). A match that spans sentences ("I miss grandpa.
    I'll be seeing him soon.") is judged on the whole text."""
    if kind in _WHOLE_MESSAGE_EXCUSES and _search(excuses.get(kind, ()), text):
        return True
    within_one = False
    for sentence in _sentences(text):
        if _compiled(pattern).search(sentence):
            within_one = True
            if not _search(excuses.get(kind, ()), sentence):
                return False
    return within_one or _search(excuses.get(kind, ()), text) is not None


_SENTENCE = re.compile(r"[^.!?。！？;；\n]+[.!?。！？;；\n]*")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.findall(text) if s.strip()] or [text]


def _weak(text: str) -> dict[str, int]:
    """The weak signs in ``text``: per kind (care_rules.WEAK_EN/WEAK_ZH), how many different
    words of that kind (at most 2), less the kinds its context makes ordinary (WEAK_EXCUSES)."""
    found: dict[str, set[str]] = {}
    for table in (rules.WEAK_EN, rules.WEAK_ZH):
        for kind, patterns in table.items():
            for pattern in patterns:
                for match in _compiled(pattern).finditer(text):
                    found.setdefault(kind, set()).add(match.group())
    for kinds, pattern in rules.WEAK_EXCUSES:
        if _compiled(pattern).search(text):
            for kind in kinds:
                found.pop(kind, None)
    return {kind: min(2, len(words)) for kind, words in found.items()}


# How much each weak sign weighs: finality and the speaker's own absence most, a means, a day or
# a goodbye least ("my pills tonight" is a routine, "goodbye, see you tomorrow" a chat's end).
WEAK_WEIGHTS = {"gone": 3, "hopeless": 2, "final": 2, "affairs": 2, "alone": 2, "bye": 1, "means": 1, "ready": 1, "time": 1}
WEAK_THRESHOLD = 4
_WEIGHTY = {"means", "hopeless", "final", "gone", "affairs"}  # one of these must be among the signs


def _weak_crisis(signs: dict[str, int]) -> bool:
    """Weak signs that together make a crisis (WEAK_WEIGHTS): enough weight, from at least two
    kinds (or two different words of one's absence or of putting affairs in order), one of them
    more than a day, a goodbye or an empty house."""
    score = sum(WEAK_WEIGHTS[kind] * n for kind, n in signs.items())
    if score < WEAK_THRESHOLD or not _WEIGHTY & signs.keys():
        return False
    return len(signs) >= 2 or any(signs.get(kind, 0) >= 2 for kind in ("gone", "affairs"))


def _merged(*signs: dict[str, int]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for one in signs:
        for kind, n in one.items():
            merged[kind] = min(2, merged.get(kind, 0) + n)
    return merged


@cache
def _model(path) -> CareModel | None:
    """A classifier of voicechat.care_model, loaded once per process (None when its file is missing:
    the rules then work alone, and the log says so)."""
    try:
        return CareModel.load(path)
    except OSError:
        logger.error("care model %s is missing: run `python manage.py care_train`", path)
        return None


_LATIN_WORD = re.compile(r"[a-z0-9']+")


def _model_probability(path, text: str, *, words: int = 4) -> float:
    """The classifier at ``path`` on ``text`` (0 without a model file). Only for texts of some
    length (``words`` words, or half again as many Chinese characters): on "Good." or "Nobody
    will say this." a bag of n-grams says little but its prior, and the rules alone judge them."""
    model = _model(path)
    if model is None:
        return 0.0
    if len(_LATIN_WORD.findall(text)) < words and len(_CJK.findall(text)) < words * 3 // 2:
        return 0.0
    return model.probability(text)


def _model_says(path, text: str, *, words: int = 4) -> bool:
    """Whether the classifier at ``path`` says yes to ``text`` (reaches its own threshold)."""
    model = _model(path)
    return model is not None and _model_probability(path, text, words=words) >= model.threshold


# How many of the user's earlier messages the crisis check reads with this one.
CRISIS_WINDOW = 3


def crisis_assess(text: str, earlier: Iterable[str] = ()) -> CrisisSignal | None:
    """Whether the user's words ``text`` (with ``earlier``: their last few messages before it,
    oldest first) state suicidal thoughts, a plan or means, farewell, self-harm or a question
    about methods. ``None`` for ordinary talk, idioms ("this exam is killing me", "累死了"),
    grief and stories.

    The earlier messages count only together with this one: a plan said over two messages
    ("I've saved my pills" … "tonight is the night") is recognised on the second; words that
    were a crisis on their own were recognised on their own turn and do not make every later
    turn one again.
    """
    now = normalise(text)
    kind = _strong(now)
    if kind:
        return CrisisSignal(kind)
    signs = _weak(now)
    if _weak_crisis(signs):
        return CrisisSignal("weak")
    model = _model(MESSAGES_MODEL)
    p_now = _model_probability(MESSAGES_MODEL, now)  # read once: alone here, as a share of a window below
    if model is not None and p_now >= model.threshold:
        return CrisisSignal("model")
    before = [normalise(t) for t in earlier if t and t.strip()][-CRISIS_WINDOW:]
    if not before:
        return None
    joined_before = " \n ".join(before)
    joined = f"{joined_before} \n {now}"
    if _strong(joined_before) is None:
        kind = _strong(joined)
        if kind:
            return CrisisSignal(kind, window=True)
    signs_before = _weak(joined_before)
    if signs and not _weak_crisis(signs_before) and _weak_crisis(_merged(signs_before, signs)):
        return CrisisSignal("weak", window=True)
    # The classifier on the window only when this message carries some of the weight itself: after
    # "I cannot calm down tonight.", "Are you there?" must not tip it.
    if p_now >= 0.5 and _model_says(MESSAGES_MODEL, joined) and not _model_says(MESSAGES_MODEL, joined_before):
        return CrisisSignal("model", window=True)
    return None


# --- screening the answer ----------------------------------------------------------------------


def sentence_harmful(sentence: str, *, careful: bool = False) -> bool:
    """Whether one sentence of an answer encourages self-harm, wishes the user dead, describes a
    method, turns the user away from help, or agrees that the user should die.

    In order: words that turn the user away from help or toward doing it unseen (harmful
    whatever else is said); known harmful forms; then a harm topic ("dying", "the bridge",
    "药") that the sentence endorses ("peaceful", "go ahead", "解脱") without a protective turn
    ("please reach out", "someone you trust", grief for someone who died). ``careful`` (the
    conversation has had a crisis): a harm topic without a protective turn is enough."""
    text = normalise(sentence)
    if _search(rules.ANTI_HELP_EN, text) or _search(rules.ANTI_HELP_ZH, text):
        return True
    if _search(rules.HARMFUL_EN, text) or _search(rules.HARMFUL_ZH, text):
        return not _protective(text) or _search(_DIRECT_HARM, text) is not None
    if _protective(text) or _search((rules.GRIEF_EN, rules.GRIEF_ZH, rules.EVERYDAY_EN, rules.EVERYDAY_ZH), text):
        return False
    text = _ZH_IDIOM.sub("", text)  # "饿死了就去吃点好吃的" names no death
    touches = _search((rules.ANSWER_CUE_EN, rules.ANSWER_CUE_ZH), text) is not None
    if touches and _model_says(ANSWERS_MODEL, text, words=6):  # veiled forms: "you've suffered enough, it's okay to stop now"
        return True
    for means, method in ((rules.MEANS_EN, rules.METHOD_CUE_EN), (rules.MEANS_ZH, rules.METHOD_CUE_ZH)):
        if _compiled(means).search(text) and _compiled(method).search(text):
            return True  # a place or means with a cue of method or timing: "the bridge, tonight, no one around"
    if _search((rules.TOPIC_EN, rules.TOPIC_ZH, rules.HARM_TOPIC_EN, rules.HARM_TOPIC_ZH), text) is None:
        return False
    if careful:
        return True
    return _search((rules.ENDORSE_EN, rules.ENDORSE_ZH, rules.ENDORSE_WORDS_EN, rules.ENDORSE_WORDS_ZH), text) is not None


_ZH_IDIOM = re.compile(f"[{rules.ZH_INTENSIFIED}]死(?:了|我了|人了|啦|掉了)?")

# Harmful forms that a protective word next to them does not excuse ("you should jump, it's safe").
_DIRECT_HARM = [
    r"\b(?:you should|go ahead and|why not|just) (?:die|kill yourself|jump|end (?:it|your life))\b",
    r"(?:你|您)(?:就|应该|干脆)(?:去死|自杀|跳下去)|去死吧",
]


def _protective(text: str) -> bool:
    return _search((rules.PROTECTIVE_EN, rules.PROTECTIVE_ZH), text) is not None


class AnswerScreen:
    """Checks each sentence of an answer before it leaves: the sentence alone, and with the one
    before it (a harmful idea split over two sentences). ``passes`` is False once any check
    has failed; the answer must then stop and the safe answer take its place."""

    def __init__(self, *, careful: bool = False) -> None:
        self.careful = careful
        self.previous = ""
        self.tripped = False

    def passes(self, sentence: str) -> bool:
        if self.tripped:
            return False
        pair = f"{self.previous} {sentence}".strip()
        if sentence_harmful(sentence, careful=self.careful) or (self.previous and _joined_harmful(pair, self.careful)):
            self.tripped = True
            return False
        self.previous = sentence
        return True


def _joined_harmful(pair: str, careful: bool) -> bool:
    """Two sentences read as one: only the rules that need both halves (a method and a place,
    a topic and its endorsement) can newly match."""
    return sentence_harmful(pair.replace(". ", ", ").replace("。", "，"), careful=careful)


# --- the safe answer ------------------------------------------------------------------------------

# The fixed answer, per language. Reviewed wording; never generated, never changed by a prompt.
# It follows the safe-messaging guidance named in README "Crisis safety": take the person
# seriously and thank them, say they need not carry it alone, encourage contacting someone
# now (a helpline on screen or a person they trust), name emergency services for immediate
# danger, and stay with them. It names no method, gives no promise of secrecy, and does not
# lecture. Each sentence is spoken as its own piece (the first is short: first audio sooner).
SAFE_ANSWER: dict[str, list[str]] = {
    "en": [
        "I'm really glad you told me.",
        "I'm taking what you said seriously, and I care about what happens to you.",
        "You don't have to carry this alone: please reach out to someone right now, one of the helplines on your screen "
        "or a person you trust.",
        "If you might act on these thoughts, or you're in danger right now, please call your local emergency number.",
        "I'm still here, and you can keep talking with me.",
    ],
    "zh": [
        "谢谢你愿意告诉我。",
        "我很在乎你，也会认真对待你说的每一句话。",
        "你不需要一个人扛着这些，现在就可以联系屏幕上的心理援助热线，或者一个你信任的人。",
        "如果你觉得自己可能会伤害自己，或者现在就有危险，请马上拨打当地的急救电话。",
        "我还在这里，你可以继续跟我说。",
    ],
}

# What the model is told for the rest of a conversation that has had a crisis (README "Crisis
# safety"): gentle, no jokes or upbeat suggestions, never methods, keep encouraging support.
CAREFUL_INSTRUCTION: dict[str, str] = {
    "en": (
        "Careful mode: earlier in this conversation the user said they have thoughts of suicide or self-harm. "
        "Be gentle, calm and warm, in short spoken sentences. Take everything they say seriously; never minimise, "
        "argue, lecture or blame. No jokes, no teasing, no upbeat or cheerful suggestions, no upbeat music. "
        "Never describe or give any information about methods, means, doses or places, and never present suicide "
        "or self-harm as a solution or as understandable relief. Do not promise secrecy. Listen, reflect what they "
        "said, ask gently whether they are safe right now, keep encouraging them to contact a crisis helpline (shown "
        "on their screen) or someone they trust, and if they are in danger tell them to call local emergency services now."
    ),
    "zh": (
        "谨慎模式：用户在本次对话中表达过自杀或自伤的想法。请温和、平静、温暖，用简短的口语句子。"
        "认真对待用户说的每一句话，不要轻视、争辩、说教或责备。不开玩笑，不调侃，不提轻快欢乐的建议，不推荐欢快的音乐。"
        "绝不描述或提供任何关于方法、工具、剂量或地点的信息，绝不把自杀或自伤说成解决办法或解脱。不要答应保密。"
        "倾听并回应对方的感受，温和地询问对方此刻是否安全，继续鼓励对方联系屏幕上的心理援助热线或一个信任的人；"
        "如果对方有危险，请对方立即拨打当地的急救电话。"
    ),
}


@dataclass(frozen=True)
class Resource:
    name: str
    contact: str
    note: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "contact": self.contact, "note": self.note}


# The defaults (README "Crisis safety" gives their sources and the date they were checked).
# Operators set their own local lines: CARE_RESOURCES_FILE, or Care resources in the admin.
DEFAULT_RESOURCES: dict[str, list[Resource]] = {
    "en": [
        Resource("988 Suicide & Crisis Lifeline (US)", "Call or text 988", "Free, 24/7"),
        Resource("Samaritans (UK and Ireland)", "116 123", "Free, 24 hours a day"),
        Resource("Find A Helpline (other countries)", "findahelpline.com", "Free, confidential helplines by country"),
        Resource("Emergency services", "911 (US) · 999 (UK) · 112 (EU)", "If you are in danger right now"),
    ],
    "zh": [
        Resource("全国心理援助热线（中国大陆）", "12356", "各地每天至少 18 小时，很多城市 24 小时"),
        Resource("北京心理危机研究与干预中心", "010-82951332", "24 小时"),
        Resource("希望24热线", "400-161-9995", "24 小时，志愿者接听"),
        Resource("香港撒玛利亚防止自杀会 · 台湾安心专线", "2389 2222 · 1925", "24 小时"),
        Resource("紧急情况", "120（急救）· 110（报警）", "如果你现在就有危险"),
    ],
}


@dataclass(frozen=True)
class SafeAnswer:
    language: str
    sentences: list[str]
    resources: list[Resource] = field(default_factory=list)

    @property
    def text(self) -> str:
        joiner = "" if self.language == "zh" else " "
        return joiner.join(self.sentences)


def care_language(language: str) -> str:
    return "zh" if (language or "").lower().startswith("zh") else "en"


def resources_for(language: str) -> list[Resource]:
    """The helplines shown with the safe answer: the operator's rows in the admin for this
    language when there are any, else CARE_RESOURCES_FILE's, else the defaults."""
    from django.conf import settings

    from voicechat.models import CareResource

    language = care_language(language)
    try:
        rows = list(CareResource.objects.filter(language=language, active=True).order_by("order", "id"))
    except Exception:  # the safe answer must never fail: without the database, the configured lines
        logger.exception("care resources could not be read; showing the configured ones")
        rows = []
    if rows:
        return [Resource(r.name, r.contact, r.note) for r in rows]
    configured = (settings.CARE_RESOURCES or {}).get(language)
    if configured:
        return [Resource(str(r.get("name", "")), str(r.get("contact", "")), str(r.get("note", ""))) for r in configured]
    return list(DEFAULT_RESOURCES[language])


def safe_answer(language: str, *, resources: list[Resource] | None = None) -> SafeAnswer:
    language = care_language(language)
    return SafeAnswer(language, list(SAFE_ANSWER[language]), resources if resources is not None else resources_for(language))
