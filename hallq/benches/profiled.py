"""Run a module under cProfile recording only between SIGUSR1 and SIGUSR2, so that the
bench profiles the hub over its workloads and not over its start-up or the filling of
its queue: `python -m hallq.benches.profiled OUT -m MODULE ARGS...`. Each SIGUSR2
writes everything recorded so far to OUT."""

from __future__ import annotations

import cProfile
import os
import runpy
import signal
import sys


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "-m":
        raise SystemExit("usage: python -m hallq.benches.profiled OUT -m MODULE [ARGS...]")
    out, module, args = sys.argv[1], sys.argv[3], sys.argv[4:]
    profile = cProfile.Profile()

    def stop(*_: object) -> None:
        profile.disable()
        profile.dump_stats(f"{out}.part")
        os.replace(f"{out}.part", out)  # whoever waits for OUT never reads half of it

    signal.signal(signal.SIGUSR1, lambda *_: profile.enable())
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
