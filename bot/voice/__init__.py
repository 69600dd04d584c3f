"""Voice messages: audio decoding and speech recognition engines (issue 23).

A voice message becomes text in one of three ways, chosen by ``KEPU_ASR``:
WeChat's own transcript (``<Recognition>``), a local sherpa-onnx model, or
Tencent Cloud's 一句话识别. The text then goes to the assistant exactly like
typed text. Audio lives in memory for one turn and is never written to disk.

The other way round (``KEPU_TTS``, off by default): an answer's first sentence
and steps read aloud (``speech``), by an engine in a worker process
(``tts_worker``, ``synth``) behind ``speaker``, with a disk cache
(``speech_cache``).
"""
