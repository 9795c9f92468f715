"""The LANCZOS resize, in two horizontal strips on two threads when the function has two CPUs.

Pillow releases the GIL while it resamples. Each strip is resampled from the exact source rows
its output rows map to, so its filter centres are those of one call up to float rounding (a
few samples differ by one level; tested). Lambda shows 2 vCPUs at every memory size but gives CPU time in
proportion to memory: a second thread only pays above 1,769 MB (one vCPU's worth).
"""

import functools
import os

from PIL import Image

REDUCING_GAP = 2.0
ONE_VCPU_MB = 1769
MIN_SPLIT_PIXELS = 250_000  # source pixels below which a second thread costs more than it saves


@functools.cache
def threads() -> int:
    """How many threads the resize may use: 2 when two CPUs (and the CPU time for them) are ours."""
    memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    if memory and memory.isdigit() and int(memory) <= ONE_VCPU_MB:
        return 1
    return min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@functools.cache
def _pool():
    from concurrent.futures import ThreadPoolExecutor  # only with two threads: ~25 ms of cold start

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="resize")


def resize(im: Image.Image, size: tuple[int, int], box) -> Image.Image:
    """LANCZOS from box to size after an integer box reduction down to REDUCING_GAP x the size
    (as Pillow's reducing_gap), premultiplied when there is alpha; on two threads when worth it."""
    alpha = im.mode in ("LA", "RGBA")
    if alpha:
        im = im.convert({"LA": "La", "RGBA": "RGBa"}[im.mode])
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    factor = (int(box_w / size[0] / REDUCING_GAP) or 1, int(box_h / size[1] / REDUCING_GAP) or 1)
    if factor != (1, 1):
        im = im.reduce(factor)
        box = (box[0] / factor[0], box[1] / factor[1], box[2] / factor[0], box[3] / factor[1])
    if threads() < 2 or box_h <= size[1] or box_w * box_h < MIN_SPLIT_PIXELS:  # downscales only
        out = im.resize(size, Image.Resampling.LANCZOS, box=box)
    else:
        middle, step = size[1] // 2, (box[3] - box[1]) / size[1]

        def strip(first: int, last: int) -> Image.Image:
            rows = (box[0], box[1] + first * step, box[2], box[1] + last * step)
            return im.resize((size[0], last - first), Image.Resampling.LANCZOS, box=rows)

        top = _pool().submit(strip, 0, middle)
        bottom = strip(middle, size[1])
        out = Image.new(im.mode, size)
        out.paste(top.result(), (0, 0))
        out.paste(bottom, (0, middle))
    return out.convert(im.mode[:-1] + "A") if alpha else out
