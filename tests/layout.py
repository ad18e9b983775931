"""The installed layout of the ``v2mom`` package, read from ``pyproject.toml``'s package-dir mapping.

A checkout keeps the core in ``core/`` and each stage in its own root folder; the build installs
them as ``v2mom`` and ``v2mom.<stage>``. Tests that need the package as it installs (the import
contract on a modified copy, the wheel's expected contents) build it from the same mapping the
build uses, so the two cannot drift.
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setuptools_config() -> dict[str, object]:
    """``[tool.setuptools]`` of the project's pyproject.toml."""
    config: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return config


def package_dirs() -> dict[str, str]:
    """The package-dir mapping: import name → folder relative to the repository root."""
    mapping = setuptools_config()["package-dir"]
    assert isinstance(mapping, dict)
    return {str(name): str(folder) for name, folder in mapping.items()}


def declared_packages() -> list[str]:
    """The packages the build installs (``[tool.setuptools] packages``)."""
    packages = setuptools_config()["packages"]
    assert isinstance(packages, list)
    return [str(name) for name in packages]


def folder_of(package: str) -> Path:
    """The checkout folder holding ``package``, resolved the way setuptools does (nearest mapped parent)."""
    mapping = package_dirs()
    parts = package.split(".")
    for cut in range(len(parts), 0, -1):
        parent = ".".join(parts[:cut])
        if parent in mapping:
            return ROOT / mapping[parent] / Path(*parts[cut:])
    raise KeyError(f"{package} is under no package-dir entry")


def source_modules() -> set[str]:
    """Every module the checkout's packages hold, as installed dotted names."""
    modules: set[str] = set()
    for package in declared_packages():
        for source in folder_of(package).glob("*.py"):
            modules.add(package if source.stem == "__init__" else f"{package}.{source.stem}")
    return modules


def package_folders() -> list[Path]:
    """Every folder under the mapped roots that holds Python modules (each should be a package)."""
    roots = [ROOT / folder for folder in package_dirs().values()]
    found: list[Path] = []
    for root in roots:
        for folder in [root, *root.rglob("*")]:
            if folder.is_dir() and "__pycache__" not in folder.parts and any(folder.glob("*.py")):
                found.append(folder)
    return found


def installed_copy(destination: Path, ignore: Callable[[str, list[str]], set[str]] | None = None) -> Path:
    """Copy the sources into ``destination/v2mom/...`` as the wheel lays them out; returns ``destination``."""
    mapping = package_dirs()
    for name, folder in sorted(mapping.items(), key=lambda item: item[0].count(".")):
        target = destination / Path(*name.split("."))
        source = ROOT / folder
        if name == "v2mom":
            target.mkdir(parents=True, exist_ok=True)
            for module in source.glob("*.py"):
                shutil.copy2(module, target / module.name)
        else:
            shutil.copytree(source, target, ignore=ignore or shutil.ignore_patterns("__pycache__"))
    return destination
