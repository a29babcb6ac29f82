from __future__ import annotations

import subprocess

from openrs_cli.hardware import Gpu, detect_gpus, filter_visible, parse_nvidia_smi

FOUR_H100 = """0, GPU-1a2b3c4d-0000, NVIDIA H100 80GB HBM3, 81559
1, GPU-1a2b3c4d-1111, NVIDIA H100 80GB HBM3, 81559
2, GPU-1a2b3c4d-2222, NVIDIA H100 80GB HBM3, 81559
3, GPU-1a2b3c4d-3333, NVIDIA H100 80GB HBM3, 81559
"""


def fake_smi(text):
    def runner(argv):
        assert argv[1].startswith("--query-gpu=")
        return text

    return runner


def test_parses_names_with_commas_and_skips_junk():
    gpus = parse_nvidia_smi("0, GPU-x, NVIDIA A100-SXM4-40GB, Rev 2, 40960\nNo devices were found\n\n")
    assert gpus == [Gpu(0, 0, "NVIDIA A100-SXM4-40GB, Rev 2", 40960, "GPU-x")]


def test_detects_all_gpus_without_cuda_visible_devices():
    gpus, source = detect_gpus(env={}, runner=fake_smi(FOUR_H100), which=lambda _: "/usr/bin/nvidia-smi")
    assert source == "nvidia-smi"
    assert [g.index for g in gpus] == [0, 1, 2, 3]
    assert gpus[0].memory_mib == 81559 and gpus[0].name == "NVIDIA H100 80GB HBM3"


def test_cuda_visible_devices_selects_and_renumbers():
    env = {"CUDA_VISIBLE_DEVICES": "3,1"}
    gpus, _ = detect_gpus(env=env, runner=fake_smi(FOUR_H100), which=lambda _: "nvidia-smi")
    assert [(g.index, g.physical_index) for g in gpus] == [(0, 3), (1, 1)]


def test_cuda_visible_devices_by_uuid_prefix_and_stops_at_invalid_entry():
    gpus = parse_nvidia_smi(FOUR_H100)
    assert [g.physical_index for g in filter_visible(gpus, "GPU-1a2b3c4d-2222,7,0")] == [2]
    assert filter_visible(gpus, "-1") == []
    assert filter_visible(gpus, "") == []
    assert [g.physical_index for g in filter_visible(gpus, "1,1")] == [1]


def test_no_nvidia_smi_and_no_torch_gpu_means_none():
    assert detect_gpus(env={}, which=lambda _: None, use_torch=False) == ([], "none")


def test_failing_nvidia_smi_falls_back():
    def broken(argv):
        raise subprocess.CalledProcessError(9, argv)

    assert detect_gpus(env={}, runner=broken, which=lambda _: "nvidia-smi", use_torch=False) == ([], "none")
