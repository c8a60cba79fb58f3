"""callqa: sales-call quality analysis.

This package holds what belongs to no single layer: the exception hierarchy
and the command line. The domain lives in ``transcribe/`` and ``analysis/``.
"""

__version__ = "0.1.0"
