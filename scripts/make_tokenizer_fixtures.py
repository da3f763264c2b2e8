#!/usr/bin/env python3
"""Writes fixtures/tokenizer/*.json: expected outputs of the ORIGINAL BERT tokenizer.

Usage: make_tokenizer_fixtures.py PATH/TO/tokenization.py [SHARED_DATA_DIR] [OUT_DIR]

tokenization.py is google-research/bert's (not shipped here; fetch it yourself). We build
FullTokenizer's pipeline from its parts, BasicTokenizer then WordpieceTokenizer with
max_input_chars_per_word=100, so the result does not depend on which revision's default
(100 early, 200 later) the file carries. Revisions also differ in _is_control (every C* category
early, only Cc/Cf later); no text here contains a private-use or unassigned character, and the
fixtures come out byte-identical under both (checked with f18bd94b8fee and a Cc/Cf copy). Pairs are truncated with run_classifier.py's
_truncate_seq_pair, copied below. Real text from shared/data is referenced by file and line
(with a sha1 of the line) and never copied into the fixtures.
"""
import hashlib
import importlib.util
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))


def load_reference(path):
    # tokenization.py imports tensorflow only for tf.gfile.GFile in load_vocab.
    tf = types.ModuleType("tensorflow")
    gfile = lambda p, mode: open(p, mode, encoding="utf-8", newline="\n")
    tf.gfile = types.SimpleNamespace(GFile=gfile)
    tf.io = types.SimpleNamespace(gfile=types.SimpleNamespace(GFile=gfile))
    sys.modules["tensorflow"] = tf
    spec = importlib.util.spec_from_file_location("bert_tokenization", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def truncate_seq_pair(tokens_a, tokens_b, max_length):
    """run_classifier.py's _truncate_seq_pair: pop from the longer one, from B on ties."""
    while True:
        if len(tokens_a) + len(tokens_b) <= max_length:
            break
        if len(tokens_a) > len(tokens_b):
            tokens_a.pop()
        else:
            tokens_b.pop()


CASES = [
    "Hello, World!",
    "UNwant\u00e9d,running unaffable",
    "H\u00e9llo na\u00efve caf\u00e9 r\u00e9sum\u00e9 \u00c5ngstr\u00f6m \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \u039f\u0394\u039f\u03a3 Cr\u00e8me Br\u00fbl\u00e9e",
    "e\u0301 \u0301alone co\u0308operate",
    "\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8\u3002\u4eca\u5929\u5929\u6c14\u5f88\u597d\uff01",
    "\u6771\u4eac\u306f\u65e5\u672c\u306e\u9996\u90fd\u3067\u3059\u3002\u30ab\u30bf\u30ab\u30ca\u3068\u3072\u3089\u304c\u306a",
    "I \u2764\ufe0f BERT \U0001f600\U0001f44d\U0001f3fd \U0001f1eb\U0001f1f7 family \U0001f468\u200d\U0001f469\u200d\U0001f467!",
    "a\u0000b\u0001c\u007f d\ufffde\u200bf\u200dg\ufeffh \u00adsoft\u00adhyphen",
    "tab\there\nnew\r\nline\u00a0nbsp\u3000ideographic\u2003em\u2028ls\u2009thin  double\u000bvt\u000cff",
    "a" * 150,
    "supercalifragilistic" * 7 + " ok",
    "x" * 100 + " " + "y" * 101,
    "Wait...what?!?! (really) [yes] {no} <tag> --- ''quotes'' \u201csmart\u201d \u00abguillemets\u00bb #hashtag @user $100 50% ^caret `tick` ~tilde |pipe| \\back",
    "BERT\u6a21\u578b in \u0440\u0443\u0441\u0441\u043a\u043e\u043c text \u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd \u0928\u092e\u0938\u094d\u0924\u0947 \ud55c\uad6d\uc5b4 \u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
    "3.14159 1,000,000 2026-11-28 10:30am e=mc\u00b2 \u00bd",
    "",
    "  \t\n ",
    "\U00020000\U00020001 text \U0002a700",
    "https://example.com/path?q=1&r=2 user@example.org",
    "\u0130stanbul \u00df STRASSE \uff21\uff22\uff23\uff11\uff12\uff13 \u2163 \ufb01ne",
    "don't won't it's O'Neil rock'n'roll",
    "The quick brown fox jumps over the lazy dog.",
]

PAIRS = [
    ("The quick brown fox jumps over the lazy dog.", "A short one.", 12),
    ("Short.", "This second sentence is much longer than the first one is.", 12),
    ("one two three", "four five six", 7),
    ("one two three", "four five six seven eight", 8),
    ("one two three four five", "six seven eight", 9),
    ("alpha beta", "gamma delta", 32),
    ("\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8", "\u4eca\u5929\u5929\u6c14\u5f88\u597d", 10),
    ("unaffable caf\u00e9s", "na\u00efve r\u00e9sum\u00e9s", 9),
]

VOCABS = [
    ("bert-base-uncased", True),
    ("bert-base-cased", False),
    ("bert-base-chinese", True),
]

# Real text: (shared-data path, first line, line count, vocab names). Lines are 0-based, split on "\n",
# a trailing "\r" removed (wiki.test.raw has CRLF ends); empty lines are skipped.
REAL = [
    ("wikitext-2/wiki.test.raw", 0, 200, ["bert-base-uncased", "bert-base-cased"]),
    ("bert_sample_text/sample_text.txt", 0, 33, ["bert-base-uncased", "bert-base-cased", "bert-base-chinese"]),
    ("chnsenticorp/dev.tsv", 1, 100, ["bert-base-chinese"]),
]


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    lines = data.split("\n")
    return [l[:-1] if l.endswith("\r") else l for l in lines]


def main():
    ref = load_reference(sys.argv[1])
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "shared", "data")
    out_dir = sys.argv[3] if len(sys.argv) > 3 else os.path.join(HERE, "..", "fixtures", "tokenizer")
    os.makedirs(out_dir, exist_ok=True)
    toks = {}
    for name, lower in VOCABS:
        vocab = ref.load_vocab(os.path.join(shared, "vocab", name, "vocab.txt"))
        basic = ref.BasicTokenizer(do_lower_case=lower)
        wp = ref.WordpieceTokenizer(vocab=vocab, max_input_chars_per_word=100)
        toks[name] = (vocab, lambda t, basic=basic, wp=wp: [p for w in basic.tokenize(t) for p in wp.tokenize(w)])

    for name, lower in VOCABS:
        vocab, tokenize = toks[name]
        cases = []
        for text in CASES:
            tokens = tokenize(text)
            cases.append({"text": text, "tokens": tokens, "input_ids": ref.convert_tokens_to_ids(vocab, tokens)})
        pairs = []
        for a, b, max_seq_length in PAIRS:
            ta, tb = tokenize(a), tokenize(b)
            truncate_seq_pair(ta, tb, max_seq_length - 3)
            tokens = ["[CLS]"] + ta + ["[SEP]"] + tb + ["[SEP]"]
            pairs.append({
                "a": a, "b": b, "max_length": max_seq_length, "tokens": tokens,
                "input_ids": ref.convert_tokens_to_ids(vocab, tokens),
                "token_type_ids": [0] * (len(ta) + 2) + [1] * (len(tb) + 1),
            })
        real = []
        for rel, first, count, names in REAL:
            if name not in names:
                continue
            lines = read_lines(os.path.join(shared, rel))
            taken = 0
            for i in range(first, len(lines)):
                if taken == count:
                    break
                line = lines[i]
                if rel.endswith(".tsv"):
                    line = line.split("\t", 1)[1]
                if not line.strip():
                    continue
                tokens = tokenize(line)
                real.append({"file": rel, "line": i, "sha1": hashlib.sha1(line.encode("utf-8")).hexdigest(),
                             "input_ids": ref.convert_tokens_to_ids(vocab, tokens)})
                taken += 1
        doc = {
            "source": "google-research/bert tokenization.py BasicTokenizer + WordpieceTokenizer(max_input_chars_per_word=100); "
                      "pairs: run_classifier.py _truncate_seq_pair(max_length - 3)",
            "vocab": "vocab/%s/vocab.txt" % name, "do_lower_case": lower,
            "cases": cases, "pairs": pairs, "real": real,
        }
        with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")


if __name__ == "__main__":
    main()
