"""Attention sinks: a tiny LM trained with full attention, decoded with a rolling KV cache.

Chapter 3's test of Xiao et al. (2023, "Efficient Streaming Language Models with Attention
Sinks", https://arxiv.org/abs/2309.17453). Every run trains an
``attnbook.models.TinyCausalLM`` with full causal attention on sequences of the seeded
Markov language with short recalls (``attnbook.data.make_markov_language``), the same
number of steps and batch size for every variant and seed, then scores held-out streams
of the same length decoded four ways (``attnbook.models.streaming_losses``): full
attention, the rolling cache of ``window + 1`` tokens, the same cache plus 1 or 4 sink
tokens, and a sliding window with re-computation. It stores the mean loss of the queries
``t < window`` (``loss_before_eviction``) and ``t >= window`` (``loss_after_eviction``;
position 0 leaves the cache at query ``window + 1``, so the chapter takes ``t > window``
from ``loss_per_position``), the loss of every query (predicting token ``t + 1``), and the
share of attention each head puts on position 0 from the queries ``t > window``.

Variants (what a sink needs):

* ``bos``: every sequence starts with a beginning-of-sequence token; plain softmax.
* ``no_bos``: no BOS token: position 0 holds an ordinary, random symbol.
* ``null_logit``: BOS, and every head has a learned logit of a key whose value is zero
  (a softmax with somewhere else to put its mass, "off by one" at logit 0).

Runs go to ``code/src/attnbook/results/attention_sinks.json`` through the shared sweep
store (``experiments/_sweep.py``), which the chapter reads::

    python experiments/attention_sinks.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import torch

import attnbook as ab
from attnbook.models.streaming import first_token_share, fit_language_model, streaming_losses

from _sweep import SweepStore, at_least, run_sweep, sweep_parser

SCRIPT = "experiments/attention_sinks.py"
VARIANTS: Mapping[str, Mapping[str, Any]] = MappingProxyType({name: MappingProxyType(settings) for name, settings in {
    "bos": {"bos": True, "null_logit": False},
    "no_bos": {"bos": False, "null_logit": False},
    "null_logit": {"bos": True, "null_logit": True},
}.items()})
DEFAULT_OUTPUT = ab.book.results_folder() / "attention_sinks.json"
SINKS = (1, 4)


def make_data(config: Mapping[str, Any], bos: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Training and held-out sequences of the language of ``config`` (one chain for both)."""
    language = ab.data.make_markov_language(
        config["train_size"] + config["test_size"], config["length"], symbols=config["symbols"],
        branching=config["branching"], seed=config["data_seed"], bos=bos, recall_rate=config["recall_rate"],
        max_gap=config["max_gap"])
    return language.tokens[: config["train_size"]], language.tokens[config["train_size"]:]


def run_one(spec: dict, data: dict) -> dict:
    """Train the run of ``spec`` and score it with every decoding mode."""
    settings, config, seed = spec["settings"], spec["config"], spec["seed"]
    train, test = data[settings["bos"]]
    torch.manual_seed(seed)
    model = ab.models.TinyCausalLM(config["symbols"] + 3,  # symbols, trigger, recall, BOS
                                   width=config["width"], heads=config["heads"], layers=config["layers"],
                                   max_length=config["length"], null_logit=settings["null_logit"])
    start = time.perf_counter()
    losses = fit_language_model(model, train, config["steps"], config["batch"], lr=config["lr"], seed=seed)
    seconds = time.perf_counter() - start
    window = config["window"]
    scores = streaming_losses(model, test, window, sinks=SINKS)
    tail = losses[-max(1, config["steps"] // 10):]
    return {
        "final_train_loss": sum(tail) / len(tail),
        "seconds": seconds,
        "cache_error": scores.cache_error,
        "loss_before_eviction": {mode: loss[:window].mean().item() for mode, loss in scores.losses.items()},
        "loss_after_eviction": {mode: loss[window:].mean().item() for mode, loss in scores.losses.items()},
        "loss_per_position": {mode: [round(v, 5) for v in loss.tolist()] for mode, loss in scores.losses.items()},
        "first_token_share": first_token_share(model, test, start=window + 1).tolist(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = sweep_parser(__doc__.split("\n")[0], variants=list(VARIANTS), steps=400, batch_size=32,
                          output=DEFAULT_OUTPUT)
    parser.add_argument("--length", type=at_least(8), default=64)
    parser.add_argument("--window", type=at_least(1), default=8)
    parser.add_argument("--train-size", type=at_least(1), default=4096)
    parser.add_argument("--test-size", type=at_least(1), default=256)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = {"steps": args.steps, "batch": args.batch_size, "lr": 3e-3, "schedule": "one_cycle",
              "length": args.length, "window": args.window, "sinks": list(SINKS),
              "train_size": args.train_size, "test_size": args.test_size, "data_seed": 0,
              "symbols": 16, "branching": 2, "recall_rate": 0.1, "max_gap": 4,
              "width": 64, "heads": 4, "layers": 2}
    store = SweepStore(args.output, script=SCRIPT, config=config,
                       settings={variant: dict(VARIANTS[variant]) for variant in args.variants})

    def prepare() -> dict:
        return {bos: make_data(config, bos) for bos in (True, False)}

    def describe(run: dict) -> str:
        after = run["loss_after_eviction"]
        return (f"{run['variant']:>10} seed {run['seed']}: loss after eviction full {after['full']:.3f}, "
                f"window {after['window']:.3f}, sinks=4 {after['sinks=4']:.3f} ({run['seconds']:.0f} s)")

    return run_sweep(store, args.variants, args.seeds, prepare=prepare, train=run_one, describe=describe,
                     budget_minutes=args.budget_minutes, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
