"""The service layer: what happens to a call, the same for the command line, the API and the workers.

- ``context``: what a process sets up once (database, file store, settings, engines);
- ``scripts``: script packs stored as versions, and a name resolved to one;
- ``process``: a recording stored once, transcribed, analysed and saved; rescoring;
- ``jobs``: a job's state as it runs;
- ``batch``, ``metadata``: a day's folder of recordings and what the PBX says about each;
- ``calls``: a call read from a recording or a transcript file;
- ``review``, ``redaction``, ``retention``: reviewers' verdicts, personal data, expiry.
"""
