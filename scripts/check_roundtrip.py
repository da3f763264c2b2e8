#!/usr/bin/python3
"""Shows that a folder written by our saveCheckpoint loads in the PyTorch reference.

Takes fixtures/bert-tiny/pytorch_model.bin (the torch.save file) alone in a folder, has
scripts/resave_checkpoint.ts load it and save it (config.json + model.safetensors), then reads that
folder here without our code: parses the safetensors by hand, loads the weights into the reference
model of make_bert_fixtures.py under their Hugging Face names (strictly: every parameter present, no
extra key), runs the fixture inputs and compares with expected.json.

    /usr/bin/python3 scripts/check_roundtrip.py      (prints max abs differences; exit 1 on failure)
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_bert_fixtures as ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FIX = os.path.join(ROOT, 'fixtures', 'bert-tiny')


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    assert (8 + n) % 8 == 0, 'header not padded to 8 bytes'
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', None)
    assert meta == {'format': 'pt'}, meta
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        assert e['dtype'] == 'F32', e
        b, end = e['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype='<f4').copy()).reshape(e['shape'])
    return out


def load_into_reference(model, sd, H):
    """The inverse of make_bert_fixtures.hf_state_dict, strict."""
    used = set()

    def take(name):
        used.add(name)
        return sd[name]

    with torch.no_grad():
        model.word.weight.copy_(take('bert.embeddings.word_embeddings.weight'))
        model.position.weight.copy_(take('bert.embeddings.position_embeddings.weight'))
        model.token_type.weight.copy_(take('bert.embeddings.token_type_embeddings.weight'))
        model.emb_norm.weight.copy_(take('bert.embeddings.LayerNorm.weight'))
        model.emb_norm.bias.copy_(take('bert.embeddings.LayerNorm.bias'))
        for i, layer in enumerate(model.layers):
            p = f'bert.encoder.layer.{i}.'
            layer.self_attn.in_proj_weight.copy_(torch.cat([take(p + f'attention.self.{q}.weight') for q in ['query', 'key', 'value']]))
            layer.self_attn.in_proj_bias.copy_(torch.cat([take(p + f'attention.self.{q}.bias') for q in ['query', 'key', 'value']]))
            layer.self_attn.out_proj.weight.copy_(take(p + 'attention.output.dense.weight'))
            layer.self_attn.out_proj.bias.copy_(take(p + 'attention.output.dense.bias'))
            layer.norm1.weight.copy_(take(p + 'attention.output.LayerNorm.weight'))
            layer.norm1.bias.copy_(take(p + 'attention.output.LayerNorm.bias'))
            layer.linear1.weight.copy_(take(p + 'intermediate.dense.weight'))
            layer.linear1.bias.copy_(take(p + 'intermediate.dense.bias'))
            layer.linear2.weight.copy_(take(p + 'output.dense.weight'))
            layer.linear2.bias.copy_(take(p + 'output.dense.bias'))
            layer.norm2.weight.copy_(take(p + 'output.LayerNorm.weight'))
            layer.norm2.bias.copy_(take(p + 'output.LayerNorm.bias'))
        model.pooler.weight.copy_(take('bert.pooler.dense.weight'))
        model.pooler.bias.copy_(take('bert.pooler.dense.bias'))
        model.mlm_bias.copy_(take('cls.predictions.bias'))
        model.mlm_dense.weight.copy_(take('cls.predictions.transform.dense.weight'))
        model.mlm_dense.bias.copy_(take('cls.predictions.transform.dense.bias'))
        model.mlm_norm.weight.copy_(take('cls.predictions.transform.LayerNorm.weight'))
        model.mlm_norm.bias.copy_(take('cls.predictions.transform.LayerNorm.bias'))
        model.nsp.weight.copy_(take('cls.seq_relationship.weight'))
        model.nsp.bias.copy_(take('cls.seq_relationship.bias'))
    extra = set(sd) - used
    assert not extra, f'unexpected keys: {sorted(extra)}'


def main():
    work = tempfile.mkdtemp(prefix='bert-roundtrip-')
    try:
        src, out = os.path.join(work, 'src'), os.path.join(work, 'out')
        os.makedirs(src)
        shutil.copy(os.path.join(FIX, 'config.json'), src)
        shutil.copy(os.path.join(FIX, 'pytorch_model.bin'), src)
        subprocess.run(['node', '--import', 'tsx', 'scripts/resave_checkpoint.ts', src, out], cwd=ROOT, check=True)
        print('saved folder:', sorted(os.listdir(out)))
        with open(os.path.join(out, 'config.json')) as f:
            config = json.load(f)
        for k, v in ref.CONFIG.items():
            assert config[k] == v, (k, config[k], v)
        sd = read_safetensors(os.path.join(out, 'model.safetensors'))
        model = ref.Reference(config)
        load_into_reference(model, sd, config['hidden_size'])
        model.eval()
        with open(os.path.join(FIX, 'expected.json')) as f:
            expected = json.load(f)
        inp = {k: torch.tensor(v) for k, v in expected['inputs'].items()}
        h, pooled, mlm, nsp = model(inp['input_ids'], inp['token_type_ids'], inp['attention_mask'], inp['masked_lm_positions'])
        worst = 0.0
        for name, got in [('last_hidden_state', h), ('pooler_output', pooled), ('mlm_logits', mlm), ('nsp_logits', nsp)]:
            d = (got.detach() - torch.tensor(expected[name])).abs().max().item()
            print(f'{name}: max abs diff {d:.3g}')
            worst = max(worst, d)
        ok = worst <= 1e-6
        print('OK' if ok else 'FAIL')
        return 0 if ok else 1
    finally:
        shutil.rmtree(work)


if __name__ == '__main__':
    sys.exit(main())
