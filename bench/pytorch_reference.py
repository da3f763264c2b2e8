"""PyTorch eager reference for `npm run bench`: the same pre-training step as `bert pretrain`
(BertForPreTraining, post-LN, exact GELU, dropout 0.1, MLM at the masked positions with the decoder
tied to the word embeddings, NSP, AdamW eps 1e-6 with BERT's no-decay rule, clipping to norm 1),
batch of full-length pairs, optionally by gradient accumulation. Never used by tests or CI.

Usage: python3 bench/pytorch_reference.py PRESET BATCH SEQ GRAD_ACCUM STEPS THREADS
Prints one JSON line: tokens_per_second (median of the steps after the first), torch version.
"""
import json
import math
import statistics
import sys
import time

import torch
from torch import nn

PRESETS = {"mini": (4, 256, 4), "base": (12, 768, 12)}  # layers, hidden, heads (intermediate 4H)
V, MAX_POS, P = 30522, 512, 20


class Layer(nn.Module):
    def __init__(self, h, a, p):
        super().__init__()
        self.a, self.d = a, h // a
        self.query, self.key, self.value, self.attn_out = (nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.inter, self.out = nn.Linear(h, 4 * h), nn.Linear(4 * h, h)
        self.drop = nn.Dropout(p)

    def forward(self, x, mask):  # x (B, S, H), mask (B, 1, 1, S)
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.a, self.d).transpose(1, 2)  # (B, A, S, D)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        probs = self.drop(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.d) + mask, -1))
        ctx = (probs @ v).transpose(1, 2).reshape(b, s, h)
        x = self.ln1(x + self.drop(self.attn_out(ctx)))
        return self.ln2(x + self.drop(self.out(nn.functional.gelu(self.inter(x)))))


class BertForPreTraining(nn.Module):
    def __init__(self, layers, h, a, p=0.1):
        super().__init__()
        self.word, self.pos, self.token_type = nn.Embedding(V, h), nn.Embedding(MAX_POS, h), nn.Embedding(2, h)
        self.emb_ln, self.drop = nn.LayerNorm(h, eps=1e-12), nn.Dropout(p)
        self.layers = nn.ModuleList(Layer(h, a, p) for _ in range(layers))
        self.pooler, self.transform, self.t_ln = nn.Linear(h, h), nn.Linear(h, h), nn.LayerNorm(h, eps=1e-12)
        self.decoder_bias, self.nsp = nn.Parameter(torch.zeros(V)), nn.Linear(h, 2)

    def forward(self, ids, types, attn, positions, mlm_ids, nsp_labels):
        s = ids.shape[1]
        x = self.drop(self.emb_ln(self.word(ids) + self.pos(torch.arange(s)) + self.token_type(types)))
        mask = (1.0 - attn[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, mask)
        picked = torch.gather(x, 1, positions[:, :, None].expand(-1, -1, x.shape[2])).flatten(0, 1)  # (B*P, H)
        t = self.t_ln(nn.functional.gelu(self.transform(picked)))
        logits = t @ self.word.weight.t() + self.decoder_bias  # tied decoder, (B*P, V)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        loss = nn.functional.cross_entropy(logits, mlm_ids.flatten(), ignore_index=-100)
        return loss + nn.functional.cross_entropy(self.nsp(pooled), nsp_labels)


def matmul_gflops():
    """torch's rate on the MatMul our ceiling uses (2048x768 @ 768x3072): is its BLAS at its best here?"""
    a, b = torch.randn(2048, 768), torch.randn(768, 3072)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(10):
        t0 = time.perf_counter()
        a @ b
        best = max(best, 2 * 2048 * 768 * 3072 / (time.perf_counter() - t0) / 1e9)
    return best


def main():
    preset, batch, seq, accum, steps, threads = sys.argv[1], *map(int, sys.argv[2:7])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = BertForPreTraining(*PRESETS[preset]).train()
    no_decay = lambda n: n.endswith("bias") or "ln" in n.split(".")[-2]  # biases, LayerNorm weights
    groups = [
        {"params": [p for n, p in model.named_parameters() if not no_decay(n)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if no_decay(n)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=1e-4, eps=1e-6)
    micro = batch // accum
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 21000, (micro, seq), generator=g)
    types = (torch.arange(seq) > seq // 2).long().expand(micro, -1)
    attn = torch.ones(micro, seq, dtype=torch.long)
    positions = torch.arange(1, 1 + P * ((seq - 2) // P), (seq - 2) // P)[:P].expand(micro, -1).contiguous()
    mlm_ids = torch.gather(ids, 1, positions)
    nsp = torch.arange(micro) % 2
    rates = []
    for step in range(steps + 1):
        t0 = time.perf_counter()
        for _ in range(accum):
            (model(ids, types, attn, positions, mlm_ids, nsp) / accum).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step > 0:  # the first step allocates
            rates.append(batch * seq / (time.perf_counter() - t0))
    print(json.dumps({"tokens_per_second": statistics.median(rates), "torch": torch.__version__, "threads": threads, "matmul_gflops": round(matmul_gflops(), 1)}))


if __name__ == "__main__":
    main()
