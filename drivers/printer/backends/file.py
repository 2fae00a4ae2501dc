"""`file:///dev/usb/lp0`: write to a device node (Linux usblp, a parallel port) or a file."""

from __future__ import annotations

from urllib.parse import SplitResult, unquote

from drivers.printer.backends.base import PrinterBackend


class FileBackend(PrinterBackend):
    """Write-only: the kernel's printer device answers no status, so paper is `unknown`."""

    def __init__(self, path: str) -> None:
        self.url = f"file://{path}"
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - open until close()

    def write(self, data: bytes, job: str = "") -> None:
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            if not written:
                raise OSError(f"{self.url} accepted no bytes")
            view = view[written:]

    def close(self) -> None:
        self._file.close()


def open_url(url: str, parts: SplitResult) -> FileBackend:
    path = unquote(parts.netloc + parts.path)
    if not path:
        raise ValueError(f"printer URL {url!r} names no file")
    return FileBackend(path)
