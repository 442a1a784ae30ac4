"""Build the int8 ONNX MiniLM that semantic search runs, from the packaged weights.

Recipe (each step measured against the sentence-transformers reference on real abstracts;
see ``benchmarks/embedding.py``):

1. export the packaged BertModel with the TorchScript exporter (the ONNX Runtime fusion
   patterns match its graph, not the dynamo exporter's);
2. fuse it with ``onnxruntime.transformers``: EmbedLayerNormalization, BiasGelu and
   MultiHeadAttention without a mask (texts run unpadded), which takes ONNX Runtime's
   flash-attention path; but no SkipLayerNormalization, a kernel ~5x slower here than
   LayerNormalization + Add (the runtime keeps ONNX Runtime from re-fusing it);
3. "smooth" the inputs of the MatMuls: BERT has a few hidden channels that run 10x larger
   than the rest, and dynamic int8 quantization uses one range per tensor, so they cost
   every other channel its precision. A Mul shrinks those channels and the weight rows
   grow by the same factor (the product is unchanged). Channels are only ever shrunk, so
   an input that the calibration text did not foresee cannot blow a channel up;
4. dynamic int8 quantization with per-channel weights (AVX512-VNNI runs the int8 GEMMs);
5. check the result against the fp32 export, and refuse to install a model that drifted.

Against the reference on 505 real abstracts (three days' listings), plain dynamic int8
gives cosine mean 0.9954, min 0.9918; with step 3, mean 0.9984, min 0.9975.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from paperwire.search.embed import feeds, load_tokenizer, mean_pool, open_session

# Part of the cache key: change it whenever the output of this module would change.
RECIPE_VERSION = "int8-smooth-v2"
SMOOTH_ALPHA = 0.7
MIN_COSINE = 0.99

# The outlier channels are a property of the weights, so any English prose finds them;
# these are invented abstracts, kept in the recipe so the build needs no data and is
# reproducible.
CALIBRATION_TEXTS = (
    "Sparse mixture models for robust graph learning. We study how graph neural networks "
    "behave when a fraction of the edges is adversarially perturbed. We propose a sparse "
    "mixture of experts that routes each node to a small set of specialised message-passing "
    "layers, and prove that the estimator is consistent under mild assumptions on the degree "
    "distribution. Experiments on six citation and molecular benchmarks show gains of 2-7% "
    "accuracy over strong baselines, while training cost grows linearly with the experts.",
    "Thermal transport in twisted bilayer graphene near the magic angle. Using "
    "non-equilibrium molecular dynamics and a Boltzmann transport model, we compute the "
    "in-plane thermal conductivity of twisted bilayer graphene for angles between 0.5 and 5 "
    "degrees. The conductivity drops by nearly an order of magnitude close to 1.1 degrees, "
    "which we attribute to flat phonon bands and enhanced umklapp scattering.",
    "A randomized trial of remote monitoring after cardiac surgery. Patients (n = 412) "
    "discharged after coronary artery bypass grafting were randomly assigned to usual care "
    "or to daily remote monitoring of weight, blood pressure and heart rhythm. Remote "
    "monitoring reduced readmissions within 90 days from 18.4% to 11.2% (hazard ratio 0.58, "
    "95% CI 0.37-0.91) without increasing clinic visits.",
    "On the number of integer points in dilated convex bodies. Let K be a convex body in R^d "
    "with smooth boundary and positive curvature. We improve the error term in the lattice "
    "point counting problem for tK as t tends to infinity, obtaining O(t^{d-2+1/(d+1)}) for "
    "all d >= 3. The proof combines a decoupling inequality with exponential sum estimates.",
    "Low-latency consensus for geo-replicated databases. Existing Paxos and Raft deployments "
    "pay at least one wide-area round trip per write. We present Quill, a protocol that "
    "commits commutative transactions in a single local round trip and falls back to a "
    "leader only on conflicts. On a five-region deployment it lowers median commit latency "
    "from 142 ms to 31 ms and sustains 1.8x the throughput of the baseline under TPC-C.",
    "Large language models as annotators: agreement, bias and cost. We ask whether "
    "instruction-tuned language models can replace crowd workers for labelling sentiment, "
    "stance and toxicity. Across 14 datasets, model labels agree with expert annotations "
    "about as often as crowd labels do, but errors concentrate on dialects and sarcasm.",
    "Monetary policy shocks and household portfolios. Using administrative tax records for "
    "3.1 million households, we estimate how surprise changes in the policy rate shift the "
    "composition of household wealth. A 25 basis point tightening reduces equity holdings "
    "of young households by 1.4% within a year, whereas older households rebalance.",
    "Self-supervised segmentation of cell nuclei in fluorescence microscopy. We train a "
    "vision transformer with a masked autoencoding objective on 2 million unlabelled crops "
    "and fine-tune it with as few as 50 labelled images. The model reaches a mean "
    "intersection-over-union of 0.87 and transfers across staining protocols and microscopes.",
)


def build_model(model_dir: Path, dest: Path) -> None:
    """Write the quantized model to ``dest``; intermediate files go beside it, then away."""
    import json
    import tempfile

    import onnx

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tokenizer = load_tokenizer(model_dir)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".build-") as tmp, _quiet():
        fp32 = Path(tmp) / "fp32.onnx"
        _export(model_dir, fp32)
        fused = _fuse(fp32, config, Path(tmp) / "fused.onnx")
        ranges = _activation_ranges(fused, tokenizer)
        smoothed = _smooth(fused, ranges)
        smoothed_path = Path(tmp) / "smoothed.onnx"
        onnx.save(smoothed, str(smoothed_path))
        _quantize(smoothed_path, dest)
        _check(fp32, dest, tokenizer)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # The exporter and the quantizer warn about things that do not apply here, and the
    # quantizer's logging.warning() would install a root handler in the caller's process.
    root = logging.getLogger()
    spare = None if root.handlers else logging.NullHandler()
    if spare is not None:
        root.addHandler(spare)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if spare is not None:
            root.removeHandler(spare)


def _export(model_dir: Path, path: Path) -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    config = BertConfig.from_json_file(str(model_dir / "config.json"))
    model: Any = BertModel(config, add_pooling_layer=False)
    # Eager attention exports as the MatMul/Softmax pattern that the fusion recognises.
    model.set_attn_implementation("eager")
    state = load_file(str(model_dir / "model.safetensors"))
    state = {k: v for k, v in state.items() if not k.startswith("pooler.")}
    missing, _unexpected = model.load_state_dict(state, strict=False)
    if missing:
        raise RuntimeError(f"the packaged weights lack {missing}")
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            out = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=types)
            return out.last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = torch.ones(1, 8, dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            Encoder(),
            (sample, sample, torch.zeros_like(sample)),
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={
                name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]
            },
            opset_version=17,
            dynamo=False,
        )


def _fuse(fp32: Path, config: dict[str, Any], path: Path) -> Any:
    import onnx
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    options = FusionOptions("bert")
    options.enable_skip_layer_norm = False
    options.enable_bias_skip_layer_norm = False
    # Texts run one at a time, unpadded, so attention needs no mask; without one, ONNX
    # Runtime's MultiHeadAttention takes its flash-attention path (~20% faster).
    options.use_multi_head_attention = True
    options.disable_attention_mask()
    fused = optimizer.optimize_model(
        str(fp32),
        model_type="bert",
        num_heads=config["num_attention_heads"],
        hidden_size=config["hidden_size"],
        opt_level=0,
        optimization_options=options,
    )
    counts = fused.get_fused_operator_statistics()
    if counts.get("MultiHeadAttention") != config["num_hidden_layers"]:
        raise RuntimeError(f"attention fusion failed: {counts}")
    # Saving sorts the nodes and declares the com.microsoft opset of the fused ops.
    fused.save_model_to_file(str(path))
    return onnx.load(str(path))


def _targets(model: Any) -> list[Any]:
    """The nodes that get quantized: the MatMuls with constant weights."""
    constants = {init.name for init in model.graph.initializer}
    return [
        node for node in model.graph.node if node.op_type == "MatMul" and node.input[1] in constants
    ]


def _activation_ranges(model: Any, tokenizer: Any) -> dict[str, Any]:
    """Largest |value| of each input channel of each target, over the calibration texts."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    inputs = sorted({node.input[0] for node in _targets(probe)})
    probe.graph.output.extend(
        onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in inputs
    )
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    ranges: dict[str, Any] = {}
    for encoding in tokenizer.encode_batch(list(CALIBRATION_TEXTS)):
        outputs = session.run(inputs, feeds(session, encoding.ids))
        for name, value in zip(inputs, outputs, strict=True):
            peak = np.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
            ranges[name] = np.maximum(ranges[name], peak) if name in ranges else peak
    return ranges


def _smooth(model: Any, ranges: dict[str, Any]) -> Any:
    import numpy as np
    from onnx import helper, numpy_helper

    weights = {init.name: init for init in model.graph.initializer}
    consumers: dict[str, list[Any]] = {}
    for node in _targets(model):
        consumers.setdefault(node.input[0], []).append(node)
    for source, nodes in consumers.items():
        # Q, K and V read the same input: one scale for the three, from their largest rows.
        matrices = [
            numpy_helper.to_array(weights[node.input[1]]).astype(np.float64) for node in nodes
        ]
        rows = np.maximum(np.max([np.abs(m).max(axis=1) for m in matrices], axis=0), 1e-6)
        act = np.maximum(ranges[source].astype(np.float64), 1e-6)
        scale = act**SMOOTH_ALPHA / rows ** (1 - SMOOTH_ALPHA)
        scale = np.maximum(scale / np.median(scale), 1.0)
        for node, matrix in zip(nodes, matrices, strict=True):
            scaled = (matrix * scale[:, None]).astype(np.float32)
            weights[node.input[1]].CopyFrom(numpy_helper.from_array(scaled, node.input[1]))
        model.graph.initializer.append(
            numpy_helper.from_array((1 / scale).astype(np.float32), f"{source}/smooth_inverse")
        )
    targets = {node.output[0] for nodes in consumers.values() for node in nodes}
    ordered = []
    for node in model.graph.node:
        if node.output[0] in targets:
            source = node.input[0]
            smoothed = f"{source}/smoothed"
            if consumers.pop(source, None) is not None:  # the first reader inserts the Mul
                inverse = f"{source}/smooth_inverse"
                ordered.append(helper.make_node("Mul", [source, inverse], [smoothed]))
            node.input[0] = smoothed
        ordered.append(node)
    del model.graph.node[:]
    model.graph.node.extend(ordered)
    return model


def _quantize(source: Path, dest: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(dest),
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        weight_type=QuantType.QInt8,
        # Shape inference cannot type the outputs of the fused contrib ops.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _check(fp32: Path, built: Path, tokenizer: Any) -> None:
    import numpy as np
    import onnxruntime as ort

    reference = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    candidate = open_session(built)
    for encoding in tokenizer.encode_batch(list(CALIBRATION_TEXTS)):
        a = mean_pool(reference.run(None, feeds(reference, encoding.ids))[0])
        b = mean_pool(candidate.run(None, feeds(candidate, encoding.ids))[0])
        cosine = float(np.dot(a[0], b[0]))
        if cosine < MIN_COSINE:
            raise RuntimeError(f"the quantized model drifted (cosine {cosine:.4f}); not using it")
