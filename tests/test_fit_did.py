"""The csdid model as the workflow fits it: tidy rows, one-treated-area guard, event study."""

import math

import pandas as pd

from integration_models.data.ingest import IngestSettings, build_panel
from integration_models.models.base import FitSettings
from integration_models.models.design import TERMS
from integration_models.models.fit_job import fit_did
from tests.conftest import DEMO


def test_fit_did_rows(areas, baseline):
    panel, _ = build_panel(DEMO, areas, baseline, IngestSettings(2010, 2023))
    # East Lothian the only area first integrated as partial once Midlothian, South
    # Lanarkshire and Fife are left out
    panel = panel[~panel["area_code"].isin(["S12000019", "S12000029", "S12000047"])]
    result, events = fit_did(panel, "balance_of_care", "identity", FitSettings())
    rows = pd.DataFrame(result.coefficients).set_index("term")
    assert list(rows.index) == list(TERMS)
    assert result.fit["status"] == "ok" and result.fit["model"] == "csdid"
    full = rows.loc["integration_full"]
    assert full.conf_low <= 2.0 <= full.conf_high  # demo truth
    partial = rows.loc["integration_partial"]
    # no valid standard error from one treated area
    assert math.isnan(partial.std_error) and "only 1 treated area" in partial.note
    assert math.isfinite(partial.estimate)
    assert rows.loc["time", "note"] == "not part of the difference-in-differences design"
    frame = pd.DataFrame(events)
    assert set(frame.category) == {"full", "partial"}
    assert frame.loc[frame.category == "partial", "std_error"].isna().all()
    assert (frame.loc[frame.category == "full", "event_time"] < -1).any()
