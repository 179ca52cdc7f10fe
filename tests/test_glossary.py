"""Abbreviations and lay words: how questions are read before retrieval."""

from __future__ import annotations

from assistant.glossary import corpus_spellings, expand, spell_out

DOCS = [
    "The governing body must designate an additional learning needs co-ordinator.",
    "The additional learning needs co-ordinator has functions under section 60.",
    "An EHC plan must be reviewed. The EHC plan names a school. The SEN support cycle.",
    "A child has SEN if they have a learning difficulty. SEN support is given in school.",
]


def test_an_abbreviation_the_documents_do_not_use_is_written_out_as_they_write_it():
    spellings = corpus_spellings(DOCS)
    assert spellings["alnco"] == "additional learning needs co-ordinator"
    assert spellings["ehcp"] == "ehc plan"  # the documents' own short form, not the longest
    assert spell_out("Who must designate an ALNCo?", spellings) == (
        "Who must designate an additional learning needs co-ordinator (ALNCo)?"
    )


def test_an_abbreviation_the_documents_use_themselves_is_left_alone():
    spellings = corpus_spellings(DOCS)
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
