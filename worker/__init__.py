"""Celery workers on Redis (``worker.tasks``): a thin edge over ``pipeline/``, which runs the same
code on one call in-process (``pipeline.process.process_call``).
"""
