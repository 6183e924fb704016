# shellcheck shell=bash
# A virtualenv with PyTorch, outside the repository (torch is never a dependency of Losscape):
# $LOSSCAPE_TORCH_VENV, default ~/.cache/losscape/torch-venv. Sourced by scripts/bench and
# scripts/interop; `losscape_torch_python` prints the interpreter's path, making the venv first.
losscape_torch_python() {
    local venv=${LOSSCAPE_TORCH_VENV:-$HOME/.cache/losscape/torch-venv}
    if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import torch, scipy' 2>/dev/null; then
        printf '==> making a torch virtualenv in %s (not part of Losscape)\n' "$venv" >&2
        python3 -m venv "$venv" >&2
        # A CPU wheel shipped with the machine beats the multi-GB default wheel from PyPI.
        local wheel
        wheel=$(ls /opt/wheels/torch-*cpu*.whl 2>/dev/null | head -1 || true)
        "$venv/bin/pip" install -q "${wheel:-torch}" scipy >&2
    fi
    printf '%s\n' "$venv/bin/python"
}
