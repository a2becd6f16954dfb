"""Benchmarks (run by ``make bench``); each writes its report into reports/."""
