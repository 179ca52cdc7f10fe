"""The gold question set: loading, and a validator that every quote exists in its document."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

PERSONAS = {"practitioner", "alnco", "senco", "trainer", "parent"}
KINDS = {
    "fact",
    "explain",
    "list",
    "compare",
    "paraphrase",
    "trainer",
    "duty",
    "unanswerable",
    "out-of-domain",
    "injection",
    "real",  # asked word for word on a public help page, FAQ or forum (source_url)
}
# dev: tuned on. test: held out, written before the system was run on it; CI gates on it.
SPLITS = {
    "dev": Path(__file__).with_name("questions.yaml"),
    "test": Path(__file__).with_name("questions_test.yaml"),
}
DEFAULT_GOLD = SPLITS["dev"]


def normalize(text: str) -> str:
    """Case- and whitespace-insensitive form used to match quotes inside passages."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.lower().split())


_NUMBER_WORDS = {
    word: str(n)
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": "30", "forty": "40", "fifty": "50"}
_NUMBER_WORD = re.compile(rf"(?<![\w-])({'|'.join(_NUMBER_WORDS)})(?![\w-])")


def fact_form(text: str) -> str:
    """``normalize`` with number words as numerals, for matching key facts: the Code writes
    'six weeks' where the Regulations write '6 weeks', and either states the fact."""
    return _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1)], normalize(text))


def states_fact(fact: str, said: str) -> bool:
    """Whether ``said`` (already in ``fact_form``) holds the key fact: as a substring (so
    'appeal' is found in 'appeals'), but a number not inside a longer one ('6 weeks' is not
    in '16 weeks')."""
    wanted = fact_form(fact)
    edge = r"(?<![0-9])" if wanted[:1].isdigit() else ""
    return re.search(edge + re.escape(wanted), said) is not None


@dataclass(frozen=True)
class Evidence:
    doc: str
    quote: str


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    persona: str
    kind: str
    answerable: bool = True
    evidence: tuple[Evidence, ...] = ()
    key_facts: tuple[str, ...] = field(default_factory=tuple)
    split: str = "dev"
    source_url: str = ""

    def evidence_in(self, text: str) -> bool:
        """True when the passage text holds any of the gold quotes."""
        return self.evidence_in_normalized(normalize(text))

    def evidence_in_normalized(self, norm: str) -> bool:
        """evidence_in for a text already passed through normalize()."""
        return any(normalize(e.quote) in norm for e in self.evidence)


TYPINGS = ("as-written", "lower", "slip")


def as_typed(q: GoldQuestion, how: str) -> GoldQuestion:
    """The question as it might be typed: as written, all in lower case (as quick typing on
    a phone leaves it), or with one slip (two neighbouring letters of its longest word
    swapped: 'assessment' -> 'asssesment'). The answers should hardly change."""
    if how == "lower":
        return replace(q, question=q.question.lower())
    if how == "slip":
        return replace(q, question=with_a_slip(q.question))
    if how != "as-written":
        raise ValueError(f"unknown typing {how!r}; choose from {TYPINGS}")
    return q


def with_a_slip(question: str) -> str:
    """The question with two neighbouring letters swapped near the middle of its longest word
    (of six letters or more), where they differ."""
    words = re.findall(r"[A-Za-z]{6,}", question)
    if not words:
        return question
    word = max(words, key=len)
    middle = len(word) // 2
    for i in sorted(range(2, len(word) - 1), key=lambda i: abs(i - middle)):
        if word[i - 1] != word[i]:  # swapping two alike letters would change nothing
            slipped = word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
            return question.replace(word, slipped, 1)
    return question


def load_splits(splits: str = "dev,test") -> list[GoldQuestion]:
    """The gold questions of the named splits ('dev', 'test' or 'dev,test')."""
    out: list[GoldQuestion] = []
    for name in splits.split(","):
        name = name.strip()
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; choose from {sorted(SPLITS)}")
        out.extend(load_gold(SPLITS[name], split=name))
    return out


def load_gold(path: Path = DEFAULT_GOLD, split: str | None = None) -> list[GoldQuestion]:
    path = Path(path)
    if split is None:
        split = next((k for k, v in SPLITS.items() if v.resolve() == path.resolve()), "dev")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for row in raw:
        out.append(
            GoldQuestion(
                id=str(row["id"]),
                question=str(row["question"]),
                persona=str(row.get("persona", "")),
                kind=str(row.get("kind", "")),
                answerable=bool(row.get("answerable", True)),
                evidence=tuple(
                    Evidence(str(e["doc"]), str(e["quote"])) for e in row.get("evidence") or []
                ),
                key_facts=tuple(str(k) for k in row.get("key_facts") or []),
                split=split,
                source_url=str(row.get("source_url", "")),
            )
        )
    return out


def validate(gold: list[GoldQuestion], corpus_dir: Path) -> list[str]:
    """Problems with the gold set (empty when it is sound)."""
    problems: list[str] = []
    seen: set[str] = set()
    texts: dict[str, str] = {}
    facts_in: dict[str, str] = {}
    for q in gold:
        if q.id in seen:
            problems.append(f"{q.id}: duplicate id")
        seen.add(q.id)
        if not q.question.strip():
            problems.append(f"{q.id}: empty question")
        if q.persona not in PERSONAS:
            problems.append(f"{q.id}: persona {q.persona!r} not one of {sorted(PERSONAS)}")
        if q.kind not in KINDS:
            problems.append(f"{q.id}: kind {q.kind!r} not one of {sorted(KINDS)}")
        if q.answerable and not q.evidence:
            problems.append(f"{q.id}: answerable but has no evidence")
        if q.answerable and not 1 <= len(q.key_facts) <= 4:
            problems.append(f"{q.id}: needs 1-4 key facts")
        if not q.answerable and q.evidence:
            problems.append(f"{q.id}: unanswerable but has evidence")
        if q.kind == "real" and not q.source_url.startswith("http"):
            problems.append(f"{q.id}: a real question needs its source_url")
        asked = fact_form(q.question)
        copied = any(states_fact(f, asked) for f in q.key_facts)
        if q.split == "test" and q.answerable and copied:  # dev predates the rule
            problems.append(f"{q.id}: a key fact is copied from the question")
        for e in q.evidence:
            path = corpus_dir / e.doc
            if not path.is_file():
                problems.append(f"{q.id}: document {e.doc} not in {corpus_dir}")
                continue
            if e.doc not in texts:
                texts[e.doc] = normalize(path.read_text(encoding="utf-8"))
                facts_in[e.doc] = fact_form(texts[e.doc])
            if normalize(e.quote) not in texts[e.doc]:
                problems.append(f"{q.id}: quote not found in {e.doc}: {e.quote[:60]!r}")
        for fact in q.key_facts:
            if (
                q.answerable
                and q.evidence
                and not any(states_fact(fact, facts_in.get(e.doc, "")) for e in q.evidence)
            ):
                problems.append(f"{q.id}: key fact {fact!r} not in its evidence documents")
    return problems


def doc_types(corpus_dir: Path) -> dict[str, str]:
    """Each document file's doc_type, from its front matter or sidecar (for breakdowns)."""
    import re

    out: dict[str, str] = {}
    for path in Path(corpus_dir).rglob("*"):
        if not path.is_file() or path.name.endswith(".meta.yaml"):
            continue
        meta: dict = {}
        sidecar = path.with_name(path.name + ".meta.yaml")
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:20000]
            m = re.match(r"^---\s*\n(.*?)\n---\s*\n", head, re.S)
            if m:
                meta.update(yaml.safe_load(m.group(1)) or {})
            if sidecar.is_file():
                meta.update(yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {})
        except (OSError, yaml.YAMLError):
            continue
        out[path.relative_to(corpus_dir).as_posix()] = str(meta.get("doc_type", "unspecified"))
    return out
