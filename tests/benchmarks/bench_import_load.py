"""Load benchmark: the home page's latency while researchers upload packed .xlsx files (zip bombs) to the import.

    .venv/bin/python tests/benchmarks/bench_import_load.py [--workers 4] [--imports 8] [--unpacked-mb 78] [--seconds 20]

Builds an .xlsx whose sheet is a header and then rows of repeated whitespace strings, packed about 400:1, seeds a
scratch SQLite database with the demo data, starts gunicorn with 4 workers on 127.0.0.1, and measures GET / from two
clients, first alone and then while 8 clients (each logged in as a demo researcher through the login form) post the
file to /imports/achievements all at once, again every 5 seconds. Prints p50/p99 of GET / for both phases, the import answers and their
p50/p99, and the file's packed and unpacked sizes. Bounded in time; 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password"
RESEARCHER = "researcher@demo.jinchuang.example"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


def packed_sheet(unpacked_bytes: int, headers: list[str]) -> bytes:
    """An .xlsx of one sheet: the import headers, then rows of 18 whitespace-only cells up to ~unpacked_bytes."""
    strings = ["\u3000 "] + headers
    shared = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="{len(strings)}" '
              f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{text}</t></si>" for text in strings) + "</sst>")
    header = "<row>" + "".join(f'<c t="s"><v>{index + 1}</v></c>' for index in range(len(headers))) + "</row>"
    blank_row = "<row>" + '<c t="s"><v>0</v></c>' * len(headers) + "</row>"
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>{header}'
    tail = "</sheetData></worksheet>"
    rows = max(1, (unpacked_bytes - len(head) - len(tail)) // len(blank_row))
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main'
            '+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
            '<sheet name="成果" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
            f'Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
        "xl/sharedStrings.xml": shared,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head.encode())
            chunk = (blank_row * 1000).encode()
            for _ in range(rows // 1000):
                sheet.write(chunk)
            sheet.write((blank_row * (rows % 1000)).encode())
            sheet.write(tail.encode())
    return buffer.getvalue()


def unpacked_size(data: bytes) -> int:
    """Total declared size of the parts of a zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(info.file_size for info in archive.infolist())


def seed(database_url: str, password: str = PASSWORD) -> None:
    """Migrate and load the reference and demo data (demo users get the password)."""
    from flask_migrate import upgrade

    from market import create_app
    from market.extensions import db
    from market.seeding import load_demo_data, load_reference_data

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "PASSWORD_HASH_PROFILE": "fast"})
    with app.app_context():
        upgrade()
        load_reference_data(db.session)
        load_demo_data(db.session, password, password_profile="fast")
        db.session.commit()  # outside a request or command nothing else commits
        db.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict, port: int, log: Path) -> subprocess.Popen:
    with open(log, "wb") as stderr:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"server on port {port} did not start: {log.read_text(errors='replace')[-2000:]}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Researcher:
    """A browser logged in as the demo researcher through the login form."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(), _NoRedirect())
        page = self.get("/login")[1]
        status = self.post("/login", urllib.parse.urlencode({
            "csrf_token": self.token(page), "email": RESEARCHER, "password": PASSWORD, "next": ""}).encode(),
            "application/x-www-form-urlencoded")[0]
        if status != 302:
            raise SystemExit(f"login answered {status}")

    @staticmethod
    def token(page: str) -> str:
        return CSRF.search(page).group(1)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=120) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def post(self, path: str, body: bytes, content_type: str) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, data=body, headers={"Content-Type": content_type})
        try:
            with self.opener.open(request, timeout=120) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def upload(self, filename: str, data: bytes) -> tuple[int, str]:
        """GET the import page for its token, then POST the file as the form does."""
        token = self.token(self.get("/imports/achievements")[1])
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                f'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n').encode()
        body += data + f"\r\n--{boundary}--\r\n".encode()
        return self.post("/imports/achievements", body, f"multipart/form-data; boundary={boundary}")


def timed_upload(researcher: Researcher, data: bytes) -> float:
    began = time.perf_counter()
    researcher.upload("bomb.xlsx", data)
    return time.perf_counter() - began


def percentiles(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    if not ordered:
        return {"count": 0}
    return {"count": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def measure_home(base: str, seconds: float, clients: int = 2) -> tuple[list[float], int]:
    """GET / from `clients` threads for `seconds`; latencies and the count of non-200 answers."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def work():
        nonlocal errors
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                with urllib.request.urlopen(base + "/", timeout=120) as answer:
                    answer.read()
                    ok = answer.status == 200
            except OSError:
                ok = False
            with lock:
                latencies.append(time.perf_counter() - began)
                errors += not ok
            time.sleep(0.05)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--imports", type=int, default=8, help="clients posting the file at once")
    parser.add_argument("--unpacked-mb", type=float, default=78)
    parser.add_argument("--seconds", type=float, default=20, help="length of each measuring phase")
    parser.add_argument("--interval", type=float, default=5, help="seconds between two rounds of concurrent uploads")
    args = parser.parse_args()

    from market.imports.services import COLUMNS

    data = packed_sheet(int(args.unpacked_mb * 1024 * 1024), [column.header for column in COLUMNS])
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    database_url = f"sqlite:///{folder / 'bench.db'}"
    print(f"file: {len(data) / 1024:.0f} KB packed, {unpacked_size(data) / 1024 / 1024:.1f} MB unpacked; "
          f"seeding {database_url}", file=sys.stderr)
    seed(database_url)
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="bench", MARKET_DEMO_MODE="1",
               MATCH_INDEX_PATH=str(folder / "index"), UPLOAD_FOLDER=str(folder / "uploads"))
    env.pop("REDIS_URL", None)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = start([gunicorn, "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--timeout", "120",
                    "market:create_app()"], env, port, folder / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    try:
        measure_home(base, 3)  # warm every worker
        quiet, quiet_errors = measure_home(base, args.seconds)
        researchers = [Researcher(base) for _ in range(args.imports)]
        cold = []  # one round first, so each worker has compiled the import page's templates before the clock starts
        warm_threads = [threading.Thread(target=lambda r=r: cold.append(timed_upload(r, data))) for r in researchers]
        for thread in warm_threads:
            thread.start()
        for thread in warm_threads:
            thread.join()
        stop = threading.Event()
        import_latencies: list[float] = []
        answers: dict[str, int] = {}
        lock = threading.Lock()

        def upload_again_and_again(researcher: Researcher):
            """All clients post at the same moments, every --interval seconds (an attack at a fixed rate)."""
            next_round = phase_start
            while not stop.is_set():
                stop.wait(max(0.0, next_round - time.monotonic()))
                if stop.is_set():
                    return
                next_round += args.interval
                began = time.perf_counter()
                status, page = researcher.upload("bomb.xlsx", data)
                refused = "解压后" in page or "超过" in page
                with lock:
                    import_latencies.append(time.perf_counter() - began)
                    key = f"{status}{' refused with the size/row message' if refused else ''}"
                    answers[key] = answers.get(key, 0) + 1

        phase_start = time.monotonic() + 0.5
        uploaders = [threading.Thread(target=upload_again_and_again, args=(r,)) for r in researchers]
        for thread in uploaders:
            thread.start()
        time.sleep(max(0.0, phase_start - time.monotonic()))
        busy, busy_errors = measure_home(base, args.seconds)
        stop.set()
        for thread in uploaders:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    results = {
        "file_kb": round(len(data) / 1024), "unpacked_mb": round(unpacked_size(data) / 1024 / 1024, 1),
        "workers": args.workers, "concurrent_imports": args.imports, "interval_s": args.interval,
        "GET / alone": {**percentiles(quiet), "errors": quiet_errors},
        "GET / during imports": {**percentiles(busy), "errors": busy_errors},
        "imports": {**percentiles(import_latencies), "answers": answers},
        "first round of imports (cold workers, not in the figures above)": percentiles(cold),
    }
    for name in ("GET / alone", "GET / during imports", "imports"):
        figures = results[name]
        print(f"{name:22s} n={figures['count']:4d}  p50 {figures.get('p50_ms', 0):8.1f} ms  "
              f"p99 {figures.get('p99_ms', 0):8.1f} ms  max {figures.get('max_ms', 0):8.1f} ms")
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
