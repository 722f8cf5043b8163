#!/usr/bin/env python3
"""Admin list page timings: logs in to a running `aforro serve` on loopback, warms up (every
page in turn for WARMUP_SECS, default 5: the first title search starts computing the search's
title order, a few seconds at 1M products, and searches take the SQL path until it is ready), then
GETs each list page a bounded number of times, one at a time, printing p50 and p95 (server
render + transfer, measured by the client).
Usage: scripts/admin-timings.py PORT USERNAME PASSWORD [REPEATS] [WARMUP_SECS]"""
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
    "/admin/products/?q=kettle&sort=-price",
    "/admin/products/?q=zzqx",
    "/admin/products/?q=zzqx&sort=price",
    "/admin/products/?sort=title&page=200",
    "/admin/products/?sort=price&page=200",
    "/admin/categories/",
    "/admin/categories/?q=a&sort=name",
    "/admin/stores/",
    "/admin/stores/?sort=-name",
    "/admin/stores/1/inventory/",
    "/admin/stores/1/inventory/?sort=quantity",
    "/admin/stores/1/inventory/?in_stock=false",
    "/admin/stores/1/inventory/?q=kettle",
    "/admin/stores/1/inventory/?q=zzqx",
    "/admin/stores/1/inventory/?page=200",
    "/admin/orders/",
    "/admin/orders/?store=1&status=CONFIRMED",
    "/admin/jobs/?state=failed",
    "/admin/accounts/",
    "/admin/products/1/",
]


def get(opener, url):
    with opener.open(url, timeout=30) as response:
        response.read()
        assert response.status == 200, (url, response.status)
        assert "/admin/login/" not in response.url, "signed out"


def main():
    port, username, password = sys.argv[1], sys.argv[2], sys.argv[3]
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    warmup_secs = float(sys.argv[5]) if len(sys.argv) > 5 else 5.0
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    # The login form wants its CSRF cookie and field: read them from the form first.
    login_form = opener.open(base + "/admin/login/", timeout=30).read().decode()
    csrf = login_form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = urllib.parse.urlencode({"csrf": csrf, "username": username, "password": password}).encode()
    opener.open(base + "/admin/login/", form, timeout=30).read()
    deadline = time.monotonic() + warmup_secs
    while time.monotonic() < deadline:
        for path in PAGES:
            get(opener, base + path)
    print(f"{'page':48} {'p50 ms':>8} {'p95 ms':>8}")
    for path in PAGES:
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            get(opener, base + path)
            samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(f"{path:48} {statistics.median(samples):8.2f} {p95:8.2f}")


if __name__ == "__main__":
    main()
