"""Parse CUDA / HIP / BANG / C++ kernel source into the kernel IR with libclang as the C++ front end.

Each dialect is parsed against small declaration headers of our own (kernel_ir/runtime/decl): the dialect
header is force-included and every standard or vendor include resolves to an empty stub, so sources parse the
same with or without their #includes and nothing from the host system leaks in. Errors raise ParseError with
coded diagnostics, never libclang exceptions: XP101 undeclared identifier, XP102 unknown type, XP103 include
not found, XP104 no matching function, XP105 no such member, XP106 syntax ("expected ..."), XP100 other
compiler errors, XP110 construct the IR cannot represent, XP199 internal front-end error.
"""

from __future__ import annotations

import functools
import os
import re

import clang.cindex as ci

from kernel_ir.detect import detect_dialect
from kernel_ir.diagnostics import Diagnostic, XpilerError
from kernel_ir.ir import (
    FuncQual, Function, GlobalVar, MemScope, Module, Namespace, Param, TemplateParam, TopLevel, Verbatim,
)
from kernel_ir.parse_clang import (
    DECL_DIR, K, ConversionError, convert_type, expr_children, in_main_file, is_inlined, kind_of,
)
from kernel_ir.parse_stmt import StmtConverter

STUB_DIR = os.path.join(DECL_DIR, "stubs")

_DIALECT_ARGS = {
    "cuda": ["-x", "cuda", "--cuda-gpu-arch=sm_80", "--cuda-host-only", "-nocudainc", "-nocudalib"],
    "hip": ["-x", "hip", "--offload-arch=gfx90a", "--cuda-host-only", "-nogpuinc", "-nogpulib"],
    "bang": ["-x", "c++"],
    "cpp": ["-x", "c++", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512vnni", "-mavx2",
            "-mfma", "-mf16c"],
}
_FILE_NAMES = {"cuda": "kernel.cu", "hip": "kernel.hip", "bang": "kernel.mlu", "cpp": "kernel.cpp"}
_COMMON_ARGS = ["-std=c++17", "-nostdinc", "-nostdinc++", "-nobuiltininc", "-w", "-ferror-limit=50",
                "-fno-delayed-template-parsing", "-I", STUB_DIR]

_FUNCTION_KINDS = {K.FUNCTION_DECL, K.FUNCTION_TEMPLATE}
_ATTR_QUALIFIERS = {K.CUDAGLOBAL_ATTR: FuncQual.global_, K.CUDADEVICE_ATTR: FuncQual.device,
                    K.CUDAHOST_ATTR: FuncQual.host}
_ANNOTATED_QUALIFIERS = {"xp_mlu_global": FuncQual.mlu_global, "xp_mlu_func": FuncQual.mlu_func,
                         "xp_mlu_device": FuncQual.mlu_device, "xp_forceinline": FuncQual.forceinline,
                         "xp_noinline": FuncQual.noinline}
_PRAGMA_LINE = re.compile(r"^[ \t]*#[ \t]*pragma[ \t]+(.*)$")
_INCLUDE_LINE = re.compile(r"^[ \t]*#[ \t]*include[ \t]*([<\"][^>\"]+[>\"])")
_DEFINE_LINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+\(?[ \t]*(\d+)[ \t]*\)?[ \t]*(?://.*)?$")
_INSTANTIATION = re.compile(r"^[ \t]*(?:extern[ \t]+)?template[ \t]+(?!<)[^;{}]*;", re.M)
_BANG_NAME = re.compile(r"\b__bang_\w+\b")


class ParseError(XpilerError):
    """The source does not parse; `diagnostics` lists every problem (the first one is the error's own)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        first = diagnostics[0]
        super().__init__(first.code, first.message, first.line, first.column, first.hint, first.detail)
        self.diagnostics = diagnostics

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)


_DECL_HINT = ("the front end knows each dialect's API from kernel_ir/runtime/decl/xp_{dialect}.h; "
              "a missing intrinsic or runtime function is declared there")
_CODES = [  # (text in the clang message, code, hint)
    ("use of undeclared identifier", "XP101", _DECL_HINT),
    ("unknown type name", "XP102", _DECL_HINT),
    ("file not found", "XP103", "only standard and vendor headers are known: paste local headers into the source"),
    ("no matching function", "XP104", None),
    ("no member named", "XP105", None),
    ("expected", "XP106", None),
]

_index: ci.Index | None = None


def parse(source: str, dialect: str | None = None) -> Module:
    """Parse one translation unit. dialect: cuda | hip | bang | cpp (detected from the text when None)."""
    dialect = dialect or detect_dialect(source)
    if dialect not in _DIALECT_ARGS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {sorted(_DIALECT_ARGS)}")
    tu = _translation_unit(source, dialect)
    errors = [_diagnostic(d, dialect) for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        raise ParseError(errors)
    try:
        return _ModuleBuilder(tu, source, dialect).build()
    except ConversionError as err:
        raise ParseError([Diagnostic("XP110", err.message, err.line, err.column)]) from None
    except Exception as err:  # a converter bug must still surface as a coded diagnostic
        raise ParseError([Diagnostic("XP199", f"internal front-end error: {type(err).__name__}: {err}")]) from err


def _translation_unit(source: str, dialect: str) -> ci.TranslationUnit:
    global _index
    if _index is None:
        _index = ci.Index.create()
    filename = os.path.join(os.getcwd(), _FILE_NAMES[dialect])
    args = _DIALECT_ARGS[dialect] + _COMMON_ARGS + ["-include", os.path.join(DECL_DIR, f"xp_{dialect}.h")]
    unsaved = [(filename, source)]
    extra = _extra_declarations(source, dialect)
    if extra:
        extra_path = os.path.join(DECL_DIR, "xp_extra.h")
        args += ["-include", extra_path]
        unsaved.append((extra_path, extra))
    try:
        return _index.parse(filename, args=args, unsaved_files=unsaved,
                            options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    except ci.TranslationUnitLoadError as err:
        raise ParseError([Diagnostic("XP100", f"libclang could not parse the source: {err}")]) from None


def _extra_declarations(source: str, dialect: str) -> str:
    """BANG's vector-intrinsic family is open-ended: declare every __bang_* name used but not yet declared."""
    if dialect != "bang":
        return ""
    missing = sorted(set(_BANG_NAME.findall(source)) - _declared_bang_names())
    return "".join(f"template <class... A> void {name}(A...);\n" for name in missing)


@functools.lru_cache(maxsize=1)
def _declared_bang_names() -> frozenset[str]:
    with open(os.path.join(DECL_DIR, "xp_bang.h")) as header:
        return frozenset(_BANG_NAME.findall(header.read()))


def _diagnostic(d: ci.Diagnostic, dialect: str) -> Diagnostic:
    code, hint = next(((c, h) for text, c, h in _CODES if text in d.spelling), ("XP100", None))
    location = d.location
    in_source = location.file is not None and not location.file.name.startswith(DECL_DIR)
    message = d.spelling if in_source or location.file is None else f"{d.spelling} (in {location.file.name})"
    return Diagnostic(code, message, location.line if in_source else None, location.column if in_source else None,
                      hint.format(dialect=dialect) if hint else None)


class _ModuleBuilder:
    """Top-level conversion: includes, macros, functions, globals, verbatim declarations, in source order."""

    def __init__(self, tu: ci.TranslationUnit, source: str, dialect: str):
        self.tu = tu
        self.source_bytes = source.encode()
        self.dialect = dialect
        self.lines = source.splitlines()
        self.filename = tu.spelling
        pragmas = _pragma_lines(self.lines)
        self.pragmas = pragmas
        self.converter = StmtConverter(self.source_bytes, self.filename, pragmas, _macro_values(self.lines))
        self.covered: list[tuple[int, int]] = []  # line ranges of converted top-level items

    def build(self) -> Module:
        includes, macros = [], []
        positioned: list[tuple[int, int, TopLevel]] = []
        self.converter.taken_names = {c.spelling for c in self.tu.cursor.get_children() if in_main_file(c)}
        for cursor in self.tu.cursor.get_children():
            if not in_main_file(cursor):
                continue
            kind = kind_of(cursor)
            if kind == K.INCLUSION_DIRECTIVE:
                match = _INCLUDE_LINE.match(self.lines[cursor.extent.start.line - 1])
                includes.append(match.group(1) if match else f"<{cursor.spelling}>")
            elif kind == K.MACRO_DEFINITION:
                macros.append(self._macro_text(cursor))
            elif kind is not None and not kind.is_preprocessing():
                positioned.extend(self._items(cursor, extern_c=False))
        preamble, pragmas = self._top_level_pragmas()
        positioned.extend(pragmas)
        positioned.extend(self._explicit_instantiations())
        return Module(self.dialect, tuple(includes), tuple(macros), self._ordered(positioned), tuple(preamble))

    def _ordered(self, positioned: list[tuple[int, int, TopLevel]]) -> tuple[TopLevel, ...]:
        """Items in source order; overlapping verbatim declarations (`typedef struct {...} X;` yields a struct
        and a typedef cursor over the same text) become one."""
        merged: list[tuple[int, int, TopLevel]] = []
        for start, end, item in sorted(positioned, key=lambda entry: entry[0]):
            if merged and isinstance(item, Verbatim) and isinstance(merged[-1][2], Verbatim) \
                    and start < merged[-1][1]:
                first = merged[-1][0]
                end = max(end, merged[-1][1])
                merged[-1] = (first, end, Verbatim(self.source_bytes[first:end].decode()))
            else:
                merged.append((start, end, item))
        return tuple(item for _, _, item in merged)

    def _items(self, cursor: ci.Cursor, extern_c: bool) -> list[tuple[int, int, TopLevel]]:
        """Converted top-level items of one cursor with their source span (start/end offsets)."""
        kind = kind_of(cursor)
        start, end = cursor.extent.start.offset, cursor.extent.end.offset
        children = [child for child in cursor.get_children() if in_main_file(child)]
        if kind == K.LINKAGE_SPEC:
            return [item for child in children for item in self._items(child, extern_c=True)]
        self._cover(cursor)
        if kind == K.NAMESPACE:
            inner = [item for child in children for item in self._items(child, extern_c)]
            return [(start, end, Namespace(cursor.spelling, self._ordered(inner)))]
        if kind in _FUNCTION_KINDS and not self._is_specialization(cursor):
            function = self._function(cursor, extern_c)
            hoisted, self.converter.hoisted = self.converter.hoisted, []
            return [(start, start, helper) for helper in hoisted] + [(start, end, function)]
        if kind == K.VAR_DECL:
            name, type_, init, scope, qualifiers, align = self.converter.variable(cursor)
            return [(start, end, GlobalVar(name, type_, scope or MemScope.host, init, qualifiers, align))]
        end = _declaration_end(self.source_bytes, end)
        return [(start, end, Verbatim(self.source_bytes[start:end].decode()))]

    def _is_specialization(self, cursor: ci.Cursor) -> bool:
        """`template <> void k<float>(...) {...}`: kept verbatim (the IR has no explicit specializations)."""
        tokens = self.converter.token_texts(cursor)
        return kind_of(cursor) == K.FUNCTION_DECL and bool(tokens) and tokens[0] == "template"

    def _cover(self, cursor: ci.Cursor) -> None:
        self.covered.append((cursor.extent.start.line, cursor.extent.end.line))

    def _macro_text(self, cursor: ci.Cursor) -> str:
        line = cursor.extent.start.line - 1
        text = [self.lines[line]]
        while text[-1].rstrip().endswith("\\") and line + 1 < len(self.lines):
            line += 1
            text.append(self.lines[line])
        return "\n".join(text).strip()

    def _top_level_pragmas(self) -> tuple[list[str], list[tuple[int, int, TopLevel]]]:
        """(the preamble: pragmas before anything else of the file, the other top-level pragmas as items)."""
        preamble, items = [], []
        offsets = _line_offsets(self.source_bytes)
        first_other = min((c.extent.start.line for c in self.tu.cursor.get_children() if in_main_file(c)),
                          default=len(self.lines) + 1)
        for line, text in sorted(self.pragmas.items()):
            if any(first <= line <= last for first, last in self.covered):
                continue
            if line < first_other:
                preamble.append(f"#pragma {text}")
            else:
                items.append((offsets[line - 1], offsets[line - 1], Verbatim(f"#pragma {text}")))
        return preamble, items

    def _explicit_instantiations(self) -> list[tuple[int, int, TopLevel]]:
        """`template __global__ void k<16>(float*);` is not exposed by libclang: recover it from the text."""
        items = []
        text = self.source_bytes.decode()
        for match in _INSTANTIATION.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            if not any(first <= line <= last for first, last in self.covered):
                start = len(text[:match.start()].encode())
                end = start + len(match.group().encode())
                items.append((start, end, Verbatim(match.group().strip())))
        return items

    def _function(self, cursor: ci.Cursor, extern_c: bool) -> Function:
        qualifiers: set[FuncQual] = {FuncQual.extern_c} if extern_c else set()
        attributes: list[str] = []
        params: list[Param] = []
        template_params: list[TemplateParam] = []
        body_cursor = None
        for child in cursor.get_children():
            kind = kind_of(child)
            if kind in _ATTR_QUALIFIERS:
                qualifiers.add(_ATTR_QUALIFIERS[kind])
            elif kind == K.ANNOTATE_ATTR:
                if child.spelling in _ANNOTATED_QUALIFIERS:
                    qualifiers.add(_ANNOTATED_QUALIFIERS[child.spelling])
                elif child.spelling.startswith("xp_"):
                    attributes.append(child.spelling[3:])
            elif kind == K.PARM_DECL:
                params.append(self._param(child))
            elif kind in (K.TEMPLATE_TYPE_PARAMETER, K.TEMPLATE_NON_TYPE_PARAMETER, K.TEMPLATE_TEMPLATE_PARAMETER):
                template_params.append(self._template_param(child))
            elif kind == K.COMPOUND_STMT:
                body_cursor = child
        if cursor.storage_class == ci.StorageClass.STATIC:
            qualifiers.add(FuncQual.static)
        if is_inlined(cursor):
            qualifiers.add(FuncQual.inline)
        if self.converter.has_keyword_before_name(cursor, "constexpr"):
            qualifiers.add(FuncQual.constexpr)
        body = None
        if body_cursor is not None:
            self.converter.enclosing = frozenset(qualifiers)
            self.converter.skip_pragmas(body_cursor.extent.start.line)
            body = self.converter.block(body_cursor)
        return Function(cursor.spelling, convert_type(cursor.result_type), tuple(params), body,
                        frozenset(qualifiers), tuple(template_params), tuple(attributes))

    def _param(self, cursor: ci.Cursor) -> Param:
        defaults = expr_children(cursor)
        default = self.converter.expr(defaults[-1]) if defaults else None
        return Param(cursor.spelling, convert_type(cursor.type), default)

    def _template_param(self, cursor: ci.Cursor) -> TemplateParam:
        tokens = self.converter.token_texts(cursor)
        default = " ".join(tokens[tokens.index("=") + 1:]) if "=" in tokens else None
        if kind_of(cursor) == K.TEMPLATE_NON_TYPE_PARAMETER:
            return TemplateParam(cursor.spelling, convert_type(cursor.type), default)
        if kind_of(cursor) == K.TEMPLATE_TEMPLATE_PARAMETER:
            raise ConversionError("template template parameters are not supported", cursor)
        return TemplateParam(cursor.spelling, None, default)


def _declaration_end(source: bytes, end: int) -> int:
    """Offset after the `;` ending a declaration whose extent ends at `end` (attributes in between skipped)."""
    position = end
    while True:
        while position < len(source) and source[position:position + 1].isspace():
            position += 1
        if source.startswith(b";", position):
            return position + 1
        if not source.startswith(b"__attribute__", position):
            return end
        depth, position = 0, position + len(b"__attribute__")
        while position < len(source):
            char = source[position:position + 1]
            position += 1
            if char == b"(":
                depth += 1
            elif char == b")":
                depth -= 1
                if depth == 0:
                    break


def _pragma_lines(lines: list[str]) -> dict[int, str]:
    """1-based line -> pragma text (continuation lines joined)."""
    pragmas = {}
    index = 0
    while index < len(lines):
        match = _PRAGMA_LINE.match(lines[index])
        if match:
            text = match.group(1)
            first = index
            while text.rstrip().endswith("\\") and index + 1 < len(lines):
                index += 1
                text = text.rstrip()[:-1] + " " + lines[index].strip()
            pragmas[first + 1] = _strip_comment(text).strip()
        index += 1
    return pragmas


def _strip_comment(text: str) -> str:
    return re.sub(r"//.*$|/\*.*?\*/", "", text)


def _macro_values(lines: list[str]) -> dict[str, int]:
    """Object-like macros that are plain integers (used to resolve alignas(ALIGN))."""
    values = {}
    for line in lines:
        match = _DEFINE_LINE.match(line)
        if match:
            values[match.group(1)] = int(match.group(2))
    return values


def _line_offsets(data: bytes) -> list[int]:
    offsets = [0]
    for index, byte in enumerate(data):
        if byte == 0x0A:
            offsets.append(index + 1)
    return offsets
