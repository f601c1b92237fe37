"""HNCSE reproduction suite: SimCSE, HNCSE-PM, HNCSE-HNM and HNCSE, trained and evaluated
with the SentEval protocol."""

__version__ = "0.1.0"


class HncseError(Exception):
    """An error the user can fix (bad config, missing data, ...): the CLI prints its message
    without a traceback and exits with status 2. Subclasses also derive from the matching
    built-in (ValueError, FileNotFoundError, ...)."""
