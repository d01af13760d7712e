"""Memory under concurrent large uploads: a real `plait serve` process, 16 uploads of a
60-megapixel PNG at once (issue: hardening, finding 1).

The server runs as its own process (as in production) with its default image budget
(PLAIT_IMAGE_MEMORY_MB=512); a thread samples its resident memory from /proc every 20 ms.

1. Baseline, in the same run: the server's RSS at rest, and its peak during one upload.
2. Load: N uploads (16) sent at once. Printed: every answer's status, the peak RSS, its
   growth over the baseline's ÷ one upload's growth (1.0: N at once cost what one does),
   and the RSS a few seconds after the last answer ÷ the RSS at rest.

The target: peak under 1.5 GB, every call answered 201, RSS back near its start.
Not a test (tests/integration/api/test_image_memory.py is): figures are printed and
returned by `main`, nothing is asserted.

    .venv/bin/python benchmarks/image_memory.py [--uploads 16] [--megapixels 60]
"""

from __future__ import annotations

import argparse
import io
import math
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
from PIL import Image

EMAIL, PASSWORD = "bench@example.com", "benchmark password"


def picture(megapixels: float) -> bytes:
    """A PNG of that many pixels that compresses well (a gradient): small to send, large
    to decode."""
    side = math.isqrt(int(megapixels * 1_000_000))
    gray = Image.linear_gradient("L").resize((side, side))
    out = io.BytesIO()
    Image.merge("RGB", (gray, gray.transpose(Image.Transpose.ROTATE_90), gray)).save(
        out, "PNG", compress_level=1
    )
    return out.getvalue()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Sampler:
    """The highest RSS of `pid` seen since `reset`."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb(self.pid))

    def reset(self) -> None:
        self.peak = rss_mb(self.pid)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")},
        "PLAIT_DATA_DIR": str(data_dir),
        "PLAIT_ADMIN_EMAIL": EMAIL,
        "PLAIT_ADMIN_PASSWORD": PASSWORD,
        "PLAIT_IMAGE_BACKEND": "preview",
    }
    command = [sys.executable, "-m", "plait", "serve", "--port", str(port), "--no-access-log"]
    return subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)


def signed_in(url: str) -> httpx.Client:
    for _ in range(300):
        try:
            if httpx.get(f"{url}/api/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    client = httpx.Client(base_url=url, timeout=600)
    answer = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    answer.raise_for_status()
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def upload(client: httpx.Client, data: bytes) -> int:
    return client.post("/api/uploads", files={"file": ("big.png", data, "image/png")}).status_code


def main(uploads: int = 16, megapixels: float = 60) -> dict[str, Any]:
    data = picture(megapixels)
    print(f"{uploads} uploads of a {megapixels:g}-Mpx PNG ({len(data) / 1e6:.1f} MB each)")
    with TemporaryDirectory() as tmp:
        port = free_port()
        server = serve(Path(tmp) / "data", port)
        try:
            client = signed_in(f"http://127.0.0.1:{port}")
            try:
                sampler = Sampler(server.pid)
                time.sleep(1)
                at_rest = rss_mb(server.pid)
                sampler.reset()
                one = upload(client, data)
                one_peak = sampler.peak
                time.sleep(2)
                before = rss_mb(server.pid)
                sampler.reset()
                started = time.perf_counter()
                with ThreadPoolExecutor(uploads) as pool:
                    codes = list(pool.map(lambda _: upload(client, data), range(uploads)))
                seconds = time.perf_counter() - started
                peak = sampler.peak
                time.sleep(3)
                after = rss_mb(server.pid)
                sampler.stop()
            finally:
                client.close()
        finally:
            server.terminate()
            server.wait(30)
    figures = {
        "rss_at_rest_mb": at_rest,
        "one_upload_status": one,
        "one_upload_peak_mb": one_peak,
        "statuses": codes,
        "peak_mb": peak,
        "growth_ratio": (peak - before) / max(1.0, one_peak - at_rest),
        "after_mb": after,
        "after_ratio": after / at_rest,
        "seconds": seconds,
    }
    print(
        f"baseline: RSS at rest {at_rest:,.0f} MB; one upload ({one}) peaks at {one_peak:,.0f} MB"
    )
    print(f"{uploads} at once: answers {sorted(set(codes))} ({codes.count(201)}/{uploads} 201) "
          f"in {seconds:.1f} s")  # fmt: skip
    growth = figures["growth_ratio"]
    print(f"  peak RSS {peak:,.0f} MB (target < 1,500); growth {growth:.2f}x one upload's")
    print(f"  RSS 3 s later {after:,.0f} MB = {figures['after_ratio']:.2f}x at rest")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=16)
    parser.add_argument("--megapixels", type=float, default=60)
    arguments = parser.parse_args()
    main(arguments.uploads, arguments.megapixels)
