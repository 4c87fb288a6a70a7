"""Kernels in varied platform styles (tests/test_styles.py): not the corpus, written to probe the translator with
idioms other authors use (grid-stride loops, early returns, macros, templates, launch bounds, NRAM tiling, AVX-512)."""
