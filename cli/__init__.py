"""The ``callqa`` command line: thin commands over ``pipeline/``, ``analysis/`` and ``transcribe/``.

Run as ``callqa ...`` or ``python -m cli ...``.
"""
