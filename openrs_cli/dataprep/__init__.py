"""`openrs data`: training sets like the paper's, rebuilt from sources with every filter counted."""
