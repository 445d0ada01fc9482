"""The dashboard's table of API codes (dashboard/scripts/api_codes.py): it is what Herald's
source sends, and the scanner finds a code however it is built, or says where it could not."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "dashboard" / "scripts" / "api_codes.py"


def load_scanner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_codes", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["api_codes"] = module
    spec.loader.exec_module(module)
    return module


api_codes = load_scanner()


def package(tmp_path: Path, **sources: str) -> Path:
    root = tmp_path / "herald"
    for name, source in sources.items():
        path = root / f"{name.replace('__', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return root


def test_the_committed_table_is_what_the_source_sends() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120
    )

    assert run.returncode == 0, run.stderr


def test_a_field_code_passed_through_a_helper_is_found(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        media="""
        from herald.errors import FieldError

        def refuse(field, why, code="media_invalid"):
            return FieldError(field, why, code)

        def _variant(field, why, *, kind):
            return refuse(field, why, kind)

        def rules(media):
            out = [refuse("media[0]", "too big", "media_too_big")]
            out.append(_variant("variants[0]", "no", kind="variant_unknown"))
            out.append(refuse("media[1]", "bad"))
            return out
        """,
    )

    codes, unknown = api_codes.scan(root)

    assert unknown == []
    assert {"media_too_big", "variant_unknown", "media_invalid"} <= set(codes["field"])


def test_codes_from_a_list_of_reasons_a_dict_and_a_conditional_are_found(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        comments="""
        from herald.errors import FieldError

        KINDS = {"spam": "comment_spam", "long": "comment_too_long"}

        def reasons(text, hidden):
            out = []
            if hidden:
                out.append((f"{text} is hidden", "comment_hidden"))
            out.append(("x", KINDS.get(text, "comment_other")))
            return out

        def problems(text, hidden, deleted):
            found = reasons(text, hidden)
            code = "comment_deleted" if deleted else "comment_gone"
            found.append(("y", code))
            return [FieldError("comment", message, code) for message, code in found]
        """,
    )

    codes, unknown = api_codes.scan(root)

    assert unknown == []
    assert {
        "comment_hidden",
        "comment_spam",
        "comment_too_long",
        "comment_other",
        "comment_deleted",
        "comment_gone",
    } <= set(codes["field"])


def test_problem_class_kind_and_event_codes_are_found_through_their_helpers(
    tmp_path: Path,
) -> None:
    root = package(
        tmp_path,
        errors="""
        class HeraldError(Exception):
            code = "herald_error"

        class NotFound(HeraldError):
            code = "not_found"

        class MediaGone(NotFound):
            code = "media_gone"
        """,
        problems="""
        def problem(status, title, detail, *, code):
            return {}

        def _status(exc):
            if exc:
                return 400, "variant_refused"
            return 502, "variant_unreachable"

        def answer(exc):
            status, code = _status(exc)
            return problem(status, "t", "d", code=code)
        """,
        kinds="""
        from enum import StrEnum

        class ErrorKind(StrEnum):
            MEDIA_EXPIRED = "media_expired"
        """,
        events="""
        def publish_event(container, event_type, payload):
            return ""

        MEDIA_EVENT = "media.processed"

        def announce(container, event_type):
            return publish_event(container, event_type, {})

        def done(container):
            announce(container, MEDIA_EVENT)
        """,
    )

    codes, unknown = api_codes.scan(root)

    assert unknown == []
    assert {"media_gone", "not_found", "variant_refused", "variant_unreachable"} <= set(
        codes["problem"]
    )
    assert codes["error_kind"] == ["media_expired"]
    assert codes["event"] == ["media.processed"]


def test_a_code_built_at_run_time_fails_the_scan_and_names_its_place(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        media="""
        from herald.errors import FieldError

        def refuse(kind):
            return FieldError("media", "no", f"media_{kind}")
        """,
    )

    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--package", str(root), "--output", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 2
    assert "media.py:refuse:f'media_{kind}'" in run.stderr
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("stale", ["", '{"problem": []}\n'])
def test_check_fails_when_the_table_is_not_what_the_source_sends(
    tmp_path: Path, stale: str
) -> None:
    root = package(tmp_path, rules='FieldError("a", "b", "brand_new")\n')
    table = tmp_path / "api-codes.json"
    table.write_text(stale)

    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--package", str(root), "--output", str(table)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 1
    assert "out of date" in run.stderr
    written = subprocess.run(
        [sys.executable, str(SCRIPT), "--package", str(root), "--output", str(table)],
        timeout=60,
    )
    assert written.returncode == 0
    assert "brand_new" in json.loads(table.read_text())["field"]


def test_a_code_from_another_modules_constant_is_found(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        variants__codes='VARIANT_TOO_WIDE = "variant_too_wide"\n',
        variants__rules="""
        from herald.errors import FieldError
        from herald.variants import codes

        def check(width):
            return [FieldError("variants[0]", "too wide", codes.VARIANT_TOO_WIDE)]
        """,
    )

    codes, unknown = api_codes.scan(root)

    assert unknown == []
    assert "variant_too_wide" in codes["field"]


def test_a_code_passed_in_keyword_arguments_fails_the_scan(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        media="""
        from herald.errors import FieldError

        def refuse(**details):
            return FieldError("media", "no", **details)
        """,
    )

    _, unknown = api_codes.scan(root)

    assert [u.where for u in unknown] == ["media.py:refuse:FieldError('media', 'no', **details)"]
