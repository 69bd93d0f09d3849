#!/usr/bin/env bash
# Prepares cpp-httplib's implementation for the TSan build (`make test-tsan`).
#
# Why: Debian's libcpp-httplib.so is not built with -fsanitize=thread. TSan cannot see the
# synchronization inside uninstrumented code (the fast path of a C++ magic static, for one), so
# it reports races that are wholly inside the library. Building the same library from source with
# TSan makes those accesses visible and the reports go away, with no suppression that could also
# hide a race in our own request handlers (every handler's stack passes through httplib).
#
# What: fetches the Debian source package of exactly the installed libcpp-httplib-dev version
# (apt checks it against the archive's signed Sources index), unpacks it with dpkg-source (which
# applies Debian's patches), and splits httplib.h into httplib.h + httplib.cc as Debian's build
# does. It fails if the split header is not byte-for-byte the installed /usr/include/httplib.h,
# so our objects and the library agree on every declaration.
#
# Usage: tests/sanitizers/httplib-source.sh DIR   -> writes DIR/split/httplib.{h,cc}
# Reuses DIR when it already holds the split of the installed version.
set -euo pipefail

dest=$(realpath -m "${1:?usage: $0 DIR}")
pkg=libcpp-httplib-dev
header=/usr/include/httplib.h

version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) || {
  echo "httplib-source: $pkg is not installed (make deps installs it)" >&2; exit 1; }
source_pkg=$(dpkg-query -W -f='${source:Package}' "$pkg")
stamp="$dest/split/.version"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$version" && -f "$dest/split/httplib.cc" ]]; then
  exit 0
fi

for tool in apt-get dpkg-source python3; do
  command -v "$tool" >/dev/null || {
    echo "httplib-source: '$tool' is needed (apt-get install dpkg-dev python3)" >&2; exit 1; }
done

rm -rf "$dest"
mkdir -p "$dest/apt/lists/partial" "$dest/apt/cache/archives/partial" "$dest/apt/parts"

# The machine's own archives, as source archives, in a private apt state: nothing under /etc or
# /var/lib/apt is changed.
if [[ -f /etc/apt/sources.list ]]; then
  sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list >"$dest/apt/sources.list"
else
  : >"$dest/apt/sources.list"
fi
for f in /etc/apt/sources.list.d/*.sources; do
  [[ -f "$f" ]] || continue
  sed 's/^Types:.*/Types: deb-src/' "$f" >"$dest/apt/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list.d/*.list; do
  [[ -f "$f" ]] || continue
  sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >"$dest/apt/parts/$(basename "$f")"
done

apt_opts=(-q -o "Dir::Etc::SourceList=$dest/apt/sources.list" -o "Dir::Etc::SourceParts=$dest/apt/parts"
  -o "Dir::State::Lists=$dest/apt/lists" -o "Dir::Cache=$dest/apt/cache" -o "APT::Sandbox::User=root")

echo "httplib-source: fetching Debian source $source_pkg $version"
apt-get "${apt_opts[@]}" update >"$dest/apt/update.log" 2>&1 || {
  cat "$dest/apt/update.log" >&2; echo "httplib-source: apt-get update of the source index failed" >&2; exit 1; }
(cd "$dest" && apt-get "${apt_opts[@]}" source --download-only "$source_pkg=$version") \
  >"$dest/apt/source.log" 2>&1 || {
  cat "$dest/apt/source.log" >&2
  echo "httplib-source: could not fetch $source_pkg=$version (is it still in the archive?)" >&2; exit 1; }

# apt-get has checked the files against the signed index; the .dsc's own maintainer signature
# needs a keyring this machine does not have.
(cd "$dest" && dpkg-source --no-check -x ./*.dsc src >/dev/null)
python3 "$dest/src/split.py" --out "$dest/split" >/dev/null

if ! cmp -s "$dest/split/httplib.h" "$header"; then
  echo "httplib-source: the split httplib.h of $source_pkg $version differs from $header" >&2
  exit 1
fi
echo "$version" >"$stamp"
echo "httplib-source: $dest/split/httplib.cc ready ($version)"
