"""Chunks keep their section path, legislation numbers and lists."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.schema import MetadataMode

from ingest.chunking import chunk_document
from ingest.loaders import load_document

ROOT = Path(__file__).resolve().parents[1] / "corpus"


def _chunks(tmp_path: Path, name: str, text: str, max_words: int = 170):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return chunk_document(load_document(f, tmp_path), max_words)


def test_legislation_section_keeps_its_number_and_title():
    doc = load_document(ROOT / "aln-act-2018-wales.md", ROOT)
    nodes = chunk_document(doc)
    s60 = [n for n in nodes if "must designate a person, or more than one person" in n.text]
    assert len(s60) == 1
    assert s60[0].metadata["section"].endswith("s.60 Additional learning needs co-ordinator")


def test_regulations_use_reg_prefix():
    doc = load_document(ROOT / "send-regulations-2014.md", ROOT)
    nodes = chunk_document(doc)
    reg49 = [n for n in nodes if "National Award for Special Educational Needs" in n.text]
    assert reg49 and reg49[0].metadata["section"].endswith(
        "reg.49 Prescribed qualifications and experience of SENCOs"
    )


def test_a_schedules_numbered_headings_are_its_paragraphs_not_sections(tmp_path):
    from assistant.pinpoint import pinpoint

    text = (
        "---\ndoc_type: legislation\n---\n# The Regulations\n\n#### Interpretation\n\n"
        "###### 1\n\nThese Regulations apply.\n\n"
        "## SCHEDULE 1 — Information to be included in the report\n\n"
        "###### 1\n\nThe kinds of needs provided for.\n\n"
        "###### 3\n\nThe school's policies, including—\n\n- (a) how it evaluates them;\n\n"
        "## SCHEDULE 2\n\n#### Children Act 1989 (c. 41)\n\n##### 4\n\nIn section 17, omit x.\n"
    )
    nodes = _chunks(tmp_path, "regs.md", text)
    by_text = {n.text.splitlines()[0]: n.metadata for n in nodes}
    assert by_text["These Regulations apply."]["section"] == "reg.1 Interpretation"
    first = by_text["The kinds of needs provided for."]
    assert first["section"] == "SCHEDULE 1 — Information to be included in the report > para 1"
    assert pinpoint("The kinds of needs provided for.", first) == "Sch.1 para 1"
    third = by_text["The school's policies, including—"]
    assert pinpoint("The school's policies, including—", third) == "Sch.1 para 3"
    amending = by_text["In section 17, omit x."]
    assert amending["section"] == "SCHEDULE 2 > Children Act 1989 (c. 41) > para 4"
    assert pinpoint("In section 17, omit x.", amending) == "Sch.2 para 4"


def test_case_study_sub_headings_form_the_section_path():
    doc = load_document(ROOT / "eysend-effective-practice-research.txt", ROOT)
    nodes = chunk_document(doc)
    impact = [n for n in nodes if "Informal feedback has shown that the practice" in n.text]
    assert impact
    assert impact[0].metadata["section"] == (
        "Case Study 5: County Durham: ensuring successful "
        "transitions from early years settings to Reception Year > What is the impact?"
    )


def test_a_list_stays_with_the_sentence_that_introduces_it(tmp_path):
    text = (
        "# Doc\n\n## Aims\n\n"
        + ("Filler sentence here. " * 30)
        + "\n\nThe course aims to:\n\n"
        + "".join(f"- aim number {i} for the learner\n" for i in range(6))
    )
    nodes = _chunks(tmp_path, "d.md", text, max_words=60)
    with_list = [n for n in nodes if "aim number 0" in n.text]
    assert "The course aims to:" in with_list[0].text
    assert all("aim number" not in n.text or "The course aims to:" in n.text for n in nodes)


def test_a_long_list_repeats_its_introduction_in_each_piece(tmp_path):
    items = "".join(
        f"- ({chr(97 + i)}) a duty on body number {i} to do a long list of things\n"
        for i in range(12)
    )
    text = (
        "---\ndoc_type: legislation\n---\n# Act\n\n#### Duties\n\n##### 5\n\n"
        f"- (1) The following bodies must comply—\n{items}"
    )
    nodes = _chunks(tmp_path, "act.md", text, max_words=60)
    assert len(nodes) > 1
    assert all("(1) The following bodies must comply—" in n.text for n in nodes)
    assert all(n.metadata["section"] == "s.5 Duties" for n in nodes)


def test_embedded_text_starts_with_title_and_section_but_stored_text_does_not(tmp_path):
    nodes = _chunks(tmp_path, "g.md", "# Guide\n\n## Stepping back\n\nStep back when ready.\n")
    node = nodes[0]
    assert node.text == "Step back when ready."
    embedded = node.get_content(MetadataMode.EMBED)
    assert "Guide" in embedded and "Stepping back" in embedded


def test_no_chunk_is_longer_than_the_limit():
    for name in (
        "eysend-effective-practice-research.txt",
        "children-and-families-act-2014-part3.md",
    ):
        for node in chunk_document(load_document(ROOT / name, ROOT), 170):
            assert len(node.text.split()) <= 170 + 45, node.metadata["section"]
