#!/bin/sh
# Make sure a Chromium the Google Lens engine can drive exists.
# Order: $RIR_BROWSER_PATH, a system Chromium/Chrome, Debian's packages (as root),
# then Playwright's managed download. Never fails the build: without a browser the
# browser tests skip and the engine explains how to get one.
# Debian's chromium-headless-shell comes along where apt-get can install it: headless
# queries prefer it (half the CPU of the full browser, and what Playwright itself
# runs headless); `rir login` and headless=False use the full browser.
set -u
VENV=${VENV:-.venv}
can_apt() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; }
apt_install() {
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@") \
        >/tmp/rir-apt.log 2>&1
}
if [ -n "${RIR_BROWSER_PATH:-}" ] && [ -x "$RIR_BROWSER_PATH" ]; then
    echo "browser: $RIR_BROWSER_PATH"; exit 0
fi
for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if path=$(command -v "$name" 2>/dev/null); then
        echo "browser: $path"
        if [ "$name" = chromium ] && ! command -v chromium-headless-shell >/dev/null 2>&1 \
            && can_apt && apt_install chromium-headless-shell; then
            echo "browser: $(command -v chromium-headless-shell) for headless queries"
        fi
        exit 0
    fi
done
if ls "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"/chromium* >/dev/null 2>&1; then
    echo "browser: Playwright's managed Chromium"; exit 0
fi
if can_apt; then
    echo "browser: installing Debian's chromium and chromium-headless-shell packages"
    if apt_install chromium chromium-headless-shell || apt_install chromium; then
        echo "browser: $(command -v chromium)"; exit 0
    fi
    echo "browser: apt-get failed (see /tmp/rir-apt.log)"
fi
if "$VENV/bin/playwright" install chromium >/tmp/rir-playwright.log 2>&1; then
    echo "browser: Playwright's managed Chromium installed"; exit 0
fi
echo "browser: none found; browser tests will skip. Install chromium, or set RIR_BROWSER_PATH."
exit 0
