"""Exports the RAND Health Insurance Experiment data (Debian python3-statsmodels) as full.csv."""
import sys

from statsmodels.datasets import randhie

randhie.load_pandas().data.to_csv(f"{sys.argv[1]}/full.csv", index=False)
