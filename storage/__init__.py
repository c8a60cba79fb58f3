"""Storage: the database (SQLAlchemy 2, Alembic migrations) and the file store for recordings.

sessions = connect(settings.database)       # SQLite file by default, PostgreSQL by URL
store = DirectoryStore(settings.data_dir)
"""

from storage.db import StorageError, connect
from storage.files import DirectoryStore, FileStore, audio_key, content_hash

__all__ = ["DirectoryStore", "FileStore", "StorageError", "audio_key", "connect", "content_hash"]
