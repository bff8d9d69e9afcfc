# Shared by scripts/demo.sh, scripts/test.sh and scripts/install.sh (sourced,
# from the repository root): the Rust check and step messages.

# Prints a step header, so every wait is announced before it starts.
step() { printf '\n==> %s\n' "$*" >&2; }

# Stops with a clear message when cargo/rustc are missing or older than the
# rust-version of Cargo.toml. Debian 12's own rustc (1.63) is too old: Rust
# comes from rustup. A rustup install that is not on PATH yet is picked up.
require_rust() {
    local need have
    need="$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml)"
    need="${need:-1.85}"
    if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
    if ! command -v cargo >/dev/null 2>&1 || ! command -v rustc >/dev/null 2>&1; then
        cat >&2 <<MSG
pgferry needs Rust $need or newer (cargo and rustc), and they are not on PATH.
Install Rust with rustup (https://rustup.rs), as the user who builds pgferry:
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    . "\$HOME/.cargo/env"
then run this script again. (Debian's own rustc package is too old: Debian 12 has 1.63.)
MSG
        exit 2
    fi
    have="$(rustc --version | awk '{print $2}')"
    if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
        cat >&2 <<MSG
pgferry needs Rust $need or newer; $(command -v rustc) is $have.
With rustup:       rustup update stable
Without rustup:    install it (https://rustup.rs) and put ~/.cargo/bin first on PATH;
                   Debian's rustc package is too old (Debian 12 has 1.63).
MSG
        exit 2
    fi
    printf 'using %s and %s\n' "$(rustc --version)" "$(cargo --version)" >&2
}
