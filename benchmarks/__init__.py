"""paperwire's benchmarks: ``python -m benchmarks [import|latency]`` (or ``make bench``).

Each benchmark is one module with a ``run(args) -> list[Table]`` function; results are
printed as plain-text tables with the machine they ran on, and recorded by hand in
``docs/benchmarks.md``. They read the real data in ``../shared/data`` and never write to it.
"""
