"""The NVDEC benchmark harness behind scripts/bench_nvdec.py (see bench/README.md): common
(constants, statistics, table rows), procs (processes, nvidia-smi, notes), contenders (how each
runs), report (the markdown), selftest. Standard library only."""
