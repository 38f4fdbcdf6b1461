"""Finding the knowledge-base article that best answers a message, in its language."""

import re
from collections.abc import Iterable

from cases.models import KnowledgeArticle

WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
STOPWORDS = frozenset(
    (
        "the and for you your are was were have has had not but with this that from what when "
        "how why can could would will just get got der die das und ist nicht ich mit ein eine "
        "den dem des sie wir ihr für auf noch auch wie was wann warum kann"
    ).split()
)
MIN_SCORE = 1.0


def words(text: str) -> set[str]:
    return {w for w in (m.group(0).casefold() for m in WORD.finditer(text)) if w not in STOPWORDS}


def _stem_match(word: str, vocabulary: Iterable[str]) -> bool:
    return any(word == v or (len(v) >= 4 and word.startswith(v)) for v in vocabulary)


def score(text_words: set[str], article: KnowledgeArticle) -> float:
    keywords = words(article.keywords.replace(",", " "))
    title = words(article.title)
    total = 0.0
    for word in text_words:
        if _stem_match(word, keywords):
            total += 2.0
        elif _stem_match(word, title):
            total += 1.0
    return total


def suggestions(text: str, language: str, limit: int = 3) -> list[KnowledgeArticle]:
    """The best matching articles for an agent to pick from, best first."""
    text_words = words(text)
    if not text_words:
        return []
    pool = list(KnowledgeArticle.objects.filter(is_active=True, language__in=[language, "en"]))
    ranked = sorted(
        ((score(text_words, a) + (0.5 if a.language == language else 0), -a.pk, a) for a in pool),
        reverse=True,
    )
    return [a for value, _, a in ranked if value >= MIN_SCORE][:limit]


def best_answer(text: str, language: str) -> KnowledgeArticle | None:
    """The active article with the most keyword hits in the customer's language (English
    when the knowledge base has nothing in it), or None when nothing matches well enough."""
    text_words = words(text)
    if not text_words:
        return None
    articles = list(KnowledgeArticle.objects.filter(is_active=True))
    pool = [a for a in articles if a.language == language] or [
        a for a in articles if a.language == "en"
    ]
    if not pool:
        return None
    ranked = max(pool, key=lambda a: (score(text_words, a), -a.pk))
    return ranked if score(text_words, ranked) >= MIN_SCORE else None
