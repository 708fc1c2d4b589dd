"""Backpropagation in the browser: step-through graph pages, draw a digit, live training (``zerograd serve``).

- ``export_graph_html(out, "f.html")``: the step-through page of any scalar ``zerograd.graph.Value`` graph, as one
  self-contained file (no server, no network): edit the inputs, step forward and backward node by node.
- ``graphs`` / ``graphdata`` / ``netdata``: the JSON behind the pages (nodes, edges, values, gradients, layouts
  from ``zerograd.graph.layout``); ``pages``: whole HTML pages from the assets in ``static/``.
- ``app.create_app()``: the FastAPI application of ``zerograd serve`` (needs the ``serve`` extra:
  ``pip install 'zerograd[serve]'``); ``digits``: the net behind ``/digits``; ``training``: runs streamed to ``/train``.

Importing this package needs NumPy alone; FastAPI is imported by ``zerograd.serve.app`` only.
"""

from .graphs import export_graph_html

__all__ = ["export_graph_html"]
