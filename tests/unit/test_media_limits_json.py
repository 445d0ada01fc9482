"""The dashboard's media limits are herald.media.limits.RULES, generated, never copied."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "dashboard" / "scripts" / "media_limits.py"


def test_the_dashboards_media_limits_are_the_ones_the_api_checks() -> None:
    script = runpy.run_path(str(SCRIPT))

    assert script["OUT"].read_text() == script["render"](), (
        "dashboard/src/lib/media-limits.json is stale: run dashboard/scripts/media_limits.py"
    )


def test_the_table_names_each_platform_with_rules_and_its_numbers() -> None:
    from herald.media.limits import RULES

    table = json.loads((ROOT / "dashboard" / "src" / "lib" / "media-limits.json").read_text())

    assert set(table["platforms"]) == set(RULES)
    x_images = table["platforms"]["x"]["kinds"]["image"]
    assert x_images["per_post"] == RULES["x"].kinds["image"].per_post
    assert x_images["max_size"] == RULES["x"].kinds["image"].max_size
