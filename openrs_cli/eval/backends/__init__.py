"""Generation backends behind one interface: `generate(requests, sampling, on_result)` and `close()`.

- transformers: in-process, CPU or one GPU (small models, tests)
- endpoint:     any OpenAI-compatible server (`--base-url`), e.g. vLLM or `transformers serve`
- vllm:         starts `vllm serve` on the plan's GPUs (data parallel), then talks to it as an endpoint

`factory.make_backend` starts one from a plan's `BackendSettings`.
"""
