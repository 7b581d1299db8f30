"""Why does a DGNO inverse problem miss the truth: the search, or the posterior itself?

For the synthetic inverse problems ``benchmarks/dgno.py`` leaves in its work
folder, this compares two latent points: the truth's own code (the encoder's
mean for the true input, the best the model's latent space offers with the
encoder's help) and the MAP that ``pdedsl infer`` finds. For each it prints
the negative log posterior split into its parts (data misfit, physics,
prior (``--prior`` as for ``pdedsl infer``); ``training/inverse.py``, the
model error not folded in) and the relative L2 error of the decoded input.
If the truth's code has the *higher* negative log posterior, a better
optimiser cannot help: the model (its decoders and the forward error in the
misfit) or the information in the data limits the answer.

    python benchmarks/dgno.py --cases two_phase_paper --work W        # leaves W/two_phase_paper_inverse_*
    python benchmarks/dgno_inverse_diagnosis.py --work W --case two_phase_paper --problems 2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch


def diagnose(work: Path, case: str, member: int, prior: str) -> dict:
    from pdedsl import api
    from pdedsl.runtime.family import load_pool
    from pdedsl.training.inverse import LatentPosterior, Settings, observations_of
    from pdedsl.training.run import Run

    run = Run.open(work / f"{case}_dgno")
    network = getattr(run.model, "model", run.model)
    pool = load_pool(run.problem, work / f"{case}_test.npz")
    problem = api.load(work / f"{case}_inverse_{member}" / "inverse.pde")
    observations = observations_of(problem, run)
    posterior = LatentPosterior(run, observations, Settings(seed=member, prior=prior))
    coords = {a: network.sensor_points[:, i].reshape(1, -1) for i, a in enumerate(network.coordinate_names)}
    (name,) = network.layout.channels
    truth = torch.as_tensor(pool.grid_inputs[name][member].reshape(-1), dtype=run.dtype)
    observed = sum(o.values.numel() for o in posterior.observations)
    with torch.no_grad():
        encoded = network.encode(pool.operator_inputs(run.dtype).select(slice(member, member + 1)))[0]
    found = posterior.prior.latent(posterior.find_map()[None])

    def parts(z: torch.Tensor) -> dict:
        with torch.no_grad():
            vector = posterior.residuals(posterior.prior.whiten(z))[0]
            latent = z.shape[1]
            decoded = network.decode_inputs(coords, torch.tanh(z))[name][0]
            return {"data": float(vector[:observed].square().sum() / 2),
                    "physics": float(vector[observed:-latent].square().sum() / 2),
                    "prior": float(vector[-latent:].square().sum() / 2),
                    "total": float(vector.square().sum() / 2),
                    f"{name}_rel_l2": float((decoded - truth).norm() / truth.norm())}

    return {"problem": member, "encoded_truth": parts(encoded), "map": parts(found)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", required=True, help="the work folder of benchmarks/dgno.py")
    parser.add_argument("--case", default="two_phase")
    parser.add_argument("--problems", type=int, default=2)
    parser.add_argument("--prior", choices=("aggregate", "standard"), default="aggregate",
                        help="the latent prior (infer --prior)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [diagnose(Path(args.work), args.case, member, args.prior) for member in range(args.problems)]
    print(f"{'problem':>7} {'point':<14} {'data':>8} {'physics':>8} {'prior':>7} {'total':>8} {'input rel L2':>13}")
    for row in rows:
        for point in ("encoded_truth", "map"):
            p = row[point]
            error = next(v for k, v in p.items() if k.endswith("_rel_l2"))
            print(f"{row['problem']:>7} {point:<14} {p['data']:>8.1f} {p['physics']:>8.1f} {p['prior']:>7.1f} "
                  f"{p['total']:>8.1f} {error:>13.3f}")
    summary = {point: float(np.mean([row[point]["total"] for row in rows])) for point in ("encoded_truth", "map")}
    print(json.dumps({"benchmark": "dgno_inverse_diagnosis", "case": args.case, "prior": args.prior,
                      "mean_total": summary, "rows": rows}))


if __name__ == "__main__":
    main()
