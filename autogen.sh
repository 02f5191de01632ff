#!/bin/sh
# Generates configure and the Makefile templates from a git checkout.
set -e
cd "$(dirname "$0")"
autopoint --force
autoreconf --install --force --warnings=all
