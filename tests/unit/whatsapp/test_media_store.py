"""Media store: one set of behaviours for the local folder and for S3 (moto's in-process S3), keys, composition."""

import os
import stat
import subprocess
import sys
import uuid

import boto3
import pytest
from moto import mock_aws

from shared.config import Settings
from shared.errors import ConfigurationError
from shared.whatsapp.media_store import (
    LocalMediaStore,
    MediaNotFound,
    MediaStore,
    S3MediaStore,
    get_media_store,
    media_key,
)

CONVERSATION = uuid.UUID("0b7f3c1e-2a4d-4e5f-8a9b-0c1d2e3f4a5b")
WAHA_MESSAGE_ID = "false_5511999999999@c.us_3EB0C767D71D3F4E5A1B"
BASE = {"database_url": "postgresql+pg8000://u@h/d", "redis_url": "redis://h:6379/0", "environment": "local"}


def make_settings(**values) -> Settings:
    return Settings(_env_file=None, **(BASE | values))


@pytest.fixture
def aws(monkeypatch):
    """moto's S3, with fake credentials so nothing from the machine is used (or reached)."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="media")
        yield


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> MediaStore:
    if request.param == "local":
        return LocalMediaStore(tmp_path / "media")
    request.getfixturevalue("aws")
    return S3MediaStore("media", boto3.client("s3", region_name="us-east-1"))


def test_a_put_media_comes_back_with_its_content_type(store):
    key = media_key(CONVERSATION, WAHA_MESSAGE_ID, "audio/ogg; codecs=opus")

    uri = store.put(key, b"OggS voice note", "audio/ogg; codecs=opus")

    assert isinstance(store, MediaStore)
    assert uri.endswith(key) and uri.startswith(("file:///", "s3://media/"))
    assert store.exists(key)
    assert store.get(key) == (b"OggS voice note", "audio/ogg; codecs=opus")


def test_a_second_put_replaces_data_and_content_type(store):
    store.put("conversations/a/m.bin", b"first", "image/jpeg")
    store.put("conversations/a/m.bin", b"second", "application/pdf")

    assert store.get("conversations/a/m.bin") == (b"second", "application/pdf")


def test_missing_media(store):
    with pytest.raises(MediaNotFound):
        store.get("conversations/a/nothing.jpg")
    assert not store.exists("conversations/a/nothing.jpg")
    assert store.delete("conversations/a/nothing.jpg") is False


@pytest.mark.parametrize("key", ["../escape.jpg", "/etc/passwd", "a/../../b.jpg", "a//b.jpg", "", "a\\b", ".hidden"])
def test_keys_that_could_escape_the_root_are_refused(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x", "image/jpeg")
    with pytest.raises(ValueError):
        store.delete_prefix(key)


def test_delete_and_delete_prefix_erase_one_conversation_only(store):
    for name in ("conversations/a/1.jpg", "conversations/a/2.ogg", "conversations/ab/3.jpg", "conversations/b/4.pdf"):
        store.put(name, b"x", "image/jpeg")

    assert store.delete_prefix("conversations/a/") == 2
    assert store.delete_prefix("conversations/a/") == 0
    assert store.delete("conversations/b/4.pdf") is True
    assert not store.exists("conversations/a/1.jpg") and not store.exists("conversations/b/4.pdf")
    assert store.exists("conversations/ab/3.jpg")


def test_local_files_are_readable_and_emptied_folders_go(tmp_path):
    store = LocalMediaStore(tmp_path)

    uri = store.put("conversations/a/m.jpg", b"x", "image/jpeg")
    store.put("conversations/b/m.jpg", b"x", "image/jpeg")

    assert uri == (tmp_path / "conversations/a/m.jpg").as_uri()
    assert stat.S_IMODE((tmp_path / "conversations/a/m.jpg").stat().st_mode) == 0o644
    assert (tmp_path / "conversations/a/m.jpg.meta.json").is_file()
    store.delete("conversations/a/m.jpg")
    store.delete_prefix("conversations/b/")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_local_overwrite_keeps_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    store = LocalMediaStore(tmp_path)
    store.put("conversations/a/m.jpg", b"old", "image/jpeg")

    def fail(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        store.put("conversations/a/m.jpg", b"new", "image/jpeg")

    monkeypatch.undo()
    assert store.get("conversations/a/m.jpg") == (b"old", "image/jpeg")
    assert sorted(p.name for p in (tmp_path / "conversations/a").iterdir()) == ["m.jpg", "m.jpg.meta.json"]


def test_a_symlink_out_of_the_root_is_refused(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media/conversations").symlink_to(tmp_path)

    with pytest.raises(ValueError):
        LocalMediaStore(tmp_path / "media").put("conversations/m.jpg", b"x", "image/jpeg")


def test_s3_objects_carry_the_content_type(aws):
    store = S3MediaStore("media", boto3.client("s3", region_name="us-east-1"))

    assert store.put("conversations/a/m.pdf", b"%PDF", "application/pdf") == "s3://media/conversations/a/m.pdf"
    head = boto3.client("s3", region_name="us-east-1").head_object(Bucket="media", Key="conversations/a/m.pdf")
    assert head["ContentType"] == "application/pdf"


def test_from_settings_passes_endpoint_region_and_credentials():
    settings = make_settings(
        media_store="s3",
        media_bucket="clinic-media",
        media_s3_endpoint_url="http://minio.local:9000",
        media_s3_region="sa-east-1",
        media_s3_access_key_id="minio-user",
        media_s3_secret_access_key="minio-secret",
    )

    client = S3MediaStore.from_settings(settings).client

    assert client.meta.endpoint_url == "http://minio.local:9000" and client.meta.region_name == "sa-east-1"
    credentials = client._request_signer._credentials  # botocore has no public accessor
    assert (credentials.access_key, credentials.secret_key) == ("minio-user", "minio-secret")


def test_from_settings_without_credentials_uses_the_default_chain(aws):
    store = S3MediaStore.from_settings(make_settings(media_store="s3", media_bucket="media"))

    store.put("conversations/a/m.jpg", b"x", "image/jpeg")
    assert store.get("conversations/a/m.jpg") == (b"x", "image/jpeg")


def test_neither_import_nor_composition_loads_boto3():
    script = (
        "import sys; from shared.config import Settings; from shared.whatsapp.media_store import get_media_store;"
        f"get_media_store(Settings(_env_file=None, media_store='s3', media_bucket='m', **{BASE!r}));"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


@pytest.mark.parametrize(
    ("message_id", "file", "name"),
    [
        (WAHA_MESSAGE_ID, "audio/ogg; codecs=opus", "3EB0C767D71D3F4E5A1B.ogg"),
        ("true_120363@g.us_ABC_5511@c.us", "Relatório Final.PDF", "ABC.pdf"),
        ("../../etc", "image/jpeg", "etc.jpg"),
        ("m1", "application/x-unknown-thing", "m1.bin"),
        ("m1", "no-extension", "m1.bin"),
    ],
)
def test_media_key_is_readable_safe_and_deterministic(tmp_path, message_id, file, name):
    key = media_key(str(CONVERSATION), message_id, file)

    assert key == f"conversations/{CONVERSATION}/{name}" == media_key(CONVERSATION, message_id, file)
    LocalMediaStore(tmp_path).put(key, b"x", "image/jpeg")


def test_media_key_refuses_what_it_cannot_name():
    with pytest.raises(ValueError):
        media_key("not-a-uuid", "m1", "image/jpeg")
    with pytest.raises(ValueError):
        media_key(CONVERSATION, "@.@", "image/jpeg")


def test_get_media_store_chooses_the_configured_adapter(tmp_path):
    local = get_media_store(make_settings(media_store="local", media_dir=str(tmp_path / "media")))
    s3 = get_media_store(make_settings(media_store="s3", media_bucket="clinic-media"))

    assert isinstance(local, LocalMediaStore) and local.root == tmp_path / "media"
    assert isinstance(s3, S3MediaStore) and s3.bucket == "clinic-media"


def test_get_media_store_refuses_s3_without_a_bucket(monkeypatch):
    monkeypatch.delenv("MEDIA_BUCKET", raising=False)

    with pytest.raises(ConfigurationError, match="MEDIA_BUCKET"):
        get_media_store(make_settings(media_store="s3"))
