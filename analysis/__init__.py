"""Call analysis: from a Transcript and a script pack to a scored, explained CallReport.

    from analysis import analyze
    report = analyze(transcript, load_pack("b2b_outbound"))
    report.score, report.mistakes

Modules: ``language`` (spaCy, offline), ``units`` (sentences with times),
``matching`` (phrases found in ASR text), ``checkpoints``, ``objections``,
``metrics``, ``scoring``, ``report`` (the CallReport contract), ``evaluate``
(accuracy on labelled calls).
"""

from analysis.analyze import analyze
from analysis.report import CallReport

__all__ = ["CallReport", "analyze"]
