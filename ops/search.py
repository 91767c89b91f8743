"""Keyword search of the system log through a MariaDB/MySQL FULLTEXT index.

InnoDB's built-in parser splits text on non-word characters and indexes words of
at least ``innodb_ft_min_token_size`` (3) characters; it has no parser that splits
Chinese (MariaDB has no ngram parser), where a whole sentence is one "word". So each
log row carries a machine-written ``search_text`` that the default parser indexes
the way we need:

- Latin (and other space-separated) words, lowercased: ``MusicGen ran`` → ``musicgen ran``;
- runs of CJK characters as overlapping bigrams, each prefixed with ``z`` so that it
  reaches the 3-character minimum: ``钢琴曲`` → ``z钢琴 z琴曲``;
- the row's user as ``zuser<id>``, so that a search for a username is answered by
  the same index (the username is resolved to ids when searching).

A search term then becomes a BOOLEAN MODE expression in which every term is
required: a Latin word as a word prefix (``pian*``), a CJK run as all of its
bigrams. That is a necessary condition for a row to contain the term at a word
start, so the admin ANDs it with the exact ``LIKE`` test and the results are exactly
the substring matches that begin a word (any substring of two or more characters
inside a Chinese run). Terms the index cannot answer (words under 3 characters,
a single CJK character) are left to the ``LIKE``.

The FULLTEXT index is created with InnoDB's stopword list turned off (see
migration 0003): with it on, ``the`` or ``will`` are not indexed and a required
stopword empties the result, and ``wil*`` would miss rows that contain "will".
"""

from __future__ import annotations

import re

from django.db.models import Lookup, Q

# InnoDB's default limits (innodb_ft_min_token_size / innodb_ft_max_token_size, in characters).
MIN_TOKEN = 3
MAX_TOKEN = 84
CJK_PREFIX = "z"
USER_TOKEN = "zuser{}"

# Scripts written without spaces between words (Han, kana) and Hangul, whose syllables are
# just as searchable as bigrams.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
_RUN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])\w)+)")


def _tokens(text: str) -> tuple[list[str], list[str]]:
    """(words, cjk runs) of ``text``, words lowercased and cut to InnoDB's longest token."""
    words, runs = [], []
    for match in _RUN.finditer(text.lower()):
        if match.group("cjk"):
            runs.append(match.group("cjk"))
        else:
            words.append(match.group("word")[:MAX_TOKEN])
    return words, runs


def _bigrams(run: str) -> list[str]:
    return [CJK_PREFIX + run[i:i + 2] for i in range(len(run) - 1)]


def search_text_for(*texts: str, user_id: int | None = None) -> str:
    """The indexed form of a log row: its words, its CJK bigrams and its user, each once."""
    seen: dict[str, None] = {}
    for text in texts:
        words, runs = _tokens(text or "")
        for word in words:
            seen.setdefault(word)
        for run in runs:
            for gram in _bigrams(run):
                seen.setdefault(gram)
    if user_id is not None:
        seen.setdefault(USER_TOKEN.format(user_id))
    return " ".join(seen)


def _pieces(term: str) -> tuple[list[str], list[str]]:
    """The parts of a search term the index holds: words of 3+ characters, CJK bigrams."""
    words, runs = _tokens(term)
    return [word for word in words if len(word) >= MIN_TOKEN], [gram for run in runs for gram in _bigrams(run)]


def term_expression(term: str, user_ids: list[int] | tuple[int, ...] = ()) -> str | None:
    """The BOOLEAN MODE expression a row must satisfy to contain ``term`` (or belong to one of
    ``user_ids``), or None when the index cannot help with this term (it is then left to LIKE)."""
    words, grams = _pieces(term)
    parts = [f"+{word}*" for word in words] + [f"+{gram}" for gram in grams]
    if not parts:
        # Nothing indexable in the text part: an index test of the user alone would drop rows
        # whose message contains the term, so leave the whole term to LIKE.
        return None
    text = " ".join(parts)
    if not user_ids:
        return f"+({text})"
    users = " ".join(USER_TOKEN.format(pk) for pk in user_ids)
    return f"+(({text}) {users})"


def term_word_starts(term: str) -> Q | None:
    """What ``term_expression`` asks of the index, as a plain filter on ``search_text``.

    Every way of searching applies it, so that a row found by reading the newest rows is one the
    index would have found too (``xpiano`` is not found by ``piano`` either way). None when the
    term has no indexable part.
    """
    words, grams = _pieces(term)
    if not (words or grams):
        return None
    condition = Q()
    for piece in [*words, *grams]:  # a bigram is three characters, no other token starts with it
        condition &= Q(search_text__istartswith=piece) | Q(search_text__icontains=f" {piece}")
    return condition


class FullTextMatch(Lookup):
    """``MATCH(column) AGAINST (expression IN BOOLEAN MODE)`` as a filter (MySQL/MariaDB only).

    A lookup rather than an expression because Django compares boolean expressions with
    ``= true`` on MySQL, and MATCH returns a relevance, not 0/1.
    """

    lookup_name = "fulltext_match"

    def as_mysql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"MATCH ({lhs_sql}) AGAINST ({rhs_sql} IN BOOLEAN MODE)", (*lhs_params, *rhs_params)

    def as_sql(self, compiler, connection):
        from django.db import NotSupportedError

        raise NotSupportedError("FULLTEXT search needs MySQL or MariaDB")
