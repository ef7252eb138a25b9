"""Fingerprinting a folder on a Ray cluster (``add_folder(..., executor="ray")``).

For an archive too large for one machine's cores: the driver reads each file
and sends its bytes (so workers need no shared filesystem), Ray workers compute
the fingerprints, and the driver writes them to the index exactly as with the
process pool (batched atomic writes, failures reported per file). Results come
back in file order, with at most ``in_flight`` tasks of ``chunk`` files
outstanding, so the driver's memory stays bounded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rir._ray import import_ray, start_ray
from rir.engines.local.records import ImageData

__all__ = ["fingerprint_files_ray", "fingerprint_payloads"]

_CHUNK = 8  # files per Ray task: one task per image would cost more in scheduling than work


def fingerprint_payloads(payloads: list[tuple[str, bytes | None, str | None]]
                         ) -> list[tuple[ImageData | None, str | None]]:
    """The Ray task body: (fingerprint or None, error) per (name, bytes or None, read error)."""
    from rir.engines.local.folder import fingerprint
    from rir.errors import RIRError
    from rir.inputs.images import load_image

    out: list[tuple[ImageData | None, str | None]] = []
    for _, data, read_error in payloads:
        if data is None:
            out.append((None, read_error))
            continue
        try:
            out.append((fingerprint(load_image(data)), None))
        except RIRError as exc:
            out.append((None, str(exc)))
        except (OSError, ValueError) as exc:  # a file that decodes half-way
            out.append((None, f"{type(exc).__name__}: {exc}"))
    return out


def _read(path: Path) -> tuple[str, bytes | None, str | None]:
    try:
        return str(path), path.read_bytes(), None
    except OSError as exc:
        return str(path), None, f"{type(exc).__name__}: {exc}"


def fingerprint_files_ray(
    files: Sequence[Path], *, address: str | None = None,
    init_options: dict[str, Any] | None = None, in_flight: int | None = None,
) -> Iterator[tuple[Path, ImageData | None, str | None]]:
    """(file, fingerprint or None, error) for each file, in order, computed on Ray."""
    ray = import_ray("use the default process pool (leave out --executor ray)")
    we_started = start_ray(ray, address, init_options)
    pending: deque[tuple[list[Path], Any]] = deque()
    try:
        remote = ray.remote(num_cpus=1, max_retries=1)(fingerprint_payloads)
        limit = in_flight or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        chunks = [list(files[i:i + _CHUNK]) for i in range(0, len(files), _CHUNK)]
        next_chunk = 0
        while next_chunk < len(chunks) or pending:
            while next_chunk < len(chunks) and len(pending) < limit:
                chunk = chunks[next_chunk]
                pending.append((chunk, remote.remote([_read(p) for p in chunk])))
                next_chunk += 1
            chunk, ref = pending.popleft()
            try:
                results = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - a worker died: these files failed
                reason = f"Ray task failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
                results = [(None, reason[:300])] * len(chunk)
            for path, (data, error) in zip(chunk, results, strict=True):
                yield path, data, error
    finally:
        for _, ref in pending:
            ray.cancel(ref, force=True)
        if we_started:
            ray.shutdown()
