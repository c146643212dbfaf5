"""Start or stop the production topology on this machine, on loopback: the nginx edge (deploy/nginx.conf) in
front of API_HOSTS gunicorn hosts, kept running by supervisord (deploy/supervisord.conf), over a PostgreSQL
database of their own and Redis (both already running).

    python deploy/topology.py start     # build the store, start everything, wait until the edge answers
    python deploy/topology.py status
    python deploy/topology.py stop

Settings come from the environment (defaults in brackets): EDGE_PORT [8080], API_PORT [8001] (host n listens on
API_PORT+n), API_HOSTS [2], RUN_DIR [instance/prod], POSTGRES_URL [postgresql+psycopg://postgres@127.0.0.1:5432/
postgres] and DATABASE [metro_exports] (or EXPORTS_DATABASE_URL to use a database as it is), EXPORTS_REDIS_URL
[redis://127.0.0.1:6379/0], EXPORTS_DATA_DIR [../shared/data]. Every other EXPORTS_* variable reaches the hosts;
those a host behind the edge needs are set here unless given (HOST_SETTINGS).
"""

import argparse
import getpass
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
# What a host behind the edge needs: trust the edge's X-Forwarded-For (one proxy), leave compression to the edge,
# let the edge keep a response EDGE_MAX_AGE seconds (s-maxage) before it revalidates, and prefix its Redis keys.
EDGE_MAX_AGE = 10
HOST_SETTINGS = {
    "EXPORTS_PROXY_COUNT": "1",
    "EXPORTS_COMPRESS": "false",
    "EXPORTS_CACHE_SHARED_MAX_AGE": str(EDGE_MAX_AGE),
    "EXPORTS_REDIS_URL": "redis://127.0.0.1:6379/0",
    "EXPORTS_RATELIMIT_KEY_PREFIX": "metro-exports-prod",
    "EXPORTS_CACHE_KEY_PREFIX": "metro-exports-prod:",
}


def settings() -> dict:
    env = dict(os.environ)
    env.setdefault("EDGE_PORT", "8080")
    env.setdefault("API_PORT", "8001")
    env.setdefault("API_HOSTS", "2")
    env["RUN_DIR"] = str(Path(env.get("RUN_DIR") or ROOT / "instance" / "prod").resolve())
    env.setdefault("EXPORTS_DATA_DIR", str((ROOT.parent / "shared" / "data").resolve()))
    env.setdefault("EDGE_USER", getpass.getuser())  # nginx's workers run as the user who starts it
    env["PYTHON"] = sys.executable
    env.setdefault("NGINX", shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin") or "nginx")
    if "EXPORTS_DATABASE_URL" not in env:
        admin = make_url(env.get("POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
        env["EXPORTS_DATABASE_URL"] = admin.set(database=env.get("DATABASE", "metro_exports")).render_as_string(
            hide_password=False)
    for name, value in HOST_SETTINGS.items():
        env.setdefault(name, value)
    return env


def supervisor(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).parent / args[0]), "-c", str(DEPLOY / "supervisord.conf"), *args[1:]]
    return subprocess.run(command, env=env, cwd=ROOT, check=check, capture_output=True, text=True)


def create_database(url: str) -> None:
    """The store's database, created on its server if it does not exist yet."""
    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target.database]).fetchone():
            connection.execute(f'CREATE DATABASE "{target.database}"')


def build_store(env: dict) -> None:
    """`flask data build` into the hosts' database (a no-op for files whose checksum is unchanged)."""
    if env["EXPORTS_DATABASE_URL"].startswith("postgresql"):
        create_database(env["EXPORTS_DATABASE_URL"])
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "data", "build"], env=env, cwd=ROOT, check=True)


def write_edge(env: dict) -> Path:
    """The edge's prefix: deploy/nginx.conf (linked, so that its includes are found beside it) and the two files
    that say where this edge listens and where its hosts are."""
    edge = Path(env["RUN_DIR"]) / "edge"
    edge.mkdir(parents=True, exist_ok=True)
    config = edge / "nginx.conf"
    config.unlink(missing_ok=True)
    config.symlink_to(DEPLOY / "nginx.conf")
    (edge / "listen.conf").write_text(f"listen 127.0.0.1:{env['EDGE_PORT']};\n")
    ports = range(int(env["API_PORT"]), int(env["API_PORT"]) + int(env["API_HOSTS"]))
    (edge / "upstreams.conf").write_text("".join(
        f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in ports))
    return edge


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


def start(env: dict, build: bool, timeout: float = 60) -> None:
    if shutil.which(env["NGINX"]) is None:
        sys.exit("nginx is not installed (Debian: apt-get install nginx)")
    if build:
        build_store(env)
    edge = write_edge(env)
    subprocess.run([env["NGINX"], "-q", "-t", "-p", f"{edge}/", "-c", str(edge / "nginx.conf"), "-g",
                    f"user {env['EDGE_USER']};"], check=True)
    supervisor(env, "supervisord")
    hosts = [f"http://127.0.0.1:{int(env['API_PORT']) + n}/readyz" for n in range(int(env["API_HOSTS"]))]
    edge_url = f"http://127.0.0.1:{env['EDGE_PORT']}/readyz"
    deadline = time.monotonic() + timeout
    while not all(answers(url) for url in [*hosts, edge_url]):
        if time.monotonic() > deadline:
            print(supervisor(env, "supervisorctl", "status", check=False).stdout, file=sys.stderr)
            sys.exit(f"the topology did not answer within {timeout:.0f} s: see the logs in {env['RUN_DIR']}")
        time.sleep(0.2)
    print(f"edge: http://127.0.0.1:{env['EDGE_PORT']}  hosts: {', '.join(h.removesuffix('/readyz') for h in hosts)}"
          f"  logs: {env['RUN_DIR']}")


def stop(env: dict, timeout: float = 30) -> None:
    pidfile = Path(env["RUN_DIR"]) / "supervisord.pid"
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text())
    supervisor(env, "supervisorctl", "shutdown", check=False)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--no-build", action="store_true", help="Serve the database as it is (start only).")
    args = parser.parse_args()
    env = settings()
    if args.action == "start":
        start(env, build=not args.no_build)
    elif args.action == "stop":
        stop(env)
    else:
        result = supervisor(env, "supervisorctl", "status", check=False)
        print(result.stdout or result.stderr, end="")


if __name__ == "__main__":
    main()
