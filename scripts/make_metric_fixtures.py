#!/usr/bin/python3
"""Writes fixtures/metrics/*.json: small inputs and the values the reference implementations give.

References (none of them committed; fetch them into one folder first):
  evaluate-v1.1.py, evaluate-v2.0.py   official SQuAD scripts (rajpurkar/SQuAD-explorer)
  conlleval.pl                         CoNLL shared-task scorer, version 2004-01-26 (Perl)
  seqeval_sequence_labeling.py         seqeval/metrics/sequence_labeling.py (chakki-works/seqeval)
plus Debian's python3-sklearn (1.2) and python3-scipy (1.10).

usage: /usr/bin/python3 scripts/make_metric_fixtures.py REF_DIR [OUT_DIR=fixtures/metrics]
"""
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import tempfile

from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

REF = sys.argv[1]
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'metrics')
rng = random.Random(20181011)  # BERT's arXiv date


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REF, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write(name, obj):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write('\n')


# --- classification and regression -----------------------------------------------------------
def classification():
    cases = []
    for n, k, noise in [(20, 2, 0.3), (50, 2, 0.5), (37, 3, 0.4), (60, 5, 0.6), (15, 2, 0.0), (12, 3, 1.0)]:
        labels = [rng.randrange(k) for _ in range(n)]
        preds = [l if rng.random() > noise else rng.randrange(k) for l in labels]
        cases.append({'labels': labels, 'preds': preds})
    cases.append({'labels': [0, 1, 0, 1], 'preds': [0, 0, 0, 0]})  # one predicted class: MCC 0, F1(1) 0
    cases.append({'labels': [1, 1, 1, 1], 'preds': [1, 0, 1, 1]})  # one gold class
    cases.append({'labels': [0, 0, 2, 2], 'preds': [0, 1, 2, 2]})  # a class only in predictions
    for c in cases:
        y, p = c['labels'], c['preds']
        c['accuracy'] = accuracy_score(y, p)
        c['f1_binary'] = float(f1_score(y, p, average='binary', zero_division=0)) if set(y) | set(p) <= {0, 1} else None
        c['f1_macro'] = float(f1_score(y, p, average='macro', zero_division=0))
        c['mcc'] = float(matthews_corrcoef(y, p))
    regression = []
    for n, ties in [(30, False), (40, True), (8, True)]:
        x = [round(rng.uniform(0, 5), 3 if not ties else 0) for _ in range(n)]
        y = [round(v + rng.gauss(0, 1.2), 3 if not ties else 0) for v in x]
        regression.append({'x': x, 'y': y})
    regression.append({'x': [1, 2, 2, 3, 3, 3, 4], 'y': [7, 5, 5, 5, 1, 2, 0]})
    for r in regression:
        r['pearson'] = float(pearsonr(r['x'], r['y'])[0])
        r['spearman'] = float(spearmanr(r['x'], r['y'])[0])
    write('classification.json', {'classification': cases, 'regression': regression})


# --- SQuAD --------------------------------------------------------------------------------------
PAIRS = [
    # (prediction, [gold answers]) chosen to exercise each normalisation step
    ('The Denver Broncos', ['Denver Broncos', 'the Denver Broncos']),
    ('Denver Broncos.', ['Denver Broncos']),
    ('a  cat\tand\nthe dog', ['cat and dog']),
    ('theater', ['the ater']),
    ('an apple a day', ['An Apple, A Day!']),
    ('1,000 people', ['1000 people', 'one thousand']),
    ('Carolina Panthers', ['Denver Broncos']),
    ('Santa Clara, California', ["Levi's Stadium", 'Santa Clara']),
    ('“quoted” — text', ['quoted text']),
    ('café the résumé', ['café résumé']),
    ('éthe', ['é']),
    ('the the the', ['the']),
    ('', ['something']),
    ('a', ['an']),
    ('Gold gold gold', ['gold']),
    ('gold', ['gold gold gold']),
    ('ÀBC the_x', ['àbc the_x']),
    ('no\u00a0break space', ['no break space']),
    ('x\u3000y', ['x y']),
    ('Saint-Saëns', ['saintsaëns']),
    ('1960s era', ['the 1960s', '1960s']),
]


def squad_dataset(pairs, extra_no_answer=()):
    qas = [{'id': f'q{i:03d}', 'question': 'q?', 'answers': [{'text': g, 'answer_start': 0} for g in golds]}
           for i, (_, golds) in enumerate(pairs)]
    qas += [{'id': f'n{i:03d}', 'question': 'q?', 'answers': [], 'is_impossible': True} for i in range(len(extra_no_answer))]
    return [{'title': 't', 'paragraphs': [{'context': 'c', 'qas': qas}]}]


def squad_v1():
    v1 = load('evaluate_v1', 'evaluate-v1.1.py')
    dataset = squad_dataset(PAIRS)
    preds = {f'q{i:03d}': p for i, (p, _) in enumerate(PAIRS) if i != 6}  # q006 left unanswered
    per_question = []
    for i, (p, golds) in enumerate(PAIRS):
        per_question.append({
            'prediction': p, 'golds': golds, 'normalized': v1.normalize_answer(p),
            'exact': bool(v1.metric_max_over_ground_truths(v1.exact_match_score, p, golds)),
            'f1': float(v1.metric_max_over_ground_truths(v1.f1_score, p, golds)),
        })
    with tempfile.TemporaryDirectory() as tmp:  # evaluate() pickles its per-question results to the cwd
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            total = v1.evaluate(dataset, preds)
        finally:
            os.chdir(cwd)
    write('squad_v1.json', {'dataset': dataset, 'predictions': preds, 'per_question': per_question, 'expected': total})


def squad_v2():
    no_answer_preds = ['', 'something', '', 'the', '', 'Denver']
    dataset = squad_dataset(PAIRS, no_answer_preds)
    qids = [qa['id'] for qa in dataset[0]['paragraphs'][0]['qas']]
    preds = {f'q{i:03d}': p for i, (p, _) in enumerate(PAIRS)}
    preds.update({f'n{i:03d}': p for i, p in enumerate(no_answer_preds)})
    # Probabilities with ties, in a shuffled key order, to pin down the stable sort.
    na = {q: rng.choice([0.05, 0.2, 0.2, 0.5, 0.7, 0.9, 0.9, rng.random()]) for q in qids}
    keys = list(na)
    rng.shuffle(keys)
    na = {k: na[k] for k in keys}
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, obj in [('data.json', {'version': 'v2.0', 'data': dataset}), ('pred.json', preds), ('na.json', na)]:
            with open(os.path.join(tmp, name), 'w') as f:
                json.dump(obj, f)
        for args in [[], ['-n', 'na.json'], ['-n', 'na.json', '-t', '0.5']]:
            subprocess.run([sys.executable, os.path.join(REF, 'evaluate-v2.0.py'), 'data.json', 'pred.json', '-o', 'out.json', *args],
                           cwd=tmp, check=True)
            with open(os.path.join(tmp, 'out.json')) as f:
                out = json.load(f)
            thresh = float(args[args.index('-t') + 1]) if '-t' in args else 1.0
            cases.append({'use_na_probs': '-n' in args, 'na_prob_thresh': thresh, 'expected': out})
    write('squad_v2.json', {'dataset': dataset, 'predictions': preds, 'na_probs_in_order': list(na.items()), 'cases': cases})


# --- entities -------------------------------------------------------------------------------------
TYPES = ['PER', 'LOC', 'ORG', 'MISC']


def iob2_sentence(n):
    tags, i = [], 0
    while i < n:
        if rng.random() < 0.6:
            tags.append('O'); i += 1; continue
        t = rng.choice(TYPES)
        length = min(n - i, rng.choice([1, 1, 2, 3]))
        tags += [f'B-{t}'] + [f'I-{t}'] * (length - 1)
        i += length
    return tags


def corrupt(tags, scheme):
    prefixes = 'BI' if scheme == 'iob2' else 'BIES'
    out = list(tags)
    for j in range(len(out)):
        if rng.random() < 0.25:
            out[j] = 'O' if rng.random() < 0.3 else f'{rng.choice(prefixes)}-{rng.choice(TYPES)}'
    return out


def to_bioes(tags):
    out = []
    for j, t in enumerate(tags):
        nxt = tags[j + 1] if j + 1 < len(tags) else 'O'
        cont = nxt.startswith('I-')
        if t.startswith('B-'):
            out.append(t if cont else 'S-' + t[2:])
        elif t.startswith('I-'):
            out.append(t if cont else 'E-' + t[2:])
        else:
            out.append(t)
    return out


def seqeval_report(se, gold, pred):
    g, p = set(se.get_entities(gold)), set(se.get_entities(pred))
    per_type = {}
    for t in sorted({e[0] for e in g | p}):
        gt, pt = {e for e in g if e[0] == t}, {e for e in p if e[0] == t}
        c = len(gt & pt)
        prec = c / len(pt) if pt else 0
        rec = c / len(gt) if gt else 0
        per_type[t] = {'precision': prec, 'recall': rec, 'f1': 2 * prec * rec / (prec + rec) if prec + rec else 0,
                       'support': len(gt), 'predicted': len(pt), 'correct': c}
    return {'precision': se.precision_score(gold, pred), 'recall': se.recall_score(gold, pred),
            'f1': se.f1_score(gold, pred), 'support': len(g), 'predicted': len(p), 'correct': len(g & p),
            'per_type': per_type}


def conlleval(gold, pred):
    lines = []
    for gs, ps in zip(gold, pred):
        lines += [f'w {g} {p}' for g, p in zip(gs, ps)] + ['']
    out = subprocess.run(['perl', os.path.join(REF, 'conlleval.pl')], input='\n'.join(lines) + '\n',
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r'with (\d+) phrases; found: (\d+) phrases; correct: (\d+)', out)
    overall = re.search(r'precision:\s*([\d.]+)%; recall:\s*([\d.]+)%; FB1:\s*([\d.]+)', out)
    per_type = {}
    for t, p, r, f, n in re.findall(r'^\s*(\S+): precision:\s*([\d.]+)%; recall:\s*([\d.]+)%; FB1:\s*([\d.]+)\s+(\d+)$', out, re.M):
        per_type[t] = {'precision_pct_2dp': float(p), 'recall_pct_2dp': float(r), 'f1_2dp': float(f), 'predicted': int(n)}
    return {'support': int(m[1]), 'predicted': int(m[2]), 'correct': int(m[3]),
            'precision_pct_2dp': float(overall[1]), 'recall_pct_2dp': float(overall[2]), 'f1_2dp': float(overall[3]),
            'per_type': per_type}


def entities():
    se = load('seqeval_sl', 'seqeval_sequence_labeling.py')
    cases = []
    for scheme in ['iob2', 'bioes']:
        for _ in range(4):
            gold = [iob2_sentence(rng.randrange(1, 15)) for _ in range(rng.randrange(3, 9))]
            if scheme == 'bioes':
                gold = [to_bioes(s) for s in gold]
            pred = [corrupt(s, scheme) for s in gold]
            case = {'scheme': scheme, 'gold': gold, 'pred': pred, 'seqeval': seqeval_report(se, gold, pred),
                    'seqeval_entities_gold': [list(e) for e in se.get_entities(gold)]}
            if scheme == 'iob2':
                case['conlleval'] = conlleval(gold, pred)
            cases.append(case)
    # I- after O, I- of another type, and a sentence break inside a would-be entity.
    gold = [['B-PER', 'I-PER', 'O', 'I-LOC', 'I-LOC', 'B-ORG'], ['I-PER', 'B-MISC', 'I-LOC']]
    pred = [['B-PER', 'I-PER', 'O', 'B-LOC', 'I-LOC', 'I-ORG'], ['B-PER', 'I-MISC', 'I-LOC']]
    cases.append({'scheme': 'iob2', 'gold': gold, 'pred': pred, 'seqeval': seqeval_report(se, gold, pred),
                  'seqeval_entities_gold': [list(e) for e in se.get_entities(gold)], 'conlleval': conlleval(gold, pred)})
    write('entities.json', cases)


os.makedirs(OUT, exist_ok=True)
classification()
squad_v1()
squad_v2()
entities()
print('wrote', os.path.abspath(OUT))
