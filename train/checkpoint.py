"""Checkpoints with named leaves: pytrees as nested dicts of arrays.

A pytree (an ``nnx.State``, an optax state, a ``Runner``) is written as a
nested dict keyed by the names on the way to each leaf: attribute names of
dataclasses and named tuples, dict keys, positions in plain tuples and
lists. ``nnx.Variable`` wrappers are dropped (a ``Param`` becomes its
array) and PRNG keys become their ``uint32`` key data, so the dict is flax's
pure-dict form and serialises with msgpack. It is read back into a
*template* of the same structure (the freshly built model, or
``jax.eval_shape`` of the trainer's ``init``), leaf by leaf by name, with
each shape checked: a checkpoint never depends on the order in which JAX
flattens a tree, and a mismatch is one clear line (``UserInputError``).

The box trainer's checkpoint (``train.resume.save_checkpoint``), format 2::

    format                                      2
    round, best, stale, curve                   the loop's own state
    policy/actor/l1/kernel                      [n_obs, hidden]
    policy/actor/l3/bias, policy/log_std        [n_act]
    policy/critic/l2/kernel                     [hidden, hidden]
    optimiser/scale_by_adam/mu/actor/l1/kernel  Adam's first moment (same shapes)
    optimiser/scale_by_adam/count               []
    optimiser/scale_by_learning_rate/count      []
    rollout/env_state/target                    [n_envs, m]
    rollout/obs                                 [n_envs, n_obs]
    rollout/key                                 the rollout's PRNG key data

Format 1 (before Dec 2026) kept the same arrays as ``runner/0 ...
runner/N`` in flattening order; ``from_positional`` reads it when every
shape still matches, and says in one line that the run predates named
checkpoints when it does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from sim.errors import UserInputError
from train.ppo import Runner

FORMAT = 2
RUNNER_PARTS = ("policy", "optimiser", "rollout")


def _is_variable(node: Any) -> bool:
    return isinstance(node, nnx.Variable)


def _is_key(leaf: Any) -> bool:
    return jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def _entry_name(entry: Any) -> str:
    for attribute in ("name", "key", "idx"):
        if hasattr(entry, attribute):
            return str(getattr(entry, attribute))
    raise TypeError(f"cannot name pytree path entry {entry!r}")


def _named_paths(tree: Any) -> tuple[list[tuple[tuple[str, ...], Any]], Any]:
    """``[(names, leaf)]`` with ``nnx.Variable`` kept whole, and the treedef."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree, is_leaf=_is_variable)
    named = [(tuple(_entry_name(e) for e in path), leaf) for path, leaf in flat]
    for names, _ in named:
        if not names:
            raise TypeError("a named checkpoint needs a container, not a bare leaf")
    return named, treedef


def to_named(tree: Any) -> dict:
    """``tree`` as a nested dict of numpy arrays keyed by its leaves' names."""
    out: dict = {}
    for names, leaf in _named_paths(tree)[0]:
        value = leaf.get_value() if _is_variable(leaf) else leaf
        if _is_key(value):
            value = jax.random.key_data(value)
        node = out
        for name in names[:-1]:
            node = node.setdefault(name, {})
        node[names[-1]] = np.asarray(value)
    return out


def _fill(template: Any, saved: Any, where: str) -> Any:
    """One saved array in the dtype of ``template``, its shape checked."""
    if _is_variable(template):
        return template.replace(_fill(template.get_value(), saved, where))
    if not isinstance(saved, (np.ndarray, np.generic, int, float)):
        raise UserInputError(f"{where} is not an array")
    saved = np.asarray(saved)
    if _is_key(template):
        value = jax.random.wrap_key_data(jnp.asarray(saved))
    else:
        value = jnp.asarray(saved, dtype=template.dtype)
    if value.shape != template.shape or value.dtype != template.dtype:
        raise UserInputError(
            f"{where} has shape {tuple(saved.shape)}, the run's config builds "
            f"{tuple(template.shape)}"
        )
    return value


def from_named(template: Any, named: dict, where: str) -> Any:
    """Read a ``to_named`` dict back into ``template``'s structure (its leaves
    may be arrays or ``jax.ShapeDtypeStruct``); ``where`` starts the
    messages of a missing name or a wrong shape."""
    flat, treedef = _named_paths(template)
    leaves = []
    for names, leaf in flat:
        node = named
        for depth, name in enumerate(names):
            if not isinstance(node, dict) or name not in node:
                missing = "/".join(names[: depth + 1])
                raise UserInputError(f"{where} has no {missing}")
            node = node[name]
        leaves.append(_fill(leaf, node, f"{where}/{'/'.join(names)}"))
    return jax.tree_util.tree_unflatten(treedef, leaves)


def from_positional(template: Any, leaves: Sequence[Any], where: str) -> Any:
    """Arrays saved in ``jax.tree.leaves`` order (format 1) read into
    ``template``; a different count or shape is one line."""
    expected = jax.tree.leaves(template)
    if len(leaves) != len(expected):
        raise UserInputError(
            f"{where} predates named checkpoints and holds {len(leaves)} arrays "
            f"where this version has {len(expected)}; train the run again "
            "(a new --run)"
        )
    restored = []
    for i, (leaf, saved) in enumerate(zip(expected, leaves, strict=True)):
        try:
            restored.append(_fill(leaf, saved, f"{where}/runner/{i}"))
        except UserInputError as error:
            raise UserInputError(
                f"{error} (the run predates named checkpoints); train the run "
                "again (a new --run)"
            ) from None
    return jax.tree.unflatten(jax.tree.structure(template), restored)


def positional_leaves(state: dict) -> list[Any]:
    """The ``runner/i`` arrays of a format-1 checkpoint, in order."""
    runner = state["runner"]
    return [runner[str(i)] for i in range(len(runner))]


def runner_to_named(runner: Runner) -> dict:
    """The trainer's ``Runner`` as the checkpoint's ``policy``, ``optimiser``
    and ``rollout`` entries."""
    return {
        "policy": to_named(runner.params),
        "optimiser": to_named(runner.opt_state),
        "rollout": to_named(
            {"env_state": runner.env_state, "obs": runner.obs, "key": runner.key}
        ),
    }


def runner_from_checkpoint(template: Runner, state: dict, where: str) -> Runner:
    """A ``Runner`` from a format-2 checkpoint (or a format-1 one whose
    arrays still fit ``template``)."""
    if "runner" in state and "policy" not in state:
        return from_positional(template, positional_leaves(state), where)
    for part in RUNNER_PARTS:
        if not isinstance(state.get(part), dict):
            raise UserInputError(f"{where} has no {part}")
    rollout = from_named(
        {"env_state": template.env_state, "obs": template.obs, "key": template.key},
        state["rollout"],
        f"{where}: rollout",
    )
    return Runner(
        from_named(template.params, state["policy"], f"{where}: policy"),
        from_named(template.opt_state, state["optimiser"], f"{where}: optimiser"),
        rollout["env_state"],
        rollout["obs"],
        rollout["key"],
    )


def has_policy(state: dict | None) -> bool:
    """Whether a checkpoint holds a trained policy (either format)."""
    return bool(state) and ("policy" in state or "runner" in state)
