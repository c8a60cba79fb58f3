"""Call analysis: from a Transcript and a script pack to a scored, explained CallReport.

Built so far: the language pipeline (``analysis.language``). Checkpoints,
objections, metrics and scoring follow (issue 3).
"""
