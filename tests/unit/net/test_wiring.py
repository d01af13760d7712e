"""The runtime builds the one guarded client from PLAIT_NET_ALLOW and hands it to nodes."""

from __future__ import annotations

import re
from ipaddress import ip_network
from pathlib import Path

import pytest

from plait.engine.context import NodeRunContext, Services
from plait.engine.state import NodeState
from plait.media.blobs import LocalBlobStore
from plait.net import GuardedClient, NetError, NetPolicy
from plait.runtime import open_runtime
from plait.settings import Settings


async def test_runtime_client_follows_the_allow_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_NET_ALLOW", "images.internal, 10.1.0.0/16")
    async with open_runtime(Settings(PLAIT_DATA_DIR=tmp_path)) as runtime:
        assert runtime.http.policy.hosts == frozenset({"images.internal"})
        assert runtime.http.policy.networks == (ip_network("10.1.0.0/16"),)
        services = runtime.runner().services
        context = NodeRunContext(services, NodeState("n", "image_url"), {})
        assert context.http_client() is runtime.http


async def test_a_bad_allow_list_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(NetError, match=re.escape("PLAIT_NET_ALLOW: '10.0.0.0/40' is neither")):
        async with open_runtime(Settings(PLAIT_DATA_DIR=tmp_path, PLAIT_NET_ALLOW="10.0.0.0/40")):
            pass


def test_default_is_an_empty_allow_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAIT_NET_ALLOW", raising=False)
    services = Services(LocalBlobStore(tmp_path), lambda: None)  # type: ignore[arg-type,return-value]
    assert isinstance(services.http, GuardedClient)
    assert services.http.policy == NetPolicy()
    assert Settings().net_allow == ""
