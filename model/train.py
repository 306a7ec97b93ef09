"""dualcam-train: train the colorization network on synthetic stereo, with resume and DDP.

    dualcam-train --preset mobile --out runs/mobile            # resumes from runs/mobile/last.pt
    torchrun --nproc-per-node 4 -m dualcam.model.train ...     # data-parallel on several GPUs/machines
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from .checkpoint import load_checkpoint, save_checkpoint
from .config import PRESETS, DualCamConfig, preset
from .dataset import MixedDataset, RealStereoDataset, SceneFlowDataset, SyntheticStereoDataset, UnlabelledPairs
from .evaluate import EVAL_CAMERAS, evaluate_method, list_pairs, network_method
from .losses import chroma_loss, luma_reconstruction_loss
from .network import DualCamNet
from .simulate import CameraModel

# --camera: how the training pairs' two cameras differ
TRAINING_CAMERAS = {
    "realistic": CameraModel(),
    "aligned": replace(CameraModel(), vertical_shift=0.0, rotation_deg=0.0),
    "ideal": CameraModel.ideal(p_setup1=0.5),
}


def parse_overrides(items: list[str]) -> dict:
    """--set weight_norm=none --set attention=false -> typed config overrides."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        low = value.lower()
        out[key] = low == "true" if low in ("true", "false") else int(value) if value.isdigit() else value
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="dualcam-train", description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="mobile", choices=list(PRESETS), help="network size (model/config.py)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field")
    p.add_argument("--out", type=Path, required=True, help="run folder: checkpoints and log.jsonl")
    p.add_argument("--iters", type=int, default=20000)
    p.add_argument("--batch", type=int, default=4, help="per process")
    p.add_argument("--crop", default="128x256", help="HxW of the training crops")
    p.add_argument("--optimizer", choices=["adam", "rmsprop"], default="adam",
                   help="adam with cosine decay (default) or the paper's RMSProp at a constant rate")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help="bfloat16 autocast; default: where the device computes in bf16 natively (GPUs, CPUs with "
                        "AVX-512 BF16 or AMX: about 2x faster there), else float32, since a CPU without those "
                        "emulates bf16 (one AVX2-only EPYC took minutes per step against 9 s in float32)")
    p.add_argument("--workers", type=int, default=1, help="data loader processes rendering scenes")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--sceneflow", type=Path, default=None,
                   help="train on a SceneFlow download at this root instead of synthetic scenes")
    p.add_argument("--textures", type=Path, default=None,
                   help="texture set for the synthetic scenes (python -m dualcam.model.textures build DIR); "
                        "default: scikit-image's few photos")
    p.add_argument("--real-pairs", type=Path, nargs="+", default=[], metavar="DIR",
                   help="real rectified colour stereo pairs (folders with left.png and right.png, or folders of "
                        "them) mixed into the training scenes: grey one view and it is a labelled real capture")
    p.add_argument("--real-fraction", type=float, default=0.5, help="share of training items from --real-pairs")
    p.add_argument("--luma-weight", type=float, default=0.0,
                   help="weight of the luma-reconstruction loss (model/losses.py), which needs no colour label: "
                        "the weight volume applied to the reference luma must give back the mono luma")
    p.add_argument("--finetune-pairs", type=Path, nargs="+", default=[], metavar="DIR",
                   help="adapt to these real pairs without colour labels (folders with mono.png and color.png, a "
                        "mono+colour capture, or left.png and right.png), with the luma loss alone and BatchNorm "
                        "frozen; they replace the training scenes; needs --luma-weight > 0")
    p.add_argument("--camera", choices=list(TRAINING_CAMERAS), default="realistic",
                   help="realistic: the two cameras differ as phone cameras do (simulate.CameraModel); "
                        "aligned: the same without residual misalignment; ideal: only the setup noise (ablations)")
    p.add_argument("--val-dir", type=Path, default=None, help="folder of real pairs for validation CPSNR")
    p.add_argument("--val-every", type=int, default=1000)
    p.add_argument("--ckpt-every", type=int, default=200)
    p.add_argument("--init", type=Path, default=None, help="start from these weights (fine-tuning)")
    p.add_argument("--minutes", type=float, default=None,
                   help="checkpoint and stop after this much wall time; the same command resumes (for machines "
                        "lent in pieces, e.g. 9-minute calls)")
    p.add_argument("--profile", type=int, default=0, metavar="STEPS",
                   help="time and profile this many training steps, print where the time goes by operator, write "
                        "OUT/profile.json and stop (benchmarks/train_speed.py compares the speed options with it)")
    speed = p.add_argument_group("speed options (same numbers, other kernels; measure them with --profile)")
    speed.add_argument("--channels-last", action="store_true",
                       help="weights in channels-last memory, so convolutions and BatchNorms use NDHWC kernels "
                            "(with bf16 on a CPU, torch 2.13's 3-D conv weight gradients turned NaN)")
    speed.add_argument("--fp32-batchnorm", action="store_true",
                       help="BatchNorm in float32 under bf16 autocast (CUDA's 5-D bf16 BatchNorm kernels are slow)")
    speed.add_argument("--compile", action="store_true", help="torch.compile the training step's model")
    args = p.parse_args(argv)
    if args.bf16 is None:
        args.bf16 = native_bf16()
    if args.finetune_pairs and not args.luma_weight > 0:
        p.error("--finetune-pairs needs --luma-weight > 0: without colour labels the luma loss is all there is")
    for option, folders in (("--val-dir", [args.val_dir] if args.val_dir else []), ("--real-pairs", args.real_pairs),
                            ("--finetune-pairs", args.finetune_pairs)):
        for folder in folders:
            if not list_pairs(folder, captures=option == "--finetune-pairs"):
                p.error(f"{option} {folder}: no pairs (folders with left.png and right.png"
                        + (", or mono.png and color.png)" if option == "--finetune-pairs" else ")"))
    if not 0 < args.real_fraction <= 1:
        p.error(f"--real-fraction must be in (0, 1], not {args.real_fraction}")
    return args


def native_bf16() -> bool:
    """Whether this machine's training device computes bfloat16 in hardware."""
    return torch.cuda.is_available() or torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def learning_rate(args: argparse.Namespace, step: int) -> float:
    if args.optimizer == "rmsprop":
        return args.lr
    warmup = min(200, args.iters // 10)
    if step < warmup:
        return args.lr * (step + 1) / warmup
    return 0.5 * args.lr * (1 + math.cos(math.pi * (step - warmup) / max(1, args.iters - warmup)))


def sample_indices(start_step: int, iters: int, batch: int, rank: int, world: int) -> list[int]:
    """Scene numbers this rank trains on: disjoint across ranks, and a resume continues the stream."""
    return [(s * world + rank) * batch + b for s in range(start_step, iters) for b in range(batch)]


def main(argv: list[str] | None = None) -> None:
    train(parse_args(argv))


def train(args: argparse.Namespace) -> DualCamNet:
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = True  # crops have one fixed shape: let cuDNN pick its fastest kernels
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True  # fp32 parts on tensor cores
    torch.manual_seed(args.seed)

    last = args.out / "last.pt"
    resume = load_checkpoint(last) if last.exists() else None
    config = preset(args.preset, **parse_overrides(args.set))
    if resume is not None:
        config = DualCamConfig.from_dict(resume["config"])  # a resumed run keeps its own config
    model = DualCamNet(config).to(device)
    if args.init is not None and resume is None:
        load_init(model, args.init)
    apply_speed_options(model, args.channels_last, args.fp32_batchnorm)
    params = model.parameters()
    optimizer = (torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4) if args.optimizer == "adam"
                 else torch.optim.RMSprop(params, lr=args.lr))
    step, elapsed, history = 0, 0.0, []
    if resume is not None:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        step, elapsed, history = resume["step"], resume["elapsed"], resume.get("history", [])
    net = model
    if distributed:
        # SyncBatchNorm needs a GPU; on CPU, DDP broadcasts rank 0's BN statistics before every forward.
        net = DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(model) if device.type == "cuda" else model)
    if args.compile:
        net = torch.compile(net)

    height, width = (int(v) for v in args.crop.split("x"))
    camera = TRAINING_CAMERAS[args.camera]
    data = (SceneFlowDataset(args.sceneflow, args.seed, height, width, config.max_disparity, camera=camera)
            if args.sceneflow else
            SyntheticStereoDataset(args.seed, height, width, config.max_disparity, camera=camera,
                                   textures=str(args.textures) if args.textures else None))
    if args.finetune_pairs:
        data = UnlabelledPairs([d for root in args.finetune_pairs for d in list_pairs(root, captures=True)], args.seed,
                               height, width, config.max_disparity, camera=camera)
    elif args.real_pairs:
        real = RealStereoDataset([d for root in args.real_pairs for d in list_pairs(root)], args.seed, height, width,
                                 config.max_disparity, camera=camera)
        data = MixedDataset([(1 - args.real_fraction, data), (args.real_fraction, real)], args.seed)
    loader = DataLoader(Subset(data, sample_indices(step, args.iters, args.batch, rank, world)),
                        batch_size=args.batch, num_workers=args.workers,
                        persistent_workers=args.workers > 0, pin_memory=device.type == "cuda")

    log = None
    if rank == 0:
        args.out.mkdir(parents=True, exist_ok=True)
        log = (args.out / "log.jsonl").open("a")
        print(f"dualcam-train: {args.preset} {config.to_dict()} params={model.num_params():,} "
              f"world={world} device={device} from step {step}", flush=True)
    if resume is not None and args.val_dir is not None and rank == 0 and step < args.iters:
        # A long schedule runs session after session: each resume says where the weights stand before going on.
        record = {"step": step, "resumed": True, "val_cpsnr": validate(model, args.val_dir)}
        print(f"resumed at step {step}: validation CPSNR {record['val_cpsnr']}", flush=True)
        log.write(json.dumps(record) + "\n")
    set_training(model, freeze_batchnorm=bool(args.finetune_pairs))
    if args.profile:
        profile_steps(net, loader, optimizer, args, device)
        return model
    start, session_start = time.time() - elapsed, time.time()
    bar = tqdm(total=args.iters, initial=step, disable=rank != 0, dynamic_ncols=True)
    for batch in loader:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(args, step)
        loss = train_step(net, batch, optimizer, args.bf16, device, args.luma_weight)
        step += 1
        if not math.isfinite(loss.item()):  # stop before a checkpoint holds the damage; the last one is intact
            raise SystemExit(f"dualcam-train: the loss is {loss.item()} at step {step}; stopped, {last} is from "
                             f"before it (a speed option, or a learning rate too high for this run?)")
        out_of_time = out_of_time_everywhere(args.minutes, session_start, distributed, device)
        if rank != 0:
            if out_of_time:
                break
            continue
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.2e}", psnr=f"{-10 * math.log10(max(loss.item(), 1e-12)):.1f}")
        record = {"step": step, "loss": loss.item(), "lr": optimizer.param_groups[0]["lr"],
                  "time": round(time.time() - start, 1)}
        if args.val_dir is not None and (step % args.val_every == 0 or step == args.iters):
            record["val_cpsnr"] = validate(model, args.val_dir)
            tqdm.write(f"step {step}: validation CPSNR {record['val_cpsnr']}")
            set_training(model, freeze_batchnorm=bool(args.finetune_pairs))
        log.write(json.dumps(record) + "\n")
        log.flush()
        if step % args.ckpt_every == 0 or step == args.iters or out_of_time:
            history.append({k: record[k] for k in ("step", "loss", "time")})
            save_checkpoint(last, model, optimizer=optimizer.state_dict(), step=step,
                            elapsed=time.time() - start, history=history[-1000:],
                            training=training_record(args, world, device))
        if out_of_time:
            tqdm.write(f"stopping at step {step} after {args.minutes:g} minutes; run the same command to resume")
            break
    bar.close()
    if distributed:
        dist.destroy_process_group()
    return model


def set_training(model: nn.Module, freeze_batchnorm: bool) -> None:
    """Training mode; with `freeze_batchnorm` the BatchNorms keep normalising with their learned statistics (a few
    real pairs are too few to estimate new ones from)."""
    model.train()
    if freeze_batchnorm:
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()


def load_init(model: DualCamNet, path: Path) -> None:
    """Start from trained weights. Tensors of parts this config switches off (an ablation started from the
    full model) are dropped; a tensor this config needs and the weights lack is an error. A conv this config
    gives more inputs (residue_sees_spread) keeps its trained filters, with zeros for the new inputs, so the
    start computes what the weights did."""
    state = load_checkpoint(path)["model"]
    for name, tensor in model.state_dict().items():
        old = state.get(name)
        if old is not None and old.dim() == 4 and old.shape[1] < tensor.shape[1] and old.shape[0] == tensor.shape[0]:
            state[name] = torch.cat([old, old.new_zeros(old.shape[0], tensor.shape[1] - old.shape[1], *old.shape[2:])], 1)
    missing, _ = model.load_state_dict(state, strict=False)
    if missing:
        raise SystemExit(f"--init {path}: lacks {len(missing)} tensors this config needs, e.g. {missing[0]}")


def apply_speed_options(model: nn.Module, channels_last: bool, fp32_batchnorm: bool) -> None:
    """In place; parameters, state_dict keys and checkpoints stay as they are."""
    if channels_last:
        formats = {4: torch.channels_last, 5: torch.channels_last_3d}
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.dim() in formats:
                tensor.data = tensor.data.contiguous(memory_format=formats[tensor.dim()])
    if fp32_batchnorm:
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                # autocast leaves BatchNorm in its input's dtype, so a float32 input makes it run in float32
                module.register_forward_pre_hook(lambda _, inputs: (inputs[0].float(),))


def out_of_time_everywhere(minutes: float | None, since: float, distributed: bool, device: torch.device) -> bool:
    """Whether this run's time is up; under DDP rank 0's clock decides for all, so every rank stops at
    the same step."""
    if minutes is None:
        return False
    flag = torch.tensor([float(time.time() - since > 60 * minutes)], device=device)
    if distributed:
        dist.broadcast(flag, src=0)
    return bool(flag.item())


def train_step(net: nn.Module, batch: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
               bf16: bool, device: torch.device, luma_weight: float = 0.0) -> torch.Tensor:
    batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        out = net(batch["mono_y"], batch["ref_y"], batch["ref_cbcr"], reconstruct_luma=luma_weight > 0)
    pred, luma = out if luma_weight > 0 else (out, None)
    loss = chroma_loss(pred, batch["target"], batch["labelled"])
    if luma is not None:
        loss = loss + luma_weight * luma_reconstruction_loss(luma, batch["mono_y"], batch["seen"])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def profile_steps(net: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer,
                  args: argparse.Namespace, device: torch.device) -> dict:
    """Median seconds per training step and each operator's share of it (self time, device time on a GPU),
    after warm-up steps: the check to run on a CPU before spending a GPU's time, e.g. on what normalisation
    costs. Printed, and written to OUT/profile.json."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    warmup = 3 if args.compile else 1
    if len(loader) < warmup + 2 * args.profile:
        raise SystemExit(f"--profile {args.profile} needs --iters of at least {warmup + 2 * args.profile}")
    loaded = iter(loader)
    batches = [next(loaded) for _ in range(warmup + 2 * args.profile)]  # rendered before the clock starts
    losses = [train_step(net, batch, optimizer, args.bf16, device, args.luma_weight) for batch in batches[:warmup]]
    times = []
    for batch in batches[warmup:warmup + args.profile]:
        synchronize()
        start = time.perf_counter()
        losses.append(train_step(net, batch, optimizer, args.bf16, device, args.luma_weight))
        synchronize()
        times.append(time.perf_counter() - start)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for batch in batches[warmup + args.profile:]:
            losses.append(train_step(net, batch, optimizer, args.bf16, device, args.luma_weight))
        synchronize()
    if device.type == "cuda":  # kernels only: an operator's device time is its kernels', counted once
        events = [(e.key, e.self_device_time_total) for e in prof.key_averages() if e.device_type == DeviceType.CUDA]
    else:
        events = [(e.key, e.self_cpu_time_total) for e in prof.key_averages()]
    total = sum(t for _, t in events) or 1.0
    shares = sorted(((k, t / total) for k, t in events), key=lambda kv: -kv[1])
    losses = [loss.item() for loss in losses]
    result = {"step_seconds": statistics.median(times), "steps": args.profile, "device": str(device),
              "finite": all(math.isfinite(loss) for loss in losses), "losses": losses,
              "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
              "options": {k: getattr(args, k) for k in ("bf16", "channels_last", "fp32_batchnorm", "compile")},
              "batch": args.batch, "crop": args.crop, "preset": args.preset,
              "batchnorm_share": sum(share for name, share in shares if is_batchnorm(name)),
              "operators": [[name, round(share, 4)] for name, share in shares[:15]]}
    print(f"{result['step_seconds']:.3f} s per step (median of {args.profile}), "
          f"BatchNorm {100 * result['batchnorm_share']:.1f} %" + ("" if result["finite"] else ", THE LOSS DIVERGED"))
    for name, share in shares[:15]:
        print(f"{100 * share:5.1f} %  {name}")
    (args.out / "profile.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def is_batchnorm(operator: str) -> bool:
    """ATen's batch_norm ops and CUDA kernels, cuDNN's bn_fw/bn_bw kernels and its NHWC batchnorm kernels."""
    name = operator.lower()
    return any(key in name for key in ("batch_norm", "batchnorm", "bn_fw", "bn_bw"))


def training_record(args: argparse.Namespace, world: int, device: torch.device) -> dict:
    """What the model card needs to say how these weights were made."""
    cpu = platform.processor() or platform.machine()
    return {"preset": args.preset, "data": str(args.sceneflow or "synthetic"), "overrides": args.set,
            "real_pairs": sorted(d.name for root in args.real_pairs for d in list_pairs(root)),
            "real_fraction": args.real_fraction if args.real_pairs else 0.0,
            "finetune_pairs": sorted(d.name for root in args.finetune_pairs for d in list_pairs(root, captures=True)),
            "luma_weight": args.luma_weight,
            "textures": str(args.textures) if args.textures else None, "camera": args.camera,
            "init": str(args.init) if args.init else None,
            "seed": args.seed, "iters": args.iters, "batch": args.batch, "world": world, "crop": args.crop, "optimizer": args.optimizer,
            "lr": args.lr, "bf16": args.bf16, "device": str(device), "channels_last": args.channels_last,
            "fp32_batchnorm": args.fp32_batchnorm, "compile": args.compile,
            "machine": f"{platform.node()} {cpu} x{os.cpu_count()} cores, torch {torch.__version__}"}


def validate(model: DualCamNet, pairs_dir: Path) -> dict[str, float]:
    """Mean CPSNR on real pairs, Setup1 and Setup2, each as captured by ideal cameras and by the
    consumer camera, with each pair's Setup1 plain value."""
    model.eval()
    method, pairs, out = network_method(model), list_pairs(pairs_dir), {}
    for setup in (1, 2):
        for camera in EVAL_CAMERAS:
            result = evaluate_method(method, pairs, setup=setup, layout="paper", camera=camera)
            if setup == 1 and camera == "plain":
                out |= {name: round(v["cpsnr"], 2) for name, v in result["pairs"].items()}
            out["_".join(filter(None, ("mean", "" if camera == "plain" else camera, f"s{setup}")))] = round(result["mean"]["cpsnr"], 2)
    return out


if __name__ == "__main__":
    main()
