"""One error base: every hallq exception is a HallqError, every driver exception a DeviceError."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

from caller.core.config import ConfigError, load_config
from caller.core.errors import HallqError, Refused
from drivers.errors import DeviceError
from drivers.printer.backends import open_printer
from drivers.printer.backends.base import PrinterUnavailable

ROOT = Path(__file__).resolve().parent.parent
BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                      if isinstance(value, type) and issubclass(value, BaseException)}


def exception_classes(package: str) -> list[tuple[str, ast.ClassDef]]:
    """Every class defined in the package's sources that derives from an exception."""
    classes = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                classes.append((str(path.relative_to(ROOT)), node))
    known = set(BUILTIN_EXCEPTIONS)
    found: dict[int, tuple[str, ast.ClassDef]] = {}
    while True:  # an exception class may derive from another one defined later
        new = {id(c): (p, c) for p, c in classes
               if id(c) not in found and any(base_name(b) in known for b in c.bases)}
        if not new:
            return list(found.values())
        found.update(new)
        known |= {c.name for _, c in new.values()}


def base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def unrooted(package: str, root: str) -> list[str]:
    classes = exception_classes(package)
    rooted = {root}
    while True:
        more = {c.name for _, c in classes if any(base_name(b) in rooted for b in c.bases)} - rooted
        if not more:
            break
        rooted |= more
    return [f"{path}: class {c.name}" for path, c in classes
            if c.name != root and not any(base_name(b) in rooted for b in c.bases)]


@pytest.mark.parametrize("package", ["caller", "kiosk", "display", "hallq"])
def test_every_exception_outside_drivers_is_a_hallq_error(package: str) -> None:
    assert exception_classes("caller"), "the scan found no exception class at all"
    assert unrooted(package, "HallqError") == []


def test_every_driver_exception_is_a_device_error() -> None:
    assert len(exception_classes("drivers")) >= 6
    assert unrooted("drivers", "DeviceError") == []


def test_the_scan_finds_a_class_without_the_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(
        "class Good(HallqError):\n    pass\n\n\nclass Child(Good):\n    pass\n\n\n"
        "class Stray(ValueError):\n    pass\n\n\nclass Deeper(Stray):\n    pass\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert unrooted("pkg", "HallqError") == ["pkg/bad.py: class Stray", "pkg/bad.py: class Deeper"]


def test_a_bad_config_is_caught_as_a_hallq_error(tmp_path: Path) -> None:
    bad = tmp_path / "hall.toml"
    bad.write_text("[hall\n", encoding="utf-8")
    with pytest.raises(HallqError) as caught:
        load_config(bad)
    assert isinstance(caught.value, ConfigError)
    assert str(bad) in str(caught.value)
    assert issubclass(Refused, HallqError)


def test_an_unusable_printer_is_still_an_os_error_and_a_device_error() -> None:
    with pytest.raises(PrinterUnavailable) as caught:
        open_printer("win32://前台打印机")  # no Windows printing on this machine
    assert isinstance(caught.value, OSError)
    assert isinstance(caught.value, DeviceError)
    assert not isinstance(caught.value, HallqError)
