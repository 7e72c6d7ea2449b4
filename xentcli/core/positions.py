"""Inputs with more than two dimensions: every position along the other axes is a sample."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from xentcli.core.options import LossOptions
from xentcli.errors import DataError, UsageError


def flatten_positions(
    raw: NDArray[Any],
    labels: NDArray[Any],
    sample_weight: NDArray[Any] | None,
    opts: LossOptions,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None, NDArray[np.int64] | None]:
    """K-dimensional input: one row per position, classes last."""
    if raw.ndim <= 2 and opts.class_axis is None:
        return raw, labels, sample_weight, None
    if opts.class_axis is None:
        raise DataError(
            f"the input has shape {raw.shape}: with more than 2 dimensions, say which axis "
            "holds the classes: --class-axis 1 for (N, C, d1, ...) as in PyTorch, or -1 for "
            "channels-last (N, d1, ..., C)",
            source="logits",
        )
    if raw.ndim < 2:
        raise DataError(f"--class-axis needs at least 2 dimensions; got {raw.shape}")
    ax = opts.class_axis
    if not -raw.ndim <= ax < raw.ndim or ax % raw.ndim == 0:
        raise UsageError(
            f"--class-axis {ax} does not fit samples of shape {raw.shape[1:]} (axis 0 counts "
            "the samples; the classes are on axis 1 or later)"
        )
    moved = np.moveaxis(raw, ax, -1)
    spatial = moved.shape[:-1]
    c = moved.shape[-1]
    lab = np.asarray(labels)
    flat_labels: NDArray[Any]
    if lab.shape == spatial:
        flat_labels = lab.reshape(-1)
    elif lab.ndim == raw.ndim and np.moveaxis(lab, ax, -1).shape == moved.shape:
        flat_labels = np.moveaxis(lab, ax, -1).reshape(-1, c)
    else:
        raise DataError(
            f"labels have shape {lab.shape}; for scores of shape {raw.shape} with classes "
            f"on axis {ax}, they must have shape {spatial} (or {raw.shape} for soft targets)",
            source="labels",
        )
    sw = None
    if sample_weight is not None:
        s = np.asarray(sample_weight)
        if s.shape == spatial[:1]:
            s = np.broadcast_to(s.reshape((-1,) + (1,) * (len(spatial) - 1)), spatial)
        if s.shape != spatial:
            raise DataError(
                f"sample weights have shape {s.shape}; give one per sample {spatial[:1]} "
                f"or one per position {spatial}",
                source="sample_weight",
            )
        sw = s.reshape(-1)
    position = np.indices(spatial).reshape(len(spatial), -1).T.astype(np.int64)
    return moved.reshape(-1, c), flat_labels, sw, position
