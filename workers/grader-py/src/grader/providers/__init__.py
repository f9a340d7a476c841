"""Remote AI providers, chosen by configuration only (``GRADER_PROVIDER``, ``STT_PROVIDER``).

- :mod:`.openai_grader`: an OpenAI-compatible chat-completions grader (rubric in the prompt, JSON
  schema output validated by the generated contract models, temperature 0, versioned prompt).
- :mod:`.openai_transcriber`: an OpenAI-compatible ``/audio/transcriptions`` adapter.
- :mod:`.errors`: transient (:class:`ProviderUnavailable`) vs permanent (:class:`ProviderRejected`).

The offline scorer (``grader.scoring``) stays the default and the fallback.
"""

from __future__ import annotations

from grader.providers.errors import BreakerOpen, ProviderRejected, ProviderUnavailable

__all__ = ["BreakerOpen", "ProviderRejected", "ProviderUnavailable"]
