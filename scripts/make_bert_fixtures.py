#!/usr/bin/python3
"""Reference fixtures for the BERT parity and checkpoint tests: fixtures/bert-tiny/.

The reference is written independently of src/model/bert.ts: the encoder layers are PyTorch's own
nn.TransformerEncoderLayer (post-LN, erf GELU), with hand-written embeddings, pooler and pre-training
heads around them. Its weights are random (std 0.2, seeded, so mistakes show) and are saved under
Hugging Face's BERT parameter names as:
  config.json, model.safetensors (fp32, written by hand below), pytorch_model.bin (torch.save, zip),
  fp16/pytorch_model.bin, bf16/model.safetensors, expected.json (inputs and outputs),
  malicious/pytorch_model.bin and malicious/stack_global.bin (pickles that ask for a system call).

Run with Debian's python3-torch 1.13:  /usr/bin/python3 scripts/make_bert_fixtures.py
Deterministic: same bytes on every run.
"""
import io
import json
import os
import struct
import sys
import zipfile

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'bert-tiny')

CONFIG = {
    'architectures': ['BertForPreTraining'],
    'attention_probs_dropout_prob': 0.1,
    'hidden_act': 'gelu',
    'hidden_dropout_prob': 0.1,
    'hidden_size': 32,
    'initializer_range': 0.02,
    'intermediate_size': 37,
    'layer_norm_eps': 1e-12,
    'max_position_embeddings': 64,
    'model_type': 'bert',
    'num_attention_heads': 4,
    'num_hidden_layers': 2,
    'pad_token_id': 0,
    'type_vocab_size': 2,
    'vocab_size': 99,
}
EPS = CONFIG['layer_norm_eps']


class Reference(nn.Module):
    """BERT for pre-training, built from torch's TransformerEncoderLayer. Dropout is 0 throughout."""

    def __init__(self, c):
        super().__init__()
        H = c['hidden_size']
        self.word = nn.Embedding(c['vocab_size'], H)
        self.position = nn.Embedding(c['max_position_embeddings'], H)
        self.token_type = nn.Embedding(c['type_vocab_size'], H)
        self.emb_norm = nn.LayerNorm(H, eps=EPS)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(H, c['num_attention_heads'], c['intermediate_size'], dropout=0.0,
                                       activation='gelu', layer_norm_eps=EPS, batch_first=True, norm_first=False)
            for _ in range(c['num_hidden_layers']))
        self.pooler = nn.Linear(H, H)
        self.mlm_dense = nn.Linear(H, H)
        self.mlm_norm = nn.LayerNorm(H, eps=EPS)
        self.mlm_bias = nn.Parameter(torch.zeros(c['vocab_size']))
        self.nsp = nn.Linear(H, 2)

    def forward(self, input_ids, token_type_ids, attention_mask, masked_lm_positions):
        B, S = input_ids.shape
        positions = torch.arange(S).unsqueeze(0).expand(B, S)
        h = self.emb_norm(self.word(input_ids) + self.position(positions) + self.token_type(token_type_ids))
        pad = attention_mask == 0  # (B, S), True where padded: those keys are masked out
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=pad)
        pooled = torch.tanh(self.pooler(h[:, 0]))  # (B, H)
        at = torch.gather(h, 1, masked_lm_positions.unsqueeze(-1).expand(-1, -1, h.shape[-1]))  # (B, P, H)
        t = self.mlm_norm(nn.functional.gelu(self.mlm_dense(at)))
        mlm = t @ self.word.weight.T + self.mlm_bias  # (B, P, V), decoder tied to the word embeddings
        return h, pooled, mlm, self.nsp(pooled)


def randomise(model, gen):
    # std 0.2 everywhere so that a transposed or misplaced weight changes the outputs visibly;
    # LayerNorm scales around 1 so that a swapped weight/bias shows too.
    for name, p in model.named_parameters():
        with torch.no_grad():
            r = torch.randn(p.shape, generator=gen) * 0.2
            is_norm_weight = ('norm' in name) and name.endswith('weight')
            p.copy_(1.0 + r if is_norm_weight else r)


def hf_state_dict(model):
    """The model's weights under Hugging Face BertForPreTraining names, as torch.save would see them."""
    H = CONFIG['hidden_size']
    sd = {}
    sd['bert.embeddings.word_embeddings.weight'] = model.word.weight
    sd['bert.embeddings.position_embeddings.weight'] = model.position.weight
    sd['bert.embeddings.token_type_embeddings.weight'] = model.token_type.weight
    sd['bert.embeddings.LayerNorm.weight'] = model.emb_norm.weight
    sd['bert.embeddings.LayerNorm.bias'] = model.emb_norm.bias
    for i, layer in enumerate(model.layers):
        p = f'bert.encoder.layer.{i}.'
        w, b = layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias  # rows: q, k, v
        for j, part in enumerate(['query', 'key', 'value']):
            # slices share one storage: torch.save keeps them as views with storage offsets
            sd[p + f'attention.self.{part}.weight'] = w[j * H:(j + 1) * H]
            sd[p + f'attention.self.{part}.bias'] = b[j * H:(j + 1) * H]
        sd[p + 'attention.output.dense.weight'] = layer.self_attn.out_proj.weight
        sd[p + 'attention.output.dense.bias'] = layer.self_attn.out_proj.bias
        sd[p + 'attention.output.LayerNorm.weight'] = layer.norm1.weight
        sd[p + 'attention.output.LayerNorm.bias'] = layer.norm1.bias
        sd[p + 'intermediate.dense.weight'] = layer.linear1.weight
        sd[p + 'intermediate.dense.bias'] = layer.linear1.bias
        sd[p + 'output.dense.weight'] = layer.linear2.weight
        sd[p + 'output.dense.bias'] = layer.linear2.bias
        sd[p + 'output.LayerNorm.weight'] = layer.norm2.weight
        sd[p + 'output.LayerNorm.bias'] = layer.norm2.bias
    sd['bert.pooler.dense.weight'] = model.pooler.weight
    sd['bert.pooler.dense.bias'] = model.pooler.bias
    sd['cls.predictions.bias'] = model.mlm_bias
    sd['cls.predictions.transform.dense.weight'] = model.mlm_dense.weight
    sd['cls.predictions.transform.dense.bias'] = model.mlm_dense.bias
    sd['cls.predictions.transform.LayerNorm.weight'] = model.mlm_norm.weight
    sd['cls.predictions.transform.LayerNorm.bias'] = model.mlm_norm.bias
    sd['cls.seq_relationship.weight'] = model.nsp.weight
    sd['cls.seq_relationship.bias'] = model.nsp.bias
    return {k: v.detach() for k, v in sd.items()}


def write_safetensors(path, tensors, dtype):
    """The safetensors format by hand: u64 LE header length, JSON header padded with spaces, raw data."""
    names = sorted(tensors)
    header = {'__metadata__': {'format': 'pt'}}
    blobs, offset = [], 0
    for name in names:
        t = tensors[name].contiguous()
        if dtype == 'F32':
            raw = t.float().numpy().astype('<f4').tobytes()
        elif dtype == 'BF16':
            # bf16 = the top 16 bits of the float32 after torch's round-to-nearest-even
            raw = (t.to(torch.bfloat16).view(torch.int16).numpy().astype('<i2').tobytes())
        else:
            raise ValueError(dtype)
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def torch_bin_state(sd):
    """What HF's torch.save(model.state_dict()) holds for BertForPreTraining: the tied decoder weight and
    bias appear under their own names too, as does the position_ids buffer of older versions."""
    out = dict(sd)
    out['cls.predictions.decoder.weight'] = sd['bert.embeddings.word_embeddings.weight']
    out['cls.predictions.decoder.bias'] = sd['cls.predictions.bias']
    out['bert.embeddings.position_ids'] = torch.arange(CONFIG['max_position_embeddings']).unsqueeze(0)
    # a non-contiguous tensor (strides (1, H)) with the same values, to exercise stride handling
    w = sd['bert.pooler.dense.weight']
    out['bert.pooler.dense.weight'] = w.t().contiguous().t()
    assert not out['bert.pooler.dense.weight'].is_contiguous()
    return out


def save_torch(path, state):
    # OrderedDict in a fixed order, like nn.Module.state_dict()
    from collections import OrderedDict
    torch.save(OrderedDict(sorted(state.items())), path)


def malicious_zip(path, pickle_bytes):
    """A torch-style zip whose data.pkl, if unpickled by Python, would run `touch MARKER`. Never run here."""
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_STORED) as z:
        for name, data in [('archive/data.pkl', pickle_bytes), ('archive/version', b'3\n')]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)


MARKER = '/tmp/bert_ts_malicious_pickle_ran'


def unicode_op(s):
    b = s.encode('utf-8')
    return b'X' + struct.pack('<I', len(b)) + b


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    model = Reference(CONFIG)
    randomise(model, gen)
    model.eval()

    B, S = 3, 11
    lengths = [11, 8, 5]
    input_ids = torch.randint(1, CONFIG['vocab_size'], (B, S), generator=gen)
    attention_mask = torch.zeros(B, S, dtype=torch.long)
    token_type_ids = torch.zeros(B, S, dtype=torch.long)
    for b, n in enumerate(lengths):
        attention_mask[b, :n] = 1
        input_ids[b, n:] = CONFIG['pad_token_id']
        token_type_ids[b, n // 2:n] = 1  # sentence B; padding keeps segment 0 as HF tokenizers do
    masked_lm_positions = torch.tensor([[1, 5, 9], [2, 3, 7], [0, 1, 4]])

    # Autograd stays on: with it, TransformerEncoderLayer takes its regular path, which computes padded
    # query rows like Hugging Face does (its inference fast path returns zeros there instead).
    assert torch.is_grad_enabled()
    h, pooled, mlm, nsp = model(input_ids, token_type_ids, attention_mask, masked_lm_positions)
    assert h[2, 7].abs().sum() > 0, 'fast path ran: padded rows are zero'

    os.makedirs(os.path.join(OUT, 'fp16'), exist_ok=True)
    os.makedirs(os.path.join(OUT, 'bf16'), exist_ok=True)
    os.makedirs(os.path.join(OUT, 'malicious'), exist_ok=True)
    sd = hf_state_dict(model)
    with open(os.path.join(OUT, 'config.json'), 'w') as f:
        json.dump(CONFIG, f, indent=2, sort_keys=True)
        f.write('\n')
    for sub in ['fp16', 'bf16']:
        with open(os.path.join(OUT, sub, 'config.json'), 'w') as f:
            json.dump(CONFIG, f, indent=2, sort_keys=True)
            f.write('\n')
    write_safetensors(os.path.join(OUT, 'model.safetensors'), sd, 'F32')
    save_torch(os.path.join(OUT, 'pytorch_model.bin'), torch_bin_state(sd))
    save_torch(os.path.join(OUT, 'fp16', 'pytorch_model.bin'),
               {k: (v.half() if v.is_floating_point() else v) for k, v in torch_bin_state(sd).items()})
    write_safetensors(os.path.join(OUT, 'bf16', 'model.safetensors'), sd, 'BF16')

    def rows(t):
        return t.detach().tolist()

    word = sd['bert.embeddings.word_embeddings.weight'][3, :8]
    expected = {
        'config': 'config.json',
        'inputs': {
            'input_ids': rows(input_ids),
            'token_type_ids': rows(token_type_ids),
            'attention_mask': rows(attention_mask),
            'masked_lm_positions': rows(masked_lm_positions),
        },
        'last_hidden_state': rows(h),
        'pooler_output': rows(pooled),
        'mlm_logits': rows(mlm),
        'nsp_logits': rows(nsp),
        # exact fp16 / bf16 roundings (by torch) of a few weights, for the conversion tests
        'word_embeddings_row3': {
            'f32': rows(word),
            'f16': rows(word.half().float()),
            'bf16': rows(word.to(torch.bfloat16).float()),
        },
    }
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f)
        f.write('\n')

    # Protocol 2, GLOBAL os.system + REDUCE: Python's pickle would run `touch MARKER`.
    evil = b'\x80\x02' + b'cos\nsystem\n' + unicode_op('touch ' + MARKER) + b'\x85' + b'R' + b'.'
    malicious_zip(os.path.join(OUT, 'malicious', 'pytorch_model.bin'), evil)
    # Protocol 4, STACK_GLOBAL builtins.eval, framed: the same attack spelled the newer way.
    body = (b'\x8c\x08builtins' + b'\x94' + b'\x8c\x04eval' + b'\x94' + b'\x93' + b'\x94'
            + b'\x8c' + bytes([len(f"__import__('os').system('touch {MARKER}')")])
            + f"__import__('os').system('touch {MARKER}')".encode() + b'\x94' + b'\x85' + b'R' + b'.')
    evil4 = b'\x80\x04' + b'\x95' + struct.pack('<Q', len(body)) + body
    malicious_zip(os.path.join(OUT, 'malicious', 'stack_global.bin'), evil4)

    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f'wrote {OUT} ({total} bytes)', file=sys.stderr)


if __name__ == '__main__':
    main()
