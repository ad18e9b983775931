"""Suggestions for untagged work: a text model per plan, learned on this machine from the items
people tagged, scoring the items nobody tagged (the only package that imports scikit-learn)."""
