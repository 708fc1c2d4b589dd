"""Test-wide settings: nothing in the suite may reach the network."""

import os

# Any loader that would download (MNIST when no copy is found) falls back offline instead; set in os.environ so
# that the scripts the tests run as subprocesses inherit it. Download logic is tested against loopback servers.
os.environ.setdefault("ZEROGRAD_OFFLINE", "1")
