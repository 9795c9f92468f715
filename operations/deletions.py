"""DeleteObjects with its answer checked: S3 reports per-key failures in ``Errors`` with a 200, so
every caller (purge, rm, stale cleanup, destroy) reports them instead of dropping them."""

from typing import Any

from operations.errors import AccessDenied, AwsError, OperationError

BATCH = 1000  # DeleteObjects takes at most 1,000 keys


def delete(s3: Any, bucket: str, objects: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[dict]]:
    """Delete objects ({"Key"[, "VersionId"]}) in batches: (those deleted, S3's Errors entries)."""
    deleted: list[dict[str, str]] = []
    failures: list[dict] = []
    for start in range(0, len(objects), BATCH):
        batch = objects[start : start + BATCH]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        errors = answer.get("Errors", []) or []
        failed = {(e.get("Key"), e.get("VersionId")) for e in errors}
        failed_keys = {e.get("Key") for e in errors if not e.get("VersionId")}
        deleted += [
            o for o in batch if (o["Key"], o.get("VersionId")) not in failed and o["Key"] not in failed_keys
        ]
        failures += errors
    return deleted, failures


def failed(failures: list[dict], hint: str = "") -> OperationError:
    """The error naming the keys S3 did not delete (AccessDenied when that is the only reason)."""
    keys = [str(f.get("Key", "?")) for f in failures]
    codes = sorted({str(f.get("Code", "")) for f in failures})
    first = failures[0]
    named = ", ".join(repr(k) for k in keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    reason = f"{first.get('Code', '')}: {first.get('Message', '')}"
    message = f"S3 did not delete {len(keys)} object(s): {named} ({reason})"
    if codes == ["AccessDenied"]:
        return AccessDenied(message, hint=hint or "check the IAM policy (s3:DeleteObject)")
    return AwsError(message, code=codes[0], hint=hint)
