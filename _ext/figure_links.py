"""Sphinx extension: each figure a notebook cell printed links to its own PNG.

On a phone the text column is about half a figure's width, so a figure shows at
about half size and its 9-pt labels become unreadable. Wrapping every output
image in a link to the PNG that the page already shows lets a reader open it at
full size (and zoom) with one tap. No script, and nothing from another host:
the link points at the copy in ``_images/`` that Sphinx writes anyway.

Only images inside a cell's output are linked: logos and images that already
have a link are left as they are. A static slider's frames are inline ``data:``
images inside raw HTML, not image nodes, so they are not touched.
"""

from __future__ import annotations

import posixpath
from typing import Any

from docutils import nodes
from sphinx.util.osutil import relative_uri

LINK_CLASS = "attnbook-figure-link"


def _in_cell_output(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.Element) and "cell_output" in parent.get("classes", []):
            return True
        parent = parent.parent
    return False


def _link_output_images(app, doctree: nodes.document, docname: str) -> None:
    builder = app.builder
    if builder.format != "html" or not hasattr(builder, "imagedir"):
        return
    # The same path Sphinx itself gives the <img> (StandaloneHTMLBuilder.write_doc_serialized).
    image_dir = relative_uri(builder.get_target_uri(docname), builder.imagedir)
    for image in list(doctree.findall(nodes.image)):
        if isinstance(image.parent, nodes.reference) or not _in_cell_output(image):
            continue
        uri = image["uri"]
        if uri not in app.env.images:
            continue
        link = nodes.reference("", "", internal=True, classes=[LINK_CLASS],
                               refuri=posixpath.join(image_dir, app.env.images[uri][1]),
                               reftitle="Open the figure at full size")
        image.replace_self(link)
        link.append(image)


def setup(app) -> dict[str, Any]:
    app.connect("doctree-resolved", _link_output_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
