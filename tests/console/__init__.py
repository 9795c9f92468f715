"""Tests of the web console (console/)."""

import warnings

# Starlette's TestClient asks for httpx2; the project pins httpx, which it still supports.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
