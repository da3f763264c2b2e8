"""Runs onnx.checker (full check, with shape inference) on .onnx files: python3 scripts/check_onnx.py FILE...

Needs Debian's python3-onnx. Used once by hand to show our ONNX writer's output is valid ONNX; tests
do not depend on Python.
"""
import sys

import onnx

for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ops = sorted({(n.domain or "ai.onnx") + "::" + n.op_type for n in model.graph.node})
    print(f"{path}: OK (ir_version {model.ir_version}, opsets {[(o.domain or 'ai.onnx', o.version) for o in model.opset_import]}, {len(model.graph.node)} nodes, ops {ops})")
