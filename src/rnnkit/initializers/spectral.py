"""Keras's STFT initializer: the real or imaginary part of a windowed discrete Fourier transform, as the
(frame_length, input_channels, fft_length) kernel of a convolution that computes a spectrogram.

Keras takes the window from SciPy; rnnkit computes the common ones itself (SciPy's formulas, checked
against scipy.signal.get_window in the tests) and takes any window as an array of frame_length values.

>>> kernel = STFT("real", None)((4, 1, 3))  # cos(-2 pi t f / 4), t = 0..3, f = 0..2
>>> tuple(kernel.shape), kernel[:, 0, 2].tolist()
((4, 1, 3), [1.0, -1.0, 1.0, -1.0])
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .base import Initializer, Tensor


def _tukey(m: int, alpha: float = 0.5) -> np.ndarray:
    n = np.arange(m)
    width = int(np.floor(alpha * (m - 1) / 2.0))
    n1, n2, n3 = n[:width + 1], n[width + 1:m - width - 1], n[m - width - 1:]
    w1 = 0.5 * (1 + np.cos(np.pi * (-1 + 2.0 * n1 / alpha / (m - 1))))
    w3 = 0.5 * (1 + np.cos(np.pi * (-2.0 / alpha + 1 + 2.0 * n3 / alpha / (m - 1))))
    return np.concatenate((w1, np.ones(n2.shape), w3))


def _triang(m: int) -> np.ndarray:
    n = np.arange(1, (m + 1) // 2 + 1)
    if m % 2 == 0:
        w = (2 * n - 1.0) / m
        return np.r_[w, w[::-1]]
    w = 2 * n / (m + 1.0)
    return np.r_[w, w[-2::-1]]


def _cosine_sum(*a: float):
    return lambda m: sum((-1) ** k * c * np.cos(2 * np.pi * k * np.arange(m) / (m - 1)) for k, c in enumerate(a))


# SciPy's symmetric windows of length m >= 2 (scipy.signal.windows)
WINDOWS = {
    "boxcar": np.ones, "triang": _triang,
    "bartlett": lambda m: 1 - np.abs(2.0 * np.arange(m) / (m - 1) - 1),
    "hann": _cosine_sum(0.5, 0.5), "hamming": _cosine_sum(0.54, 0.46),
    "blackman": _cosine_sum(0.42, 0.50, 0.08), "cosine": lambda m: np.sin(np.pi / m * (np.arange(m) + 0.5)),
    "tukey": _tukey,
}
_ALIASES = {"box": "boxcar", "ones": "boxcar", "rect": "boxcar", "rectangular": "boxcar", "tri": "triang",
            "triangle": "triang", "bart": "bartlett", "brt": "bartlett", "hanning": "hann", "han": "hann",
            "hamm": "hamming", "ham": "hamming", "black": "blackman", "blk": "blackman", "halfcosine": "cosine",
            "tuk": "tukey"}


def get_window(window: str, length: int, periodic: bool = False) -> np.ndarray:
    """SciPy's `get_window(window, length, fftbins=periodic)` for the windows in WINDOWS."""
    name = _ALIASES.get(window, window)
    if name not in WINDOWS:
        raise ValueError(f"Unknown window type {window!r}. rnnkit computes {sorted(WINDOWS)}; pass any other "
                         "window as an array of frame_length values.")
    if length <= 1:
        return np.ones(length)
    m = length + 1 if periodic else length
    return np.asarray(WINDOWS[name](m), dtype=np.float64)[:length]


class STFT(Initializer):
    """Kernel (frame_length, input_channels, fft_length) of the short-time Fourier transform: cos (side
    "real") or sin ("imag") of -2 pi t f / ((fft_length - 1) * 2), times `window` (a name, an array or
    None) divided by its scaling ("density": the root of the sum of its squares, "spectrum": its sum)."""

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            get_window(window, 1)  # refuses an unknown window now, as Keras does
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError(f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received "
                             f"scaling={scaling}")
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def sample_(self, out: Tensor, shape) -> None:
        frame_length, _, fft_length = shape
        dtype = torch.float64 if out.dtype == torch.float64 else torch.float32
        win, scaling = None, 1
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = get_window(win, frame_length, self.periodic)
            win = torch.as_tensor(np.asarray(win), dtype=dtype)
            if win.dim() != 1 or win.shape[-1] != frame_length:
                raise ValueError(f"The shape of `window` must be equal to [frame_length]. Received: window shape="
                                 f"{tuple(win.shape)}")
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scaling = torch.sqrt(torch.sum(win.square()))
            elif self.scaling == "spectrum":
                scaling = torch.sum(win.abs())
        freq = torch.arange(fft_length, dtype=dtype).reshape(1, 1, fft_length) / ((fft_length - 1) * 2)
        time = torch.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        args = -2 * time * freq * torch.tensor(math.pi, dtype=dtype)
        kernel = torch.cos(args) if self.side == "real" else torch.sin(args)
        if win is not None:
            kernel = kernel * win / scaling
        out.copy_(kernel.expand(tuple(shape)))

    def get_config(self) -> dict:
        window = self.window.tolist() if isinstance(self.window, np.ndarray) else self.window
        return {"side": self.side, "window": window, "periodic": self.periodic, "scaling": self.scaling}
