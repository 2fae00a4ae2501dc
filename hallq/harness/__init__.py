"""Start-and-watch harnesses for the hall's programs (tests, benches, the demo); `process` is the one
they all build on. No program of the hall imports them."""
