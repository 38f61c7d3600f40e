"""Scenes: runs of consecutive shots, chosen together by dynamic programming over the film.

Optimal sequential grouping (after Rotman et al. 2017): every split of the shots into runs is
scored, and the best one is found exactly by dynamic programming. A run pays, for every pair of
its shots, the pair's distance minus ``threshold`` (the signature distance at which two shots
are as likely to share a scene as not); pairs that look alike earn ``SIMILAR_GAIN`` times their
margin (1.0: matching and differing pairs weigh the same; measured on the generated films, a
larger gain merged more look-alike scenes than it saved dialogue splits).

Every scene also pays ``penalty`` (a penalty on the number of scenes, as in penalised change-point
detection): two runs are joined when their cross pairs, summed, cost less than one scene. A large
scene's boundary is backed by many cross pairs and is unaffected; two one- or two-shot runs of
one place that differ only by framing (one or a few pairs just past the threshold) are joined.
So ``threshold`` can sit low, where different places rarely fall, without over-splitting.

So two runs are joined exactly when their shots, taken all together, look alike, and a single
ambiguous shot that resembles both sides cannot chain two scenes: it adds one row of pairs
against every other pair across the boundary. Shot/reverse-shot dialogue (A B A B A) stays one
scene because every A matches the other As and every B the other Bs.

Film grammar joins in as costs on runs that contain a transition:
- a dissolve usually marks a change of place or time: a run containing one pays
  ``DISSOLVE_COST`` (what about a dozen look-alike pairs earn), so it is split there unless
  the shots on both sides look alike throughout;
- a fade through black is a deliberate break: a run may not contain one (a cost large enough
  to rank before any look-alike score);
- a boundary that cuts through shot/reverse-shot alternation is avoided: a run starting at
  shot b pays ``ALTERNATION_COST`` if b-2 looks like b (A B | A) and again if b-1 looks like
  b+1 (A | B A): a setup recurs across the boundary. Pair costs alone can split a long
  dialogue, whose A-B pairs (two framings, often far apart in look) outnumber its A-A and B-B
  pairs. One ambiguous shot X between two scenes (P P X Q Q) pins only the boundary two shots
  away from it, never both sides, so it still cannot chain the scenes;
- a run shorter than ``min_scene_s`` is avoided where any split allows it (this takes precedence
  over fades, so a short shot between two fades still joins a neighbour).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trajectory.signatures import DEEP_WEIGHT, ShotSignatures, shot_distances

SCENE_THRESHOLD = 0.20  # shot distance at which a pair is neutral evidence
SCENE_PENALTY = 0.35  # cost of one more scene, in units of one pair's distance margin
MIN_SCENE_S = 2.0
SIMILAR_GAIN = 1.0  # weight of a look-alike pair's margin against a different pair's
MAX_SCENE_SHOTS = 150  # longest run considered (bounds the work at O(shots x this))
DISSOLVE_COST = 6.0
ALTERNATION_COST = 1.0  # per setup recurring across a boundary: a few A-B pairs' worth
_FADE_COST = 1e6
_SHORT_COST = 1e9


@dataclass(frozen=True)
class SceneParams:
    """The grouping's parameters, recorded in tags.json."""

    threshold: float = SCENE_THRESHOLD
    min_scene_s: float = MIN_SCENE_S
    penalty: float = SCENE_PENALTY
    deep_weight: float = DEEP_WEIGHT  # weight of the model's pooled features when present

    def as_dict(self, deep_features: bool = False) -> dict:
        """The tags.json record; ``deep_weight`` is the weight used (0 without features)."""
        return {
            "method": "sequential-dp",
            "threshold": self.threshold,
            "penalty": self.penalty,
            "min_scene_s": self.min_scene_s,
            "deep_weight": self.deep_weight if deep_features else 0.0,
        }


def pair_costs(distances: np.ndarray, threshold: float) -> np.ndarray:
    """(S, S) cost of two shots sharing a scene: negative when they look alike."""
    margin = distances - threshold
    return np.where(margin < 0, SIMILAR_GAIN * margin, margin)


def _run_sums(costs: np.ndarray) -> np.ndarray:
    """R with R[a, b] = sum of costs[i, j] for i < a, j < b: any block sum in O(1)."""
    total = np.zeros((len(costs) + 1, len(costs) + 1))
    total[1:, 1:] = np.cumsum(np.cumsum(costs, axis=0), axis=1)
    return total


def transition_costs(transitions) -> np.ndarray:
    """(S,) cost of a run that contains the transition into each shot (the first's is 0)."""
    table = {"fade": _FADE_COST, "dissolve": DISSOLVE_COST}
    return np.array([table.get(kind, 0.0) for kind in transitions], dtype=np.float64)


def alternation_costs(distances: np.ndarray, threshold: float) -> np.ndarray:
    """(S,) cost of a scene starting at shot b: ALTERNATION_COST where A B | A B straddles it.

    Args:
        distances: (S, S) shot distances; threshold: the distance of a look-alike pair.
    """
    count = len(distances)
    costs = np.zeros(count)
    b = np.arange(2, count)
    costs[b] += ALTERNATION_COST * (distances[b - 2, b] < threshold)  # A B | A
    b = np.arange(1, count - 1)
    costs[b] += ALTERNATION_COST * (distances[b - 1, b + 1] < threshold)  # A | B A
    return costs


def segment_scenes(
    costs: np.ndarray,
    durations: np.ndarray,
    break_costs: np.ndarray,
    min_scene_s: float,
    penalty: float = SCENE_PENALTY,
    start_costs: np.ndarray | None = None,
) -> np.ndarray:
    """Splits S shots into runs minimising the summed run costs; returns (S,) scene indices.

    Args:
        costs: (S, S) symmetric pair costs with a zero diagonal (see :func:`pair_costs`).
        durations: (S,) shot lengths in seconds.
        break_costs: (S,) cost of a run that holds the transition into shot i
            (see :func:`transition_costs`).
        min_scene_s: runs shorter than this are avoided whenever possible.
        penalty: cost of every run (scene).
        start_costs: (S,) cost of a run that starts at shot i (see :func:`alternation_costs`).
    """
    count = len(durations)
    start_costs = np.zeros(count) if start_costs is None else start_costs
    sums = _run_sums(costs)
    ends = np.concatenate([[0.0], np.cumsum(durations)])
    breaks = np.concatenate([[0.0], np.cumsum(break_costs)])
    best = np.full(count + 1, np.inf)
    best[0] = 0.0
    back = np.zeros(count + 1, dtype=int)
    for stop in range(1, count + 1):
        starts = np.arange(max(0, stop - MAX_SCENE_SHOTS), stop)
        inside = (sums[stop, stop] - sums[starts, stop] - sums[stop, starts]) + sums[starts, starts]
        run = inside / 2 + penalty  # each pair counted twice in the symmetric block
        run += breaks[stop] - breaks[starts + 1]  # transitions strictly inside the run
        run += start_costs[starts]
        run += _SHORT_COST * (ends[stop] - ends[starts] < min_scene_s)
        total = best[starts] + run
        pick = int(np.argmin(total))
        best[stop], back[stop] = total[pick], starts[pick]
    scene = np.zeros(count, dtype=int)
    stop, runs = count, []
    while stop > 0:
        runs.append((back[stop], stop))
        stop = back[stop]
    for index, (start, stop) in enumerate(reversed(runs)):
        scene[start:stop] = index
    return scene


def group_scenes(
    starts: np.ndarray,
    ends: np.ndarray,
    signatures: ShotSignatures,
    transitions,
    params: SceneParams | None = None,
) -> np.ndarray:
    """Assigns each shot a scene index; scenes are runs of consecutive shots.

    Args:
        starts, ends: shot start/end times in seconds, shape (S,).
        signatures: the shots' signatures (S rows).
        transitions: (S,) how each shot begins: "start", "hard", "dissolve", "fade".
        params: threshold, penalty and minimum scene length; defaults when None.

    Returns:
        int array (S,) of scene indices, non-decreasing, starting at 0.
    """
    params = params or SceneParams()
    if len(starts) == 0:
        return np.zeros(0, dtype=int)
    distances = shot_distances(signatures, params.deep_weight)
    durations = np.asarray(ends, dtype=np.float64) - np.asarray(starts, dtype=np.float64)
    return segment_scenes(
        pair_costs(distances, params.threshold),
        durations,
        transition_costs(transitions),
        params.min_scene_s,
        params.penalty,
        alternation_costs(distances, params.threshold),
    )
