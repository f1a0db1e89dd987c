"""Write an imported trial as files OpenSim and gaitsim read.

:func:`write_trial` writes, into one folder:

``markers.trc``
    The markers in the trial's frame, in millimetres (:func:`gaitsim.io.trc.write_trc`).
``ground_reactions.mot`` and ``ground_reactions.xml``
    The ground reactions per foot and their ``ExternalLoads``
    (:func:`gaitsim.capture.ground_reactions.ground_reaction_table`), for trials with
    force plates; the trial must be in the model frame.
``events.csv``
    The gait events: ``side,kind,time_s,label``.
``trial.json``
    What the folder holds and how it was made: source, frame and rotation, subject,
    processing history, plate contacts and their feet.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from gaitsim.capture.ground_reactions import FootAssignment, assign_feet, ground_reaction_table
from gaitsim.capture.trial import Trial
from gaitsim.io.external_loads import write_external_loads
from gaitsim.io.storage import StrPath, write_storage
from gaitsim.io.trc import write_trc

__all__ = ["TrialFiles", "write_trial"]

FORMAT = "gaitsim-trial"
VERSION = 1


@dataclass(frozen=True)
class TrialFiles:
    """The files :func:`write_trial` wrote (``None`` where not written)."""

    markers: Path
    ground_reactions: Path | None
    external_loads: Path | None
    events: Path
    summary: Path


def write_trial(
    trial: Trial,
    folder: StrPath,
    *,
    assignment: FootAssignment | None = None,
    strict: bool = True,
) -> TrialFiles:
    """Write ``trial`` into ``folder`` (created if needed; files overwritten).

    Parameters
    ----------
    trial
        The trial (in the model frame when it has force plates).
    folder
        Destination folder.
    assignment
        Feet of the plate contacts; default :func:`assign_feet` on the trial.
    strict
        Passed to :func:`ground_reaction_table`: refuse unassigned contacts.

    Raises
    ------
    GaitsimError
        If the ground reactions cannot be made (see :func:`ground_reaction_table`).
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    markers = out / "markers.trc"
    write_trc(trial.markers, markers, units="mm")
    grf_path = loads_path = None
    if trial.force_plates:
        assignment = assignment or assign_feet(trial)
        table, loads = ground_reaction_table(
            trial, assignment, strict=strict, datafile="ground_reactions.mot"
        )
        grf_path, loads_path = out / "ground_reactions.mot", out / "ground_reactions.xml"
        write_storage(table, grf_path)
        write_external_loads(loads, loads_path)
    events = out / "events.csv"
    with events.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["side", "kind", "time_s", "label"])
        for event in trial.events:
            writer.writerow([event.side, event.kind, repr(event.time), event.label])
    summary = out / "trial.json"
    content = {
        "format": FORMAT,
        "version": VERSION,
        "source": trial.source,
        "frame": trial.frame,
        "rotation": trial.rotation.tolist(),
        "subject": {
            "name": trial.subject.name,
            "mass_kg": trial.subject.mass,
            "height_m": trial.subject.height,
        },
        "markers": {"count": len(trial.markers.marker_names), "frames": trial.markers.n_frames},
        "force_plates": [p.name for p in trial.force_plates],
        "contacts": [
            {
                "plate": c.plate,
                "start_s": c.start,
                "end_s": c.end,
                "side": c.side,
                "note": c.note,
            }
            for c in (assignment.contacts if assignment is not None else ())
        ],
        "history": list(trial.history),
    }
    summary.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    return TrialFiles(
        markers=markers,
        ground_reactions=grf_path,
        external_loads=loads_path,
        events=events,
        summary=summary,
    )
