"""Why a voice message could not become text."""

from __future__ import annotations

from bot.settings import SettingsError


class VoiceSetupError(SettingsError):
    """The configured engine cannot run here (package, model or ffmpeg missing)."""


class AudioError(Exception):
    """The audio could not be decoded: unknown format, ffmpeg failed or timed out."""


class UnsupportedAudio(AudioError):
    """A format ffmpeg is not asked to read (e.g. WeChat's SILK)."""


class RecognitionFailed(Exception):
    """The engine failed (network, refused request, crashed model)."""
