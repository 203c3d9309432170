"""Every example definition under examples/ publishes cleanly."""

from pathlib import Path

import pytest

from processes.services import definition_publish

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.*"))
FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example__publishes(path):
    version = definition_publish(source=path.read_text(), format=FORMATS[path.suffix])
    assert version.number == 1
    assert version.graph["nodes"]


def test_examples__there_are_some():
    assert len(EXAMPLES) >= 2
