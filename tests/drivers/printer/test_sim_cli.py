"""`hallq sim printer`: a network printer a hall can point a kiosk at, from the command line."""

import subprocess
import sys
import time

from drivers.printer import open_printer
from tests.drivers.printer.conftest import SampleJob
from tests.hubproc import REPO


def test_the_printer_simulator_prints_and_runs_out_of_paper(sample: SampleJob, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "hallq", "sim", "printer", "--port", "0", "--out",
         str(tmp_path / "jobs")], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        url = first.split()[2].rstrip(",")
        assert url.startswith("tcp://127.0.0.1:")
        with open_printer(url) as printer:
            assert printer.status().paper == "ok"
            printer.write(sample.raster(), job="A001")
            # the job prints before the paper runs out: an out printer holds what it receives
            deadline = time.monotonic() + 10
            while not list((tmp_path / "jobs").glob("*.png")) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(list((tmp_path / "jobs").glob("*.png"))) == 1
            proc.stdin.write("out\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "paper out"
            assert printer.status().paper == "out"
        proc.stdin.close()
        assert proc.wait(10) == 0
        assert proc.stdout.read().strip().endswith("1 jobs printed")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
