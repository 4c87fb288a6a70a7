"""`%%xpile` and `%xpile_config`: translation (and, with --tune, autotuning) from a notebook cell, with session
defaults.

A cell always ends in something readable: the result (badge, evidence, code, diff, passes) or a coded diagnostic,
never a traceback. The result is also left in the user namespace (under `--as`, default `_xpile`) and the last
error under `_xpile_error`, so later cells can use either.
"""
from __future__ import annotations

import os
import traceback
from pathlib import Path

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from kernel_ir.diagnostics import Diagnostic, XpilerError
from kernel_ir.store import default_root

from . import render
from .assist import check_llm_options, translate_with_llm
from .result import SHOW_CHOICES, XpileDiagnostic, XpileResult
from .tuning import STRATEGIES, run_tuning, trials_path, tuning_report

DIALECTS = ("cuda", "hip", "bang", "cpp")
DEFAULT_NAME = "_xpile"
ERROR_NAME = "_xpile_error"

# Session settings: name -> what uses it. Keys holding secrets are never displayed.
CONFIG_USES = {
    "target": "%%xpile when --target is not given",
    "verify": "%%xpile when neither --verify nor --no-verify is given",
    "cache_dir": "caches kept between runs: builds/, llm/, trials/ ($XPILER_CACHE_DIR for this session)",
    "device": "%%xpile --tune when --device is not given: local, gpu or tcp://host:port (a Dask scheduler)",
    "llm_model": "%%xpile --llm when no MODEL is given",
    "llm_base_url": "%%xpile --llm when --llm-base-url is not given (default: $OPENAI_BASE_URL, else OpenAI)",
    "llm_api_key": "%%xpile --llm when an answer is not cached (default: $OPENAI_API_KEY)",
    "llm_cache_dir": "where %%xpile --llm keeps and replays answers (default: <cache_dir>/llm)",
}
SECRET_MARKERS = ("key", "token", "secret", "password")
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
CACHE_FOLDER = ".xpiler"  # next to the notebook
CACHE_SUBFOLDERS = ("builds", "llm", "trials")  # executor builds, LLM answers, tuning trials


def notebook_folder(environ: dict[str, str], cwd: Path) -> Path:
    """The folder of the notebook this kernel serves: Jupyter puts the notebook's path in $JPY_SESSION_NAME and
    starts the kernel in its folder, so the working directory is the fallback (nbclient, older servers)."""
    session = environ.get("JPY_SESSION_NAME")
    if session and Path(session).is_absolute() and Path(session).is_file():
        return Path(session).parent
    return cwd


def session_cache_dir(environ: dict[str, str], in_kernel: bool, cwd: Path) -> tuple[Path | None, str]:
    """Where this session's caches go, and why: $XPILER_CACHE_DIR when the user set it; in a notebook kernel a
    `.xpiler/` folder next to the notebook (a re-run of the notebook finds its own answers, trials and builds,
    offline); otherwise None, the library's default (kernel_ir.store.default_root)."""
    if environ.get("XPILER_CACHE_DIR"):
        return Path(environ["XPILER_CACHE_DIR"]).expanduser().resolve(), "from $XPILER_CACHE_DIR"
    if in_kernel:
        return notebook_folder(environ, cwd).resolve() / CACHE_FOLDER, "next to the notebook"
    return None, "library default"


def prepare_cache(root: Path) -> None:
    """Make the cache folders and point every library cache there ($XPILER_CACHE_DIR, read at each use)."""
    try:
        for sub in CACHE_SUBFOLDERS:
            (root / sub).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise XpilerError("XP003", f"cannot create the cache folder {root}: {err.strerror}",
                          hint="choose another with %xpile_config cache_dir=PATH") from None
    os.environ["XPILER_CACHE_DIR"] = str(root)


def parse_sizes(text: str | None) -> dict[str, int | float] | None:
    """`n=37,alpha=0.5` -> {"n": 37, "alpha": 0.5}: values of the entry's scalar parameters for verification."""
    if not text:
        return None
    sizes: dict[str, int | float] = {}
    for item in text.split(","):
        key, _, value = item.strip().partition("=")
        try:
            sizes[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else float(value)
        except ValueError:
            raise XpilerError("XP002", f"bad --sizes item {item.strip()!r}",
                              hint="use NAME=NUMBER separated by commas, e.g. --sizes n=37,alpha=0.5") from None
        if not key.strip().isidentifier():
            raise XpilerError("XP002", f"bad --sizes item {item.strip()!r}: {key.strip()!r} is not a parameter name")
    return sizes


def is_secret(key: str) -> bool:
    return any(marker in key for marker in SECRET_MARKERS)


class XpileConfig:
    """The session's settings as a table (secrets shown as ***)."""

    def __init__(self, values: dict[str, object], cache_origin: str = ""):
        self.values = values
        self.cache_origin = cache_origin

    def rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for key, use in CONFIG_USES.items():
            value = self.values.get(key)
            shown = "(not set)" if value is None else "***" if is_secret(key) else str(value)
            if key == "cache_dir" and self.cache_origin:
                shown += f" ({self.cache_origin})"
            rows.append((key, shown, use))
        return rows

    def _repr_html_(self) -> str:
        return render.config_html(self.rows())

    def __repr__(self) -> str:
        return render.config_text(self.rows())


@magics_class
class XpilerMagics(Magics):
    """The Xpiler magics; one instance per shell holds the session settings."""

    def __init__(self, shell=None):
        super().__init__(shell)
        self.config_values: dict[str, object] = {"target": None, "verify": True}
        in_kernel = getattr(shell, "kernel", None) is not None
        cache_dir, self.cache_origin = session_cache_dir(dict(os.environ), in_kernel, Path.cwd())
        if cache_dir is not None:
            try:
                prepare_cache(cache_dir)
            except XpilerError as err:  # e.g. a read-only notebook folder: the session still works, uncached there
                display(XpileDiagnostic(err.diagnostic))
                cache_dir, self.cache_origin = None, "library default"
        self.config_values["cache_dir"] = str(cache_dir or default_root())

    @magic_arguments.magic_arguments()
    @magic_arguments.argument("--target", "-t", choices=DIALECTS,
                              help="dialect to translate to (default: %%xpile_config target)")
    @magic_arguments.argument("--source", "-s", choices=DIALECTS,
                              help="dialect of the cell (default: detected from the text)")
    @magic_arguments.argument("--entry", "-e", metavar="NAME",
                              help="function to translate (default: the host launcher / __mlu_global__ kernel / "
                                   "exported function)")
    @magic_arguments.argument("--verify", dest="verify", action="store_const", const=True, default=None,
                              help="run source and translation on the same inputs and compare them (default)")
    @magic_arguments.argument("--no-verify", dest="verify", action="store_const", const=False,
                              help="do not run anything: only translate and compile")
    @magic_arguments.argument("--as", dest="as_name", metavar="NAME", default=DEFAULT_NAME,
                              help=f"variable to store the result object in (default: {DEFAULT_NAME})")
    @magic_arguments.argument("-o", "--output", metavar="FILE", help="also write the translated code to FILE")
    @magic_arguments.argument("--show", choices=SHOW_CHOICES, default="code",
                              help="section to open: the code (default), the passes, the diff against the cell, "
                                   "or the loop form (ir) the translation went through")
    @magic_arguments.argument("--sizes", metavar="K=V,...",
                              help="scalar parameter values for verification, e.g. n=37,alpha=0.5")
    @magic_arguments.argument("--tune", metavar="N", type=int,
                              help="then autotune: N trials in all (replayed ones from .xpiler/trials included)")
    @magic_arguments.argument("--device", metavar="DEVICE",
                              help="where --tune times candidates: local (default), gpu, or a Dask scheduler "
                                   "address tcp://host:port (default: %%xpile_config device)")
    @magic_arguments.argument("--strategy", choices=STRATEGIES,
                              help="how --tune picks candidates (default: bayes)")
    @magic_arguments.argument("--tune-sizes", metavar="K=V,...",
                              help="scalar parameter values of the timed inputs, e.g. n=256 (default: small sizes)")
    @magic_arguments.argument("--llm", metavar="MODEL", nargs="?", const="",
                              help="LLM-assisted translation: MODEL proposes the bind pass, execution judges it, "
                                   "Z3 repairs it, the symbolic pass is the fallback (default MODEL: "
                                   "%%xpile_config llm_model)")
    @magic_arguments.argument("--llm-base-url", metavar="URL",
                              help="OpenAI-compatible endpoint for --llm (default: %%xpile_config llm_base_url)")
    @cell_magic
    def xpile(self, line: str, cell: str) -> None:
        """Translate the cell's kernel to another dialect, check it by running both, and show the evidence."""
        name = None
        try:
            args = magic_arguments.parse_argstring(self.xpile, line)
            name = args.as_name
            result = self.translate_cell(args, cell)
        except UsageError as err:
            self.report(Diagnostic("XP002", f"%%xpile: {err}", hint="see %%xpile? for the options"), cell, name)
            return
        except XpilerError as err:
            self.report(err.diagnostic, cell, name)
            return
        except Exception as err:  # noqa: BLE001 - a bug in a pass still ends in a readable cell output
            detail = self.scrub("".join(traceback.format_exception(err)))
            self.report(Diagnostic("XP900", self.scrub(f"internal error: {type(err).__name__}: {err}"),
                                   hint="this is a bug in Xpiler, not in the kernel; the details have the traceback",
                                   detail=detail), cell, name)
            return
        self.shell.user_ns[name] = result
        self.shell.user_ns[ERROR_NAME] = None
        display(result)
        if args.output:
            try:
                result.save(args.output)
            except OSError as err:
                self.report(Diagnostic("XP003", f"cannot write {args.output}: {err.strerror}"), "", None)

    def translate_cell(self, args, cell: str) -> XpileResult:
        from passes.translate import translate_checked

        if not args.as_name.isidentifier():
            raise XpilerError("XP002", f"--as {args.as_name!r} is not a Python variable name")
        target = args.target or self.config_values["target"]
        if target is None:
            raise XpilerError("XP001", "no target dialect", hint="add --target cuda|hip|bang|cpp, "
                                                                 "or set a default with %xpile_config target=cpp")
        verify = self.config_values["verify"] if args.verify is None else args.verify
        device = args.device or self.config_values.get("device")
        if args.tune is None and (args.device or args.tune_sizes or args.strategy):
            raise XpilerError("XP002", "--device, --strategy and --tune-sizes choose how --tune works",
                              hint="add --tune N (N trials), e.g. --tune 8")
        sizes, tune_sizes = parse_sizes(args.sizes), parse_sizes(args.tune_sizes)
        llm_passes = None
        check_llm_options(args.llm, args.llm_base_url, verify)
        if args.llm is not None:
            assisted = translate_with_llm(cell, target, args.source, args.entry,
                                          args.llm or self.config_values.get("llm_model") or "",
                                          args.llm_base_url or self.config_values.get("llm_base_url"),
                                          self.config_values.get("llm_api_key"), self.llm_cache_dir(), sizes)
            checked, llm_passes = assisted.checked, assisted.llm_passes
        else:
            checked = translate_checked(cell, target, args.source, args.entry, verify_result=verify, sizes=sizes)
        tuning = report = None
        if args.tune is not None:
            strategy = args.strategy or "bayes"
            tuning = run_tuning(cell, checked.translation, args.tune, device, strategy,
                                trials_path(self.config_values["cache_dir"]), tune_sizes, sizes)
            report = tuning_report(tuning, args.tune, strategy)
        result = XpileResult(cell, checked, show=args.show, tuning=tuning, tuning_report=report, llm_passes=llm_passes)
        if args.show in ("passes", "ir"):
            result.stages  # noqa: B018 - replayed here, so a failure ends in a diagnostic, not in the display
        return result

    def llm_cache_dir(self) -> Path:
        return Path(self.config_values.get("llm_cache_dir") or Path(self.config_values["cache_dir"]) / "llm")

    def scrub(self, text: str) -> str:
        """`text` without the session's API key (set here or in $OPENAI_API_KEY): an unforeseen error may quote it."""
        from synthesis.llm import scrub

        for secret in (self.config_values.get("llm_api_key"), os.environ.get("OPENAI_API_KEY")):
            text = scrub(text, secret) if isinstance(secret, str) else text
        return text

    def report(self, diagnostic: Diagnostic, cell: str, name: str | None) -> None:
        """Show the diagnostic, keep it as _xpile_error, and drop the stale result a later cell could misuse."""
        error = XpileDiagnostic(diagnostic, cell)
        self.shell.user_ns[ERROR_NAME] = error
        if name is not None:
            self.shell.user_ns.pop(name, None)
        display(error)

    @line_magic
    def xpile_config(self, line: str) -> None:
        """Show the session settings, or set some: %xpile_config target=cpp verify=false llm_api_key=...

        Keys: target, verify, cache_dir, device, llm_model, llm_base_url, llm_api_key, llm_cache_dir (secrets
        display as ***).
        """
        try:
            for item in line.split():
                key, sep, value = item.partition("=")
                self.set_config(key, value if sep else None)
        except XpilerError as err:
            display(XpileDiagnostic(err.diagnostic))
            return
        display(XpileConfig(self.config_values, self.cache_origin))

    def set_config(self, key: str, value: str | None) -> None:
        if key not in CONFIG_USES:
            raise XpilerError("XP002", f"unknown setting {key!r}", hint="settings: " + ", ".join(CONFIG_USES))
        if value is None or value == "":
            raise XpilerError("XP002", f"setting {key!r} needs a value", hint=f"write {key}=VALUE")
        if key == "target" and value not in DIALECTS:
            raise XpilerError("XP001", f"unknown target dialect {value!r}", hint=f"use one of {', '.join(DIALECTS)}")
        if key == "verify":
            if value.lower() not in TRUE_WORDS + FALSE_WORDS:
                raise XpilerError("XP002", f"verify={value!r} is not true or false")
            self.config_values[key] = value.lower() in TRUE_WORDS
            return
        if key == "llm_cache_dir":
            self.config_values[key] = str(Path(value).expanduser().resolve())
            return
        if key == "cache_dir":
            root = Path(value).expanduser().resolve()
            prepare_cache(root)
            self.config_values[key], self.cache_origin = str(root), "set by %xpile_config"
            return
        self.config_values[key] = value
