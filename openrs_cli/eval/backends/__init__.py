"""Generation backends behind one interface: `generate(requests, on_result)`.

- transformers: in-process, CPU or one GPU (small models, tests)
- endpoint:     any OpenAI-compatible server (`--base-url`), e.g. vLLM or `transformers serve`
- vllm:         starts `vllm serve` sized to the GPUs, then talks to it as an endpoint
"""
