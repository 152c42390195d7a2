"""Reference solution for chicago (kept out of the agent's workspace): boosted trees plus calendar features."""
import pandas as pd
from reference_lib import hgb


def calendar(df):
    t = pd.to_datetime(df.pop("date"))
    return df.assign(dow=t.dt.dayofweek, month=t.dt.month, year=t.dt.year, doy=t.dt.dayofyear)


hgb("ridership", "regression", extra=calendar)
