"""A Model as HTML for Jupyter (`Model._repr_html_`): a table and the learning curves.

What it is not: a plot; the picture is `ziffer.plot_curves`'s PNG, inlined as base64.
"""

from __future__ import annotations

import base64
import html


def model_html(model) -> str:
    """The HTML of `model`: architecture, functions, parameters, epochs and accuracy."""
    accuracy = model.test_accuracy
    rows = [
        ("layers", " → ".join(str(s) for s in model.layers)),
        ("functions", f"{model.activation} hidden, {model.output} output, {model.loss} loss"),
        ("parameters", f"{model.parameters:,}"),
        ("epochs trained", str(len(model.history))),
        ("test accuracy", "untrained" if accuracy is None else f"{accuracy:.2%}"),
    ]
    table = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    parts = [f"<div><strong>ziffer.Model</strong><table>{table}</table>"]
    if model.history:
        from . import plot_curves

        png = base64.b64encode(plot_curves(model).data).decode("ascii")
        parts.append(f"<img alt='learning curves' style='max-width:100%' src='data:image/png;base64,{png}'/>")
    parts.append("</div>")
    return "".join(parts)
