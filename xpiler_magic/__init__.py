"""Xpiler's notebook extension: `%load_ext xpiler_magic` registers `%%xpile` and `%xpile_config`."""


def load_ipython_extension(ipython) -> None:
    from .magics import XpilerMagics

    ipython.register_magics(XpilerMagics)
