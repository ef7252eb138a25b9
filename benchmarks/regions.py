"""Region search on the local engine, beside the engine before it, on real news photographs.

One command builds a local index of the shared news photos (150 with titles plus 100
distractors), composes queries from them with a fixed seed (a photo pasted at 25% and
10% of an unrelated photo's area, 2x1 and 2x2 collages, an article page in a browser
window, a print on a wall; plain edits of whole photos; unrelated photos), and measures,
for this version and for the engine at ``--baseline`` (exported from git, run in a
subprocess on the same index file and the same query files):

* recall@1 of a whole-image search, of ``search_regions(regions="auto")`` and of
  ``search(region=<the true box>)``, and how many whole-image misses said nothing
  (no hit and no ``weak_candidates_dropped``);
* collages whose every photo is in the merged top 10;
* false matches on unrelated photos; recall@1 and p50 of whole-image search on plain edits;
* cost: p50 of ``regions="auto"`` against the p50 of a plain whole-image search of the
  same queries (this version: with ``find_parts=False``, today's whole-image pass);
* the proposals alone (this version): recall (a proposal with IoU >= 0.7 to each true
  box) and time per image.

The photos not indexed are split in two with the targets: a *tuning* split (what the
proposals and the engine were tuned on) and a *held-out* split never looked at while
tuning; both are reported.

    python benchmarks/regions.py [--per-kind 40] [--baseline 675802c] [--cache DIR]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # after a version on PYTHONPATH

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT.parent / "shared" / "images" / "news"
KINDS = ("inset25", "inset10", "collage2x1", "collage2x2", "screenshot", "wall_print")
SINGLE = ("inset25", "inset10", "screenshot", "wall_print")
EDITS = ("crop_offcenter_70", "jpeg_q10", "resize_quarter", "caption_band", "rotate_+5",
         "mirror", "grayscale", "watermark")


# -- data (this version only) -----------------------------------------------------------------


def split_photos(seed: int) -> dict[str, Any]:
    """Indexed photos and the two splits (targets to find, others to compose them into)."""
    rows = [json.loads(line) for line in (NEWS / "captions.jsonl").read_text().splitlines()
            if line.strip()]
    titled = sorted(r["file"] for r in rows if r.get("title"))
    untitled = sorted(r["file"] for r in rows if not r.get("title"))
    rng = random.Random(seed)
    rng.shuffle(titled)
    rng.shuffle(untitled)
    targets, others = titled[:150], titled[150:] + untitled[100:]
    rng.shuffle(others)
    return {"indexed": targets + untitled[:100], "titles": {r["file"]: r.get("title") or
                                                            r["file"] for r in rows},
            "splits": {"tuning": (targets[:75], others[:37]),
                       "held-out": (targets[75:], others[37:])}}


def make_queries(folder: Path, photos: dict[str, Any], per_kind: int, seed: int) -> list[dict]:
    """Write every query image to ``folder``; their manifest (what each should find)."""
    from PIL import Image

    from benchmarks import compositions as C
    from benchmarks.transforms import TRANSFORMS

    cache: dict[str, Image.Image] = {}

    def photo(name: str) -> Image.Image:
        if name not in cache:
            cache[name] = Image.open(NEWS / name).convert("RGB")
        return cache[name]

    queries = []
    for split, (targets, others) in photos["splits"].items():
        for kind in KINDS:
            rng = random.Random(f"{seed}-{split}-{kind}")
            for n in range(per_kind):
                if kind.startswith("inset"):
                    shown = [rng.choice(targets)]
                    made = C.inset(photo(shown[0]), photo(rng.choice(others)),
                                   0.25 if kind == "inset25" else 0.10, rng)
                elif kind.startswith("collage"):
                    shown = rng.sample(targets, 2 if kind == "collage2x1" else 4)
                    made = C.collage([photo(t) for t in shown], rng, columns=2)
                elif kind == "screenshot":
                    shown = [rng.choice(targets)]
                    made = C.screenshot(photo(shown[0]), rng)
                else:
                    shown = [rng.choice(targets)]
                    made = C.wall_print(photo(shown[0]), rng)
                queries.append(_saved(folder, made.image, split, kind, n, shown,
                                      [list(b) for b in made.boxes]))
        rng = random.Random(f"{seed}-{split}-edits")
        for n, target in enumerate(rng.sample(targets, min(per_kind, len(targets)))):
            edit = EDITS[n % len(EDITS)]
            queries.append(_saved(folder, TRANSFORMS[edit](photo(target)), split, "edit", n,
                                  [target], [], edit=edit))
        for n, other in enumerate(others):
            queries.append(_saved(folder, photo(other), split, "unrelated", n, [], []))
    return queries


def _saved(folder: Path, image: Any, split: str, kind: str, n: int, shown: list[str],
           boxes: list[list[int]], **extra: str) -> dict:
    path = folder / f"{split}-{kind}-{n:03d}.jpg"
    image.convert("RGB").save(path, "JPEG", quality=90)
    return {"path": str(path), "split": split, "kind": kind, "shown": shown, "boxes": boxes,
            **extra}


def build_index(path: Path, photos: dict[str, Any]) -> None:
    from rir.engines.local import LocalIndex

    index = LocalIndex(path)
    for name in photos["indexed"]:
        index.add(NEWS / name, title=photos["titles"][name], metadata={"file": name})
    index.close()


# -- measuring (any version: uses only the public API it finds) ---------------------------------


def measure(index_path: Path, queries: list[dict]) -> dict[str, Any]:
    """Every query through whichever ``rir`` is imported; raw per-query records."""
    from rir import ReverseImageSearch
    from rir.engines.local import LocalIndex
    from rir.inputs.images import load_image

    try:
        from rir.inputs.region_proposals import propose_regions
    except ImportError:  # the engine before: proposals were a 2x2 grid inside the searcher
        propose_regions = None
    engine = LocalIndex(index_path, create=False)
    plain = LocalIndex(index_path, create=False, **(
        {"find_parts": False} if "find_parts" in inspect.signature(LocalIndex).parameters
        else {}))
    searcher = ReverseImageSearch(engine=engine, cache=False)
    for query in queries[:3]:  # warm up (posting lists in memory, thread pools)
        plain.search(query["path"], k=10)
    records = []
    for query in queries:
        image = load_image(query["path"])
        record: dict[str, Any] = {"split": query["split"], "kind": query["kind"]}
        started = time.perf_counter()
        base = plain.search(image, k=10)
        record["plain_ms"] = (time.perf_counter() - started) * 1000
        record["plain"] = _files(base.hits)
        whole = engine.search(image, k=10)
        record["whole"] = _files(whole.hits)
        record["weak"] = whole.metadata.get("weak_candidates_dropped", 0)
        record["parts_searched"] = whole.metadata.get("parts_searched", 0)
        if query["kind"] != "edit":
            started = time.perf_counter()
            auto = searcher.search_regions(image, "auto", k=10)
            record["auto_ms"] = (time.perf_counter() - started) * 1000
            record["auto"] = _files(auto.hits)
        if query["kind"] in SINGLE:
            given = searcher.search(image, k=10, region=query["boxes"][0])
            record["given"] = _files(given.hits)
            placed = [h.metadata.get("query_box") for h in given.hits[:1]]
            record["given_query_box"] = placed[0] if placed else None
        if propose_regions is not None and query["boxes"]:
            started = time.perf_counter()
            proposed = propose_regions(image)
            record["proposals_ms"] = (time.perf_counter() - started) * 1000
            record["proposals"] = [list(box) for box in proposed]
        records.append(record)
    return {"records": records}


def _files(hits: list[Any]) -> list[str]:
    return [str(h.metadata.get("file")) for h in hits]


# -- the table ----------------------------------------------------------------------------------


def iou(a: list[int], b: list[int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union else 0.0


def summarize(records: list[dict], queries: list[dict], split: str) -> dict[str, Any]:
    rows = [(r, q) for r, q in zip(records, queries, strict=True) if r["split"] == split]
    out: dict[str, Any] = {}
    for kind in SINGLE:
        got = [(r, q) for r, q in rows if r["kind"] == kind]
        top = {way: sum(bool(r[way]) and r[way][0] == q["shown"][0] for r, q in got) / len(got)
               for way in ("plain", "whole", "auto", "given")}
        silent = sum(not r["whole"] and not r["weak"] for r, _ in got)
        out[kind] = {**top, "silent": silent, "n": len(got)}
    for kind in ("collage2x1", "collage2x2"):
        got = [(r, q) for r, q in rows if r["kind"] == kind]
        out[kind] = {"all_in_top10": sum(set(q["shown"]) <= set(r["auto"][:10])
                                         for r, q in got) / len(got),
                     "plain_found_all": sum(set(q["shown"]) <= set(r["plain"][:10])
                                            for r, q in got) / len(got), "n": len(got)}
    edits = [(r, q) for r, q in rows if r["kind"] == "edit"]
    out["edit"] = {"recall": sum(bool(r["whole"]) and r["whole"][0] == q["shown"][0]
                                 for r, q in edits) / len(edits),
                   "p50_ms": statistics.median(r["plain_ms"] for r, _ in edits),
                   "n": len(edits)}
    unrelated = [r for r, _ in rows if r["kind"] == "unrelated"]
    out["unrelated"] = {"whole": sum(bool(r["whole"]) for r in unrelated),
                        "auto": sum(bool(r["auto"]) for r in unrelated), "n": len(unrelated)}
    composed = [r for r, _ in rows if r["kind"] in KINDS]
    out["cost"] = {kind: (statistics.median(r["auto_ms"] for r in composed if r["kind"] == kind),
                          statistics.median(r["plain_ms"] for r in composed
                                            if r["kind"] == kind)) for kind in KINDS}
    out["cost"]["all"] = (statistics.median(r["auto_ms"] for r in composed),
                          statistics.median(r["plain_ms"] for r in composed))
    proposals = [(r, q) for r, q in rows if "proposals" in r]
    if proposals:
        out["proposals"] = {}
        for kind in KINDS:
            got = [(r, q) for r, q in proposals if r["kind"] == kind]
            found = sum(max((iou(box, p) for p in r["proposals"]), default=0) >= 0.7
                        for r, q in got for box in q["boxes"])
            out["proposals"][kind] = (found / sum(len(q["boxes"]) for _, q in got),
                                      statistics.mean(len(r["proposals"]) for r, _ in got))
        times = [r["proposals_ms"] for r, _ in proposals]
        out["proposals"]["time"] = (statistics.median(times), max(times))
    return out


def print_tables(ours: dict, before: dict, label: str, baseline: str) -> None:
    print(f"\n#### {label}\n")
    print("| query (n per split) | engine | whole image | whole image says nothing | "
          "`regions=\"auto\"` | `region=` true box |")
    print("|---|---|---:|---:|---:|---:|")
    names = {"inset25": "photo at 25% of another", "inset10": "photo at 10% of another",
             "screenshot": "photo in a page screenshot", "wall_print": "print on a wall"}
    for kind in SINGLE:
        for engine, got in (("this version", ours[kind]), (f"before ({baseline})",
                                                           before[kind])):
            print(f"| {names[kind]} ({got['n']}) | {engine} | {got['whole']:.2f} | "
                  f"{got['silent']}/{got['n']} | {got['auto']:.2f} | {got['given']:.2f} |")
    print("\n| collages: every photo in the merged top 10 | this version | "
          f"before ({baseline}) |\n|---|---:|---:|")
    for kind in ("collage2x1", "collage2x2"):
        print(f"| {kind[-3:]} ({ours[kind]['n']}) | {ours[kind]['all_in_top10']:.2f} | "
              f"{before[kind]['all_in_top10']:.2f} |")
    print(f"\n| whole-image queries | this version | before ({baseline}) |\n|---|---:|---:|")
    print(f"| plain edits, recall@1 ({ours['edit']['n']}) | {ours['edit']['recall']:.3f} | "
          f"{before['edit']['recall']:.3f} |")
    print(f"| plain edits, p50 | {ours['edit']['p50_ms']:.1f} ms | "
          f"{before['edit']['p50_ms']:.1f} ms |")
    n = ours["unrelated"]["n"]
    print(f"| unrelated photos with a hit, whole image | {ours['unrelated']['whole']}/{n} | "
          f"{before['unrelated']['whole']}/{n} |")
    print(f"| unrelated photos with a hit, `regions=\"auto\"` | {ours['unrelated']['auto']}/{n} "
          f"| {before['unrelated']['auto']}/{n} |")
    print("\n| cost, p50 (auto / plain whole-image search of the same queries) | this version "
          f"| before ({baseline}) |\n|---|---:|---:|")
    for kind in (*KINDS, "all"):
        cells = []
        for got in (ours, before):
            auto, plain = got["cost"][kind]
            cells.append(f"{auto:.0f} / {plain:.0f} ms = {auto / plain:.2f}x")
        print(f"| {kind} | {cells[0]} | {cells[1]} |")
    if "proposals" in ours:
        print("\n| proposals (this version) | recall (IoU >= 0.7) | proposals per image |"
              "\n|---|---:|---:|")
        for kind in KINDS:
            recall, count = ours["proposals"][kind]
            print(f"| {kind} | {recall:.3f} | {count:.1f} |")
        p50, worst = ours["proposals"]["time"]
        print(f"| time per image | p50 {p50:.1f} ms | max {worst:.1f} ms |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-kind", type=int, default=40, help="queries per kind and split")
    parser.add_argument("--baseline", default="675802c",
                        help="git commit of the engine to compare with (main before regions)")
    parser.add_argument("--cache", type=Path, default=ROOT.parent / "bench-cache")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--measure", nargs=2, metavar=("INDEX", "QUERIES"),
                        help=argparse.SUPPRESS)  # the baseline's run, in a subprocess
    args = parser.parse_args()
    if args.measure:
        queries = json.loads(Path(args.measure[1]).read_text())
        print(json.dumps(measure(Path(args.measure[0]), queries)))
        return 0
    if not NEWS.is_dir():
        print(f"{NEWS} not found: this benchmark needs ../shared/images/news")
        return 1
    args.cache.mkdir(parents=True, exist_ok=True)
    photos = split_photos(args.seed)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        started = time.perf_counter()
        build_index(folder / "news.rir", photos)
        queries = make_queries(folder, photos, args.per_kind, args.seed)
        (folder / "queries.json").write_text(json.dumps(queries))
        print(f"indexed {len(photos['indexed'])} photos, made {len(queries)} queries "
              f"({time.perf_counter() - started:.0f} s)")
        ours = measure(folder / "news.rir", queries)
        from benchmarks.versions import rir_at

        tree = rir_at(args.baseline, args.cache)
        env = {**os.environ, "PYTHONPATH": str(tree)}
        done = subprocess.run([sys.executable, __file__, "--measure", str(folder / "news.rir"),
                               str(folder / "queries.json")], env=env, check=True,
                              capture_output=True, text=True)
        before = json.loads(done.stdout.strip().splitlines()[-1])
    for split in ("tuning", "held-out"):
        print_tables(summarize(ours["records"], queries, split),
                     summarize(before["records"], queries, split),
                     f"{split} split", args.baseline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
