"""PET, the point-edge transformer of arXiv:2503.20753 (Sec. 2, after arXiv:2404.16091).

References: Torales Acosta, Wamorkar, Mikuni, Nachman, "Stabilizing Neural Likelihood Ratio
Estimation", arXiv:2503.20753; Mikuni, Nachman, "Solving Key Challenges in Collider Physics
with Foundation Models", Phys. Rev. D 111 (2025) L051504, arXiv:2404.16091.

Each particle is embedded from its own features plus a local *edge* embedding of its k
nearest neighbours in the (η, φ) plane (k = 5 in arXiv:2503.20753): for neighbour j of particle i
the edge feature is ``(x_i, x_j - x_i)`` through a small network, averaged over the real
neighbours. Transformer layers (pre-layer-norm self-attention over the real particles, then
an MLP) follow, and a learnable class token, attending to all particles in the last
layers, carries the event representation to the output. Padded slots are masked out of the
neighbour search, every attention and the class token, so the logit is invariant under
permutations of the particles and under added padding.

Options closer to Mikuni & Nachman's own PET (the ``omnifold`` package's), off by default: a
learnable per-channel scale of every residual branch (``layer_scale``, "LayerScale",
initialised small so that each block starts near the identity) and stacked edge embeddings
(``local_layers``; the later ones find their neighbours among the features the previous one
learned), a GELU network embedding each particle (``embed_hidden``) and class layers that
update the class token only (``class_attention="token"``).
"""

from __future__ import annotations

import keras
from keras import ops

from hepnnlr.errors import ConfigError
from hepnnlr.models.layers import Multiplicity, dense_stack, set_inputs

__all__ = ["ClassToken", "KNNEdgeEmbedding", "MaskedSelfAttention", "build_pet"]


@keras.saving.register_keras_serializable(package="hepnnlr")
class KNNEdgeEmbedding(keras.layers.Layer):
    """Mean over the k nearest real neighbours of ``MLP(x_i, x_j - x_i)``.

    Args:
        k: Neighbours per particle.
        units: Output dimension.
        coordinates: Indices of the features that span the distance space, e.g. (η, φ);
            ``None``: all features (for a stacked layer on learned features).
    """

    def __init__(self, k: int = 5, units: int = 64, coordinates=(1, 2), **kwargs):
        super().__init__(**kwargs)
        self.k = int(k)
        self.units = int(units)
        self.coordinates = (None if coordinates is None
                            else tuple(int(c) for c in coordinates))
        self.edge_1 = keras.layers.Dense(units, activation="gelu")
        self.edge_2 = keras.layers.Dense(units, activation="gelu")

    def build(self, input_shape):
        x_shape, _ = input_shape
        n_features = x_shape[-1]
        self.edge_1.build((None, None, None, 2 * n_features))
        self.edge_2.build((None, None, None, self.units))
        super().build(input_shape)

    def call(self, inputs):
        x, mask = inputs
        mask = ops.cast(mask, x.dtype)
        slots = ops.shape(x)[1]
        # At least k + 1 slots so top_k always has k neighbours to return; extra slots are
        # padding and carry no weight.
        missing = ops.maximum(self.k + 1 - slots, 0)
        x = ops.pad(x, [[0, 0], [0, missing], [0, 0]])
        mask = ops.pad(mask, [[0, 0], [0, missing]])
        # Distances in float32 whatever the compute dtype: the 1e9 offsets would overflow
        # float16 under mixed precision.
        mask32 = ops.cast(mask, "float32")
        if self.coordinates is None:
            # All (learned) features: |a|^2 + |b|^2 - 2 a.b, without the (slots, slots,
            # features) difference tensor.
            coords = ops.cast(x, "float32")
            square = ops.sum(coords * coords, axis=-1)
            cross = ops.matmul(coords, ops.transpose(coords, (0, 2, 1)))
            distance = ops.expand_dims(square, 2) + ops.expand_dims(square, 1) - 2.0 * cross
        else:
            coords = ops.cast(ops.take(x, list(self.coordinates), axis=-1), "float32")
            diff = ops.expand_dims(coords, 2) - ops.expand_dims(coords, 1)
            distance = ops.sum(diff * diff, axis=-1)
        big = 1e9
        eye = ops.eye(ops.shape(x)[1], dtype="float32")
        # Padded partners and the particle itself are pushed to the end of the ranking.
        distance = distance + big * (1.0 - ops.expand_dims(mask32, 1)) + big * eye
        _, index = ops.top_k(-distance, k=self.k)
        if self.coordinates is None:
            # Wide (learned) features: gather the rows directly; take_along_axis would
            # broadcast x to (batch, slots, slots, features) first.
            rows = ops.shape(x)[1]
            flat = ops.reshape(x, (-1, ops.shape(x)[-1]))
            offset = ops.expand_dims(ops.arange(ops.shape(x)[0]) * rows, (1, 2))
            neighbours = ops.take(flat, index + ops.cast(offset, index.dtype), axis=0)
        else:
            neighbours = ops.take_along_axis(
                ops.expand_dims(x, 1), ops.expand_dims(index, -1), axis=2
            )
        neighbour_mask = ops.take_along_axis(ops.expand_dims(mask, 1), index, axis=2)
        # With fewer than k real partners the ranking runs into the particle itself
        # (pushed back by the same offset as padding); it is never its own neighbour.
        own = ops.expand_dims(ops.arange(ops.shape(x)[1]), (0, 2))
        neighbour_mask = neighbour_mask * ops.cast(ops.not_equal(index, own), x.dtype)
        centre = ops.repeat(ops.expand_dims(x, 2), self.k, axis=2)
        edges = self.edge_2(self.edge_1(ops.concatenate([centre, neighbours - centre], -1)))
        weight = ops.expand_dims(neighbour_mask, -1)
        pooled = ops.sum(edges * weight, axis=2) / ops.maximum(ops.sum(weight, axis=2), 1.0)
        pooled = pooled * ops.expand_dims(mask, -1)
        return pooled[:, :slots]

    def compute_output_shape(self, input_shape):
        x_shape, _ = input_shape
        return (x_shape[0], x_shape[1], self.units)

    def get_config(self):
        return {**super().get_config(), "k": self.k, "units": self.units,
                "coordinates": None if self.coordinates is None else list(self.coordinates)}


@keras.saving.register_keras_serializable(package="hepnnlr")
class MaskedSelfAttention(keras.layers.Layer):
    """Pre-layer-norm transformer block over the real particles (keys masked).

    Args:
        units: Feature width.
        heads: Attention heads.
        layer_scale: ``None``: plain residuals ``x + f(x)``. A number: ``x + γ ⊙ f(x)`` for
            the attention and the MLP branch, with learnable per-channel ``γ`` initialised
            at this value (LayerScale; the omnifold package's PET uses 1e-3).
        token_only: Update the first slot (the class token) only: it attends to every real
            slot, the others pass through unchanged ("class attention"; one query instead
            of one per slot).
    """

    def __init__(self, units: int = 64, heads: int = 4, layer_scale: float | None = None,
                 token_only: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.heads = int(heads)
        self.layer_scale = None if layer_scale is None else float(layer_scale)
        self.token_only = bool(token_only)
        self.norm_1 = keras.layers.LayerNormalization()
        self.attention = keras.layers.MultiHeadAttention(heads, max(1, units // heads))
        self.norm_2 = keras.layers.LayerNormalization()
        self.mlp_1 = keras.layers.Dense(2 * units, activation="gelu")
        self.mlp_2 = keras.layers.Dense(units)

    def build(self, input_shape):
        x_shape, _ = input_shape
        self.norm_1.build(x_shape)
        self.attention.build(x_shape, x_shape)
        self.norm_2.build(x_shape)
        self.mlp_1.build(x_shape)
        self.mlp_2.build((*x_shape[:-1], 2 * self.units))
        if self.layer_scale is not None:
            init = keras.initializers.Constant(self.layer_scale)
            self.gamma_1 = self.add_weight(shape=(self.units,), initializer=init, name="gamma_1")
            self.gamma_2 = self.add_weight(shape=(self.units,), initializer=init, name="gamma_2")
        super().build(input_shape)

    def call(self, inputs):
        x, mask = inputs
        keys = ops.cast(mask, "bool")
        h = self.norm_1(x)
        if self.token_only:
            rest, x = x[:, 1:], x[:, :1]
            query = h[:, :1]
            attention_mask = ops.expand_dims(keys, 1)
        else:
            query = h
            attention_mask = ops.logical_and(ops.expand_dims(keys, 1), ops.expand_dims(keys, 2))
        update = self.attention(query, h, attention_mask=attention_mask)
        if self.layer_scale is not None:
            update = update * ops.cast(self.gamma_1, update.dtype)
        x = x + update
        update = self.mlp_2(self.mlp_1(self.norm_2(x)))
        if self.layer_scale is not None:
            update = update * ops.cast(self.gamma_2, update.dtype)
        x = x + update
        return ops.concatenate([x, rest], axis=1) if self.token_only else x

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "heads": self.heads,
                "layer_scale": self.layer_scale, "token_only": self.token_only}


@keras.saving.register_keras_serializable(package="hepnnlr")
class ClassToken(keras.layers.Layer):
    """Prepend a learnable class token to the particles and a ``1`` to the mask."""

    def __init__(self, units: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        self.token = self.add_weight(shape=(1, 1, self.units), initializer="zeros", name="token")
        super().build(input_shape)

    def call(self, inputs):
        x, mask = inputs
        batch = ops.shape(x)[0]
        token = ops.broadcast_to(ops.cast(self.token, x.dtype), (batch, 1, self.units))
        ones = ops.ones((batch, 1), dtype=mask.dtype)
        return ops.concatenate([token, x], axis=1), ops.concatenate([ones, mask], axis=1)

    def compute_output_shape(self, input_shape):
        x_shape, m_shape = input_shape
        slots = None if x_shape[1] is None else x_shape[1] + 1
        return (x_shape[0], slots, self.units), (m_shape[0], slots)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def build_pet(
    n_particle_features: int,
    n_global_features: int = 0,
    n_theta: int = 0,
    *,
    theta_mode: str = "event",
    units: int = 64,
    k: int = 5,
    layers: int = 2,
    class_layers: int = 1,
    heads: int = 4,
    hidden: tuple[int, ...] = (64,),
    coordinates: tuple[int, int] = (1, 2),
    multiplicity: bool = False,
    layer_scale: float | None = None,
    local_layers: int = 1,
    embed_hidden: tuple[int, ...] = (),
    class_attention: str = "full",
    name: str = "pet",
) -> keras.Model:
    """PET taking ``{"particles", "mask"[, "globals"]}`` and returning one logit per event.

    Args:
        n_particle_features, n_global_features: Input sizes.
        units: Embedding width.
        k: Neighbours of the local edge embedding (arXiv:2503.20753: 5).
        layers: Transformer layers over the particles.
        class_layers: Transformer layers after the class token is added.
        heads: Attention heads.
        hidden: Head network after the class token (event features concatenated).
        coordinates: Feature indices of (η, φ) for the neighbour search; for hepnnlr's DIS
            inputs ``(log_pt, deta, dphi, charge)`` these are ``(1, 2)``.
        n_theta, theta_mode: Parameters θ, appended per event to the head's input or per
            particle to the features (after the neighbour search's coordinates).
        multiplicity: Give the head ``log(1 + n)``, the event's number of real particles
            (:class:`~hepnnlr.models.layers.Multiplicity`). Masked attention and the
            neighbour mean normalize over the particles, so without it PET cannot tell how
            many there are (a network that attends over padding, like the omnifold
            package's PET, sees it implicitly).
        layer_scale: Initial per-channel scale of every transformer block's residual
            branches (:class:`MaskedSelfAttention`); ``None`` (default): unscaled.
        local_layers: Stacked kNN edge embeddings: the first searches neighbours in
            ``coordinates``, each further one among all features the previous one learned
            (the omnifold package's PET: 2). The last one's output is added to the
            particle embedding.
        embed_hidden: Hidden GELU layers of the per-particle embedding before its linear
            output layer (default none: one linear layer; the omnifold package's PET:
            ``(2 * units,)``, with a GELU on the output too).
        class_attention: ``"full"`` (default): the class layers are transformer layers over
            the token and the particles; ``"token"``: only the token is updated, attending
            to the particles (class attention, as the omnifold package's PET; cheaper).
    """
    if n_particle_features <= max(coordinates):
        raise ConfigError(
            f"PET needs the coordinate features {coordinates} among the "
            f"{n_particle_features} particle features; pass coordinates=(i_eta, i_phi)."
        )
    if units % heads:
        raise ConfigError(f"PET units={units} must be divisible by heads={heads}.")
    if class_attention not in ("full", "token"):
        raise ConfigError(
            f"PET class_attention={class_attention!r}; choose 'full' or 'token'."
        )
    if isinstance(local_layers, bool) or int(local_layers) != local_layers or local_layers < 1:
        raise ConfigError(f"PET local_layers={local_layers!r} must be an integer >= 1.")
    if layer_scale is not None and not layer_scale > 0:
        raise ConfigError(
            f"PET layer_scale={layer_scale!r} must be positive (or None for no layer scale)."
        )
    inputs, features = set_inputs(n_particle_features, n_theta, theta_mode)
    mask, theta = inputs["mask"], inputs.get("theta")
    local = KNNEdgeEmbedding(k, units, coordinates, name="knn_edges")([features, mask])
    for i in range(1, int(local_layers)):
        local = KNNEdgeEmbedding(k, units, None, name=f"knn_edges_{i}")([local, mask])
    x = features
    for i, size in enumerate(embed_hidden):
        x = keras.layers.Dense(int(size), activation="gelu", name=f"embed_hidden_{i}")(x)
    x = keras.layers.Dense(units, name="embed")(x)
    x = keras.layers.Add(name="with_edges")([x, local])
    for i in range(layers):
        x = MaskedSelfAttention(units, heads, layer_scale, name=f"transformer_{i}")([x, mask])
    x, token_mask = ClassToken(units, name="class_token")([x, mask])
    for i in range(class_layers):
        x = MaskedSelfAttention(units, heads, layer_scale, class_attention == "token",
                                name=f"class_transformer_{i}")([x, token_mask])
    x = keras.layers.LayerNormalization(name="final_norm")(x[:, 0])
    if multiplicity:
        x = keras.layers.Concatenate(name="with_multiplicity")(
            [x, Multiplicity(name="multiplicity")(mask)]
        )
    if n_global_features > 0:
        globals_ = keras.Input(shape=(n_global_features,), name="globals")
        inputs["globals"] = globals_
        x = keras.layers.Concatenate(name="with_globals")([x, globals_])
    if theta is not None and theta_mode == "event":
        x = keras.layers.Concatenate(name="with_theta")([x, theta])
    x = dense_stack(x, hidden, activation="gelu", dropout=0.0, prefix="head")
    logit = keras.layers.Dense(1, name="logit", dtype="float32")(x)  # float32 under mixed precision
    return keras.Model(inputs=inputs, outputs=logit, name=name)
