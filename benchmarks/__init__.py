"""Side-by-side benchmarks of rnnkit against its peers: `python -m benchmarks`."""
