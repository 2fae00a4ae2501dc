"""What pyproject.toml cannot say: config/ (data, not code) installs as `caller.core.defaults`."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["hallq*", "caller*", "kiosk*", "display*", "drivers*", "web*"]),
              "caller.core.defaults"],
    package_dir={"caller.core.defaults": "config"},
)
