#!/usr/bin/env bash
# Rebuild this folder's third-party assets from pinned npm packages.
#
# The rendered book must work with no network, so MathJax, RequireJS and the
# Jupyter widgets HTML manager are served from here instead of a CDN.
# Usage:
#   bash book/_static/offline/fetch_assets.sh          # fetch from npm, write files, verify
#   bash book/_static/offline/fetch_assets.sh --check  # only verify the files against SHA256SUMS
# Needs: npm (any registry mirror configured for npm works), tar, sha256sum.
set -euo pipefail

MATHJAX_VERSION=3.2.2
REQUIREJS_VERSION=2.3.7
HTML_MANAGER_VERSION=1.0.15

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if [[ "${1:-}" == "--check" ]]; then
    sha256sum --check --strict SHA256SUMS
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

( cd "$tmp" && npm pack --silent \
    "mathjax@${MATHJAX_VERSION}" \
    "requirejs@${REQUIREJS_VERSION}" \
    "@jupyter-widgets/html-manager@${HTML_MANAGER_VERSION}" >/dev/null )

unpack() {  # unpack TARBALL DIR
    mkdir -p "$tmp/$2"
    tar -xzf "$tmp/$1" -C "$tmp/$2"
}
unpack "mathjax-${MATHJAX_VERSION}.tgz" mathjax
unpack "requirejs-${REQUIREJS_VERSION}.tgz" requirejs
unpack "jupyter-widgets-html-manager-${HTML_MANAGER_VERSION}.tgz" html-manager

rm -rf mathjax requirejs html-manager

# MathJax 3: the single-file TeX -> CommonHTML bundle with every TeX extension
# built in (so nothing is autoloaded), plus the CHTML web fonts, which MathJax
# loads relative to the bundle's own location (output/chtml/fonts/woff-v2/).
mkdir -p mathjax/output/chtml/fonts/woff-v2
cp "$tmp/mathjax/package/es5/tex-chtml-full.js" mathjax/
cp "$tmp/mathjax/package/es5/output/chtml/fonts/woff-v2/"*.woff mathjax/output/chtml/fonts/woff-v2/
cp "$tmp/mathjax/package/LICENSE" mathjax/LICENSE

# RequireJS: the AMD loader the widget manager's embed-amd bundle needs.
mkdir -p requirejs
cp "$tmp/requirejs/package/require.js" requirejs/

# Jupyter widgets HTML manager (ipywidgets 8): embed-amd.js renders the widget
# views saved in executed notebooks. Its Font Awesome fonts are loaded relative
# to the script; browsers take the woff2 files (the eot/ttf/svg fallbacks for
# very old browsers are left out to keep the folder small).
mkdir -p html-manager
cp "$tmp/html-manager/package/dist/embed-amd.js" html-manager/
cp "$tmp/html-manager/package/dist/"*.woff2 html-manager/
cp "$tmp/html-manager/package/dist/embed.js.LICENSE.txt" html-manager/THIRD-PARTY-NOTICES.txt
# The npm package carries no licence file; this is ipywidgets' (BSD-3-Clause).
cat > html-manager/LICENSE <<'LICENSE'
Copyright (c) 2015 Project Jupyter Contributors
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
LICENSE

find mathjax requirejs html-manager -type f | LC_ALL=C sort | xargs sha256sum > SHA256SUMS
echo "wrote $(wc -l < SHA256SUMS) files; total $(du -shc mathjax requirejs html-manager | tail -1 | cut -f1)"
