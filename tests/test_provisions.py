"""Provision-level answers, pinpoints, legal force, statuses and signposting (fast: the
hashing embedder and hand-made passages)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from llama_index.core.schema import MetadataMode

from assistant.answer import (
    DISAGREE_LABEL,
    NO_FIGURE_LABEL,
    PARTIAL_LABEL,
    UNUSED_WORDS_LABEL,
    ExtractiveAnswerer,
)
from assistant.backends import HashEmbedding
from assistant.core import ADVICE_ENGLAND, ADVICE_WALES, asks_to_compare, where_to_get_advice
from assistant.pinpoint import LegalBasis, cite_label, legal_bases, legal_force, pinpoint
from assistant.retrieval import Vocabulary, defined_term
from assistant.settings import AnswerSettings, StatusModelSettings
from assistant.text import answer_type, split_sentences
from assistant.types import Passage
from evals.runner import items_without_lead_in

ALWAYS = StatusModelSettings(weights={}, bias=30.0)
NEVER = StatusModelSettings(weights={}, bias=-30.0)
MIDDLE = StatusModelSettings(weights={}, bias=0.0, answered_at=0.9, partial_at=0.3)

ACT = {
    "doc_id": "act",
    "title": "Example Act",
    "cite_as": "ALN Act 2018",
    "doc_type": "legislation",
    "section": "PART 2 > s.22 Giving copies of plans",
    "jurisdiction": "Wales",
}
LAW = Passage(
    "act::0001",
    "- (1) A governing body must give a copy of the plan to—\n"
    "- (a) the child and the child's parent,\n"
    "- (b) the head teacher of the school, and\n"
    "- (c) the local authority.\n"
    "- (2) The copy must be given within 7 weeks of the decision.",
    ACT,
    1.0,
    0.8,
)
CODE = Passage(
    "code::0010",
    "9.40 Local authorities must give parents a copy of the draft plan.\n"
    "9.41 They should explain how the plan was drawn up and who contributed to it.",
    {
        "doc_id": "code",
        "title": "SEND Code",
        "cite_as": "SEND Code of Practice 2015",
        "doc_type": "statutory-guidance",
        "section": "9 EHC plans",
        "jurisdiction": "England",
    },
    0.9,
    0.7,
)


def _answerer(model: StatusModelSettings, passages=(LAW, CODE)) -> ExtractiveAnswerer:
    vocab = Vocabulary([p.text for p in passages])
    return ExtractiveAnswerer(AnswerSettings(status_model=model), HashEmbedding(), vocab)


def _answer_from(passage: Passage, asked: str):
    """The answer to ``asked`` from this one passage, always answered (status aside)."""
    return _answerer(ALWAYS, passages=(passage,)).answer(asked, [passage], None)


def _provision(chunk_id: str, text: str, cite_as: str, section: str) -> Passage:
    """A hand-made passage of legislation, ranked first."""
    return Passage(chunk_id, text, {**ACT, "cite_as": cite_as, "section": section}, 1.0, 0.8)


def test_a_list_item_from_legislation_is_quoted_with_its_whole_provision():
    draft = _answerer(ALWAYS).answer(
        "Who gets a copy: the head teacher of the school?", [LAW], None
    )
    assert "(1) A governing body must give a copy of the plan to—" in draft.text
    for item in ("(a) the child", "(b) the head teacher", "(c) the local authority"):
        assert item in draft.text
    citation = draft.sources[0].to_citation()
    assert items_without_lead_in(draft.text, [citation]) == []


def test_an_item_of_a_nested_list_comes_with_every_lead_in_above_it():
    # Bullets lose their indentation at ingest: the outer list's lead-in must still come.
    hubs = Passage(
        "hubs::0",
        "Other work to support children with SEND included:\n"
        "- The hubs worked together on transitions. They produced two documents:\n"
        "- a set of principles for transition reports\n"
        "- a transition report template\n"
        "- One hub organised a visit to a nursery with a sensory room. Staff who went then "
        "set up sensory rooms in their own settings.",
        {"doc_id": "hubs", "title": "Hubs toolkit", "doc_type": "practice-guidance"},
        1.0,
        0.8,
    )
    draft = _answerer(ALWAYS, (hubs,)).answer(
        "What did staff do after visiting a nursery with a sensory room?", [hubs], None
    )
    assert "set up sensory rooms" in draft.text
    assert "Other work to support children with SEND included:" in draft.text
    assert items_without_lead_in(draft.text, [draft.sources[0].to_citation()]) == []


def test_a_lead_in_that_is_also_an_item_of_the_list_above_it_is_quoted_once():
    # "- Two documents were made:" is an item of the outer list and the lead-in of its own:
    # chosen as the outer list's item and as an inner item's lead-in, it still comes once.
    from assistant.answer import _candidates

    hubs = Passage(
        "hubs::1",
        "The hubs did three things:\n"
        "- They met termly.\n"
        "- Two documents were made:\n"
        "- a set of principles for transition reports\n"
        "- a transition report template",
        {"doc_id": "hubs", "title": "Hubs toolkit", "doc_type": "practice-guidance"},
        1.0,
        0.8,
    )
    answerer = _answerer(ALWAYS, (hubs,))
    sentences = _candidates([hubs])
    by_text = {x.text: x for x in sentences}
    ranked = [by_text["The hubs did three things:"], by_text["a transition report template"]]
    ranked += [x for x in sentences if x not in ranked]
    for x, score in zip(ranked, (1.0, 0.95, 0.1, 0.1, 0.1), strict=True):
        x.score = score
    chosen = answerer._select(ranked, sentences, [hubs])
    texts = [x.text for x in chosen]
    assert texts.count("Two documents were made:") == 1, texts
    assert len(texts) == len(set(texts))


def test_a_lead_in_sentence_shown_after_other_sentences_counts_as_shown():
    source = "The hub ran a course. It was accredited. For more info:\n- read the case study"
    shown = "The hub ran a course. [1] For more info: [1]\n- read the case study [1]"
    assert items_without_lead_in(shown, [{"n": 1, "text": source}]) == []
    bare = "The hub ran a course. [1]\n- read the case study [1]"
    assert items_without_lead_in(bare, [{"n": 1, "text": source}]) == ["read the case study"]


def test_legislation_is_cited_by_section_and_subsection():
    assert pinpoint(LAW.text, ACT, ["(b) the head teacher of the school, and"]) == "s.22(1)"
    assert pinpoint(LAW.text, ACT, ["(2) The copy must be given within 7 weeks"]) == "s.22(2)"
    assert cite_label(ACT, "s.22(2)") == "ALN Act 2018 s.22(2)"


def test_statutory_guidance_is_cited_by_paragraph():
    meta = CODE.metadata
    assert pinpoint(CODE.text, meta, ["They should explain how the plan"]) == "para 9.41"
    assert cite_label(meta, "para 9.41") == "SEND Code of Practice 2015, para 9.41"
    draft = _answerer(ALWAYS).answer(
        "Must local authorities give parents a draft plan?", [CODE], None
    )
    assert draft.sources[0].cite.startswith("SEND Code of Practice 2015, para 9.4")


def test_each_quote_carries_its_legal_force():
    assert legal_force("A governing body must give a copy", "legislation") == "duty"
    assert legal_force("Regulations may make provision", "legislation") == "power"
    assert legal_force("Schools must not refuse", "legislation") == "prohibition"
    assert legal_force("Local authorities must give parents", "statutory-guidance") == (
        "statutory-requirement"
    )
    assert legal_force("They should explain", "statutory-guidance") == "statutory-guidance"
    assert legal_force("Practitioners must reflect", "practice-guidance") == "practice"


def test_the_status_model_decides_answered_partial_and_refused():
    question = "Who must give a copy of the plan?"
    assert _answerer(ALWAYS).answer(question, [LAW], None).status == "answered"
    partial = _answerer(MIDDLE).answer("Who must give a copy of the plan in Narnia?", [LAW], None)
    assert partial.status == "partial" and PARTIAL_LABEL in partial.text
    assert "Narnia" in partial.missing
    refused = _answerer(NEVER).answer(question, [LAW], None)
    assert refused.refused and refused.status in ("not_found", "out_of_scope")
    assert refused.sources  # the nearest passages are shown


def test_a_refusal_names_the_words_no_document_uses_and_the_figure_none_states():
    refused = _answerer(NEVER).answer(
        "How much does the council give for a copy of my son's plan in Narnia? It doesn't say.",
        [LAW],
        None,
    )
    assert refused.refused
    assert UNUSED_WORDS_LABEL + "Narnia." in refused.text
    assert NO_FIGURE_LABEL + "a sum of money." in refused.text
    assert refused.missing == ("a sum of money", "Narnia")
    # not a contraction, nor a word the documents say another way ('council', "son's")
    for word in ("doesn't", "council", "son's", "copy"):
        assert word not in refused.missing


def test_a_question_naming_the_quoted_documents_publisher_is_covered_by_it():
    hubs = Passage(
        "hubs::0",
        "The hubs delivered conferences which around 3,000 people attended.",
        {
            "doc_id": "hubs",
            "title": "Early years hubs toolkit",
            "publisher": "Mayor of London",
            "doc_type": "practice-guidance",
            "section": "Sharing knowledge",
        },
        1.0,
        0.6,
    )
    on_coverage = StatusModelSettings(weights={"coverage": 20.0}, bias=-17.0)
    draft = _answerer(on_coverage, (hubs, LAW)).answer(
        "How many attended the London early years hubs conferences?", [hubs], None
    )
    assert draft.status == "answered", draft.reason
    assert draft.diagnostics["coverage"] == 1.0


def test_feeling_or_feedback_does_not_ask_for_a_sum_of_money():
    assert answer_type("I feel my child needs more help: who do I speak to?") is None
    assert answer_type("What feedback did settings give?") is None
    assert answer_type("What are the fees?") is not None
    assert answer_type("Is it more than £50?") is not None


def test_a_partial_answer_does_not_call_missing_a_word_the_passage_says_another_way():
    code = Passage(
        "code::0200",
        "9.166 The child's EHC plan must be reviewed at least every 12 months.",
        {**CODE.metadata, "section": "9 EHC plans > Reviewing an EHC plan"},
        1.0,
        0.8,
    )
    partial = _answerer(MIDDLE, (code,)).answer(
        "Must my daughter's EHCP be reviewed by Gandalf?", [code], None
    )
    assert partial.status == "partial"
    assert "Gandalf" in partial.missing
    assert "EHCP" not in partial.missing and "daughter" not in partial.missing


def test_passages_that_disagree_on_a_figure_are_both_shown():
    old = Passage(
        "old::0",
        "STEP training requires attendance for 40 hours.",
        {"doc_id": "old", "title": "Old copy", "doc_type": "practice-guidance"},
        0.9,
        0.8,
    )
    new = Passage(
        "new::0",
        "STEP training requires attendance for 6 hours.",
        {"doc_id": "new", "title": "STEP", "doc_type": "practice-guidance"},
        1.0,
        0.8,
    )
    draft = _answerer(ALWAYS, (new, old)).answer(
        "How many hours does STEP training require?", [new, old], None
    )
    assert DISAGREE_LABEL in draft.text
    assert "6 hours" in draft.text and "40 hours" in draft.text


def test_two_time_limits_for_two_steps_are_not_called_a_disagreement():
    code = replace(
        CODE,
        text="9.41 The local authority must decide whether to assess within 6 weeks of the "
        "request.",
    )
    regulation = replace(
        LAW,
        text="- (2) The local authority must issue the finalised plan within 20 weeks of the "
        "request.",
    )
    draft = _answerer(ALWAYS, (code, regulation)).answer(
        "Within how many weeks must the local authority act on the request?",
        [code, regulation],
        None,
    )
    assert "6 weeks" in draft.text and "20 weeks" in draft.text
    assert DISAGREE_LABEL not in draft.text


def test_refusals_signpost_advice_for_the_country_asked_about():
    assert where_to_get_advice("Can my son's IDP be stopped in Wales?") == ADVICE_WALES
    assert where_to_get_advice("Can the council refuse an EHCP assessment?") == ADVICE_ENGLAND
    assert where_to_get_advice("Can the school send him home?") != ADVICE_ENGLAND  # the verb
    both = where_to_get_advice("What is a support plan?")
    assert "SNAP Cymru" in both and "SENDIASS" in both
    assert both.startswith("Where to get advice (not from the documents)")


def test_a_question_in_one_countrys_terms_is_scoped_to_that_country():
    from assistant.core import regime_country, scope_named_in
    from assistant.types import Scope

    assert regime_country("When does an IDP end after the 25th birthday?") == "Wales"
    assert regime_country("Can the council refuse an EHCP assessment?") == "England"
    assert regime_country("Is SEND support the same as SEN support?") == "England"
    assert regime_country("Can the school send my child home early?") is None  # the verb
    assert regime_country("Is an IDP like an EHC plan?") is None  # both systems: no scope
    assert regime_country("When do I step back?") is None
    assert scope_named_in("Can a school in Wales charge for it?", Scope()) == Scope("Wales")
    assert scope_named_in("Who writes the IDP?", Scope(doc_types=("legislation",))) == Scope(
        "Wales", ("legislation",)
    )
    # a country chosen in the app or on the command line is kept
    assert scope_named_in("Who writes the IDP?", Scope("England")) == Scope("England")
    assert scope_named_in("When do I step back?", Scope()) == Scope()


def test_a_question_naming_a_welsh_local_authority_is_about_wales():
    from assistant.core import question_country

    assert question_country("Can Caerphilly council refuse to assess my son?") == "Wales"
    assert question_country("My daughter goes to school in the Vale of Glamorgan") == "Wales"
    assert "SNAP Cymru" in where_to_get_advice("Who helps parents in Swansea?")
    assert question_country("Can Newport council refuse?") is None  # England has two
    # where the family lives decides the law, whatever words they use
    assert question_country("My son in Swansea has a statement of SEN") == "Wales"
    assert question_country("We moved from Cardiff to England") is None  # both named


def test_questions_naming_both_countries_are_compared_and_definitions_found():
    assert asks_to_compare("What does Wales say about co-ordinators compared with England?")
    assert not asks_to_compare("Who must designate an ALNCo in Wales?")
    assert defined_term("What is an IDP?") == "idp"
    assert defined_term("What does special educational provision mean?") == (
        "special educational provision"
    )
    assert defined_term("Who must designate an ALNCo?") is None


def test_a_question_asking_for_the_definition_or_meaning_of_a_term_looks_the_term_up():
    assert defined_term("What is the legal definition of a young person?") == "young person"
    assert defined_term("What is the meaning of special educational provision?") == (
        "special educational provision"
    )
    assert defined_term("What's the definition of ALN?") == "aln"
    assert defined_term("Legal meaning of parent?") == "parent"
    assert defined_term("What is the definition process for an IDP review in my school?") is None


def test_the_terms_the_documents_define_are_indexed_once_with_their_chunks():
    from llama_index.core.schema import TextNode

    from assistant.retrieval import definitions_index

    nodes = [
        TextNode(text="In this Part— “IDP” means individual development plan;", id_="a"),
        TextNode(text="The plan is reviewed every year.", id_="b"),
        TextNode(text="“Special educational provision” has the meaning given in s.21.", id_="c"),
        TextNode(text="“IDPs” means plans; “child” includes a young person.", id_="d"),
    ]
    index = definitions_index(nodes)
    assert index["idp"] == [0]
    assert index["idps"] == [3] and index["child"] == [3]
    assert index["special educational provision"] == [2]
    assert "plan" not in index  # an ordinary sentence defines nothing


def test_a_definition_is_found_by_its_section_title_and_with_a_qualifier_but_not_in_amendments():
    from llama_index.core.schema import TextNode

    from assistant.retrieval import defined_terms, definitions_index

    law = {"doc_type": "legislation"}
    nodes = [
        TextNode(
            text="- (1) “Additional learning provision” for a person aged three or over means "
            "educational or training provision that is additional to, or different from, ...",
            metadata={
                **law,
                "section": "PART 1 > s.2 Key terms > s.3 Additional learning provision",
            },
            id_="s3",
        ),
        TextNode(
            text="(5A) In this Part, “additional learning provision” has the meaning given by "
            "section 3 of that Act. (e) omit subsection (6).",
            metadata={
                **law,
                "section": "SCHEDULE 1 > Education Act 1996 > para 4",
                "amending": True,
            },
            id_="sch",
        ),
        TextNode(
            text="- (1) For the purposes of this Act, an individual development plan is a document",
            metadata={**law, "section": "PART 2 > s.10 Individual development plans"},
            id_="s10",
        ),
    ]
    index = definitions_index(nodes)
    assert index["additional learning provision"] == [0]  # the title and the qualified line
    assert index["individual development plans"] == [2]
    assert defined_terms("What is Additional Learning Provision (ALP)?") == [
        "additional learning provision",
        "alp",
    ]


def test_a_scope_admits_only_its_country_and_document_types():
    from assistant.types import Scope

    law_wales = {"jurisdiction": "Wales", "doc_type": "legislation"}
    code_england = {"jurisdiction": "England", "doc_type": "statutory-guidance"}
    assert Scope().admits(law_wales) and Scope().everything
    assert Scope("Wales").admits(law_wales) and not Scope("Wales").admits(code_england)
    only_law = Scope(None, ("legislation",))
    assert only_law.admits(law_wales) and not only_law.admits(code_england)


def test_an_answer_from_the_other_country_says_so():
    from assistant.core import other_country_notice
    from assistant.types import Draft

    draft = _answerer(ALWAYS).answer(
        "Must local authorities give parents a draft plan?", [CODE], None
    )
    assert "England's documents" in other_country_notice("What must happen in Wales?", draft)
    assert other_country_notice("What must happen in England?", draft) == ""
    assert other_country_notice("What must happen?", draft) == ""
    assert other_country_notice("In Wales?", Draft("x", [], "not_found")) == ""


def _split_subsection_assistant(tmp_path, settings_factory, letters="abcdefgh"):
    """An assistant over one regulation whose subsection (2) is too long for one chunk."""
    filler = " ".join(["the relevant records kept for that purpose"] * 4)
    items = "\n\n".join(
        f"- ({letter}) give the parent item {letter} of {filler};" for letter in letters
    )
    bot = _assistant_over(
        tmp_path,
        settings_factory,
        {
            "regs.md": "---\ntitle: Example Regulations\nshort_name: Example Regulations 2014\n"
            "jurisdiction: England\ndoc_type: legislation\n---\n"
            "# Example Regulations\n\n## PART 2 — Plans\n\n"
            "#### Amending a plan following a review\n\n###### 22\n\n"
            "- (1) This regulation applies where a plan is reviewed.\n\n"
            "- (2) Where the local authority is considering amending a plan it must—\n\n"
            f"{items}\n\n"
            "- (3) The authority must send the finalised plan within 8 weeks.\n"
        },
    )
    chunks = [n.get_content() for n in bot.nodes]
    assert len(chunks) > 1 and any(c.startswith("(2) Where the local authority") for c in chunks)
    return bot


def test_a_subsection_cut_between_two_chunks_is_quoted_whole(tmp_path, settings_factory):
    # A subsection too long for one chunk is cut between its items; the next chunk repeats
    # only its lead-in. An answer quoting one of its items must show every item of it.
    bot = _split_subsection_assistant(tmp_path, settings_factory)
    chunks = [n.get_content() for n in bot.nodes]
    assert len(chunks) > 1 and any(c.startswith("(2) Where the local authority") for c in chunks)
    passages = bot.retrieve("What must the authority give the parent as item h?")
    whole = [p for p in passages if "(h) give the parent item h" in p.text]
    assert whole, "the chunk holding item (h) is retrieved"
    text = whole[0].text
    for letter in "abcdefgh":
        assert f"({letter}) give the parent item {letter}" in text
    assert text.count("considering amending a plan it must") == 1  # the lead-in once
    # and from the other side: the chunk that opens the subsection brings the items after it
    opening = [p for p in bot.retrieve("item a of the relevant records") if "(a) give" in p.text]
    assert opening and all("(h) give the parent item h" in p.text for p in opening)
    assert len(whole[0].sentence_similarities or ()) == len(split_sentences(text))
    answerer = ExtractiveAnswerer(AnswerSettings(status_model=ALWAYS), HashEmbedding(), bot.vocab)
    draft = answerer.answer("What must the authority give the parent as item h?", whole, None)
    assert "(h) give the parent item h" in draft.text
    for letter in "abcdefgh":
        assert f"({letter}) give the parent item {letter}" in draft.text
    assert draft.sources[0].pinpoint.startswith("reg.22(2)")


def test_a_subsection_cut_over_more_than_two_chunks_is_quoted_whole(tmp_path, settings_factory):
    # Eleven exceptions to a bar on disclosing a plan span four chunks: the chunk in the
    # middle must bring the lead-in from the first and the items of every other chunk.
    letters = "abcdefghijklmnopqrstuvwx"
    bot = _split_subsection_assistant(tmp_path, settings_factory, letters)
    chunks = [n.get_content() for n in bot.nodes]
    carried = [c for c in chunks if c.startswith("(2) Where the local authority is considering")]
    assert len(carried) >= 3, "the subsection spans at least four chunks"
    for asked in ("item a", "item m", "item x"):
        passages = [
            p
            for p in bot.retrieve(f"What must the authority give the parent as {asked}?")
            if f"({asked[-1]}) give the parent {asked}" in p.text
        ]
        assert passages, asked
        text = passages[0].text
        for letter in letters:
            assert f"({letter}) give the parent item {letter}" in text, (asked, letter)
        assert "- (2) Where the local authority is considering amending" in text
        assert text.count("considering amending a plan it must") == 1
        assert len(passages[0].sentence_similarities or ()) == len(split_sentences(text))


def test_a_list_of_definitions_over_many_chunks_is_not_walked_beyond_the_next(
    tmp_path, settings_factory
):
    filler = " ".join(["for the purposes of the records kept"] * 4)
    terms = [f"term {n}" for n in range(1, 25)]
    definitions = "\n\n".join(f"- “*{t}*” means the thing called {t} {filler};" for t in terms)
    bot = _assistant_over(
        tmp_path,
        settings_factory,
        {
            "act.md": "---\ntitle: Example Act\nshort_name: Example Act 2018\n"
            "jurisdiction: Wales\ndoc_type: legislation\n---\n"
            "# Example Act\n\n## PART 9 — General\n\n#### Interpretation\n\n###### 99\n\n"
            f"- (1) In this Act—\n\n{definitions}\n\n"
            "- (2) A reference to a school includes a nursery school.\n"
        },
    )
    assert sum(1 for n in bot.nodes if n.get_content().startswith("(1) In this Act—")) >= 3
    passage = next(
        p for p in bot.retrieve("What does term 20 mean?") if "“*term 20*” means" in p.text
    )
    assert "“*term 1*” means" not in passage.text  # three chunks back: not brought
    answerer = ExtractiveAnswerer(AnswerSettings(status_model=ALWAYS), HashEmbedding(), bot.vocab)
    draft = answerer.answer("What does term 20 mean?", [passage], None)
    assert "“*term 20*” means the thing called term 20" in draft.text
    assert "In this Act—" in draft.text
    assert items_without_lead_in(draft.text, [draft.sources[0].to_citation()]) == []


def test_a_subsection_is_made_whole_when_the_neighbour_has_no_sentence_similarities(
    tmp_path, settings_factory
):
    # A neighbour chunk whose sentence vectors are missing (an index written before they
    # were stored) still lends its items; the passage then carries no per-sentence figures
    # rather than a list that does not match its sentences.
    bot = _split_subsection_assistant(tmp_path, settings_factory)
    retriever = bot.retriever
    passage = next(
        p
        for p in retriever.retrieve("What must the authority give the parent as item h?")
        if "(h) give the parent item h" in p.text
    )
    node = retriever.node_by_id(passage.chunk_id)
    own = node.get_content(metadata_mode=MetadataMode.NONE)  # the chunk as stored, cut
    cut = replace(passage, text=own, sentence_similarities=(0.5,) * len(split_sentences(own)))
    retriever.sentence_similarities = lambda ids, q: {}
    whole = retriever.whole_provisions(cut, np.ones(4) / 2)
    for letter in "abcdefgh":
        assert f"({letter}) give the parent item {letter}" in whole.text
    assert whole.sentence_similarities is None


def test_a_question_naming_a_provision_finds_its_words_in_the_questions_own_forms():
    from assistant.pinpoint import AskedProvision, asked_provisions

    assert asked_provisions("What does section 20 of the ALN Act say?") == [AskedProvision("s.20")]
    assert asked_provisions("Show me s.22(2)") == [AskedProvision("s.22", "2")]
    assert asked_provisions("regulation 12(3)(b) and reg.22") == [
        AskedProvision("reg.12", "3"),
        AskedProvision("reg.22"),
    ]
    assert asked_provisions("paragraph 9.40 of the Code") == [AskedProvision("para 9.40", "9.40")]
    assert asked_provisions("What does 9.40 say?") == [AskedProvision("para 9.40", "9.40", True)]
    # money and ages are not provisions; a number alone is marked bare (a paragraph only
    # when the question names a document)
    assert asked_provisions("Is it £2.50 an hour for my 12 year old?") == []
    assert asked_provisions("Is 1.5 hours enough?") == [AskedProvision("para 1.5", "1.5", True)]
    # a number too long to be a section is no section (not its first three digits), and
    # "section 9.40" of a Code is its paragraph 9.40
    assert asked_provisions("s.99999 of the CFA") == []
    assert asked_provisions("regulation 1234") == []
    assert asked_provisions("section 9.40 of the Code") == [AskedProvision("para 9.40", "9.40")]


def _assistant_over(tmp_path, settings_factory, files: dict[str, str]):
    """An assistant over a corpus of these files (name: text), ingested with the fake model."""
    from assistant.core import build_assistant
    from ingest.pipeline import run_ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = settings_factory(tmp_path, corpus)
    run_ingest(settings, progress=False)
    return build_assistant(settings)


def _numbered_corpus_assistant(tmp_path, settings_factory):
    """Two Acts that both have a section 2, and a Code with numbered paragraphs."""
    files = {
        name: f"---\ntitle: {title} 2018\ncite_as: {title} 2018\njurisdiction: {country}\n"
        f"doc_type: legislation\n---\n# {title} 2018\n\n## PART 1 — Plans\n\n"
        "#### Plans\n\n##### 1\n\n- (1) A plan is kept by the body.\n\n"
        f"#### Reviews of plans in {country}\n\n##### 2\n\n"
        f"- (1) The {country} body must review each plan every year.\n\n"
        f"- (2) The {country} body may review a plan sooner.\n\n"
        f"- (3) A review in {country} must consider the views of the parent.\n"
        for name, title, country in (
            ("wales-act.md", "Example Learning (Wales) Act", "Wales"),
            ("england-act.md", "Example Families Act", "England"),
        )
    }
    files["code.md"] = (
        "---\ntitle: Example Code of Practice\ncite_as: Example Code 2015\njurisdiction: England\n"
        "doc_type: statutory-guidance\n---\n# Example Code of Practice\n\n## 1 Reviews\n\n"
        "1.1 Reviews should be held in a place the family can reach.\n\n"
        "1.2 The setting should send the reports two weeks before the meeting.\n"
    )
    return _assistant_over(tmp_path, settings_factory, files)


def test_a_question_naming_a_section_of_a_named_act_is_answered_with_that_section(
    tmp_path, settings_factory
):
    bot = _numbered_corpus_assistant(tmp_path, settings_factory)
    answer = bot.ask("What does section 2 of the Example Families Act say?")
    assert answer.status == "answered"
    assert answer.sources[0].cite.startswith("Example Families Act 2018 s.2")
    assert "The England body must review each plan every year." in answer.text
    assert all("Wales" not in s.cite for s in answer.sources)
    # a subsection asked for: that subsection, not the whole section
    answer = bot.ask("What does s.2(3) of the Example Learning (Wales) Act say?")
    assert answer.sources[0].cite == "Example Learning (Wales) Act 2018 s.2(3)"
    assert "must consider the views of the parent" in answer.text
    # a paragraph of the Code, by number alone once the Code is named
    answer = bot.ask("What does 1.2 of the Example Code say?")
    assert answer.sources[0].cite == "Example Code 2015, para 1.2"
    assert "two weeks before the meeting" in answer.text


def test_a_section_of_a_document_not_in_the_corpus_is_not_answered_by_another_documents_section(
    tmp_path, settings_factory
):
    bot = _numbered_corpus_assistant(tmp_path, settings_factory)
    assert bot.retriever.named_provisions("What does section 2 of the Equality Act say?") == []
    # naming no document at all: every document's section 2 is a candidate
    named = bot.retriever.named_provisions("What does section 2 say?")
    assert {c.node.metadata["doc_id"] for c in named} == {"wales-act.md", "england-act.md"}
    assert bot.retriever.named_provisions("Is the meeting at 1.2 or 1.1?") == []


def test_a_provision_the_named_document_does_not_have_is_said_to_be_missing(
    tmp_path, settings_factory
):
    from assistant.answer import NO_PROVISION_LABEL

    bot = _numbered_corpus_assistant(tmp_path, settings_factory)
    answer = bot.ask("What does section 9 of the Example Families Act say?")
    assert answer.status == "not_found"
    assert answer.text == f"{NO_PROVISION_LABEL}Example Families Act 2018 s.9."
    assert answer.missing == ("Example Families Act 2018 s.9",)
    assert answer.sources  # the nearest passages, shown as such
    answer = bot.ask("What does 1.9 of the Example Code say?")
    assert answer.missing == ("Example Code 2015, para 1.9",)
    # one provision there and one not: the one there is quoted, the other said to be missing
    answer = bot.ask("What do section 2 and section 9 of the Example Families Act say?")
    assert answer.status == "answered"
    assert "The England body must review each plan every year." in answer.text
    assert answer.text.endswith(f"{NO_PROVISION_LABEL}Example Families Act 2018 s.9.")
    # 'regulation 2' of an Act that numbers by section is its section 2, not a missing one
    answer = bot.ask("What does regulation 2 of the Example Families Act say?")
    assert answer.status == "answered"
    assert answer.sources[0].cite.startswith("Example Families Act 2018 s.2")
    # nothing is said missing of a document not in the corpus, or of a Code asked for a section
    for question in (
        "What does section 9 of the Equality Act say?",
        "What does section 9 of the Example Code say?",
        "What does section 9 say?",
    ):
        assert bot.retriever.provisions_asked(question).absent == (), question


def test_each_provision_asked_for_is_looked_up_in_the_document_named_after_it(
    tmp_path, settings_factory
):
    bot = _numbered_corpus_assistant(tmp_path, settings_factory)
    named = bot.retriever.named_provisions(
        "What do section 2 of the Example Families Act and section 1 of the "
        "Example Learning (Wales) Act say?"
    )
    found = {
        (c.node.metadata["doc_id"], c.node.metadata["section"].split(" > ")[-1]) for c in named
    }
    assert {doc for doc, _ in found} == {"england-act.md", "wales-act.md"}
    assert all(("2" in leaf) == (doc == "england-act.md") for doc, leaf in found), found
    # a document named outside the question's scope is not answered from another one
    from assistant.types import Scope

    outside = bot.retriever.provisions_asked(
        "section 2 of the Example Families Act", Scope(country="Wales")
    )
    assert outside.chunks == [] and outside.absent == ()
    # one document named after both numbers: both are its own
    named = bot.retriever.named_provisions("section 1 and section 2 of the Example Families Act")
    assert {c.node.metadata["doc_id"] for c in named} == {"england-act.md"}


def test_the_acts_a_question_names_by_title_set_its_country(tmp_path, settings_factory):
    from assistant.core import scope_named_in
    from assistant.types import Scope

    bot = _numbered_corpus_assistant(tmp_path, settings_factory)
    both = "What do section 2 of the Example Families Act and section 1 of the Example " + (
        "Learning (Wales) Act say?"
    )
    england = "What does section 2 of the Example Families Act say?"
    assert bot.retriever.countries_named(england) == {"England"}
    assert scope_named_in(england, Scope(), bot.retriever.countries_named(england)) == Scope(
        "England"
    )
    # one Act of each country: about both, so no country is chosen for it
    assert bot.retriever.countries_named(both) == {"England", "Wales"}
    assert (
        scope_named_in(
            "section 2 of the Example Families Act and the IDP", Scope(), frozenset({"England"})
        )
        == Scope()
    )
    assert bot.retriever.countries_named("When do I step back?") == frozenset()


def test_a_schedule_paragraph_is_not_the_section_of_the_same_number():
    from assistant.pinpoint import provision_keys

    act = {"doc_type": "legislation"}
    section = "ALN ACT 2018 — PART 2 > Plans > s.20 Additional learning provision"
    assert provision_keys("- (1) ...", act | {"section": section}) == ["s.20"]
    schedule = "SCHEDULE 1 > Welsh Language (Wales) Measure 2011 > para 20"
    assert provision_keys("- (1) ...", act | {"section": schedule}) == []


def test_a_short_form_followed_by_another_kind_of_document_does_not_name_this_one():
    from assistant.retrieval import _names_document

    regulations = {"cite_as": "SEND Regulations 2014", "doc_type": "legislation"}
    code = {"cite_as": "SEND Code of Practice 2015", "doc_type": "statutory-guidance"}
    assert _names_document("regulation 12 of the SEND Regulations", regulations)
    assert _names_document("what do the SEND regs say about reg 6", regulations)
    assert not _names_document("section 19 of the SEND Code", regulations)
    assert _names_document("section 19 of the SEND Code", code)
    assert not _names_document("regulation 12 of the SEND Regulations", code)


def test_a_subsection_after_a_lead_in_with_items_is_not_quoted_as_one_of_its_items():
    # "(2)" follows the items of "(1) ... to—": it is a subsection of its own, not a fourth
    # item, so an answer quoting (1) does not bring (2) along.
    from assistant.answer import _candidates

    by_text = {x.text: x for x in _candidates([LAW])}
    assert by_text["(2) The copy must be given within 7 weeks of the decision."].intro is None
    assert by_text["(b) the head teacher of the school, and"].intro == 0
    sentences = _candidates([LAW])
    ranked = sorted(sentences, key=lambda x: x.position)
    for x in ranked:
        x.score = 1.0 if x.position == 0 else 0.1
    chosen = [x.text for x in _answerer(ALWAYS, (LAW,))._select(ranked, sentences, [LAW])]
    assert "(c) the local authority." in chosen
    assert not any("7 weeks" in text for text in chosen), chosen


def test_the_relevant_legislation_line_of_guidance_is_read_as_its_legal_basis():
    line = (
        "Relevant legislation: Sections 36, 37 and 40 of the Children and Families Act 2014 "
        "and Regulations 4, 5, and 13 of the SEND Regulations 2014\n"
        "9.39 The process must be carried out in a timely manner."
    )
    cfa, regs = "Children and Families Act 2014", "SEND Regulations 2014"
    assert legal_bases(line) == [
        LegalBasis(cfa, "s.36"),
        LegalBasis(cfa, "s.37"),
        LegalBasis(cfa, "s.40"),
        LegalBasis(regs, "reg.4"),
        LegalBasis(regs, "reg.5"),
        LegalBasis(regs, "reg.13"),
    ]
    # a Schedule, or Regulations named without numbers, are not provisions to look up
    assert legal_bases(
        "Relevant legislation: Section 30 of the Children and Families Act 2014 and Schedule "
        "2(14) of the SEND Regulations 2014, the Special Educational Needs (Personal Budgets) "
        "Regulations 2014"
    ) == [LegalBasis(cfa, "s.30")]
    assert legal_bases("9.40 Section 36 of the Children and Families Act 2014 applies.") == []
    # ranges, subsections, and numbers written before the document they belong to
    assert legal_bases(
        "Relevant legislation: The Children and Families Act 2014 Sections 51 – 53 and 19(c)"
    ) == [LegalBasis(f"The {cfa}", f"s.{n}") for n in (51, 52, 53, 19)]


def _guidance(n: int, words: str) -> Passage:
    return replace(CODE, chunk_id=f"code::00{n}", text=f"9.{n} The governing body {words}.")


def test_guidance_quoted_for_a_law_question_brings_the_provision_it_names_in_place_of_another():
    question = "Must the governing body give a copy of the plan to the local authority?"
    guidance = [
        _guidance(40, "must give a copy of the plan to the local authority"),
        _guidance(50, "must give the local authority a copy of the plan quickly"),
        _guidance(60, "must give a copy of the plan to the local authority by post"),
    ]
    provision = replace(
        LAW,
        text="- (1) The governing body must give a copy of the plan to—\n"
        "- (a) the child's parent, and\n- (b) the local authority.\n"
        "- (2) The copy must be given within 7 weeks of the decision.",
    )
    answerer = ExtractiveAnswerer(
        AnswerSettings(status_model=ALWAYS, max_citations=3),
        HashEmbedding(),
        Vocabulary([p.text for p in (*guidance, provision)]),
    )
    # three passages of guidance fill the citations: the provision is not quoted ...
    plain = answerer.answer(question, [*guidance, provision], None)
    assert [s.doc_id for s in plain.sources] == ["code", "code", "code"]
    # ... unless retrieval found it as the legal basis of a quoted one: then it takes the
    # place of the least relevant other passage, quoted whole
    law = replace(provision, basis_for=guidance[0].chunk_id)
    draft = answerer.answer(question, [*guidance, law], None)
    assert len(draft.sources) == 3 and "act" in {s.doc_id for s in draft.sources}
    assert "9.40 The governing body must give a copy of the plan to the local authority." in (
        draft.text
    )
    for line in ("(1) The governing body must give a copy of the plan to—", "(b) the local"):
        assert line in draft.text
    assert "7 weeks" not in draft.text
    assert items_without_lead_in(draft.text, [s.to_citation() for s in draft.sources]) == []
    # a provision far from the question is not quoted, legal basis or not
    far = replace(law, text="- (1) Regulations may make provision about fees.")
    draft = answerer.answer(question, [*guidance, far], None)
    assert "fees" not in draft.text


def _based_corpus_assistant(tmp_path, settings_factory):
    """An Act and a Code whose section names the Act's section 2 as its legal basis."""
    act = (
        "---\ntitle: Example Families Act 2014\ncite_as: Example Families Act 2014\n"
        "jurisdiction: England\ndoc_type: legislation\n---\n# Example Families Act 2014\n\n"
        "## PART 1 — Plans\n\n#### Plans\n\n##### 1\n\n- (1) A plan is kept by the body.\n\n"
        "#### Review of plans\n\n##### 2\n\n"
        "- (1) The local authority must review the plan within 12 months.\n\n"
        "- (2) The local authority may review a plan sooner.\n"
    )
    code = (
        "---\ntitle: Example Code of Practice\ncite_as: Example Code 2015\n"
        "jurisdiction: England\ndoc_type: statutory-guidance\n---\n# Example Code of Practice\n\n"
        "## 1 Reviews\n\n### Reviewing a plan\n\n"
        "Relevant legislation: Section 2 of the Example Families Act 2014\n\n"
        "1.1 Reviews must be held at least once a year, in a place the family can reach.\n\n"
        "#### Reviews in the early years\n\n"
        "1.2 Reviews for young children must be held more often, every three to six months.\n"
    )
    return _assistant_over(tmp_path, settings_factory, {"act.md": act, "code.md": code})


def test_a_law_question_retrieves_the_provision_guidance_names_before_that_guidance(
    tmp_path, settings_factory
):
    bot = _based_corpus_assistant(tmp_path, settings_factory)
    retriever = bot.retriever
    code_ids = {n.node_id: n for n in retriever.nodes if n.metadata["doc_id"] == "code.md"}
    # the section and the sections below it rest on what it names
    for node in code_ids.values():
        assert retriever.legal_basis(node.metadata) == ["act.md|s.2"], node.metadata["section"]
    passages = bot.retrieve("Must reviews for young children be held more often?")
    first_code = next(i for i, p in enumerate(passages) if p.chunk_id in code_ids)
    provision = passages[first_code - 1]
    assert provision.metadata["doc_id"] == "act.md" and provision.basis_for
    assert "s.2" in provision.metadata["section"]
    # a question that does not ask what the law requires is left as ranked
    plain = bot.retrieve("When are reviews for young children held?")
    assert not any(p.basis_for for p in plain)


def test_a_law_question_asking_how_long_brings_the_provision_that_states_a_time(
    tmp_path, settings_factory
):
    act = (
        "---\ntitle: Example Families Act 2014\ncite_as: Example Families Act 2014\n"
        "jurisdiction: England\ndoc_type: legislation\n---\n# Example Families Act 2014\n\n"
        "## PART 1 — Plans\n\n#### Draft plans\n\n##### 2\n\n"
        "- (1) A draft is sent to each family.\n\n"
        "#### Comments on draft plans\n\n##### 3\n\n"
        "- (1) Representations may be made within 15 days.\n"
    )
    code = (
        "---\ntitle: Example Code of Practice\ncite_as: Example Code 2015\n"
        "jurisdiction: England\ndoc_type: statutory-guidance\n---\n# Example Code of Practice\n\n"
        "## 1 Plans\n\n### The draft plan\n\n"
        "Relevant legislation: Sections 2 and 3 of the Example Families Act 2014\n\n"
        "1.1 The local authority must give parents the draft plan and time to comment on the "
        "draft plan.\n"
    )
    bot = _assistant_over(tmp_path, settings_factory, {"act.md": act, "code.md": code})
    question = "How long must the local authority give parents to comment on the draft plan?"
    bases = [p for p in bot.retrieve(question) if p.basis_for]
    assert len(bases) == 1
    assert "> s.3 " in bases[0].metadata["section"], bases[0].metadata


def test_a_lead_in_none_of_whose_items_fit_is_not_shown_alone():
    from assistant.answer import _candidates

    long = "Settings should " + "plan transitions with families, " * 24 + "and review them."
    passage = Passage(
        "toolkit::3",
        f"{long}\nThe hubs produced two documents:\n- a set of principles\n- a report template",
        {"doc_id": "toolkit", "title": "Hubs toolkit", "doc_type": "practice-guidance"},
        1.0,
        0.8,
    )
    sentences = _candidates([passage])
    by_text = {x.text: x for x in sentences}
    lead = by_text["The hubs produced two documents:"]
    ranked = [sentences[0], lead] + [x for x in sentences if x not in (sentences[0], lead)]
    for x, score in zip(ranked, (1.0, 0.95, 0.1, 0.1), strict=False):
        x.score = score
    tight = ExtractiveAnswerer(
        AnswerSettings(status_model=ALWAYS, list_overrun=1.0, max_words=100),
        HashEmbedding(),
        Vocabulary([passage.text]),
    )
    chosen = [x.text for x in tight._select(ranked, sentences, [passage])]
    assert "The hubs produced two documents:" not in chosen, chosen
    # with room for its items, it comes with them
    roomy = ExtractiveAnswerer(
        AnswerSettings(status_model=ALWAYS), HashEmbedding(), Vocabulary([passage.text])
    )
    chosen = [x.text for x in roomy._select(ranked, sentences, [passage])]
    assert "The hubs produced two documents:" in chosen and "a set of principles" in chosen


def test_a_legal_basis_never_pushes_out_the_only_passage_an_answer_may_cite():
    law = replace(
        LAW,
        basis_for=CODE.chunk_id,
        text="- (1) Local authorities must give parents a copy of the draft plan.",
    )
    one = ExtractiveAnswerer(
        AnswerSettings(status_model=ALWAYS, max_citations=1),
        HashEmbedding(),
        Vocabulary([CODE.text, law.text]),
    )
    draft = one.answer(
        "Must local authorities give parents a copy of the draft plan?", [CODE, law], None
    )
    assert [s.doc_id for s in draft.sources] == ["code"]


def test_a_subsection_made_subject_to_another_names_it_and_other_acts_are_not_read_as_it():
    from assistant.pinpoint import subject_to

    assert subject_to(
        "- (3) The authority must name the school, unless subsection (4) applies."
    ) == ["4"]
    assert subject_to("- (1) Subject to paragraph (3) or any direction made") == ["3"]
    assert subject_to("- (2) in a mainstream school, subject to subsections (3) and (4).") == [
        "3",
        "4",
    ]
    assert subject_to(
        "- (1) it must decide, unless any of the circumstances in subsection (3) apply."
    ) == ["3"]
    # a subsection of another section or Act is not part of this provision
    assert subject_to("as given by section 70(6) (subject to subsection (7) of that section)") == []
    assert subject_to("- (1) The authority must review the plan within 12 months.") == []
    # being subject to a duty another subsection imposes is not being made subject to it
    assert (
        subject_to(
            "(a) require authorities which are subject to the duty imposed by subsection (2)"
        )
        == []
    )


def test_an_exception_names_the_rule_it_is_an_exception_to():
    from assistant.pinpoint import exception_to

    assert exception_to("- (4) Subsection (3) does not apply where—") == ["3"]
    assert exception_to("- (3) But the duty in subsection (2) does not apply if the plan") == ["2"]
    assert exception_to(
        "- (5) The timescales referred to in paragraphs (2) and (3) do not apply"
    ) == [
        "2",
        "3",
    ]
    assert exception_to(
        "- (3) The local authority need not comply with the time limit referred to in "
        "paragraph (2) if it is impractical for any of the reasons set out in regulation 10(4)"
    ) == ["2"]
    # an exception to some items of a subsection matters only where those items are quoted
    assert (
        exception_to("- (3) It need not comply with the time limits in paragraph (2)(b) and (c)")
        == []
    )
    assert exception_to("- (2) The authority must issue the plan within 20 weeks.") == []


NAMING = Passage(
    "act::0039",
    "- (1) This section applies where a parent asks for a particular school to be named.\n"
    "- (2) The authority must consult the governing body of the school.\n"
    "- (3) The authority must secure that the plan names the school requested by the parent, "
    "unless subsection (4) applies.\n"
    "- (4) This subsection applies where—\n"
    "- (a) the school is unsuitable for the age, ability or aptitude of the child, or\n"
    "- (b) the attendance would be incompatible with the efficient use of resources.",
    {**ACT, "section": "PART 3 > s.39 Finalising plans: request for a particular school"},
    1.0,
    0.8,
)


def test_a_rule_made_subject_to_an_exception_is_quoted_with_the_exception():
    # "unless subsection (4) applies" quoted without (4) states the rule and hides the
    # grounds on which it does not hold: the parent asking whether the school can be refused
    # needs exactly those.
    answerer = _answerer(ALWAYS, passages=(NAMING,))
    draft = answerer.answer(
        "Must the plan name the school requested by the parent?", [NAMING], None
    )
    assert "unless subsection (4) applies" in draft.text
    assert "(a) the school is unsuitable for the age" in draft.text
    assert "(b) the attendance would be incompatible" in draft.text
    assert draft.sources[0].pinpoint == "s.39(3)–(4)"
    # and from the other side: the exception brings the rule it is an exception to
    opening = replace(
        NAMING,
        text=NAMING.text.replace(
            "- (4) This subsection applies where—", "- (4) Subsection (3) does not apply where—"
        ),
    )
    draft = answerer.answer(
        "When is the school unsuitable for the age of the child?", [opening], None
    )
    assert "(a) the school is unsuitable" in draft.text
    assert "must secure that the plan names the school" in draft.text
    assert "(2) The authority must consult" not in draft.text  # nothing else of the section


TIMESCALE = Passage(
    "regs::0013",
    "- (1) This regulation applies to the finalised plan.\n"
    "- (2) The local authority must send the finalised plan to the parent within 20 weeks of "
    "receiving a request for an assessment.\n"
    "- (3) The local authority need not comply with the time limit referred to in paragraph (2) "
    "if it is impractical to do so because the parent is away from the area for 4 weeks.\n"
    "- (4) The authority must consult the parent before naming a school, unless paragraph (5) "
    "applies.\n"
    "- (5) The circumstances are—\n"
    + "\n".join(
        f"- ({c}) the child is in hospital for a reason of kind {c} listed in the health "
        "annex to these regulations, and has been for more than a month;"
        for c in "abcdef"
    ),
    {**ACT, "cite_as": "SEND Regulations 2014", "section": "PART 2 > reg.13 Timescales for plans"},
    1.0,
    0.8,
)


def test_a_time_limit_is_quoted_with_the_exception_made_to_it_but_not_a_long_list():
    answerer = _answerer(ALWAYS, passages=(TIMESCALE,))
    asked = "Within how many weeks must the finalised plan be sent?"
    draft = answerer.answer(asked, [TIMESCALE], None)
    assert "within 20 weeks" in draft.text
    assert "need not comply with the time limit referred to in paragraph (2)" in draft.text
    # a rule whose exceptions are a long list names them itself; the list is not quoted
    asked = "Must the authority consult the parent before naming a school?"
    draft = answerer.answer(asked, [TIMESCALE], None)
    assert "unless paragraph (5) applies" in draft.text
    assert "(f) the child is in hospital" not in draft.text


def test_a_subsection_joined_from_the_next_chunk_is_never_quoted_on_its_own():
    # the exception joined the passage only for the rule that depends on it: asked about the
    # exception's own words, the answer does not quote it without the rule
    joined = replace(NAMING, text=NAMING.text.replace("unless subsection (4) applies", "as asked"))
    joined = replace(joined, joined_from=len(split_sentences(joined.text)) - 3)
    answerer = _answerer(ALWAYS, passages=(joined,))
    asked = "Is the attendance incompatible with the efficient use of resources?"
    draft = answerer.answer(asked, [joined], None)
    assert "efficient use of resources" not in draft.text
    # without the mark it is the passage's own sentence, and is quoted
    draft = answerer.answer(asked, [replace(joined, joined_from=None)], None)
    assert "efficient use of resources" in draft.text


def test_an_exception_in_the_next_chunk_joins_the_passage_that_refers_to_it(
    tmp_path, settings_factory
):
    filler = " ".join(["after consulting the governing body of that school"] * 6)
    bot = _assistant_over(
        tmp_path,
        settings_factory,
        {
            "act.md": "---\ntitle: Example Act\nshort_name: Example Act 2014\n"
            "jurisdiction: England\ndoc_type: legislation\n---\n"
            "# Example Act\n\n## PART 3 — Plans\n\n#### Request for a particular school\n\n"
            "###### 39\n\n"
            f"- (1) This section applies where a parent asks for a school, {filler}.\n\n"
            f"- (2) The authority must consult the school, {filler}.\n\n"
            "- (3) The authority must secure that the plan names the school requested by the "
            "parent, unless subsection (4) applies.\n\n"
            "- (4) This subsection applies where the school is unsuitable for the child, "
            f"{filler}.\n"
        },
    )
    chunks = [n.get_content(metadata_mode=MetadataMode.NONE) for n in bot.nodes]
    holder = [c for c in chunks if "unless subsection (4) applies" in c]
    assert holder and "(4) This subsection applies" not in holder[0], "the exception is cut off"
    passages = bot.retrieve("Must the plan name the school requested by the parent?")
    rule = next(p for p in passages if "unless subsection (4) applies" in p.text)
    assert "(4) This subsection applies where the school is unsuitable" in rule.text
    assert len(rule.sentence_similarities or ()) == len(split_sentences(rule.text))
    answer = bot.ask("Must the plan name the school requested by the parent?")
    assert "unless subsection (4) applies" in answer.text
    assert "(4) This subsection applies where the school is unsuitable" in answer.text


def test_a_term_a_later_subsection_defines_is_quoted_with_its_definition():
    from assistant.pinpoint import defined_later

    assert defined_later(
        "- (4) that person holds the qualification, mentioned in paragraph (5)."
    ) == ["5"]
    # an earlier subsection the reader has met is not brought again
    assert defined_later("- (3) The notice mentioned in subsection (2) must be in writing.") == []
    qualification = _provision(
        "regs::0049",
        "- (3) The authority must designate a member of staff as the co-ordinator.\n"
        "- (4) The authority must ensure that the co-ordinator holds the qualification "
        "mentioned in paragraph (5) within three years.\n"
        "- (5) The qualification referred to in paragraph (4) is the national award for "
        "co-ordination awarded by a recognised body.",
        "SEND Regulations 2014",
        "PART 3 > reg.49 Co-ordinators",
    )
    draft = _answer_from(
        qualification, "Within how many years must the co-ordinator hold the qualification?"
    )
    assert "within three years" in draft.text
    assert "is the national award for co-ordination" in draft.text


def test_a_definition_is_quoted_with_its_lead_in_and_not_with_every_other_definition():
    from assistant.pinpoint import defines_term

    assert defines_term("“*EHC plan*” means a plan within section 37(2);")
    assert defines_term("“*the SENCO*”, in relation to a relevant school, means the person")
    assert not defines_term("(a) an institution in the further education sector is in Wales")
    others = "".join(
        f"- “*{term}*” has the meaning given by section {n};\n"
        for n, term in enumerate(
            [
                "home authority",
                "health care provision",
                "mainstream school",
                "maintained school",
                "post-16 institution",
                "proprietor",
                "social care provision",
                "EA 1996",
            ],
            start=40,
        )
    )
    interpretation = _provision(
        "act::0083",
        "- (1) This section applies for the purposes of this Part.\n"
        "- (2) In this Part—\n"
        + others
        + "- “*young person*” means a person over compulsory school age but under 25.\n"
        "- (3) A reference to a school includes a reference to a nursery school.",
        "CFA 2014",
        "PART 3 > s.83 Interpretation",
    )
    draft = _answer_from(interpretation, "What is the legal definition of a young person?")
    assert "- (2) In this Part—" in draft.text
    assert "“*young person*” means a person over compulsory school age but under 25." in draft.text
    assert "home authority" not in draft.text and "proprietor" not in draft.text
    assert items_without_lead_in(draft.text, [draft.sources[0].to_citation()]) == []
    assert draft.sources[0].pinpoint == "s.83(2)"


def test_a_power_to_make_regulations_gives_way_to_the_duty_the_question_asks_about():
    from assistant.pinpoint import confers_power

    assert confers_power("- (4) Regulations may make provision about appeals to the Tribunal")
    assert confers_power("- (5) The code may impose requirements—")
    assert not confers_power("- (2) The local authority may by notice require a review.")
    assert not confers_power("- (2) The Secretary of State may revise the code from time to time.")
    appeals = _provision(
        "act::0051",
        "- (1) A parent may appeal to the Tribunal against the matters in subsection (2).\n"
        "- (2) The matters are the school named in the plan and a decision not to assess.\n"
        "- (4) Regulations may make provision about appeals to the Tribunal against a plan, "
        "about the school named in a plan, and about a decision not to assess a parent's "
        "child.",
        "CFA 2014",
        "PART 3 > s.51 Appeals",
    )
    draft = _answer_from(
        appeals, "Can a parent appeal to the Tribunal about the school named in the plan?"
    )
    assert "A parent may appeal to the Tribunal" in draft.text
    assert "Regulations may make provision" not in draft.text


def test_an_exception_brings_the_rule_that_names_it_from_the_chunk_before(
    tmp_path, settings_factory
):
    # "(2) The circumstances are—" says nothing without "(1) ... must decide ..., unless any
    # of the circumstances in subsection (2) apply", which the index cut into the chunk before.
    filler = " ".join(["where the child attends a setting that is not maintained"] * 10)
    items = "\n\n".join(
        f"- ({letter}) the child is registered at setting {letter} {filler};" for letter in "ab"
    )
    bot = _assistant_over(
        tmp_path,
        settings_factory,
        {
            "act.md": "---\ntitle: Example Act\nshort_name: Example Act 2018\n"
            "jurisdiction: Wales\ndoc_type: legislation\n---\n"
            "# Example Act\n\n## PART 2 — Needs\n\n#### Duty to decide: local authorities\n\n"
            "###### 13\n\n"
            "- (1) Where it appears to a local authority that a child may have additional "
            "learning needs, the authority must decide whether the child has additional "
            f"learning needs, unless any of the circumstances in subsection (2) apply, {filler}."
            f"\n\n- (2) The circumstances are—\n\n{items}\n"
        },
    )
    exception = next(
        n.node_id
        for n in bot.nodes
        if n.get_content(metadata_mode=MetadataMode.NONE).startswith("- (2) The circumstances")
    )  # the index cut the section before (2)
    asked = "What are the circumstances for a child registered at setting b?"
    passage = next(p for p in bot.retrieve(asked) if p.chunk_id == exception)
    assert passage.text.startswith("- (1) Where it appears")
    assert "- (2) The circumstances are—" in passage.text
    assert passage.joined_until == 1 and passage.joined(0) and not passage.joined(1)
    assert len(passage.sentence_similarities or ()) == len(split_sentences(passage.text))
    answerer = ExtractiveAnswerer(
        AnswerSettings(status_model=ALWAYS, max_exception_words=200), HashEmbedding(), bot.vocab
    )
    draft = answerer.answer(asked, [passage], None)
    assert "the authority must decide whether the child has additional learning needs" in (
        draft.text
    )
    assert draft.text.index("- (1) Where it appears") < draft.text.index("(2) The circumstances")
    # a rule joined from the chunk before is never quoted on its own
    from assistant.answer import _candidates

    assert [x.joined for x in _candidates([passage])][:2] == [True, False]
