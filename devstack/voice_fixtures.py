"""Voice notes the local stack knows the words of: each is real, playable audio (a WAV of tones made from its name,
the same bytes every time) that the Gemini stand-in "hears" as its transcript, as the real model hears speech.
Tests and the simulator send them; real Gemini would hear tones, not these words (`make eval-ai` says so)."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave

MIME = "audio/wav"
TRANSCRIPTS: dict[str, str] = {
    "price_manicure": "Здравствуйте, подскажите, сколько стоит маникюр с покрытием",
    "haircut_tomorrow": "Добрый день, хочу записаться на женскую стрижку завтра вечером",
    "thanks": "Спасибо большое, до свидания",
}


def audio(name: str, seconds: float = 1.0) -> bytes:
    """The fixture's sound: tones whose pitches come from its name."""
    seed = hashlib.sha256(name.encode()).digest()
    rate, out = 8000, io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(int(rate * seconds)):
            pitch = 200 + seed[(i * 8 // rate) % len(seed)] * 4  # a new tone every 1/8 s
            frames += struct.pack("<h", int(8000 * math.sin(2 * math.pi * pitch * i / rate)))
        w.writeframes(bytes(frames))
    return out.getvalue()


_BY_SOUND = {hashlib.sha256(audio(name)).hexdigest(): words for name, words in TRANSCRIPTS.items()}


def words_in(sound: bytes) -> str:
    """What a listener hears in this sound: a fixture's words, or nothing for any other audio."""
    return _BY_SOUND.get(hashlib.sha256(sound).hexdigest(), "")
