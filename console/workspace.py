"""The operations target behind every page: settings resolved like the CLI's, one Clients per target.

``settings()`` re-reads resizer.toml on each call (cheap), so the console follows edits to it as
the CLI does; ``clients()`` keeps one Clients per Target, made by the injectable factory (the
same Clients.for_target as the CLI, which falls back to the local cloud without credentials).
Pages, streams and background runs share a Clients: it creates its boto3 clients under a lock.
The images bucket each lookup finds is remembered for LOCATION_TTL seconds, for the thumbnails
(``recent_bucket``) alone: a page of images asks for dozens, and each must not cost a DescribeStacks.
"""

import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from console.settings import ConsoleSettings
from operations import cdn, config, functions, images, invoke, stack
from operations.aws import Clients, Target

LOCATION_TTL = 30.0  # seconds: a page's thumbnails come within it; a redeployed stack is seen after it


class Workspace:
    def __init__(self, settings: ConsoleSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = settings
        self._clients: dict[Target, Clients] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._buckets: dict[Target, tuple[float, str]] = {}  # target -> (when located, its bucket)
        self.image_origins: set[str] = set()  # website/CDN origins allowed as img-src by the CSP

    @property
    def cwd(self) -> Path:
        return self.console.cwd or Path.cwd()

    def settings(self, parameters: list[str] | None = None) -> config.Settings:
        return config.load(
            self.cwd,
            stack=self.console.stack,
            region=self.console.region,
            profile=self.console.profile,
            endpoint_url=self.console.endpoint_url,
            parameters=parameters,
        )

    def clients(self, found: config.Settings | None = None) -> Clients:
        target = (found or self.settings()).target
        with self._lock:
            if target not in self._clients:
                self._clients[target] = self.console.clients_factory(target)
            return self._clients[target]

    def target(self) -> tuple[config.Settings, Clients]:
        found = self.settings()
        return found, self.clients(found)

    def description(self) -> dict:
        """The stack's description (StackNotFound if there is none); remembers the website origin."""
        found, clients = self.target()
        described = stack.description(clients, found.target.stack)
        self.remember(stack.outputs(described))
        return described

    def location(self) -> tuple[Clients, str, cdn.Delivery]:
        """Clients, the images bucket and how the stack serves its images, from one DescribeStacks
        (StackNotFound if there is none); remembers where the images are, for the CSP."""
        found, clients = self.target()
        bucket, delivery = images.location(clients, found.target.stack)
        self._located(found.target, bucket)
        self.remember({"WebsiteUrl": delivery.website_url, "CdnUrl": delivery.cdn_url})
        return clients, bucket, delivery

    def function(self) -> tuple[str, str]:
        """(function name, log group) of the stack, as the CLI's invoke/logs/metrics find them."""
        found, clients = self.target()
        return invoke.target_function(clients, found.target.stack)

    def functions(self, which: str = "all") -> list[functions.Function]:
        """The stack's functions that ``which`` (resize, cleanup, all) picks, as `resizer logs` finds them."""
        found, clients = self.target()
        return functions.of_stack(clients, found.target.stack, which)

    def bucket(self) -> str:
        """The stack's images bucket, from a DescribeStacks (StackNotFound if there is none)."""
        found, clients = self.target()
        bucket = images.bucket_of(clients, found.target.stack)
        self._located(found.target, bucket)
        return bucket

    def recent_bucket(self) -> str:
        """The images bucket as a lookup found it within LOCATION_TTL seconds (the Images page's,
        just before its thumbnails are asked for), else ``bucket()``. For thumbnails alone: they
        read, and are cached by bucket, key and ETag, so a stack redeployed with another bucket
        costs at worst a missing (or the old bucket's) thumbnail until LOCATION_TTL runs out."""
        target = self.settings().target  # the target as resizer.toml says now: a new one looks up anew
        with self._lock:
            when, bucket = self._buckets.get(target, (float("-inf"), ""))
        if self._clock() - when < LOCATION_TTL:
            return bucket
        return self.bucket()

    def _located(self, target: Target, bucket: str) -> None:
        with self._lock:
            self._buckets[target] = (self._clock(), bucket)

    def remember(self, outputs: dict[str, str]) -> None:
        for name in ("WebsiteUrl", "CdnUrl"):  # where the stack's images are: the CSP admits them
            parts = urlsplit(outputs.get(name, ""))
            if parts.scheme in ("http", "https") and parts.netloc:
                self.image_origins.add(f"{parts.scheme}://{parts.netloc}")
