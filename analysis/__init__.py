"""Call analysis: from a Transcript and a script pack to a scored, explained CallReport.

    from analysis import analyze
    report = analyze(transcript, load_pack("b2b_outbound"))
    report.score, report.mistakes

Modules: ``language`` (spaCy, offline), ``units`` (sentences with times),
``semantic`` (sentence vectors), ``cues`` (a day named, a yes, a no),
``matching`` (phrases found in ASR text by wording), ``meaning`` (one
confidence from meaning, wording and the dialogue; ``fitting`` fits it),
``checkpoints``, ``objections``, ``metrics``, ``scoring``, ``report`` (the
CallReport contract), ``evaluate`` (accuracy on labelled calls), ``feedback``
(where a pack disagrees with reviewed calls).
"""

from analysis.analyze import analyze
from analysis.report import CallReport

__all__ = ["CallReport", "analyze"]
