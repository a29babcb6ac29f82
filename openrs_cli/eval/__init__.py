"""`openrs eval`: the paper's benchmarks, served or in-process generation, lighteval scoring, avg@k."""
