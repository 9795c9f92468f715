"""The local cloud's state saver: writes only after a change, and a save round-trips moto's state."""

import boto3
from moto import mock_aws

from localcloud import persistence


def test_the_saver_writes_only_when_something_changed(tmp_path, monkeypatch):
    saves = []
    monkeypatch.setattr(persistence, "save", lambda data_dir: saves.append(data_dir))
    saver = persistence.Saver(tmp_path, interval=3600)
    saver._save_if_changed()
    assert saves == [], "nothing changed since start"
    persistence.touch()
    saver._save_if_changed()
    saver._save_if_changed()
    assert saves == [tmp_path], "one change, one save"
    saver.stop()
    assert saves == [tmp_path], "stop saves only if something changed since"


def test_save_then_load_restores_buckets_objects_and_functions(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="kept-bucket")
        s3.put_object(Bucket="kept-bucket", Key="photo.jpg", Body=b"pixels", CacheControl="max-age=1")
        persistence.save(tmp_path)
        s3.delete_object(Bucket="kept-bucket", Key="photo.jpg")
        s3.put_object(Bucket="kept-bucket", Key="later.jpg", Body=b"later")
        assert persistence.load(tmp_path)
        kept = s3.get_object(Bucket="kept-bucket", Key="photo.jpg")
        assert kept["Body"].read() == b"pixels" and kept["CacheControl"] == "max-age=1"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="kept-bucket")["Contents"]] == ["photo.jpg"]


def test_an_unreadable_state_file_is_ignored(tmp_path):
    (tmp_path / persistence.STATE_FILE).write_bytes(b"not a pickle")
    assert persistence.load(tmp_path) is False
