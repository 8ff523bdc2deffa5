"""Screenshot portal pages in headless Chromium: `python scripts/screenshot.py URL OUT.png [user]`.

For looking at pages as a person would during development; needs Debian's chromium.
"""

import sys

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main(url, out, user=None, password="expenses-demo"):  # noqa: S107  (the demo password)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        if user:
            base = url.split("/", 3)[:3]
            page.goto("/".join(base) + "/accounts/login/")
            page.fill("#id_username", user)
            page.fill("#id_password", password)
            page.click("button[type=submit]")
        page.goto(url)
        page.screenshot(path=out, full_page=True)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
