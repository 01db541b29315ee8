#!/usr/bin/env bash
# Makes sure the system programs used for OCR are present:
#   tesseract with the French and Arabic language data, and pdftoppm (poppler);
#   for the OCR tests and benchmark, which draw Arabic letters with Pillow: a font with Arabic
#   glyphs (DejaVu) and FriBiDi, which Pillow's bundled libraqm loads at run time;
#   for the browser tests (tests/browser): Chromium, driven headless by Playwright.
# Installs the Debian packages when something is missing; prints nothing
# when everything is already there.
set -euo pipefail

PACKAGES=(tesseract-ocr tesseract-ocr-fra tesseract-ocr-ara poppler-utils fonts-dejavu-core libfribidi0
    chromium)

missing=()

check() {
    missing=()
    if command -v tesseract >/dev/null 2>&1; then
        local langs
        langs="$(tesseract --list-langs 2>/dev/null || true)"
        for lang in fra ara; do
            if ! grep -qx "$lang" <<<"$langs"; then
                missing+=("tesseract language data '$lang'")
            fi
        done
    else
        missing+=("tesseract")
    fi
    if ! command -v pdftoppm >/dev/null 2>&1; then
        missing+=("pdftoppm")
    fi
    if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=ar file 2>/dev/null)" ]; then
        missing+=("a font with Arabic glyphs")
    fi
    if ! ldconfig -p 2>/dev/null | grep 'libfribidi\.so\.0' >/dev/null; then
        missing+=("libfribidi")
    fi
    # Playwright launches this very file (executable_path): it never downloads a browser.
    if [ ! -x /usr/bin/chromium ]; then
        missing+=("chromium")
    fi
}

check
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

echo "system-deps.sh: missing: ${missing[*]}; installing ${PACKAGES[*]}" >&2

if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps.sh: apt-get not found; install these packages by hand: ${PACKAGES[*]}" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "system-deps.sh: not root and sudo is not available;" \
            "install these packages as root: ${PACKAGES[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get update -qq >/dev/null ||
    ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq "${PACKAGES[@]}" >/dev/null; then
    echo "system-deps.sh: apt-get could not install: ${PACKAGES[*]}" >&2
    exit 1
fi

check
if [ "${#missing[@]}" -ne 0 ]; then
    echo "system-deps.sh: still missing after install: ${missing[*]}" >&2
    exit 1
fi
