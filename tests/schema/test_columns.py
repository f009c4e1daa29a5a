"""run_processor(columns_dir=...): per-chunk columns written to Parquet by the workers."""

from __future__ import annotations

import os

import awkward as ak
import pytest
from coffea import processor

from hepnnlr.errors import ConfigError, InputFileError, MissingBranchError
from hepnnlr.processors.chunks import collect_columns
from hepnnlr.processors.dis import DISProcessor
from hepnnlr.schema import ColumnsToParquet, run_processor
from hepnnlr.schema.columns import chunk_file_name


class _SumWeights(processor.ProcessorABC):
    """A processor whose output has no per-event columns."""

    def process(self, events):
        return {"sumw": float(ak.sum(events.weight))}

    def postprocess(self, accumulator):
        return accumulator


def test_columns_written_by_dask_workers_read_back_equal(
    dis_sim_file, dask_cluster, tmp_path
) -> None:
    """The 2-worker dask run writes one file per chunk and returns only paths; the
    columns read back are the in-memory run's, value for value and type for type."""
    in_memory = run_processor(DISProcessor(), {"sim": [dis_sim_file]}, chunksize=400,
                              progress=False)
    written = run_processor(
        DISProcessor(),
        {"sim": [dis_sim_file]},
        executor="dask",
        chunksize=400,
        progress=False,
        scheduler_address=dask_cluster.scheduler_address,
        columns_dir=tmp_path / "columns",
    )
    paths = list(written["columns"].values())
    assert len(paths) == 4  # 1,500 events in chunks of 400
    assert all(isinstance(p, str) and os.path.isfile(p) for p in paths)
    assert sorted(os.listdir(tmp_path / "columns")) == sorted(
        chunk_file_name(key) for key in written["columns"]
    )
    assert written["cutflow"] == in_memory["cutflow"]
    expected, read = collect_columns(in_memory), collect_columns(written)
    assert len(read) == 1500
    assert str(read.type) == str(expected.type)
    assert ak.to_list(read) == ak.to_list(expected)


def test_chunk_file_names_do_not_collide() -> None:
    a = chunk_file_name(("sim", "/data/a/events.root", 0, 100))
    b = chunk_file_name(("sim", "/data/b/events.root", 0, 100))
    c = chunk_file_name(("sim", "/data/a/events.root", 100, 200))
    assert len({a, b, c}) == 3
    assert chunk_file_name(("my data/1", "x.root", 0, 5)).startswith("my_data_1__x-")


def test_bad_columns_dir_and_processor_without_columns(dis_sim_file, tmp_path) -> None:
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        run_processor(DISProcessor(), {"sim": [dis_sim_file]}, columns_dir=not_a_dir)
    with pytest.raises(InputFileError, match="missing.root"):
        run_processor(DISProcessor(), {"sim": [tmp_path / "missing.root"]},
                      columns_dir=tmp_path / "never")
    assert not (tmp_path / "never").exists()  # inputs are checked before anything is written
    with pytest.raises(ConfigError, match="coffea processor instance"):
        ColumnsToParquet(object(), tmp_path)
    with pytest.raises(MissingBranchError, match="_SumWeights.process returned no 'columns'"):
        run_processor(_SumWeights(), {"sim": [dis_sim_file]}, columns_dir=tmp_path / "c",
                      progress=False)


def test_a_deleted_columns_file_is_named(dis_sim_file, tmp_path) -> None:
    out = run_processor(DISProcessor(), {"sim": [dis_sim_file]}, chunksize=1000,
                        progress=False, columns_dir=tmp_path / "c", maxchunks=1)
    (path,) = out["columns"].values()
    os.remove(path)
    with pytest.raises(InputFileError, match="no longer exists"):
        collect_columns(out)
