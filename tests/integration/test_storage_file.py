"""create_storage_file: the second and later study databases of a process are written from the first's
bytes; they must be the same Optuna database a fresh schema setup makes, and work as one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from dse.search import searcher
from dse.store import RunFolder


def _folder(path: Path) -> RunFolder:
    path.mkdir()
    (path / "meta.json").write_text(json.dumps({"storage": f"sqlite:///{path / 'study.db'}"}))
    return RunFolder(path)


def _contents(db: Path) -> tuple[list[tuple[str, str, str]], list[tuple[object, ...]], list[tuple[object, ...]]]:
    with sqlite3.connect(db) as con:
        schema = sorted(con.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
        alembic = list(con.execute("SELECT * FROM alembic_version"))
        version = list(con.execute("SELECT * FROM version_info"))
    con.close()
    return schema, alembic, version


def test_study_databases_after_the_first_are_optunas_schema_and_work(tmp_path: Path) -> None:
    import optuna

    fresh = tmp_path / "fresh.db"
    optuna.storages.RDBStorage(f"sqlite:///{fresh}").engine.dispose()
    expected = _contents(fresh)
    assert expected[0] and expected[1] and expected[2]

    folders = [_folder(tmp_path / f"run{i}") for i in range(3)]
    for folder in folders:
        searcher.create_storage_file(folder)
        assert searcher._EMPTY_SCHEMA is not None  # kept by the first call (or an earlier test's)
        db = folder.path / "study.db"
        assert _contents(db) == expected
        assert sorted(p.name for p in folder.path.iterdir()) == ["meta.json", "study.db"]  # no temporary left
        before = db.read_bytes()
        searcher.create_storage_file(folder)  # exists: untouched
        assert db.read_bytes() == before
        storage = optuna.storages.RDBStorage(folder.storage_url(), skip_table_creation=True)
        study = optuna.create_study(study_name="s", storage=storage, directions=["minimize", "maximize"])
        for x in (1.0, 2.0):
            trial = study.ask()
            study.tell(trial, [x, x * 2])
        again = optuna.load_study(study_name="s", storage=optuna.storages.RDBStorage(folder.storage_url()))
        assert [t.values for t in again.get_trials()] == [[1.0, 2.0], [2.0, 4.0]]
        storage.engine.dispose()
