"""hubopt: propose how GP practices group into hubs of a target population.

Stages (one module each): :mod:`~hubopt.inputs` -> :mod:`~hubopt.network` ->
:mod:`~hubopt.matrix` -> :mod:`~hubopt.model` -> :mod:`~hubopt.solve` ->
:mod:`~hubopt.check` -> :mod:`~hubopt.report` / :mod:`~hubopt.maps`;
:mod:`~hubopt.pipeline` runs them in order for a :class:`~hubopt.scenario.Scenario`.
"""

from hubopt.errors import (
    HuboptError,
    InfeasibleError,
    InputError,
    NetworkError,
    OutputExistsError,
    SolverError,
)
from hubopt.scenario import Scenario, load_scenario

__version__ = "0.1.0"

__all__ = [
    "HuboptError",
    "InfeasibleError",
    "InputError",
    "NetworkError",
    "OutputExistsError",
    "Scenario",
    "SolverError",
    "load_scenario",
]
