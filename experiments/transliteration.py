"""Long transliteration: global vs local Luong attention where locality is the right prior (issue 18).

The task (``attnbook.data.transliteration``): a random string of ``--length`` letters
(``a`` .. ``t``, 100 by default) is mapped symbol by symbol through a fixed bijection, so
target position t aligns to source position t and nothing else. A global attention has to
find position t among all S encoder states, which look alike (each letter occurs about
every 20 positions); local-m's window ``[t - D, t + D]`` holds the right state by
construction, and local-p has to learn to predict ``p_t = t``. (local-m-scaled is left out:
with ``S = T`` its centre ``t S / T`` is local-m's ``t``, the same model.)

The model is ``AttentionSeq2Seq`` with a bidirectional encoder (``encoder-bi``, the main
condition) and the decoder started from zeros (bypass off: attention is the only path from
the source); the left-to-right encoder (``encoder-uni``) is available as variants that
the default sweep does not run. Every run has the same budget (steps, batch size, learning
rate, gradient clipping, data) and is scored at every checkpoint of that one run on the
same test strings, with greedy decoding: symbol accuracy, exact match (the whole string
right), alignment accuracy (the most attended source position is t), the share within one
position of t, and the mean number of source positions with a non-zero weight.

The variant ``cost`` trains nothing: it measures the cost of one decoder step (attended
positions S vs 2D + 1; wall time of the attention and of the whole decoder step, global vs
local, interleaved, median and spread), and its seed is the repetition. Each chunk of the
sweep that reaches a seed measures it again, so its spread covers the sweep's time.

Runs go through the shared sweep store (``experiments/_sweep.py``) into
``code/src/attnbook/results/transliteration.json``; run it again (``--budget-minutes``)
until it prints ``complete``.

    python experiments/transliteration.py --budget-minutes 4        # one chunk of the sweep
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from attnbook.book import results_folder
from attnbook.data.transliteration import (TRANSLITERATION_SOURCE_VOCAB, TRANSLITERATION_TARGET_VOCAB,
                                           encode_transliterations, make_transliterations, score_transliterations)
from attnbook.local import LuongAttention
from attnbook.models import AttentionSeq2Seq, fit

from _sweep import SweepStore, at_least, run_sweep, sweep_parser

SCRIPT = "experiments/transliteration.py"
MODES = ("global", "local-m", "local-p")
ENCODERS = ("bi", "uni")
COST = "cost"
MODEL_VARIANTS = tuple(f"{mode}/encoder-{encoder}" for encoder in ENCODERS for mode in MODES)
VARIANTS = (COST, *MODEL_VARIANTS)
DEFAULT_VARIANTS = (COST, *(f"{mode}/encoder-bi" for mode in MODES))
DEFAULT_OUTPUT = results_folder() / "transliteration.json"
STEPS, CHECKPOINTS = 200, [25, 50, 75, 100, 125, 150, 175, 200]


def settings_of(variant: str) -> dict:
    """``{"kind": "cost"}`` for ``cost``; ``{"kind": "train", "mode": ..., "encoder": "bi" or "uni"}``
    for ``<mode>/encoder-<bi|uni>``."""
    if variant == COST:
        return {"kind": COST}
    mode, encoder = variant.split("/encoder-")
    return {"kind": "train", "mode": mode, "encoder": encoder}


def build(config: dict, mode: str, encoder: str) -> AttentionSeq2Seq:
    """The model of a run (the caller seeds torch first)."""
    attention = LuongAttention(config["hidden"], score=config["score"], mode=mode,
                               window=None if mode == "global" else config["window"])
    return AttentionSeq2Seq(len(TRANSLITERATION_SOURCE_VOCAB), len(TRANSLITERATION_TARGET_VOCAB), config["hidden"],
                            attention, init_from_encoder=False, bidirectional=encoder == "bi")


def evaluate_on(model: AttentionSeq2Seq, test) -> dict:
    """The scores of one checkpoint on the encoded test strings ``test`` (greedy decoding)."""
    scores = score_transliterations(model, test)
    mask = test.target_mask
    top = scores.weights.argmax(-1)
    offset = (top - torch.arange(mask.shape[1])[None, :]).abs()
    attended = (scores.weights > 0).sum(-1).float()
    return {"symbols": scores.symbols, "exact": scores.exact.float().mean().item(), "alignment": scores.alignment,
            "alignment_within_1": ((offset <= 1) & mask).sum().item() / mask.sum().item(),
            "attended_positions": attended[mask].mean().item()}


def train_one(spec: dict, data: dict) -> dict:
    """Train the run of ``spec`` (one model) and score it at every checkpoint.

    A run whose training diverges (a non-finite loss, or non-finite scores after an overflowing
    gradient turned the parameters into NaN: local-p's predicted centre feeds back through input
    feeding, and its gradient can explode through the 100 decoder steps) stops there and is stored
    with ``diverged_at`` (the step that failed; None for a run that finished), the checkpoints
    scored before it and the losses recorded before it.
    """
    config, settings = spec["config"], spec["settings"]
    torch.manual_seed(spec["seed"])
    model = build(config, settings["mode"], settings["encoder"])
    train = data["train"]
    losses: list[float] = []
    curve: dict[str, dict] = {}

    def loss_fn(rows: torch.Tensor) -> torch.Tensor:
        out = model(train.source[rows], train.source_mask[rows], target=train.target[rows])
        loss = F.cross_entropy(out.logits.flatten(0, 1), train.target[rows].flatten())
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite loss {loss.item()}")
        losses.append(loss.item())
        return loss

    def evaluate(trained: AttentionSeq2Seq) -> dict:
        curve[str(len(losses))] = evaluate_on(trained, data["test"])
        return curve[str(len(losses))]

    start = time.perf_counter()
    diverged_at = None
    try:
        fit(model, loss_fn, train.source.shape[0], config["steps"], config["batch_size"], lr=config["lr"],
            clip_norm=config["clip_norm"], seed=spec["seed"], checkpoints=config["checkpoints"], evaluate=evaluate)
    except (FloatingPointError, ValueError) as error:
        if not isinstance(error, FloatingPointError) and "must be finite" not in str(error):
            raise
        diverged_at = len(losses) + 1
    every = config["loss_every"]
    means = [statistics.fmean(losses[i:i + every]) for i in range(0, len(losses), every)]
    return {"mode": settings["mode"], "encoder": settings["encoder"], "seconds": round(time.perf_counter() - start, 1),
            "diverged_at": diverged_at, "losses": means, "checkpoints": curve}


def windowed_attention(attention: LuongAttention, query: torch.Tensor, keys: torch.Tensor, step: int):
    """local-m at step ``step`` computed on the ``2D + 1`` keys of its window only (no mask over S):
    what a local attention costs when it reads only its window. Returns ``(context, weights)``, the
    weights over the window."""
    low, high = max(step - attention.window, 0), min(step + attention.window + 1, keys.shape[1])
    window = keys[:, low:high]
    weights = torch.softmax(attention._scores(query, window), -1)
    return torch.einsum("bs,bsh->bh", weights, window), weights


def decoder_step(model: AttentionSeq2Seq, previous, attentional, state, encoded, mask, step: int, steps: int,
                 windowed: bool = False):
    """One step of ``AttentionSeq2Seq.forward``'s decoder loop (input feeding, attention, output)."""
    state = model.decoder(torch.cat([model.target_embedding(previous), attentional], -1), state)
    if windowed:
        context, _ = windowed_attention(model.attention, state, encoded, step)
    else:
        context = model.attention(state, encoded, step=step, key_padding_mask=mask, target_length=steps).context
    attentional = torch.tanh(model.combine(torch.cat([context, state], -1)))
    return model.output(attentional), attentional, state


def measure_cost(spec: dict, data: dict) -> dict:
    """Attended positions and the wall time of one decoder step, global vs local (forward, no gradient).

    For each batch size in ``config["cost_batches"]``, at the middle step ``t = S // 2`` (a full
    window) of freshly initialised models (seeded by the run's seed), on the test strings: the
    package's ``LuongAttention`` call for each mode (local modes score all S positions and mask
    those outside the window), local-m computed on its ``2D + 1`` keys only
    (``local-m-window``, checked against the package's output), and the whole decoder step of
    each. The cases are timed interleaved: ``cost_repeats`` rounds, each timing every case for
    ``cost_calls`` calls in turn; a sample is the mean time of one call in one round.
    """
    config = spec["config"]
    torch.manual_seed(spec["seed"])
    models = {mode: build(config, mode, "bi").eval() for mode in MODES}
    test = data["test"]
    length = test.source.shape[1]
    step = length // 2
    results: dict = {"source_length": length, "step": step, "attended_positions": {
        "global": length, "local-m": 2 * config["window"] + 1, "local-p": 2 * config["window"] + 1}, "batches": {}}
    with torch.no_grad():
        for batch in config["cost_batches"]:
            source, mask = test.source[:batch], test.source_mask[:batch]
            cases, agreement = {}, {}
            for mode, model in models.items():
                encoded, _ = model.encode(source, mask)
                state = torch.randn(batch, config["hidden"])
                attentional = torch.zeros(batch, config["hidden"])
                previous = test.target[:batch, step - 1]
                attention = model.attention

                def attend(attention=attention, state=state, encoded=encoded, mask=mask):
                    return attention(state, encoded, step=step, key_padding_mask=mask, target_length=length)

                def whole(model=model, previous=previous, attentional=attentional, state=state, encoded=encoded,
                          mask=mask, windowed=False):
                    return decoder_step(model, previous, attentional, state, encoded, mask, step, length, windowed)

                cases[f"attention/{mode}"] = attend
                cases[f"decoder-step/{mode}"] = whole
                if mode == "local-m":
                    cases["attention/local-m-window"] = (lambda attention=attention, state=state, encoded=encoded:
                                                         windowed_attention(attention, state, encoded, step))
                    cases["decoder-step/local-m-window"] = lambda whole=whole: whole(windowed=True)
                    full, window = attend().context, windowed_attention(attention, state, encoded, step)[0]
                    agreement["local-m-window_max_abs_difference"] = (full - window).abs().max().item()
            samples: dict[str, list[float]] = {name: [] for name in cases}
            for name, case in cases.items():  # warm-up
                for _ in range(3):
                    case()
            for _ in range(config["cost_repeats"]):
                for name, case in cases.items():
                    start = time.perf_counter()
                    for _ in range(config["cost_calls"]):
                        case()
                    samples[name].append(1e6 * (time.perf_counter() - start) / config["cost_calls"])
            summary = {}
            for name, values in samples.items():
                ordered = sorted(values)
                quartiles = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
                summary[name] = {"median_us": statistics.median(ordered), "q1_us": quartiles[0],
                                 "q3_us": quartiles[2], "min_us": ordered[0], "max_us": ordered[-1]}
            results["batches"][str(batch)] = {"microseconds_per_call": summary, **agreement}
    return results


def run_one(spec: dict, data: dict) -> dict:
    return measure_cost(spec, data) if spec["settings"]["kind"] == COST else train_one(spec, data)


def main(argv: list[str] | None = None) -> int:
    parser = sweep_parser(__doc__.split("\n")[0], variants=VARIANTS, default_variants=DEFAULT_VARIANTS, steps=STEPS,
                          batch_size=32, output=DEFAULT_OUTPUT)
    parser.add_argument("--checkpoints", nargs="+", type=at_least(1), default=CHECKPOINTS,
                        help="steps after which to score, increasing, the last = --steps")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--clip-norm", type=float, default=1.0, help="gradient-norm clipping")
    parser.add_argument("--hidden", type=at_least(2), default=64)
    parser.add_argument("--window", type=at_least(1), default=4, help="half-width D of the local windows")
    parser.add_argument("--length", type=at_least(1), default=100, help="symbols per source (and target)")
    parser.add_argument("--train-size", type=at_least(1), default=2000)
    parser.add_argument("--test-size", type=at_least(1), default=200)
    parser.add_argument("--cost-repeats", type=at_least(1), default=15)
    parser.add_argument("--cost-calls", type=at_least(1), default=20)
    args = parser.parse_args(argv)
    if sorted(set(args.checkpoints)) != args.checkpoints or args.checkpoints[-1] != args.steps:
        parser.error(f"--checkpoints must increase and end at --steps={args.steps}, got {args.checkpoints}")
    if args.hidden % 2:
        parser.error(f"--hidden must be even for the bidirectional encoder, got {args.hidden}")
    torch.set_num_threads(args.threads)
    config = {"steps": args.steps, "checkpoints": args.checkpoints, "batch_size": args.batch_size, "lr": args.lr,
              "clip_norm": args.clip_norm, "hidden": args.hidden, "window": args.window, "score": "general",
              "bypass": "off", "length": args.length, "train_size": args.train_size, "train_data_seed": 0,
              "test_size": args.test_size, "test_data_seed": 1, "loss_every": 5,
              "cost_batches": sorted({1, min(args.batch_size, args.test_size)}), "cost_repeats": args.cost_repeats,
              "cost_calls": args.cost_calls}
    store = SweepStore(args.output, script=SCRIPT, config=config,
                       settings={variant: settings_of(variant) for variant in args.variants})

    def prepare() -> dict:
        return {"train": encode_transliterations(make_transliterations(args.train_size, 0, args.length)),
                "test": encode_transliterations(make_transliterations(args.test_size, 1, args.length))}

    def describe(run: dict) -> str:
        if run["variant"] == COST:
            batch = run["batches"][str(config["cost_batches"][-1])]["microseconds_per_call"]
            times = ", ".join(f"{name} {values['median_us']:.0f}" for name, values in batch.items()
                              if name.startswith("decoder-step"))
            return f"cost seed {run['seed']}: median us per decoder step at batch {config['cost_batches'][-1]}: {times}"
        if run["diverged_at"] is not None:
            return (f"{run['mode']:>8} encoder {run['encoder']} seed {run['seed']}: diverged at step "
                    f"{run['diverged_at']} ({run['seconds']:.0f} s)")
        final = run["checkpoints"][str(args.steps)]
        return (f"{run['mode']:>8} encoder {run['encoder']} seed {run['seed']}: symbols {final['symbols']:.3f} "
                f"exact {final['exact']:.3f} alignment {final['alignment']:.3f} ({run['seconds']:.0f} s)")

    return run_sweep(store, args.variants, args.seeds, prepare=prepare, train=run_one, describe=describe,
                     budget_minutes=args.budget_minutes, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
