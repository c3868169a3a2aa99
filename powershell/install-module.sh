#!/bin/sh
# SPDX-License-Identifier: MIT
# meson install: the module folder, less the copies of libmmf.so.1 and
# mmf-watch that make the build tree's folder self-contained.
#   install-module.sh BUILT_FOLDER MODULEDIR
set -eu
src=$1
dest="${DESTDIR:-}$2/$(basename "$src")"
rm -rf "$dest"
mkdir -p "$dest/en-US"
for f in "$src"/*.dll "$src"/*.psd1 "$src"/*.ps1xml; do install -m 644 "$f" "$dest/"; done
for f in "$src"/en-US/*; do install -m 644 "$f" "$dest/en-US/"; done
[ -n "${MESON_INSTALL_QUIET:-}" ] || echo "Installing $src to $dest"
