"""Abbreviations and lay words: how questions are read before retrieval."""

from __future__ import annotations

from assistant.glossary import CorpusForms, corpus_forms, expand, spell_out
from assistant.settings import ReadingSettings

READING = ReadingSettings()

DOCS = [
    "The governing body must designate an additional learning needs co-ordinator.",
    "The additional learning needs co-ordinator has functions under section 60.",
    "An EHC plan must be reviewed. The EHC plan names a school. The SEN support cycle.",
    "A child has SEN if they have a learning difficulty. SEN support is given in school.",
]


def test_an_abbreviation_the_documents_do_not_use_is_written_out_as_they_write_it():
    spellings = corpus_forms(DOCS).spellings
    assert spellings["alnco"] == "additional learning needs co-ordinator"
    assert spellings["ehcp"] == "ehc plan"  # the documents' own short form, not the longest
    assert spell_out("Who must designate an ALNCo?", spellings) == (
        "Who must designate an additional learning needs co-ordinator (ALNCo)?"
    )


def test_an_abbreviation_the_documents_use_themselves_is_left_alone():
    spellings = corpus_forms(DOCS).spellings
    assert "sen" not in spellings
    assert spell_out("What is SEN support?", spellings) == "What is SEN support?"


def test_an_ordinary_word_that_looks_like_an_abbreviation_is_not_written_out():
    spellings = {"send": "special educational needs and disability", "la": "local authority"}
    assert spell_out("Can the school send me the report?", spellings) == (
        "Can the school send me the report?"
    )
    assert spell_out("Tra la la", spellings) == "Tra la la"


def test_lay_words_bring_the_statutory_words_for_bm25():
    assert "local authority" in expand("Can the council refuse?")
    assert "time limit" in expand("What is the deadline?")


def test_bm25_gets_only_the_equivalents_the_documents_prefer_to_the_question_word():
    docs = DOCS + [
        "The local authority must do this within the time limit. The local authority decides.",
        "The council tax is separate.",
    ]
    forms = corpus_forms(docs)
    # 'council' is rarer in the documents than 'local authority': the documents' word is added
    assert "local authority" in expand("Can the council refuse?", forms.equivalents)
    assert "time limit" in expand("What is the deadline?", forms.equivalents)
    # the documents write 'EHC plan' themselves: nothing is added to it
    assert expand("When is an EHC plan reviewed?", forms.equivalents) == (
        "When is an EHC plan reviewed?"
    )
    # an equivalent the documents never write is never added
    assert "post-16" not in expand("Can my son go to college?", forms.equivalents)


def test_corpus_forms_survive_a_round_trip_through_json():
    forms = corpus_forms(DOCS)
    assert CorpusForms.from_json(forms.to_json()) == forms


def test_the_words_that_frame_a_forum_question_are_not_its_subject():
    # "Hi, I was wondering if anyone could suggest..." asks nothing about hi or anyone: those
    # words must not count as the question's content, which the passages would have to cover
    from assistant.retrieval import Vocabulary

    vocab = Vocabulary(["The local authority must decide within six weeks."])
    assert vocab.terms("Hi, I was wondering if anyone could suggest something? Thanks") == []
    assert vocab.terms("Hi, can the council refuse?") == vocab.terms("can the council refuse?")
    # "What will happen ...?" asks what the passages say, as "What is ...?" does: a passage
    # that answers it does not say "happen"
    assert vocab.terms("What happens at an annual review?") == vocab.terms("annual review")
    assert vocab.terms("What will happen after a review?") == vocab.terms("after a review")


def test_a_contraction_is_read_as_the_words_it_stands_for():
    # The documents never contract: "What's" or "doesn't" would otherwise count as a word no
    # passage holds, and "What's an IDP?" would be refused where "What is an IDP?" is answered
    from assistant.core import clean_question
    from assistant.retrieval import Vocabulary

    vocab = Vocabulary(["An individual development plan is a document."])
    asked = clean_question("What’s an IDP? It doesn’t say, and I can't find it.", 200)
    assert asked == "What's an IDP? It doesn't say, and I can't find it."
    assert vocab.terms(asked) == vocab.terms("What is an IDP? It does not say, and I find it.")
    # typed without the apostrophe, as phones leave it
    assert vocab.terms("the school wont do it and im stuck") == vocab.terms(
        "the school won't do it and I'm stuck"
    )


def test_a_short_form_typed_in_lower_case_is_read_as_one_unless_the_documents_use_the_word():
    from assistant.glossary import read_short_forms

    forms = corpus_forms(["The SENCO must send the EHC plan.", "An IDP (ALNCo) is kept."])
    assert "send" in forms.ordinary and "senco" not in forms.ordinary
    assert read_short_forms("can the senco send my sons ehcp?", forms, READING) == (
        "can the SENCO send my sons EHCP?"
    )
    assert read_short_forms("what is an Idp", forms, READING) == "what is an IDP"
    assert read_short_forms("Is the SENCo there? the la said", forms, READING) == (
        "Is the SENCo there? the la said"  # as written; and 'la' is too short to be sure
    )
    assert read_short_forms("Can we have a chat?", forms, READING) == "Can we have a chat?"
    # typed in capitals, every word looks like a short form: read in lower case first
    assert read_short_forms("CAN THEY SEND MY EHCP?", forms, READING) == "can they send my EHCP?"
    assert read_short_forms("WHAT IS SEN?", forms, READING) == "WHAT IS SEN?"  # too short to tell


def test_a_misspelt_word_is_read_as_the_documents_word_one_letter_away():
    from assistant.glossary import correct_spelling

    forms = corpus_forms(
        ["The EHC needs assessment and the statement.", "An assessment, a statement, rounds."]
    )
    assert correct_spelling("How long does an EHC needs assesment take?", forms, READING) == (
        "How long does an EHC needs assessment take?"
    )
    assert correct_spelling("Statment or asssesment?", forms, READING) == "Statement or assessment?"
    # real words the documents do not use, names, short forms and short words stay as typed
    for asked in ("What is the wording?", "in Southend", "an EHCNA", "in pounds", "a statmnt"):
        assert correct_spelling(asked, forms, READING) == asked


def test_an_american_spelling_is_read_as_the_british_one_the_documents_use():
    from assistant.glossary import correct_spelling

    forms = corpus_forms(["The programme and the paediatric centre."] * 2)
    assert correct_spelling("Is the program in a pediatric center?", forms, READING) == (
        "Is the programme in a paediatric centre?"
    )
    assert correct_spelling("Is the teacher there?", forms, READING) == "Is the teacher there?"


def test_a_question_word_is_covered_when_the_passage_says_it_the_documents_way():
    # 'EHCP' and 'daughter' are in the question; the passage says 'EHC plan' and 'child'
    from assistant.answer import _coverage, _said_another_way
    from assistant.glossary import equivalents_of
    from assistant.retrieval import Vocabulary

    passage = "The child's EHC plan must be reviewed every 12 months."
    vocab = Vocabulary([passage, "The local authority must decide."])
    question = "Must my daughter's EHCP be reviewed?"
    assert ("EHCP", ("ehc plan", "education, health and care plan")) in equivalents_of(question)
    text_terms = set(vocab.terms(passage))
    q_terms = vocab.terms(question)
    assert _coverage(q_terms, text_terms, vocab) < 0.5
    assert _coverage(q_terms, _said_another_way(question, text_terms, vocab), vocab) == 1.0
    # a word the passage does not say in any form stays uncovered
    other = "Must my daughter's EHCP be reviewed by a tribunal?"
    other_terms = vocab.terms(other)
    assert _coverage(other_terms, _said_another_way(other, text_terms, vocab), vocab) < 1.0
    # the verb 'send' is not the abbreviation SEND
    assert not any(w == "send" for w, _ in equivalents_of("Can they send him home?"))


def test_a_short_form_the_documents_define_is_read_from_its_initials():
    from assistant.glossary import defined_abbreviations

    found = defined_abbreviations(
        [
            "Joint Strategic Needs Assessments (JSNAs) inform commissioning.",
            "the Department of Work and Pensions (DWPX) and the Virtual School Head (VSH)",
            "augmentative and alternative communication (AAC) is used",
            "as the school's own (MAGIC) scheme",  # initials that spell nothing before it
        ]
    )
    assert found["jsna"] == "joint strategic needs assessment"
    assert found["vsh"] == "virtual school head"
    assert found["aac"] == "augmentative and alternative communication"
    assert "dwpx" not in found and "magic" not in found


def test_a_defined_short_form_brings_its_long_form_only_when_written_as_a_short_form():
    docs = [
        "The Virtual School Head (VSH) must promote the achievement of looked after children.",
        "The virtual school head monitors attendance. The virtual school head advises.",
        "Children may chat with staff (CHAT) in a chat session.",
    ]
    forms = corpus_forms(docs)
    assert "vsh" in forms.abbreviations
    assert spell_out("What does the VSH do?", forms.spellings) == (
        "What does the virtual school head (VSH) do?"
    )
    assert "virtual school head" in expand(
        "What does the VSH do?", forms.equivalents, forms.abbreviations
    )
    assert expand("Can I vsh?", forms.equivalents, forms.abbreviations) == "Can I vsh?"


def test_a_hyphenated_compound_matches_the_words_written_apart_or_joined():
    # the documents write 'step-in', 'co-ordinator', 'top-up'; people write 'step in',
    # 'coordinator', 'top up': each form must give the question's words the passage's terms
    from assistant.answer import _coverage
    from assistant.retrieval import Vocabulary

    step = "To identify how and when to step-in and how and when to step-back."
    back = "Step-back and let the child try on their own."
    vocab = Vocabulary([step, back, "The co-ordinator arranges top-up funding."])
    question = vocab.terms("When do I step in and when do I step back?")
    assert _coverage(question, set(vocab.terms(step)), vocab) > _coverage(
        question, set(vocab.terms(back)), vocab
    )
    assert set(vocab.terms("Who is the coordinator?")) <= set(vocab.terms("the co-ordinator"))
    assert set(vocab.terms("top up funding")) == set(vocab.terms("top-up funding"))
    # a range is not a compound, and the compounds survive the saved statistics
    assert vocab.terms("ages 0-25") == ["age", "0", "25"]
    assert Vocabulary([], vocab.stats()).terms("step in") == vocab.terms("step in")


def test_a_question_spelling_a_compound_another_way_brings_the_documents_spelling():
    # the documents hyphenate 'co-ordinator' and 're-assessment'; a question writing
    # 'coordinator' must reach BM25 with the documents' spelling as well
    docs = [
        "The co-ordinator must be a teacher. The co-ordinator plans a re-assessment.",
        "A re-assessment may be requested.",
    ]
    forms = corpus_forms(docs)
    assert "co-ordinator" in expand("Who is the coordinator?", forms.equivalents)
    assert "re-assessment" in expand("Can we ask for a reassessment?", forms.equivalents)
    # the documents' own spelling brings nothing more
    assert expand("Who is the co-ordinator?", forms.equivalents) == "Who is the co-ordinator?"
