"""`xpile`: the command line for scripts and CI. Argument parsing, one library call, and a readable result.

Every failure prints a diagnostic (code, place, message, hint) on stderr and exits non-zero; never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from kernel_ir.detect import detect_dialect
from kernel_ir.diagnostics import Diagnostic, XpilerError
from kernel_ir.entry import bind_arguments, find_entry
from kernel_ir.executor import execute
from kernel_ir.parse import parse

from .assist import check_llm_options, translate_with_llm
from .render import llm_text, report_page, tuning_text
from .tuning import STRATEGIES

DIALECTS = ("cuda", "hip", "bang", "cpp")
EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def parse_launch(items: list[str] | None) -> dict | None:
    """`grid=64x2 block=256 shared=4096` or `tasks=16 cores=4` -> the executor's launch dict."""
    if not items:
        return None
    keys = {"grid": "grid", "block": "block", "shared": "shared", "tasks": "task_dim", "cores": "cores_per_cluster"}
    launch: dict = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in keys or not value:
            raise XpilerError("XP002", f"bad --launch item {item!r}",
                              hint="use grid=X[xYxZ] block=X[xYxZ] shared=BYTES (CUDA/HIP) or tasks=N cores=N (BANG)")
        try:
            dims = tuple(int(v) for v in value.lower().split("x"))
        except ValueError:
            raise XpilerError("XP002", f"--launch {key} needs integers, got {value!r}") from None
        if any(d < (0 if key == "shared" else 1) for d in dims) or len(dims) > 3:
            raise XpilerError("XP002", f"--launch {key}={value} is out of range")
        launch[keys[key]] = dims[0] if key in ("shared", "cores") else dims
    return launch


def load_inputs(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise XpilerError("XP003", f"input file {path} does not exist") from None
    except (OSError, ValueError) as err:
        raise XpilerError("XP003", f"cannot read {path} as .npz: {err}") from None


def read_source(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        raise XpilerError("XP003", f"kernel file {path} does not exist") from None
    except UnicodeDecodeError:
        raise XpilerError("XP003", f"kernel file {path} is not text") from None


def command_run(args: argparse.Namespace) -> int:
    source = read_source(args.kernel)
    dialect = args.dialect or detect_dialect(source)
    entry = find_entry(parse(source, dialect), args.entry)
    inputs = load_inputs(args.args) if args.args else {}
    bound = bind_arguments(entry, inputs)
    outputs = execute(source, dialect, entry.name, bound, launch=parse_launch(args.launch),
                      bounds_check=args.bounds_check, timeout_s=args.timeout, native=args.native)
    np.savez(args.output, **outputs)
    shapes = ", ".join(f"{k}{list(v.shape)}" for k, v in outputs.items())
    print(f"ran {entry.name} ({dialect}, {'native' if args.native else 'CPU executor'}): wrote {shapes} to {args.output}")
    return 0


def parse_sizes(items: list[str] | None) -> dict[str, int | float]:
    """`n=37 eps=0.5` -> {"n": 37, "eps": 0.5} (values of the entry's scalar parameters)."""
    sizes: dict[str, int | float] = {}
    for item in items or []:
        key, _, value = item.partition("=")
        try:
            sizes[key] = int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            raise XpilerError("XP002", f"bad --size item {item!r}", hint="use NAME=NUMBER, e.g. --size n=37") from None
    return sizes


def command_translate(args: argparse.Namespace) -> int:
    from passes.translate import translate_checked

    source = read_source(args.kernel)
    llm_passes = None
    check_llm_options(args.llm, args.llm_base_url, not args.no_verify)
    if args.llm:
        assisted = translate_with_llm(source, args.target, args.source, args.entry, args.llm, args.llm_base_url,
                                      None, None, parse_sizes(args.size))
        checked, llm_passes = assisted.checked, assisted.llm_passes
    else:
        checked = translate_checked(source, args.target, args.source, args.entry, verify_result=not args.no_verify,
                                    sizes=parse_sizes(args.size))
    result = checked.translation
    args.output.write_text(result.code)
    report = {**checked.to_json(), "source": str(args.kernel), "output": str(args.output)}
    if llm_passes is not None:
        report["llm"] = llm_passes
    if args.report:
        args.report.write_text(json.dumps(report, indent=2, default=str) + "\n")
    if args.html:
        args.html.write_text(report_page(report, source, result.code))
    steps = " -> ".join(p.name for p in result.passes)
    print(f"translated {result.entry} ({result.source_dialect} -> {result.target_dialect}) in {result.elapsed_s:.1f} s "
          f"via {steps}: wrote {args.output}")
    for compiled in result.compile_results:
        verdict = {True: "ok", False: "FAILED", None: "not run"}[compiled.ok]
        print(f"  compile ({compiled.command}): {verdict}" + ("" if compiled.ok else f": {compiled.output.strip()[:300]}"))
    if llm_passes is not None:
        print("\n".join("  " + line for line in llm_text(llm_passes)))
    verification = checked.verification
    if verification is None:
        print("  verification: skipped (--no-verify)")
        return 0
    print(f"  verification: {verification.status}: {verification.reason}")
    return EXIT_FAILED if verification.status in ("mismatch", "failed") else 0


def command_tune(args: argparse.Namespace) -> int:
    """Translate and verify, then tune on a device with the progress line on stderr; write the best code and
    the reports. Interrupted (Ctrl-C): the finished trials are kept and the best so far is written, exit 130."""
    from kernel_ir.store import default_root
    from passes.translate import translate_checked

    from .tuning import run_tuning, trials_path, tuning_report

    source = read_source(args.kernel)
    sizes = parse_sizes(args.size)
    checked = translate_checked(source, args.target, args.source, args.entry, sizes=sizes)
    tuning = run_tuning(source, checked.translation, args.budget, args.device, args.strategy,
                        args.trials or trials_path(default_root()), parse_sizes(args.tune_size), sizes, widgets=False)
    report = {**checked.to_json(), "tuning": tuning_report(tuning, args.budget, args.strategy),
              "source": str(args.kernel), "output": str(args.output)}
    print("\n".join(tuning_text(report["tuning"])))
    if tuning.best_code is None:
        print("xpile: no candidate verified: nothing written", file=sys.stderr)
        return EXIT_FAILED
    args.output.write_text(tuning.best_code)
    if args.report:
        args.report.write_text(json.dumps(report, indent=2, default=str) + "\n")
    if args.html:
        args.html.write_text(report_page(report, source, tuning.best_code))
    print(f"wrote the best verified candidate to {args.output}")
    if tuning.interrupted:
        print("xpile: interrupted: the finished trials are kept; run again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


REPORT_KEYS = ("entry", "source_dialect", "target_dialect", "passes", "compile", "verification", "elapsed_s")


def report_file(report_path: Path, named: str, what: str) -> str:
    """A file a report names: as written (relative to where `xpile translate` ran), else beside the report."""
    for candidate in (Path(named), report_path.parent / named):
        if candidate.is_file():
            return read_source(candidate)
    raise XpilerError("XP003", f"the {what} file {named!r} named in {report_path} does not exist",
                      hint="run xpile report from the folder xpile translate ran in, or keep the files beside the report")


def command_report(args: argparse.Namespace) -> int:
    try:
        report = json.loads(args.report.read_text())
    except FileNotFoundError:
        raise XpilerError("XP003", f"report file {args.report} does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise XpilerError("XP003", f"{args.report} is not JSON: {err}") from None
    if not isinstance(report, dict) or any(key not in report for key in (*REPORT_KEYS, "source", "output")):
        raise XpilerError("XP003", f"{args.report} is not a report of xpile translate",
                          hint="write one with xpile translate SRC --target T -o OUT --report REPORT.json")
    source, code = report_file(args.report, report["source"], "source"), report_file(args.report, report["output"], "translation")
    args.output.write_text(report_page(report, source, code))
    print(f"wrote {args.output}: {report['entry']} ({report['source_dialect']} -> {report['target_dialect']}), "
          f"{report['verification']['status']}")
    return 0


def command_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return 0 if run_demo() else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xpile", description="Port tensor kernels between CUDA, HIP, BANG C and C/VNNI.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the embedded example end to end and show the evidence")
    demo.set_defaults(handler=command_demo)
    run = sub.add_parser("run", help="execute a kernel on the CPU executor with arrays from an .npz file")
    run.add_argument("kernel", type=Path, help="kernel source file")
    run.add_argument("--args", type=Path, help="inputs: an .npz whose names are parameter names (or arg0, arg1, ...)")
    run.add_argument("-o", "--output", type=Path, required=True, help="where to write every pointer argument (.npz)")
    run.add_argument("--dialect", choices=DIALECTS, help="source dialect (default: detected from the text)")
    run.add_argument("--entry", help="function to call (default: the host launcher / __mlu_global__ / exported function)")
    run.add_argument("--launch", nargs="+", metavar="KEY=VALUE",
                     help="launch for a kernel entry: grid=X[xYxZ] block=X[xYxZ] shared=BYTES, or tasks=N cores=N (BANG)")
    run.add_argument("--bounds-check", action="store_true", help="report the first out-of-bounds access (slower)")
    run.add_argument("--native", action="store_true", help="run for real: cpp with the intrinsics of this CPU, cuda/hip on this machine's GPU (XP005 without one)")
    run.add_argument("--timeout", type=float, default=120.0, help="seconds before the run is stopped (default 120)")
    run.set_defaults(handler=command_run)
    tr = sub.add_parser("translate", help="port a kernel to another dialect, and check it by running both")
    tr.add_argument("kernel", type=Path, help="kernel source file")
    tr.add_argument("--target", choices=DIALECTS, required=True, help="dialect to translate to")
    tr.add_argument("--source", choices=DIALECTS, help="source dialect (default: detected from the text)")
    tr.add_argument("--entry", help="function to translate (default: the host launcher / __mlu_global__ / exported function)")
    tr.add_argument("-o", "--output", type=Path, required=True, help="where to write the translated code")
    tr.add_argument("--report", type=Path, help="where to write a JSON report (passes, compile results, verification)")
    tr.add_argument("--html", type=Path, help="where to write an HTML report (the notebook view of the result)")
    tr.add_argument("--no-verify", action="store_true", help="do not run source and translation to compare them")
    tr.add_argument("--size", nargs="+", metavar="NAME=VALUE",
                    help="values of scalar parameters for the verification run (default: small sizes like 37, 19)")
    tr.add_argument("--llm", metavar="MODEL",
                    help="LLM-assisted: MODEL proposes the bind pass, execution judges it, Z3 repairs it, the symbolic "
                         "pass is the fallback; key from $OPENAI_API_KEY, answers cached in $XPILER_CACHE_DIR/llm")
    tr.add_argument("--llm-base-url", metavar="URL",
                    help="OpenAI-compatible endpoint for --llm (default: $OPENAI_BASE_URL, else OpenAI)")
    tr.set_defaults(handler=command_translate)
    tu = sub.add_parser("tune", help="translate, then search the translation's knobs for the fastest verified "
                                      "candidate on a device")
    tu.add_argument("kernel", type=Path, help="kernel source file")
    tu.add_argument("--target", choices=DIALECTS, required=True, help="dialect to translate to")
    tu.add_argument("--source", choices=DIALECTS, help="source dialect (default: detected from the text)")
    tu.add_argument("--entry", help="function to translate (default: the host launcher / __mlu_global__ / exported function)")
    tu.add_argument("--budget", type=int, default=20, help="trials in all, replayed ones included (default 20)")
    tu.add_argument("--device", default="local",
                    help="local (default), gpu, or a Dask scheduler address tcp://host:port")
    tu.add_argument("--strategy", choices=STRATEGIES, default="bayes", help="how candidates are picked (default bayes)")
    tu.add_argument("--size", nargs="+", metavar="NAME=VALUE", help="scalar values for the verification runs")
    tu.add_argument("--tune-size", nargs="+", metavar="NAME=VALUE", help="scalar values of the timed inputs, e.g. n=512")
    tu.add_argument("--trials", type=Path, help="the trial store (default: $XPILER_CACHE_DIR/trials/trials.jsonl); "
                                                "a re-run replays the trials found there")
    tu.add_argument("-o", "--output", type=Path, required=True, help="where to write the best verified code")
    tu.add_argument("--report", type=Path, help="where to write a JSON report (the translation's, plus the tuning)")
    tu.add_argument("--html", type=Path, help="where to write an HTML report (the notebook view of the result)")
    tu.set_defaults(handler=command_tune)
    rep = sub.add_parser("report", help="turn a JSON report of xpile translate into an HTML page")
    rep.add_argument("report", type=Path, help="the JSON report (xpile translate --report)")
    rep.add_argument("-o", "--output", type=Path, required=True, help="where to write the HTML page")
    rep.set_defaults(handler=command_report)
    return parser


def render(diagnostic: Diagnostic, source_name: str | None) -> str:
    prefix = f"{source_name}:" if source_name and diagnostic.line else ""
    return f"xpile: {prefix}{diagnostic}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except XpilerError as err:
        print(render(err.diagnostic, str(getattr(args, "kernel", "") or "")), file=sys.stderr)
        report = getattr(args, "report", None)
        if report is not None and args.handler is command_translate:  # the report says why there is no result
            report.write_text(json.dumps({"source": str(args.kernel), "status": "refused", "code": err.code,
                                          "message": err.message, "line": err.diagnostic.line,
                                          "column": err.diagnostic.column, "hint": err.diagnostic.hint},
                                         indent=2) + "\n")
        if err.diagnostic.detail and getattr(args, "verbose", False):
            print(err.diagnostic.detail, file=sys.stderr)
        return EXIT_USAGE if err.code.startswith(("XP0", "XP4")) else EXIT_FAILED
    except KeyboardInterrupt:
        print("xpile: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
