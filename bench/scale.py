"""Scale runs of the live Delphi: bench/delphi_load.py against one and two ASGI servers.

Starts everything it measures on its own (the fault tests' harness): a Redis server on a spare
port, a PostgreSQL database of its own (created, migrated, dropped at the end), and 1 or 2 ASGI server
processes sharing the Redis channel layer. Then runs bench/delphi_load.py with the clients spread
over the servers, and adds what the load cost each component: server CPU seconds (the server
processes and their children, from the kernel's accounting in /proc), Redis commands, PostgreSQL
transactions, and frames per vote. ``--server-kind daphne,uvicorn`` runs each size on both
servers, one after the other, side by side.

    .venv/bin/python bench/scale.py --clients 200,500,1000 --servers 1,2

Needs redis-server and a PostgreSQL server at 127.0.0.1:5432 (or FAULTS_POSTGRES_URL). Contacts
nothing but 127.0.0.1. Figures go to stdout; docs/benchmarks.md ("Scale") records a run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.services import (  # noqa: E402
    PYTHON,
    FaultDatabase,
    daphne_process,
    redis_process,
    spare_port,
)

#: The ASGI servers a run can use. uvicorn with uvloop and httptools, per-message compression off
#: (compressing every broadcast frame costs more CPU than the bytes it saves on a local network),
#: and daphne's 1 MiB message limit (workshops.realtime.SERVER_MAX_MESSAGE_BYTES).
UVICORN_ARGS = [
    "--loop", "uvloop", "--http", "httptools", "--ws", "websockets", "--ws-per-message-deflate", "false",
    "--ws-max-size", "1048576", "--lifespan", "off", "--no-access-log", "--log-level", "warning",
]  # fmt: skip


def server_process(kind: str, *, name: str, port: int, env: dict[str, str], log_dir: Path):
    server = daphne_process(name=name, port=port, env=env, log_dir=log_dir)
    if kind == "daphne":
        # A saturated server answers handshakes late; daphne's default 5 s drops them (see
        # docs/benchmarks.md, Delphi), so give them 30 s as a production deployment would.
        server.argv[-1:-1] = ["--websocket_connect_timeout", "30"]
    elif kind in ("uvicorn", "uvicorn-sansio"):
        server.argv = [PYTHON, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
        server.argv += UVICORN_ARGS
        if kind == "uvicorn-sansio":
            # websockets' Sans-I/O protocol: no tasks, futures or drain per frame (uvicorn >= 0.35).
            server.argv[server.argv.index("--ws") + 1] = "websockets-sansio"
    else:
        raise SystemExit(f"--server-kind {kind!r}: choose daphne, uvicorn or uvicorn-sansio")
    return server


def process_env(db_url: str, redis_url: str, app: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"{db_url}?application_name={app}",
            "REDIS_URL": redis_url,
            "DB_CONN_MAX_AGE": "60",
            "DEBUG": "false",
            "SECRET_KEY": "scale-bench-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "ERROR",
            "PYTHONUNBUFFERED": "1",
            # The live path never embeds: no model in the servers, so its CPU is the votes' alone.
            "MATCHING_PRELOAD": "false",
            # Pages are not what this measures: serve static files without collectstatic's manifest.
            "STATIC_MANIFEST": "false",
        }
    )
    return env


def _stat(pid: int) -> list[str] | None:
    try:
        # Fields after the command name, which may itself hold spaces or parentheses.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (a server's workers or reloader children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU of a process tree so far, from the kernel's accounting (/proc/<pid>/stat:
    utime and stime, with cutime and cstime of children already reaped). System time is mostly
    the sockets' system calls (a frame written on loopback also runs its receiver's TCP input)."""
    user = system = 0
    for member in process_tree(pid):
        if (fields := _stat(member)) is not None:
            user += int(fields[11]) + int(fields[13])
            system += int(fields[12]) + int(fields[14])
    return user / os.sysconf("SC_CLK_TCK"), system / os.sysconf("SC_CLK_TCK")


def servers_cpu(servers) -> tuple[float, float]:
    """User and system CPU seconds of every server process tree together."""
    times = [cpu_seconds(server.proc.pid) for server in servers]
    return sum(t[0] for t in times), sum(t[1] for t in times)


def machine_cpu() -> list[int]:
    """The machine's CPU time so far by state (/proc/stat's first line, in clock ticks): user, nice,
    system, idle, iowait, irq, softirq, steal."""
    with open("/proc/stat", encoding="ascii") as stat:
        return [int(v) for v in stat.readline().split()[1:9]]


def machine_shares(before: list[int], after: list[int]) -> dict[str, float]:
    """Where the machine's CPUs went between two ``machine_cpu`` readings, as shares of the total:
    busy (user, nice, system, irq, softirq), steal (taken by the hypervisor for other guests) and
    idle (idle, iowait)."""
    d = [b - a for a, b in zip(before, after, strict=True)]
    total = max(sum(d), 1)
    return {"busy": (d[0] + d[1] + d[2] + d[5] + d[6]) / total, "steal": d[7] / total, "idle": (d[3] + d[4]) / total}


def redis_commands(port: int) -> int:
    import redis

    return int(redis.Redis(host="127.0.0.1", port=port).info("stats")["total_commands_processed"])


def pg_commits(db: FaultDatabase) -> int:
    return int(db.scalar("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"))


def one_run(*, servers: int, clients: int, args, workdir: Path, kind: str = "daphne") -> dict:
    db = FaultDatabase(log_dir=workdir)
    redis_port = spare_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    redis = redis_process(port=redis_port, data_dir=workdir / f"redis-{servers}-{clients}", log_dir=workdir)
    daphnes = []
    try:
        redis.start()
        db.create(env=process_env(db.url, redis_url, "scale-cli"))
        ports = []
        for index in range(servers):
            port = spare_port()
            ports.append(port)
            daphne = server_process(
                kind,
                name=f"{kind}-{servers}-{clients}-{index + 1}",
                port=port,
                env=process_env(db.url, redis_url, f"scale-{kind}-{index + 1}"),
                log_dir=workdir,
            )
            daphne.start()
            daphnes.append(daphne)
        urls = ",".join(f"http://127.0.0.1:{port}" for port in ports)
        before = (servers_cpu(daphnes), redis_commands(redis_port), pg_commits(db))
        load_started, machine_before = time.monotonic(), machine_cpu()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = subprocess.run(
            [
                PYTHON, str(ROOT / "bench" / "delphi_load.py"), "--url", urls, "--clients", str(clients),
                "--votes", str(args.votes), "--think", str(args.think), "--ramp", str(args.ramp),
                "--max-seconds", str(args.max_seconds), *(["--client-pings"] if args.client_pings else []),
            ],
            cwd=ROOT, env=process_env(db.url, redis_url, "scale-load"), capture_output=True, text=True,
            timeout=args.max_seconds + 600,
        )  # fmt: skip
        wall = time.monotonic() - load_started
        machine = machine_shares(machine_before, machine_cpu())
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the load generator, now reaped
        load_cpu = children.ru_utime + children.ru_stime - children_before.ru_utime - children_before.ru_stime
        after = (servers_cpu(daphnes), redis_commands(redis_port), pg_commits(db))
        out = result.stdout + result.stderr[-2000:]
        if result.returncode != 0:
            out += f"\n(bench/delphi_load.py exited with {result.returncode})"
        acked = _number(r"acknowledged (\d+)", out)
        messages = _number(r"(\d+) messages received by clients", out)
        errors = sum(d.log_text().count("Traceback") for d in daphnes)
        return {
            "kind": kind,
            "servers": servers,
            "clients": clients,
            "output": out.strip(),
            "server_cpu_s": sum(after[0]) - sum(before[0]),
            "server_system_s": after[0][1] - before[0][1],
            "redis_commands": after[1] - before[1],
            "pg_commits": after[2] - before[2],
            "acked": acked,
            "messages": messages,
            "server_tracebacks": errors,
            "wall_s": wall,
            "load": os.getloadavg(),
            "machine": machine,
            "load_generator_cpu_s": load_cpu,
        }
    finally:
        for daphne in daphnes:
            daphne.stop()
        redis.stop()
        with contextlib.suppress(Exception):
            db.drop()


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    return int(match.group(1)) if match else 0


def _stop_on_signal(signum, frame):
    # Background shells ignore SIGINT; turn SIGTERM/SIGINT into an exception so every server and
    # the database this script started are stopped and dropped by the finally blocks.
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="200,500,1000")
    parser.add_argument("--servers", default="1,2")
    parser.add_argument("--votes", type=int, default=50)
    parser.add_argument("--think", type=float, default=0.5)
    parser.add_argument("--ramp", type=float, default=10.0)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument(
        "--server-kind", default="daphne", help="daphne, uvicorn, uvicorn-sansio, or several: daphne,uvicorn"
    )
    parser.add_argument(
        "--client-pings", action="store_true", help="clients send keepalive pings too (browsers send none)"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="scale-"))
    print(f"logs in {workdir}")
    for servers in [int(x) for x in args.servers.split(",")]:
        for clients in [int(x) for x in args.clients.split(",")]:
            for kind in args.server_kind.split(","):
                report(one_run(servers=servers, clients=clients, args=args, workdir=workdir, kind=kind))


def report(r: dict) -> None:
    per_vote = max(r["acked"], 1)
    print(f"\n=== {r['servers']} {r['kind']} process(es), {r['clients']} clients")
    print(r["output"])
    print(
        f"cost per acknowledged vote: Redis commands {r['redis_commands'] / per_vote:.1f}, "
        f"PostgreSQL commits {r['pg_commits'] / per_vote:.2f}, frames to clients {r['messages'] / per_vote:.1f}"
    )
    print(
        f"server CPU per vote: {1000 * r['server_cpu_s'] / per_vote:.2f} ms "
        f"(system {1000 * r['server_system_s'] / per_vote:.2f} ms)"
    )
    print(
        f"server CPU {r['server_cpu_s']:.1f} s over {r['wall_s']:.1f} s wall; server tracebacks "
        f"{r['server_tracebacks']}; load average {r['load'][0]:.1f}"
    )
    # Whether the two cores were the limit, and who had them: the load generator shares them.
    print(
        f"machine CPUs over the run: busy {r['machine']['busy']:.0%}, steal {r['machine']['steal']:.0%}, "
        f"idle {r['machine']['idle']:.0%}; load generator CPU {r['load_generator_cpu_s']:.1f} s"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
