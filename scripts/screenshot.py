"""The README's picture of the dashboard, made from the demo: ``python scripts/screenshot.py``.

Builds the demo world in this process (sandbox Jira, Linear and Asana synced through the real
connectors into a throwaway SQLite file, the same world ``v2mom demo`` serves), serves the app on
127.0.0.1, signs in with a viewer token in Debian's Chromium (``/usr/bin/chromium``, driven by
Playwright) and saves the overview as ``docs/overview.png``.

``--pages DIR`` also saves every page, as viewer and as admin, at 1280 and 390 px wide;
``--timings`` prints how long each page takes to load (navigation to the page saying it is ready),
the median of ``--runs`` loads, so the figure can be compared with the 1 s the dashboard aims for.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PAGES = [
    "/",
    "/values",
    "/values/{value}",
    "/attention",
    "/items/{item}",
    "/plan",
    "/audit",
    "/access",
    "/health",
]
ADMIN_ONLY = {"/plan", "/audit", "/access"}


def signed_in(browser: Browser, base: str, token: str, width: int) -> BrowserContext:
    """A browser context of ``width`` px whose session cookie holds ``token``."""
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 844})
    answer = context.request.post(f"{base}/api/session", data={"token": token}, headers={"X-V2MOM-CSRF": "1"})
    if not answer.ok:
        raise SystemExit(f"sign-in failed: {answer.status} {answer.text()}")
    return context


def load(context: BrowserContext, url: str) -> tuple[float, float]:
    """Open ``url`` in a new tab: seconds from the navigation's start to the page's data shown, as the
    browser marks it (``performance.mark("v2mom-ready")`` in app.js), and as this script waited."""
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=30000)
    waited = time.perf_counter() - started
    marked = page.evaluate("performance.getEntriesByName('v2mom-ready').at(-1).startTime") / 1000
    page.close()
    return marked, waited


def main(argv: list[str] | None = None) -> int:
    """Build the demo, take the pictures (and the timings) asked for, print where they went."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "overview.png", help="the overview picture"
    )
    parser.add_argument("--pages", type=Path, default=None, help="also save every page here")
    parser.add_argument("--timings", action="store_true", help="print each page's load time")
    parser.add_argument("--runs", type=int, default=5, help="loads per page for --timings (median)")
    parser.add_argument("--issues", type=int, default=1200, help="demo size (v2mom demo's default)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 1

    from v2mom.app.demo import build_demo
    from v2mom.app.factory import create_app
    from v2mom.sandbox.server import SandboxServer

    with tempfile.TemporaryDirectory() as tmp:
        world = build_demo(f"sqlite:///{Path(tmp) / 'demo.db'}", seed=7, issues=args.issues)
        server = SandboxServer(create_app(world.settings, world.store))
        try:
            base = server.start()
            admin = world.store.tokens.create("admin", "screenshot-admin")
            value = world.store.plans.current().values[0].id  # type: ignore[union-attr]
            flagged = world.store.report_queries.flagged(kind="untagged", measure="points", limit=1)[0]
            fill = {"value": value, "item": f"{flagged.tracker}/{flagged.key}"}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
                viewer = signed_in(browser, base, world.viewer_token, 1280)
                page = viewer.new_page()
                page.goto(base + "/")
                page.wait_for_selector("body[data-ready=true]", timeout=30000)
                page.wait_for_selector("#trend-chart svg")
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out), full_page=False)
                print(f"saved {args.out}")
                page.close()
                if args.pages:
                    args.pages.mkdir(parents=True, exist_ok=True)
                    for role, token in (("viewer", world.viewer_token), ("admin", admin)):
                        for width in (1280, 390):
                            context = signed_in(browser, base, token, width)
                            for path in PAGES:
                                if role == "viewer" and path in ADMIN_ONLY:
                                    continue
                                url = base + path.format(**fill)
                                shot = context.new_page()
                                shot.goto(url)
                                shot.wait_for_selector("body[data-ready=true]", timeout=30000)
                                name = path.strip("/").split("/")[0] or "overview"
                                target = (
                                    args.pages
                                    / f"{name}{'-detail' if '{' in path else ''}-{role}-{width}.png"
                                )
                                shot.screenshot(path=str(target), full_page=True)
                                shot.close()
                            context.close()
                    print(f"saved every page in {args.pages}")
                if args.timings:
                    context = signed_in(browser, base, admin, 1280)
                    load(context, base + "/")  # warm the browser's cache of the static files once
                    print(f"page loads on the demo store ({args.issues} Jira issues; median of {args.runs}):")
                    for path in PAGES:
                        url = base + path.format(**fill)
                        runs = [load(context, url) for _ in range(args.runs)]
                        marked = [m for m, _ in runs]
                        waited = [w for _, w in runs]
                        print(
                            f"  {path.format(**fill):<40} {statistics.median(marked) * 1000:6.0f} ms"
                            f" (max {max(marked) * 1000:.0f} ms; as waited for: median"
                            f" {statistics.median(waited) * 1000:.0f} ms)"
                        )
                    context.close()
                viewer.close()
                browser.close()
        finally:
            server.stop()
            world.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
