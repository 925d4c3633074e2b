"""Which Docs we talk to, from its public ``GET /api/v1.0/config/``.

The content API changed in Docs 5.0.0: before, ``content`` (base64 Yjs) was a field of the
document serializer, written with ``PATCH /documents/{id}/``; since, ``GET|PATCH
/documents/{id}/content/`` carry it. ``RELEASE_VERSION`` appeared in the config in 5.1.0, so its
absence (or Docs' fallback value ``"NA"``) leaves the question open between 5.0.x and 4.x: the
client then decides from the first document it reads (a 4.x document has a ``content`` key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?")


class ContentApi(StrEnum):
    V5 = "v5"  # GET/PATCH documents/{id}/content/ (raw base64, ETag)
    LEGACY = "legacy"  # <= 4.8: the "content" field of the document serializer


def parse_release(value: object) -> tuple[int, int, int] | None:
    """``"5.4.1"`` → ``(5, 4, 1)``; ``"v4.8.6"`` → ``(4, 8, 6)``; ``"NA"``, ``None`` → ``None``."""
    if not isinstance(value, str):
        return None
    match = _VERSION.match(value)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def content_api_for(release: tuple[int, int, int] | None) -> ContentApi | None:
    if release is None:
        return None
    return ContentApi.V5 if release >= (5, 0, 0) else ContentApi.LEGACY


@dataclass(frozen=True)
class DocsConfig:
    """The parts of Docs' public configuration suite_ai acts on (``raw`` has all of it)."""

    release: tuple[int, int, int] | None
    release_string: str | None
    content_api: ContentApi | None
    conversion_upload_enabled: bool
    conversion_file_extensions: tuple[str, ...]
    conversion_file_max_size: int | None
    collaboration_ws_url: str | None
    collaboration_read_only_when_not_connected: bool
    ai_feature_enabled: bool
    languages: tuple[tuple[str, str], ...]
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> DocsConfig:
        release_string = payload.get("RELEASE_VERSION")
        release = parse_release(release_string)
        languages = []
        for item in payload.get("LANGUAGES") or []:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                languages.append((str(item[0]), str(item[1])))
        max_size = payload.get("CONVERSION_FILE_MAX_SIZE")
        return cls(
            release=release,
            release_string=release_string if isinstance(release_string, str) else None,
            content_api=content_api_for(release),
            conversion_upload_enabled=bool(payload.get("CONVERSION_UPLOAD_ENABLED", False)),
            conversion_file_extensions=tuple(
                str(ext).lower() for ext in payload.get("CONVERSION_FILE_EXTENSIONS_ALLOWED") or (".docx", ".md")
            ),
            conversion_file_max_size=int(max_size) if isinstance(max_size, (int, float)) else None,
            collaboration_ws_url=payload.get("COLLABORATION_WS_URL") or None,
            collaboration_read_only_when_not_connected=bool(
                payload.get("COLLABORATION_WS_NOT_CONNECTED_READ_ONLY", False)
            ),
            ai_feature_enabled=bool(payload.get("AI_FEATURE_ENABLED", False)),
            languages=tuple(languages),
            raw=dict(payload),
        )
