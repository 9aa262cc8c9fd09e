"""The published table in CSV and XLSX neutralises every text a spreadsheet would run as a formula."""

from __future__ import annotations

import pytest

from hiroba.consultations import exports
from tests.formula_guard import STARTS, assert_guarded, csv_cells, payloads, xlsx_cells


def _publication(start: str) -> tuple[exports.Publication, list[str]]:
    texts = payloads(9, start)
    title, section, opinion, response, channel, heading, section2, opinion2, response2 = texts
    pub = exports.Publication(
        slug="s", title=title, municipality="千代田区", department="デジタル政策課", period_start="2025-01-05",
        period_end="2025-02-03", period_label="令和7年1月5日～令和7年2月3日", channels=[channel], announced_in=[],
        identity_level="none", identity_label="本人確認なし", submitters=2, item_count=3, row_count=2,
        by_channel=[(channel, 2)], by_section=[(heading, 3)],
        rows=[exports.Row(no=1, section=section, sections=[heading], opinion=opinion, response=response),
              exports.Row(no=2, section=section2, sections=[heading], opinion=opinion2, response=response2,
                          identical=2)],
    )
    return pub, texts


@pytest.mark.parametrize("start", STARTS)
def test_every_text_of_the_published_table_is_guarded(start):
    pub, texts = _publication(start)
    title, section, opinion, response, channel, heading, section2, opinion2, response2 = texts
    csv = csv_cells(exports.to_csv(pub))
    assert_guarded(csv, [section, opinion, response, section2, opinion2, response2])
    assert "2" in csv  # the identical count stays a number
    assert_guarded(xlsx_cells(exports.to_xlsx(pub)), [title, section, opinion, response, channel, heading])
