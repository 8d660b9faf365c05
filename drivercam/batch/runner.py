"""A whole batch: probe every video, run its chunks on an engine, finish each video, write the tables.

Nothing is lost and nothing done twice: every output is written under a
temporary name and renamed when complete, and the manifest records a chunk or
a video only after its files are in place. A rerun into the same folder skips
what the manifest records as done and rebuilds the tables whole.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from drivercam.batch.engines import Engine
from drivercam.batch.finish import ANNOTATED, EVENTS, failed_row, finish_video, part_name, summary_columns
from drivercam.batch.fleet import write_fleet_page
from drivercam.batch.inputs import VideoInput
from drivercam.batch.manifest import Manifest
from drivercam.batch.plan import Chunk, plan_chunks
from drivercam.batch.settings import BatchSettings
from drivercam.batch.tables import episode_rows, write_table
from drivercam.batch.tasks import ChunkResult, ChunkTask, ProbeResult, RenderTask
from drivercam.render.overlay import OverlayOptions
from drivercam.sources.span import VideoProbe

__all__ = ["BatchOutcome", "BatchProgress", "run_batch"]

logger = logging.getLogger(__name__)


class BatchProgress(Protocol):
    """What the runner reports as it goes (the command line draws it)."""

    def start(self, *, videos: int, done: int, frames: int) -> None: ...

    def frames_done(self, frames: int) -> None: ...

    def video_done(self, row: dict[str, Any]) -> None: ...


@dataclass
class BatchOutcome:
    """What a run did.

    Attributes:
        rows: ``summary.csv``'s rows, in input order.
        processed: videos finished by this run (not skipped as done before).
        frames: frames processed by this run.
        hosts: the nodes (or hosts) that did chunk or render work, with how many frames each.
    """

    rows: list[dict[str, Any]]
    processed: int = 0
    frames: int = 0
    hosts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.get("status") != "ok")


@dataclass
class _Video:
    video: VideoInput
    probe: VideoProbe
    chunks: list[Chunk]
    results: dict[int, ChunkResult] = field(default_factory=dict)
    failed: bool = False


def _chunk_file(out_dir: Path, key: str, index: int) -> Path:
    return out_dir / key / "chunks" / f"chunk_{index:04d}.npz"


def _save_chunk(path: Path, result: ChunkResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as f:
        np.savez(
            f,
            first=result.chunk.first,
            stop=result.chunk.stop,
            probs=result.probs,
            inference_ms=result.inference_ms,
            sampled=result.sampled,
        )
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)


def _load_chunk(path: Path, key: str, chunk: Chunk) -> ChunkResult | None:
    try:
        with np.load(path) as data:
            if int(data["first"]) != chunk.first or int(data["stop"]) != chunk.stop:
                return None
            return ChunkResult(key, chunk, data["probs"], data["inference_ms"], data["sampled"])
    except (OSError, ValueError, KeyError) as error:
        logger.warning("ignoring chunk file %s (%s); it will be redone", path, error)
        return None


def run_batch(
    videos: Sequence[VideoInput],
    engine: Engine,
    settings: BatchSettings,
    out_dir: Path,
    *,
    labels: tuple[str, ...],
    class_ids: tuple[str, ...],
    overlay: OverlayOptions | None = None,
    progress: BatchProgress | None = None,
) -> BatchOutcome:
    """Process ``videos`` into ``out_dir`` on ``engine``; skip what an earlier run finished there.

    Raises:
        ValueError: ``out_dir`` holds a batch made with other settings.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    outcome = BatchOutcome(rows=[])
    with Manifest(out_dir, settings.fingerprint()) as manifest:
        pending = [v for v in videos if not manifest.done(v.key)]
        by_key = {v.key: v for v in pending}

        def record(row: dict[str, Any]) -> None:
            manifest.append({"kind": "video", **row})
            outcome.processed += 1
            if progress is not None:
                progress.video_done(row)

        def fail(video: VideoInput, error: str) -> None:
            for name in (part_name(EVENTS), part_name(ANNOTATED)):
                (out_dir / video.key / name).unlink(missing_ok=True)
            record(failed_row(video, error, class_ids))

        states: dict[str, _Video] = {}
        probes: list[ProbeResult] = list(engine.map([("probe", (v.key, v.spec)) for v in pending]))
        if progress is not None:
            total = sum(p.probe.frame_count for p in probes if p.probe is not None)
            progress.start(videos=len(videos), done=len(videos) - len(pending), frames=total)
        calls: list[tuple[str, Any]] = []
        order = {v.key: i for i, v in enumerate(pending)}
        for p in sorted(probes, key=lambda p: order[p.key]):
            video = by_key[p.key]
            if p.probe is None:
                fail(video, p.error or "could not be read")
                continue
            if settings.renders:
                state = _Video(video, p.probe, [Chunk(0, 0, p.probe.frame_count, 0)])
                calls.append(
                    (
                        "render",
                        RenderTask(
                            video.key,
                            p.probe,
                            str((out_dir / video.key).resolve()),
                            part_name(ANNOTATED) if settings.annotate else None,
                            part_name(EVENTS),
                            settings.snapshots,
                            settings.episodes,
                            overlay or OverlayOptions(),
                            settings.sample_fps,
                        ),
                    )
                )
            else:
                chunks = plan_chunks(p.probe.times_s(), settings.chunk_s, settings.sample_fps)
                state = _Video(video, p.probe, chunks)
                done = manifest.chunks.get(video.key, {})
                for chunk in chunks:
                    loaded = None
                    if chunk.index in done:
                        loaded = _load_chunk(out_dir / done[chunk.index], video.key, chunk)
                    if loaded is not None:
                        state.results[chunk.index] = loaded
                        if progress is not None:
                            progress.frames_done(chunk.stop - chunk.first)
                    else:
                        calls.append(("chunk", ChunkTask(video.key, p.probe, chunk, settings.sample_fps)))
            states[video.key] = state
            if len(state.results) == len(state.chunks):  # every chunk done by an earlier run
                _finish(out_dir, state, settings, labels, class_ids, record)

        for result in engine.map(calls):
            assert isinstance(result, ChunkResult)
            state = states[result.key]
            if state.failed:
                continue
            if result.error is not None:
                state.failed = True
                fail(state.video, result.error)
                continue
            frames = result.chunk.stop - result.chunk.first
            outcome.frames += frames
            outcome.hosts[result.host] = outcome.hosts.get(result.host, 0) + frames
            if progress is not None:
                progress.frames_done(frames)
            if len(state.chunks) > 1:
                path = _chunk_file(out_dir, result.key, result.chunk.index)
                _save_chunk(path, result)
                manifest.append(
                    {
                        "kind": "chunk",
                        "video": result.key,
                        "chunk": result.chunk.index,
                        "file": path.relative_to(out_dir).as_posix(),
                    }
                )
            state.results[result.chunk.index] = result
            if len(state.results) == len(state.chunks):
                _finish(out_dir, state, settings, labels, class_ids, record)

        rows = [manifest.videos.get(v.key) for v in videos]
    outcome.rows = [r for r in rows if r is not None]
    _write_tables(out_dir, outcome.rows, labels, class_ids)
    return outcome


def _finish(
    out_dir: Path,
    state: _Video,
    settings: BatchSettings,
    labels: tuple[str, ...],
    class_ids: tuple[str, ...],
    record: Any,
) -> None:
    row = finish_video(
        out_dir / state.video.key,
        state.video,
        state.probe,
        list(state.results.values()),
        labels=labels,
        class_ids=class_ids,
        episodes=settings.episodes,
        rendered=settings.renders,
    )
    record(row)
    shutil.rmtree(out_dir / state.video.key / "chunks", ignore_errors=True)
    state.results.clear()


def _write_tables(
    out_dir: Path, rows: list[dict[str, Any]], labels: tuple[str, ...], class_ids: tuple[str, ...]
) -> None:
    columns = summary_columns(class_ids)
    write_table(out_dir / "summary.csv", rows, columns)
    episodes, episode_columns = episode_rows(out_dir, rows, class_ids)
    write_table(out_dir / "episodes.csv", episodes, episode_columns)
    write_fleet_page(out_dir / "fleet.html", rows, episodes, class_ids=class_ids, labels=labels)
