"""callqa: sales-call quality analysis.

This package is the kernel every layer may import: the exception hierarchy
(``errors``) and the settings (``settings``). It imports nothing else of ours.
"""

__version__ = "0.1.0"
