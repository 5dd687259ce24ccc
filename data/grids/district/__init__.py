"""How data/grids/generate.py builds the sample district, by concern (run generate.py, not these)."""
