"""Query parameters shared by the list endpoints."""

from __future__ import annotations

from pydantic import Field

from hiroba.api.base import Strict


class PageQuery(Strict):
    cursor: str | None = Field(None, max_length=400, description="前の応答の next_cursor（最初のページでは省略）")
    limit: int = Field(25, ge=1, le=100, description="1ページの件数（1～100）")
