"""Each loader turns its format into headings, paragraphs and list items."""

from __future__ import annotations

import pytest

from assistant.errors import DocumentError
from ingest.loaders import load_document


def _kinds(doc):
    return [(b.kind, b.text) for b in doc.blocks]


def test_markdown_front_matter_becomes_metadata_and_headings_become_blocks(tmp_path):
    f = tmp_path / "a.md"
    f.write_text(
        "---\ntitle: T\njurisdiction: Wales\ndoc_type: legislation\n---\n# T\n\n"
        "## Part 1\n\nSome text\nwrapped.\n\n- (1) item one\n- (2) item two\n"
    )
    doc = load_document(f, tmp_path)
    assert doc.metadata["title"] == "T"
    assert doc.metadata["jurisdiction"] == "Wales"
    assert doc.metadata["doc_type"] == "legislation"
    assert ("heading", "Part 1") in _kinds(doc)
    assert ("para", "Some text wrapped.") in _kinds(doc)
    assert ("item", "(1) item one") in _kinds(doc)


def test_missing_metadata_gets_defaults_and_title_from_first_heading(tmp_path):
    f = tmp_path / "notes.md"
    f.write_text("# My own notes\n\nText here.\n")
    doc = load_document(f, tmp_path)
    assert doc.metadata["title"] == "My own notes"
    assert doc.metadata["jurisdiction"] == "Unspecified"
    assert doc.metadata["doc_type"] == "unspecified"


def test_sidecar_metadata_applies_to_plain_text(tmp_path):
    f = tmp_path / "guide.txt"
    f.write_text("Guide\n\nSome paragraph of guidance text that is long enough.\n")
    (tmp_path / "guide.txt.meta.yaml").write_text("title: The Guide\njurisdiction: England\n")
    doc = load_document(f, tmp_path)
    assert doc.metadata["title"] == "The Guide"
    assert doc.metadata["jurisdiction"] == "England"


def test_hard_wrapped_pdf_text_is_rejoined_and_case_study_headings_found(tmp_path):
    body = (
        "This is a long line of body text that was wrapped by the pdf extraction at a width \n\n"
        "of about ninety characters and continues here with more words until it ends. \n\n"
    ) * 12
    text = (
        "Case Study 1: London Borough of Ealing: developing staff skills and improving \n\n"
        "access to support and advice \n\nWhat is the impact? \n" + body
    )
    f = tmp_path / "report.txt"
    f.write_text(text)
    doc = load_document(f, tmp_path)
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert headings[0] == (
        "Case Study 1: London Borough of Ealing: developing staff skills and improving "
        "access to support and advice"
    )
    assert "What is the impact?" in headings
    paras = [b.text for b in doc.blocks if b.kind == "para"]
    assert paras[0].startswith("This is a long line") and "continues here" in paras[0]


def test_pdf_keeps_page_numbers(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    for page in ("Intro page about inclusion.", "Second page about transitions to school."):
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 10, page)
    f = tmp_path / "doc.pdf"
    pdf.output(str(f))
    doc = load_document(f, tmp_path)
    pages = {b.page for b in doc.blocks if "transitions" in b.text}
    assert pages == {2}


def test_docx_heading_styles_and_lists_are_kept(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("Policy", level=1)
    d.add_paragraph("The setting will:")
    d.add_paragraph("observe each child", style="List Bullet")
    d.add_paragraph("meet parents termly", style="List Bullet")
    f = tmp_path / "policy.docx"
    d.save(str(f))
    doc = load_document(f, tmp_path)
    assert ("heading", "Policy") in _kinds(doc)
    assert ("item", "observe each child") in _kinds(doc)


def test_html_drops_navigation_and_scripts(tmp_path):
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><title>Hub toolkit</title><script>var tracking=1;</script></head><body>"
        "<nav><a href='/'>Home</a> Menu link</nav><main><h1>Hub toolkit</h1><h2>SEND</h2>"
        "<p>Hubs ran SEND workshops.</p><ul><li>transition reports</li></ul></main>"
        "<footer>Cookie settings</footer></body></html>"
    )
    doc = load_document(f, tmp_path)
    text = " ".join(b.text for b in doc.blocks)
    assert "Hubs ran SEND workshops." in text
    assert "transition reports" in text
    assert "Menu link" not in text and "tracking" not in text and "Cookie" not in text
    assert doc.metadata["title"] == "Hub toolkit"


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.md", b"", "empty"),
        ("blank.txt", b"   \n\n", "empty"),
        ("binary.txt", b"\x00\x01\x02binary" * 50, "binary"),
        ("latin1.txt", "Caf\u00e9 r\u00e9sum\u00e9 na\u00efve".encode("latin-1"), "UTF-8"),
        ("fake.pdf", b"this is not a pdf at all", "not a PDF"),
        ("broken.pdf", b"%PDF-1.4\n garbage garbage", "PDF"),
        ("fake.docx", b"plain text pretending", "not a .docx"),
    ],
)
def test_bad_input_raises_a_clear_reason(tmp_path, name, content, reason):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(DocumentError, match=reason):
        load_document(f, tmp_path)


def test_oversized_file_is_refused_with_the_limit(tmp_path):
    f = tmp_path / "huge.txt"
    f.write_bytes(b"word " * (11 * 1024 * 1024))  # 55 MB
    with pytest.raises(DocumentError, match="over the 20 MB limit"):
        load_document(f, tmp_path, max_file_mb=20)


def test_encrypted_pdf_is_refused(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    from pypdf import PdfReader, PdfWriter

    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, "secret")
    plain = tmp_path / "plain.pdf"
    pdf.output(str(plain))
    writer = PdfWriter()
    for page in PdfReader(str(plain)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="pw", owner_password="owner")
    f = tmp_path / "locked.pdf"
    with f.open("wb") as out:
        writer.write(out)
    with pytest.raises(DocumentError, match="encrypted"):
        load_document(f, tmp_path)


def test_image_only_pdf_is_refused(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50, style="F")  # a drawing, no text
    f = tmp_path / "scan.pdf"
    pdf.output(str(f))
    with pytest.raises(DocumentError, match="no extractable text"):
        load_document(f, tmp_path)
