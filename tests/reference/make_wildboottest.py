"""Reference for the wild cluster bootstrap: ``wildboottest`` on ``twfe_input.csv``.

    python tests/reference/make_wildboottest.py    (from the repository root)

Writes ``tests/reference/wildboottest.csv``: per indicator and integration term, the WCR
bootstrap (Webb weights, ``B = 9999``, ``seed = 1``, clustered by area) of ``wildboottest``
0.3.2 on the OLS of ``y`` on the integration dummies, the controls (every column after
``integration_partial``) and area and year dummies, as the live test in
``tests/test_inference.py``: its t-statistic and p-value, and ``cond_x``, the condition number
of that regressor matrix (the tests' tolerance on t follows from it). It uses only pandas,
statsmodels and wildboottest, not this project's package.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from wildboottest.wildboottest import wildboottest

HERE = Path(__file__).resolve().parent
REPS = 9999
SEED = 1
TERMS = ("integration_full", "integration_partial")


def regressors(frame: pd.DataFrame) -> pd.DataFrame:
    """Constant, integration dummies, controls, area and year dummies (first level dropped)."""
    columns = list(frame.columns)
    controls = columns[columns.index("integration_partial") + 1 :]
    x = pd.concat(
        [
            frame[[*TERMS, *controls]],
            pd.get_dummies(frame["area_code"], drop_first=True, dtype=float),
            pd.get_dummies(frame["year"], drop_first=True, dtype=float),
        ],
        axis=1,
    )
    x.insert(0, "const", 1.0)
    x.columns = x.columns.astype(str)
    return x


def main() -> None:
    """Run wildboottest on every indicator of ``twfe_input.csv``; write ``wildboottest.csv``."""
    data = pd.read_csv(HERE / "twfe_input.csv", comment="#")
    rows = []
    for indicator, frame in data.groupby("indicator_id", sort=False):
        frame = frame.drop(columns="indicator_id").reset_index(drop=True)
        x = regressors(frame.drop(columns="y"))
        model = sm.OLS(frame["y"].to_numpy(), x)
        cluster = pd.factorize(frame["area_code"], sort=True)[0].astype(np.int64)
        for term in TERMS:
            result = wildboottest(
                model,
                B=REPS,
                cluster=cluster,
                param=term,
                weights_type="webb",
                seed=SEED,
                show=False,
            )
            t_value, p_value = result.to_numpy()[0]
            rows.append(
                {
                    "indicator_id": indicator,
                    "term": term,
                    "statistic": float(t_value),
                    "p_value": float(p_value),
                    "reps": REPS,
                    "seed": SEED,
                    "cond_x": float(np.linalg.cond(x.to_numpy())),
                }
            )
    versions = ", ".join(
        f"{name} {version(name)}" for name in ("wildboottest", "numpy", "pandas", "statsmodels")
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    path = HERE / "wildboottest.csv"
    with path.open("w", newline="") as handle:
        handle.write(
            "# wildboottest.csv: made by 'python tests/reference/make_wildboottest.py' from "
            f"twfe_input.csv (Webb weights, B={REPS}, seed={SEED}); {versions}; {stamp}\n"
        )
        pd.DataFrame(rows).to_csv(handle, index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
