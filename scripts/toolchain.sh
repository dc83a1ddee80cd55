# Sourced by the scripts (the Makefile does the same): build with the Go release go.mod's
# `toolchain` line names (the go command fetches it from the module proxy once), whatever Go the
# machine starts with — its own may lack security fixes. GOTOOLCHAIN_OVERRIDE=local keeps the machine's own Go.
export GOTOOLCHAIN="${GOTOOLCHAIN_OVERRIDE:-$(sed -n 's/^toolchain //p' go.mod)}"
