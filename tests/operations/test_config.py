"""operations.config: resizer.toml < environment < flags, and readable errors for bad settings."""

from pathlib import Path

import pytest

from operations.aws import DEFAULT_STACK, Target
from operations.config import CONFIG_FILE, load
from operations.errors import ConfigError

FILE = """\
stack = "from-file"
region = "eu-west-1"
profile = "file-profile"
endpoint_url = "http://file:4566"

[parameters]
AllowedSizes = "100x100,300x200"
MemorySize = 1536
Timeout = 20
"""

ENV = {
    "RESIZER_STACK": "from-env",
    "AWS_REGION": "eu-central-1",
    "AWS_PROFILE": "env-profile",
    "AWS_ENDPOINT_URL": "http://env:4566",
    "RESIZER_PARAM_MemorySize": "2048",
    "RESIZER_PARAM_ResponseMode": "inline",
}


def write(cwd: Path, text: str) -> Path:
    path = cwd / CONFIG_FILE
    path.write_text(text)
    return path


def test_without_file_env_or_flags_the_defaults_apply(tmp_path: Path) -> None:
    settings = load(tmp_path, {})
    assert settings.target == Target(stack=DEFAULT_STACK, region=None, profile=None, endpoint_url=None)
    assert settings.parameters == {}
    assert settings.config_file is None


def test_the_file_sets_target_and_parameters_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, FILE + 'Flag = true\nSizes = ["100x100", "x600"]\nRatio = 1.5\n')
    settings = load(tmp_path, {})
    assert settings.target == Target("from-file", "eu-west-1", "file-profile", "http://file:4566")
    assert settings.parameters == {
        "AllowedSizes": "100x100,300x200",
        "MemorySize": "1536",
        "Timeout": "20",
        "Flag": "true",
        "Sizes": "100x100,x600",
        "Ratio": "1.5",
    }
    assert settings.config_file == path


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    write(tmp_path, FILE)
    settings = load(tmp_path, ENV)
    assert settings.target == Target("from-env", "eu-central-1", "env-profile", "http://env:4566")
    # Environment parameters override the file's one by one; the others stay.
    assert settings.parameters == {
        "AllowedSizes": "100x100,300x200",
        "MemorySize": "2048",
        "Timeout": "20",
        "ResponseMode": "inline",
    }


def test_flags_override_the_environment_and_the_file(tmp_path: Path) -> None:
    write(tmp_path, FILE)
    settings = load(
        tmp_path,
        ENV,
        stack="from-flag",
        region="ap-southeast-2",
        profile="flag-profile",
        endpoint_url="http://flag:4566",
        parameters=["MemorySize=3008", "Timeout=5", "AlarmTopicArn="],
    )
    assert settings.target == Target("from-flag", "ap-southeast-2", "flag-profile", "http://flag:4566")
    assert settings.parameters == {
        "AllowedSizes": "100x100,300x200",
        "MemorySize": "3008",
        "Timeout": "5",
        "ResponseMode": "inline",
        "AlarmTopicArn": "",
    }


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
        ({"AWS_REGION": "eu-north-1", "AWS_DEFAULT_REGION": "us-west-2"}, "eu-north-1"),
        ({}, "eu-west-1"),
    ],
)
def test_region_from_aws_region_then_aws_default_region_then_the_file(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    write(tmp_path, FILE)
    assert load(tmp_path, env).target.region == expected


def test_the_process_environment_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESIZER_STACK", "from-os-environ")
    monkeypatch.setenv("RESIZER_PARAM_Timeout", "7")
    settings = load(tmp_path)
    assert settings.target.stack == "from-os-environ"
    assert settings.parameters["Timeout"] == "7"


def test_the_file_is_read_from_the_working_directory_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, 'stack = "cwd-stack"\n')
    monkeypatch.chdir(tmp_path)
    assert load(env={}).target.stack == "cwd-stack"


def test_a_flag_value_keeps_its_equals_signs_and_the_name_is_stripped(tmp_path: Path) -> None:
    settings = load(tmp_path, {}, parameters=[" SigningKey =abc=def"])
    assert settings.parameters == {"SigningKey": "abc=def"}


def test_bad_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'stack = "resizer"\nregion = \n')
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, {})
    assert str(path) in raised.value.message
    assert "line 2" in raised.value.message


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_bytes(b'stack = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match=CONFIG_FILE):
        load(tmp_path, {})


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    write(tmp_path, 'regoin = "eu-west-1"\nstack = "resizer"\nmemory = 1\n')
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, {})
    assert "memory, regoin" in raised.value.message
    assert "endpoint_url" in raised.value.message  # the expected keys are listed


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("stack = 3\n", "stack"),
        ('region = ["eu-west-1"]\n', "region"),
        ("profile = true\n", "profile"),
        ('[endpoint_url]\nhost = "localhost"\n', "endpoint_url"),
    ],
)
def test_non_string_settings_are_refused(tmp_path: Path, text: str, key: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=f"{key} must be a string"):
        load(tmp_path, {})


def test_parameters_must_be_a_table(tmp_path: Path) -> None:
    write(tmp_path, 'parameters = "MemorySize=2048"\n')
    with pytest.raises(ConfigError, match=r"\[parameters\] must be a table"):
        load(tmp_path, {})


@pytest.mark.parametrize(
    ("line", "name"),
    [("Launch = 2024-01-01", "Launch"), ('Tags = { team = "images" }', "Tags")],
)
def test_a_parameter_value_of_another_type_names_the_parameter_and_the_file(
    tmp_path: Path, line: str, name: str
) -> None:
    path = write(tmp_path, f"[parameters]\nMemorySize = 1024\n{line}\n")
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, {})
    assert "not a string, number or list" in raised.value.message
    # load() promises that "ConfigError names the bad entry": the user must learn which one.
    assert name in raised.value.message
    assert str(path) in raised.value.message


@pytest.mark.parametrize("text", ["MemorySize", "=2048", "  =x", ""])
def test_a_parameter_flag_that_is_not_name_equals_value_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, {}, parameters=["Timeout=5", text])
    assert raised.value.message == f"--parameter {text!r} is not Name=Value"


@pytest.mark.parametrize(
    "name", ["1resizer", "my_stack", "my stack", "resizer!", "-resizer", "a" * 58, "stäck"]
)
def test_invalid_stack_names_are_refused_with_a_hint(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, {}, stack=name)
    assert raised.value.message == f"stack name {name!r} is invalid"
    assert "57 characters" in raised.value.hint


@pytest.mark.parametrize("name", ["r", "resizer-prod-2", "A" + "b" * 56])
def test_valid_stack_names_are_accepted(tmp_path: Path, name: str) -> None:
    assert load(tmp_path, {}, stack=name).target.stack == name


def test_invalid_stack_names_from_the_file_and_the_environment_are_refused(tmp_path: Path) -> None:
    write(tmp_path, 'stack = "bad_name"\n')
    with pytest.raises(ConfigError, match="'bad_name' is invalid"):
        load(tmp_path, {})
    with pytest.raises(ConfigError, match="'env_name' is invalid"):
        load(tmp_path, {"RESIZER_STACK": "env_name"})
    assert load(tmp_path, {"RESIZER_STACK": "env-name"}).target.stack == "env-name"
