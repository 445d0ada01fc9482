"""The README's configuration table names every setting's environment variable."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices

from herald.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readmes_configuration_table() -> None:
    text = README.read_text()
    missing = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env = str(alias.choices[0]) if isinstance(alias, AliasChoices) else name.upper()
        if f"`{env}`" not in text:
            missing.append(env)

    assert missing == [], f"add these to README.md's configuration table: {missing}"
