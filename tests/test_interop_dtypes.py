"""Export writes only what the runtime runs, and import takes only real floating-point weights (issue 22 items 14,
16, 13): every layer's operator in float64 either runs in ONNX Runtime and agrees with zerograd, or the export is
refused in one line; int, bool, complex, bfloat16, sparse, meta and non-finite tensors are refused in one line."""

import numpy as np
import pytest
from conftest import optional

from zerograd import checkpoint
from zerograd.cli import main
from zerograd.convolution import Convolution, Pooling
from zerograd.interop import InteropError
from zerograd.layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid
from zerograd.nets import Sequential


def one_layer_nets():
    """A small float64 net around each layer kind the ONNX export knows, with one sample's shape."""
    rng = np.random.default_rng(0)
    conv = Sequential(Convolution.new(1, 2, 3, pad=1, rng=0), Relu(), Affine.new(2 * 6 * 6, 3, rng=1))
    pool = Sequential(Pooling(2, 2, stride=2), Affine.new(1 * 3 * 3, 3, rng=1))
    bn = BatchNormalization(5)
    bn.running_mean[...] = rng.standard_normal(5)
    return {
        "Affine": (Sequential(Affine.new(4, 3, rng=0)), (4,)),
        "Relu": (Sequential(Affine.new(4, 5, rng=0), Relu(), Affine.new(5, 3, rng=1)), (4,)),
        "Sigmoid": (Sequential(Affine.new(4, 5, rng=0), Sigmoid(), Affine.new(5, 3, rng=1)), (4,)),
        "BatchNormalization": (Sequential(Affine.new(4, 5, rng=0), bn, Affine.new(5, 3, rng=1)), (4,)),
        "Dropout": (Sequential(Affine.new(4, 5, rng=0), Dropout(0.3), Affine.new(5, 3, rng=1)), (4,)),
        "Convolution": (conv, (1, 6, 6)),
        "Pooling": (pool, (1, 6, 6)),
    }


@pytest.mark.parametrize("kind", list(one_layer_nets()))
def test_a_float64_export_runs_in_onnx_runtime_or_is_refused_in_one_line(kind):
    optional("onnx", "onnx")
    optional("onnxruntime", "onnx")
    from zerograd.interop.onnx import onnx_session, run_onnx, to_onnx

    net, shape = one_layer_nets()[kind]
    x = np.random.default_rng(1).standard_normal((7, *shape))
    try:
        model = to_onnx(net, dtype="float64", input_shape=shape)
    except InteropError as err:
        assert "\n" not in str(err) and "float32" in str(err) and kind == "Convolution", str(err)
        return
    got = run_onnx(onnx_session(model), x)  # loads and runs: NOT_IMPLEMENTED would raise here
    assert got.dtype == np.float64
    # NOTE: rtol 1e-8, not 1e-15: ONNX stores BatchNormalization's epsilon as a float32 attribute
    np.testing.assert_allclose(got, net.predict(x), rtol=1e-8, atol=1e-10)


def test_the_cli_refuses_a_float64_conv_export_and_writes_nothing(tmp_path, capsys):
    optional("onnx", "onnx")
    convnets = pytest.importorskip("zerograd.convnets")
    ckpt = checkpoint.save(tmp_path / "conv.npz", convnets.SimpleConvNet(rng=0))
    out = tmp_path / "conv64.onnx"
    assert main(["export", str(ckpt), "--dtype", "float64", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "float32 only" in err and "Conv" in err, err
    assert not out.exists()
    assert main(["export", str(ckpt), "--out", str(tmp_path / "conv32.onnx")]) == 0  # float32 still exports


def bad_tensors(torch, like):
    """name -> a tensor shaped as ``like`` that zerograd must refuse as a weight."""
    return {
        "int64": like.to(torch.int64),
        "int8": like.to(torch.int8),
        "bool": like > 0,
        "complex64": like.to(torch.complex64),
        "bfloat16": like.to(torch.bfloat16),
        "sparse": like.to_sparse(),
        "meta": torch.empty(like.shape, dtype=like.dtype, device="meta"),
        "nan": torch.full_like(like, float("nan")),
    }


@pytest.mark.parametrize("bad", ["int64", "int8", "bool", "complex64", "bfloat16", "sparse", "meta", "nan"])
def test_from_torch_refuses_tensors_that_are_not_real_floats_in_one_line(bad, tmp_path, capsys):
    torch = optional("torch", "torch")
    from zerograd.interop.torch import from_torch, to_torch

    net = Sequential(Affine.new(4, 3, rng=0))
    state = to_torch(net).state_dict()
    key = next(iter(state))
    state[key] = bad_tensors(torch, state[key])[bad]
    with pytest.raises(InteropError) as err:
        from_torch(state, net=net)
    assert "\n" not in str(err.value) and key in str(err.value), str(err.value)
    module = to_torch(net)
    if bad not in ("sparse", "meta"):  # a module's parameter cannot be made one of these in place
        module[0].weight = torch.nn.Parameter(bad_tensors(torch, module[0].weight.detach())[bad], requires_grad=False)
        with pytest.raises(InteropError):
            from_torch(module)

    # the command: one line, exit 2, no checkpoint written
    ckpt = checkpoint.save(tmp_path / "net.npz", net)
    pt = tmp_path / "state.pt"
    torch.save(state, pt)
    out = tmp_path / "back.npz"
    assert main(["export", str(ckpt), "--from-torch", str(pt), "--out", str(out)]) == 2
    message = capsys.readouterr().err.strip()
    assert "\n" not in message and message.startswith("zerograd export: error: "), message
    assert not out.exists()


def test_from_torch_still_takes_float16_and_a_batchnorm_counter():
    torch = optional("torch", "torch")
    from zerograd.interop.torch import from_torch, to_torch

    net = Sequential(Affine.new(4, 5, rng=0), BatchNormalization(5), Affine.new(5, 3, rng=1))
    state = to_torch(net).state_dict()
    assert any(k.endswith("num_batches_tracked") and v.dtype == torch.int64 for k, v in state.items())
    first = next(iter(state))
    state[first] = state[first].to(torch.float16)
    back = from_torch(state, net=net)
    np.testing.assert_allclose(back.params["W1"], net.params["W1"], rtol=1e-3)
