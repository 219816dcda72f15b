"""The package's import graph: no cycle, and no arrow pointing up or sideways between its
parts (scripts/import_graph.py, which anyone can run to see the layers)."""

from __future__ import annotations

from script_support import load_script


def _script():
    return load_script("import_graph")


def test_no_import_cycle_and_every_arrow_points_down():
    assert _script().problems() == []


def test_every_part_of_the_package_is_in_a_layer_and_few_modules_are_loose():
    script = _script()
    parts = {script.part(module) for module in script.modules()}
    layered = {part for layer in script.LAYERS for part in layer}
    assert parts <= layered, parts - layered
    loose = [p for p in parts if (script.ROOT / f"{p}.py").is_file() and not p.startswith("__")]
    assert len(loose) <= 8, loose


def test_the_checker_finds_a_cycle_and_an_upward_arrow(tmp_path, monkeypatch):
    """It can fail: a package whose ground imports its face is refused twice over."""
    script = _script()
    package = tmp_path / "sagemaker_images"
    (package / "cli").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text("from sagemaker_images.cli import main\n")
    (package / "cli" / "__init__.py").write_text("from sagemaker_images import config\n")
    monkeypatch.setattr(script, "ROOT", package)
    found = script.problems()
    assert any("of a higher layer" in problem for problem in found), found
    assert any(problem.startswith("import cycle") for problem in found), found
