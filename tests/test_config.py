"""The config file is checked as data: known keys, values of the right kind, one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.util import cli, sheet_rows

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "rollout.xlsx"


@pytest.mark.parametrize(("text", "expected"), [
    ('rate = "ten"', "rate must be a number of requests a second"),
    ("rate = 0", "rate must be a number"),
    ("rate = true", "rate must be a number"),
    ('auth-token = "abc"', "unknown key 'auth-token'; did you mean auth_token?"),
    ('colour = "red"', "unknown key 'colour'; the keys are base_url, account_sid"),
    ("allowed_prefixes = [2, 3]", "allowed_prefixes must be prefixes in quotes"),
    ('allowed_prefixes = "02,x3"', "allowed_prefixes must be prefixes in quotes"),
    ('account_sid = "AC 1"', "account_sid must be an AccountSid"),
    ("base_url = 8080", "base_url must be the API address as text"),
])
def test_a_bad_config_value_is_one_line_naming_file_and_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(text + "\n", encoding="utf-8")
    code, out, err = cli(capsys, "validate", SAMPLE, "--config", config, "-o",
                         tmp_path / "out.xlsx")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "settings.toml: " in lines[0] and expected in lines[0], err
    assert "internal error" not in err and not (tmp_path / "out.xlsx").exists()


def test_a_bad_token_is_named_but_never_shown(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('auth_token = "s3cret\\u0007"\n', encoding="utf-8")
    code, out, err = cli(capsys, "validate", SAMPLE, "--config", config, "--json")
    assert code == 2 and "auth_token must be" in out["error"]
    assert "s3cret" not in err and "s3cret" not in str(out)


def test_a_good_config_is_taken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('rate = 5\nallowed_prefixes = "02,03"\naccount_sid = "ACabc"\n',
                      encoding="utf-8")
    code, out, err = cli(capsys, "validate", SAMPLE, "--config", config, "--json", "-o",
                         tmp_path / "out.xlsx")
    assert code == 1  # the sample's 04 numbers are not allowed by the file's prefixes
    rows = [r for sheet in ("Purchase", "Configure") for r in sheet_rows(Path(out["results_path"]),
                                                                        sheet)]
    assert any("prefix" in str(r["Message"]) for r in rows if r["Status"] == "INVALID")
    assert all(r["Status"] in ("VALID", "INVALID") for r in rows)


def test_a_folder_as_config_is_one_line(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "validate", SAMPLE, "--config", tmp_path)
    assert code == 2 and "is a folder, not a config file" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_allowed_prefixes_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "validate", SAMPLE, "--allowed-prefixes", "02,x4")
    assert code == 2 and "--allowed-prefixes must be digits separated by commas" in err
