"""callqa: sales-call quality analysis.

This package is the kernel every layer may import: the exception hierarchy
(``errors``) and the settings (``settings``). It imports nothing else of ours.
"""

from importlib.metadata import version

__version__ = version("callqa")  # pyproject.toml's, the one place it is written
