#!/usr/bin/env bash
# The README's "Fine-tuning results": each task fine-tuned from MODEL (pre-trained by `bert pretrain`,
# e.g. runs/start/model from `npm start`) and from random initialisation, same flags and seed.
# Usage: [EPOCHS=3] [LR=5e-4] scripts/finetune-real-data.sh MODEL OUT   (data from ../shared/data)
set -euo pipefail
MODEL=${1:-runs/start/model}
OUT=${2:-runs/finetune}
DATA=${DATA:-../shared/data}
BERT="node --import tsx test/helpers/bert-cli.ts"
mkdir -p "$OUT"
node --import tsx scripts/split-squad.ts "$DATA/squad/dev-v1.1.json" 40 "$OUT/squad-train.json" "$OUT/squad-heldout.json"
COMMON="--epochs ${EPOCHS:-3} --lr ${LR:-5e-4} --batch-size 32 --seed 42 --warmup-ratio 0.1"
run() { # name task train dev extra...
  local name=$1 task=$2 train=$3 dev=$4; shift 4
  for init in pretrained random; do
    local flag=""; [ "$init" = random ] && flag="--random-init"
    $BERT finetune --task "$task" --model "$MODEL" --train "$train" --dev "$dev" --out "$OUT/$name-$init" $COMMON $flag "$@" \
      > "$OUT/$name-$init.json" 2> "$OUT/$name-$init.log"
    echo "$name $init: $(node -e "console.log(JSON.stringify(JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')).best.metrics))" "$OUT/$name-$init.json")"
  done
}
run sst2 sst2 "$DATA/glue/SST-2/train.tsv" "$DATA/glue/SST-2/dev.tsv" --max-seq-length 64 --max-train-examples 3000
run mrpc mrpc "$DATA/glue/MRPC/train.tsv" "$DATA/glue/MRPC/dev.tsv" --max-seq-length 128 --max-train-examples 3000
run stsb stsb "$DATA/glue/STS-B/train.tsv" "$DATA/glue/STS-B/dev.tsv" --max-seq-length 128 --max-train-examples 3000
run wnut17 ner "$DATA/wnut17/wnut17train.conll" "$DATA/wnut17/emerging.dev.conll" --max-seq-length 64
run squad squad "$OUT/squad-train.json" "$OUT/squad-heldout.json" --max-seq-length 192 --doc-stride 64 --max-train-examples 1000 --max-dev-examples 500
