"""The CLI around the local cloud's state: `resizer up` refuses a damaged state with its own exit
code and the choices; `resizer status` says when the local cloud cannot save."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from localcloud.process import free_port
from operations.aws import local_cloud_saving_problem

RESIZER = str(Path(sys.executable).with_name("resizer"))


def test_up_refuses_a_damaged_state_with_exit_13_naming_the_file_and_the_choices(tmp_path):
    data = tmp_path / "local"
    data.mkdir()
    (data / "state.pickle").write_bytes(b"\x80\x05\x95 truncated")
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("resizer")),
            "up",
            "--data",
            str(data),
            "--port",
            str(free_port()),
            "--no-console",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 13, done.stderr
    said = " ".join(done.stderr.split())
    assert "state.pickle" in said and "--reset" in said and "Traceback" not in done.stderr
    assert (data / "state.pickle").read_bytes() == b"\x80\x05\x95 truncated", "never overwritten"


class _Failing(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(
            {
                "service": "resizer-localcloud",
                "state": {"saving": "failing", "error": "[Errno 28] No space left"},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


def test_the_saving_problem_of_a_local_cloud_is_reported():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        problem = local_cloud_saving_problem(f"http://127.0.0.1:{server.server_address[1]}")
        assert "No space" in problem
    finally:
        server.shutdown()
    assert local_cloud_saving_problem(f"http://127.0.0.1:{free_port()}") == ""
