"""Guards for what a non-editable ``pip install .`` ships (editable installs hide these mistakes)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("v2mom", "connectors", "sync", "mapping", "reports", "sandbox")


def test_every_product_folder_with_python_is_a_package() -> None:
    folders = [ROOT / top for top in PRODUCT]
    folders += [p for top in PRODUCT for p in (ROOT / top).rglob("*") if p.is_dir()]
    missing = [
        str(folder.relative_to(ROOT))
        for folder in folders
        if "__pycache__" not in folder.parts
        and any(folder.glob("*.py"))
        and not (folder / "__init__.py").exists()
    ]
    assert not missing, f"folders whose modules a wheel would drop: {missing}"


def test_data_files_are_declared_as_package_data() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    for pattern in ("*.yaml", "*.mako", "*.graphql", "queries/*.graphql"):
        assert f'"{pattern}"' in pyproject
    assert (ROOT / "sandbox" / "sample_plan.yaml").exists()
    assert list((ROOT / "connectors" / "linear" / "queries").glob("*.graphql"))
