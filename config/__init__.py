"""The hall configuration that ships with hallq: the demo hall, the examples and the schema.

This folder is data, not code. It is installed as the package `caller.core.defaults` (see
setup.py) so that `hallq demo` and `hallq check-config` find the demo hall outside a checkout.
"""
