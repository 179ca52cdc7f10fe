"""Errors whose messages tell the user what to do next."""


class AssistantError(Exception):
    """Base class: the message is shown to the user as it is."""


class IndexMissingError(AssistantError):
    """There is no index to answer from."""


class BackendError(AssistantError):
    """A backend named in settings cannot be built (unknown name, missing extra, bad path)."""


class DocumentError(AssistantError):
    """One document cannot be ingested; the reason is in the message."""
