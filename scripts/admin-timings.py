#!/usr/bin/env python3
"""Admin list page timings: logs in to a running `aforro serve` on loopback and GETs each list
page a bounded number of times, one at a time, printing p50 and p95 (server render + transfer,
measured by the client). Usage: scripts/admin-timings.py PORT USERNAME PASSWORD [REPEATS]"""
import http.cookiejar
import statistics
import sys
import time
import urllib.parse
import urllib.request

PAGES = [
    "/admin/",
    "/admin/products/",
    "/admin/products/?sort=title",
    "/admin/products/?sort=-price",
    "/admin/products/?category=3&sort=price",
    "/admin/products/?q=kettle",
    "/admin/products/?q=zzqx",
    "/admin/products/?sort=title&page=200",
    "/admin/categories/",
    "/admin/stores/",
    "/admin/stores/1/inventory/",
    "/admin/stores/1/inventory/?sort=quantity",
    "/admin/stores/1/inventory/?in_stock=false",
    "/admin/orders/",
    "/admin/orders/?store=1&status=CONFIRMED",
    "/admin/jobs/?state=failed",
    "/admin/accounts/",
    "/admin/products/1/",
]


def main():
    port, username, password = sys.argv[1], sys.argv[2], sys.argv[3]
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    opener.open(base + "/admin/login/", form, timeout=30).read()
    print(f"{'page':48} {'p50 ms':>8} {'p95 ms':>8}")
    for path in PAGES:
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            with opener.open(base + path, timeout=30) as response:
                response.read()
                assert response.status == 200, (path, response.status)
                assert "/admin/login/" not in response.url, "signed out"
            samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(f"{path:48} {statistics.median(samples):8.2f} {p95:8.2f}")


if __name__ == "__main__":
    main()
