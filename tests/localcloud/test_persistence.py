"""The local cloud's store: journaled object writes and snapshots round-trip moto's state; damaged
or unreadable saved state is refused (never replaced), and a save that fails says so."""

import errno
import pickle
import time

import boto3
import pytest

from localcloud import bodies, journal, persistence


@pytest.fixture
def aws(moto):
    return boto3.client("s3")


def _restart(data_dir, **load):
    """What a new process sees: moto emptied, then the store loaded from disk."""
    from moto.backends import get_backend

    for name in persistence.SERVICES:
        get_backend(name).reset()
    store = persistence.Store(data_dir)
    store.load(**load)
    return store


def test_journaled_writes_and_snapshots_survive_a_restart(tmp_path, aws):
    store = persistence.Store(tmp_path)
    store.load()
    store.start()
    aws.create_bucket(Bucket="kept-bucket")
    store.checkpoint()  # a bucket-level write takes a snapshot
    aws.put_object(Bucket="kept-bucket", Key="photo.jpg", Body=b"pixels", CacheControl="max-age=1")
    aws.put_object(Bucket="kept-bucket", Key="gone.jpg", Body=b"soon deleted")
    aws.put_object_tagging(
        Bucket="kept-bucket", Key="photo.jpg", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
    )
    store.record_s3([("key", "kept-bucket", "photo.jpg"), ("key", "kept-bucket", "gone.jpg")])
    aws.delete_object(Bucket="kept-bucket", Key="gone.jpg")
    store.record_s3([("key", "kept-bucket", "gone.jpg")])
    aws.put_object(Bucket="kept-bucket", Key="never-journaled.jpg", Body=b"x")  # no record: not kept
    store.close()

    _restart(tmp_path)
    kept = aws.get_object(Bucket="kept-bucket", Key="photo.jpg")
    assert kept["Body"].read() == b"pixels" and kept["CacheControl"] == "max-age=1"
    assert [o["Key"] for o in aws.list_objects_v2(Bucket="kept-bucket")["Contents"]] == ["photo.jpg"]
    assert aws.get_object_tagging(Bucket="kept-bucket", Key="photo.jpg")["TagSet"] == [
        {"Key": "k", "Value": "v"}
    ]


def test_bodies_live_in_files_not_in_the_snapshot(tmp_path, aws):
    store = persistence.Store(tmp_path)
    store.load()
    aws.create_bucket(Bucket="big-bucket")
    for index in range(5):
        aws.put_object(Bucket="big-bucket", Key=f"k{index}", Body=bytes([index]) * 1_000_000)
    store.start()
    snapshot = max((tmp_path / "state").glob("snapshot-*.bin"), key=lambda p: p.stat().st_mtime)
    assert snapshot.stat().st_size < 200_000, "5 MB of bodies, a small snapshot"
    assert len(list((tmp_path / "objects").rglob("*"))) >= 5
    from moto.s3.models import s3_backends

    key = s3_backends["123456789012"]["aws"].buckets["big-bucket"].keys["k3"]
    assert isinstance(key._value_buffer, bodies.DiskBody), "the body is read from its file"
    _restart(tmp_path)
    assert aws.get_object(Bucket="big-bucket", Key="k3")["Body"].read() == bytes([3]) * 1_000_000


def test_old_generations_and_unreferenced_bodies_are_collected(tmp_path, aws):
    store = persistence.Store(tmp_path)
    store.load()
    store.start()
    aws.create_bucket(Bucket="churn-bucket")
    for round_ in range(4):
        aws.put_object(Bucket="churn-bucket", Key="same", Body=bytes([round_]) * 1000)
        store.record_s3([("key", "churn-bucket", "same")])
        time.sleep(0.1)  # bodies younger than a checkpoint's start may belong to a write in flight: kept
        store.checkpoint()
    snapshots = sorted(p.name for p in (tmp_path / "state").glob("snapshot-*.bin"))
    assert len(snapshots) == 2, snapshots
    # bodies referenced by the two kept generations (and their journals) only, older ones collected
    assert len(list((tmp_path / "objects").rglob("*/*"))) <= 3


def _two_generations(tmp_path, aws):
    store = persistence.Store(tmp_path)
    store.load()
    aws.create_bucket(Bucket="gen-bucket")
    aws.put_object(Bucket="gen-bucket", Key="first", Body=b"1")
    store.start()
    aws.put_object(Bucket="gen-bucket", Key="second", Body=b"2")
    store.record_s3([("key", "gen-bucket", "second")])
    store.checkpoint()
    aws.put_object(Bucket="gen-bucket", Key="third", Body=b"3")
    store.record_s3([("key", "gen-bucket", "third")])
    store.close()
    return max((tmp_path / "state").glob("snapshot-*.bin"), key=lambda p: int(p.stem.split("-")[1]))


@pytest.mark.parametrize("damage", ["truncate", "bitflip"])
def test_a_damaged_snapshot_is_refused_naming_it_then_the_previous_generation_restores_everything(
    tmp_path, aws, damage
):
    newest = _two_generations(tmp_path, aws)
    data = bytearray(newest.read_bytes())
    if damage == "truncate":
        newest.write_bytes(bytes(data[: len(data) // 2]))
    else:
        data[len(data) // 2] ^= 0x20
        newest.write_bytes(bytes(data))
    before = sorted(p.name for p in (tmp_path / "state").iterdir())
    with pytest.raises(persistence.StateUnreadable) as refused:
        _restart(tmp_path)
    assert str(newest) in str(refused.value) and "--restore-previous" in str(refused.value)
    assert "--reset" in str(refused.value) and refused.value.can_restore
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == before, "nothing overwritten"

    store = _restart(tmp_path, restore_previous=True)
    store.start()
    keys = [o["Key"] for o in aws.list_objects_v2(Bucket="gen-bucket")["Contents"]]
    assert keys == ["first", "second", "third"], "the previous snapshot and both journals: nothing lost"
    assert list((tmp_path / "state").glob("*.unreadable-*")), "the damaged file is kept aside"


def test_a_damaged_journal_record_is_refused(tmp_path, aws):
    _two_generations(tmp_path, aws)
    newest_journal = max((tmp_path / "state").glob("journal-*.log"), key=lambda p: int(p.stem.split("-")[1]))
    data = bytearray(newest_journal.read_bytes())
    data += data[len(journal.JOURNAL_MAGIC) :]  # the record twice, then damage the first one
    data[len(journal.JOURNAL_MAGIC) + 12] ^= 0xFF
    newest_journal.write_bytes(bytes(data))
    with pytest.raises(persistence.StateUnreadable) as refused:
        _restart(tmp_path)
    assert str(newest_journal) in str(refused.value)


def test_a_torn_last_journal_record_was_never_acknowledged_and_is_skipped(tmp_path, aws):
    _two_generations(tmp_path, aws)
    newest_journal = max((tmp_path / "state").glob("journal-*.log"), key=lambda p: int(p.stem.split("-")[1]))
    with open(newest_journal, "ab") as out:
        out.write(b"\x00\x00\x10\x00garbage")  # a crash in the middle of an append
    _restart(tmp_path)
    assert len(aws.list_objects_v2(Bucket="gen-bucket")["Contents"]) == 3


@pytest.mark.parametrize("content", [b"", b"\x80\x05garbage", pickle.dumps({"format": 1})[:-3], b"\xff" * 64])
def test_an_unreadable_legacy_state_file_is_refused_not_replaced(tmp_path, aws, content):
    legacy = tmp_path / persistence.LEGACY_STATE_FILE
    legacy.write_bytes(content)
    with pytest.raises(persistence.StateUnreadable) as refused:
        _restart(tmp_path)
    assert str(legacy) in str(refused.value) and "--reset" in str(refused.value)
    assert legacy.read_bytes() == content


def test_a_legacy_state_file_is_converted(tmp_path, aws):
    from moto.backends import get_backend

    aws.create_bucket(Bucket="legacy-bucket")
    aws.put_object(Bucket="legacy-bucket", Key="old.jpg", Body=b"old")
    state = {"format": 1, "services": {name: get_backend(name) for name in persistence.SERVICES}}
    import copyreg

    for kind, reducer in persistence._reducers().items():
        copyreg.pickle(kind, reducer)
    (tmp_path / persistence.LEGACY_STATE_FILE).write_bytes(pickle.dumps(state))
    store = _restart(tmp_path)
    store.start()
    assert (tmp_path / "state.pickle.migrated").exists() and not (tmp_path / "state.pickle").exists()
    _restart(tmp_path)
    assert aws.get_object(Bucket="legacy-bucket", Key="old.jpg")["Body"].read() == b"old"


def test_a_write_that_cannot_be_saved_fails_and_health_says_why_until_a_save_succeeds(
    tmp_path, aws, monkeypatch
):
    store = persistence.Store(tmp_path)
    store.load()
    store.start()
    aws.create_bucket(Bucket="full-bucket")
    aws.put_object(Bucket="full-bucket", Key="k", Body=b"data")
    real_append = journal.JournalWriter.append

    def disk_full(self, payload, bodies=()):  # the body and its record go to the journal together
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path))

    monkeypatch.setattr(journal.JournalWriter, "append", disk_full)
    with pytest.raises(persistence.SaveFailed, match="No space left on device"):
        store.record_s3([("key", "full-bucket", "k")])
    health = store.health()
    assert health["saving"] == "failing" and "No space left" in health["error"]
    monkeypatch.setattr(journal.JournalWriter, "append", real_append)
    saver = persistence.Saver(store, interval=3600)
    saver._save_if_changed()  # the failure marked the state changed: the next round saves it
    assert store.health()["saving"] == "ok"
    saver.stop()
    _restart(tmp_path)
    assert aws.get_object(Bucket="full-bucket", Key="k")["Body"].read() == b"data"


def test_the_saver_snapshots_only_when_something_changed(tmp_path, monkeypatch):
    store = persistence.Store(tmp_path)
    taken = []
    monkeypatch.setattr(
        store, "checkpoint", lambda: (taken.append(1), setattr(store, "saved_version", persistence._version))
    )
    saver = persistence.Saver(store, interval=3600)
    saver._save_if_changed()
    assert taken == [], "nothing changed since start"
    persistence.touch()
    saver._save_if_changed()
    saver._save_if_changed()
    assert taken == [1], "one change, one snapshot"


def test_a_failed_journal_append_leaves_no_half_record(tmp_path, monkeypatch):
    writer = journal.JournalWriter(tmp_path / "journal-1.log")
    writer.append(b"first")
    size = (tmp_path / "journal-1.log").stat().st_size

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal.os, "fdatasync", full)
    with pytest.raises(OSError):
        writer.append(b"lost")
    assert (tmp_path / "journal-1.log").stat().st_size == size
    monkeypatch.undo()
    writer.append(b"third")
    writer.close()
    assert list(journal.read_journal(tmp_path / "journal-1.log")) == [b"first", b"third"]


@pytest.mark.parametrize(
    ("made", "old_module", "old_name"),
    [
        (
            ("localcloud.cfn_resources.s3", "BucketPolicy", ("Policy", "bucket")),
            "localcloud.cfn_resources",
            None,
        ),
        (
            ("localcloud.cfn_resources.cloudfront", "PolicyResource", ("123", "id")),
            "localcloud.cfn_cloudfront",
            "CachePolicyResource",
        ),
    ],
)
def test_a_state_saved_before_the_resource_modules_moved_still_loads(made, old_module, old_name) -> None:
    import importlib

    module, name, args = made
    cls = getattr(importlib.import_module(module), name)
    saved = pickle.dumps(cls(*args), protocol=0)  # GLOBAL opcodes: "c<module>\n<name>\n"
    old = saved.replace(f"c{module}\n{name}\n".encode(), f"c{old_module}\n{old_name or name}\n".encode())
    assert old != saved
    loaded = persistence._loads(old)
    assert type(loaded) is cls and vars(loaded) == vars(cls(*args))


def test_an_object_write_costs_one_fsync_and_its_body_becomes_a_file_at_the_next_snapshot(
    tmp_path, aws, monkeypatch
):
    store = persistence.Store(tmp_path)
    store.load()
    store.start()
    aws.create_bucket(Bucket="sync-bucket")
    store.checkpoint()  # a bucket-level write takes a snapshot
    aws.put_object(Bucket="sync-bucket", Key="k", Body=b"one fsync" * 1000)
    syncs = []
    for name in ("fsync", "fdatasync"):
        real = getattr(persistence.os, name)
        monkeypatch.setattr(
            journal.os, name, lambda fd, real=real, name=name: (syncs.append(name), real(fd))[1]
        )
    store.record_s3([("key", "sync-bucket", "k")])
    assert syncs == ["fdatasync"], "the body and its record: one write, one fdatasync"
    from moto.s3.models import s3_backends

    key = s3_backends["123456789012"]["aws"].buckets["sync-bucket"].keys["k"]
    assert key._value_buffer.in_journal and key.value == b"one fsync" * 1000
    store.close()
    _restart(tmp_path)  # a kill -9 now: the journal holds the body
    assert aws.get_object(Bucket="sync-bucket", Key="k")["Body"].read() == b"one fsync" * 1000
    store = _restart(tmp_path)
    store.start()  # a snapshot: the body moves to a file of its own
    key = s3_backends["123456789012"]["aws"].buckets["sync-bucket"].keys["k"]
    assert isinstance(key._value_buffer, bodies.DiskBody) and not key._value_buffer.in_journal
    for old in (tmp_path / "state").glob("journal-*.log"):
        old.unlink()  # the journals are no longer needed for this object
    _restart(tmp_path)
    assert aws.get_object(Bucket="sync-bucket", Key="k")["Body"].read() == b"one fsync" * 1000


def test_a_body_read_from_the_journal_is_kept_in_memory_once_after_it_becomes_a_file(tmp_path, aws):
    from moto.s3.models import s3_backends

    store = persistence.Store(tmp_path)
    store.load()
    store.start()
    aws.create_bucket(Bucket="recent-bucket")
    store.checkpoint()
    aws.put_object(Bucket="recent-bucket", Key="k", Body=b"read twice" * 100)
    store.record_s3([("key", "recent-bucket", "k")])
    key = s3_backends["123456789012"]["aws"].buckets["recent-bucket"].keys["k"]
    in_journal = key._value_buffer
    assert in_journal.in_journal and key.value == b"read twice" * 100  # now in memory, as a journal record
    store.checkpoint()  # the body moves to a file of its own
    on_disk = key._value_buffer
    assert not on_disk.in_journal
    assert bodies._recent.get((in_journal.path, in_journal.offset)) is None, "no second copy in memory"
    assert bodies._recent.get((on_disk.path, 0)) == b"read twice" * 100, "the next read is still a hit"
    store.close()
