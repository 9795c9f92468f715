"""kill -9 of a real local-cloud process loses no acknowledged write; damaged saved state stops the
start naming the file (and --restore-previous recovers it); a full disk fails the write with a 5xx."""

import json
import os
import subprocess
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from localcloud import persistence
from tests.localcloud.server_process import ServerProcess

TEMPLATE = json.dumps(
    {"Resources": {"Kept": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "deployed-kept"}}}}
)


def test_kill_9_right_after_acknowledged_writes_loses_none_of_them(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="crash-bucket")
        cfn = server.client("cloudformation")
        cfn.create_stack(StackName="kept-stack", TemplateBody=TEMPLATE)

        def put(index: int) -> tuple[str, bytes]:
            body = os.urandom(20_000 + index)
            s3.put_object(
                Bucket="crash-bucket", Key=f"image-{index}.jpg", Body=body, ContentType="image/jpeg"
            )
            return f"image-{index}.jpg", body

        with ThreadPoolExecutor(8) as pool:
            acknowledged = dict(pool.map(put, range(60)))
        for index in range(0, 60, 10):
            s3.delete_object(Bucket="crash-bucket", Key=f"image-{index}.jpg")
            acknowledged.pop(f"image-{index}.jpg")
        s3.copy_object(Bucket="crash-bucket", Key="copied.jpg", CopySource="crash-bucket/image-1.jpg")
        acknowledged["copied.jpg"] = acknowledged["image-1.jpg"]
        upload = s3.create_multipart_upload(Bucket="crash-bucket", Key="multi.bin")
        part = s3.upload_part(
            Bucket="crash-bucket",
            Key="multi.bin",
            UploadId=upload["UploadId"],
            PartNumber=1,
            Body=b"m" * 1000,
        )
        s3.complete_multipart_upload(
            Bucket="crash-bucket",
            Key="multi.bin",
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
        acknowledged["multi.bin"] = b"m" * 1000
        odd = "albums/ü 2024/a+b&c=d%20e.jpg"  # the key as S3 sees it, whatever its URL spelling
        s3.put_object(Bucket="crash-bucket", Key=odd, Body=b"odd")
        acknowledged[odd] = b"odd"
        s3.delete_objects(
            Bucket="crash-bucket", Delete={"Objects": [{"Key": "image-2.jpg"}, {"Key": "image-3.jpg"}]}
        )
        del acknowledged["image-2.jpg"], acknowledged["image-3.jpg"]
        server.kill()  # at once: no periodic save could have run since the last writes

        server.start()
        listed = s3.list_objects_v2(Bucket="crash-bucket")["Contents"]
        assert sorted(o["Key"] for o in listed) == sorted(acknowledged)
        for key, body in acknowledged.items():
            assert s3.get_object(Bucket="crash-bucket", Key=key)["Body"].read() == body, key
        assert cfn.describe_stacks(StackName="kept-stack")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        s3.head_bucket(Bucket="deployed-kept")
    finally:
        server.kill()


def test_a_damaged_state_stops_the_start_naming_the_file_and_restore_previous_recovers(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="damaged-bucket")
        s3.put_object(Bucket="damaged-bucket", Key="before.jpg", Body=b"before")
        server.stop()  # a clean stop writes a new snapshot generation
        server.start()
        s3.put_object(Bucket="damaged-bucket", Key="after.jpg", Body=b"after")
        server.kill()
        state = tmp_path / "data" / persistence.STATE_DIR
        newest = max(state.glob("snapshot-*.bin"), key=lambda p: int(p.stem.split("-")[1]))
        data = bytearray(newest.read_bytes())
        data[len(data) // 2] ^= 0x01  # one flipped bit
        newest.write_bytes(bytes(data))

        server.start(wait=False)
        assert server.wait(timeout=120) == persistence.EXIT_UNREADABLE
        said = server.output()
        assert str(newest) in said and "--restore-previous" in said and "--reset" in said
        assert "Traceback" not in said
        assert newest.read_bytes() == bytes(data), "the damaged file was not overwritten"

        server.start("--restore-previous")
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="damaged-bucket")["Contents"])
        assert keys == ["after.jpg", "before.jpg"]
    finally:
        server.kill()


def _mount_tmpfs(path, size: str) -> bool:
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


def test_a_full_disk_fails_the_write_with_a_5xx_naming_the_cause_and_health_shows_it(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "3m"):
        pytest.skip("mounting a small tmpfs needs privileges (test_persistence injects ENOSPC instead)")
    server = ServerProcess(disk / "data").start()
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="full-bucket")
        with pytest.raises(ClientError) as failed:
            for index in range(10):
                s3.put_object(Bucket="full-bucket", Key=f"big-{index}", Body=os.urandom(600_000))
        error = failed.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert error["Error"]["Code"] == "InternalError"
        assert "No space left on device" in error["Error"]["Message"]
        with urllib.request.urlopen(server.url + "/_localcloud/health", timeout=10) as reply:
            health = json.loads(reply.read())["state"]
        assert health["saving"] == "failing" and "No space left on device" in health["error"]
        assert "No space left on device" in server.output(), "logged at once"
    finally:
        server.kill()
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_a_read_only_folder_fails_writes_with_a_5xx_until_it_is_writable_again(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "20m"):
        pytest.skip("mounting a tmpfs needs privileges (test_persistence injects the OSError instead)")
    server = ServerProcess(disk / "data").start()
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="ro-bucket")
        s3.put_object(Bucket="ro-bucket", Key="before.jpg", Body=b"before")
        data = str(disk / "data")  # read-only from now on: a bind mount over it, made read-only
        subprocess.run(["mount", "--bind", data, data], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", data], check=True)
        with pytest.raises(ClientError) as failed:
            s3.put_object(Bucket="ro-bucket", Key="refused.jpg", Body=b"x" * 1000)
        assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert "Read-only file system" in failed.value.response["Error"]["Message"]
        subprocess.run(["umount", data], check=True)
        s3.put_object(Bucket="ro-bucket", Key="after.jpg", Body=b"after")
        server.kill()
        server.start()
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="ro-bucket")["Contents"]}
        assert {"before.jpg", "after.jpg"} <= keys
    finally:
        server.kill()
        subprocess.run(["umount", str(disk / "data")], capture_output=True)  # the bind, if still there
        subprocess.run(["umount", str(disk)], capture_output=True)
