"""Exports statsmodels' Mauna Loa weekly CO2 series (Debian python3-statsmodels) as full.csv: date, co2.
Weeks without a measurement are dropped."""
import sys

from statsmodels.datasets import co2

d = co2.load_pandas().data.dropna()
d.index.name = "date"
d.reset_index().assign(date=lambda x: x["date"].dt.strftime("%Y-%m-%d")).to_csv(f"{sys.argv[1]}/full.csv", index=False)
