"""operations.cdn: delivery from stack outputs, invalidation paths (pure), then invalidations and the
distribution's status against moto's CloudFront."""

import pytest

from operations import cdn
from operations.aws import Clients
from operations.errors import ConfigError, NotFound, StackNotFound
from tests.operations import cdn_world

# --- delivery_of --------------------------------------------------------------------------------


def test_cdn_delivery_from_the_contract_outputs() -> None:
    found = cdn.delivery_of(
        {"CdnUrl": "https://d111.cloudfront.net", "DistributionId": "E2ABC", "BucketName": "b"},
        {"Delivery": "cdn"},
    )
    assert found == cdn.Delivery("cdn", "https://d111.cloudfront.net", "https://d111.cloudfront.net", "E2ABC")
    assert found.cdn
    assert found.url("albums/ü b+c.jpg") == "https://d111.cloudfront.net/albums/%C3%BC%20b%2Bc.jpg"
    assert found.url("300x200,webp/cat.jpg") == "https://d111.cloudfront.net/300x200,webp/cat.jpg"


def test_website_delivery_and_stacks_older_than_the_parameter() -> None:
    website = cdn.delivery_of({"WebsiteUrl": "http://w.example/"}, {"Delivery": "website"})
    assert (website.mode, website.base_url, website.cdn) == ("website", "http://w.example", False)
    legacy = cdn.delivery_of({"WebsiteUrl": "http://w.example"}, {})
    assert (legacy.mode, legacy.cdn) == ("website", False)
    nothing = cdn.delivery_of({}, {})
    assert nothing.url("cat.jpg") == ""


def test_require_cdn_explains_the_website_mode() -> None:
    with pytest.raises(ConfigError) as refused:
        cdn.require_cdn(cdn.delivery_of({"WebsiteUrl": "http://w"}, {"Delivery": "website"}), "resizer")
    assert "Delivery=website" in refused.value.message and "there is no CDN" in refused.value.message
    assert "-p Delivery=cdn" in refused.value.hint


# --- paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "path"),
    [
        ("300x200/cat.jpg", "/300x200/cat.jpg"),
        ("/300x200/cat.jpg", "/300x200/cat.jpg"),
        ("/300x200/*", "/300x200/*"),
        ("*", "/*"),
        ("/", "/"),
        ("/albums/été 1.jpg", "/albums/%C3%A9t%C3%A9%201.jpg"),
        ("/albums/%C3%A9t%C3%A9%201.jpg", "/albums/%C3%A9t%C3%A9%201.jpg"),
        ("/a+b.jpg", "/a%2Bb.jpg"),
        ("/300x200,q70,webp/a.jpg", "/300x200,q70,webp/a.jpg"),
    ],
)
def test_user_paths_are_encoded_once(given: str, path: str) -> None:
    assert cdn.user_path(given) == path


@pytest.mark.parametrize("given", ["", "  ", "/a*b.jpg", "/a.jpg?x=1", "/a.jpg#top"])
def test_user_paths_refused(given: str) -> None:
    with pytest.raises(ConfigError):
        cdn.user_path(given)


def test_paths_for_deleted_keys_and_sizes() -> None:
    assert cdn.paths_for(["cat.jpg", "300x200/cat.jpg", "a b.jpg"], ["300x200,webp"]) == [
        "/300x200,webp/*",
        "/300x200/cat.jpg",
        "/a%20b.jpg",
        "/cat.jpg",
    ]


def test_paths_for_too_many_files_collapse_into_per_size_wildcards() -> None:
    keys = [f"300x200/p/{i}.jpg" for i in range(2000)] + [f"x600/p/{i}.jpg" for i in range(1500)]
    assert cdn.paths_for(keys) == ["/300x200/*", "/x600/*"]
    with_originals = [*keys, "p/1.jpg"]
    assert cdn.paths_for(with_originals) == ["/*"]
    many_sizes = [f"{n}x/p/{i}.jpg" for n in range(1, 17) for i in range(200)]
    assert cdn.paths_for(many_sizes) == ["/*"]


# --- against moto ---------------------------------------------------------------------------------


def test_delivery_of_a_deployed_stack(clients: Clients) -> None:
    made = cdn_world.stack(clients)
    found = cdn.delivery(clients, "resizer")
    assert found.cdn and found.distribution_id == made["Id"]
    assert found.cdn_url == f"https://{made['DomainName']}" == found.base_url
    with pytest.raises(StackNotFound):
        cdn.delivery(clients, "missing")


def test_invalidate_then_read_it_back(clients: Clients) -> None:
    made = cdn_world.stack(clients)
    created = cdn.invalidate(clients, made["Id"], ["/300x200/*", "/cat.jpg"])
    assert created.id and created.status and created.paths == ["/300x200/*", "/cat.jpg"]
    again = cdn.invalidation(clients, made["Id"], created.id)
    assert (again.id, again.paths) == (created.id, created.paths)
    assert cdn.wait(clients, made["Id"], created.id, timeout=0).id == created.id


def test_invalidate_refuses_nothing_or_relative_paths(clients: Clients) -> None:
    made = cdn_world.stack(clients)
    with pytest.raises(ConfigError, match="no paths"):
        cdn.invalidate(clients, made["Id"], [])
    with pytest.raises(ConfigError, match="does not start with '/'"):
        cdn.invalidate(clients, made["Id"], ["cat.jpg"])


def test_distribution_status_with_aliases_and_recent_invalidations(clients: Clients) -> None:
    made = cdn_world.stack(clients, aliases=("img.example.com",))
    ids = [cdn.invalidate(clients, made["Id"], [f"/{n}.jpg"]).id for n in range(7)]
    found = cdn.distribution(clients, made["Id"], recent=5)
    assert found.id == made["Id"] and found.domain == made["DomainName"] and found.enabled
    assert found.aliases == ["img.example.com"]
    assert found.status in ("InProgress", "Deployed")
    assert len(found.invalidations) == 5
    assert {i.id for i in found.invalidations} <= set(ids)
    assert all(i.paths for i in found.invalidations)


def test_a_missing_distribution(clients: Clients) -> None:
    with pytest.raises(NotFound, match="no CloudFront distribution EMISSING"):
        cdn.distribution(clients, "EMISSING")
