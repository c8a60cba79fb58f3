"""Processing many calls: the batch runner (in-process) and, next, Celery workers on Redis.

Both run the same code on one call (``worker.pipeline.process_call``).
"""
