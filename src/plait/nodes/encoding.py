"""The shared shape of image-to-image nodes: load, transform off the event loop, store."""

from __future__ import annotations

from collections.abc import Callable

from plait.media.image_ref import ImageRef
from plait.nodes.base import NodeContext


async def encode_image(
    ctx: NodeContext, source: ImageRef, work: Callable[[bytes], bytes]
) -> ImageRef:
    """Run the CPU-bound `work` on the source bytes in a thread and store the result."""
    data = await ctx.load_blob(source.sha256)
    return await ctx.make_image(lambda: work(data))
