"""docs/answers.md: every `rnnkit explain` command in the page still runs, and every picture it names exists."""

import re
import shlex
from pathlib import Path

import pytest

from rnnkit import cli

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "answers.md").read_text()
COMMANDS = re.findall(r"```\n(rnnkit explain .*?)\n```", PAGE)


def test_page_answers_every_question_of_the_issue():
    assert len(re.findall(r"^## \d+\. ", PAGE, flags=re.M)) == 16 == len(COMMANDS)
    for picture in re.findall(r"!\[.*?\]\((answers/.*?\.png)\)", PAGE):
        assert (ROOT / "docs" / picture).stat().st_size > 5000


@pytest.mark.parametrize("command", sorted(set(COMMANDS)))
def test_command_in_the_page_runs(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    rc = cli.main(shlex.split(command)[1:] + ["--out", str(tmp_path / "d.png")])
    out = capsys.readouterr().out
    assert rc in (0, 1) and "Topology:" in out and (tmp_path / "d.png").exists()
