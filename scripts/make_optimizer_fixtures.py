"""Writes fixtures/optimizer/adamw.json: torch.optim.AdamW and torch.nn.utils.clip_grad_norm_ on a few
small parameters over 3 steps, for test/optimizer.test.ts.

Two runs share the initial values and gradients: weight decay 0.01 with no decay on biases and
LayerNorm weights (BERT's two parameter groups), and weight decay 0. The learning rate changes every
step. Each step clips the gradients to max_norm first (max_norm is small enough that clipping happens
on some steps and not on others), so the fixture checks clipping and the update together.

Run: /usr/bin/python3 scripts/make_optimizer_fixtures.py   (torch 1.13 from Debian was used)
"""
import json
import os

import torch

torch.manual_seed(0)
SHAPES = {
    'encoder.dense.weight': (3, 4),
    'encoder.dense.bias': (4,),
    'encoder.LayerNorm.weight': (4,),
    'encoder.LayerNorm.bias': (4,),
}
LRS = [1e-2, 5e-3, 2e-2]
MAX_NORMS = [1.0, 100.0, 2.0]
BETAS = (0.9, 0.999)
EPS = 1e-6


def no_decay(name):
    return name.endswith('.bias') or name.endswith('LayerNorm.weight')


init = {n: torch.randn(s, dtype=torch.float32) for n, s in SHAPES.items()}
# Gradients of different scales so the second moment, clipping and eps all matter.
grads = [{n: (torch.randn(s, dtype=torch.float32) * scale) for n, s in SHAPES.items()} for scale in (0.8, 0.05, 3.0)]


def run(weight_decay):
    params = {n: torch.nn.Parameter(t.clone()) for n, t in init.items()}
    groups = [
        {'params': [p for n, p in params.items() if not no_decay(n)], 'weight_decay': weight_decay},
        {'params': [p for n, p in params.items() if no_decay(n)], 'weight_decay': 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LRS[0], betas=BETAS, eps=EPS, foreach=False)
    steps = []
    for k, (g, lr, max_norm) in enumerate(zip(grads, LRS, MAX_NORMS)):
        for n, p in params.items():
            p.grad = g[n].clone()
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
        clipped = {n: p.grad.flatten().tolist() for n, p in params.items()}
        for group in opt.param_groups:
            group['lr'] = lr
        opt.step()
        steps.append({
            'lr': lr,
            'max_norm': max_norm,
            'grad_norm': float(norm),
            'clipped_grads': clipped,
            'params': {n: p.detach().flatten().tolist() for n, p in params.items()},
            'exp_avg': {n: opt.state[p]['exp_avg'].flatten().tolist() for n, p in params.items()},
            'exp_avg_sq': {n: opt.state[p]['exp_avg_sq'].flatten().tolist() for n, p in params.items()},
        })
    return {'weight_decay': weight_decay, 'steps': steps}


out = {
    'torch_version': torch.__version__,
    'betas': list(BETAS),
    'eps': EPS,
    'shapes': {n: list(s) for n, s in SHAPES.items()},
    'init': {n: t.flatten().tolist() for n, t in init.items()},
    'grads': [{n: t.flatten().tolist() for n, t in g.items()} for g in grads],
    'runs': [run(0.01), run(0.0)],
}
path = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'optimizer', 'adamw.json')
with open(path, 'w') as f:
    json.dump(out, f, indent=1)
print('wrote', os.path.normpath(path))
for r in out['runs']:
    print('weight_decay', r['weight_decay'], 'grad norms', [s['grad_norm'] for s in r['steps']])
