#!/usr/bin/env bash
# Re-records the workflow histories the replay test uses and exports each workflow's history (the CLI's JSON
# export). Run after an intentional workflow change. Parts (default: all): `pipeline` (the smoke pipeline on one task:
# its collection, ideas, one episode, SFT), `evaluate` (a one-task evaluation), `ppo` (one PPO iteration on the test
# fixture). Runs on the local dev stack of MLAGENT_HOME / MLAGENT_DEV_PORT (started when down), or TEMPORAL_ADDRESS.
set -euo pipefail
cd "$(dirname "$0")/.."
out=test/fixtures/histories
parts=" ${*:-pipeline evaluate ppo} "
address=${TEMPORAL_ADDRESS:-127.0.0.1:${MLAGENT_DEV_PORT:-7233}}
# Replays must use the recorded workflow ids (child ids derive from them), so they are kept beside the histories.
[ -f "$out/workflow-ids.json" ] || echo '{}' > "$out/workflow-ids.json"
export_history() {
  .venv/bin/temporal workflow show --address "$address" --namespace "${TEMPORAL_NAMESPACE:-mlagent}" --workflow-id "$1" --output json > "$out/$2.json"
  /usr/bin/python3 -c 'import json,sys; f=sys.argv[1]; d=json.load(open(f)); d[sys.argv[2]]=sys.argv[3]; json.dump(d, open(f,"w"), indent=1)' "$out/workflow-ids.json" "$2" "$1"
  echo "recorded $2 from $1"
}
if [[ $parts == *" pipeline "* ]]; then
  # the smoke config (tiny model, every stage) on one task: a history of each stage's child in minutes
  npx mlagent train --preset smoke --tasks co2 | tee /tmp/mlagent-record.log
  id=$(grep -o 'pipeline-smoke-[0-9]*' /tmp/mlagent-record.log | head -1)
  export_history "$id" trainPipeline
  export_history "$id/collect" collectTrajectories
  export_history "$id/collect/ideas/co2" generateIdeas
  export_history "$id/collect/episode/co2/0-0" runEpisode
  export_history "$id/sft" sft
fi
if [[ $parts == *" evaluate "* ]]; then
  npx mlagent evaluate --tasks nmes1988 --k 1 | tee /tmp/mlagent-record-eval.log
  export_history "$(grep -o 'evaluate-[0-9]*' /tmp/mlagent-record-eval.log | head -1)" evaluate
fi
if [[ $parts == *" ppo "* ]]; then
  npx tsx test/replay/record-ppo.ts | tee /tmp/mlagent-record-ppo.log
  export_history "$(grep -o 'recorded ppo ppo-record-[0-9]*' /tmp/mlagent-record-ppo.log | awk '{print $3}')" ppo
fi
