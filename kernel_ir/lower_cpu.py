"""Lower a kernel's source to C++ that g++ compiles against the dialect's emulation header.

The emulation headers (`kernel_ir/runtime/xp_<dialect>.h`) give every platform name a CPU meaning; what a header
cannot express is rewritten here, line-preservingly, so compiler diagnostics still point at the user's lines:
- CUDA's `kernel<<<grid, block, shared, stream>>>(args)` launch syntax,
- dynamic `extern __shared__ T name[];` arrays (they alias the launch's dynamic shared memory),
- clang's `ext_vector_type(N)` typedefs (HIP MFMA operands), which g++ spells `vector_size`.
An entry wrapper `__xp_entry(void** args)` is appended: it launches a kernel entry or calls a host entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .diagnostics import XpilerError

RUNTIME_DIR = Path(__file__).parent / "runtime"  # emulation headers and the entry wrapper's xp_args.h
RUNTIME_HEADER = {"cuda": "xp_cuda.h", "hip": "xp_hip.h", "bang": "xp_bang.h", "cpp": "xp_cpp.h"}
SOURCE_SUFFIX = {"cuda": ".cu", "hip": ".hip", "bang": ".mlu", "cpp": ".cpp"}
DEFAULT_BANG_LAUNCH = {"task_dim": (16, 1, 1), "cores_per_cluster": 4}

C_SCALAR = {
    "float32": "float", "float64": "double", "float16": "_Float16",
    "int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "uint16": "uint16_t",
    "int32": "int32_t", "uint32": "uint32_t", "int64": "int64_t", "uint64": "uint64_t", "bool": "bool",
}


@dataclass(frozen=True)
class Lowered:
    source: str  # C++ ready for g++
    filename: str  # name the #line directives give the user's code


def lower(source: str, dialect: str, entry: str, args: list[tuple[str, object]], launch: dict | None) -> Lowered:
    if dialect not in RUNTIME_HEADER:
        raise XpilerError("XP001", f"unknown dialect {dialect!r}", hint=f"use one of {', '.join(RUNTIME_HEADER)}")
    filename = "kernel" + SOURCE_SUFFIX[dialect]
    body = source
    if dialect in ("cuda", "hip"):
        body = rewrite_chevron_launches(body)
        body = rewrite_extern_shared(body)
    if dialect == "hip":
        body = rewrite_ext_vector_types(body)
    wrapper = entry_wrapper(source, dialect, entry, args, launch)
    text = f'#line 1 "{filename}"\n{body}\n#line 1 "<xpiler entry wrapper>"\n{wrapper}'
    return Lowered(text, filename)


# ---- source rewrites ------------------------------------------------------------------------------------------

def _matching(text: str, start: int, open_ch: str, close_ch: str) -> int:
    """Index just past the bracket that closes the one at `start` (skipping strings and nested brackets)."""
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            i = text.index(ch, i + 1) + 1 if ch in text[i + 1:] else len(text)
            continue
        if ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise XpilerError("XP102", f"unbalanced {open_ch}{close_ch} in kernel launch", *line_col(text, start))


def _split_top_level(text: str) -> list[str]:
    """Split a launch configuration at its top-level commas (`<` and `>` are comparisons here, not brackets)."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _callee_start(text: str, end: int) -> int:
    """Start of the callee expression ending at `end`: an identifier path with optional template arguments."""
    i = end
    while i > 0:
        ch = text[i - 1]
        if ch == ">":
            depth = 0
            while i > 0:
                i -= 1
                depth += {"<": -1, ">": 1}.get(text[i], 0)
                if depth == 0:
                    break
        elif ch.isalnum() or ch in "_:":
            i -= 1
        elif ch.isspace() and text[i:end].strip() == "":
            i -= 1
        else:
            break
    return i


def rewrite_chevron_launches(text: str) -> str:
    """`k<<<g, b, s, st>>>(a, b);` -> `::xp::launch(dim3(g), dim3(b), s, [&]() { k(a, b); });` on the same lines."""
    out, pos = [], 0
    for m in re.finditer(r"<<<", text):
        if m.start() < pos:
            continue
        close = text.find(">>>", m.end())
        if close < 0:
            raise XpilerError("XP102", "kernel launch `<<<` without `>>>`", *line_col(text, m.start()))
        config = _split_top_level(text[m.end():close])
        paren = close + 3
        while paren < len(text) and text[paren].isspace():
            paren += 1
        if paren >= len(text) or text[paren] != "(":
            raise XpilerError("XP102", "kernel launch `<<<...>>>` not followed by an argument list", *line_col(text, close))
        args_end = _matching(text, paren, "(", ")")
        callee_start = _callee_start(text, m.start())
        callee = text[callee_start:m.start()].strip()
        if len(config) < 2 or not callee:
            raise XpilerError("XP102", "kernel launch needs a kernel name, a grid and a block", *line_col(text, m.start()))
        shared = config[2] if len(config) > 2 and config[2] else "0"
        call = f"{callee}{text[paren:args_end]}".replace("\n", " ")
        launch = f"::xp::launch(dim3({config[0]}), dim3({config[1]}), size_t({shared}), [&]() {{ {call}; }})"
        newlines = text.count("\n", callee_start, args_end)
        out.append(text[pos:callee_start] + launch + "\n" * newlines)
        pos = args_end
    out.append(text[pos:])
    return "".join(out)


_EXTERN_SHARED = re.compile(
    r"extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?(?P<type>[\w:<>\s]+?)\s*(?:__align__\s*\(\s*\d+\s*\)\s*)?"
    r"(?P<name>\w+)\s*\[\s*\]\s*;"
)


def rewrite_extern_shared(text: str) -> str:
    return _EXTERN_SHARED.sub(
        lambda m: f"{m['type']}* const {m['name']} = reinterpret_cast<{m['type']}*>(::xp::dynamic_shared);", text
    )


_EXT_VECTOR = re.compile(r"__attribute__\s*\(\(\s*ext_vector_type\s*\(\s*(?P<n>\w+)\s*\)\s*\)\)")


def rewrite_ext_vector_types(text: str) -> str:
    """Clang's `T __attribute__((ext_vector_type(N)))` becomes g++'s `vector_size(N * sizeof(T))`."""
    def typedef(m: re.Match) -> str:
        decl = m.group(0)
        attr = _EXT_VECTOR.search(decl)
        before = decl[: attr.start()].replace("typedef", "", 1).split()
        name_follows = decl[attr.end():].strip(" ;\n")
        element_type = " ".join(before if name_follows else before[:-1])
        return decl[: attr.start()] + f"__attribute__((vector_size(({attr['n']}) * sizeof({element_type}))))" + decl[attr.end():]

    text = re.sub(r"typedef[^;]*?" + _EXT_VECTOR.pattern + r"[^;]*;", typedef, text)
    return re.sub(
        r"using\s+(?P<alias>\w+)\s*=\s*(?P<type>[\w\s]+?)\s*" + _EXT_VECTOR.pattern,
        lambda m: f"using {m['alias']} = {m['type']} __attribute__((vector_size(({m['n']}) * sizeof({m['type']}))))",
        text,
    )


# ---- the entry wrapper ---------------------------------------------------------------------------------------

def is_kernel_entry(source: str, dialect: str, entry: str) -> bool:
    """A `__global__` entry is launched by the wrapper; anything else (host launcher, C function) is called."""
    if dialect == "bang":
        return True
    if dialect not in ("cuda", "hip"):
        return False
    return re.search(r"__global__[^;{}]*?\b" + re.escape(entry) + r"\s*\(", source) is not None


def _call_arguments(args: list[tuple[str, object]]) -> str:
    parts = []
    for i, (name, value) in enumerate(args):
        if isinstance(value, np.ndarray):
            parts.append(f"xp_args::Pointer{{args[{i}]}}")
        else:
            dtype = np.asarray(value).dtype.name
            if dtype not in C_SCALAR:
                raise XpilerError("XP401", f"argument {name!r} has unsupported scalar type {dtype}")
            parts.append(f"xp_args::scalar<{C_SCALAR[dtype]}>(args[{i}])")
    return ", ".join(parts)


def _dim3(value: object, what: str) -> str:
    dims = (value,) if isinstance(value, int) else tuple(value)
    if not 1 <= len(dims) <= 3 or any(int(d) < 1 for d in dims):
        raise XpilerError("XP402", f"launch {what} must be 1 to 3 positive integers, got {value!r}")
    return "dim3(" + ", ".join(str(int(d)) for d in dims) + ")"


def entry_wrapper(source: str, dialect: str, entry: str, args: list[tuple[str, object]], launch: dict | None,
                  name: str = "__xp_entry") -> str:
    call = f"{entry}({_call_arguments(args)});"
    if dialect == "bang":
        spec = {**DEFAULT_BANG_LAUNCH, **(launch or {})}
        dims = tuple(spec["task_dim"]) if not isinstance(spec["task_dim"], int) else (spec["task_dim"], 1, 1)
        dims = (tuple(int(d) for d in dims) + (1, 1, 1))[:3]
        body = f"__xp_bang_launch({dims[0]}, {dims[1]}, {dims[2]}, {int(spec['cores_per_cluster'])}, [=] {{ {call} }});"
    elif is_kernel_entry(source, dialect, entry):
        if not launch or "grid" not in launch or "block" not in launch:
            raise XpilerError(
                "XP403", f"entry {entry!r} is a __global__ kernel: give its launch configuration",
                hint='pass launch={"grid": (gx, gy, gz), "block": (bx, by, bz)} or call the host launcher instead',
            )
        grid, block = _dim3(launch["grid"], "grid"), _dim3(launch["block"], "block")
        body = f"::xp::launch({grid}, {block}, size_t({int(launch.get('shared', 0))}), [=] {{ {call} }});"
    else:
        body = call
    return f'#include "xp_args.h"\nextern "C" void {name}(void** args) {{\n    {body}\n}}\n'


def line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
