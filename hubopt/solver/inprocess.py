"""HiGHS in the process: the small models of set partitioning (master, pricing).

:func:`new_model` is a quiet, single-threaded ``highspy.Highs``; :func:`run_until`
solves it and stops it at a deadline through HiGHS's interrupt callbacks, which the
solver checks inside simplex and branch-and-bound (its ``time_limit`` option alone was
passed by 70 s on a master MIP of 220,000 columns whose first LP it does not
interrupt). HiGHS's MIP presolve checks neither: on Kent and Medway's master MIP of
75,000 enumerated columns it ran 9 s past the hard stop, so :func:`run_guarded` solves
in a thread and returns at the deadline whatever HiGHS is doing (HiGHS releases the GIL
while it runs; the solve left behind stops at its next check).
"""

from __future__ import annotations

import threading
import time

import highspy

_INTERRUPTS = (
    highspy.cb.HighsCallbackType.kCallbackSimplexInterrupt,
    highspy.cb.HighsCallbackType.kCallbackIpmInterrupt,
    highspy.cb.HighsCallbackType.kCallbackMipInterrupt,
)


def new_model(*, mip_gap: float | None = None) -> highspy.Highs:
    """A quiet single-threaded HiGHS model (``mip_gap``: relative and absolute MIP
    gap tolerances, 0 to prove optimality)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", mip_gap)
        h.setOptionValue("mip_abs_gap", max(mip_gap, 1e-9))
    return h


def run_until(h: highspy.Highs, deadline: float) -> bool:
    """Solve ``h``, stopped at ``deadline`` (``time.perf_counter()`` seconds); whether
    the deadline stopped it."""
    h.setOptionValue("time_limit", max(0.01, deadline - time.perf_counter()))
    stopped = [False]

    def interrupt(kind, message, data_out, data_in, user_data) -> None:  # noqa: ANN001
        if time.perf_counter() > deadline:
            data_in.user_interrupt = True
            stopped[0] = True

    h.setCallback(interrupt, None)
    for kind in _INTERRUPTS:
        h.startCallback(kind)
    try:
        h.run()
    finally:
        for kind in _INTERRUPTS:
            h.stopCallback(kind)
    status = h.getModelStatus()
    return stopped[0] or status in (
        highspy.HighsModelStatus.kTimeLimit,
        highspy.HighsModelStatus.kInterrupt,
    )


#: Seconds a guarded solve may take past its deadline to stop at its own checks before
#: it is left behind.
GUARD_GRACE = 0.5


def run_guarded(h: highspy.Highs, deadline: float) -> bool:
    """:func:`run_until` in a thread, returning by ``deadline`` (and
    :data:`GUARD_GRACE`) even where HiGHS does not check the clock; whether it finished
    (else ``h`` is still running and none of its results may be read)."""
    solving = threading.Thread(target=run_until, args=(h, deadline), name="hubopt-highs",
                               daemon=True)  # fmt: skip
    solving.start()
    solving.join(max(0.0, deadline - time.perf_counter()) + GUARD_GRACE)
    return not solving.is_alive()
