"""stylecast.report.registry: a section is one module plus one partial; registered, it renders
in its place; unregistered, it is gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylecast.report import Section, build_report, register_section, unregister_section
from stylecast.report.registry import registered_sections
from stylecast.report.sections import BUILT_IN  # noqa: F401 - registers the built-ins
from tests._runs import evaluated_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_run(tmp_path_factory, lookbook)


def test_the_built_in_sections_in_order() -> None:
    names = [s.name for s in registered_sections()]
    assert names == [
        "overview",
        "data",
        "model",
        "training",
        "tuning",
        "ensemble",
        "evaluation",
        "palette",
        "reproduce",
    ]


def test_a_registered_section_renders_and_goes_away(run: Path, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "section_notes.html.j2").write_text(
        '<section id="notes">\n  <h2>Notes</h2>\n  <p>{{ note }} for {{ model_info.name }}</p>\n'
        "</section>\n"
    )

    def build(report_run):  # the material, or None when the run has none
        if report_run.evaluation is None:
            return None
        return {"note": f"{report_run.evaluation.n} <images>"}

    register_section(Section("notes", "Notes", 95, build, "section_notes.html.j2", templates))
    try:
        result = build_report(run, tmp_path / "r.html", galleries=False)
        html = result.path.read_text(encoding="utf-8")
        assert result.sections[-2:] == ["notes", "reproduce"]  # order 95: before Reproduce
        assert '<a href="#notes">Notes</a>' in html
        section = html[html.index('<section id="notes">') : html.index('<section id="reproduce">')]
        assert "&lt;images&gt; for " in section  # escaped like every other value
    finally:
        unregister_section("notes")
    result = build_report(run, tmp_path / "r.html", galleries=False)
    assert "notes" not in result.sections
    assert '<section id="notes">' not in result.path.read_text(encoding="utf-8")
