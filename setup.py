"""What pyproject.toml cannot say: config/ (data, not code) installs as `caller.core.defaults`,
and the wheel carries compiled catalogs (build_py compiles the .po files before copying)."""

import sys
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).resolve().parent))


class BuildPyWithCatalogs(build_py):
    def run(self) -> None:
        from caller.core.i18n import compile_catalogs

        compile_catalogs()
        super().run()


setup(
    packages=[*find_packages(include=["hallq*", "caller*", "kiosk*", "display*", "drivers*", "web*"]),
              "caller.core.defaults"],
    package_dir={"caller.core.defaults": "config"},
    cmdclass={"build_py": BuildPyWithCatalogs},
)
