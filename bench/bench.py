#!/usr/bin/env python3
"""clmb benchmark driver (stdlib only): seeds a running stack through its API, runs the
wrk and pgbench measurements, samples resident memory, and writes the report.

    python3 bench/bench.py seed              # users, gyms, routes, climbs (API)
    python3 bench/bench.py measure up        # every measurement against `clmb up`
    python3 bench/bench.py measure split     # RSS and errors with one process per component
    python3 bench/bench.py report            # BENCHMARKS.md from the figures

bench/run.sh calls these in order; state and raw figures live under .cache/bench/.
"""

from __future__ import annotations

import concurrent.futures as futures
import datetime as dt
import http.client
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"
STATE = CACHE / "state.json"
RESULTS = CACHE / "results.json"
REQ_DIR = CACHE / "requests"
LUA = ROOT / "bench" / "lua" / "requests.lua"

GATEWAY = int(os.environ.get("BENCH_GATEWAY_PORT", "9080"))
USERS = int(os.environ.get("BENCH_USERS_PORT", "9081"))
GYMS = int(os.environ.get("BENCH_GYMS_PORT", "9082"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS_PORT", "9083"))
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "clmb_bench")
PG = dict(host="127.0.0.1", port=os.environ.get("BENCH_PG_PORT", "5432"), user="postgres")

# Data set (the issue: ~1,000 users, 50 gyms, 5,000 routes, 100,000 climbs, and one
# climber with 100,000 climbs for the statistics target).
N_USERS = int(os.environ.get("BENCH_USERS", "1000"))
N_GYMS = 50
ROUTES_PER_GYM = 100
CLIMBS_PER_USER = 100  # 1,000 users x 100 = 100,000 climbs, imported
ACTIVE_USERS = 50  # users that log gym sessions through the API and drive the load
HEAVY_FILES = 10  # 10 x 10,000 rows = the heavy climber's 100,000 climbs
ROWS_PER_FILE = 10_000
IMPORT_C2_FILES = 8  # 10,000-row imports at concurrency 2 (other users)
PASSWORD = "bench-password-123"

# Load shape.
THREADS = 2
CONC = int(os.environ.get("BENCH_CONC", "32"))
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WARMUP = 2
HIGH_CONC = 200


# ---------------------------------------------------------------------------------
# Small helpers


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def load(path: Path, default=None):
    if path.exists():
        return json.loads(path.read_text())
    return default


def save(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=1))
    tmp.replace(path)


def record(section: str, key: str, value) -> None:
    results = load(RESULTS, {})
    results.setdefault(section, {})[key] = value
    save(RESULTS, results)


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Api:
    """Keep-alive HTTP/1.1 client, one connection per thread."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def _conn(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.local.conn = conn
        return conn

    def call(self, method, path, body=None, token=None, content_type=None, expect=None):
        headers = {}
        data = None
        if body is not None:
            if isinstance(body, (bytes, str)):
                data = body.encode() if isinstance(body, str) else body
                headers["Content-Type"] = content_type or "text/csv"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(2):
            conn = self._conn()
            try:
                start = time.perf_counter()
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                elapsed = time.perf_counter() - start
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        if expect is not None and response.status != expect:
            raise RuntimeError(f"{method} {path}: {response.status} {str(payload)[:300]}")
        return response.status, payload, elapsed


def pool_map(fn, items, workers):
    with futures.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))


def psql(db: str, sql: str) -> str:
    out = subprocess.run(
        ["psql", "-h", PG["host"], "-p", str(PG["port"]), "-U", PG["user"], "-d", db,
         "-AtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True, capture_output=True, text=True)
    return out.stdout.strip()


# ---------------------------------------------------------------------------------
# Generated data

BOULDER = {
    "v_scale": [f"V{i}" for i in range(0, 11)],
    "font": ["4", "5", "5+", "6A", "6A+", "6B", "6B+", "6C", "6C+", "7A", "7A+", "7B", "7C"],
}
ROPE = {
    "yds": ["5.6", "5.7", "5.8", "5.9", "5.10a", "5.10b", "5.10c", "5.10d", "5.11a",
            "5.11b", "5.11c", "5.11d", "5.12a", "5.12b", "5.13a"],
    "french": ["5a", "5b", "5c", "6a", "6a+", "6b", "6b+", "6c", "6c+", "7a", "7a+", "7b",
               "7c", "8a"],
}
CITIES = [("Boulder", "US", 40.01, -105.27), ("Salt Lake City", "US", 40.76, -111.89),
          ("Zürich", "CH", 47.37, 8.54), ("Bern", "CH", 46.95, 7.45),
          ("Lyon", "FR", 45.76, 4.84), ("Fontainebleau", "FR", 48.40, 2.70),
          ("München", "DE", 48.14, 11.58), ("Sheffield", "GB", 53.38, -1.47),
          ("Kraków", "PL", 50.06, 19.94), ("Tokyo", "JP", 35.68, 139.69)]
COLOURS = ["red", "blue", "green", "yellow", "black", "white", "purple", "orange", "pink"]
CRAGS = ["Colorado > *Boulder Canyon > Castle Rock", "Utah > *Little Cottonwood > Gate Buttress",
         "New Hampshire > *Rumney > Waimea", "Kentucky > *Red River Gorge > Muir Valley",
         "California > *Bishop > Buttermilks", "Colorado > *Rocky Mountain NP > Chaos Canyon",
         "Nevada > *Red Rocks > Kraft Boulders", "Wyoming > *Vedauwoo > Turtle Rock",
         "International > Europe > Switzerland > *Magic Wood > Bachbett",
         "International > Europe > France > *Fontainebleau > Bas Cuvier"]
MP_HEADER = ('Date,Route,Rating,Notes,URL,Pitches,Location,"Avg Stars","Your Stars",Style,'
             '"Lead Style","Route Type","Your Rating",Length,"Rating Code"')
MP_ROPE_STYLES = [("Lead", "Redpoint"), ("Lead", "Onsight"), ("Lead", "Flash"),
                  ("Lead", "Fell/Hung"), ("TR", ""), ("Follow", "")]
MP_BOULDER_STYLES = [("Send", ""), ("Flash", ""), ("Attempt", "")]


def mp_csv(rng: random.Random, rows: int, first: dt.date, last: dt.date, sessions: int,
           tag: str) -> bytes:
    """A Mountain Project ticks export: `sessions` (date, crag) outings between `first`
    and `last`, `rows` ticks spread over them, about 60 % boulders."""
    span = (last - first).days
    outings = sorted({(first + dt.timedelta(days=rng.randrange(span + 1)), rng.choice(CRAGS))
                      for _ in range(sessions)})
    out = [MP_HEADER]
    for n in range(rows):
        day, crag = outings[n * len(outings) // rows]
        route_id = 100_000_000 + rng.randrange(50_000_000)
        name = f"{tag} route {route_id % 100_000}"
        if rng.random() < 0.6:
            rating = rng.choice(BOULDER["v_scale"])
            style, lead = rng.choice(MP_BOULDER_STYLES)
            kind, pitches = "Boulder", 1
        else:
            rating = rng.choice(ROPE["yds"])
            style, lead = rng.choice(MP_ROPE_STYLES)
            kind, pitches = rng.choice(["Sport", "Sport", "Trad"]), 1
        notes = rng.choice(["", "", "", "fun, \"classic\"", "wet start"])
        stars = rng.choice(["-1", "1", "2", "3", "4"])
        out.append(",".join([
            f"{day.month}/{day.day}/{day.year}" if n % 2 else day.isoformat(),
            f'"{name}"', rating, f'"{notes}"' if notes else "",
            f"https://www.mountainproject.com/route/{route_id}/x", str(pitches),
            f'"{crag}"', "3.1", stars, style, lead, kind, "", "", "2500"]))
    return ("\n".join(out) + "\n").encode()


# ---------------------------------------------------------------------------------
# Seed


def seed() -> None:
    rng = random.Random(20261203)
    gw = Api(GATEWAY)
    state: dict = {"seeded_at": time.time()}
    timings = {}

    # 1. Users, through the API (each a real Argon2id hash).
    log(f"registering {N_USERS} users + 1 heavy climber")
    start = time.perf_counter()

    def register(i):
        name = "bench_heavy" if i < 0 else f"bench_u{i:04d}"
        _, body, elapsed = gw.call("POST", "/api/v1/auth/register", {
            "email": f"{name}@example.com", "username": name, "password": PASSWORD,
            "display_name": name.replace("_", " ")}, expect=201)
        return {"id": body["user"]["id"], "username": name, "token": body["access_token"],
                "ms": elapsed * 1000}

    users = pool_map(register, list(range(N_USERS)) + [-1], 4)
    heavy = users.pop()
    timings["register"] = summarize([u.pop("ms") for u in users], time.perf_counter() - start)
    heavy.pop("ms")
    log(f"  {timings['register']}")
    tokens = {u["id"]: u.pop("token") for u in users}
    state["users"] = users
    state["heavy"] = {"id": heavy["id"], "username": heavy["username"]}

    # 2. Gyms, each created by one of the first users (its first manager).
    log(f"creating {N_GYMS} gyms and {N_GYMS * ROUTES_PER_GYM} routes")
    start = time.perf_counter()

    def make_gym(i):
        city, country, lat, lng = CITIES[i % len(CITIES)]
        systems = ({"boulder": "font", "rope": "french"} if country in ("CH", "FR", "DE", "PL")
                   else {"boulder": "v_scale", "rope": "yds"})
        owner = users[i]
        _, body, _ = gw.call("POST", "/api/v1/gyms", {
            "name": f"Bench Gym {i:02d} {city}", "city": city, "country": country,
            "latitude": lat + rng.uniform(-0.05, 0.05), "longitude": lng + rng.uniform(-0.05, 0.05),
            "website": f"https://gym{i}.example.com", "description": "Bouldering and ropes.",
            "grade_systems": systems}, token=tokens[owner["id"]], expect=201)
        return {"id": body["id"], "owner": owner["id"], "systems": systems}

    gyms = pool_map(make_gym, range(N_GYMS), 4)

    def make_routes(gym):
        local = random.Random(gym["id"])
        token = tokens[gym["owner"]]
        ids = []
        for r in range(ROUTES_PER_GYM):
            if r < 60:
                discipline, grade = "boulder", local.choice(BOULDER[gym["systems"]["boulder"]])
            else:
                discipline = "sport" if r < 90 else "top_rope"
                grade = local.choice(ROPE[gym["systems"]["rope"]])
            _, body, _ = gw.call("POST", f"/api/v1/gyms/{gym['id']}/routes", {
                "discipline": discipline, "grade": grade, "name": f"Problem {r}",
                "colour": local.choice(COLOURS), "section": f"Wall {r % 6}",
                "setter": "bench"}, token=token, expect=201)
            ids.append(body["id"])
        gym["routes"] = ids
        return gym

    gyms = pool_map(make_routes, gyms, 4)
    timings["gyms_and_routes_s"] = round(time.perf_counter() - start, 1)
    state["gyms"] = gyms

    # 3. The population's climbs: every user imports a 100-row Mountain Project export.
    log(f"importing {N_USERS} x {CLIMBS_PER_USER}-row Mountain Project exports")
    start = time.perf_counter()

    def import_small(user):
        local = random.Random(user["id"])
        body = mp_csv(local, CLIMBS_PER_USER, dt.date(2024, 1, 1), dt.date(2026, 11, 20), 12,
                      user["username"])
        _, report, elapsed = gw.call("POST", "/api/v1/imports/mountain-project", body,
                                     token=tokens[user["id"]], expect=201)
        assert report["climbs_created"] == CLIMBS_PER_USER, report
        return elapsed * 1000

    timings["import_100_rows"] = summarize(pool_map(import_small, users, 4),
                                           time.perf_counter() - start)
    log(f"  {timings['import_100_rows']}")

    # 4. Active climbers log gym sessions through the API (route snapshots), so their
    #    overviews show gyms and the POST-climb load has sessions to write to.
    log(f"{ACTIVE_USERS} active climbers: 3 gym sessions x 10 climbs each, through the API")
    start = time.perf_counter()
    now = dt.datetime(2026, 12, 3, 8, tzinfo=dt.timezone.utc)

    def active(i):
        user = users[i]
        local = random.Random(i)
        token = tokens[user["id"]]
        sessions = []
        for s in range(3):
            gym = local.choice(gyms)
            started = now - dt.timedelta(days=3 - s, hours=local.randrange(6))
            _, body, _ = gw.call("POST", "/api/v1/sessions", {
                "gym_id": gym["id"], "started_at": started.isoformat().replace("+00:00", "Z"),
                "name": f"Session {s}"}, token=token, expect=201)
            sessions.append({"id": body["id"], "gym": gym["id"]})
            for c in range(10):
                gw.call("POST", f"/api/v1/sessions/{body['id']}/climbs", {
                    "route_id": local.choice(gym["routes"]),
                    "attempt_type": local.choice(["flash", "redpoint", "attempt", "onsight"])},
                    token=token, expect=201)
        return {"user": user["id"], "sessions": sessions}

    state["active"] = pool_map(active, range(ACTIVE_USERS), 4)
    timings["active_sessions_s"] = round(time.perf_counter() - start, 1)

    # 5. The heavy climber: ten years, 100,000 climbs, in ten 10,000-row imports, one at
    #    a time; the first half of the import figures.
    log(f"heavy climber: {HEAVY_FILES} x {ROWS_PER_FILE}-row imports at concurrency 1")
    heavy_token = login(gw, heavy["username"])
    samples = []
    failures = []
    for k in range(HEAVY_FILES):
        local = random.Random(1000 + k)
        year = 2016 + k
        body = mp_csv(local, ROWS_PER_FILE, dt.date(year, 12, 4), dt.date(year + 1, 12, 2), 160,
                      f"heavy{k}")
        status, report, elapsed = gw.call("POST", "/api/v1/imports/mountain-project", body,
                                          token=heavy_token)
        samples.append(elapsed * 1000)
        if status != 201:
            # Seen: 504 after the service's 30 s request timeout (see BENCHMARKS.md). The
            # import is rolled back; refresh the planner's statistics and import it again
            # so the data set is complete, keeping the failure in the figures.
            failures.append({"import": k + 1, "status": status, "ms": round(elapsed * 1000)})
            log(f"  import {k + 1}: {status} after {elapsed * 1000:.0f} ms; ANALYZE climbs, retry")
            psql(f"{DB_PREFIX}_sessions", "ANALYZE climbs")
            status, report, retry = gw.call("POST", "/api/v1/imports/mountain-project", body,
                                            token=heavy_token, expect=201)
            failures[-1]["retry_ms"] = round(retry * 1000)
        assert report["climbs_created"] == ROWS_PER_FILE and not report["rows_rejected"], \
            {k: v for k, v in report.items() if k != "rows_rejected"}
        log(f"  import {k + 1}: {elapsed * 1000:.0f} ms, {report['sessions_created']} sessions,"
            f" {len(body) // 1024} KiB")
    timings["import_10k_c1"] = summarize(samples, sum(samples) / 1000)
    timings["import_10k_c1"]["failures"] = failures
    timings["import_10k_c1"]["file_kib"] = len(body) // 1024
    timings["import_10k_c1"]["each_ms"] = [round(x) for x in samples]

    state["counts"] = counts()
    state["seed_timings"] = timings
    save(STATE, state)
    record("seed", "timings", timings)
    record("seed", "counts", state["counts"])
    log("seeded:", state["counts"])


def counts():
    return {
        "users": int(psql(f"{DB_PREFIX}_users", "SELECT count(*) FROM users")),
        "gyms": int(psql(f"{DB_PREFIX}_gyms", "SELECT count(*) FROM gyms")),
        "routes": int(psql(f"{DB_PREFIX}_gyms", "SELECT count(*) FROM routes")),
        "sessions": int(psql(f"{DB_PREFIX}_sessions", "SELECT count(*) FROM sessions")),
        "climbs": int(psql(f"{DB_PREFIX}_sessions", "SELECT count(*) FROM climbs")),
    }


def summarize(ms, wall_s):
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1),
            "wall_s": round(wall_s, 1), "per_s": round(len(ms) / wall_s, 2) if wall_s else None}


def login(api: Api, username: str) -> str:
    _, body, _ = api.call("POST", "/api/v1/auth/login",
                          {"login": username, "password": PASSWORD}, expect=200)
    return body["access_token"]


# ---------------------------------------------------------------------------------
# Measure


class RssSampler:
    """Samples VmRSS of some processes every 200 ms while running."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.peak = {name: 0 for name in pids}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    @staticmethod
    def rss_kib(pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            return 0
        return 0

    def run(self):
        while not self.stop.is_set():
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], self.rss_kib(pid))
            self.stop.wait(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    # The command name may hold spaces; the fields after its closing parenthesis do not.
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def process_cpu_s(pid, with_children=False):
    """User + system CPU seconds of a process (and of its reaped children)."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime are fields 14-17 of stat, 12-15 after the name.
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def postgres_cpu_s():
    """CPU seconds of every PostgreSQL process, with the backends that have exited
    (counted in the postmaster's children time)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            comm = (proc / "comm").read_text().strip()
            if not comm.startswith("postgres"):
                continue
            parent = int(_stat_fields(proc.name)[1])
        except (OSError, IndexError, ValueError):
            continue
        try:
            parent_comm = Path(f"/proc/{parent}/comm").read_text().strip()
        except OSError:
            parent_comm = ""
        # The postmaster: its own time and that of the backends it has reaped.
        total += process_cpu_s(proc.name, with_children=not parent_comm.startswith("postgres"))
    return total


class CpuMeter:
    """CPU seconds spent while running, by the server processes named, by PostgreSQL and
    by the load generator (this script's children)."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids

    def snapshot(self):
        children = os.times()
        return ({n: process_cpu_s(p) for n, p in self.pids.items()}, postgres_cpu_s(),
                children.children_user + children.children_system)

    def __enter__(self):
        self.before = self.snapshot()
        return self

    def __exit__(self, *exc):
        after = self.snapshot()
        self.servers = {n: after[0][n] - self.before[0][n] for n in self.pids}
        self.postgres = after[1] - self.before[1]
        self.client = after[2] - self.before[2]


def hwm_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def write_requests(name: str, lines: list[tuple]) -> Path:
    REQ_DIR.mkdir(parents=True, exist_ok=True)
    path = REQ_DIR / f"{name}.tsv"
    path.write_text("".join(
        "\t".join(str(x) if x is not None else "-" for x in line) + "\n" for line in lines))
    return path


def wrk(label, port, reqfile, conc, duration=DURATION, threads=THREADS, warmup=True,
        pids=None):
    threads = min(threads, conc)
    base = f"http://127.0.0.1:{port}"
    cmd = ["wrk", f"-t{threads}", f"-c{conc}", f"-d{duration}s", "--timeout", "10s",
           "-s", str(LUA.relative_to(ROOT)), base, "--", str(reqfile.relative_to(ROOT))]
    if warmup:
        subprocess.run(cmd[:3] + [f"-d{WARMUP}s"] + cmd[4:], cwd=ROOT, check=True,
                       capture_output=True)
    load_before = Path("/proc/loadavg").read_text().split()[0]
    sampler = RssSampler(pids or {})
    cpu = CpuMeter(pids or {})
    with sampler, cpu:
        out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    match = re.search(r"BENCH_JSON (\{.*\})", out.stdout)
    if not match:
        raise RuntimeError(f"wrk printed no figures:\n{out.stdout}\n{out.stderr}")
    figures = json.loads(match.group(1))
    seconds = figures["duration_us"] / 1e6
    errors = figures["errors"]
    non2xx = sum(n for code, n in figures["statuses"].items() if not 200 <= int(code) < 300)
    result = {
        "label": label, "port": port, "conc": conc, "threads": threads, "seconds": duration,
        "requests": figures["requests"], "rps": round(figures["requests"] / seconds, 1),
        "p50_ms": figures["p50_us"] / 1000, "p90_ms": figures["p90_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000, "max_ms": figures["max_us"] / 1000,
        "non2xx": non2xx, "socket_errors": errors["connect"] + errors["read"] + errors["write"]
        + errors["timeout"], "errors": errors, "statuses": figures["statuses"],
        "loadavg_before": float(load_before),
        "command": " ".join(cmd),
        "cpu_s": {"servers": {n: round(v, 2) for n, v in cpu.servers.items()},
                  "postgres": round(cpu.postgres, 2), "client": round(cpu.client, 2)},
    }
    if pids:
        result["rss_peak_mib"] = {n: round(k / 1024, 1) for n, k in sampler.peak.items()}
    log(f"  {label}: {result['rps']} req/s, p50 {result['p50_ms']:.2f} ms, "
        f"p99 {result['p99_ms']:.2f} ms, non-2xx {non2xx}, socket errors "
        f"{result['socket_errors']}" + (f", RSS peak {result.get('rss_peak_mib')}" if pids else ""))
    return result


GYM_SQL = (
    "SELECT g.id, g.name, g.name_folded, g.slug, g.address, g.city, g.state, g.country, "
    "g.latitude, g.longitude, g.phone, g.email, g.website, g.description, "
    "g.boulder_grade_system, g.rope_grade_system, g.created_at, g.updated_at, "
    "ARRAY(SELECT m.user_id FROM gym_managers m WHERE m.gym_id = g.id "
    "ORDER BY m.created_at, m.user_id) AS managers FROM gyms g WHERE g.id = '{id}';\n")


def pgbench(gym_ids, conc, threads):
    """The gyms service's own SELECT of `GET /gyms/{id}` (services/gyms/src/store.rs,
    get_gym), run by pgbench with the same connection count and threads as wrk: one
    script per gym (random pick, equal weights), prepared statements like sqlx."""
    folder = CACHE / "pgbench"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    args = []
    for i, gym in enumerate(gym_ids):
        script = folder / f"gym_{i:02d}.sql"
        script.write_text(GYM_SQL.format(id=gym))
        args += ["-f", f"{script.relative_to(ROOT)}@1"]
    def command(seconds, with_log):
        logging = ["-l", "--log-prefix", str((folder / "log").relative_to(ROOT))] if with_log else []
        return (["pgbench", "-h", PG["host"], "-p", str(PG["port"]), "-U", PG["user"], "-n",
                 "-M", "prepared", "-c", str(conc), "-j", str(threads), "-T", str(seconds)]
                + logging + args + [f"{DB_PREFIX}_gyms"])

    subprocess.run(command(WARMUP, False), cwd=ROOT, check=True, capture_output=True)
    cmd = command(DURATION, True)
    with CpuMeter({}) as cpu:
        out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    tps = float(re.search(r"tps = ([\d.]+) \(without initial", out.stdout).group(1))
    failed = int(re.search(r"number of failed transactions: (\d+)", out.stdout).group(1))
    latencies = []
    for logfile in folder.glob("log*"):
        for line in logfile.read_text().splitlines():
            latencies.append(int(line.split()[2]) / 1000)
    shown = " ".join(cmd[:cmd.index("-l") + 3]) + \
        f" -f .cache/bench/pgbench/gym_NN.sql@1 (x{len(gym_ids)}) {DB_PREFIX}_gyms"
    result = {"label": "pgbench: the same SELECT", "conc": conc, "threads": threads,
              "rps": round(tps, 1), "p50_ms": round(percentile(latencies, 50), 3),
              "p99_ms": round(percentile(latencies, 99), 3), "failed": failed,
              "requests": len(latencies), "command": shown,
              "cpu_s": {"servers": {}, "postgres": round(cpu.postgres, 2),
                        "client": round(cpu.client, 2)}}
    log(f"  pgbench: {tps:.0f} tps, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")
    return result


def pids_from_file() -> dict[str, int]:
    return {k: int(v) for k, v in json.loads((CACHE / "pids.json").read_text()).items()}


def tokens_for(state, gw):
    users = {u["id"]: u for u in state["users"]}
    active = [users[a["user"]] for a in state["active"]]

    def one(user):
        return user["id"], login(gw, user["username"])

    tokens = dict(pool_map(one, active, 2))
    tokens["heavy"] = login(gw, state["heavy"]["username"])
    return tokens


def request_sets(state, tokens):
    rng = random.Random(7)
    gyms = state["gyms"]
    users = state["users"]
    active_tokens = [tokens[a["user"]] for a in state["active"]]
    sets = {}
    sets["gym_anon"] = [("GET", f"/api/v1/gyms/{g['id']}", None, None) for g in gyms]
    sets["gym_token"] = [("GET", f"/api/v1/gyms/{g['id']}", rng.choice(active_tokens), None)
                         for g in gyms]
    sets["routes"] = [("GET", f"/api/v1/gyms/{g['id']}/routes", None, None) for g in gyms]
    sets["user"] = [("GET", f"/api/v1/users/{rng.choice(users)['id']}",
                     rng.choice(active_tokens), None) for _ in range(500)]
    sets["overview"] = [("GET", "/api/v1/users/me/overview", t, None) for t in active_tokens]
    sets["overview_other"] = [("GET", f"/api/v1/users/{a['user']}/overview",
                               rng.choice(active_tokens), None) for a in state["active"]]
    posts = []
    gym_routes = {g["id"]: g["routes"] for g in gyms}
    for a in state["active"]:
        for s in a["sessions"]:
            for _ in range(10):
                body = json.dumps({"route_id": rng.choice(gym_routes[s["gym"]]),
                                   "attempt_type": rng.choice(["flash", "redpoint", "attempt"])})
                posts.append(("POST", f"/api/v1/sessions/{s['id']}/climbs", tokens[a["user"]],
                              body))
    sets["post_climb"] = posts
    sets["stats_heavy"] = [("GET", "/api/v1/users/me/stats", tokens["heavy"], None)]
    sets["stats_heavy_rope"] = [("GET", "/api/v1/users/me/stats?discipline=rope&grade_system=french",
                                 tokens["heavy"], None)]
    sets["login"] = [("POST", "/api/v1/auth/login", None,
                      json.dumps({"login": u["username"], "password": PASSWORD}))
                     for u in users[:200]]
    sets["stats_small"] = [("GET", "/api/v1/users/me/stats", t, None) for t in active_tokens]
    # The 200-connection mix: what an app's users do, reads mostly.
    mixed = (sets["gym_token"] * 6 + sets["routes"] * 4 + sets["user"][:100] * 2
             + sets["overview"] * 6 + sets["stats_small"] * 2 + rng.sample(posts, 300))
    sets["mixed"] = mixed
    return {name: write_requests(name, lines) for name, lines in sets.items()}


def measure_up():
    state = load(STATE)
    gw = Api(GATEWAY)
    pids = pids_from_file()
    up = pids["clmb up"]
    runs = {}
    rss = {"idle_mib": round(RssSampler.rss_kib(up) / 1024, 1),
           "hwm_after_seed_mib": round(hwm_kib(up) / 1024, 1)}
    log(f"clmb up RSS idle {rss['idle_mib']} MiB (peak so far {rss['hwm_after_seed_mib']} MiB)")

    tokens = tokens_for(state, gw)
    files = request_sets(state, tokens)
    rss["after_logins_mib"] = round(RssSampler.rss_kib(up) / 1024, 1)

    # Statistics straight after the heavy climber's imports (no VACUUM yet: the
    # visibility map is not set, index-only scans visit the heap).
    log("stats of the 100,000-climb climber, fresh after import")
    runs["stats_c1_fresh"] = wrk("GET /users/me/stats (100k climbs, before VACUUM)", GATEWAY,
                                 files["stats_heavy"], 1, threads=1)
    log("VACUUM ANALYZE on every bench database")
    for db in ("users", "gyms", "sessions"):
        psql(f"{DB_PREFIX}_{db}", "VACUUM ANALYZE")

    log("stats of the 100,000-climb climber")
    runs["stats_c1"] = wrk("GET /users/me/stats (100k climbs)", GATEWAY, files["stats_heavy"],
                           1, threads=1)
    runs["stats_rope_c1"] = wrk("GET /users/me/stats?discipline=rope&grade_system=french "
                                "(100k climbs)", GATEWAY, files["stats_heavy_rope"], 1, threads=1)
    runs["stats_c32"] = wrk("GET /users/me/stats (100k climbs)", GATEWAY, files["stats_heavy"],
                            CONC)

    log("gateway vs service, one connection (added latency)")
    runs["gym_gw_c1"] = wrk("GET /gyms/{id} via gateway", GATEWAY, files["gym_anon"], 1, threads=1)
    runs["gym_direct_c1"] = wrk("GET /gyms/{id} direct (gyms)", GYMS, files["gym_anon"], 1,
                                threads=1)
    runs["gym_gw_token_c1"] = wrk("GET /gyms/{id} via gateway, with token", GATEWAY,
                                  files["gym_token"], 1, threads=1)
    # One connection: latency without queueing, where a composed read shows whether its
    # service calls really run at once.
    runs["user_c1"] = wrk("GET /users/{id} via gateway", GATEWAY, files["user"], 1, threads=1)
    runs["overview_c1"] = wrk("GET /users/me/overview via gateway", GATEWAY, files["overview"],
                              1, threads=1)

    log(f"reads and writes at concurrency {CONC}")
    runs["gym_gw"] = wrk("GET /gyms/{id} via gateway", GATEWAY, files["gym_anon"], CONC,
                         pids={"clmb up": up})
    runs["gym_direct"] = wrk("GET /gyms/{id} direct (gyms)", GYMS, files["gym_anon"], CONC,
                             pids={"clmb up": up})
    runs["pgbench"] = pgbench([g["id"] for g in state["gyms"]], CONC, THREADS)
    runs["routes"] = wrk("GET /gyms/{id}/routes via gateway", GATEWAY, files["routes"], CONC)
    runs["user"] = wrk("GET /users/{id} via gateway", GATEWAY, files["user"], CONC)
    runs["overview"] = wrk("GET /users/me/overview via gateway", GATEWAY, files["overview"], CONC)
    runs["overview_other"] = wrk("GET /users/{other}/overview via gateway", GATEWAY,
                                 files["overview_other"], CONC)
    runs["post_climb"] = wrk("POST /sessions/{id}/climbs via gateway", GATEWAY,
                             files["post_climb"], CONC)

    log("10,000-row imports at concurrency 2 (other climbers)")
    runs["import_c2"] = imports_c2(state, gw)

    log(f"mixed load at {HIGH_CONC} connections, RSS sampled")
    runs["mixed_c200"] = wrk(f"mixed load, {HIGH_CONC} connections", GATEWAY, files["mixed"],
                             HIGH_CONC, duration=DURATION * 2, pids={"clmb up": up})
    runs["gym_gw_c200"] = wrk(f"GET /gyms/{{id}} via gateway, {HIGH_CONC} connections", GATEWAY,
                              files["gym_token"], HIGH_CONC, pids={"clmb up": up})
    runs["overview_c200"] = wrk(f"GET /users/me/overview, {HIGH_CONC} connections", GATEWAY,
                                files["overview"], HIGH_CONC, pids={"clmb up": up})
    rss["load_peak_mib"] = max(runs[k]["rss_peak_mib"]["clmb up"]
                               for k in ("mixed_c200", "gym_gw_c200", "overview_c200"))
    # Sign-ins last: each is an Argon2id hash with 19 MiB of memory.
    runs["login_c8"] = wrk("POST /auth/login (Argon2id), 8 connections", GATEWAY,
                           files["login"], 8, pids={"clmb up": up})
    rss["login_peak_mib"] = runs["login_c8"]["rss_peak_mib"]["clmb up"]
    rss["hwm_end_mib"] = round(hwm_kib(up) / 1024, 1)
    rss["after_load_mib"] = round(RssSampler.rss_kib(up) / 1024, 1)
    runs["rss"] = rss
    runs["counts_after"] = counts()
    results = load(RESULTS, {})
    results["measured"] = {
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip(),
        "at": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M}",
    }
    results["up"] = runs
    save(RESULTS, results)
    # Keep the tokens for the split phase (valid 15 minutes).
    save(CACHE / "tokens.json", tokens)


def imports_c2(state, gw):
    users = state["users"][100:100 + IMPORT_C2_FILES]
    bodies = []
    for k, user in enumerate(users):
        bodies.append((login(gw, user["username"]),
                       mp_csv(random.Random(5000 + k), ROWS_PER_FILE, dt.date(2016, 1, 1),
                              dt.date(2023, 12, 31), 700, f"c2{k}")))

    def one(item):
        token, body = item
        _, report, elapsed = gw.call("POST", "/api/v1/imports/mountain-project", body,
                                     token=token, expect=201)
        assert report["climbs_created"] == ROWS_PER_FILE
        return elapsed * 1000

    start = time.perf_counter()
    ms = pool_map(one, bodies, 2)
    result = summarize(ms, time.perf_counter() - start)
    # The same file again: every row is a duplicate, nothing is written.
    _, report, elapsed = gw.call("POST", "/api/v1/imports/mountain-project", bodies[0][1],
                                 token=bodies[0][0], expect=201)
    assert report["climbs_created"] == 0
    result["reimport_ms"] = round(elapsed * 1000, 1)
    log(f"  import c=2: {result}")
    return result


def measure_split():
    """One process per component, as in a cluster: RSS of each, idle and under load."""
    state = load(STATE)
    pids = pids_from_file()
    gw = Api(GATEWAY)
    runs = {"idle_mib": {n: round(RssSampler.rss_kib(p) / 1024, 1) for n, p in pids.items()}}
    log(f"split RSS idle {runs['idle_mib']}")
    # The same sign-ins as the one-process run, so the figures compare.
    tokens = tokens_for(state, gw)
    files = request_sets(state, tokens)
    runs["gym_gw_c1"] = wrk("GET /gyms/{id} via gateway process", GATEWAY, files["gym_anon"], 1,
                            threads=1)
    runs["gym_direct_c1"] = wrk("GET /gyms/{id} direct (gyms process)", GYMS, files["gym_anon"],
                                1, threads=1)
    runs["gym_gw"] = wrk("GET /gyms/{id} via gateway process", GATEWAY, files["gym_anon"], CONC)
    runs["overview"] = wrk("GET /users/me/overview via gateway process", GATEWAY,
                           files["overview"], CONC)
    runs["mixed_c200"] = wrk(f"mixed load, {HIGH_CONC} connections (split)", GATEWAY,
                             files["mixed"], HIGH_CONC, duration=DURATION * 2, pids=pids)
    runs["overview_c200"] = wrk(f"GET /users/me/overview, {HIGH_CONC} connections (split)",
                                GATEWAY, files["overview"], HIGH_CONC, pids=pids)
    peaks = {}
    for key in ("mixed_c200", "overview_c200"):
        for name, mib in runs[key]["rss_peak_mib"].items():
            peaks[name] = max(peaks.get(name, 0), mib)
    runs["load_peak_mib"] = peaks
    runs["login_c8"] = wrk("POST /auth/login (Argon2id), 8 connections (split)", GATEWAY,
                           files["login"], 8, pids=pids)
    runs["login_peak_mib"] = runs["login_c8"]["rss_peak_mib"]
    runs["hwm_mib"] = {n: round(hwm_kib(p) / 1024, 1) for n, p in pids.items()}
    results = load(RESULTS, {})
    results["split"] = runs
    save(RESULTS, results)


# ---------------------------------------------------------------------------------
# Report


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    pg = psql("postgres", "SHOW server_version")
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(int(mem) / 1024 / 1024, 1),
            "kernel": platform.release(), "postgres": pg,
            "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0],
            "python": platform.python_version()}


def fmt(value, digits=2):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def misses_explained(up):
    """Why the targets that depend on the machine's two cores are missed, when they are."""
    notes = []
    gym, pg = up.get("gym_direct"), up.get("pgbench")
    if gym and pg and gym["rps"] < pg["rps"] / 2 and "cpu_s" in gym:
        per = 1e6 / gym["requests"]
        clmb = sum(gym["cpu_s"]["servers"].values()) * per
        postgres = gym["cpu_s"]["postgres"] * per
        total = clmb + postgres + gym["cpu_s"]["client"] * per
        pg_per = 1e6 / pg["requests"] if pg.get("requests") else 0
        pg_postgres = pg.get("cpu_s", {}).get("postgres", 0) * pg_per
        notes.append(
            f"- Read by id against pgbench: both runs saturate the two cores, so throughput is "
            f"set by CPU per request (table below). The service path costs {total:.0f} µs a "
            f"request, which caps it near {2e6 / total:.0f} req/s: {clmb:.0f} µs in clmb "
            f"(HTTP, routing, middleware, sqlx, JSON) that pgbench does not have, and "
            f"{postgres:.0f} µs in PostgreSQL against pgbench's {pg_postgres:.0f} µs for the "
            "same SELECT. The load generators cost about the same. Half of pgbench's rate "
            "would need the whole HTTP path in well under 50 µs a request.")
    ov, user = up.get("overview"), up.get("user")
    if ov and user and ov["p99_ms"] >= 3 * user["p99_ms"]:
        notes.append(
            f"- Overview at {CONC} connections: an overview is four service calls and four "
            "queries where a read by id is one of each; with the cores saturated, latency "
            "grows with the work a request does, not with how its calls are scheduled. The "
            "one-connection row shows the calls run at once.")
    return (["How to read the misses:", ""] + notes + [""]) if notes else []


def cpu_section(up):
    """Where the CPU of a read by id goes: the service, PostgreSQL and the load generator
    share the machine's cores, so CPU per request bounds throughput."""
    rows = []
    for key in ("gym_direct", "gym_gw", "pgbench"):
        run = up.get(key)
        if not run or "cpu_s" not in run or not run.get("requests"):
            continue
        cpu = run["cpu_s"]
        per = 1e6 / run["requests"]
        server = sum(cpu["servers"].values()) * per
        pg = cpu["postgres"] * per
        client = cpu["client"] * per
        total = server + pg + client
        rows.append(f"| {run['label']} | {run['rps']:.0f} | {server:.0f} | {pg:.0f} | "
                    f"{client:.0f} | {total:.0f} |")
    if not rows:
        return []
    return [
        "## Where the CPU of a read by id goes",
        "",
        f"CPU time per request in microseconds at {CONC} connections, from /proc: `clmb up` "
        "(all components), every PostgreSQL process (exited backends included) and the load "
        "generator (wrk or pgbench). The three share the machine's cores, so their sum per "
        "request caps throughput at about cores x 1,000,000 / sum.",
        "",
        "| run | req/s | clmb µs | PostgreSQL µs | load generator µs | sum µs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ] + rows + [""]


def report():
    r = load(RESULTS)
    up, split, seed_r = r.get("up", {}), r.get("split", {}), r.get("seed", {})
    measured = r.get("measured", {})
    info = machine()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    lines = [
        "# clmb benchmarks",
        "",
        "Latency, throughput and memory of the whole stack under load, written by "
        "`bench/run.sh` (about 10 minutes on 2 cores; the commands it ran are listed at the "
        "end). The operator's convergence benchmark (200 ClmbStacks against a mocked API "
        "server) has its own figures in [operator/bench/RESULTS.md](operator/bench/RESULTS.md).",
        "",
        f"Measured by `bench/run.sh` on {measured.get('at', '?')} UTC at commit "
        f"`{measured.get('commit', '?')}`; this report written at commit `{commit}`"
        f"{' (working tree had uncommitted changes)' if dirty else ''}.",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['mem_gib']} GiB RAM, Linux "
        f"{info['kernel']}, PostgreSQL {info['postgres']}, {info['wrk']}. The load generator "
        "and PostgreSQL share the same cores as clmb.",
        "",
    ]
    counts = seed_r.get("counts", {})
    t = seed_r.get("timings", {})
    if counts:
        lines += [
            "## Data",
            "",
            f"Seeded through the API (gateway, rate limits off): {counts['users']} users "
            f"(registered, Argon2id), {counts['gyms']} gyms, {counts['routes']} routes, "
            f"{counts['sessions']} sessions, {counts['climbs']} climbs — 1,000 climbers x 100 "
            "climbs from Mountain Project CSV imports, 50 active climbers' gym sessions "
            "(1,500 climbs logged one by one), and one climber with 100,000 climbs (ten "
            "10,000-row imports). After the run: "
            + ", ".join(f"{v} {k}" for k, v in up.get("counts_after", {}).items()) + ".",
            "",
            f"Seeding: registration {t['register']['per_s']} users/s (p50 "
            f"{t['register']['p50_ms']} ms at concurrency 4); 100-row imports p50 "
            f"{t['import_100_rows']['p50_ms']} ms at concurrency 4.",
            "",
        ]

    def row(run, name=None):
        if not run:
            return f"| {name} | – | – | – | – | – |"
        errs = f"{run.get('non2xx', 0)} / {run.get('socket_errors', run.get('failed', 0))}"
        return (f"| {name or run['label']} | {run['conc']} | {fmt(run['p50_ms'])} | "
                f"{fmt(run['p99_ms'])} | {fmt(run['rps'], 0)} | {errs} |")

    lines += [
        "## Figures (`clmb up`, one process)",
        "",
        f"wrk, {THREADS} threads (1 at concurrency 1), {DURATION} s per run after a {WARMUP} s "
        "warm-up; latencies in ms; errors = non-2xx responses / socket errors (connect, read, "
        "write, timeout).",
        "",
        "| request | connections | p50 ms | p99 ms | req/s | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key in ("gym_gw", "gym_direct", "pgbench", "routes", "user", "post_climb", "overview",
                "overview_other", "stats_c1_fresh", "stats_c1", "stats_rope_c1", "stats_c32",
                "gym_gw_c1", "gym_direct_c1", "gym_gw_token_c1", "user_c1", "overview_c1",
                "mixed_c200", "gym_gw_c200",
                "overview_c200", "login_c8"):
        if key in up:
            lines.append(row(up[key]))
    imp1 = t.get("import_10k_c1")
    imp2 = up.get("import_c2")
    if imp1:
        lines.append(f"| POST /imports/mountain-project, 10,000 rows ({imp1['file_kib']} KiB), "
                     f"n={imp1['n']} | 1 | {fmt(imp1['p50_ms'], 0)} | {fmt(imp1['p99_ms'], 0)} | "
                     f"{imp1['per_s']} imports/s ({int(imp1['per_s'] * ROWS_PER_FILE)} rows/s) | 0 / 0 |")
    if imp2:
        lines.append(f"| POST /imports/mountain-project, 10,000 rows, n={imp2['n']} | 2 | "
                     f"{fmt(imp2['p50_ms'], 0)} | {fmt(imp2['p99_ms'], 0)} | {imp2['per_s']} "
                     f"imports/s ({int(imp2['per_s'] * ROWS_PER_FILE)} rows/s) | 0 / 0 |")
        lines.append(f"| the same 10,000-row file again (all duplicates) | 1 | "
                     f"{imp2['reimport_ms']} | – | – | 0 / 0 |")
    lines.append("")
    if imp1 and "each_ms" in imp1:
        lines += [f"The heavy climber's ten imports, in order (ms): "
                  f"{', '.join(str(x) for x in imp1['each_ms'])}."]
        for f in imp1.get("failures", []):
            lines.append(f"Import {f['import']} failed with {f['status']} after {f['ms']} ms; "
                         f"after `ANALYZE climbs` the same file took {f['retry_ms']} ms.")
        lines.append("")
    slow = CACHE / "slow-plans.log"
    if slow.exists() and slow.stat().st_size:
        text = slow.read_text()
        n = len(re.findall(r"duration: [\d.]+ ms\s+plan:", text))
        lines += [f"auto_explain logged {n} statements of the sessions database slower than "
                  "1 s during this run (plans in `.cache/bench/slow-plans.log`). The first:", "",
                  "```", *text.splitlines()[:24], "```", ""]

    # Targets.
    checks = []

    def check(name, ok, detail):
        checks.append(f"| {name} | {'met' if ok else '**missed**'} | {detail} |")

    if "stats_c1" in up:
        s = up["stats_c1"]
        check("stats, 100,000 climbs: p50 < 50 ms", s["p50_ms"] < 50,
              f"{fmt(s['p50_ms'])} ms (before VACUUM: {fmt(up['stats_c1_fresh']['p50_ms'])} ms; "
              f"rope/french: {fmt(up['stats_rope_c1']['p50_ms'])} ms)")
    if imp1:
        check("10,000-row import < 2 s", imp1["p50_ms"] < 2000 and not imp1.get("failures"),
              f"p50 {fmt(imp1['p50_ms'], 0)} ms, max {fmt(imp1['max_ms'], 0)} ms at concurrency 1"
              + (f"; p50 {fmt(imp2['p50_ms'], 0)} ms at concurrency 2" if imp2 else ""))
    if "gym_gw_c1" in up:
        added = up["gym_gw_c1"]["p50_ms"] - up["gym_direct_c1"]["p50_ms"]
        added32 = up["gym_gw"]["p50_ms"] - up["gym_direct"]["p50_ms"]
        text = (f"+{added:.3f} ms at 1 connection ({fmt(up['gym_gw_c1']['p50_ms'], 3)} vs "
                f"{fmt(up['gym_direct_c1']['p50_ms'], 3)}); +{added32:.2f} ms at {CONC}")
        if "gym_gw_c1" in split:
            added_s = split["gym_gw_c1"]["p50_ms"] - split["gym_direct_c1"]["p50_ms"]
            text += f"; +{added_s:.3f} ms with separate processes"
        check("gateway adds < 1 ms at p50", added < 1, text)
    if "pgbench" in up:
        ratio = up["gym_direct"]["rps"] / up["pgbench"]["rps"]
        ratio_gw = up["gym_gw"]["rps"] / up["pgbench"]["rps"]
        check("read by id >= 1/2 of pgbench", ratio >= 0.5,
              f"{ratio:.2f} straight from gyms ({fmt(up['gym_direct']['rps'], 0)} vs "
              f"{fmt(up['pgbench']['rps'], 0)} tps); {ratio_gw:.2f} through the gateway")
    if "overview_c1" in up:
        o, g, u = up["overview_c1"]["p99_ms"], up["gym_gw_c1"]["p99_ms"], up["user_c1"]["p99_ms"]
        check("overview p99 < 3x a single read's p99, 1 connection", o < 3 * u,
              f"{fmt(o)} ms vs GET /users/{{id}} {fmt(u)} ms ({o / u:.1f}x) and GET /gyms/{{id}} "
              f"{fmt(g)} ms ({o / g:.1f}x)")
    if "overview" in up:
        o, g, u = up["overview"]["p99_ms"], up["gym_gw"]["p99_ms"], up["user"]["p99_ms"]
        check(f"overview p99 < 3x a single read's p99, {CONC} connections", o < 3 * u,
              f"{fmt(o)} ms vs GET /users/{{id}} {fmt(u)} ms ({o / u:.1f}x) and GET /gyms/{{id}} "
              f"{fmt(g)} ms ({o / g:.1f}x)")
    high = [up.get(k) for k in ("mixed_c200", "gym_gw_c200", "overview_c200")] + \
        [split.get(k) for k in ("mixed_c200", "overview_c200")]
    high = [h for h in high if h]
    if high:
        bad = sum(h["non2xx"] + h["socket_errors"] for h in high)
        check(f"no errors at {HIGH_CONC} connections", bad == 0,
              "; ".join(f"{h['label']}: {h['non2xx']} non-2xx, {h['socket_errors']} socket"
                        for h in high))
    if "rss" in up:
        peak = up["rss"]["load_peak_mib"]
        text = f"`clmb up` (all four in one process): {peak} MiB under load"
        ok = peak < 64
        if "load_peak_mib" in split:
            text += "; separate: " + ", ".join(f"{n} {m} MiB" for n, m in
                                              split["load_peak_mib"].items())
            ok = all(m < 64 for m in split["load_peak_mib"].values())
            text += f" (each process judged; the single `clmb up` process {'is' if peak < 64 else 'is not'} under 64 MiB)"
        check("every component < 64 MiB RSS under load", ok, text)
    lines += ["## Targets", "", "| target | result | figures |", "| --- | --- | --- |"] + checks
    lines.append("")
    lines += misses_explained(up)
    lines += cpu_section(up)

    if "rss" in up:
        rss = up["rss"]
        lines += [
            "## Resident memory",
            "",
            "Idle: after start (split) or after seeding (`clmb up`); under load: the peak "
            f"during the {HIGH_CONC}-connection runs (reads, overviews, climbs logged; no "
            "sign-ins); sign-ins: the peak during `POST /auth/login` at 8 connections, run "
            "last; VmHWM: the kernel's peak since the process started.",
            "",
            "| process | idle MiB | under load MiB | during sign-ins MiB | VmHWM MiB |",
            "| --- | ---: | ---: | ---: | ---: |",
            f"| `clmb up` (gateway + users + gyms + sessions) | {rss['idle_mib']} | "
            f"{rss['load_peak_mib']} | {rss.get('login_peak_mib', '–')} | {rss['hwm_end_mib']} "
            f"(after seeding: {rss['hwm_after_seed_mib']}) |",
        ]
        for name, idle in split.get("idle_mib", {}).items():
            lines.append(f"| `clmb {name}` | {idle} | {split['load_peak_mib'].get(name)} | "
                         f"{split.get('login_peak_mib', {}).get(name, '–')} | "
                         f"{split['hwm_mib'].get(name)} |")
        lines.append("")
    if split:
        lines += [
            "## One process per component (`clmb gateway|users|gyms|sessions`)",
            "",
            "| request | connections | p50 ms | p99 ms | req/s | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for key in ("gym_gw_c1", "gym_direct_c1", "gym_gw", "overview", "mixed_c200",
                    "overview_c200", "login_c8"):
            if key in split:
                lines.append(row(split[key]))
        lines.append("")
    lines += ["## Commands", "", "```sh"]
    lines.append("bench/run.sh   # everything below, in this order")
    seen = set()
    for key, run in list(up.items()) + list(split.items()):
        if isinstance(run, dict) and "command" in run and run["command"] not in seen:
            seen.add(run["command"])
            lines.append(f"{run['command']}   # {run['label']}")
    lines += ["```", ""]
    loads = [(run["label"], run["loadavg_before"]) for run in up.values()
             if isinstance(run, dict) and "loadavg_before" in run]
    if loads:
        worst = max(loads, key=lambda x: x[1])
        lines.append(f"1-minute load average before the runs: {min(l for _, l in loads):.2f} to "
                     f"{worst[1]:.2f} (highest before \"{worst[0]}\"); other work on the machine "
                     "shows up as noise in these figures.")
        lines.append("")
    out = ROOT / "BENCHMARKS.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    save(ROOT / "bench" / "results" / "latest.json", {**r, "machine": info})
    log(f"wrote {out.relative_to(ROOT)}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    command = sys.argv[1]
    if command == "seed":
        seed()
    elif command == "measure" and sys.argv[2:] == ["up"]:
        measure_up()
    elif command == "measure" and sys.argv[2:] == ["split"]:
        measure_split()
    elif command == "report":
        report()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
