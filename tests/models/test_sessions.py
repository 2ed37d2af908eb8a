"""The runtime picks a provider that really works, quietly, and caches sessions."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from artflow import models as runtime
from artflow.errors import ArtflowError
from artflow.models import ProviderError
from artflow.models.card import InputSpec


def _cuda() -> bool:
    return runtime.cuda_available()


def test_auto_provider_falls_back_to_cpu_without_any_onnx_runtime_log_on_stderr(digits_onnx: Path):
    code = ("from artflow import models as runtime; import sys;"
            f"s = runtime.get_session({str(digits_onnx)!r}, 'auto');"
            "print(s.provider); print(runtime.describe_providers()['working'])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    provider = proc.stdout.split()[0]
    assert provider == ("cuda" if _cuda() else "cpu")
    assert proc.stderr.strip() == "", proc.stderr  # no "[E:onnxruntime..." spam from the CUDA probe


def test_explicit_cuda_without_cuda_is_a_one_line_provider_error(digits_onnx: Path):
    if _cuda():
        pytest.skip("CUDA works on this machine")
    with pytest.raises(ProviderError) as err:
        runtime.get_session(digits_onnx, "cuda")
    assert "\n" not in str(err.value) and "cuda" in str(err.value)


def test_unknown_provider_is_refused():
    with pytest.raises(ProviderError):
        runtime.normalize_provider("tpu")


def test_sessions_are_cached_per_model_and_provider_across_threads(digits_onnx: Path):
    got: list[runtime.Session] = []
    threads = [threading.Thread(target=lambda: got.append(runtime.get_session(digits_onnx)))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in got}) == 1
    assert runtime.get_session(digits_onnx, "cpu") is got[0] or _cuda()
    other = 2 if got[0].threads == 1 else 1  # a process pinned to one core defaults to 1 thread
    assert runtime.get_session(digits_onnx, threads=other) is not got[0]


def test_session_reports_io_and_card(digits_onnx: Path):
    s = runtime.get_session(digits_onnx)
    assert s.input_names == ["image"] and s.output_names == ["probs"]
    assert s.input_shapes["image"] == (None, 8, 8, 1)
    assert s.card is not None and s.card.labels[0] == "0"
    assert s.provider in ("cpu", "cuda") and s.threads >= 1


def test_batched_run_splits_big_batches_and_matches_one_run(digits_onnx: Path):
    s = runtime.get_session(digits_onnx)
    x = np.random.default_rng(0).random((150, 8, 8, 1), dtype=np.float32)
    whole = s.run({"image": x})["probs"]
    parts = s.run_batched(x, batch_size=64)["probs"]
    assert parts.shape == (150, 10)
    np.testing.assert_allclose(parts, whole, atol=1e-6)


def test_threads_come_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(runtime.providers, "_threads_override", None)
    monkeypatch.setenv("ARTFLOW_THREADS", "3")
    assert runtime.default_threads() == 3
    runtime.set_threads(1)
    try:
        assert runtime.default_threads() == 1
    finally:
        runtime.set_threads(None)


def test_images_are_prepared_as_the_card_declares():
    batch = np.zeros((2, 32, 32, 4), np.float32)
    batch[..., 0] = 1.0
    gray = runtime.prepare_images(batch, InputSpec("image", "NHWC", [8, 8], 1, [0.0, 16.0], color="gray"))
    assert gray.shape == (2, 8, 8, 1) and gray.dtype == np.float32
    np.testing.assert_allclose(gray, 0.299 * 16, rtol=1e-5)
    nchw = runtime.prepare_images(batch[:, :20, :20], InputSpec("x", "NCHW", [10, 10], 3, [-1.0, 1.0],
                                                                 color="bgr"))
    assert nchw.shape == (2, 3, 10, 10)
    np.testing.assert_allclose(nchw[:, 2], 1.0, atol=1e-6)   # red, now last (BGR), mapped to +1
    np.testing.assert_allclose(nchw[:, 0], -1.0, atol=1e-6)


def test_importing_artflow_runtime_does_not_import_onnxruntime_or_tensorflow():
    code = ("import sys, artflow, artflow.models, artflow.models.card;"
            "print('onnxruntime' in sys.modules, 'tensorflow' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["False", "False"], proc.stderr


def test_spinning_follows_artflow_ort_spin(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ARTFLOW_ORT_SPIN", "1")
    assert runtime.spin_policy(2) and not runtime.spin_policy(1)  # one thread has no pool to spin
    monkeypatch.setenv("ARTFLOW_ORT_SPIN", "0")
    assert not runtime.spin_policy(4)
    monkeypatch.setenv("ARTFLOW_ORT_SPIN", "auto")
    import os

    idle = os.getloadavg()[0] < len(os.sched_getaffinity(0)) / 2
    assert runtime.spin_policy(2) == idle and not runtime.spin_policy(1)
    monkeypatch.setenv("ARTFLOW_ORT_SPIN", "sometimes")
    with pytest.raises(ArtflowError, match="ARTFLOW_ORT_SPIN"):
        runtime.spin_policy(2)


def test_a_spinning_session_stops_spinning_when_a_run_returns(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ARTFLOW_ORT_SPIN", "1")
    options = runtime.providers.session_options(2)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"
    monkeypatch.setenv("ARTFLOW_ORT_SPIN", "0")
    options = runtime.providers.session_options(2)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def _open_session_at_home(home: Path, model: Path, **env: str) -> None:
    import os

    environ = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    code = f"from artflow import models as runtime; runtime.get_session({str(model)!r}, 'cpu')"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**environ, "HOME": str(home), **env})
    assert proc.returncode == 0, proc.stderr


def test_onnx_runtime_telemetry_is_off_unless_the_user_turns_it_on(digits_onnx: Path, tmp_path: Path):
    """ONNX Runtime 1.31 queues usage events in ~/.cache/Microsoft/DeveloperTools/.onnxruntime;
    artflow sets ORT_DISABLE_TELEMETRY=1 by default, and a user's own setting wins."""
    quiet, opted_in = tmp_path / "quiet", tmp_path / "opted-in"
    quiet.mkdir()
    opted_in.mkdir()
    _open_session_at_home(quiet, digits_onnx)
    assert not (quiet / ".cache" / "Microsoft").exists()
    _open_session_at_home(opted_in, digits_onnx, ORT_DISABLE_TELEMETRY="0")
    if not (opted_in / ".cache" / "Microsoft").exists():
        pytest.skip("this ONNX Runtime build keeps no telemetry store")
