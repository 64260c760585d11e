"""Runs a notebook top to bottom in a Jupyter kernel and fails on the first cell that raises.

Usage: python run_notebook.py NOTEBOOK [--cwd DIR] [--kernel NAME] [--out EXECUTED.ipynb]

The cells run with DIR as their working directory (the files they write go there); the
executed copy, outputs included, is written to EXECUTED.ipynb if given. The notebook in the
repository stays as it is, without outputs. What it is not: a test of what the cells print.
"""

import argparse
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=pathlib.Path)
    parser.add_argument("--cwd", type=pathlib.Path, default=pathlib.Path("."))
    parser.add_argument("--kernel", default="python3", help="the kernel's name (jupyter kernelspec list)")
    parser.add_argument("--out", type=pathlib.Path, help="where to write the executed notebook")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args()

    notebook = nbformat.read(args.notebook, as_version=4)
    unclean = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    if unclean:
        print(f"error: {args.notebook}: cells {unclean} have outputs; strip them before committing", file=sys.stderr)
        return 1
    args.cwd.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        notebook,
        kernel_name=args.kernel,
        timeout=args.timeout,
        resources={"metadata": {"path": str(args.cwd)}},
    )
    start = time.monotonic()
    try:
        client.execute()
    except CellExecutionError as error:
        print(f"error: {args.notebook}: a cell failed:\n{error}", file=sys.stderr)
        return 1
    finally:
        if args.out:
            nbformat.write(notebook, args.out)
    cells = sum(c.cell_type == "code" for c in notebook.cells)
    print(f"{args.notebook}: {cells} code cells ran without error in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
