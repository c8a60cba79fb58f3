"""From a call recording to a speaker-attributed Transcript, with Whisper, offline.

    from transcribe import TranscribeOptions, load_engine, transcribe_file
    engine = load_engine("faster-whisper", cache_dir=Path("~/.cache/callqa").expanduser())
    transcript = transcribe_file("call.wav", engine, TranscribeOptions())
"""

from transcribe.audio import SAMPLE_RATE, decode_audio, probe_audio, stream_audio
from transcribe.engines import ENGINES, RecognitionOptions, load_engine
from transcribe.pipeline import TranscribeOptions, transcribe_file, transcribe_files
from transcribe.transcript import Overlap, Transcript, Utterance, Word

__all__ = [
    "ENGINES",
    "SAMPLE_RATE",
    "Overlap",
    "RecognitionOptions",
    "TranscribeOptions",
    "Transcript",
    "Utterance",
    "Word",
    "decode_audio",
    "load_engine",
    "probe_audio",
    "stream_audio",
    "transcribe_file",
    "transcribe_files",
]
