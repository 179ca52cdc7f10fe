"""The extractive answerer: picks the sentences of the retrieved passages that answer the
question and composes a short answer in which every sentence carries its [n] marker.

It writes no words of its own: each sentence of the answer is a sentence of a cited passage
(lists stay lists, introduced by their own lead-in sentence). It refuses, showing the
nearest passages instead, when the best passage is not close to the question, when the
passages hold too little of what the question asks about, or when the question asks for a
figure (how much, how many, how long) and the chosen sentences state none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from llama_index.core.base.embeddings.base import BaseEmbedding

from assistant.glossary import equivalents_of, expand
from assistant.pinpoint import (
    cite_label,
    confers_power,
    defined_later,
    defines_term,
    exception_to,
    holds_part,
    legal_force,
    paragraph_number,
    pinpoint,
    starts_part,
    subject_to,
    subsection_number,
)
from assistant.retrieval import Vocabulary
from assistant.settings import AnswerSettings, StatusModelSettings
from assistant.text import answer_type, missing_answer_type, split_sentences, unit_vector
from assistant.types import Draft, Passage, Source, Status

REFUSAL = "I couldn't find this in the guidance documents."
# a word as written (not the 'th' of '25th')
_WORD = re.compile(r"(?<![\w'’-])[A-Za-z][A-Za-z'’-]*[A-Za-z]")
PARTIAL_LABEL = "The documents do not cover all of this question. Not found in them: "
DISAGREE_LABEL = "The cited passages give different figures: "
EMPTY_QUESTION = "Please type a question about the guidance documents."
NO_PROVISION_LABEL = "The documents hold no provision numbered as asked: "
# What a refusal can say for certain is missing: words of the question that no document uses
# anywhere, and the kind of figure asked for when none of the passages shown states one.
UNUSED_WORDS_LABEL = "Words of your question that none of the documents uses: "
NO_FIGURE_LABEL = "None of the nearest passages states "

# Text that tries to instruct the assistant: never quoted as an answer, whoever wrote it.
INJECTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|rules|prompt)\b|system prompt|"
    r"developer mode|you are now\b|as an ai\b",
    re.I,
)
_ANAPHOR = re.compile(r"^(this|these|that|those|it|they|their|such|both|however|also)\b", re.I)


@dataclass
class _Sentence:
    text: str
    passage: int  # index into the passages list
    position: int  # line/sentence order inside the passage
    is_item: bool
    intro: int | None  # position of the sentence that introduces this list item
    provision: int | None = None  # where its subsection (or numbered paragraph) starts
    law: bool = False  # from legislation: always quoted by whole provision
    score: float = 0.0
    joined: bool = False  # joined from the next chunk: quoted only with what depends on it
    power: bool = False  # of a subsection conferring a power to make regulations or a code


_SUBSECTION_START = re.compile(r"^\(\d+[A-Z]{0,3}\)")


def _candidates(passages: list[Passage]) -> list[_Sentence]:
    """Every quotable sentence of the passages. In legislation each sentence also knows the
    provision (subsection with its lead-in and items) it belongs to, so that an answer
    quotes whole provisions, never an item without its lead-in."""
    sentences: list[_Sentence] = []
    for p_index, passage in enumerate(passages):
        intro: int | None = None
        legislation = passage.metadata.get("doc_type") == "legislation"
        guidance = passage.metadata.get("doc_type") == "statutory-guidance"
        provision: int | None = 0 if legislation or guidance else None
        power = False
        for position, (text, is_item) in enumerate(split_sentences(passage.text)):
            if legislation and _SUBSECTION_START.match(text):
                provision = position
                intro = None  # a new subsection is not an item of the one before's lead-in
                power = confers_power(text)
            elif legislation and is_item and intro is not None and defines_term(text):
                provision = position  # one definition of "(2) In this Part—", with its lead-in
            elif guidance and paragraph_number(text):
                provision = position  # a numbered paragraph of the Code or the framework
            if INJECTION.search(text):
                continue  # keeps its position (stored vectors line up), never selected
            leads = text.rstrip().endswith((":", "—", "–", "-"))
            joined = passage.joined(position)
            if is_item:
                sentences.append(
                    _Sentence(
                        text,
                        p_index,
                        position,
                        True,
                        intro,
                        provision,
                        legislation,
                        joined=joined,
                        power=power,
                    )
                )
                if leads:  # "(4) Regulations may—" introduces the items (a), (b) below it
                    intro = position
            else:
                sentences.append(
                    _Sentence(
                        text,
                        p_index,
                        position,
                        False,
                        None,
                        provision,
                        legislation,
                        joined=joined,
                        power=power,
                    )
                )
                intro = position if leads else None
    return sentences


def _own_text(passage: Passage) -> str:
    """The passage's own text, without the subsections joined from the next chunk."""
    if passage.joined_from is None and passage.joined_until is None:
        return passage.text
    return " ".join(
        text
        for position, (text, _) in enumerate(split_sentences(passage.text))
        if not passage.joined(position)
    )


def _coverage(q_terms: list[str], text_terms: set[str], vocab: Vocabulary) -> float:
    """IDF-weighted share of the question's terms found in the text (unknown terms weigh most)."""
    if not q_terms:
        return 0.0
    total = found = 0.0
    for term in set(q_terms):
        weight = vocab.idf(term) if vocab.known(term) else vocab.max_idf
        total += weight
        if term in text_terms:
            found += weight
    return found / total if total else 0.0


def _said_another_way(question: str, text_terms: set[str], vocab: Vocabulary) -> set[str]:
    """The text's terms, plus each question word the text says another way the field's
    vocabulary knows ('EHCP' when the text says 'EHC plan', 'daughter' when it says 'child')."""
    covered = set(text_terms)
    for written, alternatives in equivalents_of(question):
        if any(
            (terms := vocab.terms(alt)) and all(t in text_terms for t in terms)
            for alt in alternatives
        ):
            covered.update(vocab.terms(written))
    return covered


class ExtractiveAnswerer:
    """Selects and cites sentences; never generates text."""

    def __init__(self, settings: AnswerSettings, embed_model: BaseEmbedding, vocab: Vocabulary):
        self.settings = settings
        self.embed_model = embed_model
        self.vocab = vocab

    def answer(
        self, question: str, passages: list[Passage], query_embedding: list[float] | None
    ) -> Draft:
        """The quoted answer with its sources and status (answered, partial, not found,
        out of scope), decided by the fitted model of measurable signals in settings."""
        s = self.settings
        if not passages:
            return Draft(REFUSAL, [], "not_found", "nothing retrieved")
        q_terms = self.vocab.terms(question)
        q_terms_expanded = self.vocab.terms(expand(question))
        pool = passages[: max(s.max_citations + 2, 5)]
        sentences = _candidates(pool)
        if not sentences:
            return Draft(REFUSAL, self._nearest(passages), "not_found", "no sentences")
        named = self._named(sentences, pool)
        if named:  # asked for by number: the provision itself is the answer
            text, sources = self._compose(named, pool)
            return Draft(text, sources, "answered", "", {"named_provision": 1.0})

        # Relevance of each sentence: meaning (embedding), words (IDF overlap), passage rank.
        sims = self._sentence_similarities(question, sentences, query_embedding, pool)
        passage_terms = [
            set(self.vocab.terms(p.metadata.get("section", "") + " " + _own_text(p))) for p in pool
        ]
        wanted = answer_type(question)
        w = s.weights
        for sent, sim in zip(sentences, sims, strict=True):
            lexical = _coverage(q_terms, set(self.vocab.terms(sent.text)), self.vocab)
            context = _coverage(q_terms, passage_terms[sent.passage], self.vocab)
            short = len(sent.text.split()) < w.short_words
            states_figure = wanted is not None and wanted.search(sent.text)
            sent.score = (
                w.meaning * sim
                + w.words * lexical
                + w.context * context
                + w.rank / (1 + sent.passage)
                + (w.figure_bonus if states_figure else 0.0)
                - (w.short_penalty if short else 0.0)
            )
            if sent.power:
                sent.score *= w.power_weight

        ranked = sorted((x for x in sentences if not x.joined), key=lambda x: x.score, reverse=True)
        if not ranked:
            return Draft(REFUSAL, self._nearest(passages), "not_found", "no sentences")
        chosen = self._select(ranked, sentences, pool)

        best_dense = max((p.dense_similarity or 0.0) for p in pool)
        cited_terms: set[str] = set()
        for p_index in {c.passage for c in chosen}:
            cited_terms |= passage_terms[p_index]
            # a question word naming the document quoted (its title or publisher: "the
            # London hubs" of the Mayor of London's toolkit) is answered by being from it
            meta = pool[p_index].metadata
            cited_terms |= set(
                self.vocab.terms(f"{meta.get('title', '')} {meta.get('publisher', '')}")
            )
        coverage = max(
            _coverage(q_terms, cited_terms, self.vocab),
            _coverage(q_terms_expanded, cited_terms, self.vocab),
        )
        # concept coverage: a word the passages say the documents' way ('EHCP' as 'EHC plan')
        # is covered, and not listed as missing
        said = _said_another_way(question, cited_terms, self.vocab)
        chosen_text = " ".join(c.text for c in chosen)
        relevance = max(best_dense, max(sims))
        missing_type = missing_answer_type(question, chosen_text)
        signals = {
            "relevance": relevance,
            "best_dense": best_dense,
            "coverage": coverage,
            "concept_coverage": _coverage(q_terms, said, self.vocab),
            "best_score": ranked[0].score,
            "type_missing": 1.0 if missing_type else 0.0,
        }
        p_answer = answerable_probability(signals, s.status_model)
        diagnostics = {k: round(float(v), 4) for k, v in signals.items()}
        diagnostics["p_answer"] = round(p_answer, 4)
        missing = self._missing_words(question, said)
        if p_answer < s.status_model.partial_at:
            status: Status = "out_of_scope" if relevance < s.min_relevance else "not_found"
            reason = (
                f"p(answerable) {p_answer:.2f} < {s.status_model.partial_at}: "
                f"relevance {relevance:.2f}, coverage {coverage:.0%}"
                + (f", asks for {missing_type} and the passages give none" if missing_type else "")
            )
            nearest = self._nearest(passages)
            unused = self._unused_words(question)
            no_figure = missing_answer_type(question, " ".join(x.text for x in nearest))
            return Draft(
                refusal_text(unused, no_figure),
                nearest,
                status,
                reason,
                diagnostics,
                missing=((no_figure,) if no_figure else ()) + unused,
            )
        status = "answered" if p_answer >= s.status_model.answered_at else "partial"
        text, sources = self._compose(chosen, pool)
        note = disagreeing_figures(chosen, sources, pool)
        if note:
            text += "\n\n" + note
        reason = ""
        if status == "partial":
            reason = f"p(answerable) {p_answer:.2f} < {s.status_model.answered_at}"
            if missing_type:
                missing = (missing_type, *missing)
            if missing:
                text += "\n\n" + PARTIAL_LABEL + "; ".join(missing) + "."
        return Draft(
            text,
            sources,
            status,
            reason,
            diagnostics,
            missing=missing if status == "partial" else (),
        )

    def _named(self, sentences: list[_Sentence], pool: list[Passage]) -> list[_Sentence]:
        """The sentences of the passages whose provision the question names by number
        (at most max_citations passages, in the order retrieval ranked them): only those of
        the subsection it names, when it names one and the passage holds it."""
        passages = [i for i, p in enumerate(pool) if p.named is not None]
        holding = [  # a named subsection: only the passages that hold it, when any does
            i for i in passages if pool[i].named and holds_part(pool[i].text, str(pool[i].named))
        ]
        passages = _each_provision_first(holding or passages, pool)[: self.settings.max_citations]
        chosen: list[_Sentence] = []
        for rank, p_index in enumerate(passages):
            own = [x for x in sentences if x.passage == p_index]
            sub = pool[p_index].named
            if sub:
                starts = {x.position: x.text for x in own}
                inside = [
                    x
                    for x in own
                    if x.provision is not None and starts_part(starts.get(x.provision, ""), sub)
                ]
                own = inside or own
            for x in own:
                x.score = 1.0 - 0.01 * rank
            chosen += own
        return chosen

    def _missing_words(self, question: str, cited_terms: set[str]) -> tuple[str, ...]:
        """The question's informative words that no cited passage holds, as asked."""
        out: list[str] = []
        for word in re.findall(r"[A-Za-z][A-Za-z'’-]+", question):
            stems = self.vocab.terms(word)
            if not stems or stems[0] in cited_terms:
                continue
            term = stems[0]
            rare = not self.vocab.known(term) or self.vocab.idf(term) >= 0.5 * self.vocab.max_idf
            if rare and word.lower() not in (w.lower() for w in out):
                out.append(word)
        return tuple(out[: self.settings.max_missing_words])

    def _unused_words(self, question: str) -> tuple[str, ...]:
        """The question's words that no document uses in any form ('Southend', 'sourdough'),
        as asked: a refusal can say so for certain. Not a contraction ("doesn't"), nor a
        term the field's vocabulary knows another way of saying that the documents use
        ('IDP' for 'individual development plan', 'son' for 'child')."""
        said_otherwise = {
            written.lower()
            for written, alternatives in equivalents_of(question)
            if any(
                (terms := self.vocab.terms(alt)) and all(self.vocab.known(t) for t in terms)
                for alt in alternatives
            )
        }
        out: list[str] = []
        for word in _WORD.findall(question):
            plain = word.replace("’", "'")
            if "'" in plain and not plain.lower().endswith("'s"):
                continue  # a contraction: the documents never write one
            base = re.sub(r"'s$", "", plain.lower())  # "son's" is "son"
            stems = self.vocab.terms(base)
            if (
                stems
                and not self.vocab.known(stems[0])
                and base not in said_otherwise
                and word.lower() not in (w.lower() for w in out)
            ):
                out.append(word)
        return tuple(out[: self.settings.max_missing_words])

    # ------------------------------------------------------------------ internals

    def _sentence_similarities(
        self,
        question: str,
        sentences: list[_Sentence],
        query_embedding: list[float] | None,
        pool: list[Passage] | None = None,
    ) -> list[float]:
        if pool is not None:
            stored = [p.sentence_similarities for p in pool]
            if all(x is not None for x in stored):
                try:  # vectors stored at ingest: nothing to embed now
                    return [float(stored[x.passage][x.position]) for x in sentences]
                except IndexError:
                    pass  # segmentation changed since ingest: embed instead
        q = unit_vector(query_embedding or self.embed_model.get_query_embedding(question))
        vectors = self.embed_model.get_text_embedding_batch([x.text for x in sentences])
        return [float(unit_vector(v) @ q) for v in vectors]

    def _select(
        self, ranked: list[_Sentence], sentences: list[_Sentence], pool: list[Passage]
    ) -> list[_Sentence]:
        s = self.settings
        best = ranked[0].score
        chosen: list[_Sentence] = []
        words = 0
        passages_used: list[int] = []
        for sent in ranked:
            if len(chosen) >= s.max_sentences or words >= s.max_words:
                break
            if chosen and sent.score < best * s.keep_within:
                break
            if sent.passage not in passages_used and len(passages_used) >= s.max_citations:
                continue
            if any(
                _near_duplicate(sent.text, c.text) and _figures(sent.text) == _figures(c.text)
                for c in chosen
            ):
                continue  # the same sentence again (but one stating another figure is kept)
            n_words = len(sent.text.split())
            if chosen and words + n_words > s.max_words * s.overrun:
                continue
            chosen.append(sent)
            words += n_words
            if sent.passage not in passages_used:
                passages_used.append(sent.passage)
        # Asked what the law requires, a quoted passage of statutory guidance brings the
        # provision retrieval found as its legal basis when no provision is quoted yet: its
        # best sentence, and with it (below) the whole subsection, when that sentence is as
        # close to the question as any other quoted (keep_within). It takes the place of the
        # least relevant other passage when the answer already cites as many as it may.
        quoted = {pool[x.passage].chunk_id for x in chosen}
        basis = next((x for x in ranked if pool[x.passage].basis_for in quoted), None)
        if (
            basis is not None
            and basis.score >= ranked[0].score * s.keep_within
            and not any(x.law for x in chosen)
        ):
            rests_on = pool[basis.passage].basis_for
            others = [p for p in reversed(passages_used) if pool[p].chunk_id != rests_on]
            full = len(passages_used) >= s.max_citations
            if full and others:  # the least relevant other passage gives way
                chosen = [x for x in chosen if x.passage != others[0]]
                words = sum(len(x.text.split()) for x in chosen)
            if not full or others:  # (with max_citations 1 the guidance stays alone)
                chosen.append(basis)
                words += len(basis.text.split())
        # Neighbours: the sentence after one of the two best often completes it ("Following the
        # course..."), and a best sentence opening with "This"/"They" needs the one before.
        by_place = {(x.passage, x.position): x for x in sentences}
        for sent in list(chosen[:2]):
            if sent.is_item:
                continue
            neighbours = [by_place.get((sent.passage, sent.position + 1))]
            if _ANAPHOR.match(sent.text):
                neighbours.append(by_place.get((sent.passage, sent.position - 1)))
            for x in neighbours:
                if (
                    x is not None
                    and not x.is_item
                    and not x.joined
                    and x not in chosen
                    and x.score >= best * s.neighbour_within
                    and words + len(x.text.split()) <= s.max_words * s.overrun
                ):
                    chosen.append(x)
                    words += len(x.text.split())
        # A chosen sentence that leans on the one before ("This is known as...") is never
        # shown alone: the sentences before it come too, back to one that stands by itself.
        for sent in list(chosen):
            back = sent
            while _ANAPHOR.match(back.text) and not back.is_item:
                prev = by_place.get((back.passage, back.position - 1))
                if (
                    prev is None
                    or prev.is_item
                    or (prev.provision != back.provision and back.provision is not None)
                ):
                    break
                if prev not in chosen:
                    chosen.append(prev)
                    words += len(prev.text.split())
                back = prev
        # Lists stay lists: a chosen lead-in brings its items (within the word budget); a
        # chosen item always brings its lead-in, and a lead-in that is itself an item (a
        # nested list) brings its own, back to the sentence that opens the whole list.
        items: list[_Sentence] = []
        leads: list[_Sentence] = []
        for sent in chosen:
            if sent.text.rstrip().endswith((":", "—", "–")):
                items.extend(
                    [x for x in sentences if x.passage == sent.passage and x.intro == sent.position]
                )
            lead: _Sentence | None = sent
            while lead is not None and lead.is_item and lead.intro is not None:
                lead = by_place.get((lead.passage, lead.intro))
                if lead is not None and lead not in chosen and lead not in leads:
                    leads.append(lead)
        for x in items:
            if x not in chosen and words < s.max_words * s.list_overrun:
                chosen.append(x)
                words += len(x.text.split())
        chosen.extend(x for x in leads if x not in chosen)  # a lead-in may be an item too
        # A lead-in none of whose items fitted the budget says only "the following:": it goes
        # (legislation's come whole below, items and all). Its own lead-in may then be left
        # bare in turn (a nested list), so this is repeated.
        introduced = {(x.passage, x.intro) for x in sentences if x.intro is not None}
        while True:
            shown = {(x.passage, x.intro) for x in chosen if x.intro is not None}
            bare = [
                x
                for x in chosen
                if not x.law
                and (x.passage, x.position) in introduced
                and (x.passage, x.position) not in shown
            ]
            if not bare or len(bare) == len(chosen):
                break
            chosen = [x for x in chosen if x not in bare]
        # Legislation is quoted by whole provision: a chosen sentence brings the rest of its
        # subsection (lead-in and every item), whatever the word budget. A numbered paragraph
        # of statutory guidance comes whole too when it is short enough to read as one quote.
        unit_words: dict[tuple[int, int | None], int] = {}
        for x in sentences:
            unit_words[(x.passage, x.provision)] = unit_words.get(
                (x.passage, x.provision), 0
            ) + len(x.text.split())
        provisions = {
            (x.passage, x.provision)
            for x in chosen
            if x.provision is not None
            and (x.law or unit_words[(x.passage, x.provision)] <= s.max_paragraph_words)
        }
        provisions |= _exceptions_of(provisions, sentences, s.max_exception_words)
        for x in sentences:
            if (x.passage, x.provision) in provisions and x not in chosen:
                chosen.append(x)
        return chosen

    def _compose(self, chosen: list[_Sentence], pool: list[Passage]) -> tuple[str, list[Source]]:
        order: list[int] = []
        for sent in sorted(chosen, key=lambda x: -x.score):
            if sent.passage not in order:
                order.append(sent.passage)
        numbers = {p_index: n for n, p_index in enumerate(order, start=1)}
        blocks: list[str] = []
        for p_index in order:
            lines: list[str] = []
            prose: list[str] = []
            for sent in sorted(
                (c for c in chosen if c.passage == p_index), key=lambda x: x.position
            ):
                marked = f"{sent.text} [{numbers[p_index]}]"
                if sent.is_item:
                    if prose:
                        lines.append(" ".join(prose))
                        prose = []
                    lines.append(f"- {marked}")
                else:
                    if lines and lines[-1].startswith("- "):
                        lines.append("")
                    prose.append(marked)
            if prose:
                lines.append(" ".join(prose))
            blocks.append("\n".join(lines))
        sources = [
            _source(
                numbers[p_index],
                pool[p_index],
                tuple(c.text for c in chosen if c.passage == p_index),
            )
            for p_index in order
        ]
        return "\n\n".join(blocks), sources

    def nearest(self, passages: list[Passage]) -> list[Source]:
        """The passages shown with a refusal, so the reader can check for themselves."""
        return self._nearest(passages)

    def _nearest(self, passages: list[Passage]) -> list[Source]:
        return [
            _source(i, p)
            for i, p in enumerate(passages[: self.settings.nearest_on_refusal], start=1)
        ]


def answerable_probability(signals: dict[str, float], model: StatusModelSettings) -> float:
    """Logistic model of measurable signals (fitted on the dev split: evals/calibrate.py)."""
    z = model.bias + sum(model.weights.get(name, 0.0) * value for name, value in signals.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


_FIGURE = re.compile(
    r"\b(\d+(?:\.\d+)?)\s*(?:working |school |calendar )?(hours?|days?|weeks?|months?|years?|%)",
    re.I,
)


def _figures(text: str) -> set[tuple[str, str]]:
    return {(value, unit.lower().rstrip("s")) for value, unit in _FIGURE.findall(text)}


def disagreeing_figures(chosen: list[_Sentence], sources: list[Source], pool: list[Passage]) -> str:
    """A fixed note when cited passages of different documents state different figures in
    the same unit for the same thing (an outdated copy saying '40 hours' beside '6 hours'),
    showing both. The same thing: the two sentences say the same once their figures are set
    aside; 'decide within 6 weeks' and 'issue the plan within 20 weeks' are two time limits,
    not a disagreement."""
    n_of = {src.chunk_id: src.n for src in sources}
    stated: list[tuple[str, str, int, str, str]] = []  # figure, unit, [n], document, the rest
    for sent in chosen:
        passage = pool[sent.passage]
        n = n_of.get(passage.chunk_id)
        if n is None:
            continue
        doc = str(passage.metadata.get("doc_id", ""))
        rest = _FIGURE.sub(" ", sent.text)
        for value, unit in _FIGURE.findall(sent.text):
            stated.append((f"{value} {unit}", unit.lower().rstrip("s"), n, doc, rest))
    for i, (fig, unit, n, doc, rest) in enumerate(stated):
        for other, other_unit, m, other_doc, other_rest in stated[i + 1 :]:
            if (
                unit == other_unit
                and fig != other
                and doc != other_doc
                and _near_duplicate(rest, other_rest)
            ):
                return DISAGREE_LABEL + f"{fig} [{n}]; {other} [{m}]."
    return ""


def _near_duplicate(a: str, b: str) -> bool:
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) > 0.7


def _each_provision_first(indices: list[int], pool: list[Passage]) -> list[int]:
    """Passage positions taken in turn from each provision asked for (grouped by document
    and section), so a question naming two provisions quotes both within max_citations:
    the first chunk of each, then the second of each, and so on."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i in indices:
        meta = pool[i].metadata
        groups.setdefault((str(meta.get("doc_id", "")), str(meta.get("section", ""))), []).append(i)
    return [
        g[n]
        for n in range(max(map(len, groups.values()), default=0))
        for g in groups.values()
        if n < len(g)
    ]


def _exceptions_of(
    provisions: set[tuple[int, int | None]], sentences: list[_Sentence], max_words: int
) -> set[tuple[int, int | None]]:
    """The subsections of the same passage that quoted legislation depends on: those a quoted
    rule is made subject to ("unless subsection (4) applies"), those that are exceptions to a
    quoted rule ("(3) The local authority need not comply with the time limit referred to in
    paragraph (2) if"), the rule a quoted exception is to (whether the exception names the
    rule or the rule names it: "unless any of the circumstances in subsection (2) apply"
    brings "(1)" to a quoted "(2) The circumstances are—"), and a later subsection that says
    what a quoted term is ("holds the qualification, mentioned in paragraph (5)"). A rule quoted without its
    exceptions, or an exception without its rule, misstates the law. Of two subsections with
    the number (a passage spanning two sections), the nearer. One longer than ``max_words``
    (a list of circumstances) is left to the reader: the rule's own words name it, and the
    pinpoint leads to it."""
    texts: dict[tuple[int, int], str] = {}
    numbers: dict[tuple[int, int], str] = {}
    for x in sentences:
        if not x.law or x.provision is None:
            continue
        key = (x.passage, x.provision)
        texts[key] = f"{texts[key]} {x.text}" if key in texts else x.text
        number = subsection_number(x.text)
        if number and x.provision == x.position:
            numbers[key] = number
    excepted = {key: exception_to(text) for key, text in texts.items()}
    # a rule that names its exception ("unless any of the circumstances in subsection (2)
    # apply") is brought by the exception as much as one the exception names
    excepting = {key: excepted[key] + subject_to(text) for key, text in texts.items()}
    starts: dict[tuple[int, str], list[int]] = {}
    for (passage, provision), number in numbers.items():
        starts.setdefault((passage, number), []).append(provision)

    def place(passage: int, number: str, near: int) -> tuple[int, int] | None:
        found = starts.get((passage, number), [])
        return (passage, min(found, key=lambda at: abs(at - near))) if found else None

    added: set[tuple[int, int | None]] = set()
    short = {key for key, text in texts.items() if len(text.split()) <= max_words}
    for passage, provision in provisions:
        if provision is None or (passage, provision) not in texts:
            continue
        text = texts[(passage, provision)]
        for number in subject_to(text) + excepted[(passage, provision)] + defined_later(text):
            found = place(passage, number, provision)
            if found is not None:
                added.add(found)
        own = numbers.get((passage, provision))
        for key, others in excepting.items():
            if key[0] == passage and own and own in others:
                if place(passage, own, key[1]) == (passage, provision):
                    added.add(key)
    return (added & short) - provisions


def refusal_text(unused: tuple[str, ...], no_figure: str | None) -> str:
    """The refusal, with what it can say for certain is missing (fixed labels; the only
    other words are the question's own and the name of the kind of figure it asks for)."""
    lines = [REFUSAL]
    if unused:
        lines.append(UNUSED_WORDS_LABEL + ", ".join(unused) + ".")
    if no_figure:
        lines.append(f"{NO_FIGURE_LABEL}{no_figure}.")
    return "\n\n".join(lines)


def no_provision_line(absent: tuple[str, ...]) -> str:
    """The fixed line naming provisions asked for that the named document does not have."""
    return f"{NO_PROVISION_LABEL}{'; '.join(absent)}."


def no_such_provision(
    absent: tuple[str, ...], passages: list[Passage], settings: AnswerSettings
) -> Draft:
    """The answer when a question names a provision its document does not have ('section
    999 of the ALN Act'): said plainly, with the nearest passages shown as such; another
    provision is never quoted in its place."""
    return Draft(
        no_provision_line(absent),
        [_source(i, p) for i, p in enumerate(passages[: settings.nearest_on_refusal], start=1)],
        "not_found",
        "no such provision: " + "; ".join(absent),
        missing=absent,
    )


def _source(n: int, p: Passage, highlights: tuple[str, ...] = ()) -> Source:
    meta = p.metadata
    page = meta.get("page")
    doc_type = str(meta.get("doc_type", "unspecified"))
    point = pinpoint(p.text, meta, highlights)
    return Source(
        n=n,
        doc_id=str(meta.get("doc_id", "")),
        title=str(meta.get("title", "")),
        section=str(meta.get("section", "")),
        text=p.text,
        score=p.dense_similarity if p.dense_similarity is not None else p.score,
        page=int(page) if isinstance(page, int | float) and page >= 0 else None,
        jurisdiction=str(meta.get("jurisdiction", "Unspecified")),
        doc_type=str(meta.get("doc_type", "unspecified")),
        chunk_id=p.chunk_id,
        highlights=highlights,
        pinpoint=point,
        cite=cite_label(meta, point),
        forces=tuple(legal_force(h, doc_type) for h in highlights),
    )
