"""`openrs report`: the summary table and figures, from the paper's quoted numbers and result files."""
