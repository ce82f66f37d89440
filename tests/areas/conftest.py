"""Fixtures for the area import tests: the shared division files (skipped when absent)."""

from pathlib import Path

import pytest

# tests/areas/conftest.py -> parents[2] is the repository (/work/main); the shared folder is its sibling.
SHARED_DIVISIONS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "divisions"
DIVISION_FILES = ("provinces.csv", "cities.csv", "areas.csv", "streets.csv")


@pytest.fixture
def divisions_dir() -> Path:
    if not all((SHARED_DIVISIONS / f).exists() for f in DIVISION_FILES):
        pytest.skip(f"共享区划数据不存在: {SHARED_DIVISIONS}")
    return SHARED_DIVISIONS


@pytest.fixture
def write_csv(tmp_path):
    """Write a UTF-8 CSV file from text and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
