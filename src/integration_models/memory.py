"""Memory the resampling settings need, estimated at start-up so that a bad one fails early.

The ``inference`` job holds its resampling draws in NumPy arrays whose sizes follow from the
settings and the panel's shape, so an extreme setting (``inference_reps`` of 10^9 asks for a
238 GiB weight matrix) would otherwise fail late, with a MemoryError traceback, after the
ingest and the fits. The estimates below follow how the code allocates (8-byte floats and
integers; ``A`` areas, ``P`` partnerships, ``I`` indicators, ``k = 2`` integration terms,
``N = A x Y`` rows at most for ``Y`` years of the window):

- :func:`integration_models.inference.table.few_cluster_table` (``B = inference_reps``) keeps the
  ``A x B`` bootstrap weights, the ``B x P`` permutations and one column of ``B`` draws per
  indicator, term and resampling test (``2 k I``) to the end; while a design is tested, its
  weights and the two ``G x B`` temporaries of the bootstrap (``3 A``) and both tests' draws
  (``2 k I``); at the end the last design's draws and Romano-Wolf's four ``B x I``
  matrices. The randomisation inference's chunked temporaries and per-(area, donor) tables
  add a constant.
- :func:`integration_models.inference.power.power_table` (``B = power_reps``): the ``A x B``
  weights, a design's copy of them and two ``G x B`` temporaries; the pre-trend test's
  ``B x G x q`` scores (``q`` leads, at most 4); and the plan test's WCR in each of
  :data:`PLAN_TEST_REPLICATES` replicates with :data:`PLAN_TEST_DRAWS` draws: three
  replicates x draws arrays kept and about five temporaries of that size per power evaluated.
- :func:`integration_models.inference.size.indicator_size_rows` (``S = size_sims``,
  ``R = size_reps``; one indicator and DGP at a time): the ``N x S`` simulated errors (about
  three copies while they are drawn), then the largest of CRV1's ``N x k x S`` scores, the
  bootstrap's ``S x A x R`` weight codes (one byte each), its ``A x K x S`` and two
  ``S x A x A`` matrices and three ``c x A x R`` temporaries per chunk of ``c`` samples, and
  the randomisation inference's tables for one chunk of samples.

The steps run one after another in one process, so each is checked on its own. Measured on
the demo panel (tests/test_config_limits.py), each estimate is 1.0-1.5x the peak that
``tracemalloc`` reports (power from 1,000 replicates on; below, about 1 MiB of design arrays
dominates); the interpreter and its libraries (about 0.3 GB) come on top.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from integration_models.errors import InputError

BYTES = 8  # float64 and int64 elements
TERMS = 2  # integration_full and integration_partial
GIB = 2**30
# Floats per temporary in the randomisation inference's draw loops (small enough to stay in
# cache; integration_models.inference works in chunks of this size); about four are alive
# at once.
CHUNK_ELEMENTS = 400_000
CHUNK_BYTES = 4 * CHUNK_ELEMENTS * BYTES
# simulated samples of the size diagnostic sharing one set of permutations (RI), and per block
# of bootstrap weights (WCR: chunk x G x B), in integration_models.inference.size
SIZE_RI_CHUNK = 250
SIZE_WCR_CHUNK = 250
# the power of the plan's own test (inference.power.mde_plan_test): its resampling test inside
# each replicate has this many draws, on the first this many replicates
PLAN_TEST_DRAWS = 199
PLAN_TEST_REPLICATES = 500


@dataclass(frozen=True)
class PanelShape:
    """Upper bounds of the panel's dimensions that the resampling arrays scale with."""

    indicators: int
    areas: int
    partnerships: int
    years: int

    @property
    def rows(self) -> int:
        """Rows of one indicator's design at most: every area in every year."""
        return self.areas * self.years


def panel_shape(config: dict, n_indicators: int) -> PanelShape:
    """Return the shape bounds of a run: the areas table, the window and the registry size."""
    from integration_models.data.reference import load_areas

    areas = load_areas(config["areas"])
    return PanelShape(
        indicators=n_indicators,
        areas=len(areas),
        partnerships=areas["hscp_code"].nunique(),
        years=config["last_year"] - config["first_year"] + 1,
    )


def inference_bytes(shape: PanelShape, reps: int) -> float:
    """Peak bytes of the few-cluster inference with ``reps`` draws (module docstring)."""
    a, p, i, k = shape.areas, shape.partnerships, shape.indicators, TERMS
    kept = a + p + 2 * k * i
    per_design = 3 * a + 2 * k * i
    at_end = 2 * k * i + 4 * i
    tables = 3 * a * p * k * i * BYTES
    return BYTES * reps * (kept + max(per_design, at_end)) + CHUNK_BYTES + tables


def power_bytes(shape: PanelShape, reps: int) -> float:
    """Peak bytes of the minimum-detectable-effect simulation with ``reps`` replicates.

    Counts the plan test's WCR (the committed plan's test; the others need less or, RI, a
    few chunked tables) and the pre-trend test's scores (``4`` leads).
    """
    plan_test = 8 * min(reps, PLAN_TEST_REPLICATES) * PLAN_TEST_DRAWS
    return BYTES * (reps * 4 * shape.areas + reps * shape.areas * 4 + plan_test)


def size_bytes(shape: PanelShape, sims: int, reps: int) -> float:
    """Peak bytes of the size diagnostic: ``sims`` samples per DGP, ``reps`` draws each."""
    a, p, k, n = shape.areas, shape.partnerships, TERMS, shape.rows
    params = a + shape.years + 4  # area and year effects, covariates, terms (at most)
    errors = BYTES * sims * n * 3
    t_tests = BYTES * sims * n * (k + 1)
    bootstrap = sims * a * reps + BYTES * sims * a * (params + 2 * a)
    bootstrap += BYTES * 3 * min(sims, SIZE_WCR_CHUNK) * a * reps
    chunk = min(sims, SIZE_RI_CHUNK)
    permutation = BYTES * chunk * (3 * a * p * k + a * (shape.years + 3) + n * k) + CHUNK_BYTES
    return errors + max(t_tests, bootstrap, permutation)


def physical_memory() -> int:
    """Bytes of physical memory of this machine."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def resampling_needs(config: dict, shape: PanelShape) -> list[tuple[str, float]]:
    """Each resampling step's setting (as the message names it) and its estimated bytes."""
    sims, reps = config["size_sims"], config["size_reps"]
    return [
        (
            f"inference_reps {config['inference_reps']}",
            inference_bytes(shape, config["inference_reps"]),
        ),
        (f"power_reps {config['power_reps']}", power_bytes(shape, config["power_reps"])),
        (f"size_sims {sims} with size_reps {reps}", size_bytes(shape, sims, reps)),
    ]


def check_memory(config: dict, n_indicators: int, limit: float | None = None) -> None:
    """Refuse resampling settings whose arrays would not fit in memory, before any job runs.

    Parameters
    ----------
    config
        The validated configuration.
    n_indicators
        Indicators in the registry.
    limit
        Bytes available; the machine's physical memory by default.

    Raises
    ------
    InputError
        Naming the key, the estimated GiB and the GiB available.
    """
    where = "of this machine" if limit is None else "allowed"
    limit = physical_memory() if limit is None else limit
    for setting, need in resampling_needs(config, panel_shape(config, n_indicators)):
        if need > limit:
            raise InputError(
                "config",
                f"{setting} needs about {need / GIB:,.1f} GiB of memory in the inference job, "
                f"more than the {limit / GIB:,.1f} GiB {where}: use fewer draws",
            )
