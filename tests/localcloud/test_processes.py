"""The local cloud's processes: one owner per data folder, URLs that follow the port, children
that die with their parent (kill -9 included), and a console that is the one `up` started.

Real processes throughout: local-cloud servers, `resizer up`, the console, Lambda workers."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from localcloud import ownership
from localcloud.process import child_command, free_port, listener_pid, running, spawn
from operations import local
from operations.aws import Clients

RESIZER = str(Path(sys.executable).with_name("resizer"))
KILL_BOUND_S = 5.0  # children must be gone this soon after kill -9 of their parent


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except OSError:
            continue
    return found


def gone_within(pids: list[int], bound: float, since: float | None = None) -> float:
    """Seconds (from since, default now) until every pid is gone; fails past bound."""
    started = since or time.monotonic()
    while any(alive(pid) for pid in pids):
        assert time.monotonic() - started < bound, (
            f"still running after {bound} s: {[p for p in pids if alive(p)]}"
        )
        time.sleep(0.02)
    return time.monotonic() - started


def child_gone_after_parent_killed(parent: str) -> float:
    """Run parent (Python source that prints its child's PID), kill -9 it, and return how long its
    child took to end (at most 3 s)."""
    middle = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE)
    kid = int(middle.stdout.readline())
    killed = time.monotonic()
    middle.kill()
    middle.wait()
    return gone_within([kid], 3.0, since=killed)


def cli_env(tmp: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESIZER_"))}
    return env | {
        "RESIZER_CACHE_DIR": str(cache),
        "AWS_CONFIG_FILE": str(tmp / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


# --- the data folder's owner ---------------------------------------------------------------------


def test_one_owner_per_data_folder(tmp_path: Path) -> None:
    first = ownership.claim(tmp_path, 4601)
    with pytest.raises(ownership.Owned) as refused:
        ownership.claim(tmp_path, 4602)
    assert (refused.value.pid, refused.value.port) == (os.getpid(), 4601)
    assert f"PID {os.getpid()} on port 4601" in str(refused.value)
    assert ownership.owner(tmp_path) == {"pid": os.getpid(), "port": 4601}
    (tmp_path / "state").write_text("x")
    ownership.empty(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [ownership.LOCK_FILE], "--reset keeps the lock"
    first.release()
    assert ownership.owner(tmp_path) == {}
    ownership.claim(tmp_path, 4602).release()


def test_a_second_cloud_on_an_owned_data_folder_is_refused_before_importing_moto(tmp_path: Path) -> None:
    script = (
        "import pathlib, sys\n"
        "from localcloud import ownership, server\n"
        f"data = pathlib.Path({str(tmp_path)!r})\n"
        "held = ownership.claim(data, 4801)\n"
        "try:\n"
        "    server.start(port=4802, data_dir=data)\n"
        "except ownership.Owned:\n"
        "    print(sorted(m for m in sys.modules if m == 'moto' or m.startswith('moto.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", "refused at once: no moto import, no interpreter probe first"


def test_a_killed_owner_leaves_no_lock_behind(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from localcloud import ownership; import pathlib, time; "
            f"ownership.claim(pathlib.Path({str(tmp_path)!r}), 4700); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    assert holder.stdout.readline() == b"held\n"
    assert ownership.owner(tmp_path)["pid"] == holder.pid
    holder.kill()
    holder.wait()
    ownership.claim(tmp_path, 4701).release()


# --- a stack deployed on one port, used on others -----------------------------------------------


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A data folder with the stack deployed by a local cloud on one port (then stopped)."""
    cache = tmp_path_factory.mktemp("cache")
    data = tmp_path_factory.mktemp("data")
    first_port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RESIZER_CACHE_DIR", str(cache))
        with running(data, first_port) as url:
            ready = [e for e in local.provision(url, sleep=lambda s: None) if isinstance(e, local.Ready)][-1]
    return {"data": data, "cache": cache, "first_port": first_port, "outputs": ready.outputs}


def test_a_restart_on_another_port_follows_it_and_a_second_cloud_is_refused(deployed, tmp_path: Path) -> None:
    port = free_port()
    assert port != deployed["first_port"]
    with running(deployed["data"], port) as url:
        clients = Clients.for_local_cloud(url)
        stack = clients.client("cloudformation").describe_stacks(StackName="resizer")["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert outputs["CdnUrl"].startswith(f"{url}/_aws/cloudfront/")  # cdn delivery, the default
        assert outputs["ApiUrl"].startswith(f"{url}/_aws/execute-api/")
        config = clients.client("lambda").get_function_configuration(FunctionName=outputs["FunctionName"])
        assert config["Environment"]["Variables"]["PUBLIC_URL"] == outputs["CdnUrl"]

        with urllib.request.urlopen(f"{outputs['CdnUrl']}/40x/sample.jpg", timeout=120) as miss:
            assert miss.status == 200 and miss.headers["X-Cache"] == "Miss from cloudfront"
        with urllib.request.urlopen(f"{outputs['ApiUrl']}/41x/sample.jpg", timeout=120) as direct:
            assert direct.status == 200 and direct.headers["Content-Type"] == "image/jpeg"

        server_pid = json.loads(urllib.request.urlopen(f"{url}/_localcloud/health", timeout=10).read())["pid"]
        env = cli_env(tmp_path, deployed["cache"])
        other_port = free_port()
        for argv in (
            ["--data", str(deployed["data"]), "--port", str(other_port)],  # same folder, another port
            ["--data", str(tmp_path / "other"), "--port", str(port)],  # same port, another folder
            ["--data", str(deployed["data"]), "--port", str(port)],  # both the same
        ):
            done = subprocess.run(
                [RESIZER, "up", "--no-console", *argv], env=env, capture_output=True, text=True, timeout=120
            )
            said = done.stdout + done.stderr
            assert done.returncode == 12, said
            assert f"PID {server_pid}" in said and f"127.0.0.1:{port}" in said, said
            assert "Traceback" not in said
            assert listener_pid(other_port) is None


# --- children die with their parent -------------------------------------------------------------


def test_kill_9_of_resizer_up_ends_the_console_and_the_lambda_workers(deployed, tmp_path: Path) -> None:
    port, console_port = free_port(), free_port()
    command = [RESIZER, "up", "--data", str(deployed["data"]), "--port", str(port)]
    command += ["--console-port", str(console_port)]
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen(command, env=cli_env(tmp_path, deployed["cache"]), stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 240
        while f"127.0.0.1:{console_port}/" not in log.read_text(errors="replace"):
            assert up.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        said = log.read_text()
        assert "Lambda functions run under CPython 3.12" in said, said
        cdn = next(line.split()[-1] for line in said.splitlines() if line.startswith("cdn"))
        with urllib.request.urlopen(f"{cdn}/30x/sample.jpg", timeout=120) as reply:
            assert reply.status == 200  # a Lambda worker ran, and stays warm
        console = listener_pid(console_port)
        kids = children(up.pid)
        assert console in kids and len(kids) >= 2, (console, kids)  # the console and a worker at least
        killed = time.monotonic()
        up.send_signal(signal.SIGKILL)
        up.wait()
        took = gone_within(kids, KILL_BOUND_S, since=killed)
        print(f"\n{len(kids)} children of resizer up gone {took * 1000:.0f} ms after its kill -9")
        assert listener_pid(console_port) is None
        ownership.claim(deployed["data"], port).release()  # the folder is free again
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()


def test_a_child_whose_parent_dies_before_prctl_or_without_it_ends_by_the_parent_check(
    tmp_path: Path,
) -> None:
    """The fallback: the parent-death signal disabled (as off Linux), the child checks its parent."""
    child = textwrap.dedent(
        """
        import os, sys, time
        from localcloud import lambda_worker
        lambda_worker.PR_SET_PDEATHSIG = 0  # an invalid prctl option: no parent-death signal
        lambda_worker.die_with_parent(int(sys.argv[1]), every=0.1)
        print(os.getpid(), flush=True)
        time.sleep(60)
        """
    )
    parent = textwrap.dedent(
        f"""
        import os, subprocess, sys, time
        kid = subprocess.Popen([sys.executable, "-c", {child!r}, str(os.getpid())], stdout=subprocess.PIPE)
        print(kid.stdout.readline().decode().strip(), flush=True)
        time.sleep(60)
        """
    )
    took = child_gone_after_parent_killed(parent)
    print(f"\nchild gone {took * 1000:.0f} ms after its parent's kill -9 (parent check only)")


def test_child_command_children_get_sigterm_when_their_parent_is_killed(tmp_path: Path) -> None:
    """python -m localcloud.process: the wrapped module stops cleanly (SIGTERM) with its parent."""
    marker = tmp_path / "stopped"
    module = tmp_path / "sleeper.py"
    module.write_text(
        "import pathlib, signal, sys, time\n"
        f"stop = lambda *a: (pathlib.Path({str(marker)!r}).write_text('term'), sys.exit(0))\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('up', flush=True)\ntime.sleep(60)\n"
    )
    parent = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(tmp_path)!r})
        from localcloud.process import child_command, spawn
        import subprocess
        path = {str(tmp_path)!r} + ":" + {os.getcwd()!r}
        kid = spawn(child_command("sleeper"), stdout=subprocess.PIPE, env={{"PYTHONPATH": path}})
        assert kid.stdout.readline() == b"up\\n"
        print(kid.pid, flush=True)
        time.sleep(60)
        """
    )
    took = child_gone_after_parent_killed(parent)
    assert marker.read_text() == "term"
    print(f"\nwrapped child stopped {took * 1000:.0f} ms after its parent's kill -9")


def test_up_does_not_take_a_stranger_on_its_port_for_its_console() -> None:
    from cli.commands import up

    port = free_port()
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", port))
        stranger.listen()
        assert listener_pid(port) == os.getpid()
        started = time.monotonic()
        assert up.start_console("http://127.0.0.1:9", port) is None
        assert time.monotonic() - started < 30


def test_spawn_and_child_command_shapes() -> None:
    assert child_command("console", "--port", "1")[1:] == [
        "-m",
        "localcloud.process",
        str(os.getpid()),
        "console",
        "--port",
        "1",
    ]
    process = spawn([sys.executable, "-c", "print(1)"], stdout=subprocess.PIPE)
    assert process.communicate(timeout=30)[0] == b"1\n"


# --- a function that cannot start, through the API ------------------------------------------------


def test_an_init_failure_is_a_502_json_an_init_report_and_a_lambda_error(deployed, tmp_path: Path) -> None:
    import io
    import shutil
    import zipfile
    from datetime import UTC, datetime, timedelta

    data = tmp_path / "data"
    shutil.copytree(deployed["data"], data, ignore=shutil.ignore_patterns(ownership.LOCK_FILE))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("resizer_function/__init__.py", "")
        archive.writestr("resizer_function/handler.py", "import sys\nprint('cannot start')\nsys.exit(3)\n")
    with running(data) as url:
        clients = Clients.for_local_cloud(url)
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in clients.client("cloudformation").describe_stacks(StackName="resizer")["Stacks"][0][
                "Outputs"
            ]
        }
        lam = clients.client("lambda")
        lam.update_function_code(FunctionName=outputs["FunctionName"], ZipFile=broken.getvalue())
        request = urllib.request.Request(f"{outputs['ApiUrl']}/20x/sample.jpg")
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=120)
        assert failed.value.code == 502
        assert failed.value.headers["Content-Type"].startswith("application/json")
        assert json.loads(failed.value.read()) == {"message": "Internal server error"}

        logs = clients.client("logs")
        deadline = time.monotonic() + 30
        while True:
            events = logs.filter_log_events(logGroupName=outputs["LogGroupName"], filterPattern="INIT_REPORT")
            lines = [e["message"] for e in events["events"]]
            if any("Status: error" in line for line in lines) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert any("Phase: init\tStatus: error\tError Type: Runtime.ExitError" in line for line in lines), (
            lines
        )
        end = datetime.now(UTC) + timedelta(minutes=1)
        stats = clients.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": outputs["FunctionName"]}],
            StartTime=end - timedelta(minutes=10),
            EndTime=end,
            Period=600,
            Statistics=["Sum"],
        )
        assert sum(p["Sum"] for p in stats["Datapoints"]) >= 1
