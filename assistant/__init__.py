"""Question answering with citations over ALN/SEND guidance documents.

Importing this package makes every library it uses stay on this machine: Hugging Face
loads only local files and Chroma, Gradio and Hugging Face send no telemetry. These are
process-wide switches that must be set before those libraries are imported, which is why
they live here rather than in the settings object.
"""

import os

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
for _key, _value in _OFFLINE_ENV.items():
    os.environ.setdefault(_key, _value)
# LlamaIndex uses the tiktoken and NLTK data bundled in its wheel only while these are unset;
# pointed anywhere else it tries to download them there.
for _key in ("TIKTOKEN_CACHE_DIR", "NLTK_DATA"):
    os.environ.pop(_key, None)

__all__ = ["Answer", "Assistant", "Settings", "Source", "build_assistant", "load_settings"]


def __getattr__(name: str):  # lazy, so `import assistant.errors` stays light
    if name in ("Assistant", "build_assistant"):
        from assistant import core

        return getattr(core, name)
    if name in ("Settings", "load_settings"):
        from assistant import settings

        return getattr(settings, name)
    if name in ("Answer", "Source"):
        from assistant import types

        return getattr(types, name)
    raise AttributeError(name)
