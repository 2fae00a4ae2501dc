"""Printer URLs open the right transport; the virtual printer keeps what it printed."""

import importlib.util
import socket
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from drivers.printer.backends import PrinterUnavailable, open_printer
from drivers.printer.decode import EscPosDecoder
from drivers.printer.simulator import NetworkPrinterSimulator, SerialPrinterSimulator
from tests.drivers.printer.conftest import SampleJob


@pytest.mark.parametrize(
    "url", ["ftp://printer", "lpt1", "", "tcp://", "usb://zz:01", "image://x?paper=empty",
            "image://x?colour=red", "tcp://host:port", "serial:///dev/ttyS0?baudrate=fast"],
)
def test_a_bad_url_says_what_is_wrong_and_what_works(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as error:
        open_printer(url)
    message = str(error.value)
    assert repr(url) in message
    if url.split(":")[0] not in ("usb", "image", "tcp", "serial"):
        for example in ("usb://VID:PID", "serial:///dev/ttyUSB0?baudrate=9600",
                        "tcp://HOST:9100", "file:///dev/usb/lp0", "image://DIR"):
            assert example in message


def test_virtual_printer_saves_the_bytes_and_the_picture_they_print(sample: SampleJob, tmp_path):
    data = sample.raster()
    with open_printer(f"image://{tmp_path}") as printer:
        assert printer.status().paper == "ok"
        printer.write(data, job=sample.number)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0001-A023.bin", "0001-A023.png"]
    assert (tmp_path / "0001-A023.bin").read_bytes() == data
    paper = Image.open(tmp_path / "0001-A023.png")
    expected = sample.picture()
    assert paper.width == 576
    top = paper.crop((0, 0, 576, expected.height)).convert("L")
    assert ImageChops.difference(top, expected.convert("L")).getbbox() is None
    below = paper.crop((0, expected.height, 576, paper.height)).convert("L")
    assert below.getextrema() == (255, 255)  # the feed before the cut is blank paper


def test_virtual_printer_numbers_jobs_in_order(sample, tmp_path):
    with open_printer(f"image://{tmp_path}?paper_mm=58") as printer:
        printer.write(sample.text(58), job="A023")
    with open_printer(f"image://{tmp_path}") as printer:
        printer.write(sample.text(58), job="A024")
    assert sorted(p.name for p in tmp_path.glob("*.bin")) == ["0001-A023.bin", "0002-A024.bin"]
    assert Image.open(tmp_path / "0002-A024.png").width == 576


def test_virtual_printer_out_of_paper_refuses_work(sample, tmp_path):
    with open_printer(f"image://{tmp_path}?paper=out") as printer:
        assert printer.status().paper == "out"
        with pytest.raises(OSError, match="out of paper"):
            printer.write(sample.raster())
    with open_printer(f"image://{tmp_path}?paper=low") as printer:
        assert printer.status().paper == "low"
    assert list(tmp_path.iterdir()) == []


def test_virtual_printer_drops_once_mid_job(sample, tmp_path):
    data = sample.raster()
    url = f"image://{tmp_path}?fail_after=1000"
    with open_printer(url) as printer, pytest.raises(ConnectionResetError):
        printer.write(data, job="A023")
    assert (tmp_path / "0001-A023.partial.bin").read_bytes() == data[:1000]
    with open_printer(url) as printer:
        printer.write(data, job="A023")
    assert (tmp_path / "0002-A023.bin").read_bytes() == data


def test_file_backend_appends_jobs(sample, tmp_path):
    device = tmp_path / "lp0"
    data = sample.text()
    with open_printer(f"file://{device}") as printer:
        printer.write(data)
        printer.write(data)
        assert printer.status().paper == "unknown"
    assert device.read_bytes() == data * 2


def test_tcp_backend_prints_and_reads_the_paper_sensor(sample):
    data = sample.text()
    with NetworkPrinterSimulator() as simulator, open_printer(simulator.url) as printer:
        assert printer.status().paper == "ok"
        simulator.set_paper("low")
        assert printer.status().paper == "low"
        printer.write(data)
        [job] = simulator.wait_for_jobs(1)
        assert job.raw == data
        simulator.set_paper("out")
        status = printer.status()
        assert (status.online, status.paper, status.error) == (False, "out", "stopped at paper end")


def test_tcp_backend_to_nobody_raises_oserror():
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    with pytest.raises(OSError):
        open_printer(f"tcp://127.0.0.1:{port}")


def test_serial_backend_on_a_pseudo_terminal(sample):
    data = sample.text(58)
    with SerialPrinterSimulator() as simulator, open_printer(simulator.url) as printer:
        assert printer.status().paper == "ok"
        simulator.set_paper("low")
        assert printer.status().paper == "low"
        printer.write(data)
        [job] = simulator.wait_for_jobs(1)
        assert job.raw == data
        assert sample.service_name in job.text_lines


@pytest.mark.parametrize(
    ("url", "module", "hint"),
    [("cups://Ticket", "cups", "pycups"), ("win32://Ticket", "win32print", "Windows"),
     ("usb://0416:5011", "usb", "pyusb")],
)
def test_platform_backends_say_what_is_missing(url, module, hint):
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here")
    with pytest.raises(PrinterUnavailable, match=hint):
        open_printer(url)


def test_decoded_png_is_the_decoder_s_picture(sample, tmp_path):
    """The PNG is made from the bytes, not from the picture sent: corrupt bytes show."""
    data = bytearray(sample.raster())
    header = data.index(b"\x1dv0") + 8
    data[header : header + 72] = b"\xff" * 72  # first raster row all black
    with open_printer(f"image://{tmp_path}") as printer:
        printer.write(bytes(data), job="X")
    paper = Image.open(tmp_path / "0001-X.png").convert("L")
    assert paper.crop((0, 0, 576, 1)).getextrema() == (0, 0)
    [job] = EscPosDecoder().feed(Path(tmp_path / "0001-X.bin").read_bytes())
    assert job.raster.getpixel((0, 0)) == 0
