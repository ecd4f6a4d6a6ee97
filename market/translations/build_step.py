"""Build step for setuptools: compile the gettext catalogues (.po → .mo) when the package is built or installed.

The catalogues are compiled into the package being built and next to their .po files in the directory the build
runs from, because the README's production steps run the app from the checkout, where Python imports the checkout's
`market` before the installed one. The build/ and *.egg-info folders setuptools leaves in that directory are removed
when the build process ends, so no stale copy of the package stays beside the sources.
"""
import atexit
import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools.command.build_py import build_py

PROJECT = Path.cwd()  # setuptools runs every build step from the project's root
CATALOGUES = Path("market", "translations")


def compile_catalogues(source: Path, target: Path) -> list[Path]:
    """Write a .mo under `target` for every <language>/LC_MESSAGES/*.po under `source`; returns the .mo paths."""
    written = []
    for po_path in sorted(source.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file)
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalogue, use_fuzzy=False)
        written.append(mo_path)
    return written


class BuildPyWithCatalogues(build_py):
    """build_py that also compiles the catalogues."""

    def run(self) -> None:
        """Copy the package, then compile its catalogues into the copy and beside the sources."""
        super().run()
        source = PROJECT / CATALOGUES
        compile_catalogues(source, Path(self.build_lib) / CATALOGUES)
        compile_catalogues(source, source)


def _build_output() -> set[Path]:
    return {path for path in [PROJECT / "build", *PROJECT.glob("*.egg-info")] if path.is_dir()}


def _remove_build_output(existing_before: set[Path]) -> None:
    for path in _build_output() - existing_before:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_remove_build_output, _build_output())
